//! The workload controllers against a running simulated cluster: objects are created through the
//! cluster's API semantics and each test polls (bounded by a wall-clock deadline) until the controllers
//! have made them behave as in a real cluster.

use binnacle_sim::cluster::{Part, PatchType, WriteOptions};
use binnacle_sim::registry::ResourceType;
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

async fn start(scenario: Scenario) -> SimCluster {
    SimCluster::start(SimOptions { scenario, speed: 20.0, ..Default::default() }).await.expect("sim starts")
}

fn rt(sim: &SimCluster, group: &str, version: &str, plural: &str) -> Arc<ResourceType> {
    sim.cluster().resource(group, version, plural).expect("resource is served")
}

fn opts() -> WriteOptions {
    WriteOptions { manager: "test".into(), ..Default::default() }
}

fn create(sim: &SimCluster, api: (&str, &str, &str), ns: &str, obj: Value) {
    let (group, version, plural) = api;
    let rt = rt(sim, group, version, plural);
    sim.cluster().create(&rt, ns, obj, &opts()).expect("created");
}

fn get(sim: &SimCluster, api: (&str, &str, &str), ns: &str, name: &str) -> Option<Value> {
    let (group, version, plural) = api;
    let rt = rt(sim, group, version, plural);
    sim.cluster().get_raw(&rt, ns, name).ok().map(|o| (*o).clone())
}

fn list(sim: &SimCluster, api: (&str, &str, &str), ns: &str) -> Vec<Value> {
    let (group, version, plural) = api;
    let rt = rt(sim, group, version, plural);
    sim.cluster().list_all(&rt.storage, Some(ns)).into_iter().map(|o| (*o).clone()).collect()
}

fn merge_patch(sim: &SimCluster, api: (&str, &str, &str), ns: &str, name: &str, patch: Value, part: Part) {
    let (group, version, plural) = api;
    let rt = rt(sim, group, version, plural);
    sim.cluster().patch(&rt, ns, name, PatchType::Merge, &patch, part, &opts()).expect("patched");
}

const PODS: (&str, &str, &str) = ("", "v1", "pods");
const PVCS: (&str, &str, &str) = ("", "v1", "persistentvolumeclaims");
const EVENTS: (&str, &str, &str) = ("", "v1", "events");
const STS: (&str, &str, &str) = ("apps", "v1", "statefulsets");
const DS: (&str, &str, &str) = ("apps", "v1", "daemonsets");
const RS: (&str, &str, &str) = ("apps", "v1", "replicasets");
const JOBS: (&str, &str, &str) = ("batch", "v1", "jobs");
const CRONJOBS: (&str, &str, &str) = ("batch", "v1", "cronjobs");
const ROLLOUTS: (&str, &str, &str) = ("argoproj.io", "v1alpha1", "rollouts");

/// Polls `check` every 50 ms until it returns `Some`, failing after the deadline with `what` and the
/// last state `describe` gives.
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

fn s<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn condition<'v>(obj: &'v Value, ty: &str) -> Option<&'v Value> {
    obj.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == ty)
}

fn ready(pod: &Value) -> bool {
    condition(pod, "Ready").is_some_and(|c| c["status"] == "True")
}

fn event_messages(sim: &SimCluster, ns: &str, involved: &str) -> Vec<(String, String)> {
    list(sim, EVENTS, ns)
        .iter()
        .filter(|e| s(e, "/involvedObject/name") == involved)
        .map(|e| (s(e, "/reason").to_string(), s(e, "/message").to_string()))
        .collect()
}

