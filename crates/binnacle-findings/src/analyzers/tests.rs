//! Unit tests on minimal fixtures: each fault is found, its healthy twin is not.

#![allow(clippy::unwrap_used)]

use crate::finding::Severity;
use crate::{Finding, Snapshot, analyze};
use serde_json::{Value, json};

fn run(objects: Vec<(&'static str, Vec<Value>)>) -> Vec<Finding> {
    analyze(&Snapshot::from_objects(objects))
}

fn by<'a>(f: &'a [Finding], analyzer: &str) -> Vec<&'a Finding> {
    f.iter().filter(|x| x.analyzer == analyzer).collect()
}

fn rs(name: &str, deploy: &str) -> Value {
    json!({"kind": "ReplicaSet", "metadata": {"name": name, "namespace": "ns",
        "ownerReferences": [{"kind": "Deployment", "name": deploy, "controller": true}]}})
}

fn pod(name: &str, rs: &str, status: Value) -> Value {
    json!({"kind": "Pod", "metadata": {"name": name, "namespace": "ns", "labels": {"app": "a"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": rs, "controller": true}]},
        "spec": {"containers": [{"name": "c", "image": "img:1", "resources": {"limits": {"memory": "64Mi"}},
            "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}]},
        "status": status})
}

fn running_ready() -> Value {
    json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "state": {"running": {}}}]})
}

fn waiting(reason: &str, message: &str, last: Value) -> Value {
    json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [{"name": "c", "ready": false, "restartCount": 3,
            "state": {"waiting": {"reason": reason, "message": message}}, "lastState": last}]})
}

fn event(kind: &str, name: &str, reason: &str, message: &str, count: i64) -> Value {
    json!({"involvedObject": {"kind": kind, "namespace": "ns", "name": name}, "reason": reason, "message": message, "count": count})
}

#[test]
fn crash_loop_grouped_by_deployment_with_logs() {
    let crash = waiting("CrashLoopBackOff", "back-off", json!({"terminated": {"reason": "Error", "exitCode": 1}}));
    let mut snap = Snapshot::from_objects(vec![
        ("replicasets", vec![rs("a-1", "a")]),
        (
            "pods",
            vec![pod("a-1-x", "a-1", crash.clone()), pod("a-1-y", "a-1", crash), pod("b", "b-1", running_ready())],
        ),
        ("events", vec![event("Pod", "a-1-x", "BackOff", "Back-off restarting failed container", 4)]),
    ]);
    snap.previous_logs
        .insert(("ns".into(), "a-1-x".into(), "c".into()), vec!["starting".into(), "FATAL: no db".into()]);
    let f = analyze(&snap);
    let crash = by(&f, "crash-loop");
    assert_eq!(crash.len(), 1);
    assert_eq!(crash[0].summary, "2 pods of deployment ns/a crash-loop (CrashLoopBackOff)");
    assert!(crash[0].likely_cause.contains("FATAL: no db"));
    assert_eq!(crash[0].evidence.events[0].count, 4);
    assert_eq!(crash[0].next_step.as_ref().unwrap().tool, "pod_logs");
    // The Deployment is explained by the pod finding: no separate "unavailable" one.
    assert!(by(&f, "deployment-unavailable").is_empty());
}

