//! `argo_rollout_pause`: sets `spec.paused` to true, as `kubectl argo rollouts pause` does.

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
pub struct RolloutPause;

impl Tool for RolloutPause {
    type Input = RolloutWrite;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_pause";
    const TITLE: &'static str = "Argo Rollouts: pause";
    const DESCRIPTION: &'static str = "Pause an Argo Rollout by hand (spec.paused=true): it stays at its current step and scales nothing until resumed (argo_rollout_resume) or promoted.";
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
        if !is_paused {
            let patch = json!({"spec": {"paused": true}});
            patches.push(format!("spec {}", patch["spec"]));
            let answer = patch_spec(ctx, &client, &ns, &input.name, &Patch::Merge(patch), input.dry_run).await?;
            record(&mut preview, answer, false);
        }
        change_reply(ctx, &client, &ns, &input.name, "pause", patches, format!("Paused {ns}/{}.", input.name), preview)
            .await
    }
}
