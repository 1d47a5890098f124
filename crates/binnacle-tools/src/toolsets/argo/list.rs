//! `argo_rollouts_list`: Rollouts with their phase, step, weight and pod counts.

use super::common::{Kind, RolloutSummary, list, one_line, owned_replicasets, summarize};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `argo_rollouts_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutsListInput {
    /// Namespace; default: every namespace.
    pub namespace: Option<String>,
    /// Label selector (`app=checkout`).
    pub label_selector: Option<String>,
}

/// The Rollouts.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutsListOutput {
    /// Rollouts: not healthy first, then by namespace and name.
    pub rollouts: Vec<RolloutSummary>,
}

/// See the module docs.
pub struct RolloutsList;

impl Tool for RolloutsList {
    type Input = RolloutsListInput;
    type Output = RolloutsListOutput;
    const NAME: &'static str = "argo_rollouts_list";
    const TITLE: &'static str = "Argo Rollouts: list";
    const DESCRIPTION: &'static str = "List Argo Rollouts with their phase (Healthy, Progressing, Paused, Degraded), canary step and weight, images and pod counts; unhealthy ones first.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &RolloutsListInput) -> Result<(), ToolError> {
        if let Some(ns) = &input.namespace {
            validate::namespace(ns)?;
        }
        if let Some(sel) = &input.label_selector {
            validate::label_selector(sel)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutsListInput) -> Result<Reply<RolloutsListOutput>, ToolError> {
        let client = ctx.kube().await?;
        let mut lp = ListParams::default();
        if let Some(sel) = &input.label_selector {
            lp = lp.labels(sel);
        }
        let items = list(ctx, &client, Kind::Rollout, input.namespace.as_deref(), &lp).await?;
        let mut rollouts = Vec::with_capacity(items.len());
        for ro in &items {
            let rs = owned_replicasets(&client, ro).await?;
            rollouts.push(summarize(ro, &rs));
        }
        rollouts.sort_by(|a, b| {
            (a.phase == "Healthy", &a.namespace, &a.name).cmp(&(b.phase == "Healthy", &b.namespace, &b.name))
        });
        let where_ = input.namespace.as_deref().map(|n| format!(" in {n}")).unwrap_or_default();
        let summary = if rollouts.is_empty() {
            format!("No Rollouts{where_}.")
        } else {
            let healthy = rollouts.iter().filter(|r| r.phase == "Healthy").count();
            let lines: Vec<String> = rollouts.iter().take(10).map(one_line).collect();
            format!("{} Rollouts{where_}, {healthy} healthy:\n{}", rollouts.len(), lines.join("\n"))
        };
        Ok(Reply::new(summary, RolloutsListOutput { rollouts }))
    }
}