#[test]
fn healthy_pods_produce_nothing() {
    let f = run(vec![("pods", vec![pod("p", "r", running_ready())]), ("replicasets", vec![rs("r", "d")])]);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn oom_is_not_a_crash_loop_and_names_the_limit() {
    let st = waiting("CrashLoopBackOff", "", json!({"terminated": {"reason": "OOMKilled", "exitCode": 137}}));
    let f = run(vec![("pods", vec![pod("p", "r", st)])]);
    assert!(by(&f, "crash-loop").is_empty());
    assert!(by(&f, "oom-killed")[0].likely_cause.contains("64Mi"));
}

#[test]
fn image_pull_names_the_image() {
    let st = waiting("ImagePullBackOff", "Back-off pulling image", Value::Null);
    let f = run(vec![
        ("pods", vec![pod("p", "r", st)]),
        ("events", vec![event("Pod", "p", "Failed", "Failed to pull image \"img:1\": not found", 2)]),
    ]);
    let f = by(&f, "image-pull");
    assert!(f[0].likely_cause.contains("img:1") && f[0].likely_cause.contains("not found"), "{:?}", f[0]);
}

#[test]
fn config_error_missing_configmap_and_key() {
    let st = waiting("CreateContainerConfigError", "configmap \"cm\" not found", Value::Null);
    let f = run(vec![("pods", vec![pod("p", "r", st.clone())])]);
    assert_eq!(by(&f, "config-error")[0].likely_cause, "ConfigMap cm is missing");
    let cm = json!({"kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}, "data": {"other": "v"}});
    let f = run(vec![("pods", vec![pod("p", "r", st)]), ("configmaps", vec![cm])]);
    assert_eq!(by(&f, "config-error")[0].likely_cause, "ConfigMap cm has no key k");
}

#[test]
fn unschedulable_uses_the_scheduler_message() {
    let st = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "old"}]});
    let f = run(vec![
        ("pods", vec![pod("p", "r", st)]),
        ("events", vec![event("Pod", "p", "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", 1)]),
    ]);
    assert!(by(&f, "unschedulable")[0].likely_cause.contains("Insufficient cpu"));
}

#[test]
fn readiness_needs_unhealthy_events() {
    let st = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "containerStatuses": [{"name": "c", "ready": false, "state": {"running": {}}}]});
    let without = run(vec![("pods", vec![pod("p", "r", st.clone())])]);
    assert!(by(&without, "failing-readiness").is_empty());
    let with = run(vec![
        ("pods", vec![pod("p", "r", st)]),
        ("events", vec![event("Pod", "p", "Unhealthy", "Readiness probe failed: 503", 9)]),
    ]);
    assert_eq!(by(&with, "failing-readiness")[0].severity, Severity::Warning);
}

#[test]
fn services_without_pods_or_ready_endpoints() {
    let svc = |name: &str, app: &str| json!({"kind": "Service", "metadata": {"name": name, "namespace": "ns"}, "spec": {"selector": {"app": app}}});
    let slice = |svc: &str, ready: bool| {
        json!({"metadata": {"name": format!("{svc}-x"), "namespace": "ns",
        "labels": {"kubernetes.io/service-name": svc}}, "endpoints": [{"conditions": {"ready": ready}}]})
    };
    let f = run(vec![
        ("services", vec![svc("good", "a"), svc("wrong", "b"), svc("down", "a")]),
        ("pods", vec![pod("p", "r", running_ready())]),
        ("endpointslices", vec![slice("good", true), slice("down", false)]),
        ("events", vec![event("Pod", "p", "Unhealthy", "Readiness probe failed", 3)]),
    ]);
    let names: Vec<(&str, &str)> = f.iter().map(|x| (x.analyzer.as_str(), x.name.as_str())).collect();
    assert_eq!(names, vec![("service-no-endpoints", "down"), ("service-selector", "wrong")]);
}

#[test]
fn pvc_pending_missing_class() {
    let pvc = |name: &str, class: &str, phase: &str| json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"storageClassName": class}, "status": {"phase": phase}});
    let sc = json!({"metadata": {"name": "standard"}});
    let f = run(vec![
        ("pvcs", vec![pvc("a", "fast", "Pending"), pvc("b", "standard", "Bound")]),
        ("storageclasses", vec![sc]),
    ]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].likely_cause, "StorageClass fast does not exist");
}

#[test]
fn nodes() {
    let node = |name: &str, ready: &str, cordon: bool| {
        json!({"metadata": {"name": name}, "spec": {"unschedulable": cordon},
        "status": {"conditions": [{"type": "Ready", "status": ready}, {"type": "MemoryPressure", "status": "False"}]}})
    };
    let f = run(vec![(
        "nodes",
        vec![node("ok", "True", false), node("down", "Unknown", false), node("cordoned", "True", true)],
    )]);
    let got: Vec<(&str, Severity)> = f.iter().map(|x| (x.name.as_str(), x.severity)).collect();
    assert_eq!(got, vec![("down", Severity::Critical), ("cordoned", Severity::Info)]);
}

