//! Shared fixtures: an operator replica running in process against a simulated cluster, and polling.

#![allow(dead_code, clippy::unwrap_used)]

use binnacle_gateway::UpstreamOptions;
use binnacle_operator::{LeaseOptions, OperatorOptions};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::json;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Logs to the test output when `RUST_LOG` is set.
pub fn logs() {
    if let Ok(filter) = std::env::var("RUST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}

/// Polls `f` until it returns `Some`, failing the test with `what` after `secs` seconds.
pub async fn eventually<T>(secs: u64, what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates a namespace.
pub async fn namespace(client: &Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    api.create(&PostParams::default(), &ns).await.unwrap();
}

/// The Lease namespace of the tests.
pub const LEASE_NS: &str = "binnacle-system";

/// Options of a test replica: fast election (2 s lease, 1.5 s renew deadline, 100 ms retry).
pub fn options(identity: &str) -> OperatorOptions {
    let mut o = OperatorOptions::new(identity);
    o.image = "ghcr.io/binnacle-dev/binnacle:test".into();
    o.lease_namespace = LEASE_NS.into();
    o.lease = LeaseOptions {
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(1500),
        retry: Duration::from_millis(100),
    };
    o.upstream = UpstreamOptions {
        probe_interval: Duration::from_millis(200),
        request_timeout: Duration::from_secs(2),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
        ..UpstreamOptions::default()
    };
    o
}

/// An operator replica running in process; stops (and releases its Lease) on [`Replica::stop`] or drop.
pub struct Replica {
    /// Its identity.
    pub identity: String,
    /// Whether it leads.
    pub leading: watch::Receiver<bool>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Replica {
    /// Starts a replica.
    pub fn start(client: Client, options: OperatorOptions) -> Replica {
        let identity = options.identity.clone();
        let (tx, leading) = watch::channel(false);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(binnacle_operator::run(client, options, tx, shutdown.clone()));
        Replica { identity, leading, shutdown, task: Some(task) }
    }

    /// Stops it: its controllers end and it releases the Lease; returns when done.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("the replica stops").unwrap();
        }
    }

    /// Waits until its leadership is `want`.
    pub async fn wait_leading(&mut self, want: bool, secs: u64) {
        let what = format!("{} leading = {want}", self.identity);
        tokio::time::timeout(Duration::from_secs(secs), self.leading.wait_for(|l| *l == want))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for: {what}"))
            .unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The Lease's holder.
pub async fn holder(client: &Client) -> Option<String> {
    let api: Api<Lease> = Api::namespaced(client.clone(), LEASE_NS);
    api.get_opt(binnacle_operator::LEASE_NAME).await.unwrap()?.spec?.holder_identity
}

/// Events on objects of `kind` in `ns`: (reason, note, reporting controller, reporting instance).
pub async fn events(client: &Client, ns: &str, kind: &str) -> Vec<(String, String, String, String)> {
    let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), ns);
    let list = api.list(&Default::default()).await.unwrap();
    list.items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some(kind))
        .map(|e| {
            (
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default(),
                e.reporting_controller.unwrap_or_default(),
                e.reporting_instance.unwrap_or_default(),
            )
        })
        .collect()
}
