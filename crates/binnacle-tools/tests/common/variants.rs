//! Fixture variants for the Helm, Argo and Jenkins tool tests: server settings, and a simulated cluster
//! served over TCP with a kubeconfig (for tools that drive external programs such as `helm`). Declared by
//! the test files that need it with `#[path = "common/variants.rs"] mod variants;`.

#![allow(dead_code)]

use crate::common::Fixture;
use binnacle_sim::kubeconfig::{Entry, render};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, ClusterSet, ToolContext};
use std::path::PathBuf;
use std::sync::Arc;

/// Like `common::fixture`, with server settings.
pub async fn fixture_with_settings(scenario: Scenario, settings: Settings) -> Fixture {
    let sim =
        SimCluster::start(SimOptions { scenario, speed: 10.0, ..SimOptions::default() }).await.expect("sim starts");
    let client = kube::Client::new(sim.router(), "default");
    let clusters = Arc::new(ClusterSet::from_client("sim", client));
    let ctx = ToolContext::new(clusters, Arc::new(settings));
    Fixture { sim, ctx, catalog: Catalog::builtin() }
}

/// A simulated cluster served on a loopback port, with a kubeconfig file whose context `sim` points at
/// it; the tool context reads that kubeconfig.
pub struct TcpFixture {
    /// The fixture (its context uses the kubeconfig).
    pub fixture: Fixture,
    /// The kubeconfig file.
    pub kubeconfig: PathBuf,
    /// Keeps the kubeconfig's directory alive.
    pub dir: tempfile::TempDir,
}

/// Starts a simulated cluster served over TCP, with settings.
pub async fn fixture_over_tcp(scenario: Scenario, settings: Settings) -> TcpFixture {
    let sim =
        SimCluster::start(SimOptions { scenario, speed: 10.0, ..SimOptions::default() }).await.expect("sim starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = sim.serve(listener).expect("serve");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, render(&[Entry { name: "sim".into(), server: format!("http://{addr}") }]))
        .expect("write kubeconfig");
    let clusters = Arc::new(ClusterSet::from_kubeconfig(Some(&kubeconfig), Some("sim")).expect("kubeconfig"));
    let ctx = ToolContext::new(clusters, Arc::new(settings));
    TcpFixture { fixture: Fixture { sim, ctx, catalog: Catalog::builtin() }, kubeconfig, dir }
}

/// A kube client straight to the fixture's simulated cluster (in process).
pub fn kube_client(f: &Fixture) -> kube::Client {
    kube::Client::new(f.sim.router(), "default")
}

/// Waits until `check` holds, polling every 100 ms, for at most `secs` seconds.
pub async fn eventually<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out after {secs} s waiting for: {what}");
}
