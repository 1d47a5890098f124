//! Binnacle's MCP gateway: discovers MCP servers from Kubernetes Services, keeps a registry of their tools
//! and health, and serves them all behind one Streamable HTTP endpoint, as a `Gateway` custom resource
//! (`binnacle.dev/v1alpha1`) says.
//!
//! ```text
//!  Gateway object ──watch──► status::watch_spec ──config──► discovery::run ◄── Services, EndpointSlices,
//!        ▲                        (checks the spec)            (reflectors)       Namespaces (watches)
//!        │ status, Events                                         │ upstream specs
//!  status::write_status ◄──snapshot── registry::run ◄─────────────┘
//!  status::record_events ◄─transitions─┘   │ one upstream::Upstream per service (rmcp client, probes)
//!                                          ▼
//!                         server::GatewayServer (rmcp ServerHandler) ◄── http::router (/mcp, /mcp/ns/svc,
//!                                                                         /healthz, /readyz, /metrics)
//! ```
//!
//! - [`crd`]: the `Gateway` types and the generated CustomResourceDefinition.
//! - [`config`]: a spec checked into what the gateway runs with, or a `Ready=False` reason and message.
//! - [`discovery`]: which Services are MCP servers and where their ready endpoints are.
//! - [`upstream`]: one rmcp client per upstream, its tools, health probes with back-off, call forwarding.
//! - [`registry`]: the upstreams and the snapshot clients are served from (prefixes, policy, routes).
//! - [`policy`]: allow and deny patterns, read-only mode.
//! - [`server`]: the MCP handler (aggregated or one upstream), progress, cancellation, `list_changed`.
//! - [`http`]: the HTTP routes and the request guard.
//! - [`status`]: the Gateway's status and Events.
//!
//! [`Gateway::start`] wires these together for one `Gateway` object; the caller serves [`Gateway::server`]
//! with [`http::serve`].

pub mod audit;
pub mod auth;
pub mod config;
pub mod crd;
pub mod discovery;
pub mod http;
pub mod metrics;
pub mod policy;
pub mod registry;
pub mod server;
pub mod status;
pub mod upstream;

pub use crd::{Gateway as GatewayResource, GatewaySpec, GatewayStatus, crd_yaml};
pub use discovery::ServiceKey;
pub use http::{HttpOptions, router, serve};
pub use registry::Snapshot;
pub use server::GatewayServer;
pub use upstream::UpstreamOptions;

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How a gateway runs.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Probing, listing and back-off of upstreams.
    pub upstream: UpstreamOptions,
    /// The MCP URL written to `status.address` (e.g. `http://10.0.0.5:8080/mcp`).
    pub address: Option<String>,
    /// This instance's name on Events (e.g. the pod name).
    pub instance: Option<String>,
    /// How often the spec is re-checked without changes (a TLS Secret created later is noticed).
    pub resync: Duration,
    /// Write status and Events (off: only serve).
    pub write_status: bool,
    /// How often the auth Secret is re-read (a rotated or revoked key takes effect within it).
    pub auth_refresh: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            upstream: UpstreamOptions::default(),
            address: None,
            instance: None,
            resync: Duration::from_secs(30),
            write_status: true,
            auth_refresh: Duration::from_secs(2),
        }
    }
}

/// A running gateway for one `Gateway` object. Dropping it stops its tasks.
#[derive(Debug)]
pub struct Gateway {
    server: GatewayServer,
    snapshot: watch::Receiver<Arc<Snapshot>>,
    config: watch::Receiver<Option<Arc<config::GatewayConfig>>>,
    shutdown: CancellationToken,
    auth: auth::Authenticator,
    /// The tasks that write to the cluster (status, Events), awaited by [`Gateway::shutdown`].
    writers: Vec<tokio::task::JoinHandle<()>>,
}

impl Gateway {
    /// Starts watching the Gateway `namespace/name`, discovering its MCP services and connecting to them.
    /// Serve [`Gateway::server`] with [`http::serve`] or [`http::router`].
    pub fn start(client: kube::Client, namespace: &str, name: &str, options: GatewayOptions) -> Gateway {
        let shutdown = CancellationToken::new();
        let metrics = metrics::Metrics::default();
        let (config_tx, config_rx) = watch::channel(None);
        let (observed_tx, observed_rx) = watch::channel(None);
        let (discovered_tx, discovered_rx) = watch::channel(discovery::Discovered::default());
        let recorder = status::recorder(client.clone(), options.instance.clone());
        let mut writers = Vec::new();
        writers.push(tokio::spawn(status::watch_spec(
            client.clone(),
            namespace.to_string(),
            name.to_string(),
            config_tx,
            observed_tx,
            // Events only from the status writer (with `write_status: false`, the operator writes them).
            options.write_status.then(|| recorder.clone()),
            options.resync,
            shutdown.child_token(),
        )));
        tokio::spawn(discovery::run(client.clone(), config_rx.clone(), discovered_tx, shutdown.child_token()));
        let auth = auth::spawn(
            client.clone(),
            namespace.to_string(),
            config_rx.clone(),
            options.auth_refresh,
            shutdown.child_token(),
        );
        let (snapshot, transitions) =
            registry::spawn(discovered_rx, config_rx.clone(), options.upstream.clone(), shutdown.child_token());
        if options.write_status {
            writers.push(tokio::spawn(status::write_status(
                client,
                namespace.to_string(),
                name.to_string(),
                options.address.clone(),
                observed_rx.clone(),
                snapshot.clone(),
                metrics.clone(),
                shutdown.child_token(),
            )));
            writers.push(tokio::spawn(status::record_events(
                recorder,
                observed_rx,
                transitions,
                shutdown.child_token(),
            )));
        }
        let server = GatewayServer::new(snapshot.clone(), metrics);
        Gateway { server, snapshot, config: config_rx, shutdown, auth, writers }
    }

    /// The MCP handler (serve it with [`http::serve`]).
    pub fn server(&self) -> GatewayServer {
        self.server.clone()
    }

    /// Checks clients' credentials as the spec's `auth` says; put it in [`HttpOptions::auth`].
    pub fn authenticator(&self) -> auth::Authenticator {
        self.auth.clone()
    }

    /// What is served now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// Snapshot changes.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshot.clone()
    }

    /// The config in force (none until a valid spec was seen).
    pub fn config(&self) -> Option<Arc<config::GatewayConfig>> {
        self.config.borrow().clone()
    }

    /// Stops every task and upstream connection.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Stops every task and waits until those that write to the cluster have ended: after it returns, no
    /// status write or Event of this instance can land (a write in flight when it is called completes first).
    /// The operator uses it before starting a replacement for the same Gateway.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        for task in std::mem::take(&mut self.writers) {
            let _ = task.await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
