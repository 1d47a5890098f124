//! End to end: the demo scenario's planted faults are all found, and healthy namespaces stay quiet.

#![allow(clippy::unwrap_used, missing_docs)]

use binnacle_findings::{Finding, Report, Scope, Severity, find_issues};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use std::time::{Duration, Instant};

fn find<'a>(r: &'a Report, analyzer: &str, ns: &str, name: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.analyzer == analyzer && f.namespace == ns && f.name == name)
        .unwrap_or_else(|| panic!("no {analyzer} finding for {ns}/{name}; got:\n{}", dump(r)))
}

fn dump(r: &Report) -> String {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "[{:?}] {} {}/{} {}: {} | {}",
                f.severity, f.analyzer, f.namespace, f.name, f.kind, f.summary, f.likely_cause
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ready(r: &Report) -> bool {
    let has =
        |a: &str, ns: &str, n: &str| r.findings.iter().any(|f| f.analyzer == a && f.namespace == ns && f.name == n);
    has("crash-loop", "payments", "payments-api")
        && r.findings.iter().any(|f| f.analyzer == "crash-loop" && !f.evidence.logs.is_empty())
        && has("oom-killed", "payments", "ledger")
        && has("config-error", "payments", "fraud-detector")
        && has("image-pull", "web", "storefront")
        && has("unschedulable", "data", "analytics")
        && has("failing-readiness", "ml", "recommender")
        && has("job-failed", "batch", "nightly-report")
        && has("argo-rollout", "rollouts", "checkout")
        && has("service-port-mismatch", "edge", "api-internal")
        && has("ingress", "edge", "api-public")
        && has("ingress", "edge", "admin")
        && has("ingress", "edge", "docs")
        && has("network-policy", "edge", "allow-web")
        && has("webhook-endpoints", "", "edge-policy")
        && has("helm-release", "edge", "edge-proxy")
        && has("cronjob-failing", "edge", "cert-renew")
        && has("failing-liveness", "ml", "feature-store")
        && r.findings.iter().any(|f| f.analyzer == "failing-liveness" && f.severity == Severity::Critical)
        && has("gateway", "edge", "public")
        && has("replicaset-failed-create", "reporting", "report-api")
        && has("statefulset-unavailable", "reporting", "warehouse")
        && has("daemonset-unavailable", "reporting", "log-shipper")
        && has("node", "", "sim-control-plane")
        && has("cronjob", "batch", "weekly-export")
        && has("deployment-unavailable", "web", "catalog")
        // The autoscaler has scaled search to its maximum and both pods are ready (the budget is then full).
        && r.findings.iter().any(|f| f.analyzer == "hpa" && f.name == "search" && f.summary.contains("maximum"))
        && r.findings.iter().any(|f| f.analyzer == "pdb" && f.name == "search" && f.summary.contains("(2 healthy, 2"))
        // Healthy namespaces settle too (persistent false positives still fail the test at the deadline).
        && r.findings.iter().all(|f| !["shop", "apps", "kube-system"].contains(&f.namespace.as_str()))
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_faults_are_found_without_false_positives() {
    let sim =
        SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 20.0, ..SimOptions::default() }).await.unwrap();
    let client = kube::Client::new(sim.router(), "default");
    let deadline = Instant::now() + Duration::from_secs(40);
    let report = loop {
        let report = find_issues(client.clone(), Scope::all()).await.unwrap();
        if ready(&report) || Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!("{}\nstats: {:?}", dump(&report), report.stats);

    let crash = find(&report, "crash-loop", "payments", "payments-api");
    assert_eq!(crash.severity, Severity::Critical);
    assert_eq!(crash.kind, "Deployment");
    assert!(crash.summary.contains("deployment payments/payments-api crash-loop"), "{}", crash.summary);
    assert!(!crash.evidence.logs.is_empty(), "previous logs are attached");
    assert!(crash.evidence.logs.len() <= 10);
    assert!(
        crash.likely_cause.to_lowercase().contains("database")
            || crash.evidence.logs.iter().any(|l| l.to_lowercase().contains("database")),
        "{crash:?}"
    );
    assert!(crash.evidence.events.iter().any(|e| e.reason == "BackOff"), "{crash:?}");
    let next = crash.next_step.as_ref().unwrap();
    assert_eq!(next.tool, "pod_logs");
    assert_eq!(next.arguments["previous"], true);

    let oom = find(&report, "oom-killed", "payments", "ledger");
    assert!(oom.likely_cause.contains("128Mi"), "{oom:?}");
    assert!(oom.summary.contains("128Mi"));
    assert!(
        !report.findings.iter().any(|f| f.analyzer == "crash-loop" && f.name == "ledger"),
        "OOM is not also a crash loop"
    );

    let cfg = find(&report, "config-error", "payments", "fraud-detector");
    assert!(cfg.likely_cause.contains("ConfigMap fraud-rules is missing"), "{cfg:?}");

    let pull = find(&report, "image-pull", "web", "storefront");
    assert!(pull.likely_cause.contains("nginx:does-not-exist"), "{pull:?}");
    assert!(
        pull.evidence.events.iter().any(|e| e.reason == "Failed" && e.message.contains("does-not-exist")),
        "{pull:?}"
    );

    let svc = find(&report, "service-selector", "web", "checkout");
    assert!(svc.likely_cause.contains("app=checkout-v2") && svc.likely_cause.contains("app=checkout"), "{svc:?}");

    let pending = find(&report, "unschedulable", "data", "analytics");
    assert!(pending.likely_cause.to_lowercase().contains("cpu"), "{pending:?}");
    assert!(pending.evidence.events.iter().any(|e| e.reason == "FailedScheduling"));

    let pvc = find(&report, "pvc-pending", "data", "analytics-scratch");
    assert!(pvc.likely_cause.contains("StorageClass fast-ssd does not exist"), "{pvc:?}");

    let ready = find(&report, "failing-readiness", "ml", "recommender");
    assert!(ready.evidence.events.iter().any(|e| e.reason == "Unhealthy"), "{ready:?}");

    let job = find(&report, "job-failed", "batch", "nightly-report");
    assert!(job.likely_cause.contains("BackoffLimitExceeded"), "{job:?}");

    let ro = find(&report, "argo-rollout", "rollouts", "checkout");
    assert!(ro.summary.contains("paused at step 2"), "{ro:?}");
    assert!(ro.likely_cause.contains("20%"), "{ro:?}");

    let ports = find(&report, "service-port-mismatch", "edge", "api-internal");
    assert_eq!(ports.severity, Severity::Critical);
    assert!(
        ports.likely_cause.contains("named port \"web\"") && ports.likely_cause.contains("http:8080/TCP"),
        "{ports:?}"
    );

    let backend = find(&report, "ingress", "edge", "api-public");
    assert!(
        backend.likely_cause.contains("backend Service api-v2 (host api.example.com, path /) does not exist"),
        "{backend:?}"
    );
    let class = find(&report, "ingress", "edge", "admin");
    assert!(class.likely_cause.contains("IngressClass traefik does not exist"), "{class:?}");
    let tls = find(&report, "ingress", "edge", "docs");
    assert_eq!(tls.severity, Severity::Warning);
    assert!(tls.likely_cause.contains("TLS Secret docs-tls"), "{tls:?}");

    let np = find(&report, "network-policy", "edge", "allow-web");
    assert!(np.likely_cause.contains("app=web") && np.likely_cause.contains("labelled app=api"), "{np:?}");

    let hook = find(&report, "webhook-endpoints", "", "edge-policy");
    assert_eq!((hook.kind.as_str(), hook.severity), ("ValidatingWebhookConfiguration", Severity::Critical));
    assert!(hook.summary.contains("Service edge/policy-webhook does not exist"), "{hook:?}");

    let helm = find(&report, "helm-release", "edge", "edge-proxy");
    assert_eq!(helm.kind, "HelmRelease");
    assert!(helm.summary.contains("failed (revision 1)"), "{helm:?}");
    assert!(helm.likely_cause.contains("no revision is deployed"), "{helm:?}");

    let cron = find(&report, "cronjob-failing", "edge", "cert-renew");
    assert!(
        cron.summary.contains("its last job cert-renew-") && cron.likely_cause.contains("BackoffLimitExceeded"),
        "{cron:?}"
    );
    assert!(
        !report.findings.iter().any(|f| f.analyzer == "job-failed" && f.namespace == "edge"),
        "the CronJob's failed Job is reported on the CronJob"
    );

    let live = find(&report, "failing-liveness", "ml", "feature-store");
    assert_eq!((live.kind.as_str(), live.severity), ("Deployment", Severity::Critical), "{live:?}");
    assert!(
        live.evidence
            .events
            .iter()
            .any(|e| e.reason == "Unhealthy"
                && e.message == "Liveness probe failed: HTTP probe failed with statuscode: 500"),
        "the kubelet's warning is the evidence: {live:?}"
    );
    assert!(live.likely_cause.contains("container feast"), "{live:?}");
    assert!(
        live.evidence.conditions.iter().any(|c| c.contains("last terminated Error (exit code 137)")
            && c.contains("httpGet :http/healthz every 5s, failureThreshold 3")),
        "{live:?}"
    );
    assert!(
        !report.findings.iter().any(|f| f.analyzer == "crash-loop" && f.name == "feature-store"),
        "a liveness kill is not also reported as a crash loop"
    );

    let gw = find(&report, "gateway", "edge", "public");
    assert_eq!((gw.kind.as_str(), gw.severity), ("Gateway", Severity::Critical));
    assert!(gw.summary.contains("is not programmed (AddressNotAssigned)"), "{gw:?}");
    assert!(gw.likely_cause.contains("No addresses have been assigned to the Gateway"), "{gw:?}");

    let quota = find(&report, "replicaset-failed-create", "reporting", "report-api");
    assert_eq!((quota.kind.as_str(), quota.severity), ("Deployment", Severity::Warning), "2 of 3 pods run: {quota:?}");
    assert!(quota.summary.contains("cannot create pods (2 of 3)"), "{quota:?}");
    assert_eq!(
        quota.likely_cause,
        "ResourceQuota compute is exhausted (requested: requests.cpu=400m, used: requests.cpu=800m, limited: requests.cpu=1)"
    );
    assert!(
        quota
            .evidence
            .conditions
            .iter()
            .any(|c| c.starts_with("ReplicaFailure=True (FailedCreate): pods \"report-api-")
                && c.contains("exceeded quota: compute")),
        "the ReplicaSet's condition: {quota:?}"
    );
    assert!(
        quota
            .evidence
            .conditions
            .iter()
            .any(|c| c.starts_with("ResourceQuota compute:") && c.contains("requests.cpu 800m/1")),
        "the quota's usage, kept by the quota controller: {quota:?}"
    );
    assert!(
        quota.evidence.events.iter().any(|e| e.reason == "FailedCreate"
            && e.message.starts_with("Error creating: pods \"report-api-")
            && e.message.contains("\" is forbidden: exceeded quota: compute, requested: requests.cpu=400m")),
        "{quota:?}"
    );

    let sts = find(&report, "statefulset-unavailable", "reporting", "warehouse");
    assert_eq!((sts.kind.as_str(), sts.severity), ("StatefulSet", Severity::Critical));
    assert!(sts.summary.contains("has 0 of 1 replicas ready"), "{sts:?}");
    assert!(
        sts.likely_cause.starts_with(
            "the controller cannot create pods: ResourceQuota compute is exhausted (requested: requests.memory=1536Mi"
        ),
        "{sts:?}"
    );
    assert!(
        sts.evidence.events.iter().any(|e| e.reason == "FailedCreate"
            && e.message.starts_with("create Pod warehouse-0 in StatefulSet warehouse failed error: pods \"warehouse-0\" is forbidden: exceeded quota: compute")),
        "{sts:?}"
    );

    let ds = find(&report, "daemonset-unavailable", "reporting", "log-shipper");
    assert_eq!((ds.kind.as_str(), ds.severity), ("DaemonSet", Severity::Critical));
    assert!(
        ds.likely_cause.contains(
            "a LimitRange in reporting refuses the pod: maximum memory usage per Container is 2Gi, but limit is 3Gi"
        ),
        "{ds:?}"
    );
    assert!(ds.evidence.events.iter().any(|e| e.reason == "FailedCreate"
        && e.message == "Error creating: pods \"log-shipper-\" is forbidden: maximum memory usage per Container is 2Gi, but limit is 3Gi"), "{ds:?}");

    let node = find(&report, "node", "", "sim-control-plane");
    assert_eq!((node.kind.as_str(), node.severity), ("Node", Severity::Info), "{node:?}");
    assert_eq!(node.summary, "node sim-control-plane: SchedulingDisabled");
    assert_eq!(node.evidence.conditions, ["spec.unschedulable=true (cordoned)"], "{node:?}");
    assert_eq!(node.likely_cause, "the node is cordoned; new pods will not be scheduled on it");

    let cron = find(&report, "cronjob", "batch", "weekly-export");
    assert_eq!((cron.kind.as_str(), cron.severity), ("CronJob", Severity::Info), "{cron:?}");
    assert_eq!(cron.summary, "cronjob batch/weekly-export is suspended");
    assert_eq!(cron.evidence.conditions, ["schedule \"0 3 * * 0\", suspend true"], "{cron:?}");
    assert_eq!(cron.likely_cause, "spec.suspend is true; no jobs will be created");

    let hpa = find(&report, "hpa", "data", "search");
    assert_eq!((hpa.kind.as_str(), hpa.severity), ("HorizontalPodAutoscaler", Severity::Info), "{hpa:?}");
    assert_eq!(hpa.summary, "HPA data/search is at its maximum of 2 replicas");
    assert_eq!(hpa.likely_cause, "load needs more replicas than maxReplicas allows");
    assert!(
        hpa.evidence.conditions.iter().any(|c| c.starts_with("ScalingLimited=True (TooManyReplicas)")),
        "the HPA controller's condition is the evidence: {hpa:?}"
    );
    assert!(hpa.evidence.conditions.iter().any(|c| c.starts_with("ScalingActive=True (ValidMetricFound)")), "{hpa:?}");
    // currentReplicas is the Deployment's status: the controller scaled search from its initial 1 replica to 2.

    let pdb = find(&report, "pdb", "data", "search");
    assert_eq!((pdb.kind.as_str(), pdb.severity), ("PodDisruptionBudget", Severity::Warning), "{pdb:?}");
    assert_eq!(pdb.summary, "PDB data/search allows zero disruptions (2 healthy, 2 required)");
    assert_eq!(
        pdb.evidence.conditions,
        ["disruptionsAllowed=0, currentHealthy=2, desiredHealthy=2, expectedPods=2"],
        "the disruption controller's status: {pdb:?}"
    );
    assert!(
        pdb.likely_cause.starts_with("its budget leaves no room: minAvailable equals the replica count"),
        "{pdb:?}"
    );

    // A rollout stuck at the Deployment level: no pod-level analyzer reports pods waiting for a volume.
    let stuck = find(&report, "deployment-unavailable", "web", "catalog");
    assert_eq!((stuck.kind.as_str(), stuck.severity), ("Deployment", Severity::Critical), "{stuck:?}");
    assert_eq!(stuck.summary, "deployment web/catalog exceeded its progress deadline (2 of 2 unavailable)");
    assert!(
        stuck
            .evidence
            .conditions
            .iter()
            .any(|c| c.starts_with("Progressing=False (ProgressDeadlineExceeded): ReplicaSet \"catalog-")
                && c.ends_with("\" has timed out progressing.")),
        "the deployment controller's condition: {stuck:?}"
    );
    assert!(
        stuck
            .evidence
            .conditions
            .iter()
            .any(|c| c.starts_with("pod catalog-")
                && c.ends_with(": Pending, container catalog waiting ContainerCreating")),
        "{stuck:?}"
    );
    let mount = "MountVolume.SetUp failed for volume \"db-credentials\" : secret \"catalog-db\" not found";
    assert!(
        stuck.evidence.events.iter().any(|e| e.reason == "FailedMount" && e.message == mount),
        "the kubelet's warning about the pods: {stuck:?}"
    );
    assert!(
        stuck
            .likely_cause
            .starts_with("the latest rollout did not make progress in time: its new pods are stuck (pod catalog-")
            && stuck.likely_cause.ends_with(&format!(": FailedMount: {mount})")),
        "{stuck:?}"
    );
    assert_eq!(
        stuck.next_step.as_ref().map(|c| c.tool.as_str()),
        Some("resource_describe"),
        "revision 1: nothing to undo"
    );

    // Exactly the planted faults (plus the Services left without ready endpoints by them).
    let mut got: Vec<(String, String, String)> =
        report.findings.iter().map(|f| (f.analyzer.clone(), f.namespace.clone(), f.name.clone())).collect();
    got.sort();
    let mut want: Vec<(String, String, String)> = [
        ("argo-rollout", "rollouts", "checkout"),
        ("config-error", "payments", "fraud-detector"),
        ("crash-loop", "payments", "payments-api"),
        ("cronjob-failing", "edge", "cert-renew"),
        ("cronjob", "batch", "weekly-export"),
        ("hpa", "data", "search"),
        ("node", "", "sim-control-plane"),
        ("pdb", "data", "search"),
        ("daemonset-unavailable", "reporting", "log-shipper"),
        ("deployment-unavailable", "web", "catalog"),
        ("failing-liveness", "ml", "feature-store"),
        ("gateway", "edge", "public"),
        ("replicaset-failed-create", "reporting", "report-api"),
        ("statefulset-unavailable", "reporting", "warehouse"),
        ("failing-readiness", "ml", "recommender"),
        ("helm-release", "edge", "edge-proxy"),
        ("image-pull", "web", "storefront"),
        ("ingress", "edge", "admin"),
        ("ingress", "edge", "api-public"),
        ("ingress", "edge", "docs"),
        ("job-failed", "batch", "nightly-report"),
        ("network-policy", "edge", "allow-web"),
        ("oom-killed", "payments", "ledger"),
        ("pvc-pending", "data", "analytics-scratch"),
        ("service-no-endpoints", "ml", "recommender"),
        ("service-no-endpoints", "payments", "payments-api"),
        ("service-port-mismatch", "edge", "api-internal"),
        ("service-selector", "web", "checkout"),
        ("unschedulable", "data", "analytics"),
        ("webhook-endpoints", "", "edge-policy"),
    ]
    .iter()
    .map(|(a, n, m)| (a.to_string(), n.to_string(), m.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{}", dump(&report));

    // No false positives in healthy namespaces.
    let noisy: Vec<&Finding> =
        report.findings.iter().filter(|f| ["shop", "apps", "kube-system"].contains(&f.namespace.as_str())).collect();
    assert!(noisy.is_empty(), "false positives: {noisy:#?}");
    // The one node finding is the cordoned control plane: the workers are healthy.
    assert_eq!(report.findings.iter().filter(|f| f.kind == "Node").count(), 1, "{}", dump(&report));

    // Sorted by severity, then namespace/name.
    let keys: Vec<_> = report.findings.iter().map(|f| (f.severity, f.namespace.clone(), f.name.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // 21 kinds every run (one page each here) + StorageClasses (a claim is Pending) + ConfigMaps (a config error)
    // + IngressClasses (there are Ingresses) + ResourceQuotas and LimitRanges (pod creations were refused).
    assert_eq!(report.stats.list_calls, 26, "{:?}", report.stats);
}

#[tokio::test(flavor = "multi_thread")]
async fn scoped_to_namespaces() {
    let sim =
        SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 20.0, ..SimOptions::default() }).await.unwrap();
    let client = kube::Client::new(sim.router(), "default");
    let scope = Scope::namespaces(["shop", "data"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let report = find_issues(client.clone(), scope.clone()).await.unwrap();
        let done = report.findings.iter().any(|f| f.analyzer == "unschedulable")
            && report.findings.iter().all(|f| f.namespace != "shop");
        if done || Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(report.findings.iter().all(|f| f.namespace == "data" || f.namespace.is_empty()), "{}", dump(&report));
    assert!(report.findings.iter().any(|f| f.analyzer == "pvc-pending"));
    // 16 namespaced kinds and the two optional CRDs (Argo Rollouts and the Gateway API are both installed) × 2
    // namespaces, 3 cluster-scoped kinds, and StorageClasses (a claim is Pending).
    assert_eq!(report.stats.list_calls, (16 + 2) * 2 + 3 + 1, "{:?}", report.stats);
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_read_as_metadata_only() {
    let sim =
        SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 20.0, ..SimOptions::default() }).await.unwrap();
    let client = kube::Client::new(sim.router(), "default");
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(client.clone(), "payments");
    let mut s = k8s_openapi::api::core::v1::Secret::default();
    s.metadata.name = Some("db".into());
    s.string_data = Some([("password".to_string(), "hunter2".to_string())].into());
    secrets.create(&Default::default(), &s).await.unwrap();
    let snap = binnacle_findings::Snapshot::read(client, &Scope::all()).await.unwrap();
    let secret = snap.get("secrets", "payments", "db").unwrap();
    assert!(secret.get("data").is_none(), "no data at all, not even keys: {secret}");
    assert!(!secret.to_string().contains("aHVudGVyMg"), "value never read");
    // Helm's release Secrets are known by their labels only.
    let release = snap.get("secrets", "apps", "sh.helm.release.v1.podinfo.v2").unwrap();
    assert_eq!(release.pointer("/metadata/labels/status").and_then(serde_json::Value::as_str), Some("deployed"));
    assert!(release.get("data").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_cluster_has_no_findings_and_no_rollouts() {
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, speed: 20.0, ..SimOptions::default() })
        .await
        .unwrap();
    let client = kube::Client::new(sim.router(), "default");
    let snap = binnacle_findings::Snapshot::read(client.clone(), &Scope::all()).await.unwrap();
    assert!(!snap.is_served("rollouts"), "Argo Rollouts CRD is not installed in the empty scenario");
    assert!(!snap.is_served("gateways"), "nor the Gateway API");
    assert!(!snap.is_served("storageclasses"), "no claim is Pending: StorageClasses are not listed");
    // 21 kinds listed once each; the two CRDs that are not installed answered 404 without failing the run.
    assert_eq!(snap.list_calls, 21);
    // kube-system's coredns starts with the cluster: wait until it has settled.
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let report = find_issues(client.clone(), Scope::all()).await.unwrap();
        if report.findings.is_empty() || Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(report.findings.is_empty(), "{}", dump(&report));
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_page_with_limit_and_continue() {
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Demo, controllers: false, ..SimOptions::default() })
        .await
        .unwrap();
    let client = kube::Client::new(sim.router(), "default");
    // With the controllers off the demo has no pods: write a dozen.
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client.clone(), "default");
    for i in 0..12 {
        let pod = serde_json::from_value(serde_json::json!({"metadata": {"name": format!("p-{i:02}")},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}))
        .unwrap();
        pods.create(&Default::default(), &pod).await.unwrap();
    }
    let whole = binnacle_findings::Snapshot::read(client.clone(), &Scope::all()).await.unwrap();
    assert_eq!(whole.list("pods").len(), 12);
    let scope = Scope { page_size: Some(3), ..Scope::all() };
    let paged = binnacle_findings::Snapshot::read(client, &scope).await.unwrap();
    for key in ["pods", "deployments", "services", "secrets", "events", "nodes"] {
        let names = |s: &binnacle_findings::Snapshot| {
            let mut n: Vec<String> = s.list(key).iter().map(|o| o["metadata"]["name"].to_string()).collect();
            n.sort();
            n
        };
        assert_eq!(names(&whole), names(&paged), "{key}: the same objects, page by page");
    }
    assert!(paged.list_calls >= whole.list_calls + 8, "{} vs {}", paged.list_calls, whole.list_calls);
    let requests = sim.recorded_requests();
    let pod_pages: Vec<_> =
        requests.iter().filter(|r| r.path == "/api/v1/pods" && r.query.contains("limit=3")).collect();
    assert!(pod_pages.len() > 2 && pod_pages.iter().skip(1).all(|r| r.query.contains("continue=")), "{pod_pages:?}");
    // Events are read as warnings only, Secrets as metadata only.
    assert!(requests.iter().any(|r| r.path == "/api/v1/events" && r.query.contains("fieldSelector=type%3DWarning")));
    assert!(whole.list("events").iter().all(|e| e["type"] == "Warning"));
}
