//! Admission (ResourceQuota, LimitRange) and what controllers and the kubelet make of refusals and failing
//! liveness probes, against a running simulated cluster: writes go through the cluster's API semantics (and
//! one through kube-rs over the HTTP router), and each test polls, bounded by a wall-clock deadline, until the
//! controllers have acted.

use binnacle_sim::cluster::{DeleteOptions, Part, PatchType, WriteOptions};
use binnacle_sim::error::Reason;
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

type Api = (&'static str, &'static str, &'static str);
const PODS: Api = ("", "v1", "pods");
const EVENTS: Api = ("", "v1", "events");
const QUOTAS: Api = ("", "v1", "resourcequotas");
const RANGES: Api = ("", "v1", "limitranges");
const NAMESPACES: Api = ("", "v1", "namespaces");
const RS: Api = ("apps", "v1", "replicasets");
const STS: Api = ("apps", "v1", "statefulsets");
const DS: Api = ("apps", "v1", "daemonsets");

async fn start(scenario: Scenario) -> SimCluster {
    SimCluster::start(SimOptions { scenario, speed: 20.0, ..Default::default() }).await.expect("sim starts")
}

fn opts() -> WriteOptions {
    WriteOptions { manager: "test".into(), ..Default::default() }
}

#[allow(clippy::result_large_err)] // the sim's own error type, as its API returns it
fn create(sim: &SimCluster, api: Api, ns: &str, obj: Value) -> Result<Value, binnacle_sim::error::ApiError> {
    let rt = sim.cluster().resource(api.0, api.1, api.2).expect("served");
    sim.cluster().create(&rt, ns, obj, &opts())
}

fn get(sim: &SimCluster, api: Api, ns: &str, name: &str) -> Option<Value> {
    let rt = sim.cluster().resource(api.0, api.1, api.2).expect("served");
    sim.cluster().get_raw(&rt, ns, name).ok().map(|o| (*o).clone())
}

fn list(sim: &SimCluster, api: Api, ns: &str) -> Vec<Value> {
    let rt = sim.cluster().resource(api.0, api.1, api.2).expect("served");
    sim.cluster().list_all(&rt.storage, Some(ns)).into_iter().map(|o| (*o).clone()).collect()
}

fn events(sim: &SimCluster, ns: &str, involved: &str) -> Vec<(String, String, String)> {
    list(sim, EVENTS, ns)
        .iter()
        .filter(|e| s(e, "/involvedObject/name") == involved)
        .map(|e| (s(e, "/type").to_string(), s(e, "/reason").to_string(), s(e, "/message").to_string()))
        .collect()
}

fn s<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn condition<'v>(obj: &'v Value, ty: &str) -> Option<&'v Value> {
    obj.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == ty)
}

async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>, describe: impl Fn() -> String) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if started.elapsed() > DEADLINE {
            panic!("timed out waiting for {what}; last state: {}", describe());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn namespace(sim: &SimCluster, name: &str) {
    create(sim, NAMESPACES, "", json!({"metadata": {"name": name}})).expect("namespace");
}

fn pod(name: &str, resources: Value) -> Value {
    json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "resources": resources}]}})
}

