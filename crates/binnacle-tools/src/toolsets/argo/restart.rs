//! `argo_rollout_restart`: restarts a Rollout's pods (`spec.restartAt` = now): the controller evicts
//! the pods created before that time, a few at a time, keeping the Rollout available.

use super::RolloutWrite;
use super::common::{
    Kind, Preview, RolloutChange, change_reply, get, namespace_of, now_rfc3339, owned_replicasets, patch_spec, record,
    str_at,
};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch};
use serde_json::{Value, json};

/// See the module docs.
pub struct RolloutRestart;

/// The restart time: now, or just after the newest pod of the Rollout when the cluster's clock is ahead
/// of ours, so that clock skew never leaves pods un-restarted.
async fn restart_time(client: &kube::Client, ro: &Value) -> Result<String, ToolError> {
    let now = now_rfc3339();
    let rs_uids: Vec<String> =
        owned_replicasets(client, ro).await?.iter().map(|rs| str_at(rs, "/metadata/uid").to_string()).collect();
    let pods: Api<Pod> = Api::namespaced(client.clone(), str_at(ro, "/metadata/namespace"));
    let newest = pods
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|p| p.metadata.owner_references.iter().flatten().any(|o| rs_uids.contains(&o.uid)))
        .filter_map(|p| p.metadata.creation_timestamp.map(|t| t.0))
        .max();
    let now_ts: Option<jiff::Timestamp> = now.parse().ok();
    match (newest, now_ts) {
        (Some(newest), Some(now_ts)) if newest >= now_ts => {
            let later = jiff::Timestamp::from_second(newest.as_second() + 1).unwrap_or(newest);
            Ok(later.to_string())
        }
        _ => Ok(now),
    }
}

impl Tool for RolloutRestart {
    type Input = RolloutWrite;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_restart";
    const TITLE: &'static str = "Argo Rollouts: restart pods";
    const DESCRIPTION: &'static str = "Restart an Argo Rollout's pods (spec.restartAt=now): the controller replaces the pods created before now, a few at a time within maxUnavailable. The template and revision do not change.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE;

    fn validate(input: &RolloutWrite) -> Result<(), ToolError> {
        input.check()
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutWrite) -> Result<Reply<RolloutChange>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let ro = get(ctx, &client, Kind::Rollout, &ns, &input.name).await?;
        let at = restart_time(&client, &ro).await?;
        let patch = json!({"spec": {"restartAt": at}});
        let patches = vec![format!("spec {}", patch["spec"])];
        let mut preview = input.dry_run.then(|| Preview::new(&ro));
        let answer = patch_spec(ctx, &client, &ns, &input.name, &Patch::Merge(patch), input.dry_run).await?;
        record(&mut preview, answer, false);
        change_reply(
            ctx,
            &client,
            &ns,
            &input.name,
            "restart",
            patches,
            format!("Asked for a restart of the pods of {ns}/{}.", input.name),
            preview,
        )
        .await
    }
}