fn pods_with_label(sim: &SimCluster, ns: &str, key: &str, value: &str) -> Vec<Value> {
    let pointer = format!("/metadata/labels/{}", key.replace('~', "~0").replace('/', "~1"));
    list(sim, PODS, ns).into_iter().filter(|p| s(p, &pointer) == value).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_creates_ordered_ready_pods_with_claims() {
    let sim = start(Scenario::Empty).await;
    create(
        &sim,
        ("", "v1", "services"),
        "default",
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]}
        }),
    );
    create(
        &sim,
        STS,
        "default",
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {
                "serviceName": "web", "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
            }
        }),
    );
    let pods = wait_for(
        "3 ready StatefulSet pods",
        || {
            let pods = pods_with_label(&sim, "default", "app", "web");
            (pods.len() == 3 && pods.iter().all(ready)).then_some(pods)
        },
        || {
            format!(
                "{:?}",
                pods_with_label(&sim, "default", "app", "web")
                    .iter()
                    .map(|p| s(p, "/metadata/name").to_string())
                    .collect::<Vec<_>>()
            )
        },
    )
    .await;
    let mut names: Vec<&str> = pods.iter().map(|p| s(p, "/metadata/name")).collect();
    names.sort();
    assert_eq!(names, ["web-0", "web-1", "web-2"]);
    for pod in &pods {
        let name = s(pod, "/metadata/name");
        assert_eq!(s(pod, "/spec/hostname"), name);
        assert_eq!(s(pod, "/spec/subdomain"), "web");
        assert_eq!(s(pod, "/metadata/labels/statefulset.kubernetes.io~1pod-name"), name);
        assert_eq!(s(pod, "/metadata/labels/apps.kubernetes.io~1pod-index"), &name[4..]);
        assert!(s(pod, "/metadata/labels/controller-revision-hash").starts_with("web-"));
        let claim = pod["spec"]["volumes"].as_array().and_then(|v| v.iter().find(|v| v["name"] == "data")).cloned();
        assert_eq!(claim.map(|c| c["persistentVolumeClaim"]["claimName"].clone()), Some(json!(format!("data-{name}"))));
    }
    // OrderedReady: each pod was created only after the previous one was ready.
    let by_name = |n: &str| pods.iter().find(|p| s(p, "/metadata/name") == n).cloned().unwrap_or_default();
    for (prev, next) in [("web-0", "web-1"), ("web-1", "web-2")] {
        let ready_at =
            condition(&by_name(prev), "Ready").map(|c| s(c, "/lastTransitionTime").to_string()).unwrap_or_default();
        assert!(
            ready_at.as_str() <= s(&by_name(next), "/metadata/creationTimestamp"),
            "{next} created before {prev} was ready"
        );
    }
    let sts = wait_for(
        "StatefulSet status",
        || get(&sim, STS, "default", "web").filter(|s| int(s, "/status/readyReplicas") == 3),
        || format!("{:?}", get(&sim, STS, "default", "web").map(|s| s["status"].clone())),
    )
    .await;
    assert_eq!(int(&sts, "/status/availableReplicas"), 3);
    assert_eq!(s(&sts, "/status/currentRevision"), s(&sts, "/status/updateRevision"));
    assert!(get(&sim, ("apps", "v1", "controllerrevisions"), "default", s(&sts, "/status/updateRevision")).is_some());
    let claims = wait_for(
        "bound claims",
        || {
            let claims = list(&sim, PVCS, "default");
            (claims.len() == 3 && claims.iter().all(|c| s(c, "/status/phase") == "Bound")).then_some(claims)
        },
        || format!("{:?}", list(&sim, PVCS, "default")),
    )
    .await;
    assert!(claims.iter().all(|c| c.pointer("/metadata/ownerReferences").is_none()));
    let events = event_messages(&sim, "default", "web");
    assert!(
        events.contains(&("SuccessfulCreate".into(), "create Pod web-0 in StatefulSet web successful".into())),
        "{events:?}"
    );
    assert!(
        events.contains(&(
            "SuccessfulCreate".into(),
            "create Claim data-web-0 Pod web-0 in StatefulSet web success".into()
        )),
        "{events:?}"
    );

    // Scaling down removes the highest ordinals and keeps the claims.
    merge_patch(&sim, STS, "default", "web", json!({"spec": {"replicas": 1}}), Part::Main);
    wait_for(
        "scale down to web-0",
        || {
            let names: Vec<String> = pods_with_label(&sim, "default", "app", "web")
                .iter()
                .map(|p| s(p, "/metadata/name").to_string())
                .collect();
            (names == ["web-0"]).then_some(())
        },
        || {
            format!(
                "{:?}",
                pods_with_label(&sim, "default", "app", "web")
                    .iter()
                    .map(|p| s(p, "/metadata/name").to_string())
                    .collect::<Vec<_>>()
            )
        },
    )
    .await;
    assert_eq!(list(&sim, PVCS, "default").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_rolls_out_a_new_revision() {
    let sim = start(Scenario::Empty).await;
    create(
        &sim,
        STS,
        "default",
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"serviceName": "db", "replicas": 2, "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "redis", "image": "redis:7.2"}]}}}
        }),
    );
    let first = wait_for(
        "2 ready replicas",
        || get(&sim, STS, "default", "db").filter(|s| int(s, "/status/readyReplicas") == 2),
        String::new,
    )
    .await;
    merge_patch(
        &sim,
        STS,
        "default",
        "db",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "redis:7.4"}]}}}}),
        Part::Main,
    );
    let done = wait_for(
        "updated revision everywhere",
        || {
            get(&sim, STS, "default", "db").filter(|st| {
                s(st, "/status/updateRevision") != s(&first, "/status/updateRevision")
                    && s(st, "/status/currentRevision") == s(st, "/status/updateRevision")
                    && int(st, "/status/updatedReplicas") == 2
                    && int(st, "/status/readyReplicas") == 2
            })
        },
        || format!("{:?}", get(&sim, STS, "default", "db").map(|s| s["status"].clone())),
    )
    .await;
    let pods = pods_with_label(&sim, "default", "app", "db");
    assert!(pods.iter().all(|p| s(p, "/spec/containers/0/image") == "redis:7.4"
        && s(p, "/metadata/labels/controller-revision-hash") == s(&done, "/status/updateRevision")));
    let revisions = list(&sim, ("apps", "v1", "controllerrevisions"), "default");
    let mut numbers: Vec<i64> = revisions.iter().map(|r| int(r, "/revision")).collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_runs_one_pod_per_eligible_node() {
    let sim = start(Scenario::Empty).await;
    // A third node with a taint the DaemonSet does not tolerate.
    create(
        &sim,
        ("", "v1", "nodes"),
        "",
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "sim-gpu-1", "labels": {"kubernetes.io/hostname": "sim-gpu-1", "kubernetes.io/os": "linux"}},
            "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}
        }),
    );
    create(
        &sim,
        DS,
        "kube-system",
        json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-exporter"},
            "spec": {"selector": {"matchLabels": {"app": "node-exporter"}},
                "template": {"metadata": {"labels": {"app": "node-exporter"}}, "spec": {"containers": [{"name": "exporter", "image": "prom/node-exporter:v1.8.2"}]}}}
        }),
    );
    let pods = wait_for(
        "a ready daemon pod on each worker",
        || {
            let pods = pods_with_label(&sim, "kube-system", "app", "node-exporter");
            (pods.len() == 2 && pods.iter().all(ready)).then_some(pods)
        },
        || {
            format!(
                "{:?}",
                pods_with_label(&sim, "kube-system", "app", "node-exporter")
                    .iter()
                    .map(|p| (s(p, "/metadata/name").to_string(), s(p, "/spec/nodeName").to_string()))
                    .collect::<Vec<_>>()
            )
        },
    )
    .await;
    let mut nodes: Vec<&str> = pods.iter().map(|p| s(p, "/spec/nodeName")).collect();
    nodes.sort();
    assert_eq!(nodes, ["sim-worker-1", "sim-worker-2"]);
    for pod in &pods {
        let field = &pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            [0]["matchFields"][0];
        assert_eq!(field["values"][0], pod["spec"]["nodeName"]);
        assert!(
            pod["spec"]["tolerations"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["key"] == "node.kubernetes.io/not-ready"))
        );
    }
    let ds = wait_for(
        "DaemonSet status",
        || get(&sim, DS, "kube-system", "node-exporter").filter(|d| int(d, "/status/numberReady") == 2),
        || format!("{:?}", get(&sim, DS, "kube-system", "node-exporter").map(|d| d["status"].clone())),
    )
    .await;
    assert_eq!(int(&ds, "/status/desiredNumberScheduled"), 2);
    assert_eq!(int(&ds, "/status/currentNumberScheduled"), 2);
    assert_eq!(int(&ds, "/status/numberMisscheduled"), 0);
    assert_eq!(int(&ds, "/status/updatedNumberScheduled"), 2);
}

