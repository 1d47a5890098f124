//! Fan-out: one task per cluster, results in the order clusters answer, then a summary.

use crate::Fleet;
use crate::cache::{self, Answer};
use crate::category::{Category, Topic};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Instant;

/// How one cluster's answer came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResultStatus {
    /// Fresh data (within the TTL, or just read).
    Ok,
    /// Cached data older than its TTL (revalidating), or kept after a failed read (see `error`).
    Stale,
    /// No data: the read failed.
    Error,
    /// No data within the per-cluster timeout (the read goes on in the background and fills the cache).
    Timeout,
}

/// One cluster's answer to a fleet query.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResult {
    /// The cluster (kubeconfig context).
    pub cluster: String,
    /// The category asked.
    pub category: Category,
    /// How the answer came about.
    pub status: ResultStatus,
    /// True when the data is older than the category's TTL or kept after a failed read.
    pub stale: bool,
    /// The data's age in milliseconds.
    pub age_ms: Option<u64>,
    /// When the data was read (RFC 3339).
    pub fetched_at: Option<String>,
    /// How long this query waited for this cluster, in milliseconds.
    pub waited_ms: u64,
    /// The items, most interesting first, at most `limit`.
    pub items: Vec<Value>,
    /// How many items the cluster has.
    pub total: usize,
    /// True when `items` holds fewer than `total`.
    pub truncated: bool,
    /// The category's counters.
    pub counts: Map<String, Value>,
    /// Anything else the category reports.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub extra: Value,
    /// What went wrong (with `status` error or timeout, or stale data kept after a failed read).
    pub error: Option<String>,
}

/// A cluster that gave no data, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The cluster.
    pub cluster: String,
    /// `error` or `timeout`.
    pub reason: ResultStatus,
    /// What happened and what to check.
    pub message: String,
}

/// The end of a fan-out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The category asked.
    pub category: Category,
    /// Clusters asked.
    pub clusters: usize,
    /// Clusters that gave data (fresh or stale).
    pub answered: usize,
    /// Clusters whose data was stale.
    pub stale: Vec<String>,
    /// Clusters that gave no data, and why.
    pub failed: Vec<Failure>,
    /// Items over all clusters (before limits).
    pub total: usize,
    /// How long the whole fan-out took, in milliseconds.
    pub duration_ms: u64,
}

/// One event of a fan-out stream.
#[derive(Debug, Clone)]
pub enum FleetEvent {
    /// A cluster answered (or failed, or timed out).
    Cluster(Box<ClusterResult>),
    /// Every cluster is done.
    Summary(Summary),
}

/// A whole fan-out collected: results by cluster name, the failures, the summary.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetResponse {
    /// The category asked.
    pub category: Category,
    /// One result per cluster, sorted by cluster name.
    pub clusters: Vec<ClusterResult>,
    /// The clusters that gave no data, and why.
    pub errors: Vec<Failure>,
    /// Totals.
    pub summary: Summary,
}

impl FleetResponse {
    pub(crate) fn from_events(category: Category, events: Vec<FleetEvent>) -> Self {
        let mut clusters = Vec::new();
        let mut summary = None;
        for e in events {
            match e {
                FleetEvent::Cluster(r) => clusters.push(*r),
                FleetEvent::Summary(s) => summary = Some(s),
            }
        }
        clusters.sort_by(|a, b| a.cluster.cmp(&b.cluster));
        let summary = summary.unwrap_or_else(|| summarize(category, &clusters, 0));
        Self { category, errors: summary.failed.clone(), clusters, summary }
    }
}

fn summarize(category: Category, results: &[ClusterResult], duration_ms: u64) -> Summary {
    Summary {
        category,
        clusters: results.len(),
        answered: results.iter().filter(|r| matches!(r.status, ResultStatus::Ok | ResultStatus::Stale)).count(),
        stale: results.iter().filter(|r| r.stale).map(|r| r.cluster.clone()).collect(),
        failed: results
            .iter()
            .filter(|r| matches!(r.status, ResultStatus::Error | ResultStatus::Timeout))
            .map(|r| Failure {
                cluster: r.cluster.clone(),
                reason: r.status,
                message: r.error.clone().unwrap_or_default(),
            })
            .collect(),
        total: results.iter().map(|r| r.total).sum(),
        duration_ms,
    }
}

async fn one(fleet: &Fleet, category: Category, name: String, limit: usize) -> ClusterResult {
    let started = Instant::now();
    let inner = &fleet.0;
    let answer = match inner.clusters.get(&name) {
        Some(h) => cache::answer(inner, &h, Topic::Category(category), inner.config.timeout).await,
        None => Answer::Failed("the cluster was removed from the kubeconfig while the query ran".into()),
    };
    let waited_ms = started.elapsed().as_millis() as u64;
    let mut r = ClusterResult {
        cluster: name,
        category,
        status: ResultStatus::Ok,
        stale: false,
        age_ms: None,
        fetched_at: None,
        waited_ms,
        items: Vec::new(),
        total: 0,
        truncated: false,
        counts: Map::new(),
        extra: Value::Null,
        error: None,
    };
    let cached = match answer {
        Answer::Fresh(c) => c,
        Answer::Stale(c, error) => {
            r.status = ResultStatus::Stale;
            r.stale = true;
            r.error = error;
            c
        }
        Answer::Failed(e) => {
            r.status = ResultStatus::Error;
            r.error = Some(e);
            return r;
        }
        Answer::TimedOut(d) => {
            r.status = ResultStatus::Timeout;
            r.error = Some(format!(
                "no answer within {} ms (the per-cluster timeout); the read goes on and fills the cache for the next query",
                d.as_millis()
            ));
            return r;
        }
    };
    r.age_ms = Some(cached.at.elapsed().as_millis() as u64);
    r.fetched_at = Some(cached.wall.to_string());
    r.items = cached.data.items.iter().take(limit).cloned().collect();
    r.total = cached.data.total;
    r.truncated = r.items.len() < r.total;
    r.counts = cached.data.counts.clone();
    r.extra = cached.data.extra.clone();
    r
}

pub(crate) fn stream(
    fleet: Fleet,
    category: Category,
    names: Vec<String>,
    limit: usize,
) -> impl futures::Stream<Item = FleetEvent> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(names.len() + 1);
    tokio::spawn(async move {
        let started = Instant::now();
        let mut pending: FuturesUnordered<_> = names.into_iter().map(|n| one(&fleet, category, n, limit)).collect();
        let mut done = Vec::new();
        while let Some(r) = pending.next().await {
            // What the summary needs, without the items.
            let light = ClusterResult {
                cluster: r.cluster.clone(),
                error: r.error.clone(),
                items: Vec::new(),
                counts: Map::new(),
                extra: Value::Null,
                fetched_at: None,
                ..r
            };
            if tx.send(FleetEvent::Cluster(Box::new(r))).await.is_err() {
                // The client went away; reads already started go on and fill the cache.
                return;
            }
            done.push(light);
        }
        let summary = summarize(category, &done, started.elapsed().as_millis() as u64);
        if !summary.failed.is_empty() {
            tracing::info!(%category, failed = ?summary.failed.iter().map(|f| &f.cluster).collect::<Vec<_>>(), "fleet query: clusters without data");
        }
        let _ = tx.send(FleetEvent::Summary(summary)).await;
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
