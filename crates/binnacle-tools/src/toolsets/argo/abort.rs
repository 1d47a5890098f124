//! `argo_rollout_abort`: aborts an update (`status.abort: true` through the status subresource): the canary is scaled down and traffic goes back to the stable ReplicaSet; the Rollout becomes Degraded until retried or its template is changed back.

use super::RolloutWrite;
use super::common::{Kind, Preview, RolloutChange, change_reply, get, namespace_of, patch_status, record};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use serde_json::{Value, json};

/// See the module docs.
pub struct RolloutAbort;

impl Tool for RolloutAbort {
    type Input = RolloutWrite;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_abort";
    const TITLE: &'static str = "Argo Rollouts: abort";
    const DESCRIPTION: &'static str = "Abort an Argo Rollout update: scale the canary down and send everything back to the stable version (status.abort=true). The Rollout turns Degraded until argo_rollout_retry or a new template.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "write"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    fn validate(input: &RolloutWrite) -> Result<(), ToolError> {
        input.check()
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutWrite) -> Result<Reply<RolloutChange>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let ro = get(ctx, &client, Kind::Rollout, &ns, &input.name).await?;
        let aborted = ro.pointer("/status/abort").and_then(Value::as_bool) == Some(true);
        let mut patches = Vec::new();
        let mut preview = input.dry_run.then(|| Preview::new(&ro));
        if !aborted {
            // Status fields go through the status subresource, as the kubectl plugin sends them.
            let patch = json!({"status": {"abort": true}});
            patches.push(format!("status {}", patch["status"]));
            let answer = patch_status(ctx, &client, &ns, &input.name, patch, input.dry_run).await?;
            record(&mut preview, answer, true);
        }
        change_reply(
            ctx,
            &client,
            &ns,
            &input.name,
            "abort",
            patches,
            format!("Aborted the update of {ns}/{}.", input.name),
            preview,
        )
        .await
    }
}
