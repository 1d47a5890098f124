//! Helm tools (being written).

use crate::tool::DynTool;
use std::sync::Arc;

/// The Helm toolset.
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    Vec::new()
}
