//! `argo_rollout_retry`: retries an aborted update (`status.abort: false` through the status subresource), from the first step.

use super::RolloutWrite;
use super::common::{Kind, Preview, RolloutChange, change_reply, get, namespace_of, patch_status, record};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use serde_json::{Value, json};

/// See the module docs.
pub struct RolloutRetry;

impl Tool for RolloutRetry {
    type Input = RolloutWrite;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_retry";
    const TITLE: &'static str = "Argo Rollouts: retry";
    const DESCRIPTION: &'static str =
        "Retry an aborted Argo Rollout update (status.abort=false): the canary starts again from the first step.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

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
        if aborted {
            // Status fields go through the status subresource, as the kubectl plugin sends them.
            let patch = json!({"status": {"abort": false}});
            patches.push(format!("status {}", patch["status"]));
            let answer = patch_status(ctx, &client, &ns, &input.name, patch, input.dry_run).await?;
            record(&mut preview, answer, true);
        }
        change_reply(
            ctx,
            &client,
            &ns,
            &input.name,
            "retry",
            patches,
            format!("Retrying the update of {ns}/{}.", input.name),
            preview,
        )
        .await
    }
}
