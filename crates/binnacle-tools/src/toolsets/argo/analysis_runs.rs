//! `argo_analysis_runs_list`: Argo AnalysisRuns with their phase and metric results.

use super::common::{Kind, list, str_at};
use super::experiments::owning_rollout;
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

/// Arguments of `argo_analysis_runs_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalysisRunsListInput {
    /// Namespace; default: every namespace.
    pub namespace: Option<String>,
    /// Only runs started by this Rollout.
    pub rollout: Option<String>,
}

/// One metric's result.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricResult {
    /// Metric name.
    pub name: String,
    /// Its phase.
    pub phase: String,
    /// Measurements taken.
    pub count: i64,
    /// Successful measurements.
    pub successful: i64,
    /// Failed measurements.
    pub failed: i64,
    /// Message (untrusted text).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// An analysis run.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunInfo {
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
    /// Metric results.
    pub metrics: Vec<MetricResult>,
    /// Created.
    pub created: Option<String>,
}

/// The runs.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunsListOutput {
    /// Runs: failed first, then newest first.
    pub analysis_runs: Vec<AnalysisRunInfo>,
}

/// See the module docs.
pub struct AnalysisRunsList;

impl Tool for AnalysisRunsList {
    type Input = AnalysisRunsListInput;
    type Output = AnalysisRunsListOutput;
    const NAME: &'static str = "argo_analysis_runs_list";
    const TITLE: &'static str = "Argo Rollouts: analysis runs";
    const DESCRIPTION: &'static str = "List Argo Rollouts AnalysisRuns (failed first, then newest) with their phase, message, per-metric results and the Rollout that started them, to see why a canary was aborted.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "read", "analysis"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &AnalysisRunsListInput) -> Result<(), ToolError> {
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
        input: AnalysisRunsListInput,
    ) -> Result<Reply<AnalysisRunsListOutput>, ToolError> {
        let client = ctx.kube().await?;
        let items = list(ctx, &client, Kind::AnalysisRun, input.namespace.as_deref(), &ListParams::default()).await?;
        let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
        let mut runs: Vec<AnalysisRunInfo> = items
            .iter()
            .map(|r| AnalysisRunInfo {
                name: str_at(r, "/metadata/name").to_string(),
                namespace: str_at(r, "/metadata/namespace").to_string(),
                phase: r.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending").to_string(),
                message: untrusted_text(str_at(r, "/status/message")),
                rollout: owning_rollout(r),
                metrics: r
                    .pointer("/status/metricResults")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|m| MetricResult {
                        name: str_at(m, "/name").to_string(),
                        phase: str_at(m, "/phase").to_string(),
                        count: num(m, "count"),
                        successful: num(m, "successful"),
                        failed: num(m, "failed"),
                        message: untrusted_text(str_at(m, "/message")),
                    })
                    .collect(),
                created: r.pointer("/metadata/creationTimestamp").and_then(Value::as_str).map(str::to_string),
            })
            .filter(|r| input.rollout.as_ref().is_none_or(|ro| r.rollout.as_ref() == Some(ro)))
            .collect();
        let bad = |p: &str| matches!(p, "Failed" | "Error" | "Inconclusive");
        runs.sort_by(|a, b| {
            (!bad(&a.phase), std::cmp::Reverse(&a.created)).cmp(&(!bad(&b.phase), std::cmp::Reverse(&b.created)))
        });
        let failed = runs.iter().filter(|r| bad(&r.phase)).count();
        let summary = if runs.is_empty() {
            "No analysis runs.".to_string()
        } else {
            format!("{} analysis runs, {failed} failed, errored or inconclusive.", runs.len())
        };
        Ok(Reply::new(summary, AnalysisRunsListOutput { analysis_runs: runs }).untrusted())
    }
}
