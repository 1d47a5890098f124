//! The operator's `/healthz`, `/readyz` and `/metrics` (`--metrics-listen`): whether this replica leads,
//! reconciles by controller and outcome, and the changes it made by kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Labels of a reconcile.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// `gateway` or `binnacle`.
    pub controller: String,
    /// `ok` or `error`.
    pub outcome: String,
}

/// Labels of a change the operator made.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChangeLabels {
    /// The object's kind (`Deployment`, `ClusterRoleBinding`, …).
    pub kind: String,
    /// `created`, `updated` or `deleted`.
    pub change: String,
}

/// The operator's metrics. Cheap to clone; every clone updates the same series.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// 1 while this replica holds the Lease.
    pub leader: Gauge,
    /// Reconciles by controller and outcome.
    pub reconciles: Family<ReconcileLabels, Counter>,
    /// Objects created, updated or deleted, by kind.
    pub changes: Family<ChangeLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("binnacle_operator");
        let leader = Gauge::default();
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let changes = Family::<ChangeLabels, Counter>::default();
        registry.register("leader", "1 while this replica holds the leader-election Lease", leader.clone());
        registry.register("reconciles", "Reconciles by controller and outcome", reconciles.clone());
        registry.register("changes", "Objects the operator created, updated or deleted, by kind", changes.clone());
        Metrics { registry: Arc::new(registry), leader, reconciles, changes }
    }
}

impl Metrics {
    /// Counts one reconcile.
    pub fn reconciled(&self, controller: &str, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.reconciles
            .get_or_create(&ReconcileLabels { controller: controller.into(), outcome: outcome.into() })
            .inc();
    }

    /// Counts one change.
    pub fn changed(&self, kind: &str, change: &str) {
        self.changes.get_or_create(&ChangeLabels { kind: kind.into(), change: change.into() }).inc();
    }

    /// The OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

/// The router of `/healthz` (200 while the process runs), `/readyz` (200: a follower is a ready stand-by)
/// and `/metrics`.
pub fn router(metrics: Metrics) -> axum::Router {
    use axum::routing::get;
    axum::Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(|| async { "ok" })).route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
                    metrics.encode(),
                )
            }
        }),
    )
}
