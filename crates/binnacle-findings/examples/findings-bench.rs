//! Benchmark of a full `find_issues` on a simulated cluster with 5,000 pods in 50 namespaces, printed as a
//! table: median and p90 time, list calls (counted by a tower layer around the kube client's service),
//! other requests (previous logs), the analyzers' share of the time, and the findings.
//!
//! The cluster is filled through the simulator's API directly with its controllers off, so that nothing
//! changes between runs: per namespace 10 Deployments (ReplicaSet, 10 pods, a Service and its EndpointSlice),
//! two events per pod (Scheduled, Started), and faults in a few namespaces (crash loops, image pull errors,
//! unschedulable pods) with their warning events. Pods carry the managedFields a real API server records
//! (pods are about 3.5 KiB of JSON each). Only `find_issues` is timed.
//!
//! Run: `cargo run --release -p binnacle-findings --example findings-bench [-- --runs 15]`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use binnacle_findings::{Scope, find_issues};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The same allocator as the `binnacle` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NAMESPACES: usize = 50;
const DEPLOYMENTS: usize = 10;
const PODS: usize = 10;
const TIME: &str = "2026-01-01T00:00:00Z";

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    Crash,
    Pull,
    Pending,
}

fn fault_of(ns: usize, app: usize) -> Fault {
    match (ns, app) {
        (0..=4, 0) => Fault::Crash,
        (5..=9, 0) => Fault::Pull,
        (10, 0) => Fault::Pending,
        _ => Fault::None,
    }
}

fn pod_status(fault: Fault, ip: &str) -> Value {
    let ready = fault == Fault::None;
    let state = match fault {
        Fault::None => json!({"running": {"startedAt": TIME}}),
        Fault::Crash => {
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}})
        }
        Fault::Pull => json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}),
        Fault::Pending => Value::Null,
    };
    if fault == Fault::Pending {
        return json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu.", "lastTransitionTime": TIME}]});
    }
    let r = if ready { "True" } else { "False" };
    json!({
        "phase": "Running", "podIP": ip, "hostIP": "192.168.49.3", "startTime": TIME, "qosClass": "Burstable",
        "conditions": [
            {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": TIME},
            {"type": "Initialized", "status": "True", "lastTransitionTime": TIME},
            {"type": "Ready", "status": r, "lastTransitionTime": TIME},
            {"type": "ContainersReady", "status": r, "lastTransitionTime": TIME},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": TIME}],
        "containerStatuses": [{"name": "app", "image": "ghcr.io/acme/app:1.0", "imageID": "ghcr.io/acme/app@sha256:0123", "ready": ready,
            "started": ready, "restartCount": if fault == Fault::Crash { 5 } else { 0 }, "state": state,
            "lastState": if fault == Fault::Crash { json!({"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": TIME}}) } else { json!({}) }}]
    })
}

/// What a real API server records for a pod: the controller's create and the kubelet's status updates
/// (the analyzers never read it; parsing skips it).
fn managed_fields() -> Value {
    json!([
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": TIME, "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:tier": {}},
            "f:ownerReferences": {".": {}, "k:{\"uid\":\"x\"}": {}}},
          "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:env": {".": {}, "k:{\"name\":\"LOG_LEVEL\"}": {".": {}, "f:name": {}, "f:value": {}}},
            "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
            "f:readinessProbe": {".": {}, "f:httpGet": {".": {}, "f:path": {}, "f:port": {}}, "f:periodSeconds": {}},
            "f:resources": {".": {}, "f:limits": {".": {}, "f:memory": {}}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}}}},
            "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}},
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": TIME, "fieldsType": "FieldsV1", "subresource": "status",
         "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"ContainersReady\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}},
            "k:{\"type\":\"Initialized\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}},
            "k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}},
            "f:containerStatuses": {}, "f:hostIP": {}, "f:hostIPs": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.0.0.1\"}": {".": {}, "f:ip": {}}}, "f:startTime": {}}}}
    ])
}

fn template(app: &str, fault: Fault) -> Value {
    let image = if fault == Fault::Pull { "ghcr.io/acme/app:does-not-exist" } else { "ghcr.io/acme/app:1.0" };
    let cpu = if fault == Fault::Pending { "64" } else { "50m" };
    json!({
        "metadata": {"labels": {"app": app, "tier": "backend"}},
        "spec": {"containers": [{"name": "app", "image": image,
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}}]}
    })
}

