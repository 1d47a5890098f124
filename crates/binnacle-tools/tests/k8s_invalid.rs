//! Bad input never reaches the cluster: every class of argument (namespace, name, kind, selectors,
//! image, duration, regex, replicas, manifests, patches, ...) is refused with `InvalidArguments`, and
//! the cluster's resourceVersion does not move. An unreachable cluster fails fast and clearly.

#[path = "k8s_support.rs"]
mod support;

use binnacle_sim::Scenario;
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, ClusterSet, ToolContext, ToolError};
use serde_json::json;
use std::sync::Arc;
use support::{Env, assert_invalid};

#[tokio::test]
async fn bad_arguments_are_refused_and_change_nothing() {
    let e = Env::in_process(support::still(Scenario::Demo)).await;
    e.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "namespace": "shop"}, "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}}));
    let rv = e.rv();
    let cases = [
        // namespaces
        ("resources_list", json!({"kind": "pods", "namespace": "Bad_NS"})),
        ("events_list", json!({"namespace": "-x"})),
        ("pods_top", json!({"namespace": "a".repeat(64)})),
        (
            "resources_apply",
            json!({"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}", "namespace": "UPPER"}),
        ),
        // names
        ("resource_get", json!({"kind": "pod", "name": "-flag", "namespace": "shop"})),
        ("resource_delete", json!({"kind": "pod", "name": "../../etc", "namespace": "shop"})),
        ("node_cordon", json!({"name": "Node_1"})),
        ("node_drain", json!({"name": ""})),
        ("pod_run", json!({"name": "a b", "image": "busybox"})),
        ("secret_reveal", json!({"namespace": "shop", "name": "x/y", "keys": ["a"]})),
        // kinds and apiVersions
        ("resources_list", json!({"kind": "pods; rm -rf /"})),
        ("resource_get", json!({"kind": "", "name": "a"})),
        ("resources_list", json!({"kind": "pods", "apiVersion": "not a version"})),
        ("resources_list", json!({"kind": "frobnicators"})),
        ("resource_describe", json!({"kind": "widget", "name": "a", "namespace": "shop"})),
        ("workload_scale", json!({"kind": "configmaps", "name": "shop-config", "namespace": "shop", "replicas": 1})),
        ("rollout_status", json!({"kind": "pods", "name": "a", "namespace": "shop"})),
        // selectors
        ("resources_list", json!({"kind": "pods", "labelSelector": "app in a"})),
        ("resources_list", json!({"kind": "pods", "labelSelector": "=web"})),
        ("resources_list", json!({"kind": "pods", "fieldSelector": "status.phase"})),
        ("pods_top", json!({"labelSelector": "!!"})),
        // images
        ("workload_set_image", json!({"name": "frontend", "namespace": "shop", "image": "nginx; rm -rf /"})),
        ("workload_set_image", json!({"name": "frontend", "namespace": "shop", "image": "--privileged"})),
        ("pod_run", json!({"name": "a", "image": ""})),
        // durations
        ("pod_logs", json!({"name": "a", "namespace": "shop", "since": "10x"})),
        ("events_list", json!({"since": "10"})),
        ("node_drain", json!({"name": "sim-worker-1", "timeout": "2h"})),
        (
            "resource_wait",
            json!({"kind": "pod", "name": "a", "namespace": "shop", "condition": "Ready", "timeout": "soon"}),
        ),
        ("pod_exec", json!({"name": "a", "namespace": "shop", "command": ["ls"], "timeout": "1h"})),
        // regular expressions
        ("pod_logs", json!({"name": "a", "namespace": "shop", "include": "("})),
        ("pod_logs", json!({"name": "a", "namespace": "shop", "exclude": "[z-a]"})),
        ("pod_logs", json!({"name": "a", "namespace": "shop", "include": "a".repeat(600)})),
        // numbers
        ("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": -1})),
        ("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": 1001})),
        ("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": "3"})),
        ("resources_list", json!({"kind": "pods", "limit": 0})),
        ("resources_list", json!({"kind": "pods", "limit": 501})),
        ("pod_logs", json!({"name": "a", "namespace": "shop", "tailLines": 0})),
        ("resource_delete", json!({"kind": "pod", "name": "a", "namespace": "shop", "gracePeriodSeconds": -5})),
        ("rollout_undo", json!({"name": "frontend", "namespace": "shop", "toRevision": 0})),
        // enums, unknown and missing fields, exclusive options
        ("resources_list", json!({"kind": "pods", "output": "yaml"})),
        ("resources_list", json!({"kind": "pods", "namespace": "shop", "allNamespaces": true})),
        ("resources_list", json!({"kind": "pods", "bogus": true})),
        ("resource_get", json!({"kind": "pod"})),
        ("events_list", json!({"type": "Error"})),
        ("resource_delete", json!({"kind": "pod", "name": "a", "namespace": "shop", "propagationPolicy": "Now"})),
        ("resource_wait", json!({"kind": "pod", "name": "a", "namespace": "shop"})),
        (
            "resource_wait",
            json!({"kind": "pod", "name": "a", "namespace": "shop", "condition": "Ready", "deleted": true}),
        ),
        ("resource_wait", json!({"kind": "pod", "name": "a", "namespace": "shop", "jsonPath": "{.status.phase"})),
        ("resource_wait", json!({"kind": "pod", "name": "a", "namespace": "shop", "condition": "Ready; true"})),
        // manifests and patches
        ("resources_apply", json!({"manifest": "a: [b"})),
        ("resources_apply", json!({"manifest": ""})),
        ("resources_apply", json!({"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}"})),
        ("resources_apply", json!({"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}"})),
        (
            "resources_apply",
            json!({"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n---\napiVersion: example.com/v1\nkind: Nope\nmetadata: {name: b, namespace: shop}"}),
        ),
        ("resource_diff", json!({"manifest": "- just\n- a list"})),
        ("resource_patch", json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "patch": {}})),
        (
            "resource_patch",
            json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "patch": [{"op": "frob", "path": "/a"}], "type": "json"}),
        ),
        (
            "resource_patch",
            json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "patch": {"data": {}}, "type": "json"}),
        ),
        ("resource_patch", json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "patch": "{not json"})),
        // pods
        ("pod_run", json!({"name": "a", "image": "busybox", "labels": {"bad key!": "x"}})),
        ("pod_run", json!({"name": "a", "image": "busybox", "labels": {"app": "bad value!"}})),
        ("pod_run", json!({"name": "a", "image": "busybox", "env": {"1BAD": "x"}})),
        ("pod_run", json!({"name": "a", "image": "busybox", "restartPolicy": "Sometimes"})),
        ("pod_exec", json!({"name": "a", "namespace": "shop", "command": []})),
        ("pod_exec", json!({"name": "a", "namespace": "shop", "command": ["ls"], "container": "Bad_C"})),
        ("pod_logs", json!({"name": "a", "namespace": "shop", "container": "-c"})),
        // secrets
        ("secret_reveal", json!({"namespace": "shop", "name": "a", "keys": []})),
        ("secret_reveal", json!({"namespace": "shop", "name": "a", "keys": ["../x"]})),
        ("secret_reveal", json!({"name": "a", "keys": ["k"]})),
        // common arguments
        ("cluster_info", json!({"budgetTokens": 10})),
        ("resources_list", json!({"kind": "pods", "context": ""})),
    ];
    for (tool, args) in cases {
        assert_invalid(e.call(tool, args.clone()).await, &format!("{tool} {args}"));
    }
    assert_eq!(e.rv(), rv, "bad input changed the cluster");
    // Runtime refusals that also change nothing: a container that does not exist.
    assert_invalid(
        e.call("pod_logs", json!({"name": "solo", "namespace": "shop", "container": "nope"})).await,
        "container",
    );
    assert_invalid(
        e.call(
            "workload_set_image",
            json!({"name": "frontend", "namespace": "shop", "container": "nope", "image": "nginx:1"}),
        )
        .await,
        "set image container",
    );
    assert_eq!(e.rv(), rv, "runtime refusals changed the cluster");
}