fn job(name: &str, spec: Value, annotations: Value) -> Value {
    let mut job = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"template": {"metadata": {"annotations": annotations},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "work", "image": "busybox:1.36"}]}}}
    });
    if let (Some(target), Some(extra)) = (job["spec"].as_object_mut(), spec.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_runs_to_completion() {
    let sim = start(Scenario::Empty).await;
    create(&sim, JOBS, "default", job("report", json!({"completions": 2}), json!({"sim.binnacle.dev/duration": "2"})));
    let done = wait_for(
        "Complete condition",
        || {
            get(&sim, JOBS, "default", "report")
                .filter(|j| condition(j, "Complete").is_some_and(|c| c["status"] == "True"))
        },
        || format!("{:?}", get(&sim, JOBS, "default", "report").map(|j| j["status"].clone())),
    )
    .await;
    assert_eq!(int(&done, "/status/succeeded"), 2);
    assert_eq!(int(&done, "/status/ready"), 0);
    assert!(done.pointer("/status/completionTime").is_some() && done.pointer("/status/startTime").is_some());
    assert_eq!(done["status"]["uncountedTerminatedPods"], json!({}));
    assert_eq!(condition(&done, "SuccessCriteriaMet").map(|c| c["reason"].clone()), Some(json!("CompletionsReached")));
    // The selector the API server would have generated, without bumping the generation.
    let uid = s(&done, "/metadata/uid");
    assert_eq!(s(&done, "/spec/selector/matchLabels/batch.kubernetes.io~1controller-uid"), uid);
    assert_eq!(int(&done, "/metadata/generation"), 1);
    assert_eq!(s(&done, "/metadata/labels/job-name"), "report", "an unlabelled Job gets its template's labels");
    let pods = pods_with_label(&sim, "default", "batch.kubernetes.io/job-name", "report");
    assert_eq!(pods.len(), 2);
    assert!(
        pods.iter().all(|p| s(p, "/status/phase") == "Succeeded" && s(p, "/metadata/labels/controller-uid") == uid)
    );
    let events = event_messages(&sim, "default", "report");
    assert!(events.iter().any(|(r, m)| r == "SuccessfulCreate" && m.starts_with("Created pod: report-")), "{events:?}");
    assert!(events.contains(&("Completed".into(), "Job completed".into())), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_job_stops_at_the_backoff_limit() {
    let sim = start(Scenario::Empty).await;
    create(
        &sim,
        JOBS,
        "default",
        job("flaky", json!({"backoffLimit": 1}), json!({"sim.binnacle.dev/behavior": "fail"})),
    );
    let failed = wait_for(
        "Failed condition",
        || {
            get(&sim, JOBS, "default", "flaky")
                .filter(|j| condition(j, "Failed").is_some_and(|c| c["status"] == "True"))
        },
        || format!("{:?}", get(&sim, JOBS, "default", "flaky").map(|j| j["status"].clone())),
    )
    .await;
    let cond = condition(&failed, "Failed").cloned().unwrap_or_default();
    assert_eq!(cond["reason"], "BackoffLimitExceeded");
    assert_eq!(cond["message"], "Job has reached the specified backoff limit");
    assert_eq!(condition(&failed, "FailureTarget").map(|c| c["reason"].clone()), Some(json!("BackoffLimitExceeded")));
    assert_eq!(int(&failed, "/status/failed"), 2);
    assert!(failed.pointer("/status/completionTime").is_none());
    let pods = pods_with_label(&sim, "default", "job-name", "flaky");
    assert_eq!(pods.len(), 2, "failed pods are kept");
    let events = event_messages(&sim, "default", "flaky");
    assert!(
        events.contains(&("BackoffLimitExceeded".into(), "Job has reached the specified backoff limit".into())),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_creates_a_job_when_the_schedule_comes() {
    let sim = start(Scenario::Empty).await;
    let cronjob = |name: &str, schedule: &str| {
        json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "tick", "image": "busybox:1.36"}]}}}}}
        })
    };
    create(&sim, CRONJOBS, "default", cronjob("tick", "*/1 * * * *"));
    create(&sim, CRONJOBS, "default", cronjob("broken", "61 * * * *"));
    sim.advance(Duration::from_secs(70));
    // Any write wakes the controllers at once.
    create(
        &sim,
        ("", "v1", "configmaps"),
        "default",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "poke"}}),
    );
    let job = wait_for(
        "a Job owned by the CronJob",
        || list(&sim, JOBS, "default").into_iter().find(|j| s(j, "/metadata/ownerReferences/0/name") == "tick"),
        || format!("{:?}", get(&sim, CRONJOBS, "default", "tick").map(|c| c["status"].clone())),
    )
    .await;
    let name = s(&job, "/metadata/name");
    let minutes: i64 = name.trim_start_matches("tick-").parse().expect("job named after its scheduled minute");
    let cj = wait_for(
        "lastScheduleTime",
        || get(&sim, CRONJOBS, "default", "tick").filter(|c| c.pointer("/status/lastScheduleTime").is_some()),
        String::new,
    )
    .await;
    let scheduled: jiff::Timestamp = s(&cj, "/status/lastScheduleTime").parse().expect("timestamp");
    assert_eq!(scheduled.as_second(), minutes * 60);
    assert!(
        s(&job, "/metadata/annotations/batch.kubernetes.io~1cronjob-scheduled-timestamp")
            .starts_with(&s(&cj, "/status/lastScheduleTime")[..16])
    );
    let events = event_messages(&sim, "default", "tick");
    assert!(events.contains(&("SuccessfulCreate".into(), format!("Created job {name}"))), "{events:?}");
    // Only the most recent missed time runs: one Job, not one per missed minute.
    assert_eq!(
        list(&sim, JOBS, "default").iter().filter(|j| s(j, "/metadata/ownerReferences/0/name") == "tick").count(),
        1
    );
    let broken = event_messages(&sim, "default", "broken");
    assert!(
        broken.iter().any(|(r, m)| r == "UnparseableSchedule" && m.contains("end of range (61) above maximum (59)")),
        "{broken:?}"
    );
    assert!(list(&sim, JOBS, "default").iter().all(|j| s(j, "/metadata/ownerReferences/0/name") != "broken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_bind_with_the_default_class_and_wait_for_a_missing_one() {
    let sim = start(Scenario::Empty).await;
    let claim = |name: &str, class: Option<&str>| {
        let mut c = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}});
        if let Some(class) = class {
            c["spec"]["storageClassName"] = json!(class);
        }
        c
    };
    create(&sim, PVCS, "default", claim("data", None));
    create(&sim, PVCS, "default", claim("scratch", Some("fast-ssd")));
    let bound = wait_for(
        "bound claim",
        || get(&sim, PVCS, "default", "data").filter(|c| s(c, "/status/phase") == "Bound"),
        || format!("{:?}", get(&sim, PVCS, "default", "data")),
    )
    .await;
    let pv_name = format!("pvc-{}", s(&bound, "/metadata/uid"));
    assert_eq!(s(&bound, "/spec/volumeName"), pv_name);
    assert_eq!(s(&bound, "/spec/storageClassName"), "standard");
    assert_eq!(s(&bound, "/status/capacity/storage"), "2Gi");
    let pv = get(&sim, ("", "v1", "persistentvolumes"), "", &pv_name).expect("volume provisioned");
    assert_eq!(s(&pv, "/status/phase"), "Bound");
    assert_eq!(s(&pv, "/spec/claimRef/name"), "data");
    assert_eq!(s(&pv, "/spec/persistentVolumeReclaimPolicy"), "Delete");
    assert!(pv.pointer("/spec/hostPath/path").is_some());
    let events = event_messages(&sim, "default", "data");
    assert!(
        events.contains(&("ProvisioningSucceeded".into(), format!("Successfully provisioned volume {pv_name}"))),
        "{events:?}"
    );
    let warned = wait_for(
        "ProvisioningFailed",
        || {
            let ev = event_messages(&sim, "default", "scratch");
            ev.iter().any(|(r, _)| r == "ProvisioningFailed").then_some(ev)
        },
        String::new,
    )
    .await;
    assert!(
        warned.contains(&("ProvisioningFailed".into(), "storageclass.storage.k8s.io \"fast-ssd\" not found".into()))
    );
    assert_eq!(
        get(&sim, PVCS, "default", "scratch").map(|c| s(&c, "/status/phase").to_string()).as_deref(),
        Some("Pending")
    );
    // Deleting the claim deletes its volume (reclaim policy Delete).
    let rt = rt(&sim, "", "v1", "persistentvolumeclaims");
    sim.cluster().delete(&rt, "default", "data", &Default::default()).expect("deleted");
    wait_for(
        "volume deleted",
        || get(&sim, ("", "v1", "persistentvolumes"), "", &pv_name).is_none().then_some(()),
        String::new,
    )
    .await;
}

