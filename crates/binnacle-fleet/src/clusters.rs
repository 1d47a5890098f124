//! The clusters: one per kubeconfig context (plus ready clients handed in), re-read when the files change,
//! and their health.

use crate::cache::{self, Answer};
use crate::category::Topic;
use crate::{Fleet, FleetError, Inner};
use binnacle_tools::kubeconfig;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

/// One cluster: its name, where it is, its client and its most recent error.
pub(crate) struct ClusterHandle {
    pub name: String,
    pub server: Option<String>,
    /// Bumped when the context changes: cached answers of older generations are not used.
    pub generation: u64,
    fingerprint: Option<u64>,
    fixed: bool,
    /// The client, or why none could be built (a broken context is a cluster that fails, not a reload error).
    pub client: Result<kube::Client, String>,
    last_error: Mutex<Option<(String, jiff::Timestamp)>>,
}

impl ClusterHandle {
    pub fn record_error(&self, error: &str) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some((error.to_string(), jiff::Timestamp::now()));
    }

    pub fn record_ok(&self) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn last_error(&self) -> Option<(String, jiff::Timestamp)> {
        self.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    map: RwLock<BTreeMap<String, Arc<ClusterHandle>>>,
    generation: AtomicU64,
    reloading: tokio::sync::Mutex<()>,
    reload_error: Mutex<Option<String>>,
}

impl Registry {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<ClusterHandle>>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<ClusterHandle>>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn names(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<ClusterHandle>> {
        self.read().get(name).cloned()
    }

    /// Whether the handle is still the cluster's current one.
    pub fn is_current(&self, handle: &ClusterHandle) -> bool {
        self.read().get(&handle.name).is_some_and(|h| h.generation == handle.generation)
    }

    pub fn insert_fixed(&self, name: &str, client: kube::Client) {
        let handle = ClusterHandle {
            name: name.to_string(),
            server: None,
            generation: self.next_generation(),
            fingerprint: None,
            fixed: true,
            client: Ok(client),
            last_error: Mutex::new(None),
        };
        self.write().insert(name.to_string(), Arc::new(handle));
    }
}

/// What a reload changed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadReport {
    /// Contexts that are new.
    pub added: Vec<String>,
    /// Contexts that are gone.
    pub removed: Vec<String>,
    /// Contexts whose cluster, user or namespace changed.
    pub changed: Vec<String>,
    /// Every cluster now.
    pub clusters: Vec<String>,
    /// The kubeconfig files read (missing ones are skipped).
    pub files: Vec<String>,
}

pub(crate) async fn reload(inner: &Inner) -> Result<ReloadReport, FleetError> {
    let _one_at_a_time = inner.clusters.reloading.lock().await;
    let paths = inner.config.kubeconfigs.clone();
    let merged = tokio::task::spawn_blocking({
        let paths = paths.clone();
        move || kubeconfig::read_merged(&paths)
    })
    .await
    .map_err(|e| FleetError::Kubeconfig(format!("reading the kubeconfig failed: {e}")))?;
    let kc = match merged {
        Ok(kc) => kc,
        Err(e) => {
            let message = e.to_string();
            *inner.clusters.reload_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
            return Err(FleetError::Kubeconfig(message));
        }
    };
    *inner.clusters.reload_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
    let wanted = kubeconfig::context_names(&kc);
    let current: BTreeMap<String, Arc<ClusterHandle>> = inner.clusters.read().clone();
    let mut report = ReloadReport {
        files: paths.iter().filter(|p| p.exists()).map(|p| p.display().to_string()).collect(),
        ..ReloadReport::default()
    };
    let mut built = Vec::new();
    for name in &wanted {
        let fingerprint = kubeconfig::context_fingerprint(&kc, name);
        match current.get(name) {
            Some(h) if h.fixed => continue,
            Some(h) if h.fingerprint == fingerprint => continue,
            Some(_) => report.changed.push(name.clone()),
            None => report.added.push(name.clone()),
        }
        let client = kubeconfig::client_for(&kc, name).await.map_err(|e| e.to_string());
        built.push(ClusterHandle {
            name: name.clone(),
            server: kubeconfig::server_of(&kc, name),
            generation: inner.clusters.next_generation(),
            fingerprint,
            fixed: false,
            client,
            last_error: Mutex::new(None),
        });
    }
    {
        let mut map = inner.clusters.write();
        map.retain(|name, h| {
            let keep = h.fixed || wanted.contains(name);
            if !keep {
                report.removed.push(name.clone());
            }
            keep
        });
        for h in built {
            map.insert(h.name.clone(), Arc::new(h));
        }
        report.clusters = map.keys().cloned().collect();
    }
    Ok(report)
}

