//! Output budgets and paging on a large namespace: 5,000 pods (a cluster without controllers, so it
//! stays still). Every page fits the budget, says what it left out, and the continue tokens reach
//! every pod exactly once.

#[path = "k8s_support.rs"]
mod support;

use binnacle_sim::Scenario;
use binnacle_tools::output::{BYTES_PER_TOKEN, DEFAULT_BUDGET_TOKENS};
use serde_json::json;
use std::collections::BTreeSet;
use support::Env;

const PODS: usize = 5_000;

async fn big() -> Env {
    let e = Env::in_process(support::still(Scenario::Empty)).await;
    e.create(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "load"}}));
    for i in 0..PODS {
        e.create(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("worker-{i:05}"), "namespace": "load", "labels": {"app": "worker", "shard": (i % 10).to_string()},
                          "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"a\":\"very long\"}"}},
            "spec": {"nodeName": format!("sim-worker-{}", 1 + i % 2), "containers": [{"name": "w", "image": "busybox:1.36", "command": ["sleep", "infinity"],
                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
        }));
    }
    e
}

fn size(v: &serde_json::Value) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX)
}

#[tokio::test]
async fn large_lists_stay_within_budget_and_page_through_everything() {
    let e = big().await;
    let started = std::time::Instant::now();
    // Default call: 50 rows, well inside the default budget, with a continue token and a note.
    let first = e.ok("resources_list", json!({"kind": "pods", "namespace": "load"})).await;
    let budget = DEFAULT_BUDGET_TOKENS * BYTES_PER_TOKEN;
    assert!(size(&first.structured) < budget, "{} bytes", size(&first.structured));
    assert_eq!(first.structured["items"].as_array().map(Vec::len), Some(50));
    assert!(first.structured["continue"].is_string());
    assert_eq!(first.structured["remaining"], PODS - 50);
    assert!(
        first.omitted.iter().any(|n| n.contains("4950 more pods") && n.contains("continue")),
        "{:?}",
        first.omitted
    );
    assert!(first.summary.contains("4950 more"), "{}", first.summary);

    // A small budget shortens the page (and says so) but the token still points right after it.
    let small = e.ok("resources_list", json!({"kind": "pods", "namespace": "load", "budgetTokens": 256})).await;
    let n = small.structured["items"].as_array().map(Vec::len).unwrap_or(0);
    assert!(n > 0 && n < 50, "{n}");
    assert!(size(&small.structured) <= 256 * BYTES_PER_TOKEN, "{}", size(&small.structured));
    assert!(small.omitted.iter().any(|o| o.contains("output budget")), "{:?}", small.omitted);
    let next = e
        .ok(
            "resources_list",
            json!({"kind": "pods", "namespace": "load", "limit": 1, "continue": small.structured["continue"]}),
        )
        .await;
    assert_eq!(next.structured["items"][0]["name"], format!("worker-{n:05}"));

    // Full objects: fewer per page, still within the budget, cleaned.
    let full = e.ok("resources_list", json!({"kind": "pods", "namespace": "load", "output": "full"})).await;
    assert!(size(&full.structured) < budget);
    assert!(full.structured["continue"].is_string());
    assert!(!full.structured.to_string().contains("last-applied-configuration"));

    // Following the tokens reaches every pod exactly once, each page within the budget.
    let mut seen = BTreeSet::new();
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let mut args = json!({"kind": "pods", "namespace": "load", "limit": 500});
        if let Some(t) = &token {
            args["continue"] = json!(t);
        }
        let page = e.ok("resources_list", args).await;
        pages += 1;
        assert!(size(&page.structured) < budget, "page {pages}: {} bytes", size(&page.structured));
        for item in page.structured["items"].as_array().expect("items") {
            assert!(seen.insert(item["name"].as_str().expect("name").to_string()), "duplicate {item}");
        }
        match page.structured["continue"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
        assert!(pages < 1000, "paging does not end");
    }
    assert_eq!(seen.len(), PODS);
    // Selectors narrow on the server.
    let shard = e.ok("resources_list", json!({"kind": "pods", "namespace": "load", "labelSelector": "shard=3", "fieldSelector": "spec.nodeName=sim-worker-2", "limit": 500})).await;
    let shown = shard.structured["items"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(shown as i64 + shard.structured["remaining"].as_i64().unwrap_or(0), (PODS / 10) as i64);
    println!("paged {PODS} pods in {pages} pages; all calls took {:?}", started.elapsed());
}

#[tokio::test]
async fn events_and_describe_are_bounded_too() {
    let e = big().await;
    for i in 0..3_000 {
        e.create(json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": format!("ev-{i}"), "namespace": "load"},
            "involvedObject": {"kind": "Pod", "name": format!("worker-{:05}", i % 100), "namespace": "load"},
            "type": if i % 3 == 0 { "Warning" } else { "Normal" }, "reason": "Tested", "message": format!("event number {i} {}", "x".repeat(100)),
            "lastTimestamp": format!("2026-01-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60), "count": 1}));
    }
    let budget = DEFAULT_BUDGET_TOKENS * BYTES_PER_TOKEN;
    let out = e.ok("events_list", json!({"namespace": "load", "limit": 500})).await;
    assert!(size(&out.structured) < budget);
    assert!(out.omitted.iter().any(|o| o.contains("older events")), "{:?}", out.omitted);
    let node = e.ok("resource_describe", json!({"kind": "node", "name": "sim-worker-1"})).await;
    assert!(size(&node.structured) < budget, "{}", size(&node.structured));
}