fn rollout_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "rollouts.argoproj.io"},
        "spec": {"group": "argoproj.io", "scope": "Namespaced",
            "names": {"kind": "Rollout", "listKind": "RolloutList", "plural": "rollouts", "singular": "rollout"},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    })
}

fn rs_of(sim: &SimCluster, ns: &str, rollout: &Value, hash: &str) -> Option<Value> {
    get(sim, RS, ns, &format!("{}-{hash}", s(rollout, "/metadata/name")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_canary_pauses_then_completes_after_promote() {
    let sim = start(Scenario::Empty).await;
    create(&sim, ("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "", rollout_crd());
    create(
        &sim,
        ROLLOUTS,
        "default",
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "shop"},
            "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "shop"}},
                "template": {"metadata": {"labels": {"app": "shop"}}, "spec": {"containers": [{"name": "shop", "image": "ghcr.io/acme/shop:1"}]}},
                "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "5s"}}]}}}
        }),
    );
    let describe = || format!("{:?}", get(&sim, ROLLOUTS, "default", "shop").map(|r| r["status"].clone()));
    let first = wait_for(
        "initial deploy healthy",
        || {
            get(&sim, ROLLOUTS, "default", "shop")
                .filter(|r| s(r, "/status/phase") == "Healthy" && int(r, "/status/availableReplicas") == 5)
        },
        describe,
    )
    .await;
    let stable = s(&first, "/status/stableRS").to_string();
    assert_eq!(stable, s(&first, "/status/currentPodHash"));
    merge_patch(
        &sim,
        ROLLOUTS,
        "default",
        "shop",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "shop", "image": "ghcr.io/acme/shop:2"}]}}}}),
        Part::Main,
    );
    let paused = wait_for(
        "paused at the pause step",
        || {
            get(&sim, ROLLOUTS, "default", "shop").filter(|r| {
                int(r, "/status/currentStepIndex") == 1
                    && s(r, "/status/phase") == "Paused"
                    && condition(r, "Paused").is_some_and(|c| c["status"] == "True")
            })
        },
        describe,
    )
    .await;
    assert_eq!(s(&paused, "/status/message"), "CanaryPauseStep");
    assert_eq!(s(&paused, "/status/pauseConditions/0/reason"), "CanaryPauseStep");
    assert_eq!(paused["status"]["controllerPause"], true);
    assert_eq!(s(&paused, "/status/stableRS"), stable);
    let canary_hash = s(&paused, "/status/currentPodHash").to_string();
    let canary = rs_of(&sim, "default", &paused, &canary_hash).expect("canary ReplicaSet");
    assert_eq!(int(&canary, "/spec/replicas"), 1);
    assert_eq!(s(&canary, "/metadata/annotations/rollout.argoproj.io~1revision"), "2");
    assert_eq!(s(&canary, "/metadata/labels/rollouts-pod-template-hash"), canary_hash);
    assert_eq!(int(&rs_of(&sim, "default", &paused, &stable).expect("stable ReplicaSet"), "/spec/replicas"), 4);
    assert_eq!(condition(&paused, "Progressing").map(|c| c["reason"].clone()), Some(json!("RolloutPaused")));
    // Promote, as `kubectl argo rollouts promote` does.
    merge_patch(&sim, ROLLOUTS, "default", "shop", json!({"status": {"pauseConditions": null}}), Part::Status);
    let done = wait_for(
        "promoted to stable and healthy",
        || {
            get(&sim, ROLLOUTS, "default", "shop")
                .filter(|r| s(r, "/status/phase") == "Healthy" && s(r, "/status/stableRS") == canary_hash)
        },
        describe,
    )
    .await;
    assert_eq!(int(&done, "/status/currentStepIndex"), 4);
    assert_eq!(s(&done, "/status/observedGeneration"), int(&done, "/metadata/generation").to_string());
    assert_eq!(s(&done, "/status/selector"), "app=shop");
    assert_eq!(condition(&done, "Healthy").map(|c| c["status"].clone()), Some(json!("True")));
    assert_eq!(condition(&done, "Completed").map(|c| c["status"].clone()), Some(json!("True")));
    wait_for(
        "old ReplicaSet scaled down",
        || rs_of(&sim, "default", &done, &stable).filter(|rs| int(rs, "/spec/replicas") == 0),
        String::new,
    )
    .await;
    let events = event_messages(&sim, "default", "shop");
    let reasons: Vec<&str> = events.iter().map(|(r, _)| r.as_str()).collect();
    for reason in [
        "RolloutUpdated",
        "NewReplicaSetCreated",
        "ScalingReplicaSet",
        "RolloutPaused",
        "RolloutResumed",
        "RolloutStepCompleted",
        "RolloutCompleted",
    ] {
        assert!(reasons.contains(&reason), "missing {reason} in {events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_abort_and_retry() {
    let sim = start(Scenario::Empty).await;
    create(&sim, ("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "", rollout_crd());
    create(
        &sim,
        ROLLOUTS,
        "default",
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "api", "annotations": {"sim.binnacle.dev/stable-image": "ghcr.io/acme/api:1"}},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "api"}},
                "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "ghcr.io/acme/api:2"}]}},
                "strategy": {"canary": {"steps": [{"setWeight": 25}, {"pause": {}}]}}}
        }),
    );
    let describe = || format!("{:?}", get(&sim, ROLLOUTS, "default", "api").map(|r| r["status"].clone()));
    let paused = wait_for(
        "paused",
        || get(&sim, ROLLOUTS, "default", "api").filter(|r| s(r, "/status/phase") == "Paused"),
        describe,
    )
    .await;
    let canary_hash = s(&paused, "/status/currentPodHash").to_string();
    let stable_hash = s(&paused, "/status/stableRS").to_string();
    merge_patch(&sim, ROLLOUTS, "default", "api", json!({"status": {"abort": true}}), Part::Status);
    let aborted = wait_for(
        "aborted",
        || {
            get(&sim, ROLLOUTS, "default", "api").filter(|r| {
                s(r, "/status/phase") == "Degraded"
                    && rs_of(&sim, "default", r, &canary_hash).is_some_and(|rs| int(&rs, "/spec/replicas") == 0)
            })
        },
        describe,
    )
    .await;
    assert_eq!(s(&aborted, "/status/message"), "RolloutAborted: Rollout aborted update to revision 2");
    assert_eq!(int(&rs_of(&sim, "default", &aborted, &stable_hash).expect("stable"), "/spec/replicas"), 4);
    assert_eq!(int(&aborted, "/status/currentStepIndex"), 0);
    assert!(aborted.pointer("/status/pauseConditions").is_none());
    // Retry starts the steps again.
    merge_patch(&sim, ROLLOUTS, "default", "api", json!({"status": {"abort": false}}), Part::Status);
    let again = wait_for(
        "paused again after retry",
        || {
            get(&sim, ROLLOUTS, "default", "api")
                .filter(|r| s(r, "/status/phase") == "Paused" && int(r, "/status/currentStepIndex") == 1)
        },
        describe,
    )
    .await;
    assert!(again.pointer("/status/abort").is_none());
    let events = event_messages(&sim, "default", "api");
    assert!(
        events.iter().any(|(r, m)| r == "RolloutAborted" && m == "Rollout aborted update to revision 2"),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_checkout_rollout_pauses_at_its_second_step() {
    let sim = start(Scenario::Demo).await;
    let describe = || format!("{:?}", get(&sim, ROLLOUTS, "rollouts", "checkout").map(|r| r["status"].clone()));
    let ro = wait_for(
        "checkout paused at step index 1",
        || {
            get(&sim, ROLLOUTS, "rollouts", "checkout")
                .filter(|r| int(r, "/status/currentStepIndex") == 1 && s(r, "/status/phase") == "Paused")
        },
        describe,
    )
    .await;
    let stable = rs_of(&sim, "rollouts", &ro, s(&ro, "/status/stableRS")).expect("stable ReplicaSet");
    let canary = rs_of(&sim, "rollouts", &ro, s(&ro, "/status/currentPodHash")).expect("canary ReplicaSet");
    assert_ne!(s(&ro, "/status/stableRS"), s(&ro, "/status/currentPodHash"));
    assert_eq!(s(&stable, "/spec/template/spec/containers/0/image"), "ghcr.io/acme/checkout:1.4.0");
    assert_eq!(s(&stable, "/metadata/annotations/rollout.argoproj.io~1revision"), "1");
    assert_eq!(int(&stable, "/spec/replicas"), 4);
    assert_eq!(s(&canary, "/spec/template/spec/containers/0/image"), "ghcr.io/acme/checkout:1.5.0");
    assert_eq!(s(&canary, "/metadata/annotations/rollout.argoproj.io~1revision"), "2");
    assert_eq!(int(&canary, "/spec/replicas"), 1);
    assert_eq!(s(&ro, "/metadata/annotations/rollout.argoproj.io~1revision"), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_autoscaler_and_disruption_budget_report_status() {
    let sim = start(Scenario::Demo).await;
    let hpa = wait_for(
        "HPA metrics",
        || {
            get(&sim, ("autoscaling", "v2", "horizontalpodautoscalers"), "shop", "frontend")
                .filter(|h| condition(h, "ScalingActive").is_some_and(|c| c["status"] == "True"))
        },
        || {
            format!(
                "{:?}",
                get(&sim, ("autoscaling", "v2", "horizontalpodautoscalers"), "shop", "frontend")
                    .map(|h| h["status"].clone())
            )
        },
    )
    .await;
    assert_eq!(s(&hpa, "/status/currentMetrics/0/resource/name"), "cpu");
    assert!(hpa.pointer("/status/currentMetrics/0/resource/current/averageUtilization").is_some());
    let desired = int(&hpa, "/status/desiredReplicas");
    assert!((3..=6).contains(&desired), "{desired}");
    let pdb = wait_for(
        "PDB status",
        || {
            get(&sim, ("policy", "v1", "poddisruptionbudgets"), "shop", "frontend")
                .filter(|p| int(p, "/status/currentHealthy") >= 3)
        },
        || {
            format!(
                "{:?}",
                get(&sim, ("policy", "v1", "poddisruptionbudgets"), "shop", "frontend").map(|p| p["status"].clone())
            )
        },
    )
    .await;
    assert_eq!(int(&pdb, "/status/desiredHealthy"), 2);
    assert_eq!(int(&pdb, "/status/disruptionsAllowed"), int(&pdb, "/status/currentHealthy") - 2);
    assert_eq!(condition(&pdb, "DisruptionAllowed").map(|c| c["reason"].clone()), Some(json!("SufficientPods")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoscaler_without_cpu_requests_reports_missing_request() {
    let sim = start(Scenario::Empty).await;
    create(
        &sim,
        ("apps", "v1", "deployments"),
        "default",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}
        }),
    );
    create(
        &sim,
        ("autoscaling", "v2", "horizontalpodautoscalers"),
        "default",
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}
        }),
    );
    let hpa = wait_for(
        "ScalingActive False",
        || {
            get(&sim, ("autoscaling", "v2", "horizontalpodautoscalers"), "default", "web")
                .filter(|h| condition(h, "ScalingActive").is_some_and(|c| s(c, "/message").contains("missing request")))
        },
        || {
            format!(
                "{:?}",
                get(&sim, ("autoscaling", "v2", "horizontalpodautoscalers"), "default", "web")
                    .map(|h| h["status"].clone())
            )
        },
    )
    .await;
    let cond = condition(&hpa, "ScalingActive").cloned().unwrap_or_default();
    assert_eq!(cond["reason"], "FailedGetResourceMetric");
    assert!(s(&cond, "/message").contains("missing request for cpu in container nginx of Pod web-"), "{cond}");
    assert_eq!(int(&hpa, "/status/desiredReplicas"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_blue_green_switches_the_active_service_on_promote() {
    let sim = start(Scenario::Empty).await;
    create(&sim, ("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "", rollout_crd());
    for name in ["pay-active", "pay-preview"] {
        create(
            &sim,
            ("", "v1", "services"),
            "default",
            json!({
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {"selector": {"app": "pay"}, "ports": [{"port": 80}]}
            }),
        );
    }
    create(
        &sim,
        ROLLOUTS,
        "default",
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "pay"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "pay"}},
                "template": {"metadata": {"labels": {"app": "pay"}}, "spec": {"containers": [{"name": "pay", "image": "ghcr.io/acme/pay:1"}]}},
                "strategy": {"blueGreen": {"activeService": "pay-active", "previewService": "pay-preview", "autoPromotionEnabled": false}}}
        }),
    );
    let describe = || format!("{:?}", get(&sim, ROLLOUTS, "default", "pay").map(|r| r["status"].clone()));
    let svc_hash = |name: &str| {
        get(&sim, ("", "v1", "services"), "default", name)
            .map(|s| s["spec"]["selector"]["rollouts-pod-template-hash"].clone())
    };
    let blue = wait_for(
        "initial deploy healthy",
        || get(&sim, ROLLOUTS, "default", "pay").filter(|r| s(r, "/status/phase") == "Healthy"),
        describe,
    )
    .await;
    let blue_hash = s(&blue, "/status/stableRS").to_string();
    assert_eq!(s(&blue, "/status/blueGreen/activeSelector"), blue_hash);
    assert_eq!(svc_hash("pay-active"), Some(json!(blue_hash)));
    merge_patch(
        &sim,
        ROLLOUTS,
        "default",
        "pay",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "pay", "image": "ghcr.io/acme/pay:2"}]}}}}),
        Part::Main,
    );
    let paused = wait_for(
        "preview up and paused",
        || {
            get(&sim, ROLLOUTS, "default", "pay").filter(|r| {
                s(r, "/status/phase") == "Paused" && s(r, "/status/pauseConditions/0/reason") == "BlueGreenPause"
            })
        },
        describe,
    )
    .await;
    let green_hash = s(&paused, "/status/currentPodHash").to_string();
    assert_eq!(s(&paused, "/status/blueGreen/previewSelector"), green_hash);
    assert_eq!(svc_hash("pay-preview"), Some(json!(green_hash)));
    assert_eq!(svc_hash("pay-active"), Some(json!(blue_hash)), "the active Service waits for the promotion");
    merge_patch(&sim, ROLLOUTS, "default", "pay", json!({"status": {"pauseConditions": null}}), Part::Status);
    let done = wait_for(
        "promoted",
        || {
            get(&sim, ROLLOUTS, "default", "pay")
                .filter(|r| s(r, "/status/phase") == "Healthy" && s(r, "/status/stableRS") == green_hash)
        },
        describe,
    )
    .await;
    assert_eq!(s(&done, "/status/blueGreen/activeSelector"), green_hash);
    assert_eq!(svc_hash("pay-active"), Some(json!(green_hash)));
    // The previous ReplicaSet goes after the scale-down delay (30s simulated).
    wait_for(
        "blue scaled down",
        || rs_of(&sim, "default", &done, &blue_hash).filter(|rs| int(rs, "/spec/replicas") == 0),
        String::new,
    )
    .await;
}

