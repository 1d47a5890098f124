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
pub mod resolve;
mod rollout;
mod secrets;
mod top;
mod wait;
mod workloads;

use crate::catalog::ToolSpec;
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::ToolOutput;
use crate::tool::{DynTool, erase};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::Arc;

/// A tool with a leaner listing: the arguments every tool takes (`context`, `budgetTokens`) described
/// in a few words, and no `additionalProperties: false` (unknown arguments are still refused, with a
/// message naming them). Both repeat in each of the toolset's 26 entries of `tools/list`, which must
/// stay under 4,000 tokens. Calls go to the tool unchanged.
struct Lean {
    inner: Arc<dyn DynTool>,
    spec: ToolSpec,
}

impl DynTool for Lean {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn call<'a>(&'a self, ctx: &'a ToolContext, args: Value) -> BoxFuture<'a, Result<ToolOutput, ToolError>> {
        self.inner.call(ctx, args)
    }
}

fn lean(tool: Arc<dyn DynTool>) -> Arc<dyn DynTool> {
    let mut spec = tool.spec().clone();
    if let Some(schema) = spec.input_schema.as_object_mut() {
        schema.remove("additionalProperties");
    }
    if let Some(props) = spec.input_schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, text) in [("context", "kubeconfig context"), ("budgetTokens", "token budget (default 8000)")] {
            if let Some(arg) = props.get_mut(name).and_then(Value::as_object_mut) {
                arg.insert("description".into(), json!(text));
            }
        }
    }
    Arc::new(Lean { inner: tool, spec })
}

/// The Kubernetes toolset. The tools share one discovery cache.
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    let k: common::Shared = Arc::new(common::Kube::default());
    let tools = vec![
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
    ];
    tools.into_iter().map(lean).collect()
}
