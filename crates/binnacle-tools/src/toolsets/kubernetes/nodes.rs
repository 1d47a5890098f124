//! Node maintenance: `node_cordon`, `node_uncordon` and `node_drain` (checks first, then cordon, then
//! evict every pod but DaemonSet and mirror pods through the eviction subresource, retrying while a
//! PodDisruptionBudget says 429, and wait until they are gone; progress per evicted pod).

use super::common::{self, FIELD_MANAGER, Raw, arr, compact_schema, kinds, s};
use super::preview::{self, DRY_RUN};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use crate::validate;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, EvictParams, ListParams, Patch, PatchParams, PostParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// Arguments of `node_cordon` and `node_uncordon`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct NodeInput {
    pub name: String,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// What `node_cordon` and `node_uncordon` return.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NodeOutput {
    /// Node.
    pub node: String,
    /// Whether new pods are kept off it.
    pub unschedulable: bool,
    /// Whether this call changed it (with dryRun: would change it).
    pub changed: bool,
    /// With dryRun: unified diff of the node (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// Sets `spec.unschedulable`; returns whether it changed (would change, in a dry run) and, in a dry
/// run, the diff of the node.
async fn set_unschedulable(
    ctx: &ToolContext,
    name: &str,
    value: bool,
    dry_run: bool,
) -> Result<(bool, Option<String>), ToolError> {
    let client = ctx.kube().await?;
    let raw = Raw::new(&client, &kinds::nodes(), None);
    let node = raw.get(name).await?;
    let before = node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false);
    if before == value {
        return Ok((false, dry_run.then(String::new)));
    }
    let pp = PatchParams { dry_run, field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    let patch = json!({"spec": {"unschedulable": if value { json!(true) } else { Value::Null }}});
    let after = raw.patch(name, &pp, &Patch::Merge(patch)).await?;
    if !dry_run {
        return Ok((true, None));
    }
    let node = preview::matching_before(node, &after, || raw.get(name)).await?;
    Ok((true, Some(preview::object_diff(Some(&node), Some(&after)))))
}

/// `node_cordon`.
pub struct NodeCordon;

impl Tool for NodeCordon {
    type Input = NodeInput;
    type Output = NodeOutput;
    const NAME: &'static str = "node_cordon";
    const TITLE: &'static str = "Cordon node";
    const DESCRIPTION: &'static str = "Mark a node unschedulable.";
    const TOOLSET: Toolset = Toolset::KubernetesAdmin;
    const TAGS: &'static [&'static str] = &["nodes", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &NodeInput) -> Result<(), ToolError> {
        validate::object_name(&input.name)
    }

    async fn run(&self, ctx: &ToolContext, input: NodeInput) -> Result<Reply<NodeOutput>, ToolError> {
        let (changed, diff) = set_unschedulable(ctx, &input.name, true, input.dry_run).await?;
        let summary = match (changed, input.dry_run) {
            (true, false) => format!("Cordoned node {}: no new pods are scheduled on it.", input.name),
            (true, true) => {
                format!("{DRY_RUN}node {} would be cordoned: no new pods would be scheduled on it.", input.name)
            }
            (false, dry) => format!("{}Node {} was already cordoned.", if dry { DRY_RUN } else { "" }, input.name),
        };
        let reply = Reply::new(summary, NodeOutput { node: input.name, unschedulable: true, changed, diff });
        Ok(if input.dry_run { reply.untrusted() } else { reply })
    }
}

/// `node_uncordon`.
pub struct NodeUncordon;