/// A pod whose Secret volume does not exist waits in ContainerCreating with the kubelet's FailedMount
/// warning; its Deployment exceeds the progress deadline; once the Secret exists the pod starts and the
/// rollout completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_volume_stalls_the_rollout_until_the_secret_exists() {
    let sim = start(Scenario::Empty).await;
    const DEPLOY: (&str, &str, &str) = ("apps", "v1", "deployments");
    create(
        &sim,
        DEPLOY,
        "default",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "catalog", "namespace": "default"},
            "spec": {
                "replicas": 1, "progressDeadlineSeconds": 30,
                "selector": {"matchLabels": {"app": "catalog"}},
                "template": {
                    "metadata": {"labels": {"app": "catalog"}},
                    "spec": {
                        "containers": [{"name": "catalog", "image": "ghcr.io/acme/catalog:4.2.0",
                            "volumeMounts": [{"name": "db", "mountPath": "/etc/db"}]}],
                        "volumes": [{"name": "db", "secret": {"secretName": "catalog-db"}},
                                    {"name": "opt", "configMap": {"name": "absent", "optional": true}}]
                    }
                }
            }
        }),
    );
    let describe = || format!("{:?}", get(&sim, DEPLOY, "default", "catalog").map(|d| d["status"].clone()));
    let timed_out = wait_for(
        "ProgressDeadlineExceeded",
        || {
            get(&sim, DEPLOY, "default", "catalog")
                .filter(|d| condition(d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded"))
        },
        describe,
    )
    .await;
    assert_eq!(condition(&timed_out, "Progressing").map(|c| c["status"].clone()), Some(json!("False")));
    let pods = pods_with_label(&sim, "default", "app", "catalog");
    assert_eq!(pods.len(), 1, "{pods:?}");
    let pod = &pods[0];
    assert_eq!(s(pod, "/status/phase"), "Pending");
    assert_eq!(s(pod, "/status/containerStatuses/0/state/waiting/reason"), "ContainerCreating");
    assert_eq!(condition(pod, "PodReadyToStartContainers").map(|c| c["status"].clone()), Some(json!("False")));
    let events = event_messages(&sim, "default", s(pod, "/metadata/name"));
    let mount = "MountVolume.SetUp failed for volume \"db\" : secret \"catalog-db\" not found";
    assert!(events.contains(&("FailedMount".into(), mount.into())), "{events:?}");
    assert!(!events.iter().any(|(r, _)| r == "Started" || r == "Pulling"), "no container starts: {events:?}");

    // The missing Secret is created: the kubelet mounts it and the pod starts.
    create(
        &sim,
        ("", "v1", "secrets"),
        "default",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "catalog-db"}, "data": {"url": "cG9zdGdyZXM="}}),
    );
    wait_for(
        "the rollout to complete",
        || {
            get(&sim, DEPLOY, "default", "catalog")
                .filter(|d| condition(d, "Progressing").is_some_and(|c| c["reason"] == "NewReplicaSetAvailable"))
        },
        describe,
    )
    .await;
    let pods = pods_with_label(&sim, "default", "app", "catalog");
    assert!(pods.len() == 1 && ready(&pods[0]), "{pods:?}");
}
