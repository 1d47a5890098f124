//! `binnacle operator` and `binnacle crds` as a user runs them: the real binary against a simulated cluster
//! served on loopback through a kubeconfig.

#![allow(clippy::unwrap_used, missing_docs)]

use binnacle_sim::kubeconfig::{Entry, render};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use kube::api::PostParams;
use kube::{Api, Client};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_binnacle");

#[test]
fn crds_prints_every_committed_crd() {
    let out = Command::new(BIN).arg("crds").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds");
    let gateway = std::fs::read_to_string(root.join("gateway.yaml")).unwrap();
    let binnacle = std::fs::read_to_string(root.join("binnacle.yaml")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{gateway}---\n{binnacle}"));
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET over a tiny HTTP/1.1 client (the body; panics on a non-200 answer).
fn get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

async fn eventually<T>(secs: u64, what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_runs_the_data_plane_and_releases_the_lease_on_sigterm() {
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, ..SimOptions::default() }).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = sim.serve(listener).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, render(&[Entry { name: "sim".into(), server: format!("http://{addr}") }])).unwrap();
    let client = Client::new(sim.router(), "default");

    // A missing Lease namespace is a clear error.
    let out = Command::new(BIN)
        .args(["operator", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--leader-election-namespace", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the leader-election namespace \"nowhere\" does not exist: create it"), "{err}");

    let crds = String::from_utf8(Command::new(BIN).arg("crds").output().unwrap().stdout).unwrap();
    let api: Api<k8s_openapi_crd::CustomResourceDefinition> = Api::all(client.clone());
    for doc in crds.split("\n---\n") {
        let crd: k8s_openapi_crd::CustomResourceDefinition = serde_norway::from_str(doc).unwrap();
        api.create(&PostParams::default(), &crd).await.unwrap();
    }
    let namespaces: Api<k8s_openapi_crd::Namespace> = Api::all(client.clone());
    for ns in ["binnacle-system", "mcp"] {
        let ns: k8s_openapi_crd::Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).unwrap();
        namespaces.create(&PostParams::default(), &ns).await.unwrap();
    }
    let gateways: Api<binnacle_gateway::GatewayResource> = Api::namespaced(client.clone(), "mcp");
    eventually(10, "the Gateway CRD is served", async || gateways.list(&Default::default()).await.ok()).await;

    let child = Command::new(BIN)
        .args(["operator", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--identity", "cli-op", "--image", "example/binnacle:dev"])
        .args(["--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "1s"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .env("BINNACLE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let stdout = child.0.stdout.take().unwrap();
    let metrics_url = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let url = lines.by_ref().map_while(Result::ok).find_map(|l| {
            l.split_whitespace().find(|w| w.starts_with("http://") && w.ends_with("/metrics")).map(str::to_string)
        });
        std::thread::spawn(move || for _ in lines {});
        url
    })
    .await
    .unwrap()
    .expect("the operator prints its metrics URL");
    let gw: binnacle_gateway::GatewayResource = serde_json::from_value(serde_json::json!({
        "apiVersion": "binnacle.dev/v1alpha1", "kind": "Gateway", "metadata": {"name": "main"}, "spec": {}
    }))
    .unwrap();
    gateways.create(&PostParams::default(), &gw).await.unwrap();
    let deployments: Api<k8s_openapi_crd::Deployment> = Api::namespaced(client.clone(), "mcp");
    let deploy =
        eventually(30, "the gateway Deployment", async || deployments.get_opt("main-gateway").await.unwrap()).await;
    let container = &deploy.spec.unwrap().template.spec.unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some("example/binnacle:dev"));
    assert!(container.args.clone().unwrap().ends_with(&["--status-writer".to_string(), "none".to_string()]));
    eventually(30, "the status address", async || {
        gateways.get("main").await.unwrap().status?.address.filter(|a| a == "http://main-gateway.mcp.svc:8080/mcp")
    })
    .await;
    let leases: Api<k8s_openapi_crd::Lease> = Api::namespaced(client.clone(), "binnacle-system");
    let holder = leases.get("binnacle-operator").await.unwrap().spec.unwrap().holder_identity;
    assert_eq!(holder.as_deref(), Some("cli-op"));
    let metrics = get(&metrics_url);
    for want in [
        "binnacle_operator_leader 1",
        "binnacle_operator_changes_total{kind=\"Deployment\",change=\"created\"} 1",
        "binnacle_operator_reconciles_total{controller=\"gateway\",outcome=\"ok\"}",
    ] {
        assert!(metrics.contains(want), "{want:?} not in:\n{metrics}");
    }
    assert_eq!(get(&metrics_url.replace("/metrics", "/healthz")), "ok");

    // SIGTERM: it stops and releases the Lease.
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = child.0.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap()
    .expect("the operator exits on SIGTERM");
    assert!(status.success(), "{status:?}");
    let holder = leases.get("binnacle-operator").await.unwrap().spec.unwrap().holder_identity;
    assert_eq!(holder, None, "the Lease is released");
}

mod k8s_openapi_crd {
    pub use k8s_openapi::api::apps::v1::Deployment;
    pub use k8s_openapi::api::coordination::v1::Lease;
    pub use k8s_openapi::api::core::v1::Namespace;
    pub use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
}
