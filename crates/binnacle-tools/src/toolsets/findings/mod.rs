//! The findings toolset: `find_issues` runs Binnacle's deterministic analyzers (`binnacle-findings`) over
//! one snapshot of the cluster and returns what is broken, with evidence, the likely cause and a proposed
//! next tool call. Cheaper and more precise than discovering the same by listing and reading objects.
//! `explain_finding` then gathers deeper evidence for one finding.

mod explain;

use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::{DynTool, Tool, erase};
use crate::validate;
use binnacle_findings::{Finding, FindingsError, Scope, Severity, Stats, analyzer_names};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The findings toolset.
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    vec![erase(FindIssues), erase(explain::ExplainFinding)]
}

/// A tool error for a failed analysis or read.
pub(crate) fn tool_error(e: FindingsError) -> ToolError {
    match e {
        FindingsError::List { kind, source } => match ToolError::from(source) {
            ToolError::Unavailable(msg) => ToolError::Unavailable(format!("listing {kind}: {msg}")),
            other => other,
        },
        FindingsError::Read { what, source } => match ToolError::from(source) {
            ToolError::Unavailable(msg) => ToolError::Unavailable(format!("reading {what}: {msg}")),
            other => other,
        },
        FindingsError::Unsupported(_) => ToolError::invalid(e.to_string()),
    }
}

/// Checks that an analyzer name is known.
pub(crate) fn check_analyzer(name: &str) -> Result<(), ToolError> {
    let names = analyzer_names();
    if names.contains(&name) {
        Ok(())
    } else {
        Err(ToolError::invalid(format!("unknown analyzer {name:?}; analyzers: {}", names.join(", "))))
    }
}

/// Arguments of `find_issues`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FindIssuesInput {
    /// Namespaces to check; default: all.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Least severity to report; default: info.
    pub min_severity: Option<Severity>,
    /// At most this many findings, most severe first (1-500, default 50).
    pub limit: Option<u32>,
    /// Only these analyzers (e.g. crash-loop); default: all.
    #[serde(default)]
    pub analyzers: Vec<String>,
    /// Only findings about these kinds (e.g. Deployment); default: all.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// What `find_issues` found.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindIssuesOutput {
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// How many matched before `limit`.
    pub total: usize,
    /// What the analysis cost.
    pub stats: Stats,
}

/// See the module docs.
pub struct FindIssues;

const DEFAULT_LIMIT: u32 = 50;

impl Tool for FindIssues {
    type Input = FindIssuesInput;
    type Output = FindIssuesOutput;
    const NAME: &'static str = "find_issues";
    const TITLE: &'static str = "Find issues";
    const DESCRIPTION: &'static str = "Find what is broken and why: pods, workloads, services, ingresses, quotas, nodes, PVCs, jobs, HPAs, PDBs, webhooks, Helm, Argo, Gateways. Start here.";
    const TOOLSET: Toolset = Toolset::Findings;
    const TAGS: &'static [&'static str] = &["diagnose", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &FindIssuesInput) -> Result<(), ToolError> {
        for ns in &input.namespaces {
            validate::namespace(ns)?;
        }
        if let Some(limit) = input.limit
            && !(1..=500).contains(&limit)
        {
            return Err(ToolError::invalid(format!("limit must be from 1 to 500, got {limit}")));
        }
        for a in &input.analyzers {
            check_analyzer(a)?;
        }
        for k in &input.kinds {
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ToolError::invalid(format!("kind {k:?} is not a kind name (e.g. Deployment)")));
            }
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: FindIssuesInput) -> Result<Reply<FindIssuesOutput>, ToolError> {
        let client = ctx.kube().await?;
        let report = binnacle_findings::find_issues(client, Scope::namespaces(input.namespaces.clone()))
            .await
            .map_err(tool_error)?;
        let least = input.min_severity.unwrap_or(Severity::Info);
        // Severity orders Critical < Warning < Info (most severe first).
        let mut findings: Vec<Finding> = report
            .findings
            .into_iter()
            .filter(|f| f.severity <= least)
            .filter(|f| input.analyzers.is_empty() || input.analyzers.contains(&f.analyzer))
            .filter(|f| input.kinds.is_empty() || input.kinds.iter().any(|k| k.eq_ignore_ascii_case(&f.kind)))
            .collect();
        let total = findings.len();
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        findings.truncate(limit);
        let critical = findings.iter().filter(|f| f.severity == Severity::Critical).count();
        let mut summary = match total {
            0 => format!("No issues found ({} list calls, {} ms).", report.stats.list_calls, report.stats.duration_ms),
            n => format!(
                "{n} issue(s), {critical} critical ({} list calls, {} ms):",
                report.stats.list_calls, report.stats.duration_ms
            ),
        };
        for f in findings.iter().take(5) {
            summary.push_str(&format!(
                "\n- {}/{}: {}",
                if f.namespace.is_empty() { "-" } else { f.namespace.as_str() },
                f.name,
                f.summary
            ));
        }
        if !report.stats.skipped.is_empty() {
            summary.push_str(&format!("\nNot read (their analyzers saw nothing): {}", report.stats.skipped.join("; ")));
        }
        let mut reply = Reply::new(summary, FindIssuesOutput { findings, total, stats: report.stats }).untrusted();
        if total > limit {
            reply = reply.omitted(format!("{} more finding(s): raise limit or narrow namespaces", total - limit));
        }
        Ok(reply)
    }
}