/// Fills the cluster; returns the number of objects created.
fn fill(sim: &SimCluster) -> usize {
    let cluster = sim.cluster();
    let rt = |g: &str, v: &str, p: &str| cluster.resource(g, v, p).expect("kind");
    let (namespaces, deployments, replicasets, pods, services, slices, events) = (
        rt("", "v1", "namespaces"),
        rt("apps", "v1", "deployments"),
        rt("apps", "v1", "replicasets"),
        rt("", "v1", "pods"),
        rt("", "v1", "services"),
        rt("discovery.k8s.io", "v1", "endpointslices"),
        rt("", "v1", "events"),
    );
    let mut created = 0;
    let mut create = |rt: &binnacle_sim::registry::ResourceType, ns: &str, obj: Value| {
        cluster.create_with_status(rt, ns, obj, "bench").expect("create");
        created += 1;
    };
    let mut event_no = 0;
    for n in 0..NAMESPACES {
        let ns = format!("team-{n:02}");
        create(&namespaces, "", json!({"metadata": {"name": ns}}));
        for a in 0..DEPLOYMENTS {
            let fault = fault_of(n, a);
            let app = format!("svc-{a}");
            let rs_name = format!("{app}-7d9f8b6c5d");
            let tmpl = template(&app, fault);
            let available = if fault == Fault::None { PODS } else { 0 };
            create(
                &deployments,
                &ns,
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": app, "namespace": ns, "labels": {"app": app}, "annotations": {"deployment.kubernetes.io/revision": "1"}},
                    "spec": {"replicas": PODS, "selector": {"matchLabels": {"app": app}}, "template": tmpl},
                    "status": {"replicas": PODS, "updatedReplicas": PODS, "readyReplicas": available, "availableReplicas": available,
                        "unavailableReplicas": PODS - available, "observedGeneration": 1,
                        "conditions": [{"type": "Available", "status": if available == PODS { "True" } else { "False" }},
                                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
                }),
            );
            create(
                &replicasets,
                &ns,
                json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": rs_name, "namespace": ns, "labels": {"app": app},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": app, "uid": format!("d-{n}-{a}"), "controller": true}]},
                    "spec": {"replicas": PODS, "selector": {"matchLabels": {"app": app}}, "template": tmpl},
                    "status": {"replicas": PODS, "readyReplicas": available, "availableReplicas": available, "observedGeneration": 1}
                }),
            );
            create(
                &services,
                &ns,
                json!({
                    "apiVersion": "v1", "kind": "Service", "metadata": {"name": app, "namespace": ns},
                    "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
                }),
            );
            let mut endpoints = Vec::new();
            for p in 0..PODS {
                let pod = format!("{rs_name}-{p:05}");
                let ip = format!("10.{}.{}.{}", n, a, p + 1);
                let mut tmpl_meta = tmpl["metadata"].clone();
                tmpl_meta["name"] = json!(pod);
                tmpl_meta["namespace"] = json!(ns);
                tmpl_meta["labels"]["pod-template-hash"] = json!("7d9f8b6c5d");
                tmpl_meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": format!("r-{n}-{a}"), "controller": true}]);
                tmpl_meta["managedFields"] = managed_fields();
                let mut spec = tmpl["spec"].clone();
                if fault != Fault::Pending {
                    spec["nodeName"] = json!(format!("sim-worker-{}", 1 + p % 2));
                }
                create(
                    &pods,
                    &ns,
                    json!({"apiVersion": "v1", "kind": "Pod", "metadata": tmpl_meta, "spec": spec, "status": pod_status(fault, &ip)}),
                );
                if fault != Fault::Pending {
                    endpoints.push(json!({"addresses": [ip], "conditions": {"ready": fault == Fault::None},
                        "targetRef": {"kind": "Pod", "name": pod, "namespace": ns}}));
                }
                let mut ev = |reason: &str, type_: &str, message: String, count: i64| {
                    event_no += 1;
                    create(
                        &events,
                        &ns,
                        json!({
                            "apiVersion": "v1", "kind": "Event", "metadata": {"name": format!("{pod}.{event_no:x}"), "namespace": ns},
                            "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod}, "reason": reason, "message": message,
                            "type": type_, "count": count, "firstTimestamp": TIME, "lastTimestamp": TIME, "source": {"component": "kubelet"}
                        }),
                    );
                };
                match fault {
                    Fault::Pending => {
                        ev("FailedScheduling", "Warning", "0/3 nodes are available: 3 Insufficient cpu.".into(), 3)
                    }
                    _ => {
                        ev("Scheduled", "Normal", format!("Successfully assigned {ns}/{pod} to sim-worker-1"), 1);
                        ev("Started", "Normal", "Started container app".into(), 1);
                    }
                }
                match fault {
                    Fault::Crash => ev("BackOff", "Warning", "Back-off restarting failed container app".into(), 20),
                    Fault::Pull => ev(
                        "Failed",
                        "Warning",
                        "Failed to pull image \"ghcr.io/acme/app:does-not-exist\": not found".into(),
                        6,
                    ),
                    _ => {}
                }
            }
            create(
                &slices,
                &ns,
                json!({
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                    "metadata": {"name": format!("{app}-abcde"), "namespace": ns, "labels": {"kubernetes.io/service-name": app}},
                    "endpoints": endpoints, "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
                }),
            );
        }
    }
    created
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

