//! One test per analyzer, against the in-process simulated cluster: a minimal fixture for the fault (objects
//! named `bad*`) next to its healthy twin (`good*`), in namespace `t`. The fault must be found by the right
//! analyzer with its cause and evidence; the twin must produce no finding at all.
//!
//! Faults the simulator produces itself (crash loops, pull errors, OOM kills, pending pods, failing readiness,
//! config errors, failed Jobs, Pending claims) run with its controllers at 20× speed and are polled with a
//! deadline. States it does not produce (quota refusals, liveness kills, stuck rollouts, Gateway and webhook
//! status, Helm release labels...) are written through the API with the controllers off: the analyzers only
//! read, so an object's status written by a test is as good as one written by a controller.

#![allow(clippy::unwrap_used, missing_docs)]

use binnacle_findings::{Finding, Report, Scope, Severity, find_issues};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::Scope as KubeScope;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

struct Fx {
    _sim: SimCluster,
    client: kube::Client,
}

/// A simulated cluster with namespace `t`; `controllers` runs its controllers at 20× speed.
async fn cluster(controllers: bool) -> Fx {
    let sim =
        SimCluster::start(SimOptions { scenario: Scenario::Empty, speed: 20.0, controllers, ..SimOptions::default() })
            .await
            .unwrap();
    let client = kube::Client::new(sim.router(), "default");
    let fx = Fx { _sim: sim, client };
    fx.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: t}\n").await;
    fx
}

impl Fx {
    /// Creates every document through kube-rs (namespace `t` unless given), then writes its `status`, if any,
    /// through the status subresource.
    async fn apply(&self, yaml: &str) {
        for doc in serde_norway::Deserializer::from_str(yaml) {
            let obj = Value::deserialize(doc).unwrap();
            if obj.is_null() {
                continue;
            }
            let api_version = obj["apiVersion"].as_str().unwrap();
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            let gvk = GroupVersionKind::gvk(group, version, obj["kind"].as_str().unwrap());
            let (ar, caps) = kube::discovery::pinned_kind(&self.client, &gvk).await.unwrap();
            let api: Api<DynamicObject> = if caps.scope == KubeScope::Namespaced {
                let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("t");
                Api::namespaced_with(self.client.clone(), ns, &ar)
            } else {
                Api::all_with(self.client.clone(), &ar)
            };
            let name = obj["metadata"]["name"].as_str().unwrap().to_string();
            let dynamic: DynamicObject = serde_json::from_value(obj.clone()).unwrap();
            api.create(&PostParams::default(), &dynamic).await.unwrap_or_else(|e| panic!("create {name}: {e}"));
            if let Some(status) = obj.get("status") {
                match api.patch_status(&name, &PatchParams::default(), &Patch::Merge(json!({"status": status}))).await {
                    Ok(_) => {}
                    // Kinds without a status subresource keep the status they were created with.
                    Err(kube::Error::Api(e)) if e.code == 404 || e.code == 405 => {}
                    Err(e) => panic!("status of {name}: {e}"),
                }
            }
        }
    }

    /// Runs `find_issues` on namespace `t` (and cluster-scoped kinds) until `done` holds, or fails at a deadline.
    async fn until(&self, what: &str, done: impl Fn(&Report) -> bool) -> Report {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let report = find_issues(self.client.clone(), Scope::namespaces(["t"])).await.unwrap();
            if done(&report) {
                return report;
            }
            assert!(Instant::now() < deadline, "{what} not found in time:\n{}", dump(&report));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits for the analyzer's finding on `t/name` and checks that nothing names a `good*` object.
    async fn fault(&self, analyzer: &str, name: &str) -> (Report, Finding) {
        let report = self.until(&format!("{analyzer} on {name}"), |r| finding(r, analyzer, name).is_some()).await;
        let found = finding(&report, analyzer, name).unwrap().clone();
        healthy_twins_are_quiet(&report);
        (report, found)
    }
}

fn finding<'a>(r: &'a Report, analyzer: &str, name: &str) -> Option<&'a Finding> {
    r.findings.iter().find(|f| f.analyzer == analyzer && f.name == name)
}

fn dump(r: &Report) -> String {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "[{:?}] {} {} {}/{}: {} | {}",
                f.severity, f.analyzer, f.kind, f.namespace, f.name, f.summary, f.likely_cause
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn healthy_twins_are_quiet(r: &Report) {
    let noisy: Vec<&Finding> = r.findings.iter().filter(|f| f.name.starts_with("good")).collect();
    assert!(noisy.is_empty(), "the healthy twin has findings:\n{}", dump(r));
}

fn text(f: &Finding) -> String {
    serde_json::to_string(f).unwrap()
}

/// A Deployment `name` running `image` with pod annotations and container extras (YAML flow mappings).
fn deployment(name: &str, image: &str, annotations: &str, container_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}, annotations: {{{annotations}}}}}\n    spec:\n      containers:\n        - {{name: app, image: \"{image}\"{container_extra}}}\n---\n"
    )
}

