//! `find_issues` and `explain_finding` through the catalog, against the demo scenario's planted faults.

mod common;

use binnacle_sim::Scenario;
use binnacle_tools::ToolError;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_the_planted_faults_with_evidence() {
    let f = common::fixture(Scenario::Demo).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = f.call("find_issues", json!({"namespaces": ["web", "payments", "shop"]})).await.expect("find_issues");
        let findings = out.structured["findings"].as_array().cloned().unwrap_or_default();
        let analyzers: Vec<&str> = findings.iter().filter_map(|f| f["analyzer"].as_str()).collect();
        let found_all = ["image-pull", "config-error", "service-selector"].iter().all(|a| analyzers.contains(a));
        if found_all {
            assert!(
                findings.iter().all(|f| f["namespace"] != "shop"),
                "the healthy namespace has no findings: {findings:#?}"
            );
            assert!(out.summary.contains("issue(s)"), "{}", out.summary);
            assert!(out.untrusted, "evidence carries cluster text");
            let pull = findings.iter().find(|f| f["analyzer"] == "image-pull").expect("image pull finding");
            assert!(pull.to_string().contains("does-not-exist"), "the evidence names the image: {pull}");
            assert!(out.structured["stats"]["listCalls"].as_u64().is_some_and(|n| n > 0));
            return;
        }
        assert!(Instant::now() < deadline, "faults not found in time; analyzers seen: {analyzers:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn bad_arguments_are_refused() {
    let f = common::fixture(Scenario::Empty).await;
    for args in [
        json!({"namespaces": ["Not_A_Namespace"]}),
        json!({"limit": 0}),
        json!({"minSeverity": "fatal"}),
        json!({"extra": true}),
    ] {
        let err = f.call("find_issues", args.clone()).await.expect_err("refused");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{args}: {err}");
    }
    let limited = f.call("find_issues", json!({"limit": 1, "minSeverity": "critical"})).await.expect("runs");
    assert!(limited.structured["findings"].as_array().is_some_and(|a| a.len() <= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_issues_filters_by_analyzer_and_kind() {
    let f = common::fixture(Scenario::Demo).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = f
            .call("find_issues", json!({"analyzers": ["pvc-pending"], "kinds": ["persistentvolumeclaim"]}))
            .await
            .expect("runs");
        let findings = out.structured["findings"].as_array().cloned().unwrap_or_default();
        if !findings.is_empty() {
            assert!(
                findings.iter().all(|f| f["analyzer"] == "pvc-pending" && f["kind"] == "PersistentVolumeClaim"),
                "{findings:#?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the Pending claim was not found");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let err = f.call("find_issues", json!({"analyzers": ["no-such-analyzer"]})).await.expect_err("refused");
    assert!(
        matches!(&err, ToolError::InvalidArguments(m) if m.contains("crash-loop")),
        "the message lists the analyzers: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_finding_adds_describe_logs_and_related_objects() {
    let f = common::fixture(Scenario::Demo).await;
    let args = json!({"analyzer": "crash-loop", "kind": "Deployment", "namespace": "payments", "name": "payments-api"});
    let deadline = Instant::now() + Duration::from_secs(30);
    let out = loop {
        let out = f.call("explain_finding", args.clone()).await.expect("explain_finding");
        let has_logs = out.structured["logs"].as_array().is_some_and(|l| l.iter().any(|x| x["previous"] == true));
        if has_logs {
            break out;
        }
        assert!(Instant::now() < deadline, "no previous logs in time: {}", out.structured);
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(out.untrusted);
    assert_eq!(out.structured["object"], "Deployment payments/payments-api");
    assert_eq!(out.structured["describe"]["object"], "Deployment payments/payments-api", "describe-style state");
    assert!(out.structured["pods"].as_array().is_some_and(|p| p.len() == 2), "{}", out.structured);
    assert!(out.summary.contains("Last log line:"), "{}", out.summary);
    assert!(out.structured.to_string().len() <= 8_000 * 4, "bounded by the default budget");

    // A Helm release: revisions from the labels, no describe.
    let helm = f
        .call(
            "explain_finding",
            json!({"analyzer": "helm-release", "kind": "HelmRelease", "namespace": "apps", "name": "podinfo"}),
        )
        .await
        .expect("helm release");
    assert!(helm.structured.get("describe").is_none());
    assert!(helm.summary.contains("revision 2: deployed"), "{}", helm.summary);

    // A Node (cluster-scoped) and an object that is gone.
    let node = f
        .call("explain_finding", json!({"analyzer": "node", "kind": "Node", "name": "sim-worker-1"}))
        .await
        .expect("node");
    assert_eq!(node.structured["object"], "Node sim-worker-1");
    let gone = f
        .call(
            "explain_finding",
            json!({"analyzer": "crash-loop", "kind": "Deployment", "namespace": "payments", "name": "gone"}),
        )
        .await
        .expect("a gone object is not an error");
    assert!(gone.summary.contains("does not exist"), "{}", gone.summary);
}

#[tokio::test]
async fn explain_finding_refuses_bad_arguments() {
    let f = common::fixture(Scenario::Empty).await;
    for args in [
        json!({"analyzer": "nope", "kind": "Deployment", "namespace": "a", "name": "b"}),
        json!({"analyzer": "crash-loop", "kind": "Secret", "namespace": "a", "name": "b"}),
        json!({"analyzer": "crash-loop", "kind": "Deployment", "namespace": "Bad_NS", "name": "b"}),
        json!({"analyzer": "crash-loop", "kind": "Deployment", "name": "b", "extra": 1}),
        json!({"analyzer": "crash-loop", "kind": "Deployment"}),
    ] {
        let err = f.call("explain_finding", args.clone()).await.expect_err("refused");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{args}: {err}");
    }
}
