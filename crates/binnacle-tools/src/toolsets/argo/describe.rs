//! `argo_rollout_describe`: a compact picture of a Rollout — status, every ReplicaSet, their pods, its
//! analysis runs and recent events.

use super::RolloutRef;
use super::common::{
    HASH_LABEL, Kind, ReplicaSetInfo, RolloutSummary, list, namespace_of, one_line, rs_info, status_of, str_at,
};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// A pod of the Rollout.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodInfo {
    /// Name.
    pub name: String,
    /// Pod template hash (which ReplicaSet).
    pub hash: String,
    /// Phase, or the waiting/terminated reason of a container (`CrashLoopBackOff`).
    pub status: String,
    /// Ready containers / containers.
    pub ready: String,
    /// Container restarts.
    pub restarts: i64,
    /// Node.
    pub node: Option<String>,
}

/// An analysis run.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunBrief {
    /// Name.
    pub name: String,
    /// `Pending`, `Running`, `Successful`, `Failed`, `Error`, `Inconclusive`.
    pub phase: String,
    /// Message (untrusted text).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// An event.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventBrief {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Reason (`RolloutPaused`, `ScalingReplicaSet`).
    pub reason: String,
    /// Message (untrusted text).
    pub message: String,
    /// How many times.
    pub count: i64,
    /// Last seen.
    pub last_seen: Option<String>,
}

/// The description.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeOutput {
    /// Status.
    pub status: RolloutSummary,
    /// Every ReplicaSet the Rollout owns, newest revision first.
    pub replica_sets: Vec<ReplicaSetInfo>,
    /// Pods of those ReplicaSets.
    pub pods: Vec<PodInfo>,
    /// Analysis runs the Rollout started.
    pub analysis_runs: Vec<AnalysisRunBrief>,
    /// Recent events of the Rollout, newest first.
    pub events: Vec<EventBrief>,
}

/// See the module docs.
pub struct RolloutDescribe;

fn pod_info(p: &Value) -> PodInfo {
    let statuses: Vec<&Value> =
        p.pointer("/status/containerStatuses").and_then(Value::as_array).into_iter().flatten().collect();
    let total = p.pointer("/spec/containers").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
    let ready = statuses.iter().filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true)).count();
    let restarts = statuses.iter().map(|c| c.get("restartCount").and_then(Value::as_i64).unwrap_or(0)).sum();
    let reason = statuses
        .iter()
        .find_map(|c| {
            c.pointer("/state/waiting/reason").or(c.pointer("/state/terminated/reason")).and_then(Value::as_str)
        })
        .map(str::to_string);
    let deleting = p.pointer("/metadata/deletionTimestamp").is_some();
    PodInfo {
        name: str_at(p, "/metadata/name").to_string(),
        hash: p
            .pointer("/metadata/labels")
            .and_then(|l| l.get(HASH_LABEL))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        status: if deleting {
            "Terminating".into()
        } else {
            reason.unwrap_or_else(|| str_at(p, "/status/phase").to_string())
        },
        ready: format!("{ready}/{total}"),
        restarts,
        node: p.pointer("/spec/nodeName").and_then(Value::as_str).map(str::to_string),
    }
}

impl Tool for RolloutDescribe {
    type Input = RolloutRef;
    type Output = DescribeOutput;
    const NAME: &'static str = "argo_rollout_describe";
    const TITLE: &'static str = "Argo Rollouts: describe";
    const DESCRIPTION: &'static str = "Describe an Argo Rollout compactly: its status, every ReplicaSet (revision, images, pods ready), their pods (status, restarts), its analysis runs and recent events. Start here to see why a rollout is stuck or degraded.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "read", "events"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &RolloutRef) -> Result<(), ToolError> {
        input.check()
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutRef) -> Result<Reply<DescribeOutput>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let (ro, replicasets, status) = status_of(ctx, &client, &ns, &input.name).await?;
        let rs_uids: Vec<&str> = replicasets.iter().map(|rs| str_at(rs, "/metadata/uid")).collect();
        let mut lp = ListParams::default();
        if let Some(labels) = ro.pointer("/spec/selector/matchLabels").and_then(Value::as_object) {
            let sel: Vec<String> = labels.iter().filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}"))).collect();
            if !sel.is_empty() {
                lp = lp.labels(&sel.join(","));
            }
        }
        let pods_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let mut pods: Vec<PodInfo> = pods_api
            .list(&lp)
            .await?
            .items
            .into_iter()
            .filter_map(|p| serde_json::to_value(p).ok())
            .filter(|p| {
                p.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| rs_uids.contains(&str_at(r, "/uid"))))
            })
            .map(|p| pod_info(&p))
            .collect();
        pods.sort_by(|a, b| (&a.hash, &a.name).cmp(&(&b.hash, &b.name)));
        let uid = str_at(&ro, "/metadata/uid");
        let analysis_runs: Vec<AnalysisRunBrief> =
            match list(ctx, &client, Kind::AnalysisRun, Some(&ns), &ListParams::default()).await {
                Ok(runs) => runs
                    .iter()
                    .filter(|r| {
                        r.pointer("/metadata/ownerReferences")
                            .and_then(Value::as_array)
                            .is_some_and(|refs| refs.iter().any(|o| str_at(o, "/uid") == uid))
                    })
                    .map(|r| AnalysisRunBrief {
                        name: str_at(r, "/metadata/name").to_string(),
                        phase: r.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending").to_string(),
                        message: untrusted_text(str_at(r, "/status/message")),
                    })
                    .collect(),
                // Clusters with the Rollout CRD but not the AnalysisRun CRD: no runs.
                Err(ToolError::MissingDependency(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
        let events_api: Api<Event> = Api::namespaced(client.clone(), &ns);
        let ev_lp =
            ListParams::default().fields(&format!("involvedObject.name={},involvedObject.kind=Rollout", input.name));
        let mut events: Vec<(String, EventBrief)> = events_api
            .list(&ev_lp)
            .await?
            .items
            .into_iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .map(|e| {
                let last = e
                    .get("lastTimestamp")
                    .or(e.get("eventTime"))
                    .and_then(Value::as_str)
                    .or(e.pointer("/metadata/creationTimestamp").and_then(Value::as_str))
                    .map(str::to_string);
                (
                    last.clone().unwrap_or_default(),
                    EventBrief {
                        kind: str_at(&e, "/type").to_string(),
                        reason: str_at(&e, "/reason").to_string(),
                        message: untrusted_text(str_at(&e, "/message")),
                        count: e.get("count").and_then(Value::as_i64).unwrap_or(1),
                        last_seen: last,
                    },
                )
            })
            .collect();
        events.sort_by(|a, b| b.0.cmp(&a.0));
        let events: Vec<EventBrief> = events.into_iter().map(|(_, e)| e).take(30).collect();
        let replica_sets: Vec<ReplicaSetInfo> = replicasets.iter().map(rs_info).collect();
        let not_ready = pods.iter().filter(|p| p.ready.split('/').next() != p.ready.split('/').nth(1)).count();
        let warnings = events.iter().filter(|e| e.kind == "Warning").count();
        let summary = format!(
            "{}. {} ReplicaSets, {} pods ({not_ready} not ready), {} analysis runs, {} recent events ({warnings} warnings).",
            one_line(&status),
            replica_sets.len(),
            pods.len(),
            analysis_runs.len(),
            events.len()
        );
        Ok(Reply::new(summary, DescribeOutput { status, replica_sets, pods, analysis_runs, events }).untrusted())
    }
}