struct Measured {
    median: Duration,
    p90: Duration,
    lists: u32,
    others: u32,
    findings: usize,
    reported_lists: u32,
}

async fn measure(sim: &SimCluster, runs: usize, page_size: u32) -> Measured {
    let lists = Arc::new(AtomicU32::new(0));
    let others = Arc::new(AtomicU32::new(0));
    let (l, o) = (lists.clone(), others.clone());
    // Counts the requests the kube client sends: list calls (every list the snapshot makes pages with
    // `limit=`) and everything else (previous logs).
    let service = tower::ServiceBuilder::new()
        .map_request(move |req: http::Request<kube::client::Body>| {
            if req.uri().query().is_some_and(|q| q.contains("limit=")) {
                l.fetch_add(1, Ordering::Relaxed);
            } else {
                o.fetch_add(1, Ordering::Relaxed);
            }
            req
        })
        .service(sim.router());
    let client = kube::Client::new(service, "default");
    let scope = Scope { page_size: Some(page_size), ..Scope::all() };
    let warm = find_issues(client.clone(), scope.clone()).await.expect("find_issues");
    let mut times = Vec::new();
    let (mut per_run_lists, mut per_run_others) = (0, 0);
    for _ in 0..runs {
        lists.store(0, Ordering::Relaxed);
        others.store(0, Ordering::Relaxed);
        let start = Instant::now();
        let report = find_issues(client.clone(), scope.clone()).await.expect("find_issues");
        times.push(start.elapsed());
        assert_eq!(report.findings.len(), warm.findings.len(), "the cluster does not change between runs");
        per_run_lists = lists.load(Ordering::Relaxed);
        per_run_others = others.load(Ordering::Relaxed);
    }
    times.sort();
    Measured {
        median: percentile(&times, 0.5),
        p90: percentile(&times, 0.9),
        lists: per_run_lists,
        others: per_run_others,
        findings: warm.findings.len(),
        reported_lists: warm.stats.list_calls,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs =
        std::env::args().skip_while(|a| a != "--runs").nth(1).and_then(|n| n.parse().ok()).unwrap_or(9usize).max(1);
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, controllers: false, ..SimOptions::default() })
        .await
        .expect("sim");
    let started = Instant::now();
    let objects = fill(&sim);
    let total_pods = NAMESPACES * DEPLOYMENTS * PODS;
    eprintln!("filled the cluster: {objects} objects ({total_pods} pods) in {:.1} s", started.elapsed().as_secs_f64());

    let client = kube::Client::new(sim.router(), "default");
    let all_pods = client
        .request_text(http::Request::get("/api/v1/pods").body(Vec::new()).expect("request"))
        .await
        .expect("list pods");
    let main_run = measure(&sim, runs, binnacle_findings::PAGE_SIZE).await;
    let small_pages = measure(&sim, runs, 500).await;
    assert_eq!(main_run.lists, main_run.reported_lists, "the snapshot counts its own list calls");
    // The analyzers alone, over a snapshot read once.
    let snap = binnacle_findings::Snapshot::read(client, &Scope::all()).await.expect("snapshot");
    let mut analyze_times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(binnacle_findings::analyze(&snap));
            start.elapsed()
        })
        .collect();
    analyze_times.sort();

    println!(
        "find_issues on {total_pods} pods in {NAMESPACES} namespaces ({objects} objects; the pods are {:.1} MiB of JSON), {runs} runs after one warm-up",
        all_pods.len() as f64 / (1024.0 * 1024.0)
    );
    println!();
    println!("| measure | result | target |");
    println!("|---|---|---|");
    println!(
        "| time, {} per page | median {}, p90 {} | < 500 ms |",
        binnacle_findings::PAGE_SIZE,
        ms(main_run.median),
        ms(main_run.p90)
    );
    println!("| list calls, {} per page | {} | < 30 |", binnacle_findings::PAGE_SIZE, main_run.lists);
    println!("| other requests (previous logs) | {} | |", main_run.others);
    println!(
        "| of which the 27 analyzers, over the snapshot | median {:.1} ms | |",
        percentile(&analyze_times, 0.5).as_secs_f64() * 1e3
    );
    println!("| findings | {} | |", main_run.findings);
    println!(
        "| for comparison, 500 per page | median {}, p90 {}, {} list calls | |",
        ms(small_pages.median),
        ms(small_pages.p90),
        small_pages.lists
    );
}
