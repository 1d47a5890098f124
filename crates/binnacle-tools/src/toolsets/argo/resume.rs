//! `argo_rollout_resume`: sets `spec.paused` to false, as `kubectl argo rollouts resume` does.

use super::RolloutWrite;
use super::common::{Kind, Preview, RolloutChange, change_reply, get, namespace_of, patch_spec, record};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use kube::api::Patch;
use serde_json::{Value, json};

/// See the module docs.
pub struct RolloutResume;

impl Tool for RolloutResume {
    type Input = RolloutWrite;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_resume";
    const TITLE: &'static str = "Argo Rollouts: resume";
    const DESCRIPTION: &'static str = "Resume an Argo Rollout paused by hand (spec.paused=false). It does not skip a canary pause step: use argo_rollout_promote for that.";
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
        let is_paused = ro.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        let mut patches = Vec::new();
        let mut preview = input.dry_run.then(|| Preview::new(&ro));
        if is_paused {
            let patch = json!({"spec": {"paused": false}});
            patches.push(format!("spec {}", patch["spec"]));
            let answer = patch_spec(ctx, &client, &ns, &input.name, &Patch::Merge(patch), input.dry_run).await?;
            record(&mut preview, answer, false);
        }
        change_reply(
            ctx,
            &client,
            &ns,
            &input.name,
            "resume",
            patches,
            format!("Resumed {ns}/{}.", input.name),
            preview,
        )
        .await
    }
}