/// A pod written with its status (controllers off), owned by `owner` (`Kind/name`) when given.
fn pod(name: &str, labels: &str, owner: Option<&str>, container_extra: &str, status: &str) -> String {
    let owner = owner.map_or(String::new(), |o| {
        let (kind, oname) = o.split_once('/').unwrap();
        let api = match kind {
            "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps/v1",
            _ => "batch/v1",
        };
        format!(
            ", ownerReferences: [{{apiVersion: {api}, kind: {kind}, name: {oname}, uid: u-{oname}, controller: true}}]"
        )
    });
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{{labels}}}{owner}}}\nspec:\n  nodeName: sim-worker-1\n  containers:\n    - {{name: app, image: \"nginx:1.27\"{container_extra}}}\nstatus: {status}\n---\n"
    )
}

const RUNNING_READY: &str = "{phase: Running, conditions: [{type: Ready, status: 'True'}], containerStatuses: [{name: app, image: 'nginx:1.27', imageID: '', ready: true, restartCount: 0, state: {running: {startedAt: '2026-01-01T00:00:00Z'}}}]}";

fn event(name: &str, kind: &str, object: &str, reason: &str, message: &str, count: i64) -> String {
    format!(
        "apiVersion: v1\nkind: Event\nmetadata: {{name: {name}}}\ninvolvedObject: {{kind: {kind}, namespace: t, name: {object}}}\nreason: {reason}\nmessage: '{message}'\ntype: Warning\ncount: {count}\nfirstTimestamp: '2026-01-01T00:00:00Z'\nlastTimestamp: '2026-01-01T00:05:00Z'\nsource: {{component: test}}\n---\n"
    )
}

