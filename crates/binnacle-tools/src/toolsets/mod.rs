//! The built-in toolsets. Each module offers `tools()`; tools are named `noun_verb`.

use crate::tool::DynTool;
use std::sync::Arc;

pub mod argo;
pub mod findings;
pub mod helm;
pub mod jenkins;
pub mod kubernetes;

/// Every built-in tool, toolset by toolset.
pub fn all() -> Vec<Arc<dyn DynTool>> {
    let mut tools = Vec::new();
    tools.extend(kubernetes::tools());
    tools.extend(helm::tools());
    tools.extend(argo::tools());
    tools.extend(jenkins::tools());
    tools.extend(findings::tools());
    tools
}
