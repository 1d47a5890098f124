//! `explain_finding`: deeper evidence for one finding of `find_issues` — the object as `resource_describe`
//! sees it, plus the pods behind it with their events and the last log lines of failing containers, and the
//! related objects the finding depends on (`binnacle_findings::explain`).

use super::{check_analyzer, tool_error};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::{DynTool, Tool};
use crate::validate;
use binnacle_findings::explain::{DeepEvidence, Target, explainable_kind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

/// Arguments of `explain_finding`: the finding's analyzer and object, as `find_issues` reported them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExplainFindingInput {
    /// The finding's analyzer (e.g. crash-loop).
    pub analyzer: String,
    /// The finding's kind (e.g. Deployment).
    pub kind: String,
    /// The finding's namespace; omit for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The finding's name.
    pub name: String,
}

/// What `explain_finding` gathered.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExplainFindingOutput {
    /// Kind namespace/name.
    pub object: String,
    /// The analyzer.
    pub analyzer: String,
    /// The object as `resource_describe` shows it (status, conditions, events, related objects); absent for Helm
    /// releases and objects that no longer exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub describe: Option<Value>,
    /// Pods, their events, last log lines, and related objects.
    #[serde(flatten)]
    pub evidence: DeepEvidence,
}

/// See the module docs.
pub struct ExplainFinding;

/// `resource_describe`, built once.
fn describe_tool() -> Option<Arc<dyn DynTool>> {
    static TOOL: OnceLock<Option<Arc<dyn DynTool>>> = OnceLock::new();
    TOOL.get_or_init(|| crate::toolsets::kubernetes::tools().into_iter().find(|t| t.spec().name == "resource_describe"))
        .clone()
}

impl Tool for ExplainFinding {
    type Input = ExplainFindingInput;
    type Output = ExplainFindingOutput;
    const NAME: &'static str = "explain_finding";
    const TITLE: &'static str = "Explain a finding";
    const DESCRIPTION: &'static str =
        "Deeper evidence for one find_issues finding: object state, events, failing pods' logs, related objects.";
    const TOOLSET: Toolset = Toolset::Findings;
    const TAGS: &'static [&'static str] = &["diagnose", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ExplainFindingInput) -> Result<(), ToolError> {
        check_analyzer(&input.analyzer)?;
        if explainable_kind(&input.kind).is_none() {
            return Err(ToolError::invalid(format!(
                "cannot explain objects of kind {:?}; kinds: {}",
                input.kind,
                binnacle_findings::explain::EXPLAINABLE_KINDS.join(", ")
            )));
        }
        if let Some(ns) = &input.namespace {
            validate::namespace(ns)?;
        }
        validate::object_name(&input.name)
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: ExplainFindingInput,
    ) -> Result<Reply<ExplainFindingOutput>, ToolError> {
        let kind = explainable_kind(&input.kind).unwrap_or_default();
        let namespace = input.namespace.clone().unwrap_or_default();
        let object = if namespace.is_empty() {
            format!("{kind} {}", input.name)
        } else {
            format!("{kind} {namespace}/{}", input.name)
        };
        // The describe-style state, within half of the output budget.
        let mut describe = None;
        let mut describe_summary = String::new();
        if kind != "HelmRelease"
            && let Some(tool) = describe_tool()
        {
            let mut args =
                json!({"kind": kind, "name": input.name, "budgetTokens": (ctx.budget_tokens() / 2).max(256)});
            if !namespace.is_empty() {
                args["namespace"] = json!(namespace);
            }
            if let Some(context) = ctx.context_name() {
                args["context"] = json!(context);
            }
            match tool.call(ctx, args).await {
                Ok(out) => {
                    describe_summary = out.summary.lines().next().unwrap_or_default().to_string();
                    describe = Some(out.structured);
                }
                Err(ToolError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let client = ctx.kube().await?;
        let target =
            Target { analyzer: input.analyzer.clone(), kind: kind.to_string(), namespace, name: input.name.clone() };
        let evidence = binnacle_findings::explain(client, &target).await.map_err(tool_error)?;
        let mut summary = format!("{object} ({})", input.analyzer);
        if !evidence.found {
            summary.push_str(": does not exist (any more).");
        } else {
            if !describe_summary.is_empty() {
                summary.push_str(&format!(": {describe_summary}"));
            }
            if !evidence.pods.is_empty() {
                summary.push_str(&format!("\nPods: {}", evidence.pods[0]));
                if evidence.pods.len() > 1 {
                    summary.push_str(&format!(" (+{} more)", evidence.pods.len() - 1));
                }
            }
            if let Some(line) = evidence.logs.iter().find_map(|l| l.lines.last()) {
                summary.push_str(&format!("\nLast log line: {line}"));
            }
            for line in evidence.related.iter().take(3) {
                summary.push_str(&format!("\n{line}"));
            }
        }
        Ok(Reply::new(summary, ExplainFindingOutput { object, analyzer: input.analyzer, describe, evidence })
            .untrusted())
    }
}
