//! Secret values never leave the cluster through the Kubernetes tools, except through `secret_reveal`:
//! a Secret with a known value, pods that use it, and every tool that could show it.

#[path = "k8s_support.rs"]
mod support;

use base64::Engine;
use serde_json::json;
use support::{Env, demo, eventually, text};

const VALUE: &str = "hunter2-Sup3r-S3cret";

#[tokio::test]
async fn secret_values_never_appear_in_outputs() {
    let e = Env::in_process(demo()).await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(VALUE);
    let manifest = format!(
        r#"
apiVersion: v1
kind: Secret
metadata: {{name: db-creds, namespace: shop}}
type: Opaque
data: {{password: {b64}, user: YWRtaW4=}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: uses-secret, namespace: shop}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: uses-secret}}}}
  template:
    metadata: {{labels: {{app: uses-secret}}}}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:1.0
          envFrom: [{{secretRef: {{name: db-creds}}}}]
          env:
            - {{name: DB_PASSWORD, valueFrom: {{secretKeyRef: {{name: db-creds, key: password}}}}}}
            - {{name: DB_URL, value: "postgres://admin:{VALUE}@db:5432/app"}}
            - {{name: API_TOKEN, value: "token={VALUE}"}}
"#
    );
    let mut outputs = Vec::new();
    outputs.push(e.ok("resource_diff", json!({"manifest": manifest})).await);
    outputs.push(e.ok("resources_apply", json!({"manifest": manifest})).await);
    eventually("the pod runs", || async {
        let pods = e
            .ok("resources_list", json!({"kind": "pods", "namespace": "shop", "labelSelector": "app=uses-secret"}))
            .await;
        pods.structured["items"].as_array().is_some_and(|i| i.len() == 1 && i[0]["status"] == "Running")
    })
    .await;
    let pods =
        e.ok("resources_list", json!({"kind": "pods", "namespace": "shop", "labelSelector": "app=uses-secret"})).await;
    let pod = support::item_named(&pods, "uses-secret").expect("pod");
    outputs.push(pods);
    let calls = [
        ("resource_get", json!({"kind": "secret", "name": "db-creds", "namespace": "shop"})),
        ("resources_list", json!({"kind": "secrets", "namespace": "shop", "output": "full"})),
        ("resources_list", json!({"kind": "secrets", "allNamespaces": true})),
        ("resources_list", json!({"kind": "pods", "namespace": "shop", "output": "full"})),
        ("resources_list", json!({"kind": "deploy", "namespace": "shop", "output": "full"})),
        ("resource_get", json!({"kind": "pod", "name": pod, "namespace": "shop"})),
        ("resource_get", json!({"kind": "deploy", "name": "uses-secret", "namespace": "shop"})),
        ("resource_describe", json!({"kind": "pod", "name": pod, "namespace": "shop"})),
        ("resource_describe", json!({"kind": "deploy", "name": "uses-secret", "namespace": "shop"})),
        ("resource_describe", json!({"kind": "secret", "name": "db-creds", "namespace": "shop"})),
        ("events_list", json!({"namespace": "shop", "limit": 500})),
        ("pod_logs", json!({"name": pod, "namespace": "shop"})),
        (
            "resource_wait",
            json!({"kind": "secret", "name": "db-creds", "namespace": "shop", "jsonPath": "{.type}=Opaque", "timeout": "5s"}),
        ),
        (
            "resource_wait",
            json!({"kind": "secret", "name": "db-creds", "namespace": "shop", "jsonPath": "{.data.password}=nothing", "timeout": "1s"}),
        ),
        (
            "resource_patch",
            json!({"kind": "secret", "name": "db-creds", "namespace": "shop", "patch": {"data": {"extra": "eA=="}}}),
        ),
        (
            "resource_patch",
            json!({"kind": "secret", "name": "db-creds", "namespace": "shop", "patch": {"data": {"password": base64::engine::general_purpose::STANDARD.encode("another-Secret-2")}}, "dryRun": true}),
        ),
        (
            "resource_diff",
            json!({"manifest": manifest.replace(&b64, &base64::engine::general_purpose::STANDARD.encode("another-Secret-2"))}),
        ),
    ];
    for (tool, args) in calls {
        outputs.push(e.ok(tool, args).await);
    }
    let secret_b64_other = base64::engine::general_purpose::STANDARD.encode("another-Secret-2");
    for out in &outputs {
        let all = text(out);
        for needle in [VALUE, b64.as_str(), "another-Secret-2", secret_b64_other.as_str()] {
            assert!(!all.contains(needle), "{needle:?} leaked in: {all}");
        }
    }
    // Keys and sizes stay visible; a changed value shows as changed.
    let get = e.ok("resource_get", json!({"kind": "secret", "name": "db-creds", "namespace": "shop"})).await;
    assert!(
        get.structured["object"]["data"]["password"].as_str().is_some_and(|v| v.starts_with("<redacted: ")),
        "{}",
        get.structured
    );
    let diff = outputs.last().expect("diff");
    assert!(
        diff.structured["objects"][0]["diff"].as_str().is_some_and(|d| d.contains("changed")),
        "{}",
        diff.structured
    );
    let describe = e.ok("resource_describe", json!({"kind": "pod", "name": pod, "namespace": "shop"})).await;
    assert!(text(&describe).contains("DB_PASSWORD from secret db-creds key password"), "{}", describe.structured);
    // The one tool that reveals.
    let revealed = e.ok("secret_reveal", json!({"namespace": "shop", "name": "db-creds", "keys": ["password"]})).await;
    assert_eq!(revealed.structured["values"]["password"], VALUE);
}