impl Tool for NodeUncordon {
    type Input = NodeInput;
    type Output = NodeOutput;
    const NAME: &'static str = "node_uncordon";
    const TITLE: &'static str = "Uncordon node";
    const DESCRIPTION: &'static str = "Mark a node schedulable.";
    const TOOLSET: Toolset = Toolset::KubernetesAdmin;
    const TAGS: &'static [&'static str] = &["nodes", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &NodeInput) -> Result<(), ToolError> {
        validate::object_name(&input.name)
    }

    async fn run(&self, ctx: &ToolContext, input: NodeInput) -> Result<Reply<NodeOutput>, ToolError> {
        let (changed, diff) = set_unschedulable(ctx, &input.name, false, input.dry_run).await?;
        let summary = match (changed, input.dry_run) {
            (true, false) => format!("Uncordoned node {}: pods can be scheduled on it again.", input.name),
            (true, true) => {
                format!("{DRY_RUN}node {} would be uncordoned: pods could be scheduled on it again.", input.name)
            }
            (false, dry) => format!("{}Node {} was already schedulable.", if dry { DRY_RUN } else { "" }, input.name),
        };
        let reply = Reply::new(summary, NodeOutput { node: input.name, unschedulable: false, changed, diff });
        Ok(if input.dry_run { reply.untrusted() } else { reply })
    }
}

// -------------------------------------------------------------------------------------- node_drain

/// Arguments of `node_drain`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct NodeDrainInput {
    pub name: String,
    /// Leave DaemonSet pods
    #[serde(default)]
    pub ignore_daemon_sets: bool,
    /// Evict pods with emptyDir
    #[serde(default)]
    pub delete_empty_dir_data: bool,
    /// Evict unmanaged pods
    #[serde(default)]
    pub force: bool,
    /// e.g. 2m (default)
    pub timeout: Option<String>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// A pod left on the node, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PodNote {
    /// namespace/name.
    pub pod: String,
    /// Why.
    pub reason: String,
}

/// What `node_drain` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NodeDrainOutput {
    /// Node.
    pub node: String,
    /// Every pod was evicted and is gone.
    pub complete: bool,
    /// Pods evicted (with dryRun: that would be).
    pub evicted: Vec<String>,
    /// Pods left by design (DaemonSet, mirror).
    pub skipped: Vec<PodNote>,
    /// Pods still there at the timeout, and why (with dryRun: whose eviction is refused now).
    pub remaining: Vec<PodNote>,
    /// With dryRun: unified diff of the node (YAML); the pods are listed in `evicted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// Why an eviction was refused (429: a disruption budget), from the server's Status.
fn refusal(st: &kube::core::Status) -> String {
    let cause = st.details.as_ref().and_then(|d| d.causes.first()).map(|c| c.message.clone()).unwrap_or_default();
    untrusted_text(&if cause.is_empty() { st.message.clone() } else { format!("{} {cause}", st.message) })
}

/// `node_drain`.
pub struct NodeDrain;

const DEFAULT_DRAIN_TIMEOUT: u64 = 120;

fn pod_key(p: &Value) -> String {
    format!("{}/{}", s(p, "/metadata/namespace"), s(p, "/metadata/name"))
}

