//! Benchmark of the fleet fan-out: 10 simulated clusters with 1,000 pods each (10 namespaces × 10
//! Deployments × 10 pods, a few crash-looping or failing to pull, one Warning event per troubled pod), each
//! served over loopback HTTP from one kubeconfig, as `binnacle serve` reads them. Per category, with a cold
//! cache (a new fleet per run, so connections and reads are all counted): time to the first cluster result
//! and to all results of the parallel fan-out, the same clusters queried one after another, and the slowest
//! single cluster queried alone; then a warm (cached) fan-out. Medians over the runs.
//!
//! The simulated clusters run in this process and share its cores with the client, so the local rows are
//! CPU-bound in a way remote clusters are not; the `+RTT` rows add a per-response delay to every cluster
//! (`SimCluster::set_latency`), as a cluster across a network has.
//!
//! Run: `cargo run --release -p binnacle-fleet --example fleet-bench [-- --runs 7 --rtt-ms 50]`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use binnacle_fleet::{Category, Fleet, FleetConfig, FleetEvent};
use binnacle_sim::kubeconfig::{Entry, render};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use futures::StreamExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The same allocator as the `binnacle` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLUSTERS: usize = 10;
const NAMESPACES: usize = 10;
const DEPLOYMENTS: usize = 10;
const PODS: usize = 10;
const TIME: &str = "2026-01-01T00:00:00Z";

fn pod(ns: &str, app: &str, i: usize, fault: Option<&str>) -> Value {
    let ready = fault.is_none();
    let state = match fault {
        None => json!({"running": {"startedAt": TIME}}),
        Some(reason) => json!({"waiting": {"reason": reason, "message": "back-off restarting failed container"}}),
    };
    let r = if ready { "True" } else { "False" };
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{app}-7d9f8b6c5d-{i:05}"), "namespace": ns,
            "labels": {"app": app, "pod-template-hash": "7d9f8b6c5d"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-7d9f8b6c5d"), "uid": format!("rs-{ns}-{app}"), "controller": true}]},
        "spec": {"nodeName": format!("sim-worker-{}", 1 + i % 2), "containers": [{"name": "app", "image": "ghcr.io/acme/app:1.0",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}}]},
        "status": {"phase": "Running", "podIP": format!("10.0.{}.{}", i / 250, i % 250), "hostIP": "192.168.49.3", "startTime": TIME, "qosClass": "Burstable",
            "conditions": [{"type": "Ready", "status": r, "lastTransitionTime": TIME}, {"type": "ContainersReady", "status": r, "lastTransitionTime": TIME},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": TIME}],
            "containerStatuses": [{"name": "app", "image": "ghcr.io/acme/app:1.0", "ready": ready, "started": ready,
                "restartCount": if fault.is_some() { 5 } else { 0 }, "state": state}]}
    })
}

/// Fills one cluster with 1,000 pods; answers how many pods it made.
fn fill(sim: &SimCluster) -> usize {
    let cluster = sim.cluster();
    let rt = |g: &str, v: &str, p: &str| cluster.resource(g, v, p).expect("kind");
    let (namespaces, deployments, pods, events) =
        (rt("", "v1", "namespaces"), rt("apps", "v1", "deployments"), rt("", "v1", "pods"), rt("", "v1", "events"));
    let mut made = 0;
    for n in 0..NAMESPACES {
        let ns = format!("team-{n:02}");
        cluster.create_with_status(&namespaces, "", json!({"metadata": {"name": ns}}), "bench").expect("namespace");
        for a in 0..DEPLOYMENTS {
            let app = format!("svc-{a}");
            let fault = match (n, a) {
                (0..=1, 0) => Some("CrashLoopBackOff"),
                (2, 0) => Some("ImagePullBackOff"),
                _ => None,
            };
            let available = if fault.is_none() { PODS } else { 0 };
            cluster
                .create_with_status(
                    &deployments,
                    &ns,
                    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": app, "namespace": ns, "generation": 1},
                        "spec": {"replicas": PODS, "selector": {"matchLabels": {"app": app}},
                            "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/app:1.0"}]}}},
                        "status": {"replicas": PODS, "updatedReplicas": PODS, "readyReplicas": available, "availableReplicas": available, "observedGeneration": 1}}),
                    "bench",
                )
                .expect("deployment");
            for p in 0..PODS {
                cluster.create_with_status(&pods, &ns, pod(&ns, &app, p, fault), "bench").expect("pod");
                made += 1;
                if fault.is_some() {
                    let ev = json!({"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "BackOff",
                        "metadata": {"name": format!("{app}-{p}.bench"), "namespace": ns},
                        "involvedObject": {"kind": "Pod", "namespace": ns, "name": format!("{app}-7d9f8b6c5d-{p:05}")},
                        "message": "Back-off restarting failed container", "count": 12, "lastTimestamp": TIME, "firstTimestamp": TIME});
                    cluster.create_with_status(&events, &ns, ev, "bench").expect("event");
                }
            }
        }
    }
    made
}