// ------------------------------------------------------------------------------------------- pods (simulated)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop() {
    let fx = cluster(true).await;
    fx.apply(
        &(deployment("bad", "ghcr.io/acme/api:1.0", "sim.binnacle.dev/behavior: crash", "")
            + &deployment("good", "ghcr.io/acme/api:1.0", "", "")),
    )
    .await;
    let report = fx
        .until("crash loop with logs", |r| finding(r, "crash-loop", "bad").is_some_and(|f| !f.evidence.logs.is_empty()))
        .await;
    healthy_twins_are_quiet(&report);
    let f = finding(&report, "crash-loop", "bad").unwrap();
    assert_eq!((f.kind.as_str(), f.severity), ("Deployment", Severity::Critical));
    assert!(f.likely_cause.contains("exit code 1"), "{f:?}");
    assert!(f.evidence.events.iter().any(|e| e.reason == "BackOff"), "{f:?}");
    assert_eq!(f.next_step.as_ref().unwrap().tool, "pod_logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pull() {
    let fx = cluster(true).await;
    fx.apply(&(deployment("bad", "nginx:does-not-exist", "", "") + &deployment("good", "nginx:1.27", "", ""))).await;
    let (_, f) = fx.fault("image-pull", "bad").await;
    assert!(f.likely_cause.contains("nginx:does-not-exist") && f.likely_cause.contains("not found"), "{f:?}");
    assert!(f.evidence.events.iter().any(|e| e.reason == "Failed"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oom_killed() {
    let fx = cluster(true).await;
    let limits = ", resources: {limits: {memory: 64Mi}}";
    fx.apply(
        &(deployment("bad", "ghcr.io/acme/cache:1", "sim.binnacle.dev/behavior: oom", limits)
            + &deployment("good", "ghcr.io/acme/cache:1", "", limits)),
    )
    .await;
    let (report, f) = fx.fault("oom-killed", "bad").await;
    assert!(f.likely_cause.contains("64Mi") && f.summary.contains("OOMKilled"), "{f:?}");
    assert!(finding(&report, "crash-loop", "bad").is_none(), "an OOM kill is not also a crash loop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable() {
    let fx = cluster(true).await;
    fx.apply(
        &(deployment("bad", "nginx:1.27", "", ", resources: {requests: {cpu: '64'}}")
            + &deployment("good", "nginx:1.27", "", ", resources: {requests: {cpu: 10m}}")),
    )
    .await;
    let (_, f) = fx.fault("unschedulable", "bad").await;
    assert!(f.likely_cause.to_lowercase().contains("cpu"), "{f:?}");
    assert!(f.evidence.events.iter().any(|e| e.reason == "FailedScheduling"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_readiness() {
    let fx = cluster(true).await;
    let probe = ", readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5}";
    fx.apply(
        &(deployment("bad", "ghcr.io/acme/api:1", "sim.binnacle.dev/behavior: not-ready", probe)
            + &deployment("good", "ghcr.io/acme/api:1", "", probe)),
    )
    .await;
    let (_, f) = fx.fault("failing-readiness", "bad").await;
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.likely_cause.contains("Readiness probe failed"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_error() {
    let fx = cluster(true).await;
    fx.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: info}\n---\n").await;
    let env =
        |key: &str| format!(", env: [{{name: LEVEL, valueFrom: {{configMapKeyRef: {{name: settings, key: {key}}}}}}}]");
    let missing_map = ", env: [{name: RULES, valueFrom: {configMapKeyRef: {name: rules, key: rules.yaml}}}]";
    fx.apply(
        &(deployment("bad", "nginx:1.27", "", missing_map)
            + &deployment("bad-key", "nginx:1.27", "", &env("verbosity"))
            + &deployment("good", "nginx:1.27", "", &env("level"))),
    )
    .await;
    let report = fx
        .until("both config errors", |r| {
            finding(r, "config-error", "bad").is_some() && finding(r, "config-error", "bad-key").is_some()
        })
        .await;
    healthy_twins_are_quiet(&report);
    assert_eq!(finding(&report, "config-error", "bad").unwrap().likely_cause, "ConfigMap rules is missing");
    assert_eq!(
        finding(&report, "config-error", "bad-key").unwrap().likely_cause,
        "ConfigMap settings has no key verbosity"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_failed() {
    let fx = cluster(true).await;
    let job = |name: &str, behavior: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n  backoffLimit: 0\n  template:\n    metadata: {{annotations: {{sim.binnacle.dev/behavior: {behavior}, sim.binnacle.dev/duration: '1'}}}}\n    spec:\n      restartPolicy: Never\n      containers: [{{name: report, image: 'busybox:1.36'}}]\n---\n"
        )
    };
    fx.apply(&(job("bad", "fail") + &job("good", "complete"))).await;
    let (_, f) = fx.fault("job-failed", "bad").await;
    assert!(f.likely_cause.contains("BackoffLimitExceeded"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pvc_pending() {
    let fx = cluster(true).await;
    let pvc = |name: &str, class: &str| {
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}}}\nspec: {{accessModes: [ReadWriteOnce], {class}resources: {{requests: {{storage: 1Gi}}}}}}\n---\n"
        )
    };
    fx.apply(&(pvc("bad", "storageClassName: fast-ssd, ") + &pvc("good", ""))).await;
    let (report, f) = fx.fault("pvc-pending", "bad").await;
    assert_eq!(f.likely_cause, "StorageClass fast-ssd does not exist");
    assert!(report.stats.list_calls > 0);
}

// ------------------------------------------------------------------------------- written state (controllers off)

#[tokio::test]
async fn failing_liveness() {
    let fx = cluster(false).await;
    let probe = ", livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 10, failureThreshold: 3}";
    let killed = "{phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: [{name: app, image: 'nginx:1.27', imageID: '', ready: false, restartCount: 4, state: {waiting: {reason: CrashLoopBackOff, message: back-off 40s}}, lastState: {terminated: {reason: Error, exitCode: 137}}}]}";
    fx.apply(
        &(pod("bad", "app: bad", None, probe, killed)
            + &event(
                "bad.1",
                "Pod",
                "bad",
                "Unhealthy",
                "Liveness probe failed: HTTP probe failed with statuscode: 500",
                12,
            )
            + &pod("good", "app: good", None, probe, RUNNING_READY)),
    )
    .await;
    let (report, f) = fx.fault("failing-liveness", "bad").await;
    assert_eq!(f.severity, Severity::Critical, "it crash-loops");
    assert!(f.likely_cause.contains("Liveness probe failed: HTTP probe failed with statuscode: 500"), "{f:?}");
    assert!(
        f.evidence.conditions[0].contains("4 restarts") && f.evidence.conditions[0].contains("httpGet :8080/healthz"),
        "{f:?}"
    );
    assert!(finding(&report, "crash-loop", "bad").is_none(), "liveness kills are not reported as a crash loop");
}

#[tokio::test]
async fn deployment_unavailable() {
    let fx = cluster(false).await;
    let d = |name: &str, status: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, annotations: {{deployment.kubernetes.io/revision: '2'}}}}\nspec:\n  replicas: 3\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: app, image: 'nginx:1.27'}}]}}\nstatus: {status}\n---\n"
        )
    };
    fx.apply(&(d("bad", "{replicas: 3, unavailableReplicas: 2, availableReplicas: 1, conditions: [{type: Available, status: 'False', reason: MinimumReplicasUnavailable}, {type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: 'ReplicaSet \"bad-2\" has timed out progressing.'}]}")
        + &d("good", "{replicas: 3, availableReplicas: 3, readyReplicas: 3, conditions: [{type: Available, status: 'True'}, {type: Progressing, status: 'True', reason: NewReplicaSetAvailable}]}")))
        .await;
    let (_, f) = fx.fault("deployment-unavailable", "bad").await;
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.summary.contains("progress deadline"), "{f:?}");
    assert_eq!(f.next_step.as_ref().unwrap().tool, "rollout_undo");
}

