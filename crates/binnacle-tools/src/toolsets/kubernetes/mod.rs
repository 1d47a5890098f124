//! Kubernetes tools, spoken natively through kube-rs (never a kubectl subprocess): any kind through
//! discovery and the dynamic API, one file per noun or job.

mod cluster;
pub mod common;
mod describe;
mod events;
mod get;
pub mod resolve;

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
    ]
}
