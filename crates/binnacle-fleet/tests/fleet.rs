//! The fleet against three simulated clusters served over loopback from one kubeconfig: `sim-1` healthy,
//! `sim-2` slowed (its API delays every response), `sim-3` stopped. Assertions are on the order of events and
//! on what each result says, never on how fast something was (the one time bound is far above any
//! plausible run and far below the slow cluster's delay).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use binnacle_fleet::{Category, ClusterResult, Fleet, FleetConfig, FleetError, FleetEvent, ResultStatus};
use binnacle_sim::kubeconfig::{Entry, render};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use futures::StreamExt;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Sims {
    sims: Vec<SimCluster>,
    entries: Vec<Entry>,
    dir: tempfile::TempDir,
}

impl Sims {
    /// `n` demo clusters on loopback ports, named sim-1 … sim-n.
    async fn start(n: usize) -> Sims {
        let mut sims = Vec::new();
        let mut entries = Vec::new();
        for i in 1..=n {
            let sim = SimCluster::start(SimOptions {
                name: format!("sim-{i}"),
                scenario: Scenario::Demo,
                speed: 20.0,
                seed: 42 + i as u64,
                ..SimOptions::default()
            })
            .await
            .unwrap();
            settle(&sim).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = sim.serve(listener).unwrap();
            entries.push(Entry { name: format!("sim-{i}"), server: format!("http://{addr}") });
            sims.push(sim);
        }
        Sims { sims, entries, dir: tempfile::tempdir().unwrap() }
    }

    fn sim(&self, name: &str) -> &SimCluster {
        let i = self.entries.iter().position(|e| e.name == name).unwrap();
        &self.sims[i]
    }

    /// Writes a kubeconfig with the named clusters; answers its path.
    fn kubeconfig(&self, file: &str, names: &[&str]) -> PathBuf {
        let entries: Vec<Entry> = self.entries.iter().filter(|e| names.contains(&e.name.as_str())).cloned().collect();
        let path = self.dir.path().join(file);
        write_atomically(&path, &render(&entries));
        path
    }
}

