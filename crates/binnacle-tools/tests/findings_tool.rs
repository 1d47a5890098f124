//! `find_issues` through the catalog, against the demo scenario's planted faults.

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
            assert!(findings.iter().all(|f| f["namespace"] != "shop"), "the healthy namespace has no findings: {findings:#?}");
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
    for args in [json!({"namespaces": ["Not_A_Namespace"]}), json!({"limit": 0}), json!({"minSeverity": "fatal"}), json!({"extra": true})] {
        let err = f.call("find_issues", args.clone()).await.expect_err("refused");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{args}: {err}");
    }
    let limited = f.call("find_issues", json!({"limit": 1, "minSeverity": "critical"})).await.expect("runs");
    assert!(limited.structured["findings"].as_array().is_some_and(|a| a.len() <= 1));
}
