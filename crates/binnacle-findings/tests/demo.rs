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
        // Healthy namespaces settle too (persistent false positives still fail the test at the deadline).
        && r.findings.iter().all(|f| !["shop", "apps", "kube-system"].contains(&f.namespace.as_str()))
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_faults_are_found_without_false_positives() {
    let sim =
        SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 20.0, ..SimOptions::default() }).await.unwrap();
    let client = kube::Client::new(sim.router(), "default");
    let deadline = Instant::now() + Duration::from_secs(20);
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

    // Exactly the planted faults (plus the Services left without ready endpoints by them).
    let mut got: Vec<(String, String, String)> =
        report.findings.iter().map(|f| (f.analyzer.clone(), f.namespace.clone(), f.name.clone())).collect();
    got.sort();
    let mut want: Vec<(String, String, String)> = [
        ("argo-rollout", "rollouts", "checkout"),
        ("config-error", "payments", "fraud-detector"),
        ("crash-loop", "payments", "payments-api"),
        ("cronjob-failing", "edge", "cert-renew"),
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
    // No node problems in the demo.
    assert!(!report.findings.iter().any(|f| f.kind == "Node"), "{}", dump(&report));

    // Sorted by severity, then namespace/name.
    let keys: Vec<_> = report.findings.iter().map(|f| (f.severity, f.namespace.clone(), f.name.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // 21 kinds every run (one page each here) + StorageClasses (a claim is Pending) + ConfigMaps (a config error)
    // + IngressClasses (there are Ingresses).
    assert_eq!(report.stats.list_calls, 24, "{:?}", report.stats);
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
    // 16 namespaced kinds × 2 namespaces, the two optional CRDs once each (the first namespace answers 404 for
    // Gateways; Argo Rollouts is installed), 3 cluster-scoped kinds, and StorageClasses (a claim is Pending).
    assert_eq!(report.stats.list_calls, 16 * 2 + 2 + 1 + 3 + 1, "{:?}", report.stats);
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