fn sized(cpu: &str, memory: &str) -> Value {
    json!({"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": "1", "memory": "512Mi"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_refuses_pods_over_hard_and_keeps_status_used() {
    let sim = start(Scenario::Empty).await;
    namespace(&sim, "team");
    let quota = json!({"metadata": {"name": "compute"}, "spec": {"hard": {
        "pods": "2", "requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi"}}});
    create(&sim, QUOTAS, "team", quota).expect("quota");

    // Every container must set what the quota tracks.
    let err = create(&sim, PODS, "team", pod("bare", json!({}))).expect_err("refused");
    assert_eq!((err.reason, err.code()), (Reason::Forbidden, 403));
    assert_eq!(
        err.message,
        "pods \"bare\" is forbidden: failed quota: compute: must specify limits.cpu for: app; limits.memory for: app; \
         requests.cpu for: app; requests.memory for: app"
    );

    create(&sim, PODS, "team", pod("a", sized("600m", "256Mi"))).expect("fits");
    let err = create(&sim, PODS, "team", pod("b", sized("600m", "256Mi"))).expect_err("over requests.cpu");
    assert_eq!(
        err.message,
        "pods \"b\" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, \
         limited: requests.cpu=1"
    );
    // A dry run is refused alike, and a generated name is shown as its prefix, as the API server does.
    let dry = WriteOptions { dry_run: true, ..opts() };
    let rt = sim.cluster().resource("", "v1", "pods").expect("served");
    let mut gen_pod = pod("", sized("600m", "256Mi"));
    gen_pod["metadata"] = json!({"generateName": "web-"});
    let err = sim.cluster().create(&rt, "team", gen_pod, &dry).expect_err("dry run refused too");
    assert!(err.message.starts_with("pods \"web-\" is forbidden: exceeded quota: compute"), "{}", err.message);
    assert!(list(&sim, PODS, "team").len() == 1, "refused pods are not stored");

    // Through the HTTP API, kube-rs sees the Status: 403 Forbidden with the message.
    let client = kube::Client::new(sim.router(), "default");
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client, "team");
    let typed = serde_json::from_value(pod("c", sized("600m", "256Mi"))).expect("pod");
    match pods.create(&kube::api::PostParams::default(), &typed).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
            assert!(status.message.contains("exceeded quota: compute, requested: requests.cpu=600m"), "{status:?}");
        }
        other => panic!("expected 403, got {other:?}"),
    }

    // The quota controller keeps status.hard and status.used.
    let want_used = json!({"pods": "1", "requests.cpu": "600m", "requests.memory": "256Mi", "limits.cpu": "1",
        "limits.memory": "512Mi"});
    wait_for(
        "status.used",
        || get(&sim, QUOTAS, "team", "compute").filter(|q| q.pointer("/status/used") == Some(&want_used)),
        || format!("{:?}", get(&sim, QUOTAS, "team", "compute").and_then(|q| q.get("status").cloned())),
    )
    .await;
    let q = get(&sim, QUOTAS, "team", "compute").expect("quota");
    assert_eq!(q.pointer("/status/hard/requests.memory"), Some(&json!("1Gi")));

    // Freed capacity is usable again.
    let rt = sim.cluster().resource("", "v1", "pods").expect("served");
    sim.cluster().delete(&rt, "team", "a", &DeleteOptions::default()).expect("deleted");
    wait_for(
        "pod a gone from usage",
        || create(&sim, PODS, "team", pod("b", sized("600m", "256Mi"))).ok(),
        || format!("{:?}", get(&sim, QUOTAS, "team", "compute").and_then(|q| q.get("status").cloned())),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_range_sets_defaults_and_refuses_over_max() {
    let sim = start(Scenario::Empty).await;
    namespace(&sim, "team");
    let range = json!({"metadata": {"name": "defaults"}, "spec": {"limits": [{"type": "Container",
        "default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "max": {"memory": "1Gi"}, "min": {"cpu": "50m"}}]}});
    create(&sim, RANGES, "team", range).expect("limit range");

    let created = create(&sim, PODS, "team", pod("plain", json!({}))).expect("admitted");
    assert_eq!(
        created.pointer("/spec/containers/0/resources"),
        Some(&json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}))
    );
    assert_eq!(
        s(&created, "/metadata/annotations/kubernetes.io~1limit-ranger"),
        "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app"
    );
    assert_eq!(s(&created, "/status/qosClass"), "Burstable");

    let err = create(&sim, PODS, "team", pod("big", json!({"limits": {"memory": "2Gi"}}))).expect_err("over max");
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(err.message, "pods \"big\" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi");
    let err = create(&sim, PODS, "team", pod("tiny", json!({"requests": {"cpu": "10m"}, "limits": {"memory": "2Gi"}})))
        .expect_err("two violations");
    assert_eq!(
        err.message,
        "pods \"tiny\" is forbidden: [maximum memory usage per Container is 1Gi, but limit is 2Gi, minimum cpu usage \
         per Container is 50m, but request is 10m]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicaset_reports_failed_create_until_the_quota_allows() {
    let sim = start(Scenario::Empty).await;
    namespace(&sim, "team");
    create(&sim, QUOTAS, "team", json!({"metadata": {"name": "count"}, "spec": {"hard": {"pods": "1"}}}))
        .expect("quota");
    let rs = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}});
    create(&sim, RS, "team", rs).expect("replicaset");
    let message = "pods \"web-\" is forbidden: exceeded quota: count, requested: pods=1, used: pods=1, limited: pods=1";
    let failure = wait_for(
        "ReplicaFailure",
        || get(&sim, RS, "team", "web").and_then(|rs| condition(&rs, "ReplicaFailure").cloned()),
        || format!("{:?}", get(&sim, RS, "team", "web")),
    )
    .await;
    assert_eq!(
        (s(&failure, "/status"), s(&failure, "/reason"), s(&failure, "/message")),
        ("True", "FailedCreate", message)
    );
    let evs = events(&sim, "team", "web");
    assert!(evs.contains(&("Warning".into(), "FailedCreate".into(), format!("Error creating: {message}"))), "{evs:?}");
    assert_eq!(list(&sim, PODS, "team").len(), 1);
    assert_eq!(get(&sim, RS, "team", "web").and_then(|r| r.pointer("/status/replicas").cloned()), Some(json!(1)));

    // Raised quota: the next retry (after the back-off) creates the pod and clears the condition.
    let rt = sim.cluster().resource("", "v1", "resourcequotas").expect("served");
    sim.cluster()
        .patch(&rt, "team", "count", PatchType::Merge, &json!({"spec": {"hard": {"pods": "5"}}}), Part::Main, &opts())
        .expect("patched");
    wait_for(
        "two pods, no ReplicaFailure",
        || {
            get(&sim, RS, "team", "web").filter(|rs| {
                rs.pointer("/status/replicas") == Some(&json!(2)) && condition(rs, "ReplicaFailure").is_none()
            })
        },
        || format!("{:?}", get(&sim, RS, "team", "web")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_liveness_probe_gets_the_container_killed_and_restarted() {
    let sim = start(Scenario::Empty).await;
    let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 2, "failureThreshold": 2});
    let obj = json!({"metadata": {"name": "hung", "annotations": {"sim.binnacle.dev/behavior": "liveness-fail"}},
        "spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/app:1", "livenessProbe": probe}]}});
    create(&sim, PODS, "default", obj).expect("pod");
    let restarted = wait_for(
        "a restart after a liveness kill",
        || {
            get(&sim, PODS, "default", "hung").filter(|p| {
                p.pointer("/status/containerStatuses/0/restartCount").and_then(Value::as_i64).unwrap_or(0) >= 2
            })
        },
        || format!("{:?}", get(&sim, PODS, "default", "hung").and_then(|p| p.get("status").cloned())),
    )
    .await;
    let last = restarted.pointer("/status/containerStatuses/0/lastState/terminated").expect("last state");
    assert_eq!((last["exitCode"].as_i64(), s(last, "/reason")), (Some(137), "Error"), "{last}");
    let evs = events(&sim, "default", "hung");
    let has = |ty: &str, reason: &str, msg: &str| evs.iter().any(|e| e.0 == ty && e.1 == reason && e.2 == msg);
    assert!(has("Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"), "{evs:?}");
    assert!(has("Normal", "Killing", "Container app failed liveness probe, will be restarted"), "{evs:?}");
    assert!(
        evs.iter()
            .any(|e| e.1 == "BackOff"
                && e.2.starts_with("Back-off restarting failed container app in pod hung_default(")),
        "the restarts back off: {evs:?}"
    );
    let unhealthy = list(&sim, EVENTS, "default")
        .into_iter()
        .find(|e| s(e, "/involvedObject/name") == "hung" && s(e, "/reason") == "Unhealthy")
        .expect("event");
    assert!(unhealthy["count"].as_i64().unwrap_or(0) >= 4, "two failures per instance, aggregated: {unhealthy}");
    assert_eq!(s(&unhealthy, "/involvedObject/fieldPath"), "spec.containers{app}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reporting_workloads_are_refused_and_report_it() {
    let sim = start(Scenario::Demo).await;
    let ds = wait_for(
        "log-shipper status",
        || {
            get(&sim, DS, "reporting", "log-shipper")
                .filter(|d| d.pointer("/status/desiredNumberScheduled").and_then(Value::as_i64).unwrap_or(0) > 0)
        },
        || format!("{:?}", get(&sim, DS, "reporting", "log-shipper")),
    )
    .await;
    let desired = ds.pointer("/status/desiredNumberScheduled").and_then(Value::as_i64);
    assert_eq!(ds.pointer("/status/numberUnavailable").and_then(Value::as_i64), desired, "{ds}");
    assert_eq!(ds.pointer("/status/currentNumberScheduled").and_then(Value::as_i64), Some(0), "{ds}");
    let sts = get(&sim, STS, "reporting", "warehouse").expect("statefulset");
    assert_eq!(sts.pointer("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0), 0, "{sts}");
    wait_for(
        "report-api's two pods in the quota's usage",
        || {
            get(&sim, QUOTAS, "reporting", "compute")
                .filter(|q| q.pointer("/status/used/requests.cpu") == Some(&json!("800m")))
        },
        || format!("{:?}", get(&sim, QUOTAS, "reporting", "compute")),
    )
    .await;
    let pods = list(&sim, PODS, "reporting");
    assert_eq!(pods.len(), 2, "only report-api's first two pods were admitted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_charges_the_quota_at_once_but_not_for_dry_runs() {
    // No controllers: whatever status.used says was written by admission.
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, controllers: false, ..Default::default() })
        .await
        .expect("sim starts");
    namespace(&sim, "team");
    let quota = json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "2", "requests.memory": "1Gi"}}});
    create(&sim, QUOTAS, "team", quota).expect("quota");
    let rt = sim.cluster().resource("", "v1", "pods").expect("served");
    let dry = WriteOptions { dry_run: true, ..opts() };
    sim.cluster().create(&rt, "team", pod("dry", sized("100m", "512Mi")), &dry).expect("dry run admitted");
    assert!(
        get(&sim, QUOTAS, "team", "q").and_then(|q| q.get("status").cloned()).is_none(),
        "a dry run charges nothing"
    );
    create(&sim, PODS, "team", pod("a", sized("100m", "512Mi"))).expect("admitted");
    let used = get(&sim, QUOTAS, "team", "q").and_then(|q| q.pointer("/status/used").cloned());
    assert_eq!(used, Some(json!({"pods": "1", "requests.memory": "512Mi"})));
    create(&sim, PODS, "team", pod("b", sized("100m", "512Mi"))).expect("admitted");
    let err = create(&sim, PODS, "team", pod("c", sized("100m", "1Mi"))).expect_err("pods full");
    assert_eq!(
        err.message,
        "pods \"c\" is forbidden: exceeded quota: q, requested: pods=1,requests.memory=1Mi, used: \
         pods=2,requests.memory=1Gi, limited: pods=2,requests.memory=1Gi"
    );
}
