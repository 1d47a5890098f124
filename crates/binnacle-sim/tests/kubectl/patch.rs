//! `patch` (strategic, merge, json, status subresource), `label`, `annotate` and `scale`.

use crate::harness::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_types() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 1, "nginx:1.27")).await;
    let generation =
        async |k: &Sim| k.json(&["get", "deploy", "web"]).await["metadata"]["generation"].as_i64().unwrap();

    // Default (strategic merge patch): containers merge by name.
    let out = k
        .ok(&["patch", "deploy", "web", "-p", r#"{"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"}]}]}}}}"#])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web patched");
    let d = k.json(&["get", "deploy", "web"]).await;
    assert_eq!(d["spec"]["replicas"], 2);
    let c = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(c.as_array().unwrap().len(), 1, "strategic merge keeps the container: {d:#}");
    assert_eq!(c[0]["image"], "nginx:1.27");
    assert_eq!(c[0]["env"], json!([{"name": "A", "value": "1"}]));
    assert_eq!(d["metadata"]["generation"], 2);
    let smp = k.last_request("PATCH", "/deployments/web");
    assert_eq!(smp.content_type, "application/strategic-merge-patch+json");
    assert!(smp.query.contains("fieldManager=kubectl-patch"), "{smp:?}");

    // JSON merge patch: a metadata-only change does not bump the generation.
    let out =
        k.ok(&["patch", "deploy", "web", "--type=merge", "-p", r#"{"metadata":{"labels":{"team":"blue"}}}"#]).await;
    assert_eq!(out.trim(), "deployment.apps/web patched");
    assert_eq!(generation(&k).await, 2);
    assert_eq!(k.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.labels.team}"]).await, "blue");
    // A merge patch replaces lists wholesale.
    k.ok(&[
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}"#,
    ])
    .await;
    let d = k.json(&["get", "deploy", "web"]).await;
    assert!(d["spec"]["template"]["spec"]["containers"][0].get("env").is_none(), "{d:#}");
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28");
    assert_eq!(d["metadata"]["generation"], 3);

    // JSON patch, including a failing test operation.
    let out = k
        .ok(&["patch", "deploy", "web", "--type=json", "-p", r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/annotations/note","value":"x"}]"#])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web patched");
    let d = k.json(&["get", "deploy", "web"]).await;
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["annotations"]["note"], "x");
    let failed = k
        .kubectl(&[
            "patch",
            "deploy",
            "web",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/spec/replicas","value":9},{"op":"replace","path":"/spec/replicas","value":9}]"#,
        ])
        .await;
    failed.err();
    assert!(
        failed.stderr.starts_with("The request is invalid") || failed.stderr.contains("Error from server"),
        "{failed}"
    );
    assert_eq!(k.json(&["get", "deploy", "web"]).await["spec"]["replicas"], 3);

    // --subresource=status: only status changes, spec is left alone.
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    apply(&k, "lb.yaml", svc).await;
    let out = k
        .ok(&[
            "patch",
            "svc",
            "lb",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"}]}},"spec":{"type":"NodePort"}}"#,
        ])
        .await;
    assert_eq!(out.trim(), "service/lb patched");
    let s = k.json(&["get", "svc", "lb"]).await;
    assert_eq!(s["status"]["loadBalancer"]["ingress"][0]["ip"], "203.0.113.7", "{s:#}");
    assert_eq!(s["spec"]["type"], "LoadBalancer", "a status patch must not change spec: {s:#}");
    let row = k.kubectl(&["get", "svc", "lb", "--no-headers"]).await.rows().remove(0);
    assert_eq!(row[1], "LoadBalancer");
    assert_eq!(row[3], "203.0.113.7", "EXTERNAL-IP column: {row:?}");
    assert!(
        k.requests("/services/lb/status")
            .iter()
            .any(|r| r.method == "PATCH" && r.content_type == "application/merge-patch+json"),
        "status patch should go to the status subresource"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_and_annotate() {
    let k = Sim::empty().await;
    apply(&k, "pod.yaml", &pod("web", "app: web")).await;

    assert_eq!(k.ok(&["label", "pod", "web", "tier=fe"]).await.trim(), "pod/web labeled");
    let exists = k.kubectl(&["label", "pod", "web", "tier=be"]).await;
    exists.err();
    assert_eq!(exists.stderr.trim(), "error: 'tier' already has a value (fe), and --overwrite is false");
    assert_eq!(k.ok(&["label", "pod", "web", "tier=be", "--overwrite"]).await.trim(), "pod/web labeled");
    let shown = k.kubectl(&["get", "pod", "web", "--show-labels", "--no-headers"]).await;
    assert_eq!(shown.rows()[0].last().unwrap(), "app=web,tier=be", "{shown}");
    assert_eq!(k.ok(&["label", "pod", "web", "tier-"]).await.trim(), "pod/web unlabeled");
    assert_eq!(k.json(&["get", "pod", "web"]).await["metadata"]["labels"], json!({"app": "web"}));
    let label_patch = k.last_request("PATCH", "/pods/web");
    assert_eq!(label_patch.content_type, "application/merge-patch+json");

    assert_eq!(k.ok(&["annotate", "pod", "web", "owner=team-a"]).await.trim(), "pod/web annotated");
    let exists = k.kubectl(&["annotate", "pod", "web", "owner=team-b"]).await;
    exists.err();
    assert_eq!(
        exists.stderr.trim(),
        "error: --overwrite is false but found the following declared annotation(s): 'owner' already has a value (team-a)"
    );
    k.ok(&["annotate", "pod", "web", "owner=team-b", "--overwrite"]).await;
    assert_eq!(k.ok(&["get", "pod", "web", "-o", "jsonpath={.metadata.annotations.owner}"]).await, "team-b");
    assert_eq!(k.ok(&["annotate", "pod", "web", "owner-"]).await.trim(), "pod/web annotated");
    let a = k.json(&["get", "pod", "web"]).await;
    assert!(a["metadata"].get("annotations").is_none_or(|a| a.get("owner").is_none()), "{a:#}");

    // Label many objects by selector.
    apply(&k, "pod2.yaml", &pod("web2", "app: web")).await;
    let out = k.ok(&["label", "pods", "-l", "app=web", "env=test"]).await;
    assert_eq!(out.lines().collect::<Vec<_>>(), ["pod/web labeled", "pod/web2 labeled"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_deployment_converges() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 2, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 2).await;
    assert_eq!(k.ok(&["scale", "deploy", "web", "--replicas=5"]).await.trim(), "deployment.apps/web scaled");
    let scale = k.requests("/deployments/web/scale");
    assert!(scale.iter().any(|r| r.method == "PATCH"), "{scale:#?}");
    wait_deploy_ready(&k, "default", "web", 5).await;
    let pods = k.kubectl(&["get", "pods", "-l", "app=web", "--no-headers"]).await;
    let rows = pods.rows();
    assert_eq!(rows.len(), 5, "{pods}");
    assert!(rows.iter().all(|r| r[1..4] == ["1/1", "Running", "0"]), "{pods}");
    let rs = k.kubectl(&["get", "rs", "-l", "app=web", "--no-headers"]).await;
    assert_eq!(rs.rows().len(), 1, "{rs}");
    assert_eq!(rs.rows()[0][1..4], ["5", "5", "5"], "{rs}");

    // Down again, with a precondition on the current size.
    let out = k.ok(&["scale", "deploy", "web", "--current-replicas=5", "--replicas=1"]).await;
    assert_eq!(out.trim(), "deployment.apps/web scaled");
    k.wait_until(&["get", "pods", "-l", "app=web", "--no-headers"], secs(30), |o| o.rows().len() == 1).await;
    let wrong = k.kubectl(&["scale", "deploy", "web", "--current-replicas=3", "--replicas=2"]).await;
    wrong.err();
    wrong.stderr_has(&["Expected replicas to be 3, was 1"]);
}

/// A patch that changes nothing is not a write: the API server keeps the resourceVersion, and kubectl
/// reports "(no change)".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noop_patch_reports_no_change() {
    let k = Sim::empty().await;
    k.ok(&["create", "configmap", "cfg", "--from-literal=a=b"]).await;
    let rv = k.ok(&["get", "cm", "cfg", "-o", "jsonpath={.metadata.resourceVersion}"]).await;
    let out = k.ok(&["patch", "cm", "cfg", "--type=merge", "-p", r#"{"data":{"a":"b"}}"#]).await;
    assert_eq!(out.trim(), "configmap/cfg patched (no change)");
    assert_eq!(k.ok(&["get", "cm", "cfg", "-o", "jsonpath={.metadata.resourceVersion}"]).await, rv);
    let out = k.ok(&["patch", "cm", "cfg", "-p", r#"{"data":{"a":"b"}}"#]).await;
    assert_eq!(out.trim(), "configmap/cfg patched (no change)");
}
