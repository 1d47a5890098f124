//! `delete`: pods (graceful and forced), cascading policies, namespaces.

use crate::harness::*;

fn not_found(out: &Out, what: &str) {
    out.err();
    assert_eq!(out.stderr.trim(), format!("Error from server (NotFound): {what} not found"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_pod_graceful_and_forced() {
    let k = Sim::empty().await;
    apply(&k, "pods.yaml", &format!("{}---\n{}", pod("web", "app: web"), pod("web2", "app: web"))).await;
    k.wait_until(&["get", "pods", "--no-headers"], secs(20), |o| {
        o.rows().len() == 2 && o.rows().iter().all(|r| r[2] == "Running")
    })
    .await;

    // Graceful: kubectl waits until the kubelet has stopped the pod and it is gone.
    let out = k.kubectl(&["delete", "pod", "web"]).await;
    assert_eq!(out.ok().trim(), "pod \"web\" deleted", "{out}");
    not_found(&k.kubectl(&["get", "pod", "web"]).await, "pods \"web\"");
    let del = k.requests("/pods/web").into_iter().find(|r| r.method == "DELETE").unwrap();
    assert_eq!(del.status, 200, "{del:?}");

    // Forced: no grace period, gone at once.
    let out = k.kubectl(&["delete", "pod", "web2", "--grace-period=0", "--force"]).await;
    assert_eq!(out.ok().trim(), "pod \"web2\" force deleted", "{out}");
    out.stderr_has(&[
        "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated",
    ]);
    not_found(&k.kubectl(&["get", "pod", "web2"]).await, "pods \"web2\"");

    // Deleting what is not there.
    not_found(&k.kubectl(&["delete", "pod", "web2"]).await, "pods \"web2\"");
    let ignored = k.kubectl(&["delete", "pod", "web2", "--ignore-not-found"]).await;
    assert_eq!(ignored.ok(), "", "{ignored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_by_label_selector() {
    let k = Sim::empty().await;
    let manifest = format!("{}---\n{}---\n{}", pod("a", "app: one"), pod("b", "app: one"), pod("c", "app: two"));
    apply(&k, "pods.yaml", &manifest).await;
    let out = k.kubectl(&["delete", "pods", "-l", "app=one", "--grace-period=0", "--force"]).await;
    assert_eq!(out.ok().lines().collect::<Vec<_>>(), ["pod \"a\" force deleted", "pod \"b\" force deleted"], "{out}");
    assert_eq!(k.ok(&["get", "pods", "-o", "name"]).await.trim(), "pod/c");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_deployment_cascades_in_background() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 2, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 2).await;
    assert_eq!(k.ok(&["delete", "deploy", "web"]).await.trim(), "deployment.apps \"web\" deleted");
    let del = k.requests("/deployments/web").into_iter().find(|r| r.method == "DELETE").unwrap();
    assert!(del.status == 200 || del.status == 202, "{del:?}");
    not_found(&k.kubectl(&["get", "deploy", "web"]).await, "deployments.apps \"web\"");
    let gone =
        k.wait_until(&["get", "rs,pods", "-l", "app=web"], secs(20), |o| o.success() && o.stdout.is_empty()).await;
    assert_eq!(gone.stderr.trim(), "No resources found in default namespace.", "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_deployment_orphan_keeps_replicaset() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 2, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 2).await;
    let rs = k.ok(&["get", "rs", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]).await;
    let pods_before = k.ok(&["get", "pods", "-l", "app=web", "-o", "name"]).await;
    assert_eq!(k.ok(&["delete", "deploy", "web", "--cascade=orphan"]).await.trim(), "deployment.apps \"web\" deleted");
    not_found(&k.kubectl(&["get", "deploy", "web"]).await, "deployments.apps \"web\"");
    // The ReplicaSet stays, without its ownerReference, and keeps its pods.
    let r = k
        .wait_until(&["get", "rs", &rs, "-o", "json"], secs(10), |o| {
            o.success()
                && o.json()["metadata"]
                    .get("ownerReferences")
                    .is_none_or(|refs| refs.as_array().is_some_and(Vec::is_empty))
        })
        .await
        .json();
    assert!(r["metadata"].get("finalizers").is_none_or(|f| !f.to_string().contains("orphan")), "{r:#}");
    tokio::time::sleep(secs(1)).await;
    let row = k.kubectl(&["get", "rs", &rs, "--no-headers"]).await.rows().remove(0);
    assert_eq!(row[1..4], ["2", "2", "2"], "{row:?}");
    assert_eq!(k.ok(&["get", "pods", "-l", "app=web", "-o", "name"]).await, pods_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_deployment_foreground() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 2, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 2).await;
    let out = k.ok(&["delete", "deploy", "web", "--cascade=foreground", "--wait=false"]).await;
    assert_eq!(out.trim(), "deployment.apps \"web\" deleted");
    // While dependents are being deleted the owner carries the foregroundDeletion finalizer.
    let d = k.kubectl(&["get", "deploy", "web", "-o", "json"]).await;
    if d.success() {
        let d = d.json();
        assert!(d["metadata"]["deletionTimestamp"].is_string(), "{d:#}");
        assert_eq!(d["metadata"]["finalizers"], serde_json::json!(["foregroundDeletion"]), "{d:#}");
    }
    // kubectl delete --cascade=foreground (waiting) on the next one returns once all are gone.
    apply(&k, "api.yaml", &deployment("api", 2, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "api", 2).await;
    assert_eq!(
        k.ok(&["delete", "deploy", "api", "--cascade=foreground"]).await.trim(),
        "deployment.apps \"api\" deleted"
    );
    let left = k.kubectl(&["get", "rs,pods", "-l", "app=api", "--no-headers"]).await;
    // Pods of the ReplicaSet may still be terminating; the ReplicaSet itself is gone with its owner.
    assert!(!left.stdout.contains("replicaset.apps/"), "{left}");
    k.wait_until(&["get", "deploy,rs,pods", "-l", "app in (web,api)"], secs(20), |o| {
        o.success() && o.stdout.is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_apply_and_delete_with_contents() {
    let k = Sim::empty().await;
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: demo}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg, namespace: demo}}\ndata: {{a: b}}\n---\n{}",
        deployment("web", 1, "nginx:1.27").replace("  name: web\n", "  name: web\n  namespace: demo\n")
    );
    let out = apply(&k, "ns.yaml", &manifest).await;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["namespace/demo created", "configmap/cfg created", "deployment.apps/web created"]
    );
    wait_deploy_ready(&k, "demo", "web", 1).await;

    let out = k.kubectl(&["delete", "ns", "demo", "--wait=false"]).await;
    assert_eq!(out.ok().trim(), "namespace \"demo\" deleted");
    let ns = k.kubectl(&["get", "ns", "demo", "--no-headers"]).await;
    if ns.success() {
        assert_eq!(ns.rows()[0][1], "Terminating", "{ns}");
        // Nothing new may be created in a terminating namespace.
        let refused = k.kubectl(&["create", "configmap", "late", "-n", "demo"]).await;
        // Refused while terminating (or NotFound if the namespace finished going in the meantime).
        refused.err();
        if !refused.stderr.contains("namespaces \"demo\" not found") {
            refused.stderr_has(&["because it is being terminated"]);
        }
    }
    k.wait_until(&["get", "ns", "demo"], secs(30), |o| !o.success()).await;
    not_found(&k.kubectl(&["get", "ns", "demo"]).await, "namespaces \"demo\"");
    let contents = k.kubectl(&["get", "all,cm", "-n", "demo"]).await;
    assert_eq!(contents.ok(), "", "{contents}");
    assert_eq!(contents.stderr.trim(), "No resources found in demo namespace.");

    // Create and delete again, this time with kubectl waiting for the namespace to go.
    assert_eq!(k.ok(&["create", "namespace", "demo2"]).await.trim(), "namespace/demo2 created");
    k.ok(&["create", "configmap", "x", "-n", "demo2", "--from-literal=a=b"]).await;
    assert_eq!(k.ok(&["delete", "namespace", "demo2"]).await.trim(), "namespace \"demo2\" deleted");
    not_found(&k.kubectl(&["get", "ns", "demo2"]).await, "namespaces \"demo2\"");
}
