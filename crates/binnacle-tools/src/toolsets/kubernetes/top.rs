//! Resource usage from `metrics.k8s.io`: `pods_top` (with usage as a share of requests and limits) and
//! `nodes_top` (as a share of allocatable), sorted by CPU or memory.

use super::common::{self, Kube, Raw, arr, check_ns, compact_schema, kinds, s};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use binnacle_objects::quantity::{cpu_millis, memory_bytes};
use kube::Client;
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// Sort order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum SortBy {
    /// Highest CPU first (default).
    #[default]
    Cpu,
    /// Highest memory first.
    Memory,
}

const MI: i64 = 1024 * 1024;

fn metrics(kind: &str, plural: &str, namespaced: bool) -> super::resolve::ResourceInfo {
    Kube::builtin("metrics.k8s.io", "v1beta1", kind, plural, namespaced)
}

async fn list_metrics(
    client: &Client,
    kind: &str,
    plural: &str,
    namespaced: bool,
    ns: Option<&str>,
) -> Result<Vec<Value>, ToolError> {
    match Raw::new(client, &metrics(kind, plural, namespaced), ns).list_all(&ListParams::default(), 20_000).await {
        Err(ToolError::NotFound(_)) => Err(ToolError::Unavailable(
            "the metrics API (metrics.k8s.io) is not served: install metrics-server to see usage".into(),
        )),
        other => other,
    }
}

fn pct(used: i64, of: i64) -> Option<i64> {
    (of > 0).then(|| used * 100 / of)
}

fn sum_containers(list: &[Value], pointer: &str, parse: fn(&str) -> Option<i64>) -> i64 {
    list.iter().filter_map(|c| c.pointer(pointer).and_then(Value::as_str).and_then(parse)).sum()
}

// ---------------------------------------------------------------------------------------- pods_top

/// Arguments of `pods_top`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct PodsTopInput {
    pub namespace: Option<String>,
    #[serde(default)]
    pub all_namespaces: bool,
    /// e.g. app=web
    pub label_selector: Option<String>,
    #[serde(default)]
    pub sort_by: SortBy,
    /// default 20
    pub limit: Option<u32>,
}

/// One pod's usage.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodUsage {
    /// namespace/name.
    pub pod: String,
    /// CPU in millicores.
    pub cpu_m: i64,
    /// Memory in MiB.
    pub memory_mi: i64,
    /// CPU as % of requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_req_pct: Option<i64>,
    /// CPU as % of limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_lim_pct: Option<i64>,
    /// Memory as % of requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_req_pct: Option<i64>,
    /// Memory as % of limits (100 = OOM kill).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_lim_pct: Option<i64>,
}

/// What `pods_top` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PodsTopOutput {
    /// Pods, heaviest first.
    pub pods: Vec<PodUsage>,
}

/// `pods_top`.
pub struct PodsTop;

impl Tool for PodsTop {
    type Input = PodsTopInput;
    type Output = PodsTopOutput;
    const NAME: &'static str = "pods_top";
    const TITLE: &'static str = "Pod usage";
    const DESCRIPTION: &'static str = "Pod CPU/memory usage, heaviest first, with % of requests and limits.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["pods", "metrics", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &PodsTopInput) -> Result<(), ToolError> {
        check_ns(input.namespace.as_ref())?;
        if input.all_namespaces && input.namespace.is_some() {
            return Err(ToolError::invalid("give either namespace or allNamespaces, not both"));
        }
        if let Some(sel) = &input.label_selector {
            validate::label_selector(sel)?;
        }
        if let Some(l) = input.limit {
            common::check_range("limit", i64::from(l), 1, 500)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: PodsTopInput) -> Result<Reply<PodsTopOutput>, ToolError> {
        let client = ctx.kube().await?;
        let ns = if input.all_namespaces {
            None
        } else {
            common::namespace_for(&client, &kinds::pods(), input.namespace.as_deref())
        };
        let mut lp = ListParams::default();
        if let Some(sel) = &input.label_selector {
            lp = lp.labels(sel);
        }
        let pods = Raw::new(&client, &kinds::pods(), ns.as_deref()).list_all(&lp, 20_000).await?;
        let by_key: HashMap<String, &Value> =
            pods.iter().map(|p| (format!("{}/{}", s(p, "/metadata/namespace"), s(p, "/metadata/name")), p)).collect();
        let usage = list_metrics(&client, "PodMetrics", "pods", true, ns.as_deref()).await?;
        let mut rows: Vec<PodUsage> = usage
            .iter()
            .filter_map(|m| {
                let key = format!("{}/{}", s(m, "/metadata/namespace"), s(m, "/metadata/name"));
                let pod = by_key.get(&key)?;
                let used = arr(m, "/containers");
                let cpu = sum_containers(used, "/usage/cpu", cpu_millis);
                let mem = sum_containers(used, "/usage/memory", memory_bytes);
                let spec = arr(pod, "/spec/containers");
                Some(PodUsage {
                    pod: key,
                    cpu_m: cpu,
                    memory_mi: mem / MI,
                    cpu_req_pct: pct(cpu, sum_containers(spec, "/resources/requests/cpu", cpu_millis)),
                    cpu_lim_pct: pct(cpu, sum_containers(spec, "/resources/limits/cpu", cpu_millis)),
                    mem_req_pct: pct(mem, sum_containers(spec, "/resources/requests/memory", memory_bytes)),
                    mem_lim_pct: pct(mem, sum_containers(spec, "/resources/limits/memory", memory_bytes)),
                })
            })
            .collect();
        match input.sort_by {
            SortBy::Cpu => rows.sort_by_key(|r| std::cmp::Reverse(r.cpu_m)),
            SortBy::Memory => rows.sort_by_key(|r| std::cmp::Reverse(r.memory_mi)),
        }
        let total = rows.len();
        let (cpu_total, mem_total): (i64, i64) =
            (rows.iter().map(|r| r.cpu_m).sum(), rows.iter().map(|r| r.memory_mi).sum());
        let near_limit: Vec<String> =
            rows.iter().filter(|r| r.mem_lim_pct.is_some_and(|p| p >= 90)).map(|r| r.pod.clone()).collect();
        rows.truncate(input.limit.unwrap_or(20) as usize);
        let where_ = ns.as_deref().map(|n| format!("in namespace {n}")).unwrap_or_else(|| "in all namespaces".into());
        let mut summary = format!("{total} pods {where_} use {cpu_total}m CPU and {mem_total}Mi memory");
        if let Some(top) = rows.first() {
            summary.push_str(&format!("; heaviest: {} ({}m, {}Mi)", top.pod, top.cpu_m, top.memory_mi));
        }
        summary.push('.');
        if !near_limit.is_empty() {
            summary.push_str(&format!(" Near their memory limit (≥90%): {}.", near_limit.join(", ")));
        }
        let shown = rows.len();
        let mut reply = Reply::new(summary, PodsTopOutput { pods: rows });
        if total > shown {
            reply = reply.omitted(format!("{} lighter pods: raise limit or narrow with labelSelector", total - shown));
        }
        Ok(reply)
    }
}

