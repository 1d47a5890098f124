//! `argo_rollout_promote`: moves a paused canary on (clears the pause conditions and `spec.paused`, or
//! skips the current step), or with `full` skips every remaining step (`status.promoteFull`) — the
//! patches `kubectl argo rollouts promote [--full]` sends.

use super::common::{Kind, Preview, RolloutChange, change_reply, get, namespace_of, patch_spec, patch_status, record};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use kube::api::Patch;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Arguments of `argo_rollout_promote`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromoteInput {
    /// The Rollout's name.
    pub name: String,
    /// Its namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Skip every remaining step and analysis and go to 100% at once (default false: only past the
    /// current pause or step).
    #[serde(default)]
    pub full: bool,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// See the module docs.
pub struct RolloutPromote;

/// The status and spec patches a promote needs for a Rollout (the plugin's rules).
pub fn promote_patches(ro: &Value, full: bool) -> (Option<Value>, Option<Value>) {
    let st = ro.get("status").cloned().unwrap_or(json!({}));
    let spec_paused = ro.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let spec = spec_paused.then(|| json!({"spec": {"paused": false}}));
    if full {
        let stable = st.get("stableRS").and_then(Value::as_str).unwrap_or("");
        let current = st.get("currentPodHash").and_then(Value::as_str).unwrap_or("");
        let status = (stable != current || stable.is_empty()).then(|| json!({"status": {"promoteFull": true}}));
        return (status, spec);
    }
    let has_pause = st.get("pauseConditions").and_then(Value::as_array).is_some_and(|p| !p.is_empty());
    if has_pause {
        return (Some(json!({"status": {"pauseConditions": null}})), spec);
    }
    let steps = ro.pointer("/spec/strategy/canary/steps").and_then(Value::as_array).map(Vec::len).unwrap_or(0) as i64;
    let index = st.get("currentStepIndex").and_then(Value::as_i64);
    match index {
        // Not paused but in the middle of the steps (a weight or analysis step): skip the current step.
        Some(i) if ro.pointer("/spec/strategy/canary").is_some() && i < steps && !spec_paused => {
            (Some(json!({"status": {"currentStepIndex": i + 1}})), spec)
        }
        _ => (None, spec),
    }
}

impl Tool for RolloutPromote {
    type Input = PromoteInput;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_promote";
    const TITLE: &'static str = "Argo Rollouts: promote";
    const DESCRIPTION: &'static str = "Promote an Argo Rollout: past the current pause (clears the pause conditions and a manual pause) or, when not paused, past the current canary step; with full=true skip all remaining steps and go to 100%.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE;

    fn validate(input: &PromoteInput) -> Result<(), ToolError> {
        super::common::check_target(input.namespace.as_deref(), &input.name)
    }

    async fn run(&self, ctx: &ToolContext, input: PromoteInput) -> Result<Reply<RolloutChange>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let ro = get(ctx, &client, Kind::Rollout, &ns, &input.name).await?;
        let (status, spec) = promote_patches(&ro, input.full);
        let mut patches = Vec::new();
        let mut preview = input.dry_run.then(|| Preview::new(&ro));
        // Status first, then spec, as the plugin does.
        if let Some(p) = status {
            patches.push(format!("status {}", p["status"]));
            let answer = patch_status(ctx, &client, &ns, &input.name, p, input.dry_run).await?;
            record(&mut preview, answer, true);
        }
        if let Some(p) = spec {
            patches.push(format!("spec {}", p["spec"]));
            let answer = patch_spec(ctx, &client, &ns, &input.name, &Patch::Merge(p), input.dry_run).await?;
            record(&mut preview, answer, false);
        }
        let what = if input.full { "Fully promoted" } else { "Promoted" };
        change_reply(
            ctx,
            &client,
            &ns,
            &input.name,
            "promote",
            patches,
            format!("{what} {ns}/{}.", input.name),
            preview,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_follow_the_plugin() {
        let paused = json!({"spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}},
                            "status": {"stableRS": "a", "currentPodHash": "b", "currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]}});
        assert_eq!(promote_patches(&paused, false), (Some(json!({"status": {"pauseConditions": null}})), None));
        assert_eq!(promote_patches(&paused, true), (Some(json!({"status": {"promoteFull": true}})), None));
        let mut manual = paused.clone();
        manual["spec"]["paused"] = json!(true);
        manual["status"]["pauseConditions"] = json!([]);
        assert_eq!(promote_patches(&manual, false), (None, Some(json!({"spec": {"paused": false}}))));
        let stepping = json!({"spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}}, "status": {"stableRS": "a", "currentPodHash": "b", "currentStepIndex": 0}});
        assert_eq!(promote_patches(&stepping, false).0, Some(json!({"status": {"currentStepIndex": 1}})));
        let healthy = json!({"spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}]}}}, "status": {"stableRS": "a", "currentPodHash": "a", "currentStepIndex": 1}});
        assert_eq!(promote_patches(&healthy, false), (None, None));
        assert_eq!(promote_patches(&healthy, true), (None, None));
    }
}