#[tokio::test]
async fn statefulset_unavailable() {
    let fx = cluster(false).await;
    let set = |name: &str, status: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {name}}}\nspec:\n  replicas: 3\n  serviceName: {name}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: app, image: 'redis:7.2'}}]}}\nstatus: {status}\n---\n"
        )
    };
    fx.apply(&(set("bad", "{replicas: 2, readyReplicas: 2, currentReplicas: 1, updatedReplicas: 1, currentRevision: bad-1, updateRevision: bad-2}")
        + &event("bad.1", "StatefulSet", "bad", "FailedCreate", "create Pod bad-2 in StatefulSet bad failed error: pods \"bad-2\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2", 5)
        + &set("good", "{replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: good-1, updateRevision: good-1}")
        // Merely starting: one pod short, nothing failing.
        + &set("good-starting", "{replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, currentRevision: s-1, updateRevision: s-1}")))
        .await;
    let (_, f) = fx.fault("statefulset-unavailable", "bad").await;
    assert_eq!(f.severity, Severity::Warning, "2 of 3 are ready");
    assert!(f.summary.contains("rolling update stuck"), "{f:?}");
    assert!(f.likely_cause.contains("ResourceQuota pods is exhausted"), "{f:?}");
    assert!(f.evidence.events.iter().any(|e| e.reason == "FailedCreate"), "{f:?}");
}

#[tokio::test]
async fn daemonset_unavailable() {
    let fx = cluster(false).await;
    let ds = |name: &str, status: &str| {
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {name}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: app, image: 'fluent-bit:3'}}]}}\nstatus: {status}\n---\n"
        )
    };
    // A pod that restarted and is not ready, with no crash loop or probe event: only the DaemonSet explains it.
    let restarted = "{phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: [{name: app, image: 'nginx:1.27', imageID: '', ready: false, restartCount: 2, state: {running: {startedAt: '2026-01-01T00:00:00Z'}}}]}";
    fx.apply(&(ds("bad", "{desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, numberAvailable: 1, numberUnavailable: 1, updatedNumberScheduled: 2, numberMisscheduled: 0}")
        + &pod("bad-x1", "app: bad", Some("DaemonSet/bad"), "", restarted)
        + &pod("bad-x2", "app: bad", Some("DaemonSet/bad"), "", RUNNING_READY)
        + &ds("good", "{desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2, numberMisscheduled: 0}")
        + &pod("good-x1", "app: good", Some("DaemonSet/good"), "", RUNNING_READY)))
        .await;
    let (_, f) = fx.fault("daemonset-unavailable", "bad").await;
    assert!(f.summary.contains("1 of 2 pods unavailable"), "{f:?}");
    assert!(f.likely_cause.contains("pod bad-x1 is not ready, 2 restarts"), "{f:?}");
}

#[tokio::test]
async fn replicaset_failed_create() {
    let fx = cluster(false).await;
    let rs = |name: &str, owner: &str, status: &str| {
        format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: {name}, ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: {owner}, uid: u-{owner}, controller: true}}]}}\nspec:\n  replicas: 3\n  selector: {{matchLabels: {{app: {owner}}}}}\n  template:\n    metadata: {{labels: {{app: {owner}}}}}\n    spec: {{containers: [{{name: app, image: 'nginx:1.27', resources: {{limits: {{memory: 1Gi}}}}}}]}}\nstatus: {status}\n---\n"
        )
    };
    let quota_msg = "pods \\\"bad-7c9-abcde\\\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2";
    let limit_msg =
        "pods \\\"bad-limits-5f-xyz\\\" is forbidden: maximum memory usage per Container is 512Mi, but limit is 1Gi";
    fx.apply(&format!(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: compute}}\nspec: {{hard: {{pods: '2', requests.cpu: '4'}}}}\nstatus: {{hard: {{pods: '2', requests.cpu: '4'}}, used: {{pods: '2', requests.cpu: 500m}}}}\n---\napiVersion: v1\nkind: LimitRange\nmetadata: {{name: limits}}\nspec: {{limits: [{{type: Container, max: {{memory: 512Mi}}}}]}}\n---\n{}{}{}",
        rs("bad-7c9", "bad", &format!("{{replicas: 2, conditions: [{{type: ReplicaFailure, status: 'True', reason: FailedCreate, message: \"{quota_msg}\"}}]}}")),
        rs("bad-limits-5f", "bad-limits", &format!("{{replicas: 0, conditions: [{{type: ReplicaFailure, status: 'True', reason: FailedCreate, message: \"{limit_msg}\"}}]}}")),
        rs("good-6d8", "good", "{replicas: 3, readyReplicas: 3, availableReplicas: 3}"),
    ))
    .await;
    fx.apply(&event("bad-7c9.1", "ReplicaSet", "bad-7c9", "FailedCreate", "Error creating: pods \"bad-7c9-abcde\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2", 7)).await;
    let (report, f) = fx.fault("replicaset-failed-create", "bad").await;
    assert_eq!((f.kind.as_str(), f.severity), ("Deployment", Severity::Warning));
    assert!(f.likely_cause.starts_with("ResourceQuota compute is exhausted"), "{f:?}");
    assert!(f.evidence.conditions.iter().any(|c| c.contains("ResourceQuota compute: pods 2/2 (full)")), "{f:?}");
    assert_eq!(f.next_step.as_ref().unwrap().arguments["kind"], "ResourceQuota");
    let limited = finding(&report, "replicaset-failed-create", "bad-limits").expect("the LimitRange refusal");
    assert_eq!(limited.severity, Severity::Critical, "no pod at all");
    assert!(limited.likely_cause.contains("a LimitRange in t refuses the pod: maximum memory usage"), "{limited:?}");
    assert!(
        limited.evidence.conditions.iter().any(|c| c.contains("LimitRange limits: Container max memory=512Mi")),
        "{limited:?}"
    );
}

