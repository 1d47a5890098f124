//! `explain`: deeper evidence for one finding, on the demo scenario.

#![allow(clippy::unwrap_used, missing_docs)]

use binnacle_findings::{FindingsError, Target, explain};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use std::time::{Duration, Instant};

fn target(analyzer: &str, kind: &str, ns: &str, name: &str) -> Target {
    Target { analyzer: analyzer.into(), kind: kind.into(), namespace: ns.into(), name: name.into() }
}

async fn demo() -> (SimCluster, kube::Client) {
    let sim =
        SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 20.0, ..SimOptions::default() }).await.unwrap();
    let client = kube::Client::new(sim.router(), "default");
    (sim, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_gets_pods_events_and_previous_logs() {
    let (_sim, client) = demo().await;
    let t = target("crash-loop", "Deployment", "payments", "payments-api");
    let deadline = Instant::now() + Duration::from_secs(30);
    let e = loop {
        let e = explain(client.clone(), &t).await.unwrap();
        if e.logs.iter().any(|l| l.previous && !l.lines.is_empty()) || Instant::now() > deadline {
            break e;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(e.found);
    assert_eq!(e.pods.len(), 2, "{e:#?}");
    assert!(e.pods[0].contains("restarts") && e.pods[0].contains("payments-api-"), "{e:#?}");
    let log = e.logs.iter().find(|l| l.previous).expect("previous logs");
    assert_eq!(log.container, "api");
    assert!(log.lines.len() <= 20 && log.lines.iter().any(|l| l.to_lowercase().contains("database")), "{log:#?}");
    assert!(e.pod_events.iter().any(|ev| ev.reason == "BackOff"), "{e:#?}");
    assert!(e.pod_events.len() <= 10);
    assert!(e.calls > 0 && e.calls < 20, "{}", e.calls);
}

#[tokio::test]
async fn workloads_services_helm_and_missing_objects() {
    let (_sim, client) = demo().await;
    // A Deployment blocked from creating pods gets its ReplicaSets (and any quotas) as related objects.
    let d = explain(client.clone(), &target("deployment-unavailable", "Deployment", "shop", "frontend")).await.unwrap();
    assert!(d.related.iter().any(|r| r.starts_with("ReplicaSet frontend-")), "{d:#?}");
    // A Service: its EndpointSlices.
    let svc = explain(client.clone(), &target("service-selector", "Service", "web", "checkout")).await.unwrap();
    assert!(svc.pods.is_empty(), "the selector matches nothing: {svc:#?}");
    assert!(svc.related.iter().any(|r| r.contains("EndpointSlices")), "{svc:#?}");
    // A Helm release: its revisions, from the release Secrets' labels only.
    let helm = explain(client.clone(), &target("helm-release", "HelmRelease", "apps", "podinfo")).await.unwrap();
    assert!(helm.found);
    assert!(
        helm.related[0].starts_with("revision 2: deployed") && helm.related[1].starts_with("revision 1: superseded"),
        "{helm:#?}"
    );
    let text = serde_json::to_string(&helm).unwrap();
    assert!(!text.contains("H4sI") && !text.contains("SDRzS"), "the release data is never read");
    // Gone objects are not an error; unknown kinds are.
    let gone = explain(client.clone(), &target("crash-loop", "Deployment", "payments", "no-such-app")).await.unwrap();
    assert!(!gone.found && gone.related[0].contains("does not exist"), "{gone:#?}");
    let err = explain(client, &target("crash-loop", "Secret", "payments", "db")).await.unwrap_err();
    assert!(matches!(err, FindingsError::Unsupported(_)), "{err}");
}