// --------------------------------------------------------------------------------------- nodes_top

/// Arguments of `nodes_top`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct NodesTopInput {
    #[serde(default)]
    pub sort_by: SortBy,
}

/// One node's usage.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeUsage {
    /// Node.
    pub node: String,
    /// CPU in millicores.
    pub cpu_m: i64,
    /// CPU as % of allocatable.
    pub cpu_pct: Option<i64>,
    /// Memory in MiB.
    pub memory_mi: i64,
    /// Memory as % of allocatable.
    pub memory_pct: Option<i64>,
}

/// What `nodes_top` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NodesTopOutput {
    /// Nodes, busiest first.
    pub nodes: Vec<NodeUsage>,
}

/// `nodes_top`.
pub struct NodesTop;

impl Tool for NodesTop {
    type Input = NodesTopInput;
    type Output = NodesTopOutput;
    const NAME: &'static str = "nodes_top";
    const TITLE: &'static str = "Node usage";
    const DESCRIPTION: &'static str = "Node CPU/memory usage as % of allocatable.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["nodes", "metrics", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    async fn run(&self, ctx: &ToolContext, input: NodesTopInput) -> Result<Reply<NodesTopOutput>, ToolError> {
        let client = ctx.kube().await?;
        let nodes = Raw::new(&client, &kinds::nodes(), None).list_all(&ListParams::default(), 10_000).await?;
        let by_name: HashMap<&str, &Value> = nodes.iter().map(|n| (s(n, "/metadata/name"), n)).collect();
        let usage = list_metrics(&client, "NodeMetrics", "nodes", false, None).await?;
        let mut rows: Vec<NodeUsage> = usage
            .iter()
            .map(|m| {
                let name = s(m, "/metadata/name");
                let cpu = m.pointer("/usage/cpu").and_then(Value::as_str).and_then(cpu_millis).unwrap_or(0);
                let mem = m.pointer("/usage/memory").and_then(Value::as_str).and_then(memory_bytes).unwrap_or(0);
                let node = by_name.get(name);
                let alloc = |p: &str, f: fn(&str) -> Option<i64>| {
                    node.and_then(|n| n.pointer(p)).and_then(Value::as_str).and_then(f).unwrap_or(0)
                };
                NodeUsage {
                    node: name.to_string(),
                    cpu_m: cpu,
                    cpu_pct: pct(cpu, alloc("/status/allocatable/cpu", cpu_millis)),
                    memory_mi: mem / MI,
                    memory_pct: pct(mem, alloc("/status/allocatable/memory", memory_bytes)),
                }
            })
            .collect();
        match input.sort_by {
            SortBy::Cpu => rows.sort_by_key(|r| std::cmp::Reverse(r.cpu_pct.unwrap_or(r.cpu_m))),
            SortBy::Memory => rows.sort_by_key(|r| std::cmp::Reverse(r.memory_pct.unwrap_or(r.memory_mi))),
        }
        let summary = match rows.first() {
            Some(top) => format!(
                "{} nodes; busiest: {} (CPU {}m{}, memory {}Mi{}).",
                rows.len(),
                top.node,
                top.cpu_m,
                top.cpu_pct.map(|p| format!(" = {p}%")).unwrap_or_default(),
                top.memory_mi,
                top.memory_pct.map(|p| format!(" = {p}%")).unwrap_or_default()
            ),
            None => "No node metrics yet.".to_string(),
        };
        Ok(Reply::new(summary, NodesTopOutput { nodes: rows }))
    }
}