#[tokio::test]
async fn service_selector() {
    let fx = cluster(false).await;
    let svc = |name: &str, app: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {{app: {app}}}, ports: [{{port: 80}}]}}\n---\n"
        )
    };
    fx.apply(&(pod("web-1", "app: web", None, "", RUNNING_READY) + &svc("bad", "web-v2") + &svc("good", "web"))).await;
    let (_, f) = fx.fault("service-selector", "bad").await;
    assert!(f.likely_cause.contains("app=web-v2") && f.likely_cause.contains("labelled app=web"), "{f:?}");
}

#[tokio::test]
async fn service_no_endpoints() {
    let fx = cluster(false).await;
    let failing = "{phase: Running, conditions: [{type: Ready, status: 'False'}], containerStatuses: [{name: app, image: 'nginx:1.27', imageID: '', ready: false, restartCount: 3, state: {running: {startedAt: '2026-01-01T00:00:00Z'}}}]}";
    let svc_and_slice = |name: &str, app: &str, ready: bool| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {{app: {app}}}, ports: [{{port: 80}}]}}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: {name}-abc, labels: {{kubernetes.io/service-name: {name}}}}}\naddressType: IPv4\nendpoints: [{{addresses: [10.0.0.9], conditions: {{ready: {ready}}}}}]\nports: [{{port: 80, protocol: TCP}}]\n---\n"
        )
    };
    fx.apply(
        &(pod("api-1", "app: api", None, "", failing)
            + &pod("web-1", "app: web", None, "", RUNNING_READY)
            + &svc_and_slice("bad", "api", false)
            + &svc_and_slice("good", "web", true)),
    )
    .await;
    let (_, f) = fx.fault("service-no-endpoints", "bad").await;
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.summary.contains("1 matching pods, none ready"), "{f:?}");
}

#[tokio::test]
async fn service_port_mismatch() {
    let fx = cluster(false).await;
    let svc = |name: &str, target: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {{app: web}}, ports: [{{name: http, port: 80, targetPort: {target}}}]}}\n---\n"
        )
    };
    fx.apply(
        &(pod("web-1", "app: web", None, ", ports: [{name: http, containerPort: 8080}]", RUNNING_READY)
            + &svc("bad", "web")
            + &svc("bad-number", "9090")
            + &svc("good", "http")
            + &svc("good-number", "8080")),
    )
    .await;
    let (report, f) = fx.fault("service-port-mismatch", "bad").await;
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.likely_cause.contains("named port \"web\"") && f.likely_cause.contains("http:8080/TCP"), "{f:?}");
    let number = finding(&report, "service-port-mismatch", "bad-number").expect("numeric mismatch");
    assert_eq!(number.severity, Severity::Warning);
    assert!(number.likely_cause.contains("targets 9090"), "{number:?}");
}

#[tokio::test]
async fn ingress() {
    let fx = cluster(false).await;
    let ing = |name: &str, class: &str, svc: &str, port: i64, tls: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}}}\nspec:\n  ingressClassName: {class}\n  rules: [{{host: shop.example.com, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: {svc}, port: {{number: {port}}}}}}}}}]}}}}]\n  tls: [{{hosts: [shop.example.com], secretName: {tls}}}]\n---\n"
        )
    };
    fx.apply(&(String::from("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: shop-tls}\ntype: kubernetes.io/tls\ndata: {tls.crt: Y2VydA==, tls.key: a2V5}\n---\n")
        + &ing("bad-backend", "nginx", "web-v2", 80, "shop-tls")
        + &ing("bad-port", "nginx", "web", 8080, "shop-tls")
        + &ing("bad-class", "traefik", "web", 80, "shop-tls")
        + &ing("bad-tls", "nginx", "web", 80, "missing-tls")
        + &ing("good", "nginx", "web", 80, "shop-tls")))
        .await;
    let report = fx
        .until("every broken Ingress", |r| {
            ["bad-backend", "bad-port", "bad-class", "bad-tls"].iter().all(|n| finding(r, "ingress", n).is_some())
        })
        .await;
    healthy_twins_are_quiet(&report);
    let get = |n: &str| finding(&report, "ingress", n).unwrap();
    assert_eq!(get("bad-backend").severity, Severity::Critical);
    assert!(
        get("bad-backend")
            .likely_cause
            .contains("backend Service web-v2 (host shop.example.com, path /) does not exist")
    );
    assert!(get("bad-port").likely_cause.contains("backend Service web has no port 8080"), "{:?}", get("bad-port"));
    assert!(get("bad-class").likely_cause.contains("IngressClass traefik does not exist"));
    assert_eq!(get("bad-tls").severity, Severity::Warning);
    assert!(get("bad-tls").likely_cause.contains("TLS Secret missing-tls"));
    assert!(!report.findings.iter().any(|f| text(f).contains("Y2VydA")), "no Secret data");
}

