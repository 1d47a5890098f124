//! Benchmarks of the simulated cluster's API server, printed as a table:
//!
//! - p50/p95 latency of listing 1,000 pods as JSON and as a kubectl Table (in process, through the router);
//! - watch fan-out: 100 watchers, the delay from a write until every watcher has the event;
//! - resident memory with 10,000 objects;
//! - pod creation through admission: 1,000 pods in a namespace without, then with a ResourceQuota and a
//!   LimitRange (whose usage is recomputed from the namespace's pods at each create).
//!
//! Run: `cargo run --release -p binnacle-sim --example sim-bench`.

use axum::body::Body;
use binnacle_sim::cluster::WriteOptions;
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// The same allocator as the `binnacle` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn pod(i: usize, ns: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("bench-{i:05}"), "namespace": ns, "labels": {"app": format!("app-{}", i % 20), "tier": "bench"}},
        "spec": {"nodeName": "sim-worker-1", "containers": [{"name": "app", "image": "nginx:1.27", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
        "status": {"phase": "Running", "podIP": format!("10.244.1.{}", i % 250), "hostIP": "192.168.49.3",
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "app", "image": "nginx:1.27", "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn timed_get(router: &axum::Router, uri: &str, accept: &str) -> (Duration, usize) {
    let req = Request::builder().uri(uri).header("accept", accept).body(Body::empty()).expect("request");
    let start = Instant::now();
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (start.elapsed(), bytes.len())
}

async fn list_latency(sim: &SimCluster, accept: &str) -> (Duration, Duration, usize) {
    let router = sim.router();
    for _ in 0..5 {
        timed_get(&router, "/api/v1/namespaces/bench/pods", accept).await;
    }
    let mut samples = Vec::new();
    let mut size = 0;
    for _ in 0..60 {
        let (d, n) = timed_get(&router, "/api/v1/namespaces/bench/pods", accept).await;
        samples.push(d);
        size = n;
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.95), size)
}

async fn watch_fan_out(sim: &SimCluster, watchers: usize, writes: usize) -> (Duration, Duration) {
    let router = sim.router();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    for _ in 0..watchers {
        let req = Request::builder()
            .uri("/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=0")
            .body(Body::empty())
            .expect("request");
        let resp = router.clone().oneshot(req).await.expect("infallible");
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut body = resp.into_body();
            let mut seen = 0usize;
            let mut pending = Vec::new();
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    pending.extend_from_slice(data);
                    while let Some(pos) = pending.iter().position(|b| *b == b'\n') {
                        pending.drain(..=pos);
                        seen += 1;
                        let _ = tx.send((seen, Instant::now()));
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cms = sim.cluster().resource("", "v1", "configmaps").expect("configmaps");
    let opts = WriteOptions { manager: "bench".into(), ..Default::default() };
    let mut delays = Vec::new();
    for i in 0..writes {
        let start = Instant::now();
        sim.cluster()
            .create(
                &cms,
                "bench",
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("fan-{i}")}}),
                &opts,
            )
            .expect("create");
        let mut received = 0;
        let mut last = start;
        while received < watchers {
            match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                Ok(Some((n, at))) if n == i + 1 => {
                    received += 1;
                    last = last.max(at);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        delays.push(last.duration_since(start));
    }
    delays.sort();
    (percentile(&delays, 0.5), percentile(&delays, 0.99))
}

/// Fills a fresh cluster with 10,000 pods and prints the memory row of the table.
async fn memory_phase() {
    let before = rss_kib();
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, controllers: false, ..SimOptions::default() })
        .await
        .expect("sim");
    let cluster = sim.cluster().clone();
    let ns_rt = cluster.resource("", "v1", "namespaces").expect("namespaces");
    let pods = cluster.resource("", "v1", "pods").expect("pods");
    for n in 0..10 {
        cluster
            .create_with_status(&ns_rt, "", json!({"metadata": {"name": format!("ns-{n}")}}), "bench")
            .expect("namespace");
    }
    for i in 0..10_000 {
        cluster
            .create_with_status(&pods, &format!("ns-{}", i % 10), pod(i, &format!("ns-{}", i % 10)), "bench")
            .expect("pod");
    }
    let objects = cluster.store().len();
    let after = rss_kib();
    println!(
        "| resident memory with {objects} objects (pods ~950 B of JSON each) | {:.1} MiB for the objects, {:.1} MiB process total | < 100 MB |",
        (after.saturating_sub(before)) as f64 / 1024.0,
        after as f64 / 1024.0
    );
}

/// Mean time per create of the first and the last 100 of 1,000 pods created in namespace `ns`.
fn create_pods(cluster: &binnacle_sim::Cluster, ns: &str) -> (Duration, Duration) {
    let pods = cluster.resource("", "v1", "pods").expect("pods");
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        let started = Instant::now();
        cluster.create_with_status(&pods, ns, pod(i, ns), "bench").expect("admitted");
        times.push(started.elapsed());
    }
    let mean = |d: &[Duration]| d.iter().sum::<Duration>() / d.len() as u32;
    (mean(&times[..100]), mean(&times[900..]))
}