#[tokio::test]
async fn an_unreachable_cluster_fails_fast_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    let entries = [binnacle_sim::kubeconfig::Entry { name: "gone".into(), server: "http://127.0.0.1:1".into() }];
    std::fs::write(&path, binnacle_sim::kubeconfig::render(&entries)).expect("write");
    let clusters = ClusterSet::from_kubeconfig(Some(&path), None).expect("kubeconfig");
    let ctx = ToolContext::new(Arc::new(clusters), Arc::new(Settings::default()));
    let catalog = Catalog::builtin();
    for (tool, args) in [
        ("cluster_info", json!({})),
        ("resources_list", json!({"kind": "pods"})),
        ("resource_describe", json!({"kind": "pod", "name": "a"})),
        ("pod_logs", json!({"name": "a"})),
        ("node_drain", json!({"name": "n"})),
        ("events_list", json!({})),
    ] {
        let started = std::time::Instant::now();
        let err = catalog.get(tool).expect("tool").call(&ctx, args).await.expect_err("unreachable");
        assert!(started.elapsed() < std::time::Duration::from_secs(6), "{tool} took {:?}", started.elapsed());
        match &err {
            ToolError::Unavailable(m) => assert!(m.contains("cannot reach the cluster"), "{tool}: {m}"),
            other => panic!("{tool}: expected Unavailable, got {other:?}"),
        }
        // Never a credential in the message.
        assert!(!err.to_string().contains("sim-admin-token"), "{err}");
    }
}