/// What the watcher compares: each file's contents (or its absence).
pub(crate) fn stamp(paths: &[PathBuf]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in paths {
        p.hash(&mut h);
        std::fs::read(p).ok().hash(&mut h);
    }
    h.finish()
}

/// Polls the kubeconfig files every `every` and reloads when they change; stops with the fleet.
/// `last` is the files' [`stamp`] taken before the fleet first read them.
pub(crate) fn spawn_watcher(inner: Weak<Inner>, every: Duration, mut last: u64) {
    tokio::spawn(async move {
        let Some(paths) = inner.upgrade().map(|i| i.config.kubeconfigs.clone()) else { return };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(strong) = inner.upgrade() else { return };
            let now = tokio::task::spawn_blocking({
                let paths = paths.clone();
                move || stamp(&paths)
            })
            .await
            .unwrap_or(last);
            if now == last {
                continue;
            }
            last = now;
            let fleet = Fleet(strong);
            if let Err(e) = fleet.reload().await {
                tracing::warn!(error = %e, "the kubeconfig changed but cannot be read; the fleet keeps its clusters");
            }
        }
    });
}

/// One cluster and its health.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// The context name.
    pub name: String,
    /// The API server URL (never credentials); `None` for in-process clusters.
    pub server: Option<String>,
    /// Whether the latest health probe got an answer.
    pub reachable: bool,
    /// The Kubernetes version (`/version` gitVersion), from the latest good probe.
    pub version: Option<String>,
    /// Nodes, from the latest good probe.
    pub nodes: Option<u64>,
    /// Pods, from the latest good probe.
    pub pods: Option<u64>,
    /// How long `/version` took, in milliseconds, in the latest good probe.
    pub latency_ms: Option<u64>,
    /// When the latest good probe ran (RFC 3339).
    pub checked_at: Option<String>,
    /// Whether the health shown is older than its TTL (a new probe is running).
    pub stale: bool,
    /// The most recent error of any read of this cluster, cleared by a good read.
    pub last_error: Option<String>,
    /// When that error happened.
    pub last_error_at: Option<String>,
}

pub(crate) async fn health_of_all(fleet: &Fleet) -> Vec<ClusterInfo> {
    let inner = &fleet.0;
    let handles: Vec<Arc<ClusterHandle>> = inner.clusters.read().values().cloned().collect();
    let wait = inner.config.timeout;
    let probes = handles.iter().map(|h| async move {
        let answer = cache::answer(inner, h, Topic::Health, wait).await;
        info_of(h, answer)
    });
    futures::future::join_all(probes).await
}

fn info_of(h: &ClusterHandle, answer: Answer) -> ClusterInfo {
    let mut info = ClusterInfo {
        name: h.name.clone(),
        server: h.server.clone(),
        reachable: false,
        version: None,
        nodes: None,
        pods: None,
        latency_ms: None,
        checked_at: None,
        stale: false,
        last_error: None,
        last_error_at: None,
    };
    let (cached, reachable) = match answer {
        Answer::Fresh(c) => (Some(c), true),
        Answer::Stale(c, error) => {
            info.stale = true;
            let ok = error.is_none();
            (Some(c), ok)
        }
        Answer::Failed(_) => (None, false),
        Answer::TimedOut(d) => {
            if h.last_error().is_none() {
                h.record_error(&format!("no answer within {} ms", d.as_millis()));
            }
            (None, false)
        }
    };
    info.reachable = reachable;
    if let Some(c) = cached {
        let e = &c.data.extra;
        info.version = e.get("version").and_then(|v| v.as_str()).map(str::to_string);
        info.nodes = e.get("nodes").and_then(|v| v.as_u64());
        info.pods = e.get("pods").and_then(|v| v.as_u64());
        info.latency_ms = e.get("latencyMs").and_then(|v| v.as_u64());
        info.checked_at = Some(c.wall.to_string());
    }
    if let Some((e, at)) = h.last_error() {
        info.last_error = Some(e);
        info.last_error_at = Some(at.to_string());
    }
    info
}

impl Fleet {
    /// The error of the latest kubeconfig reload, when it failed (the fleet kept its clusters).
    pub fn reload_error(&self) -> Option<String> {
        self.0.clusters.reload_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