#[tokio::test]
async fn network_policy() {
    let fx = cluster(false).await;
    let np = |name: &str, app: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}}}\nspec: {{podSelector: {{matchLabels: {{app: {app}}}}}, policyTypes: [Ingress]}}\n---\n"
        )
    };
    fx.apply(&(pod("web-1", "app: web", None, "", RUNNING_READY)
        + "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup}\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate: {spec: {template: {metadata: {labels: {app: backup}}, spec: {restartPolicy: OnFailure, containers: [{name: b, image: 'busybox:1.36'}]}}}}\n---\n"
        + &np("bad", "wbe")
        + &np("good", "web")
        // Selects the pods a CronJob creates between its runs.
        + &np("good-cron", "backup")
        // An empty selector (every pod of the namespace) is never a finding.
        + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: good-default-deny}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\n"))
        .await;
    let (_, f) = fx.fault("network-policy", "bad").await;
    assert!(f.likely_cause.contains("app=wbe") && f.likely_cause.contains("labelled app=web"), "{f:?}");
}

#[tokio::test]
async fn webhook_endpoints() {
    let fx = cluster(false).await;
    let svc_and_slice = |name: &str, ready: bool| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {{app: {name}}}, ports: [{{port: 443}}]}}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: {name}-abc, labels: {{kubernetes.io/service-name: {name}}}}}\naddressType: IPv4\nendpoints: [{{addresses: [10.0.0.9], conditions: {{ready: {ready}}}}}]\nports: [{{port: 443, protocol: TCP}}]\n---\n"
        )
    };
    let hook = |kind: &str, name: &str, svc: &str, policy: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nwebhooks:\n  - name: check.example.com\n    clientConfig: {{service: {{namespace: t, name: {svc}, port: 443}}}}\n    rules: [{{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}}]\n    failurePolicy: {policy}\n    sideEffects: None\n    admissionReviewVersions: [v1]\n---\n"
        )
    };
    fx.apply(
        &(svc_and_slice("hook-down", false)
            + &svc_and_slice("hook-up", true)
            + &hook("ValidatingWebhookConfiguration", "bad", "hook-missing", "Fail")
            + &hook("MutatingWebhookConfiguration", "bad-ignored", "hook-down", "Ignore")
            + &hook("ValidatingWebhookConfiguration", "good", "hook-up", "Fail")),
    )
    .await;
    let (report, f) = fx.fault("webhook-endpoints", "bad").await;
    assert_eq!(
        (f.kind.as_str(), f.namespace.as_str(), f.severity),
        ("ValidatingWebhookConfiguration", "", Severity::Critical)
    );
    assert!(f.summary.contains("Service t/hook-missing does not exist"), "{f:?}");
    let ignored = finding(&report, "webhook-endpoints", "bad-ignored").expect("the Ignore webhook");
    assert_eq!((ignored.kind.as_str(), ignored.severity), ("MutatingWebhookConfiguration", Severity::Warning));
    assert!(ignored.summary.contains("no ready endpoints (1 not ready)"), "{ignored:?}");
}

#[tokio::test]
async fn helm_release() {
    let fx = cluster(false).await;
    let revision = |release: &str, version: i64, status: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: sh.helm.release.v1.{release}.v{version}, labels: {{owner: helm, name: {release}, status: {status}, version: '{version}'}}}}\ntype: helm.sh/release.v1\ndata: {{release: c2VjcmV0LXJlbGVhc2UtYmxvYg==}}\n---\n"
        )
    };
    fx.apply(
        &(revision("bad", 1, "superseded")
            + &revision("bad", 2, "deployed")
            + &revision("bad", 3, "failed")
            + &revision("bad-stuck", 1, "deployed")
            + &revision("bad-stuck", 2, "pending-upgrade")
            + &revision("good", 1, "failed")
            + &revision("good", 2, "deployed")),
    )
    .await;
    let (report, f) = fx.fault("helm-release", "bad").await;
    assert_eq!(f.kind, "HelmRelease");
    assert!(
        f.likely_cause.contains("revision 3") && f.likely_cause.contains("revision 2 is still the deployed one"),
        "{f:?}"
    );
    assert_eq!(f.next_step.as_ref().unwrap().tool, "helm_release_history");
    let stuck = finding(&report, "helm-release", "bad-stuck").expect("the pending release");
    assert!(stuck.summary.contains("pending-upgrade"), "{stuck:?}");
    assert!(!report.findings.iter().any(|f| text(f).contains("c2VjcmV0")), "Secret data is never read");
}