impl Tool for NodeDrain {
    type Input = NodeDrainInput;
    type Output = NodeDrainOutput;
    const NAME: &'static str = "node_drain";
    const TITLE: &'static str = "Drain node";
    const DESCRIPTION: &'static str = "Cordon a node and evict its pods, honouring disruption budgets.";
    const TOOLSET: Toolset = Toolset::KubernetesAdmin;
    const TAGS: &'static [&'static str] = &["nodes", "write"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    fn validate(input: &NodeDrainInput) -> Result<(), ToolError> {
        validate::object_name(&input.name)?;
        if let Some(t) = &input.timeout {
            let secs = validate::duration_secs(t)?;
            common::check_range("timeout (seconds)", secs as i64, 1, 3600)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: NodeDrainInput) -> Result<Reply<NodeDrainOutput>, ToolError> {
        let timeout =
            input.timeout.as_deref().map(validate::duration_secs).transpose()?.unwrap_or(DEFAULT_DRAIN_TIMEOUT);
        let deadline = Instant::now() + Duration::from_secs(timeout);
        let client = ctx.kube().await?;
        Raw::new(&client, &kinds::nodes(), None).get(&input.name).await?;
        let pods = Raw::new(&client, &kinds::pods(), None)
            .list_all(&ListParams::default().fields(&format!("spec.nodeName={}", input.name)), 10_000)
            .await?;
        // Decide about every pod before changing anything.
        let mut skipped = Vec::new();
        let mut blockers = Vec::new();
        let mut to_evict = Vec::new();
        for p in &pods {
            let key = pod_key(p);
            let controller = common::controller_of(p);
            let finished = matches!(s(p, "/status/phase"), "Succeeded" | "Failed");
            if p.pointer("/metadata/annotations/kubernetes.io~1config.mirror").is_some() {
                skipped.push(PodNote { pod: key, reason: "mirror pod (static, managed by the kubelet)".into() });
                continue;
            }
            if controller.is_some_and(|c| s(c, "/kind") == "DaemonSet") {
                if input.ignore_daemon_sets {
                    skipped.push(PodNote {
                        pod: key,
                        reason: format!("DaemonSet {}", s(controller.unwrap_or(&Value::Null), "/name")),
                    });
                } else {
                    blockers.push(format!("{key} is managed by a DaemonSet (pass ignoreDaemonSets: true to leave it)"));
                }
                continue;
            }
            if controller.is_none() && !finished && !input.force {
                blockers.push(format!("{key} is not managed by a controller and would be lost (pass force: true)"));
                continue;
            }
            if !finished
                && arr(p, "/spec/volumes").iter().any(|v| v.get("emptyDir").is_some())
                && !input.delete_empty_dir_data
            {
                blockers.push(format!(
                    "{key} uses emptyDir storage whose data would be lost (pass deleteEmptyDirData: true)"
                ));
                continue;
            }
            to_evict.push(p.clone());
        }
        if !blockers.is_empty() {
            return Err(ToolError::Conflict(format!(
                "cannot drain node {}: {}. Nothing was changed",
                input.name,
                blockers.join("; ")
            )));
        }
        if input.dry_run {
            return drain_preview(ctx, &client, input.name, to_evict, skipped).await;
        }
        let (cordoned, _) = set_unschedulable(ctx, &input.name, true, false).await?;
        let total = to_evict.len();
        ctx.progress(0.0, Some(total as f64), format!("cordoned {}; evicting {total} pods", input.name));
        let mut evicted: Vec<Value> = Vec::new();
        let mut pending: Vec<(Value, String)> = to_evict.into_iter().map(|p| (p, String::new())).collect();
        let mut pause = Duration::from_millis(250);
        while !pending.is_empty() {
            let mut still = Vec::new();
            for (p, _) in pending {
                let api: Api<Pod> = Api::namespaced(client.clone(), s(&p, "/metadata/namespace"));
                let ep = EvictParams { delete_options: Some(DeleteParams::default()), ..Default::default() };
                match api.evict(s(&p, "/metadata/name"), &ep).await {
                    Ok(_) => {
                        evicted.push(p.clone());
                        ctx.progress(evicted.len() as f64, Some(total as f64), format!("evicted {}", pod_key(&p)));
                    }
                    Err(kube::Error::Api(st)) if st.code == 404 => {
                        evicted.push(p.clone());
                    }
                    Err(kube::Error::Api(st)) if st.code == 429 => {
                        let reason = refusal(&st);
                        still.push((p, reason));
                    }
                    Err(e) => return Err(ToolError::from(e)),
                }
            }
            pending = still;
            if pending.is_empty() || Instant::now() + pause > deadline {
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
        // Wait until evicted pods are gone (graceful termination).
        let mut terminating: Vec<Value> = evicted.clone();
        while !terminating.is_empty() {
            let mut left = Vec::new();
            for p in terminating {
                let now = Raw::new(&client, &kinds::pods(), Some(s(&p, "/metadata/namespace")))
                    .get_opt(s(&p, "/metadata/name"))
                    .await?;
                if now.is_some_and(|n| s(&n, "/metadata/uid") == s(&p, "/metadata/uid")) {
                    left.push(p);
                }
            }
            terminating = left;
            if terminating.is_empty() || Instant::now() + Duration::from_millis(250) > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let mut remaining: Vec<PodNote> = pending
            .iter()
            .map(|(p, why)| PodNote {
                pod: pod_key(p),
                reason: if why.is_empty() { "not evicted".into() } else { why.clone() },
            })
            .collect();
        remaining.extend(
            terminating.iter().map(|p| PodNote { pod: pod_key(p), reason: "evicted, still terminating".into() }),
        );
        let complete = remaining.is_empty();
        let out = NodeDrainOutput {
            node: input.name.clone(),
            complete,
            evicted: evicted.iter().map(pod_key).collect(),
            skipped,
            remaining,
            diff: None,
        };
        let mut summary = format!(
            "{} node {}: evicted {} pod(s), skipped {}{}.",
            if complete { "Drained" } else { "Partly drained" },
            input.name,
            out.evicted.len(),
            out.skipped.len(),
            if cordoned { "" } else { " (it was already cordoned)" }
        );
        if !complete {
            summary.push_str(&format!(
                " After {timeout} s, {} pod(s) remain: {}. The node stays cordoned; call again to retry.",
                out.remaining.len(),
                out.remaining
                    .iter()
                    .take(3)
                    .map(|r| format!("{} ({})", r.pod, r.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        Ok(Reply::new(summary, out))
    }
}

/// The dry run of a drain: the cordon and one eviction per pod, all with `dryRun=All` (the server checks
/// disruption budgets and evicts nothing); no waiting.
async fn drain_preview(
    ctx: &ToolContext,
    client: &kube::Client,
    node: String,
    to_evict: Vec<Value>,
    skipped: Vec<PodNote>,
) -> Result<Reply<NodeDrainOutput>, ToolError> {
    let (cordon, diff) = set_unschedulable(ctx, &node, true, true).await?;
    let mut evicted = Vec::new();
    let mut remaining = Vec::new();
    for p in &to_evict {
        let api: Api<Pod> = Api::namespaced(client.clone(), s(p, "/metadata/namespace"));
        let ep = EvictParams {
            delete_options: Some(DeleteParams { dry_run: true, ..Default::default() }),
            post_options: PostParams { dry_run: true, ..Default::default() },
        };
        match api.evict(s(p, "/metadata/name"), &ep).await {
            Ok(_) => evicted.push(pod_key(p)),
            Err(kube::Error::Api(st)) if st.code == 404 => {}
            Err(kube::Error::Api(st)) if st.code == 429 => {
                remaining.push(PodNote { pod: pod_key(p), reason: refusal(&st) })
            }
            Err(e) => return Err(ToolError::from(e)),
        }
    }
    let mut summary = format!(
        "{DRY_RUN}node {node} would be {}and {} pod(s) evicted",
        if cordon { "cordoned " } else { "kept cordoned " },
        evicted.len()
    );
    if !evicted.is_empty() {
        let more = evicted.len().saturating_sub(10);
        summary.push_str(&format!(
            ": {}{}",
            evicted.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    summary.push_str(&format!("; {} skipped.", skipped.len()));
    if !remaining.is_empty() {
        summary.push_str(&format!(
            " Evicting {} pod(s) is refused now: {}.",
            remaining.len(),
            remaining.iter().take(3).map(|r| format!("{} ({})", r.pod, r.reason)).collect::<Vec<_>>().join("; ")
        ));
    }
    let out = NodeDrainOutput { node, complete: remaining.is_empty(), evicted, skipped, remaining, diff };
    Ok(Reply::new(summary, out).untrusted())
}
