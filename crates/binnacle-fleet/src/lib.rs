//! Binnacle's fleet: every kubeconfig context is a cluster, and a category query (pods, workloads, nodes,
//! events, Helm releases, operators, GPU nodes, findings) runs against all of them at once.
//!
//! * **Clusters** come from kubeconfig files (one, or a `KUBECONFIG`-style list merged as kubectl does) and
//!   from clients handed in directly (in-process simulated clusters). The files are re-read when they change
//!   (polled) or on [`Fleet::reload`]: contexts added, removed or changed while running take effect at once.
//! * **Fan-out** ([`Fleet::stream`], [`Fleet::query`]): one task per cluster, at most
//!   [`FleetConfig::concurrency`] cluster reads at a time, and a per-cluster wait of
//!   [`FleetConfig::timeout`]: a slow or dead cluster is reported as timed out or failed and never holds the
//!   others back. Results stream in the order clusters answer, then a [`Summary`] names what failed and why.
//! * **Cache** per (cluster, category) with the category's TTL: fresh answers are served directly; stale
//!   ones at once, marked `stale` with their age, while one revalidation per key runs in the background; a
//!   failed revalidation keeps the last good answer (still marked stale, with the error). A read that does
//!   not finish within the wait goes on in the background (up to [`FleetConfig::fetch_timeout`]) and fills
//!   the cache for the next query.

mod cache;
pub mod category;
mod clusters;
mod fanout;
pub mod queries;

pub use category::Category;
pub use clusters::{ClusterInfo, ReloadReport};
pub use fanout::{ClusterResult, Failure, FleetEvent, FleetResponse, ResultStatus, Summary};
pub use queries::CategoryData;

use category::Topic;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Why a fleet request was refused. Per-cluster failures are not errors: they are part of the answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FleetError {
    /// The category does not exist.
    #[error("unknown fleet category {0:?}; categories: {names}", names = Category::names().join(", "))]
    UnknownCategory(String),
    /// A cluster filter names a context the fleet does not have.
    #[error(
        "unknown cluster {name:?} in the cluster filter; clusters: {known:?} (POST /api/v1/fleet/clusters/reload re-reads the kubeconfig)"
    )]
    UnknownCluster {
        /// The unknown name.
        name: String,
        /// The clusters there are.
        known: Vec<String>,
    },
    /// A kubeconfig file could not be read; nothing was changed.
    #[error("{0}")]
    Kubeconfig(String),
    /// A setting is out of range.
    #[error("{0}")]
    Config(String),
}

/// How the fleet reads clusters.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// Kubeconfig files, merged in order (first wins, as with `KUBECONFIG`); missing files are skipped.
    /// Empty: only clusters added with [`Fleet::add_client`].
    pub kubeconfigs: Vec<PathBuf>,
    /// How long a query waits for one cluster before reporting it as timed out.
    pub timeout: Duration,
    /// How long a background read of one cluster may run before it is abandoned (it keeps filling the cache
    /// after the query that started it stopped waiting).
    pub fetch_timeout: Duration,
    /// The most cluster reads running at once.
    pub concurrency: usize,
    /// The most items kept per (cluster, category); queries ask for at most this many.
    pub max_items: usize,
    /// How long each category's answers stay fresh (categories not listed: [`Category::default_ttl`]).
    pub ttls: BTreeMap<Category, Duration>,
    /// How long a cluster's health probe stays fresh.
    pub health_ttl: Duration,
    /// How often the kubeconfig files are checked for changes (`None`: only on [`Fleet::reload`]).
    pub watch_interval: Option<Duration>,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self {
            kubeconfigs: Vec::new(),
            timeout: Duration::from_secs(5),
            fetch_timeout: Duration::from_secs(60),
            concurrency: 16,
            max_items: 500,
            ttls: BTreeMap::new(),
            health_ttl: Duration::from_secs(15),
            watch_interval: Some(Duration::from_secs(2)),
        }
    }
}

impl FleetConfig {
    /// The TTL of a category's cached answers.
    pub fn ttl(&self, category: Category) -> Duration {
        self.ttls.get(&category).copied().unwrap_or_else(|| category.default_ttl())
    }

    /// The same settings with one category's TTL changed.
    pub fn with_ttl(mut self, category: Category, ttl: Duration) -> Self {
        self.ttls.insert(category, ttl);
        self
    }

    fn ttl_of(&self, topic: Topic) -> Duration {
        match topic {
            Topic::Health => self.health_ttl,
            Topic::Category(c) => self.ttl(c),
        }
    }

    fn check(&self) -> Result<(), FleetError> {
        if self.timeout.is_zero() || self.fetch_timeout.is_zero() {
            return Err(FleetError::Config("the fleet timeouts must be greater than zero".into()));
        }
        if self.concurrency == 0 || self.max_items == 0 {
            return Err(FleetError::Config("the fleet's concurrency and item limit must be at least 1".into()));
        }
        Ok(())
    }
}