const GATEWAY_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gateways.gateway.networking.k8s.io}\nspec:\n  group: gateway.networking.k8s.io\n  scope: Namespaced\n  names: {kind: Gateway, listKind: GatewayList, plural: gateways, singular: gateway}\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      subresources: {status: {}}\n      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n---\n";

#[tokio::test]
async fn gateway() {
    let fx = cluster(false).await;
    // Without the CRD the run succeeds and the analyzer is silent.
    let before = find_issues(fx.client.clone(), Scope::namespaces(["t"])).await.unwrap();
    assert!(before.findings.is_empty());
    fx.apply(GATEWAY_CRD).await;
    let gw = |name: &str, status: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}}}\nspec: {{gatewayClassName: eg, listeners: [{{name: https, port: 443, protocol: HTTPS}}]}}\nstatus: {status}\n---\n"
        )
    };
    fx.apply(&(gw("bad", "{conditions: [{type: Accepted, status: 'True', reason: Accepted}, {type: Programmed, status: 'False', reason: AddressNotAssigned, message: No addresses have been assigned to the Gateway}]}")
        + &gw("bad-listener", "{conditions: [{type: Accepted, status: 'True', reason: Accepted}, {type: Programmed, status: 'True', reason: Programmed}], listeners: [{name: https, attachedRoutes: 0, conditions: [{type: ResolvedRefs, status: 'False', reason: InvalidCertificateRef, message: secret t/shop-tls does not exist}]}]}")
        + &gw("bad-unclaimed", "{conditions: [{type: Accepted, status: Unknown, reason: Pending, message: Waiting for controller}]}")
        + &gw("good", "{conditions: [{type: Accepted, status: 'True', reason: Accepted}, {type: Programmed, status: 'True', reason: Programmed}]}")))
        .await;
    let (report, f) = fx.fault("gateway", "bad").await;
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.likely_cause.contains("Programmed=False (AddressNotAssigned)"), "{f:?}");
    let listener = finding(&report, "gateway", "bad-listener").unwrap();
    assert!(listener.likely_cause.contains("InvalidCertificateRef"), "{listener:?}");
    let unclaimed = finding(&report, "gateway", "bad-unclaimed").unwrap();
    assert!(unclaimed.likely_cause.contains("GatewayClass eg"), "{unclaimed:?}");
}

#[tokio::test]
async fn node() {
    let fx = cluster(false).await;
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(fx.client.clone());
    let status = json!({"status": {"conditions": [
        {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."},
        {"type": "MemoryPressure", "status": "True", "reason": "KubeletHasInsufficientMemory"}]}});
    nodes.patch_status("sim-worker-1", &PatchParams::default(), &Patch::Merge(status)).await.unwrap();
    let report = fx.until("the NotReady node", |r| finding(r, "node", "sim-worker-1").is_some()).await;
    let f = finding(&report, "node", "sim-worker-1").unwrap();
    assert_eq!((f.kind.as_str(), f.namespace.as_str(), f.severity), ("Node", "", Severity::Critical));
    assert!(f.summary.contains("NotReady") && f.summary.contains("MemoryPressure"), "{f:?}");
    assert_eq!(
        report.findings.iter().filter(|f| f.kind == "Node").count(),
        1,
        "the other node is healthy:\n{}",
        dump(&report)
    );
}

#[tokio::test]
async fn cronjob_schedule_and_suspend() {
    let fx = cluster(false).await;
    let cj = |name: &str, schedule: &str, suspend: bool| {
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}}}\nspec:\n  schedule: '{schedule}'\n  suspend: {suspend}\n  jobTemplate: {{spec: {{template: {{spec: {{restartPolicy: OnFailure, containers: [{{name: c, image: 'busybox:1.36'}}]}}}}}}}}\n---\n"
        )
    };
    fx.apply(
        &(cj("bad", "61 * * * *", false)
            + &cj("bad-suspended", "*/5 * * * *", true)
            + &cj("good", "*/5 * * * MON-FRI", false)),
    )
    .await;
    let (report, f) = fx.fault("cronjob", "bad").await;
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.summary.contains("unparseable schedule"), "{f:?}");
    assert_eq!(finding(&report, "cronjob", "bad-suspended").unwrap().severity, Severity::Info);
}