#[test]
fn jobs_cronjobs_hpas_pdbs() {
    let job = |name: &str, failed: bool| {
        json!({"metadata": {"name": name, "namespace": "ns"}, "status": {"conditions":
        if failed { json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "limit"}]) }
        else { json!([{"type": "Complete", "status": "True"}]) }}})
    };
    let cj = |name: &str, schedule: &str, suspend: bool| json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"schedule": schedule, "suspend": suspend}});
    let hpa = |name: &str, current: i64| {
        json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"maxReplicas": 5},
        "status": {"currentReplicas": current, "conditions": [{"type": "ScalingActive", "status": "True"}]}})
    };
    let pdb = |name: &str, allowed: i64| {
        json!({"metadata": {"name": name, "namespace": "ns"},
        "status": {"disruptionsAllowed": allowed, "expectedPods": 2, "currentHealthy": 2, "desiredHealthy": 2}})
    };
    let f = run(vec![
        ("jobs", vec![job("bad", true), job("good", false)]),
        ("cronjobs", vec![cj("ok", "0 * * * *", false), cj("off", "0 * * * *", true), cj("typo", "every day", false)]),
        ("hpas", vec![hpa("maxed", 5), hpa("fine", 2)]),
        ("pdbs", vec![pdb("tight", 0), pdb("loose", 1)]),
    ]);
    let mut got: Vec<(&str, &str)> = f.iter().map(|x| (x.analyzer.as_str(), x.name.as_str())).collect();
    got.sort();
    assert_eq!(
        got,
        vec![("cronjob", "off"), ("cronjob", "typo"), ("hpa", "maxed"), ("job-failed", "bad"), ("pdb", "tight")]
    );
}

#[test]
fn rollouts_only_when_served() {
    let ro =
        |name: &str, phase: &str| json!({"metadata": {"name": name, "namespace": "ns"}, "status": {"phase": phase}});
    let f = run(vec![("rollouts", vec![ro("bad", "Degraded"), ro("ok", "Healthy")])]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(run(vec![]).is_empty());
}

#[test]
fn deployment_unavailable_without_pod_finding() {
    let d = json!({"metadata": {"name": "d", "namespace": "ns"}, "spec": {"replicas": 3}, "status": {"unavailableReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}});
    let f = run(vec![("deployments", vec![d])]);
    assert_eq!(f[0].analyzer, "deployment-unavailable");
    assert_eq!(f[0].severity, Severity::Critical);
    let rolling = json!({"metadata": {"name": "d", "namespace": "ns"}, "spec": {"replicas": 3}, "status": {"unavailableReplicas": 3,
        "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]}});
    assert!(run(vec![("deployments", vec![rolling])]).is_empty());
    let degraded = json!({"metadata": {"name": "d", "namespace": "ns"}, "spec": {"replicas": 3}, "status": {"unavailableReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}});
    assert_eq!(run(vec![("deployments", vec![degraded])])[0].severity, Severity::Warning);
}

#[test]
fn secret_values_are_dropped_and_text_sanitized() {
    let s =
        json!({"kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}, "data": {"password": "aHVudGVyMg=="}});
    let snap = Snapshot::from_objects(vec![("secrets", vec![s])]);
    assert_eq!(snap.get("secrets", "ns", "s").unwrap()["data"]["password"], Value::Null);
    assert_eq!(crate::finding::sanitize("a\u{1b}[31mb\r\n"), "a [31mb");
}

#[test]
fn cronjob_unparseable_schedule_event() {
    let cj = json!({"metadata": {"name": "c", "namespace": "ns"}, "spec": {"schedule": "0 * * * *"}});
    let ev = event("CronJob", "c", "UnparseableSchedule", "unparseable schedule", 1);
    let f = run(vec![("cronjobs", vec![cj]), ("events", vec![ev])]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence.events[0].reason, "UnparseableSchedule");
}
