//! The findings toolset: `find_issues` runs Binnacle's deterministic analyzers (`binnacle-findings`) over
//! one snapshot of the cluster and returns what is broken, with evidence, the likely cause and a proposed
//! next tool call. Cheaper and more precise than discovering the same by listing and reading objects.

use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::{DynTool, Tool, erase};
use crate::validate;
use binnacle_findings::{Finding, FindingsError, Scope, Severity, Stats};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The findings toolset.
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    vec![erase(FindIssues)]
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
    const DESCRIPTION: &'static str = "Find what is broken and why: crash loops, pull errors, OOM kills, pending pods, bad services, failed jobs, nodes, PVCs, HPAs, PDBs, rollouts. Start here.";
    const TOOLSET: Toolset = Toolset::Findings;
    const TAGS: &'static [&'static str] = &["diagnose", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &FindIssuesInput) -> Result<(), ToolError> {
        for ns in &input.namespaces {
            validate::namespace(ns)?;
        }
        if let Some(limit) = input.limit {
            if !(1..=500).contains(&limit) {
                return Err(ToolError::invalid(format!("limit must be from 1 to 500, got {limit}")));
            }
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: FindIssuesInput) -> Result<Reply<FindIssuesOutput>, ToolError> {
        let client = ctx.kube().await?;
        let report = binnacle_findings::find_issues(client, Scope { namespaces: input.namespaces.clone() }).await.map_err(|e| match e {
            FindingsError::List { kind, source } => match ToolError::from(source) {
                ToolError::Unavailable(msg) => ToolError::Unavailable(format!("listing {kind}: {msg}")),
                other => other,
            },
        })?;
        let least = input.min_severity.unwrap_or(Severity::Info);
        // Severity orders Critical < Warning < Info (most severe first).
        let mut findings: Vec<Finding> = report.findings.into_iter().filter(|f| f.severity <= least).collect();
        let total = findings.len();
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        findings.truncate(limit);
        let critical = findings.iter().filter(|f| f.severity == Severity::Critical).count();
        let mut summary = match total {
            0 => format!("No issues found ({} list calls, {} ms).", report.stats.list_calls, report.stats.duration_ms),
            n => format!("{n} issue(s), {critical} critical ({} list calls, {} ms):", report.stats.list_calls, report.stats.duration_ms),
        };
        for f in findings.iter().take(5) {
            summary.push_str(&format!("\n- {}/{}: {}", if f.namespace.is_empty() { "-" } else { f.namespace.as_str() }, f.name, f.summary));
        }
        let mut reply = Reply::new(summary, FindIssuesOutput { findings, total, stats: report.stats }).untrusted();
        if total > limit {
            reply = reply.omitted(format!("{} more finding(s): raise limit or narrow namespaces", total - limit));
        }
        Ok(reply)
    }
}