#[tokio::test]
async fn cronjob_failing() {
    let fx = cluster(false).await;
    let cj = |name: &str| {
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}}}\nspec:\n  schedule: '0 * * * *'\n  jobTemplate: {{spec: {{template: {{spec: {{restartPolicy: Never, containers: [{{name: c, image: 'busybox:1.36'}}]}}}}}}}}\nstatus: {{lastScheduleTime: '2026-01-01T02:00:00Z', lastSuccessfulTime: '2026-01-01T00:00:00Z'}}\n---\n"
        )
    };
    let job = |name: &str, cron: &str, created: &str, condition: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}, ownerReferences: [{{apiVersion: batch/v1, kind: CronJob, name: {cron}, uid: u-{cron}, controller: true}}]}}\nspec:\n  template: {{metadata: {{labels: {{job: {name}}}}}, spec: {{restartPolicy: Never, containers: [{{name: c, image: 'busybox:1.36'}}]}}}}\nstatus: {{failed: 3, startTime: '{created}', conditions: [{condition}]}}\n---\n"
        )
    };
    let failed = "{type: Failed, status: 'True', reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}";
    let complete = "{type: Complete, status: 'True'}";
    fx.apply(&(cj("bad") + &job("bad-1", "bad", "2026-01-01T01:00:00Z", complete) + &job("bad-2", "bad", "2026-01-01T02:00:00Z", failed)
        // An earlier failure, since recovered.
        + &cj("good") + &job("good-1", "good", "2026-01-01T01:00:00Z", failed) + &job("good-2", "good", "2026-01-01T02:00:00Z", complete)))
        .await;
    let (report, f) = fx.fault("cronjob-failing", "bad").await;
    assert!(f.summary.contains("its last job bad-2 failed (BackoffLimitExceeded"), "{f:?}");
    assert!(f.evidence.conditions.iter().any(|c| c.contains("1 of the 2 jobs kept failed")), "{f:?}");
    assert!(
        !report.findings.iter().any(|f| f.analyzer == "job-failed"),
        "a CronJob's Jobs are reported on the CronJob"
    );
}

#[tokio::test]
async fn hpa() {
    let fx = cluster(false).await;
    let hpa = |name: &str, current: i64, active: &str| {
        format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: {name}}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}\n  minReplicas: 1\n  maxReplicas: 5\n  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}}}]\nstatus: {{currentReplicas: {current}, desiredReplicas: {current}, conditions: [{{type: AbleToScale, status: 'True', reason: ReadyForNewScale}}, {active}]}}\n---\n"
        )
    };
    fx.apply(&(hpa("bad", 1, "{type: ScalingActive, status: 'False', reason: FailedGetResourceMetric, message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu'}")
        + &hpa("bad-maxed", 5, "{type: ScalingActive, status: 'True', reason: ValidMetricFound}")
        + &hpa("good", 2, "{type: ScalingActive, status: 'True', reason: ValidMetricFound}")))
        .await;
    let (report, f) = fx.fault("hpa", "bad").await;
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.likely_cause.contains("missing request for cpu"), "{f:?}");
    assert_eq!(finding(&report, "hpa", "bad-maxed").unwrap().severity, Severity::Info);
}

#[tokio::test]
async fn pdb() {
    let fx = cluster(false).await;
    let pdb = |name: &str, allowed: i64| {
        format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}}}\nspec: {{minAvailable: 2, selector: {{matchLabels: {{app: {name}}}}}}}\nstatus: {{disruptionsAllowed: {allowed}, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, observedGeneration: 1}}\n---\n"
        )
    };
    fx.apply(&(pdb("bad", 0) + &pdb("good", 1))).await;
    let (_, f) = fx.fault("pdb", "bad").await;
    assert!(f.likely_cause.contains("minAvailable equals the replica count"), "{f:?}");
}

#[tokio::test]
async fn argo_rollout() {
    let fx = cluster(false).await;
    fx.apply("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: rollouts.argoproj.io}\nspec:\n  group: argoproj.io\n  scope: Namespaced\n  names: {kind: Rollout, listKind: RolloutList, plural: rollouts, singular: rollout}\n  versions:\n    - name: v1alpha1\n      served: true\n      storage: true\n      subresources: {status: {}}\n      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n---\n").await;
    let ro = |name: &str, status: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {{name: {name}}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: {name}}}}}\n  template: {{metadata: {{labels: {{app: {name}}}}}, spec: {{containers: [{{name: app, image: 'nginx:1.27'}}]}}}}\n  strategy: {{canary: {{steps: [{{setWeight: 20}}, {{pause: {{}}}}]}}}}\nstatus: {status}\n---\n"
        )
    };
    fx.apply(&(ro("bad", "{phase: Degraded, message: 'RolloutAborted: Rollout aborted update to revision 2: Metric \"success-rate\" assessed Failed', abort: true}")
        + &ro("good", "{phase: Healthy}")))
        .await;
    let (_, f) = fx.fault("argo-rollout", "bad").await;
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.likely_cause.contains("success-rate"), "{f:?}");
}

/// Every analyzer has a test in this file.
#[test]
fn every_analyzer_is_tested_here() {
    let source = include_str!("analyzers.rs");
    for name in binnacle_findings::analyzer_names() {
        assert!(source.contains(&format!("\"{name}\"")), "no test names analyzer {name}");
    }
}
