//! Read tools against the simulated demo cluster (planted faults): lists, get, describe with causes,
//! events, logs after a crash, usage, rollout status.

mod common;
#[path = "k8s_support.rs"]
mod support;

use binnacle_sim::Scenario;
use serde_json::{Value, json};
use support::eventually;

/// The demo, once its pods have had time to start and fail.
async fn demo() -> common::Fixture {
    let f = common::fixture(Scenario::Demo).await;
    eventually("payments-api has restarted", || async {
        let out = f
            .call(
                "resources_list",
                json!({"kind": "pods", "namespace": "payments", "labelSelector": "app=payments-api"}),
            )
            .await;
        out.is_ok_and(|o| {
            o.structured["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|p| p["restarts"].as_str().is_some_and(|r| !r.starts_with('0'))))
        })
    })
    .await;
    f
}

#[tokio::test]
async fn lists_are_compact_rows_for_any_kind() {
    let f = demo().await;
    let pods = f.call("resources_list", json!({"kind": "po", "allNamespaces": true})).await.expect("pods");
    let items = pods.structured["items"].as_array().expect("items");
    assert!(items.len() > 15, "{}", pods.summary);
    let row = &items[0];
    for key in ["name", "namespace", "ready", "status", "restarts", "age", "node"] {
        assert!(row.get(key).is_some(), "pod row lacks {key}: {row}");
    }
    assert!(row.get("metadata").is_none() && row.get("spec").is_none(), "rows are projections: {row}");
    assert!(pods.summary.contains("Running") && pods.summary.contains("ImagePullBackOff"), "{}", pods.summary);
    // Kind, short name, plural and kind.group all resolve.
    for kind in ["Deployment", "deploy", "deployments", "deployments.apps", "deployments.v1.apps"] {
        let out = f.call("resources_list", json!({"kind": kind, "namespace": "shop"})).await.expect(kind);
        assert_eq!(out.structured["kind"], "Deployment", "{kind}");
        let names: Vec<&str> =
            out.structured["items"].as_array().expect("items").iter().filter_map(|i| i["name"].as_str()).collect();
        assert_eq!(names, vec!["cart", "frontend"], "{kind}");
        assert!(
            out.structured["items"][1]["images"].as_str().is_some_and(|i| i.contains("nginx")),
            "{}",
            out.structured
        );
    }
    // A custom resource: printer columns of its CRD.
    let ro = f.call("resources_list", json!({"kind": "ro", "namespace": "rollouts"})).await.expect("rollouts");
    assert_eq!(ro.structured["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(ro.structured["items"][0]["desired"], 5, "{}", ro.structured);
    // Label and field selectors.
    let sel = f.call("resources_list", json!({"kind": "pods", "allNamespaces": true, "labelSelector": "app in (frontend,cart)", "fieldSelector": "status.phase=Running"})).await.expect("selected");
    let n = sel.structured["items"].as_array().expect("items").len();
    assert_eq!(n, 5, "{}", sel.structured);
    // Full output: cleaned objects.
    let full =
        f.call("resources_list", json!({"kind": "deploy", "namespace": "shop", "output": "full"})).await.expect("full");
    let obj = &full.structured["items"][0];
    assert_eq!(obj["kind"], "Deployment");
    assert!(obj["spec"]["template"].is_object());
    assert!(obj.pointer("/metadata/managedFields").is_none(), "{obj}");
}

#[tokio::test]
async fn api_resources_include_crds_and_short_names() {
    let f = common::fixture(Scenario::Demo).await;
    let out = f.call("api_resources_list", json!({})).await.expect("resources");
    let rows = out.structured["resources"].as_array().expect("rows");
    let ro = rows.iter().find(|r| r["name"] == "rollouts.argoproj.io").expect("rollouts listed");
    assert_eq!(ro["shortNames"], json!(["ro"]));
    assert_eq!(ro["namespaced"], true);
    assert_eq!(rows[0]["apiVersion"], "v1", "core group first");
    let apps = f.call("api_resources_list", json!({"group": "apps"})).await.expect("apps");
    assert!(apps.structured["resources"].as_array().expect("rows").iter().all(|r| r["apiVersion"] == "apps/v1"));
}

#[tokio::test]
async fn get_returns_a_cleaned_object() {
    let f = common::fixture(Scenario::Demo).await;
    let out = f
        .call("resource_get", json!({"kind": "deployment", "name": "frontend", "namespace": "shop"}))
        .await
        .expect("get");
    let obj = &out.structured["object"];
    assert_eq!(obj["metadata"]["name"], "frontend");
    assert!(obj.pointer("/metadata/managedFields").is_none());
    assert!(obj.pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration").is_none());
    assert!(out.summary.starts_with("Deployment shop/frontend"), "{}", out.summary);
    assert!(out.untrusted);
    let node = f.call("resource_get", json!({"kind": "node", "name": "sim-worker-1"})).await.expect("cluster-scoped");
    assert_eq!(node.structured["object"]["kind"], "Node");
    let missing =
        f.call("resource_get", json!({"kind": "pod", "name": "nope", "namespace": "shop"})).await.expect_err("missing");
    assert!(matches!(missing, binnacle_tools::ToolError::NotFound(_)), "{missing:?}");
}

fn findings(out: &binnacle_tools::ToolOutput) -> String {
    out.structured["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

#[tokio::test]
async fn describe_explains_the_planted_faults() {
    let f = demo().await;
    let pods = f.call("resources_list", json!({"kind": "pods", "namespace": "payments"})).await.expect("pods");
    let api_pod = support::item_named(&pods, "payments-api").expect("payments-api pod");
    let fraud_pod = support::item_named(&pods, "fraud-detector").expect("fraud pod");

    // A crashing pod: container finding, owner chain to the Deployment, back-off events, its node.
    let out = f
        .call("resource_describe", json!({"kind": "pod", "name": api_pod, "namespace": "payments"}))
        .await
        .expect("describe pod");
    let s = &out.structured;
    assert!(findings(&out).contains("container api"), "{s}");
    let owners: Vec<&str> =
        s["owners"].as_array().expect("owners").iter().filter_map(|o| o["object"].as_str()).collect();
    assert!(
        owners[0].starts_with("ReplicaSet payments/payments-api-") && owners[1] == "Deployment payments/payments-api",
        "{owners:?}"
    );
    assert!(s["events"].as_array().expect("events").iter().any(|e| e["reason"] == "BackOff"), "{s}");
    assert!(s["related"].as_array().expect("related").iter().any(|r| r["relation"] == "runs on"), "{s}");
    assert!(
        s["related"].as_array().expect("related").iter().any(|r| r["object"] == "Service payments/payments-api"),
        "{s}"
    );

    // A missing ConfigMap is named as the cause.
    let out = f
        .call("resource_describe", json!({"kind": "pod", "name": fraud_pod, "namespace": "payments"}))
        .await
        .expect("describe pod");
    assert!(
        findings(&out).contains("ConfigMap fraud-rules (used by env RULES of container detector) does not exist"),
        "{}",
        out.structured
    );

    // Deployment → ReplicaSets → Pods, and the pods' warnings.
    let out = f
        .call("resource_describe", json!({"kind": "deploy", "name": "payments-api", "namespace": "payments"}))
        .await
        .expect("describe deploy");
    let related = out.structured["related"].as_array().expect("related");
    assert!(
        related
            .iter()
            .any(|r| r["relation"] == "owns" && r["object"].as_str().is_some_and(|o| o.starts_with("ReplicaSet")))
    );
    assert!(related.iter().filter(|r| r["relation"] == "pod").count() == 2, "{related:?}");
    assert!(findings(&out).contains("2 of 2 pods unhealthy"), "{}", out.structured);
    assert!(
        out.structured["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["reason"] == "BackOff" && e["object"].as_str().is_some_and(|o| o.starts_with("Pod/")))
    );

    // A Service whose selector matches nothing says so, and which labels the pods do have.
    let out = f
        .call("resource_describe", json!({"kind": "svc", "name": "checkout", "namespace": "web"}))
        .await
        .expect("describe svc");
    assert!(findings(&out).contains("selector app=checkout-v2 matches no pod"), "{}", out.structured);
    assert!(findings(&out).contains("app=checkout"), "{}", out.structured);
    let out = f
        .call("resource_describe", json!({"kind": "svc", "name": "frontend", "namespace": "shop"}))
        .await
        .expect("describe healthy svc");
    assert!(
        out.structured["related"]
            .as_array()
            .expect("related")
            .iter()
            .any(|r| r["relation"] == "endpoints" && r["status"].as_str().is_some_and(|s| s.starts_with("3 ready"))),
        "{}",
        out.structured
    );

    // PVC → StorageClass: the missing class is the cause.
    let out = f
        .call("resource_describe", json!({"kind": "pvc", "name": "analytics-scratch", "namespace": "data"}))
        .await
        .expect("describe pvc");
    assert!(findings(&out).contains("StorageClass fast-ssd does not exist"), "{}", out.structured);

    // A pending pod: the scheduler's reason.
    let pods = f
        .call("resources_list", json!({"kind": "pods", "namespace": "data", "labelSelector": "app=analytics"}))
        .await
        .expect("pods");
    let pending = support::item_named(&pods, "analytics").expect("analytics pod");
    let out = f
        .call("resource_describe", json!({"kind": "pod", "name": pending, "namespace": "data"}))
        .await
        .expect("describe pending");
    assert!(findings(&out).contains("PodScheduled=False"), "{}", out.structured);

    // A node: requests against allocatable and the pods in trouble.
    let out =
        f.call("resource_describe", json!({"kind": "node", "name": "sim-worker-1"})).await.expect("describe node");
    assert!(out.structured["details"]["requested"].as_str().is_some_and(|r| r.contains('%')), "{}", out.structured);
}

#[tokio::test]
async fn events_are_filtered_and_newest_first() {
    let f = demo().await;
    let all = f.call("events_list", json!({"allNamespaces": true, "limit": 500})).await.expect("events");
    let events = all.structured["events"].as_array().expect("events");
    assert!(events.len() > 20, "{}", all.summary);
    assert!(events.iter().all(|e| e["namespace"].is_string()));
    let warnings = f.call("events_list", json!({"namespace": "payments", "type": "Warning"})).await.expect("warnings");
    let w = warnings.structured["events"].as_array().expect("events");
    assert!(!w.is_empty() && w.iter().all(|e| e["type"] == "Warning"), "{w:?}");
    let backoff = f
        .call("events_list", json!({"namespace": "payments", "reason": "BackOff", "kind": "Pod"}))
        .await
        .expect("backoff");
    assert!(backoff.structured["events"].as_array().expect("events").iter().all(|e| e["reason"] == "BackOff"));
    let recent =
        f.call("events_list", json!({"allNamespaces": true, "since": "1s", "limit": 500})).await.expect("recent");
    assert!(recent.structured["events"].as_array().expect("events").len() < events.len());
    assert!(all.untrusted);
}

#[tokio::test]
async fn logs_of_a_crashed_container_include_the_previous_instance() {
    let f = demo().await;
    let pods = f
        .call("resources_list", json!({"kind": "pods", "namespace": "payments", "labelSelector": "app=payments-api"}))
        .await
        .expect("pods");
    let items = pods.structured["items"].as_array().expect("items");
    let pod = items.iter().find(|p| !p["restarts"].as_str().unwrap_or("0").starts_with('0')).expect("a restarted pod")
        ["name"]
        .as_str()
        .expect("name")
        .to_string();
    let out = f.call("pod_logs", json!({"name": pod, "namespace": "payments"})).await.expect("logs");
    let prev = &out.structured["previousInstance"];
    assert_eq!(prev["reason"], "Error", "{}", out.structured);
    assert!(
        prev["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("could not connect to database"))),
        "{}",
        out.structured
    );
    assert!(out.summary.contains("restarted") && out.untrusted, "{}", out.summary);
    let filtered = f.call("pod_logs", json!({"name": pod, "namespace": "payments", "previous": true, "include": "ERROR|panic", "exclude": "panic"})).await.expect("filtered");
    let lines = filtered.structured["lines"].as_array().expect("lines");
    assert!(!lines.is_empty() && lines.iter().all(|l| l.as_str().is_some_and(|l| l.contains("ERROR"))), "{lines:?}");
    assert!(filtered.structured.get("previousInstance").is_none());
    let tail = f
        .call("pod_logs", json!({"name": pod, "namespace": "payments", "previous": true, "tailLines": 2}))
        .await
        .expect("tail");
    assert_eq!(tail.structured["lines"].as_array().expect("lines").len(), 2);
    let bad = f
        .call("pod_logs", json!({"name": pod, "namespace": "payments", "container": "nope"}))
        .await
        .expect_err("no such container");
    assert!(bad.to_string().contains("containers: api"), "{bad}");
}

#[tokio::test]
async fn usage_is_sorted_and_relative_to_requests() {
    let f = demo().await;
    let pods =
        f.call("pods_top", json!({"allNamespaces": true, "sortBy": "memory", "limit": 100})).await.expect("pods_top");
    let rows = pods.structured["pods"].as_array().expect("rows");
    assert!(rows.len() > 10);
    let mem: Vec<i64> = rows.iter().map(|r| r["memoryMi"].as_i64().expect("memory")).collect();
    assert!(mem.windows(2).all(|w| w[0] >= w[1]), "{mem:?}");
    assert!(rows.iter().any(|r| r["cpuReqPct"].is_i64()), "{rows:?}");
    let shop =
        f.call("pods_top", json!({"namespace": "shop", "labelSelector": "app=frontend"})).await.expect("selected");
    assert_eq!(shop.structured["pods"].as_array().expect("rows").len(), 3, "{}", shop.structured);
    let nodes = f.call("nodes_top", json!({})).await.expect("nodes_top");
    let rows = nodes.structured["nodes"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["cpuPct"].is_i64() && r["memoryPct"].is_i64()));
}

#[tokio::test]
async fn rollout_status_names_what_blocks_it() {
    let f = demo().await;
    // The crashing pods run for a moment between restarts: wait for a moment they are down.
    eventually("payments-api rollout blocked by its crashing container", || async {
        let out =
            f.call("rollout_status", json!({"name": "payments-api", "namespace": "payments"})).await.expect("status");
        out.structured["done"] == false
            && out.structured["blocker"].as_str().is_some_and(|b| b.contains("container api"))
    })
    .await;
    let ok = f.call("rollout_status", json!({"name": "frontend", "namespace": "shop"})).await.expect("status");
    assert_eq!(ok.structured["done"], true, "{}", ok.structured);
    let sts = f
        .call("rollout_status", json!({"kind": "statefulset", "name": "redis", "namespace": "shop"}))
        .await
        .expect("sts");
    assert_eq!(sts.structured["done"], true, "{}", sts.structured);
    let job = f
        .call("rollout_status", json!({"kind": "job", "name": "nightly-report", "namespace": "batch"}))
        .await
        .expect_err("jobs have no rollout");
    assert!(matches!(job, binnacle_tools::ToolError::InvalidArguments(_)), "{job:?}");
}
