//! `argo_rollout_history`: a Rollout's revisions, from the `rollout.argoproj.io/revision` annotations of
//! the ReplicaSets it owns, with their images.

use super::RolloutRef;
use super::common::{Kind, get, hash_of, images, int_at, namespace_of, owned_replicasets, revision_of, str_at};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::Serialize;

/// One revision.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// Revision number.
    pub revision: i64,
    /// Its ReplicaSet.
    pub replica_set: String,
    /// Pod template hash.
    pub hash: String,
    /// `container=image`.
    pub images: Vec<String>,
    /// Desired pods now.
    pub replicas: i64,
    /// Available pods now.
    pub available: i64,
    /// When the ReplicaSet was created.
    pub created: Option<String>,
    /// `stable`, `canary` (the current template, not yet stable), or empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub role: String,
}

/// A Rollout's history.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryOutput {
    /// Rollout name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Revisions, newest first (as many as `revisionHistoryLimit` keeps).
    pub revisions: Vec<Revision>,
}

/// See the module docs.
pub struct RolloutHistory;

impl Tool for RolloutHistory {
    type Input = RolloutRef;
    type Output = HistoryOutput;
    const NAME: &'static str = "argo_rollout_history";
    const TITLE: &'static str = "Argo Rollouts: history";
    const DESCRIPTION: &'static str = "List an Argo Rollout's revisions (newest first) with their ReplicaSets, images and pod counts, marking the stable and canary ones; argo_rollout_undo takes these revision numbers.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "read", "history"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &RolloutRef) -> Result<(), ToolError> {
        input.check()
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutRef) -> Result<Reply<HistoryOutput>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let ro = get(ctx, &client, Kind::Rollout, &ns, &input.name).await?;
        let stable = str_at(&ro, "/status/stableRS");
        let current = str_at(&ro, "/status/currentPodHash");
        let revisions: Vec<Revision> = owned_replicasets(&client, &ro)
            .await?
            .iter()
            .map(|rs| {
                let hash = hash_of(rs).to_string();
                let role = if !stable.is_empty() && hash == stable {
                    "stable"
                } else if !current.is_empty() && hash == current {
                    "canary"
                } else {
                    ""
                };
                Revision {
                    revision: revision_of(rs),
                    replica_set: str_at(rs, "/metadata/name").to_string(),
                    images: images(rs.pointer("/spec/template")),
                    replicas: int_at(rs, "/spec/replicas"),
                    available: int_at(rs, "/status/availableReplicas"),
                    created: rs
                        .pointer("/metadata/creationTimestamp")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string),
                    role: role.to_string(),
                    hash,
                }
            })
            .collect();
        let lines: Vec<String> = revisions
            .iter()
            .take(10)
            .map(|r| {
                format!(
                    "{} {}{}",
                    r.revision,
                    r.images.join(","),
                    if r.role.is_empty() { String::new() } else { format!(" ({})", r.role) }
                )
            })
            .collect();
        let summary = format!("{} revisions of {ns}/{}: {}.", revisions.len(), input.name, lines.join("; "));
        Ok(Reply::new(summary, HistoryOutput { name: input.name, namespace: ns, revisions }))
    }
}
