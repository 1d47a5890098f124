//! `argo_rollout_status`: one Rollout's phase, step, weight, and stable and canary ReplicaSets.

use super::RolloutRef;
use super::common::{RolloutSummary, namespace_of, one_line, status_of};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;

/// See the module docs.
pub struct RolloutStatus;

impl Tool for RolloutStatus {
    type Input = RolloutRef;
    type Output = RolloutSummary;
    const NAME: &'static str = "argo_rollout_status";
    const TITLE: &'static str = "Argo Rollouts: status";
    const DESCRIPTION: &'static str = "Show an Argo Rollout's status: phase and message, pause reasons, canary step index / total steps, desired and actual canary weight, and the stable and canary ReplicaSets with their ready pods.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &RolloutRef) -> Result<(), ToolError> {
        input.check()
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutRef) -> Result<Reply<RolloutSummary>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let (_, _, s) = status_of(ctx, &client, &ns, &input.name).await?;
        let mut summary = one_line(&s);
        if let Some(c) = &s.canary {
            summary.push_str(&format!("; canary {} {}/{} ready", c.name, c.ready, c.replicas));
        }
        if let Some(st) = &s.stable {
            summary.push_str(&format!("; stable {} {}/{} ready", st.name, st.ready, st.replicas));
        }
        summary.push('.');
        Ok(Reply::new(summary, s))
    }
}
