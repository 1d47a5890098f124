//! Binnacle's findings: one consistent read of a cluster ([`Snapshot`]) and a set of analyzers that turn it
//! into [`Finding`]s — what is wrong, the evidence, the likely cause and a proposed (never applied) next step.

pub mod analyzers;
pub mod explain;
pub mod finding;
mod kinds;
mod parse;
pub mod snapshot;

pub use analyzers::{Analyzer, all_analyzers, analyzer_names};
pub use explain::{DeepEvidence, LogExcerpt, Target, explain};
pub use finding::{EventEvidence, Evidence, Finding, ProposedCall, Severity};
pub use snapshot::{PAGE_SIZE, Scope, Snapshot};

use serde::Serialize;
use std::time::Instant;

/// Allocation-free JSON pointer lookups (`serde_json::Value::pointer` allocates for every segment, which
/// shows when analyzers walk thousands of pods).
pub(crate) trait At {
    /// The value at an RFC 6901 pointer (`/status/conditions`).
    fn at(&self, pointer: &str) -> Option<&serde_json::Value>;
}

impl At for serde_json::Value {
    fn at(&self, pointer: &str) -> Option<&serde_json::Value> {
        binnacle_objects::pointer::get(self, pointer)
    }
}

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
    /// A read [`explain`] depends on failed.
    #[error("reading {what} failed: {source}")]
    Read {
        /// What was being read.
        what: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// [`explain`] does not know the kind.
    #[error("cannot explain objects of kind {0:?}; kinds: {kinds}", kinds = explain::EXPLAINABLE_KINDS.join(", "))]
    Unsupported(String),
}

/// Counters for one run of [`find_issues`].
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// List calls made against the API server (one per page).
    pub list_calls: u32,
    /// Log reads made (previous containers of crash-looping pods).
    pub log_calls: u32,
    /// Wall time of the whole run, in milliseconds.
    pub duration_ms: u64,
    /// Kinds that could not be read (e.g. `secrets: forbidden`): their analyzers saw nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
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
        skipped: snap.skipped.clone(),
    };
    tracing::debug!(
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
    // A workload already explained by another finding (a pod-level cause, a failed create) is not reported
    // again as "unavailable".
    let workload = |f: &Finding| analyzers::WORKLOAD_ANALYZERS.contains(&f.analyzer.as_str());
    let explained: std::collections::HashSet<(String, String, String)> = findings
        .iter()
        .filter(|f| !workload(f))
        .map(|f| (f.kind.clone(), f.namespace.clone(), f.name.clone()))
        .collect();
    findings.retain(|f| !workload(f) || !explained.contains(&(f.kind.clone(), f.namespace.clone(), f.name.clone())));
    findings.sort_by(|a, b| {
        (a.severity, &a.namespace, &a.name, &a.analyzer).cmp(&(b.severity, &b.namespace, &b.name, &b.analyzer))
    });
    findings
}
