//! Kubernetes tools, spoken natively through kube-rs (never a kubectl subprocess): any kind through
//! discovery and the dynamic API, one file per noun or job.

mod apply;
mod cluster;
pub mod common;
mod delete;
mod describe;
mod diff;
mod events;
mod get;
mod logs;
mod nodes;
mod patch;
mod pods;
pub mod preview;
pub mod resolve;
mod rollout;
mod secrets;
mod top;
mod wait;
mod workloads;

use crate::tool::{DynTool, erase};
use std::sync::Arc;

/// The Kubernetes toolset. The tools share one discovery cache.
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    let k: common::Shared = Arc::new(common::Kube::default());
    vec![
        erase(cluster::ClusterInfo),
        erase(get::ApiResourcesList(k.clone())),
        erase(get::ResourcesList(k.clone())),
        erase(get::ResourceGet(k.clone())),
        erase(describe::ResourceDescribe(k.clone())),
        erase(events::EventsList),
        erase(logs::PodLogs),
        erase(apply::ResourcesApply(k.clone())),
        erase(diff::ResourceDiff(k.clone())),
        erase(patch::ResourcePatch(k.clone())),
        erase(workloads::WorkloadSetImage(k.clone())),
        erase(workloads::WorkloadScale(k.clone())),
        erase(rollout::RolloutStatus(k.clone())),
        erase(rollout::RolloutHistory(k.clone())),
        erase(rollout::RolloutUndo(k.clone())),
        erase(rollout::RolloutRestart(k.clone())),
        erase(delete::ResourceDelete(k.clone())),
        erase(nodes::NodeCordon),
        erase(nodes::NodeUncordon),
        erase(nodes::NodeDrain),
        erase(pods::PodRun),
        erase(pods::PodExec),
        erase(top::PodsTop),
        erase(top::NodesTop),
        erase(wait::ResourceWait(k.clone())),
        erase(secrets::SecretReveal),
    ]
}