/// Waits until the demo's controllers have made its pods, some of them failing (as the demo plants).
async fn settle(sim: &SimCluster) {
    let client = kube::Client::new(sim.router(), "default");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let req = http::Request::get("/api/v1/pods").body(Vec::new()).unwrap();
        let pods: serde_json::Value = client.request(req).await.unwrap();
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        let failing = items.iter().any(|p| {
            p.pointer("/status/containerStatuses/0/state/waiting/reason")
                .and_then(|r| r.as_str())
                .is_some_and(|r| r != "ContainerCreating")
        });
        if items.len() >= 20 && failing {
            return;
        }
        assert!(Instant::now() < deadline, "the demo's pods never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn config(kubeconfigs: Vec<PathBuf>, timeout: Duration) -> FleetConfig {
    FleetConfig { kubeconfigs, timeout, watch_interval: None, ..FleetConfig::default() }
}

/// Three clusters: sim-2 slowed by `slow`, sim-3 stopped.
async fn three(slow: Duration) -> (Sims, PathBuf) {
    let sims = Sims::start(3).await;
    let path = sims.kubeconfig("fleet.kubeconfig", &["sim-1", "sim-2", "sim-3"]);
    sims.sim("sim-2").set_latency(slow);
    sims.sim("sim-3").shutdown().unwrap();
    (sims, path)
}

async fn events(fleet: &Fleet, category: Category) -> (Vec<ClusterResult>, binnacle_fleet::Summary) {
    let mut stream = Box::pin(fleet.stream(category, None, 100).unwrap());
    let mut results = Vec::new();
    let mut summary = None;
    while let Some(e) = stream.next().await {
        assert!(summary.is_none(), "nothing comes after the summary");
        match e {
            FleetEvent::Cluster(r) => results.push(*r),
            FleetEvent::Summary(s) => summary = Some(s),
        }
    }
    (results, summary.expect("a summary ends the stream"))
}

fn order(results: &[ClusterResult]) -> Vec<&str> {
    results.iter().map(|r| r.cluster.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn healthy_clusters_answer_first_and_the_summary_names_the_stopped_one() {
    let (_sims, path) = three(Duration::from_secs(3)).await;
    let fleet = Fleet::start(config(vec![path], Duration::from_secs(30))).await.unwrap();
    assert_eq!(fleet.names(), ["sim-1", "sim-2", "sim-3"]);
    let (results, summary) = events(&fleet, Category::Pods).await;
    assert_eq!(results.len(), 3, "one event per cluster");
    // The slow cluster answers last: after the healthy one and after the stopped one's failure.
    assert_eq!(results[2].cluster, "sim-2", "order: {:?}", order(&results));
    let healthy = &results.iter().find(|r| r.cluster == "sim-1").unwrap();
    assert_eq!(healthy.status, ResultStatus::Ok);
    assert!(!healthy.stale);
    assert!(healthy.total > 0 && !healthy.items.is_empty());
    // The demo plants crash loops: problems come first.
    assert!(!healthy.items[0]["problems"].as_array().unwrap().is_empty(), "{}", healthy.items[0]);
    assert_eq!(
        results[2].status,
        ResultStatus::Ok,
        "the slow cluster answers within the timeout: {:?}",
        results[2].error
    );
    let stopped = results.iter().find(|r| r.cluster == "sim-3").unwrap();
    assert_eq!(stopped.status, ResultStatus::Error);
    assert!(stopped.items.is_empty());
    assert_eq!(summary.clusters, 3);
    assert_eq!(summary.answered, 2);
    assert_eq!(summary.failed.len(), 1, "{:?}", summary.failed);
    assert_eq!(summary.failed[0].cluster, "sim-3");
    assert_eq!(summary.failed[0].reason, ResultStatus::Error);
    let why = summary.failed[0].message.to_lowercase();
    assert!(why.contains("cannot reach the cluster") && why.contains("connect"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_waits_for_the_slow_cluster_beyond_its_timeout() {
    // sim-2 takes two minutes per response; the per-cluster timeout is one second.
    let (_sims, path) = three(Duration::from_secs(120)).await;
    let fleet = Fleet::start(config(vec![path], Duration::from_secs(1))).await.unwrap();
    let started = Instant::now();
    let (results, summary) = events(&fleet, Category::Workloads).await;
    // Far below the slow cluster's delay: the query did not wait for it.
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    assert_eq!(results.last().unwrap().cluster, "sim-2", "order: {:?}", order(&results));
    assert_eq!(results.last().unwrap().status, ResultStatus::Timeout);
    assert!(results.iter().any(|r| r.cluster == "sim-1" && r.status == ResultStatus::Ok && r.total > 0));
    let failed: Vec<(&str, ResultStatus)> = summary.failed.iter().map(|f| (f.cluster.as_str(), f.reason)).collect();
    assert!(failed.contains(&("sim-2", ResultStatus::Timeout)), "{failed:?}");
    assert!(failed.contains(&("sim-3", ResultStatus::Error)), "{failed:?}");
    let timeout = summary.failed.iter().find(|f| f.cluster == "sim-2").unwrap();
    assert!(timeout.message.contains("1000 ms"), "{}", timeout.message);
    // The health view says the same without waiting for it either.
    let clusters = fleet.clusters().await;
    let by_name = |n: &str| clusters.iter().find(|c| c.name == n).unwrap();
    assert!(by_name("sim-1").reachable);
    assert!(!by_name("sim-2").reachable);
    assert!(!by_name("sim-3").reachable);
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_reports_version_counts_and_errors() {
    let (_sims, path) = three(Duration::ZERO).await;
    let fleet = Fleet::start(config(vec![path], Duration::from_secs(30))).await.unwrap();
    let clusters = fleet.clusters().await;
    assert_eq!(clusters.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["sim-1", "sim-2", "sim-3"]);
    let ok = &clusters[0];
    assert!(ok.reachable, "{ok:?}");
    assert!(ok.version.as_deref().unwrap().starts_with("v1.32"), "{ok:?}");
    assert!(ok.nodes.unwrap() > 0 && ok.pods.unwrap() > 0, "{ok:?}");
    assert!(ok.latency_ms.is_some() && ok.checked_at.is_some() && ok.last_error.is_none());
    assert!(ok.server.as_deref().unwrap().starts_with("http://127.0.0.1:"));
    let down = &clusters[2];
    assert!(!down.reachable);
    assert!(down.version.is_none());
    assert!(down.last_error.as_deref().unwrap().contains("cannot reach the cluster"), "{down:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stale_answers_are_served_at_once_marked_stale_and_kept_when_the_cluster_fails() {
    let sims = Sims::start(1).await;
    let path = sims.kubeconfig("one.kubeconfig", &["sim-1"]);
    let ttl = Duration::from_millis(300);
    let fleet = Fleet::start(config(vec![path], Duration::from_secs(30)).with_ttl(Category::Pods, ttl)).await.unwrap();
    let first = fleet.query(Category::Pods, None, 10).await.unwrap();
    let fresh = &first.clusters[0];
    assert_eq!(fresh.status, ResultStatus::Ok);
    assert!(!fresh.stale);
    assert!(fresh.total > 10 && fresh.truncated && fresh.items.len() == 10, "limit and truncated flag");
    // Within the TTL the same answer comes from the cache.
    let again = fleet.query(Category::Pods, None, 10).await.unwrap();
    assert_eq!(again.clusters[0].fetched_at, fresh.fetched_at);
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    // Past the TTL: the old answer at once, marked stale with its age, while it revalidates.
    let stale = fleet.query(Category::Pods, None, 10).await.unwrap();
    let s = &stale.clusters[0];
    assert!(s.stale, "{s:?}");
    assert_eq!(s.status, ResultStatus::Stale);
    assert_eq!(s.fetched_at, fresh.fetched_at);
    assert!(s.age_ms.unwrap() >= ttl.as_millis() as u64);
    assert_eq!(stale.summary.stale, ["sim-1"]);
    // The revalidation lands: a fresh answer read later.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = fleet.query(Category::Pods, None, 10).await.unwrap();
        if r.clusters[0].fetched_at != fresh.fetched_at {
            break;
        }
        assert!(Instant::now() < deadline, "no revalidation");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The cluster stops: past the TTL the last good answer is still served, stale, with the error.
    sims.sim("sim-1").shutdown().unwrap();
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let kept = loop {
        let r = fleet.query(Category::Pods, None, 10).await.unwrap();
        let c = r.clusters[0].clone();
        if c.error.is_some() {
            break c;
        }
        assert!(Instant::now() < deadline, "the failed revalidation is never reported");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(kept.stale);
    assert_eq!(kept.status, ResultStatus::Stale);
    assert_eq!(kept.items.len(), 10, "the last good answer is kept");
    assert!(kept.error.unwrap().contains("cannot reach the cluster"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_queries_share_one_read_per_cluster() {
    let sims = Sims::start(1).await;
    let path = sims.kubeconfig("one.kubeconfig", &["sim-1"]);
    // Slow enough that every query below joins the first one's read.
    sims.sim("sim-1").set_latency(Duration::from_secs(1));
    let fleet = Fleet::start(config(vec![path], Duration::from_secs(30))).await.unwrap();
    let answers = futures::future::join_all((0..5).map(|_| fleet.query(Category::Nodes, None, 50))).await;
    for a in &answers {
        assert_eq!(a.as_ref().unwrap().clusters[0].status, ResultStatus::Ok);
    }
    let lists = sims
        .sim("sim-1")
        .recorded_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/nodes" && r.query.contains("limit="))
        .count();
    assert_eq!(lists, 1, "one list of nodes for five concurrent queries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_cluster_does_not_keep_a_concurrency_permit_beyond_the_timeout() {
    let sims = Sims::start(2).await;
    let path = sims.kubeconfig("two.kubeconfig", &["sim-1", "sim-2"]);
    sims.sim("sim-1").set_latency(Duration::from_secs(120));
    // One read at a time, and a two-second wait per cluster.
    let fleet =
        Fleet::start(FleetConfig { concurrency: 1, ..config(vec![path], Duration::from_secs(2)) }).await.unwrap();
    let slow = fleet.query(Category::Pods, Some(&["sim-1".to_string()]), 10).await.unwrap();
    assert_eq!(slow.clusters[0].status, ResultStatus::Timeout);
    // The slow read goes on in the background, but no longer holds the only permit.
    let healthy = fleet.query(Category::Pods, Some(&["sim-2".to_string()]), 10).await.unwrap();
    assert_eq!(healthy.clusters[0].status, ResultStatus::Ok, "{:?}", healthy.clusters[0].error);
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contexts_added_and_removed_while_running_are_picked_up() {
    let sims = Sims::start(2).await;
    let path = sims.kubeconfig("watched.kubeconfig", &["sim-1"]);
    let fleet = Fleet::start(FleetConfig {
        kubeconfigs: vec![path.clone()],
        watch_interval: Some(Duration::from_millis(50)),
        ..FleetConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(fleet.names(), ["sim-1"]);
    // A context appears in the file.
    sims.kubeconfig("watched.kubeconfig", &["sim-1", "sim-2"]);
    until("sim-2 added", || fleet.names() == ["sim-1", "sim-2"]).await;
    let r = fleet.query(Category::Nodes, None, 10).await.unwrap();
    assert_eq!(r.clusters.iter().map(|c| c.status).collect::<Vec<_>>(), [ResultStatus::Ok, ResultStatus::Ok]);
    // One goes away.
    sims.kubeconfig("watched.kubeconfig", &["sim-2"]);
    until("sim-1 removed", || fleet.names() == ["sim-2"]).await;
    let err = fleet.query(Category::Nodes, Some(&["sim-1".to_string()]), 10).await.unwrap_err();
    assert!(matches!(err, FleetError::UnknownCluster { .. }), "{err}");
    // A broken file changes nothing, and says why.
    write_atomically(&path, "clusters: [this is not: a kubeconfig");
    let e = fleet.reload().await.unwrap_err();
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert_eq!(fleet.names(), ["sim-2"]);
    assert!(fleet.reload_error().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_kubeconfig_files_merge_and_reload_on_request() {
    let sims = Sims::start(3).await;
    let a = sims.kubeconfig("a.kubeconfig", &["sim-1"]);
    let b = sims.kubeconfig("b.kubeconfig", &["sim-2"]);
    let missing = sims.dir.path().join("missing.kubeconfig");
    let fleet = Fleet::start(config(vec![a.clone(), missing, b.clone()], Duration::from_secs(30))).await.unwrap();
    assert_eq!(fleet.names(), ["sim-1", "sim-2"]);
    sims.kubeconfig("b.kubeconfig", &["sim-2", "sim-3"]);
    // Without a watcher nothing changes until a reload.
    assert_eq!(fleet.names(), ["sim-1", "sim-2"]);
    let report = fleet.reload().await.unwrap();
    assert_eq!(report.added, ["sim-3"]);
    assert!(report.removed.is_empty() && report.changed.is_empty());
    assert_eq!(report.clusters, ["sim-1", "sim-2", "sim-3"]);
    assert_eq!(report.files.len(), 2, "the missing file is skipped");
    // A context pointed elsewhere is a changed cluster with a new client.
    let mut moved = sims.entries.clone();
    moved[0].server = sims.entries[1].server.clone();
    write_atomically(&a, &render(&moved[..1]));
    let report = fleet.reload().await.unwrap();
    assert_eq!(report.changed, ["sim-1"]);
    let r = fleet.query(Category::Nodes, None, 10).await.unwrap();
    assert!(r.clusters.iter().all(|c| c.status == ResultStatus::Ok), "{:?}", r.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_category_answers_from_the_demo_cluster() {
    let sims = Sims::start(1).await;
    let path = sims.kubeconfig("one.kubeconfig", &["sim-1"]);
    // A GPU node next to the demo's nodes.
    let cluster = sims.sim("sim-1").cluster();
    let nodes = cluster.resource("", "v1", "nodes").unwrap();
    cluster
        .create_with_status(
            &nodes,
            "",
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-1", "labels": {"nvidia.com/gpu.product": "NVIDIA-A100"}},
                "status": {"capacity": {"cpu": "32", "memory": "256Gi", "pods": "110", "nvidia.com/gpu": "8"},
                    "allocatable": {"cpu": "31", "memory": "250Gi", "pods": "110", "nvidia.com/gpu": "8"},
                    "conditions": [{"type": "Ready", "status": "True"}]}}),
            "test",
        )
        .unwrap();
    let fleet = Fleet::start(config(vec![path], Duration::from_secs(30))).await.unwrap();
    for category in Category::ALL {
        let r = fleet.query(category, None, 200).await.unwrap();
        let c = &r.clusters[0];
        assert_eq!(c.status, ResultStatus::Ok, "{category}: {:?}", c.error);
        assert!(c.total > 0, "{category}: nothing");
        let kinds: Vec<&str> = c.items.iter().filter_map(|i| i["kind"].as_str()).collect();
        match category {
            Category::Workloads => {
                for k in ["Deployment", "StatefulSet", "Rollout"] {
                    assert!(kinds.contains(&k), "{k} in {kinds:?}");
                }
                assert_eq!(c.items[0]["healthy"], false, "unhealthy first");
                assert_eq!(c.counts["rolloutsServed"], true);
            }
            Category::Events => assert_eq!(c.items[0]["type"], "Warning", "warnings first"),
            Category::HelmReleases => {
                assert_eq!(c.items[0]["status"], "failed", "failed releases first: {:?}", c.items);
                assert!(c.items[0]["chart"].as_str().unwrap().contains('-'));
            }
            Category::Operators => {
                let argo = c.items.iter().find(|g| g["group"] == "argoproj.io").expect("argoproj.io CRDs");
                assert!(argo["kinds"].as_array().unwrap().contains(&json!("Rollout")));
            }
            Category::GpuNodes => {
                assert_eq!(c.total, 1);
                assert_eq!(c.items[0]["name"], "gpu-1");
                assert_eq!(c.items[0]["gpus"], 8);
                assert_eq!(c.items[0]["vendor"], "nvidia");
                assert_eq!(c.items[0]["product"], "NVIDIA-A100");
            }
            Category::Nodes => assert!(c.total >= 2),
            Category::Findings => assert_eq!(c.items[0]["severity"], "critical"),
            Category::Pods => assert!(c.counts["problems"].as_u64().unwrap() > 0),
        }
    }
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_valid_names() {
    let fleet = Fleet::start(FleetConfig::default()).await.unwrap();
    let e = "deployments".parse::<Category>().unwrap_err().to_string();
    assert!(e.contains("pods") && e.contains("helm-releases") && e.contains("gpu-nodes"), "{e}");
    let e = fleet.stream(Category::Pods, Some(&["nope".to_string()]), 10).err().unwrap().to_string();
    assert!(e.contains("\"nope\""), "{e}");
    assert!(Fleet::start(FleetConfig { concurrency: 0, ..FleetConfig::default() }).await.is_err());
    // A broken kubeconfig at start: no clusters and the reason, until the file is fixed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.kubeconfig");
    std::fs::write(&path, "contexts: [oops").unwrap();
    let fleet =
        Fleet::start(FleetConfig { kubeconfigs: vec![path.clone()], watch_interval: None, ..FleetConfig::default() })
            .await
            .unwrap();
    assert!(fleet.names().is_empty());
    assert!(fleet.reload_error().unwrap().contains(&path.display().to_string()));
    std::fs::write(&path, render(&[Entry { name: "later".into(), server: "http://127.0.0.1:1".into() }])).unwrap();
    assert_eq!(fleet.reload().await.unwrap().added, ["later"]);
    assert!(fleet.reload_error().is_none());
}
