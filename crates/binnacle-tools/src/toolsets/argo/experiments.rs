//! `argo_experiments_list`: Argo Experiments with their phase.

use super::common::{Kind, list, str_at};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use crate::validate;
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Arguments of `argo_experiments_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExperimentsListInput {
    /// Namespace; default: every namespace.
    pub namespace: Option<String>,
    /// Only experiments started by this Rollout.
    pub rollout: Option<String>,
}

/// An experiment.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentInfo {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// `Pending`, `Running`, `Successful`, `Failed`, `Error`, `Inconclusive`.
    pub phase: String,
    /// Message (untrusted text).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The Rollout that started it, if any.
    pub rollout: Option<String>,
    /// Template names.
    pub templates: Vec<String>,
    /// Created.
    pub created: Option<String>,
}

/// The experiments.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentsListOutput {
    /// Experiments, newest first.
    pub experiments: Vec<ExperimentInfo>,
}

/// See the module docs.
pub struct ExperimentsList;

/// The Rollout an object belongs to (owner reference of kind Rollout).
pub fn owning_rollout(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|refs| refs.iter().find(|r| str_at(r, "/kind") == "Rollout"))
        .map(|r| str_at(r, "/name").to_string())
        .or_else(|| {
            obj.pointer("/metadata/labels")
                .and_then(|l| l.get("rollout.argoproj.io/name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

impl Tool for ExperimentsList {
    type Input = ExperimentsListInput;
    type Output = ExperimentsListOutput;
    const NAME: &'static str = "argo_experiments_list";
    const TITLE: &'static str = "Argo Rollouts: experiments";
    const DESCRIPTION: &'static str = "List Argo Rollouts Experiments (newest first) with their phase, message, templates and the Rollout that started them.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "read", "experiments"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ExperimentsListInput) -> Result<(), ToolError> {
        if let Some(ns) = &input.namespace {
            validate::namespace(ns)?;
        }
        if let Some(r) = &input.rollout {
            validate::object_name(r)?;
        }
        Ok(())
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: ExperimentsListInput,
    ) -> Result<Reply<ExperimentsListOutput>, ToolError> {
        let client = ctx.kube().await?;
        let items = list(ctx, &client, Kind::Experiment, input.namespace.as_deref(), &ListParams::default()).await?;
        let mut experiments: Vec<ExperimentInfo> = items
            .iter()
            .map(|e| ExperimentInfo {
                name: str_at(e, "/metadata/name").to_string(),
                namespace: str_at(e, "/metadata/namespace").to_string(),
                phase: e.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending").to_string(),
                message: untrusted_text(str_at(e, "/status/message")),
                rollout: owning_rollout(e),
                templates: e
                    .pointer("/spec/templates")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|t| str_at(t, "/name").to_string())
                    .collect(),
                created: e.pointer("/metadata/creationTimestamp").and_then(Value::as_str).map(str::to_string),
            })
            .filter(|e| input.rollout.as_ref().is_none_or(|r| e.rollout.as_ref() == Some(r)))
            .collect();
        experiments.sort_by(|a, b| b.created.cmp(&a.created));
        let summary = if experiments.is_empty() {
            "No experiments.".to_string()
        } else {
            let running = experiments.iter().filter(|e| e.phase == "Running").count();
            format!("{} experiments, {running} running.", experiments.len())
        };
        Ok(Reply::new(summary, ExperimentsListOutput { experiments }).untrusted())
    }
}