async fn admission_cost() -> ((Duration, Duration), (Duration, Duration)) {
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, controllers: false, ..SimOptions::default() })
        .await
        .expect("sim");
    let cluster = sim.cluster().clone();
    let ns_rt = cluster.resource("", "v1", "namespaces").expect("namespaces");
    for ns in ["open", "quota"] {
        cluster.create_with_status(&ns_rt, "", json!({"metadata": {"name": ns}}), "bench").expect("namespace");
    }
    let quotas = cluster.resource("", "v1", "resourcequotas").expect("quotas");
    let ranges = cluster.resource("", "v1", "limitranges").expect("ranges");
    let quota = json!({"metadata": {"name": "compute"}, "spec": {"hard": {"pods": "5000", "requests.cpu": "100", "requests.memory": "100Gi"}}});
    cluster.create_with_status(&quotas, "quota", quota, "bench").expect("quota");
    let range = json!({"metadata": {"name": "defaults"}, "spec": {"limits": [{"type": "Container", "default": {"memory": "64Mi"}, "max": {"memory": "1Gi"}}]}});
    cluster.create_with_status(&ranges, "quota", range, "bench").expect("range");
    (create_pods(&cluster, "open"), create_pods(&cluster, "quota"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--memory-phase") {
        memory_phase().await;
        return;
    }
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, controllers: false, ..SimOptions::default() })
        .await
        .expect("sim");
    let cluster = sim.cluster().clone();
    let ns_rt = cluster.resource("", "v1", "namespaces").expect("namespaces");
    let pods = cluster.resource("", "v1", "pods").expect("pods");
    cluster.create_with_status(&ns_rt, "", json!({"metadata": {"name": "bench"}}), "bench").expect("namespace");
    for i in 0..1000 {
        cluster.create_with_status(&pods, "bench", pod(i, "bench"), "bench").expect("pod");
    }
    if std::env::var("BENCH_PROFILE_TABLE").is_ok() {
        for _ in 0..20 {
            list_latency(&sim, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json").await;
        }
        return;
    }
    let (json_p50, json_p95, json_size) = list_latency(&sim, "application/json").await;
    let (table_p50, table_p95, table_size) =
        list_latency(&sim, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json").await;
    let (fan_p50, fan_p99) = watch_fan_out(&sim, 100, 50).await;
    let (open, quota) = admission_cost().await;

    drop(sim);
    // Memory is measured in a fresh process, so that nothing freed by the runs above hides in the figure.
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe).arg("--memory-phase").output().expect("memory phase runs");
    let memory_line = String::from_utf8_lossy(&out.stdout).trim().to_string();

    println!("| benchmark | result | target |");
    println!("|---|---|---|");
    println!(
        "| list 1,000 pods as JSON ({} KiB) | p50 {:.2} ms, p95 {:.2} ms | p50 < 10 ms |",
        json_size / 1024,
        json_p50.as_secs_f64() * 1e3,
        json_p95.as_secs_f64() * 1e3
    );
    println!(
        "| list 1,000 pods as Table ({} KiB) | p50 {:.2} ms, p95 {:.2} ms | p50 < 10 ms |",
        table_size / 1024,
        table_p50.as_secs_f64() * 1e3,
        table_p95.as_secs_f64() * 1e3
    );
    println!(
        "| watch fan-out: write → all 100 watchers (50 writes) | p50 {:.2} ms, p99 {:.2} ms | — |",
        fan_p50.as_secs_f64() * 1e3,
        fan_p99.as_secs_f64() * 1e3
    );
    println!("{memory_line}");
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| create a pod, no quota (first / last 100 of 1,000) | {:.0} µs / {:.0} µs | — |",
        us(open.0),
        us(open.1)
    );
    println!(
        "| create a pod, ResourceQuota + LimitRange (first / last 100 of 1,000) | {:.0} µs / {:.0} µs | — |",
        us(quota.0),
        us(quota.1)
    );
}