pub(crate) struct Inner {
    config: FleetConfig,
    clusters: clusters::Registry,
    cache: cache::Cache,
    permits: Arc<tokio::sync::Semaphore>,
}

/// The fleet of clusters. Cheap to clone; background work (revalidation, the kubeconfig watcher) stops
/// when the last clone is dropped.
#[derive(Clone)]
pub struct Fleet(Arc<Inner>);

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet").field("clusters", &self.names()).finish()
    }
}

impl Fleet {
    /// Reads the kubeconfig files and starts watching them (when `watch_interval` is set). A file that
    /// exists but cannot be parsed leaves the fleet without kubeconfig clusters until it is fixed
    /// ([`Fleet::reload_error`] says why); only invalid settings are errors.
    pub async fn start(config: FleetConfig) -> Result<Fleet, FleetError> {
        config.check()?;
        let permits = Arc::new(tokio::sync::Semaphore::new(config.concurrency));
        let fleet = Fleet(Arc::new(Inner {
            config,
            clusters: clusters::Registry::default(),
            cache: cache::Cache::default(),
            permits,
        }));
        if fleet.0.config.kubeconfigs.is_empty() {
            return Ok(fleet);
        }
        // Taken before the first read, so that a change made meanwhile is seen by the watcher.
        let paths = fleet.0.config.kubeconfigs.clone();
        let stamp = tokio::task::spawn_blocking(move || clusters::stamp(&paths)).await.unwrap_or(0);
        // A kubeconfig that cannot be read leaves the fleet empty (with `reload_error`) rather than failing:
        // the watcher or a reload picks up the fixed file.
        if let Err(e) = fleet.reload().await {
            tracing::warn!(error = %e, "the fleet starts with no clusters from the kubeconfig");
        }
        if let Some(every) = fleet.0.config.watch_interval {
            clusters::spawn_watcher(Arc::downgrade(&fleet.0), every, stamp);
        }
        Ok(fleet)
    }

    /// The settings.
    pub fn config(&self) -> &FleetConfig {
        &self.0.config
    }

    /// Adds (or replaces) a cluster reached through a ready client (e.g. an in-process simulated cluster).
    /// Reloads never remove it.
    pub fn add_client(&self, name: &str, client: kube::Client) {
        self.0.clusters.insert_fixed(name, client);
        self.0.cache.forget(name);
    }

    /// The cluster names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.0.clusters.names()
    }

    /// Re-reads the kubeconfig files: new contexts become clusters, removed ones go (with their cached
    /// answers), changed ones get a new client. A file that cannot be read changes nothing.
    pub async fn reload(&self) -> Result<ReloadReport, FleetError> {
        let report = clusters::reload(&self.0).await?;
        for name in report.removed.iter().chain(report.changed.iter()) {
            self.0.cache.forget(name);
        }
        if !(report.added.is_empty() && report.removed.is_empty() && report.changed.is_empty()) {
            tracing::info!(added = ?report.added, removed = ?report.removed, changed = ?report.changed, "fleet clusters reloaded");
        }
        Ok(report)
    }

    /// Every cluster with its health (reachable, version, node and pod counts, latency, last error),
    /// probed in parallel; a cluster that does not answer within the timeout is reported as unreachable.
    pub async fn clusters(&self) -> Vec<ClusterInfo> {
        clusters::health_of_all(self).await
    }

    /// Checks a cluster filter: `None` or empty means every cluster.
    pub fn resolve(&self, filter: Option<&[String]>) -> Result<Vec<String>, FleetError> {
        let known = self.names();
        match filter {
            None => Ok(known),
            Some([]) => Ok(known),
            Some(f) => {
                let mut out = Vec::new();
                for name in f {
                    if !known.contains(name) {
                        return Err(FleetError::UnknownCluster { name: name.clone(), known });
                    }
                    if !out.contains(name) {
                        out.push(name.clone());
                    }
                }
                Ok(out)
            }
        }
    }

    /// Fans a category out to the clusters (all, or those named): one [`FleetEvent::Cluster`] per cluster in
    /// the order they answer, then one [`FleetEvent::Summary`]; `limit` caps the items per cluster.
    pub fn stream(
        &self,
        category: Category,
        clusters: Option<&[String]>,
        limit: usize,
    ) -> Result<impl futures::Stream<Item = FleetEvent> + Send + use<>, FleetError> {
        let names = self.resolve(clusters)?;
        Ok(fanout::stream(self.clone(), category, names, limit.clamp(1, self.0.config.max_items)))
    }

    /// The same fan-out collected into one answer (results sorted by cluster name).
    pub async fn query(
        &self,
        category: Category,
        clusters: Option<&[String]>,
        limit: usize,
    ) -> Result<FleetResponse, FleetError> {
        use futures::StreamExt;
        let events: Vec<FleetEvent> = self.stream(category, clusters, limit)?.collect().await;
        Ok(FleetResponse::from_events(category, events))
    }
}
