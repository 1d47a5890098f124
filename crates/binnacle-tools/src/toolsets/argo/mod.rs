//! Argo Rollouts tools, spoken natively to `argoproj.io/v1alpha1` objects through kube-rs' dynamic API
//! (no `kubectl argo rollouts` plugin): the same reads and the same patches the plugin makes — spec
//! fields through the object, status fields (`pauseConditions`, `abort`, `promoteFull`) through the
//! status subresource. Names start with `argo_` so that they never clash with the Kubernetes toolset's
//! Deployment tools (`rollout_status`, `rollout_undo`...). When the cluster does not serve the Rollout
//! CRD, every tool says Argo Rollouts is not installed in that context.

mod abort;
mod analysis_runs;
pub mod common;
mod describe;
mod experiments;
mod history;
mod list;
mod pause;
mod promote;
mod restart;
mod resume;
mod retry;
mod set_image;
mod status;
mod undo;

use crate::tool::{DynTool, erase};
use std::sync::Arc;

/// The Argo Rollouts toolset.
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    vec![
        erase(list::RolloutsList),
        erase(status::RolloutStatus),
        erase(describe::RolloutDescribe),
        erase(history::RolloutHistory),
        erase(promote::RolloutPromote),
        erase(pause::RolloutPause),
        erase(resume::RolloutResume),
        erase(abort::RolloutAbort),
        erase(retry::RolloutRetry),
        erase(set_image::RolloutSetImage),
        erase(restart::RolloutRestart),
        erase(undo::RolloutUndo),
        erase(experiments::ExperimentsList),
        erase(analysis_runs::AnalysisRunsList),
    ]
}

/// The arguments that name one Rollout.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutRef {
    /// The Rollout's name.
    pub name: String,
    /// Its namespace; default: the context's namespace.
    pub namespace: Option<String>,
}

impl RolloutRef {
    /// Checks the name and namespace.
    pub fn check(&self) -> Result<(), crate::ToolError> {
        common::check_target(self.namespace.as_deref(), &self.name)
    }
}

/// The arguments of a write that names one Rollout.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutWrite {
    /// The Rollout's name.
    pub name: String,
    /// Its namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

impl RolloutWrite {
    /// Checks the name and namespace.
    pub fn check(&self) -> Result<(), crate::ToolError> {
        common::check_target(self.namespace.as_deref(), &self.name)
    }
}