fn fleet_config(kubeconfig: &Path) -> FleetConfig {
    FleetConfig {
        kubeconfigs: vec![kubeconfig.to_path_buf()],
        timeout: Duration::from_secs(60),
        watch_interval: None,
        ..FleetConfig::default()
    }
}

/// A cold parallel fan-out: (time to the first cluster result, time to all, clusters that answered).
async fn fan_out(kubeconfig: &Path, category: Category) -> (Duration, Duration, usize) {
    let fleet = Fleet::start(fleet_config(kubeconfig)).await.unwrap();
    let started = Instant::now();
    let mut stream = Box::pin(fleet.stream(category, None, 100).unwrap());
    let mut first = None;
    let mut all = Duration::ZERO;
    let mut answered = 0;
    while let Some(e) = stream.next().await {
        match e {
            FleetEvent::Cluster(r) => {
                first.get_or_insert_with(|| started.elapsed());
                assert!(r.error.is_none(), "{}: {:?}", r.cluster, r.error);
                answered += 1;
            }
            FleetEvent::Summary(_) => all = started.elapsed(),
        }
    }
    (first.unwrap_or_default(), all, answered)
}

/// Cold single-cluster queries one after another: (total, the slowest single cluster).
async fn sequential(kubeconfig: &Path, category: Category, names: &[String]) -> (Duration, Duration) {
    let fleet = Fleet::start(fleet_config(kubeconfig)).await.unwrap();
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for name in names {
        let t = Instant::now();
        let r = fleet.query(category, Some(std::slice::from_ref(name)), 100).await.unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        slowest = slowest.max(t.elapsed());
    }
    (started.elapsed(), slowest)
}

/// A fan-out served from the cache.
async fn warm(kubeconfig: &Path, category: Category) -> Duration {
    let fleet = Fleet::start(fleet_config(kubeconfig)).await.unwrap();
    fleet.query(category, None, 100).await.unwrap();
    let t = Instant::now();
    let r = fleet.query(category, None, 100).await.unwrap();
    assert!(r.clusters.iter().all(|c| !c.stale));
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let runs = arg("--runs", 7).max(1) as usize;
    let rtt = Duration::from_millis(arg("--rtt-ms", 50));
    let dir = tempfile::tempdir().unwrap();
    let mut sims = Vec::new();
    let mut entries = Vec::new();
    let mut pods = 0;
    for i in 1..=CLUSTERS {
        let sim = SimCluster::start(SimOptions {
            name: format!("sim-{i}"),
            scenario: Scenario::Empty,
            controllers: false,
            seed: i as u64,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        pods += fill(&sim);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = sim.serve(listener).unwrap();
        entries.push(Entry { name: format!("sim-{i}"), server: format!("http://{addr}") });
        sims.push(sim);
    }
    let kubeconfig: PathBuf = dir.path().join("fleet.kubeconfig");
    std::fs::write(&kubeconfig, render(&entries)).unwrap();
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    println!(
        "fleet-bench: {CLUSTERS} simulated clusters, {} pods each ({pods} in all), loopback HTTP, {runs} runs, medians (ms)",
        pods / CLUSTERS
    );
    println!();
    println!(
        "{:<22} {:>10} {:>10} {:>11} {:>10} {:>12} {:>8} {:>8}",
        "category", "first", "all", "sequential", "slowest 1", "all/slowest", "speedup", "cached"
    );
    for (label, delay) in [("", Duration::ZERO), ("+RTT", rtt)] {
        for s in &sims {
            s.set_latency(delay);
        }
        for category in [Category::Pods, Category::Workloads, Category::Events, Category::Findings] {
            let (mut firsts, mut alls, mut seqs, mut slowests, mut warms) = (vec![], vec![], vec![], vec![], vec![]);
            for _ in 0..runs {
                let (first, all, answered) = fan_out(&kubeconfig, category).await;
                assert_eq!(answered, CLUSTERS);
                let (seq, slowest) = sequential(&kubeconfig, category, &names).await;
                firsts.push(first);
                alls.push(all);
                seqs.push(seq);
                slowests.push(slowest);
                warms.push(warm(&kubeconfig, category).await);
            }
            let (first, all, seq, slowest, cached) =
                (median(firsts), median(alls), median(seqs), median(slowests), median(warms));
            let name = if label.is_empty() {
                category.to_string()
            } else {
                format!("{category} {label} {}ms", delay.as_millis())
            };
            println!(
                "{:<22} {:>10} {:>10} {:>11} {:>10} {:>12} {:>8} {:>8}",
                name,
                ms(first),
                ms(all),
                ms(seq),
                ms(slowest),
                format!("{:.2}x", all.as_secs_f64() / slowest.as_secs_f64()),
                format!("{:.1}x", seq.as_secs_f64() / all.as_secs_f64()),
                ms(cached),
            );
        }
    }
    println!();
    println!("first / all: the parallel fan-out (cold cache); sequential: the same clusters one after another;");
    println!("slowest 1: the slowest cluster queried alone; target: all <= 1.5x slowest 1; cached: a warm fan-out.");
}
