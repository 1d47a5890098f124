//! Binnacle's findings: one consistent read of a cluster ([`Snapshot`]) and a set of analyzers that turn it
//! into [`Finding`]s — what is wrong, the evidence, the likely cause and a proposed (never applied) next step.

pub mod analyzers;
pub mod finding;
pub mod snapshot;

pub use analyzers::{Analyzer, all_analyzers};
pub use finding::{EventEvidence, Evidence, Finding, ProposedCall, Severity};
pub use snapshot::{Scope, Snapshot};

use serde::Serialize;
use std::time::Instant;

/// Why [`find_issues`] could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum FindingsError {
    /// A list call the analysis depends on failed.
    #[error("listing {kind} failed: {source}")]
    List {
        /// The kind being listed.
        kind: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
}

/// Counters for one run of [`find_issues`].
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// List calls made against the API server.
    pub list_calls: u32,
    /// Log reads made (previous containers of crash-looping pods).
    pub log_calls: u32,
    /// Wall time of the whole run, in milliseconds.
    pub duration_ms: u64,
}

/// The result of [`find_issues`]: findings sorted by severity, then namespace and name.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// What is wrong, most severe first.
    pub findings: Vec<Finding>,
    /// How much the run cost.
    pub stats: Stats,
}

/// Reads the cluster once (optionally scoped to namespaces), runs every analyzer and returns the sorted findings.
pub async fn find_issues(client: kube::Client, scope: Scope) -> Result<Report, FindingsError> {
    let started = Instant::now();
    let snap = Snapshot::read(client, &scope).await?;
    let mut findings = analyze(&snap);
    findings.retain(|f| scope.includes(&f.namespace));
    let stats = Stats {
        list_calls: snap.list_calls,
        log_calls: snap.log_calls,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    tracing::info!(
        findings = findings.len(),
        list_calls = stats.list_calls,
        ms = stats.duration_ms,
        "find_issues done"
    );
    Ok(Report { findings, stats })
}

/// Runs every built-in analyzer over a snapshot and returns the sorted findings.
pub fn analyze(snap: &Snapshot) -> Vec<Finding> {
    let mut findings: Vec<Finding> = all_analyzers().iter().flat_map(|a| a.analyze(snap)).collect();
    // A Deployment already explained by a pod-level finding is not reported again as "unavailable".
    let explained: std::collections::HashSet<(String, String, String)> = findings
        .iter()
        .filter(|f| f.analyzer != "deployment-unavailable")
        .map(|f| (f.kind.clone(), f.namespace.clone(), f.name.clone()))
        .collect();
    findings.retain(|f| {
        f.analyzer != "deployment-unavailable"
            || !explained.contains(&(f.kind.clone(), f.namespace.clone(), f.name.clone()))
    });
    findings.sort_by(|a, b| {
        (a.severity, &a.namespace, &a.name, &a.analyzer).cmp(&(b.severity, &b.namespace, &b.name, &b.analyzer))
    });
    findings
}
