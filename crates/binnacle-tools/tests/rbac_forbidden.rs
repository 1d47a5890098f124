//! The issue's RBAC test: tools running as a ServiceAccount bound only to the read-only ClusterRole
//! `binnacle-read` (simulated authorization in binnacle-sim evaluates the bindings) read fine, and a write tool
//! is refused with a message that names the missing permission and what to do. Nothing changes.

mod common;

use binnacle_sim::authz::service_account_kubeconfig;
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, ClusterSet, ToolContext, ToolError};
use common::Fixture;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use serde_json::{Value, json};
use std::sync::Arc;

/// `binnacle-read` as the chart ships it (its core rules): get/list/watch, no Secrets.
const READ_ONLY: &str = r#"{
  "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "binnacle-read"},
  "rules": [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "endpoints", "configmaps", "events", "namespaces", "nodes"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"], "verbs": ["get", "list", "watch"]}
  ]
}"#;

async fn create<K>(api: kube::Api<K>, body: Value)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + serde::Serialize,
{
    let obj: K = serde_json::from_value(body).expect("object");
    api.create(&kube::api::PostParams::default(), &obj).await.expect("created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_read_only_cluster_role_a_write_tool_is_refused_with_a_clear_message() {
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 10.0, ..SimOptions::default() })
        .await
        .expect("sim starts");
    let admin = kube::Client::new(sim.router(), "default");
    create::<ClusterRole>(kube::Api::all(admin.clone()), serde_json::from_str(READ_ONLY).expect("json")).await;
    create::<ServiceAccount>(
        kube::Api::namespaced(admin.clone(), "default"),
        json!({"metadata": {"name": "binnacle"}}),
    )
    .await;
    create::<ClusterRoleBinding>(
        kube::Api::all(admin.clone()),
        json!({
            "metadata": {"name": "binnacle:default:main"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "binnacle-read"},
            "subjects": [{"kind": "ServiceAccount", "name": "binnacle", "namespace": "default"}]
        }),
    )
    .await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = sim.serve(listener).expect("serve");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, service_account_kubeconfig(&format!("http://{addr}"), "default", "binnacle"))
        .expect("kubeconfig");
    let clusters = Arc::new(ClusterSet::from_kubeconfig(Some(&kubeconfig), Some("binnacle")).expect("kubeconfig"));
    let ctx = ToolContext::new(clusters, Arc::new(Settings::default()));
    let f = Fixture { sim, ctx, catalog: Catalog::builtin() };

    // Reads work under binnacle-read.
    let pods = f.call("resources_list", json!({"kind": "pods", "namespace": "shop"})).await.expect("read allowed");
    assert!(!pods.summary.is_empty());

    // A write is refused: 403 → ToolError::Forbidden with the permission and the fix.
    let err = f
        .call("workload_scale", json!({"kind": "deploy", "name": "frontend", "namespace": "shop", "replicas": 5}))
        .await
        .expect_err("a write under binnacle-read must be refused");
    assert!(matches!(err, ToolError::Forbidden(_)), "{err:?}");
    let msg = err.to_string();
    for want in [
        "User \"system:serviceaccount:default:binnacle\" cannot",
        "in API group \"apps\"",
        "bind the ClusterRole binnacle-write",
        "tools: readWrite",
        "kubectl auth can-i",
    ] {
        assert!(msg.contains(want), "{want:?} missing from: {msg}");
    }
    // Secrets are not readable under binnacle-read.
    let err = f.call("resources_list", json!({"kind": "secrets", "namespace": "shop"})).await.expect_err("no Secrets");
    assert!(err.to_string().contains("name the Secret in the Helm value rbac.secretNames"), "{err}");

    // Nothing changed.
    let deploy = kube::Api::<Deployment>::namespaced(admin, "shop").get("frontend").await.expect("deployment");
    assert_ne!(deploy.spec.and_then(|s| s.replicas), Some(5));
}
