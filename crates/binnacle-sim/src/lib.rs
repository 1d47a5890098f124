//! An in-process, Kubernetes-API-compatible simulated cluster.
//!
//! The API is an axum [`Router`](axum::Router) (a `tower::Service`), so kube-rs can use it without a socket
//! (`kube::Client::new(sim.router(), "default")`) and the real `kubectl` can use it over a loopback
//! listener ([`SimCluster::serve`]). Simulated controllers (scheduler, kubelet, Deployment, ReplicaSet,
//! StatefulSet, DaemonSet, Job, CronJob, endpoints, garbage collector, namespaces, Argo Rollouts) make
//! objects behave as in a cluster.
//!
//! ```no_run
//! # async fn demo() -> Result<(), binnacle_sim::SimError> {
//! use binnacle_sim::{Scenario, SimCluster, SimOptions};
//! let sim = SimCluster::start(SimOptions { scenario: Scenario::Demo, ..SimOptions::default() }).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = sim.serve(listener)?;
//! println!("kubectl --server http://{addr} get pods -A");
//! # Ok(()) }
//! ```

// `ApiError` carries a Kubernetes `Status` (message, details, field causes): it is large, but it only travels
// on the error path of a request, where its size costs nothing measurable.
#![allow(clippy::result_large_err)]

pub mod admission;
pub mod authz;
pub mod behavior;
pub mod clock;
pub mod cluster;
pub mod controllers;
pub mod convert;
pub mod defaults;
pub mod error;
pub mod fields;
pub mod http;
pub mod jsonpatch;
pub mod kubeconfig;
pub mod persist;
pub mod registry;
pub mod scenario;
pub mod schema;
pub mod store;
pub mod validate;

pub use cluster::Cluster;
pub use scenario::Scenario;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// Why a simulated cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A scenario could not be loaded.
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    /// The state file could not be read or written.
    #[error(transparent)]
    State(#[from] persist::PersistError),
    /// Listening failed.
    #[error("could not serve the simulated cluster: {0}")]
    Io(#[from] std::io::Error),
}

/// How to start a simulated cluster.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The cluster's name (kubeconfig context).
    pub name: String,
    /// Objects to start with.
    pub scenario: Scenario,
    /// Clock speed (1.0 = real time).
    pub speed: f64,
    /// Seed for generated names, uids and addresses.
    pub seed: u64,
    /// Where objects are saved so that they survive a restart.
    pub state_file: Option<PathBuf>,
    /// Run the simulated controllers.
    pub controllers: bool,
    /// How many changes watches can replay; older resourceVersions get `410 Gone`.
    pub watch_history: usize,
    /// A delay added before every API response (a slow or far-away cluster); change it while running with
    /// [`SimCluster::set_latency`].
    pub latency: std::time::Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            name: "sim".into(),
            scenario: Scenario::Empty,
            speed: 1.0,
            seed: 42,
            state_file: None,
            controllers: true,
            watch_history: store::DEFAULT_HISTORY,
            latency: std::time::Duration::ZERO,
        }
    }
}

/// A running simulated cluster. Dropping it stops its controllers and watches.
#[derive(Debug)]
pub struct SimCluster {
    cluster: Arc<Cluster>,
    api: Arc<http::ApiState>,
    shutdown: watch::Sender<bool>,
    state_file: Option<PathBuf>,
    latency: Arc<std::sync::atomic::AtomicU64>,
}

impl SimCluster {
    /// Builds the cluster, loads its state file or scenario, and starts the controllers.
    pub async fn start(opts: SimOptions) -> Result<Self, SimError> {
        let clock = Arc::new(clock::Clock::new(opts.speed));
        let cluster = Arc::new(Cluster::with_history(&opts.name, clock, opts.seed, opts.watch_history));
        let restored = match &opts.state_file {
            Some(path) if path.exists() => {
                persist::load(&cluster, path)?;
                true
            }
            _ => false,
        };
        if !restored {
            scenario::load(&cluster, &opts.scenario)?;
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let api = http::ApiState::new(cluster.clone(), shutdown_rx.clone());
        if opts.controllers {
            tokio::spawn(controllers::run(cluster.clone(), shutdown_rx.clone()));
        }
        if let Some(path) = &opts.state_file {
            persist::save(&cluster, path)?;
            tokio::spawn(persist::autosave(cluster.clone(), path.clone(), shutdown_rx));
        }
        let latency = Arc::new(std::sync::atomic::AtomicU64::new(duration_micros(opts.latency)));
        Ok(Self { cluster, api, shutdown, state_file: opts.state_file, latency })
    }

    /// The API as a router / tower service (for `kube::Client::new`).
    pub fn router(&self) -> axum::Router {
        let latency = self.latency.clone();
        http::router(self.api.clone()).layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let delay = latency.load(std::sync::atomic::Ordering::Relaxed);
                async move {
                    if delay > 0 {
                        tokio::time::sleep(std::time::Duration::from_micros(delay)).await;
                    }
                    next.run(req).await
                }
            },
        ))
    }

    /// Delays every API response from now on by `latency` (zero: none), on every front door (listeners
    /// and in-process routers alike).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.latency.store(duration_micros(latency), std::sync::atomic::Ordering::Relaxed);
    }

    /// The delay added before every API response.
    pub fn latency(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.latency.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Serves the API on a listener in the background; returns the bound address.
    pub fn serve(&self, listener: tokio::net::TcpListener) -> Result<SocketAddr, SimError> {
        let addr = listener.local_addr()?;
        self.api.set_server_address(&addr.to_string());
        let router = self.router();
        let mut shutdown = self.shutdown.subscribe();
        tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            });
            if let Err(e) = served.await {
                tracing::error!(error = %e, "the simulated API server stopped");
            }
        });
        Ok(addr)
    }

    /// The cluster's API semantics and store.
    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// The requests served so far (most recent 2000), for tests.
    pub fn recorded_requests(&self) -> Vec<http::RecordedRequest> {
        self.api.recorded_requests()
    }

    /// Moves the simulated clock forward.
    pub fn advance(&self, d: std::time::Duration) {
        self.cluster.clock().advance(d);
    }

    /// Stops controllers, watches and listeners, and writes the state file.
    pub fn shutdown(&self) -> Result<(), SimError> {
        let _ = self.shutdown.send(true);
        if let Some(path) = &self.state_file {
            persist::save(&self.cluster, path)?;
        }
        Ok(())
    }
}

fn duration_micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
