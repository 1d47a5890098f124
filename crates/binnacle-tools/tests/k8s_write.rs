//! Write tools against the simulated cluster, each followed by a read that proves the change: apply,
//! diff, patch, scale, set image, rollout history/undo/restart, delete, cordon/uncordon/drain, run and
//! wait, secret reveal.

#[path = "k8s_support.rs"]
mod support;

use binnacle_tools::ToolError;
use serde_json::{Value, json};
use support::{Env, demo, eventually};

fn items(out: &binnacle_tools::ToolOutput) -> Vec<Value> {
    out.structured["items"].as_array().cloned().unwrap_or_default()
}

/// How every dry-run summary starts.
const DRY_RUN: &str = "Dry run (nothing changed): ";

/// The resourceVersion of one object, read from the simulated cluster's store.
fn object_rv(e: &Env, group: &str, kind: &str, namespace: &str, name: &str) -> String {
    let cluster = e.sim.cluster();
    let rt = cluster.resource_for_kind(group, kind).expect("kind known");
    let obj = cluster.get(&rt, namespace, name).expect("object exists");
    obj["metadata"]["resourceVersion"].as_str().expect("resourceVersion").to_string()
}

/// The `diff` of a dry run's output.
fn diff_of(out: &binnacle_tools::ToolOutput) -> String {
    out.structured["diff"].as_str().unwrap_or_else(|| panic!("no diff in {}", out.structured)).to_string()
}

/// Whether a unified diff has a line starting with `sign` (`-` or `+`, not a header) that contains `text`.
fn has_line(diff: &str, sign: char, text: &str) -> bool {
    diff.lines().any(|l| l.starts_with(sign) && !l.starts_with("---") && !l.starts_with("+++") && l.contains(text))
}

/// Calls a write tool with `dryRun: true` and checks that its summary says it was a dry run and that
/// the object's resourceVersion stays; returns its output.
async fn dry_run(e: &Env, tool: &str, mut args: Value, object: (&str, &str, &str, &str)) -> binnacle_tools::ToolOutput {
    let (group, kind, ns, name) = object;
    let before = object_rv(e, group, kind, ns, name);
    args["dryRun"] = json!(true);
    let out = e.ok(tool, args).await;
    assert!(out.summary.starts_with(DRY_RUN), "{tool}: {}", out.summary);
    assert_eq!(object_rv(e, group, kind, ns, name), before, "{tool}: the object's resourceVersion stays");
    out
}

/// [`dry_run`] on a cluster without controllers: nothing at all changes in the store.
async fn dry(e: &Env, tool: &str, args: Value, object: (&str, &str, &str, &str)) -> binnacle_tools::ToolOutput {
    let store = e.rv();
    let out = dry_run(e, tool, args, object).await;
    assert_eq!(e.rv(), store, "{tool}: nothing in the cluster changed");
    out
}

#[tokio::test]
async fn scale_then_list_shows_the_new_replica_count() {
    let e = Env::in_process(demo()).await;
    let out = e.ok("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": 4})).await;
    assert_eq!(out.structured["previous"], 2);
    eventually("cart has 4 ready replicas", || async {
        let list = e
            .ok("resources_list", json!({"kind": "deploy", "namespace": "shop", "fieldSelector": "metadata.name=cart"}))
            .await;
        items(&list).first().is_some_and(|d| d["ready"] == "4/4")
    })
    .await;
    // Scaling a StatefulSet and a custom resource with a scale subresource.
    e.ok("workload_scale", json!({"kind": "sts", "name": "redis", "namespace": "shop", "replicas": 2})).await;
    e.ok(
        "workload_scale",
        json!({"kind": "rollouts.argoproj.io", "name": "checkout", "namespace": "rollouts", "replicas": 3}),
    )
    .await;
    let ro = e.ok("resource_get", json!({"kind": "ro", "name": "checkout", "namespace": "rollouts"})).await;
    assert_eq!(ro.structured["object"]["spec"]["replicas"], 3);
    // The HPA on frontend is pointed out.
    let out = e.ok("workload_scale", json!({"name": "frontend", "namespace": "shop", "replicas": 5})).await;
    assert!(out.summary.contains("HorizontalPodAutoscaler frontend"), "{}", out.summary);
    let none = e
        .call("workload_scale", json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "replicas": 1}))
        .await
        .expect_err("not scalable");
    assert!(matches!(none, ToolError::InvalidArguments(_)), "{none:?}");
}

#[tokio::test]
async fn set_image_then_history_shows_two_revisions_and_undo_goes_back() {
    let e = Env::in_process(demo()).await;
    eventually("frontend rolled out", || async {
        e.ok("rollout_status", json!({"name": "frontend", "namespace": "shop"})).await.structured["done"] == true
    })
    .await;
    let out = e.ok("workload_set_image", json!({"name": "frontend", "namespace": "shop", "image": "nginx:1.28"})).await;
    assert_eq!(out.structured["previousImage"], "nginx:1.27");
    eventually("two revisions", || async {
        let h = e.ok("rollout_history", json!({"name": "frontend", "namespace": "shop"})).await;
        h.structured["revisions"].as_array().is_some_and(|r| r.len() == 2)
    })
    .await;
    let h = e.ok("rollout_history", json!({"name": "frontend", "namespace": "shop"})).await;
    let revs = h.structured["revisions"].as_array().expect("revisions");
    assert_eq!(
        (revs[0]["revision"].as_i64(), revs[0]["images"].as_str(), revs[0]["current"].as_bool()),
        (Some(2), Some("nginx:1.28"), Some(true))
    );
    assert!(revs[0]["changeCause"].as_str().is_some_and(|c| c.contains("nginx=nginx:1.28")), "{revs:?}");
    eventually("revision 2 rolled out", || async {
        e.ok("rollout_status", json!({"name": "frontend", "namespace": "shop"})).await.structured["done"] == true
    })
    .await;
    // Same image again: nothing to do.
    let again = e
        .ok(
            "workload_set_image",
            json!({"name": "frontend", "namespace": "shop", "container": "nginx", "image": "nginx:1.28"}),
        )
        .await;
    assert!(again.summary.contains("nothing changed"));
    // A dry-run undo previews the template going back and changes nothing.
    let frontend = ("apps", "Deployment", "shop", "frontend");
    let out = dry_run(&e, "rollout_undo", json!({"name": "frontend", "namespace": "shop"}), frontend).await;
    assert_eq!((out.structured["fromRevision"].as_i64(), out.structured["toRevision"].as_i64()), (Some(2), Some(1)));
    let d = diff_of(&out);
    assert!(has_line(&d, '-', "image: nginx:1.28") && has_line(&d, '+', "image: nginx:1.27"), "{d}");
    assert!(has_line(&d, '+', "rollback to revision 1"), "{d}");
    let h = e.ok("rollout_history", json!({"name": "frontend", "namespace": "shop"})).await;
    assert_eq!(h.structured["revisions"].as_array().map(Vec::len), Some(2), "no new revision");
    // Undo: back to nginx:1.27 as revision 3.
    let undo = e.ok("rollout_undo", json!({"name": "frontend", "namespace": "shop"})).await;
    assert_eq!((undo.structured["fromRevision"].as_i64(), undo.structured["toRevision"].as_i64()), (Some(2), Some(1)));
    eventually("undo rolled out", || async {
        let d = e.ok("resource_get", json!({"kind": "deploy", "name": "frontend", "namespace": "shop"})).await;
        let h = e.ok("rollout_history", json!({"name": "frontend", "namespace": "shop"})).await;
        d.structured["object"]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
            && h.structured["revisions"][0]["current"] == true
            && h.structured["revisions"][0]["images"] == "nginx:1.27"
    })
    .await;
    let missing = e
        .call("rollout_undo", json!({"name": "frontend", "namespace": "shop", "toRevision": 42}))
        .await
        .expect_err("no revision 42");
    assert!(matches!(missing, ToolError::NotFound(_)), "{missing:?}");
    // A bad container name is refused with the list of containers.
    let bad = e
        .call(
            "workload_set_image",
            json!({"name": "frontend", "namespace": "shop", "container": "web", "image": "nginx:1"}),
        )
        .await
        .expect_err("no container web");
    assert!(bad.to_string().contains("containers: nginx"), "{bad}");
    // StatefulSets keep ControllerRevisions.
    e.ok(
        "workload_set_image",
        json!({"kind": "statefulset", "name": "redis", "namespace": "shop", "image": "redis:7.4"}),
    )
    .await;
    eventually("redis revision 2", || async {
        let h = e.ok("rollout_history", json!({"kind": "sts", "name": "redis", "namespace": "shop"})).await;
        h.structured["revisions"].as_array().is_some_and(|r| r.len() == 2 && r[0]["images"] == "redis:7.4")
    })
    .await;
    let redis = ("apps", "StatefulSet", "shop", "redis");
    let args = json!({"kind": "sts", "name": "redis", "namespace": "shop", "toRevision": 1});
    let d = diff_of(&dry_run(&e, "rollout_undo", args.clone(), redis).await);
    assert!(has_line(&d, '-', "image: redis:7.4") && has_line(&d, '+', "image: redis:7.2"), "{d}");
    let undo = e.ok("rollout_undo", args).await;
    assert_eq!(undo.structured["images"], "redis:7.2");
    let sts = e.ok("resource_get", json!({"kind": "sts", "name": "redis", "namespace": "shop"})).await;
    assert_eq!(sts.structured["object"]["spec"]["template"]["spec"]["containers"][0]["image"], "redis:7.2");
}

#[tokio::test]
async fn restart_and_paused_deployments() {
    let e = Env::in_process(demo()).await;
    let out = e.ok("rollout_restart", json!({"name": "cart", "namespace": "shop"})).await;
    let at = out.structured["restartedAt"].as_str().expect("restartedAt").to_string();
    let d = e.ok("resource_get", json!({"kind": "deploy", "name": "cart", "namespace": "shop"})).await;
    assert_eq!(
        d.structured["object"]["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        at.as_str()
    );
    eventually("restart makes revision 2", || async {
        e.ok("rollout_history", json!({"name": "cart", "namespace": "shop"})).await.structured["revisions"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
    })
    .await;
    // Pause, then undo and restart are refused and change nothing.
    e.ok("resource_patch", json!({"kind": "deploy", "name": "cart", "namespace": "shop", "patch": {"spec": {"paused": true}}, "type": "merge"})).await;
    let before = e.ok("resource_get", json!({"kind": "deploy", "name": "cart", "namespace": "shop"})).await.structured
        ["object"]["spec"]
        .clone();
    for tool in ["rollout_undo", "rollout_restart"] {
        let err = e.call(tool, json!({"name": "cart", "namespace": "shop"})).await.expect_err("paused");
        assert!(matches!(&err, ToolError::Conflict(m) if m.contains("paused")), "{tool}: {err:?}");
    }
    let after =
        e.ok("resource_get", json!({"kind": "deploy", "name": "cart", "namespace": "shop"})).await.structured["object"]
            ["spec"]
            .clone();
    assert_eq!(before, after);
}

const APP: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {MODE: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          envFrom: [{configMapRef: {name: web-config}}]
"#;

#[tokio::test]
async fn apply_then_get_then_delete() {
    let e = Env::in_process(demo()).await;
    // Preview first: both objects would be created, nothing changes.
    let diff = e.ok("resource_diff", json!({"manifest": APP, "namespace": "shop"})).await;
    assert_eq!(diff.structured["objects"][1]["action"], "create");
    assert!(e.call("resource_get", json!({"kind": "cm", "name": "web-config", "namespace": "shop"})).await.is_err());
    let dry = e.ok("resources_apply", json!({"manifest": APP, "namespace": "shop", "dryRun": true})).await;
    assert!(dry.summary.contains("Dry run"));
    assert!(e.call("resource_get", json!({"kind": "deploy", "name": "web", "namespace": "shop"})).await.is_err());

    let out = e.ok("resources_apply", json!({"manifest": APP, "namespace": "shop"})).await;
    let results: Vec<(&str, &str)> = out.structured["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["object"].as_str().unwrap_or(""), r["result"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(results, vec![("ConfigMap shop/web-config", "created"), ("Deployment shop/web", "created")]);
    let got = e.ok("resource_get", json!({"kind": "deploy", "name": "web", "namespace": "shop"})).await;
    assert_eq!(got.structured["object"]["spec"]["replicas"], 2);
    let again = e.ok("resources_apply", json!({"manifest": APP, "namespace": "shop"})).await;
    assert!(again.summary.contains("2 unchanged"), "{}", again.summary);
    let changed = APP.replace("MODE: blue", "MODE: green");
    let diff = e.ok("resource_diff", json!({"manifest": changed, "namespace": "shop"})).await;
    assert_eq!(diff.structured["objects"][0]["action"], "update");
    assert!(
        diff.structured["objects"][0]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("-  MODE: blue") && d.contains("+  MODE: green")),
        "{}",
        diff.structured
    );
    assert_eq!(diff.structured["objects"][1]["action"], "unchanged");
    let out = e.ok("resources_apply", json!({"manifest": changed, "namespace": "shop"})).await;
    assert_eq!(out.structured["results"][0]["result"], "configured");
    // A namespace in the manifest that differs from the argument is refused.
    let other = APP.replace("name: web-config}", "name: web-config, namespace: web}");
    support::assert_invalid(
        e.call("resources_apply", json!({"manifest": other, "namespace": "shop"})).await,
        "namespace mismatch",
    );
    // Another manager's fields conflict without force.
    e.ok(
        "resource_patch",
        json!({"kind": "deploy", "name": "web", "namespace": "shop", "patch": {"spec": {"replicas": 3}}}),
    )
    .await;
    let conflict = e
        .call("resources_apply", json!({"manifest": APP.replace("replicas: 2", "replicas: 4"), "namespace": "shop"}))
        .await;
    if let Err(err) = &conflict {
        assert!(matches!(err, ToolError::Conflict(_)), "{err:?}");
        e.ok(
            "resources_apply",
            json!({"manifest": APP.replace("replicas: 2", "replicas: 4"), "namespace": "shop", "force": true}),
        )
        .await;
    }
    // Delete, then the object is gone.
    let del = e.ok("resource_delete", json!({"kind": "deployment", "name": "web", "namespace": "shop", "propagationPolicy": "Foreground", "dryRun": true})).await;
    assert!(del.summary.starts_with(DRY_RUN), "{}", del.summary);
    e.ok("resource_get", json!({"kind": "deploy", "name": "web", "namespace": "shop"})).await;
    e.ok("resource_delete", json!({"kind": "deployment", "name": "web", "namespace": "shop"})).await;
    eventually("web deleted", || async {
        matches!(
            e.call("resource_get", json!({"kind": "deploy", "name": "web", "namespace": "shop"})).await,
            Err(ToolError::NotFound(_))
        )
    })
    .await;
    e.ok("resource_delete", json!({"kind": "cm", "name": "web-config", "namespace": "shop", "gracePeriodSeconds": 0}))
        .await;
    let gone = e
        .call("resource_get", json!({"kind": "cm", "name": "web-config", "namespace": "shop"}))
        .await
        .expect_err("deleted");
    assert!(matches!(gone, ToolError::NotFound(_)), "{gone:?}");
}

#[tokio::test]
async fn unknown_kinds_are_refused_before_anything_is_applied() {
    let e = Env::in_process(support::still(binnacle_sim::Scenario::Demo)).await;
    let rv = e.rv();
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first, namespace: shop}\n---\napiVersion: example.com/v1\nkind: Frobnicator\nmetadata: {name: x, namespace: shop}\n";
    let err = e.call("resources_apply", json!({"manifest": manifest})).await.expect_err("unknown kind");
    assert!(
        matches!(&err, ToolError::InvalidArguments(m) if m.contains("document 2: Frobnicator (example.com/v1)") && m.contains("nothing was applied")),
        "{err:?}"
    );
    assert_eq!(e.rv(), rv, "nothing changed");
    let err = e.call("resource_diff", json!({"manifest": manifest})).await.expect_err("unknown kind");
    assert!(matches!(err, ToolError::InvalidArguments(_)));
}

#[tokio::test]
async fn a_crd_and_its_custom_resources_apply_in_one_manifest() {
    let e = Env::in_process(demo()).await;
    let manifest = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wg], listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      additionalPrinterColumns:
        - {name: Size, type: integer, jsonPath: .spec.size}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: gizmo, namespace: shop}
spec: {size: 3}
"#;
    let diff = e.ok("resource_diff", json!({"manifest": manifest})).await;
    assert_eq!(diff.structured["objects"][1]["action"], "unknown");
    // A dry run creates no CRD, so the Widget is reported unchecked (at once, without waiting for it).
    let dry = e.ok("resources_apply", json!({"manifest": manifest, "dryRun": true})).await;
    assert_eq!(dry.structured["results"][0]["result"], "created", "{}", dry.structured);
    assert_eq!(dry.structured["results"][1]["result"], "not checked", "{}", dry.structured);
    assert!(dry.summary.starts_with(DRY_RUN) && dry.summary.contains("1 not checked"), "{}", dry.summary);
    assert!(e.call("resource_get", json!({"kind": "crd", "name": "widgets.example.com"})).await.is_err());
    let out = e.ok("resources_apply", json!({"manifest": manifest})).await;
    assert!(out.summary.contains("2 created"), "{}", out.summary);
    let list = e.ok("resources_list", json!({"kind": "wg", "namespace": "shop"})).await;
    assert_eq!(items(&list)[0]["size"], 3, "{}", list.structured);
    let patched = e.ok("resource_patch", json!({"kind": "widgets.example.com", "name": "gizmo", "namespace": "shop", "patch": {"spec": {"size": 5}}})).await;
    assert!(patched.structured["diff"].as_str().is_some_and(|d| d.contains("+  size: 5")), "{}", patched.structured);
    let strategic = e.call("resource_patch", json!({"kind": "widget", "name": "gizmo", "namespace": "shop", "patch": {"spec": {"size": 6}}, "type": "strategic"})).await.expect_err("no strategic for CRs");
    assert!(matches!(strategic, ToolError::InvalidArguments(_)));
    e.ok(
        "resource_wait",
        json!({"kind": "widget", "name": "gizmo", "namespace": "shop", "jsonPath": "{.spec.size}=5", "timeout": "5s"}),
    )
    .await;
}

#[tokio::test]
async fn patches_of_each_type_and_dry_run() {
    let e = Env::in_process(demo()).await;
    let strategic = e.ok("resource_patch", json!({"kind": "deploy", "name": "cart", "namespace": "shop",
        "patch": {"spec": {"template": {"spec": {"containers": [{"name": "cart", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]}}}}})).await;
    assert!(strategic.structured["changed"] == true, "{}", strategic.structured);
    let d = e.ok("resource_get", json!({"kind": "deploy", "name": "cart", "namespace": "shop"})).await;
    let env =
        d.structured["object"]["spec"]["template"]["spec"]["containers"][0]["env"].as_array().expect("env").clone();
    assert_eq!(env.len(), 2, "strategic merge keeps REDIS_URL: {env:?}");
    let json_patch = e.ok("resource_patch", json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "type": "json",
        "patch": [{"op": "replace", "path": "/data/CURRENCY", "value": "USD"}, {"op": "add", "path": "/data/REGION", "value": "eu"}]})).await;
    assert!(
        json_patch.structured["diff"]
            .as_str()
            .is_some_and(|d| d.contains("+  CURRENCY: USD") && d.contains("+  REGION: eu")),
        "{}",
        json_patch.structured
    );
    let dry = e.ok("resource_patch", json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "patch": "data: {CURRENCY: GBP}", "type": "merge", "dryRun": true})).await;
    assert!(dry.summary.contains("Dry run") && dry.structured["changed"] == true);
    let cm = e.ok("resource_get", json!({"kind": "cm", "name": "shop-config", "namespace": "shop"})).await;
    assert_eq!(cm.structured["object"]["data"]["CURRENCY"], "USD");
    let same = e
        .ok(
            "resource_patch",
            json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "patch": {"data": {"CURRENCY": "USD"}}}),
        )
        .await;
    assert_eq!(same.structured["changed"], false);
    let bad_path = e.call("resource_patch", json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "type": "json", "patch": [{"op": "remove", "path": "/data/NOPE"}]})).await;
    assert!(bad_path.is_err());
}

#[tokio::test]
async fn cordon_uncordon_and_drain() {
    let e = Env::in_process(demo()).await;
    e.ok("node_cordon", json!({"name": "sim-worker-2"})).await;
    let nodes = e.ok("resources_list", json!({"kind": "nodes"})).await;
    let w2 = items(&nodes).into_iter().find(|n| n["name"] == "sim-worker-2").expect("worker-2");
    assert_eq!(w2["status"], "Ready,SchedulingDisabled");
    assert!(nodes.summary.contains("SchedulingDisabled"));
    let again = e.ok("node_cordon", json!({"name": "sim-worker-2"})).await;
    assert_eq!(again.structured["changed"], false);
    e.ok("node_uncordon", json!({"name": "sim-worker-2"})).await;
    let nodes = e.ok("resources_list", json!({"kind": "nodes"})).await;
    // The demo leaves sim-control-plane cordoned (a planted fault); the workers are schedulable again.
    assert!(
        items(&nodes).iter().all(|n| n["status"] == "Ready" || n["name"] == "sim-control-plane"),
        "{}",
        nodes.structured
    );

    // A DaemonSet pod on the node: refused without ignoreDaemonSets, and nothing changes.
    let ds = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      tolerations: [{operator: Exists}]
      containers: [{name: agent, image: busybox:1.36}]
"#;
    e.ok("resources_apply", json!({"manifest": ds})).await;
    eventually("agent pod on worker-1", || async {
        let pods = e.ok("resources_list", json!({"kind": "pods", "namespace": "kube-system", "labelSelector": "app=agent", "fieldSelector": "spec.nodeName=sim-worker-1"})).await;
        items(&pods).len() == 1
    })
    .await;
    let refused = e.call("node_drain", json!({"name": "sim-worker-1"})).await.expect_err("DaemonSet pods");
    assert!(matches!(&refused, ToolError::Conflict(m) if m.contains("ignoreDaemonSets")), "{refused:?}");
    let node = e.ok("resource_get", json!({"kind": "node", "name": "sim-worker-1"})).await;
    assert!(node.structured["object"]["spec"].get("unschedulable").is_none(), "a refused drain does not cordon");

    // The demo's PodDisruptionBudget data/search allows no disruption (a planted fault): it would block the drain.
    e.ok("resource_delete", json!({"kind": "pdb", "name": "search", "namespace": "data"})).await;
    let out = e.ok("node_drain", json!({"name": "sim-worker-1", "ignoreDaemonSets": true, "timeout": "60s"})).await;
    let evicted = out.structured["evicted"].as_array().expect("evicted").len();
    assert!(evicted > 3, "{}", out.structured);
    assert_eq!(out.structured["complete"], true, "{}", out.summary);
    assert!(out.structured["skipped"].as_array().expect("skipped").iter().any(|s| s["reason"] == "DaemonSet agent"));
    let left = e
        .ok(
            "resources_list",
            json!({"kind": "pods", "allNamespaces": true, "fieldSelector": "spec.nodeName=sim-worker-1"}),
        )
        .await;
    assert!(
        items(&left).iter().all(|p| p["name"].as_str().is_some_and(|n| n.starts_with("agent-"))),
        "{}",
        left.structured
    );
    let progress = e.progress.lock().expect("progress").clone();
    assert!(progress.iter().filter(|p| p.message.starts_with("evicted ")).count() >= evicted.min(1), "{progress:?}");
}

#[tokio::test]
async fn drain_honours_disruption_budgets_with_bounded_retries() {
    let e = Env::in_process(demo()).await;
    let guarded = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: guarded, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec:
      nodeSelector: {kubernetes.io/hostname: sim-worker-2}
      containers: [{name: app, image: nginx:1.27}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded, namespace: shop}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: guarded}}
"#;
    e.ok("resources_apply", json!({"manifest": guarded})).await;
    eventually("guarded is available", || async {
        let pdb = e.ok("resource_get", json!({"kind": "pdb", "name": "guarded", "namespace": "shop"})).await;
        pdb.structured["object"]["status"]["currentHealthy"] == 2
    })
    .await;
    // A dry run asks for each eviction with dryRun=All: the budget refuses those of guarded's pods.
    let node_rv = object_rv(&e, "", "Node", "", "sim-worker-2");
    let dry = e.ok("node_drain", json!({"name": "sim-worker-2", "dryRun": true})).await;
    assert!(dry.summary.starts_with(DRY_RUN) && dry.summary.contains("refused"), "{}", dry.summary);
    assert_eq!(dry.structured["complete"], false);
    let refused = dry.structured["remaining"].as_array().expect("remaining");
    // (The demo's own frontend budget may refuse too while its pods are still starting on a loaded machine.)
    assert!(
        refused.iter().any(|r| r["pod"].as_str().is_some_and(|p| p.starts_with("shop/guarded-")))
            && refused.iter().all(|r| r["reason"].as_str().is_some_and(|m| m.contains("disruption budget"))),
        "{refused:?}"
    );
    assert_eq!(object_rv(&e, "", "Node", "", "sim-worker-2"), node_rv);
    let started = std::time::Instant::now();
    let out = e.ok("node_drain", json!({"name": "sim-worker-2", "timeout": "3s"})).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.structured["complete"], false);
    let remaining = out.structured["remaining"].as_array().expect("remaining");
    assert!(
        remaining.iter().any(|r| r["pod"].as_str().is_some_and(|p| p.starts_with("shop/guarded-"))
            && r["reason"].as_str().is_some_and(|m| m.contains("disruption budget"))),
        "{remaining:?}"
    );
    assert!(out.summary.contains("remain"), "{}", out.summary);
    let node = e.ok("resource_get", json!({"kind": "node", "name": "sim-worker-2"})).await;
    assert_eq!(node.structured["object"]["spec"]["unschedulable"], true);
}

#[tokio::test]
async fn run_wait_and_delete_a_pod() {
    let e = Env::in_process(demo()).await;
    let out = e
        .ok(
            "pod_run",
            json!({"name": "probe", "namespace": "shop", "image": "busybox:1.36", "command": ["sleep", "3600"],
        "env": {"MODE": "test"}, "labels": {"app": "probe"}, "restartPolicy": "Never"}),
        )
        .await;
    assert_eq!(out.structured["pod"], "shop/probe");
    let waited = e
        .ok(
            "resource_wait",
            json!({"kind": "pod", "name": "probe", "namespace": "shop", "condition": "Ready", "timeout": "20s"}),
        )
        .await;
    assert_eq!(waited.structured["met"], true, "{}", waited.summary);
    let pod = e.ok("resource_get", json!({"kind": "pod", "name": "probe", "namespace": "shop"})).await;
    assert_eq!(pod.structured["object"]["spec"]["restartPolicy"], "Never");
    assert_eq!(pod.structured["object"]["metadata"]["labels"]["app"], "probe");
    let phase = e.ok("resource_wait", json!({"kind": "pod", "name": "probe", "namespace": "shop", "jsonPath": "{.status.phase}=Running", "timeout": "5s"})).await;
    assert_eq!(phase.structured["met"], true);
    e.ok("resource_delete", json!({"kind": "pod", "name": "probe", "namespace": "shop"})).await;
    let gone = e
        .ok(
            "resource_wait",
            json!({"kind": "pod", "name": "probe", "namespace": "shop", "deleted": true, "timeout": "20s"}),
        )
        .await;
    assert_eq!(gone.structured["met"], true, "{}", gone.summary);
    assert!(!e.progress.lock().expect("progress").is_empty(), "waits report progress");
    let missing = e
        .call("resource_get", json!({"kind": "pod", "name": "probe", "namespace": "shop"}))
        .await
        .expect_err("deleted");
    assert!(matches!(missing, ToolError::NotFound(_)));
    // A wait that cannot be met times out with what it saw.
    let late = e.ok("resource_wait", json!({"kind": "deploy", "name": "recommender", "namespace": "ml", "condition": "Available", "timeout": "1s"})).await;
    assert_eq!(late.structured["met"], false);
    assert!(late.summary.contains("Timed out"), "{}", late.summary);
    // A failed Job ends a wait for Complete early.
    let failed = e.ok("resource_wait", json!({"kind": "job", "name": "nightly-report", "namespace": "batch", "condition": "Complete", "timeout": "30s"})).await;
    assert_eq!(failed.structured["met"], false);
    assert!(failed.summary.contains("cannot reach"), "{}", failed.summary);
    let dry =
        e.ok("pod_run", json!({"name": "dry", "namespace": "shop", "image": "busybox:1.36", "dryRun": true})).await;
    assert!(dry.summary.starts_with("Dry run"));
    assert!(e.call("resource_get", json!({"kind": "pod", "name": "dry", "namespace": "shop"})).await.is_err());
}

#[tokio::test]
async fn protected_objects_need_confirmation() {
    let e = Env::in_process(support::still(binnacle_sim::Scenario::Demo)).await;
    let rv = e.rv();
    for (kind, name) in
        [("namespace", "kube-system"), ("ns", "default"), ("namespaces", "kube-public"), ("node", "sim-worker-1")]
    {
        let err = e.call("resource_delete", json!({"kind": kind, "name": name})).await.expect_err("protected");
        assert!(matches!(&err, ToolError::Forbidden(m) if m.contains("confirmProtected")), "{kind}/{name}: {err:?}");
    }
    assert_eq!(e.rv(), rv);
    let ok = e
        .ok(
            "resource_delete",
            json!({"kind": "node", "name": "sim-worker-2", "confirmProtected": true, "dryRun": true}),
        )
        .await;
    assert!(ok.summary.starts_with(DRY_RUN), "{}", ok.summary);
    assert_eq!(e.rv(), rv, "a dry-run delete changes nothing");
}

#[tokio::test]
async fn secret_reveal_returns_only_the_named_keys() {
    let e = Env::in_process(demo()).await;
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api-keys", "namespace": "shop"},
        "data": {"stripe": "c2tfbGl2ZV9hYmM=", "other": "b3RoZXItdmFsdWU="}});
    e.ok("resources_apply", json!({"manifest": secret.to_string()})).await;
    let out = e.ok("secret_reveal", json!({"namespace": "shop", "name": "api-keys", "keys": ["stripe"]})).await;
    assert_eq!(out.structured["values"], json!({"stripe": "sk_live_abc"}));
    assert!(!support::text(&out).contains("other-value"));
    let missing = e
        .call("secret_reveal", json!({"namespace": "shop", "name": "api-keys", "keys": ["nope"]}))
        .await
        .expect_err("no key");
    assert!(matches!(&missing, ToolError::NotFound(m) if m.contains("its keys: other, stripe")), "{missing:?}");
}

#[tokio::test]
async fn dry_runs_preview_each_write_as_a_diff_and_change_nothing() {
    // No controllers: nothing but the tools could change the store.
    let e = Env::in_process(support::still(binnacle_sim::Scenario::Demo)).await;
    let cart = ("apps", "Deployment", "shop", "cart");

    let out = dry(&e, "workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": 5}), cart).await;
    let d = diff_of(&out);
    assert!(d.contains("-  replicas: 2") && d.contains("+  replicas: 5"), "{d}");
    assert!(!d.contains("resourceVersion") && !d.contains("managedFields") && !d.contains("status:"), "{d}");
    assert_eq!((out.structured["previous"].as_i64(), out.structured["replicas"].as_i64()), (Some(2), Some(5)));
    // A custom resource, through its scale subresource.
    let ro = ("argoproj.io", "Rollout", "rollouts", "checkout");
    let out = dry(
        &e,
        "workload_scale",
        json!({"kind": "rollouts.argoproj.io", "name": "checkout", "namespace": "rollouts", "replicas": 3}),
        ro,
    )
    .await;
    let d = diff_of(&out);
    assert!(d.contains("-  replicas: 5") && d.contains("+  replicas: 3"), "{d}");

    let out = dry(
        &e,
        "workload_set_image",
        json!({"name": "cart", "namespace": "shop", "image": "ghcr.io/acme/cart:2.5.0"}),
        cart,
    )
    .await;
    let d = diff_of(&out);
    assert!(
        has_line(&d, '-', "image: ghcr.io/acme/cart:2.4.1") && has_line(&d, '+', "image: ghcr.io/acme/cart:2.5.0"),
        "{d}"
    );
    assert!(has_line(&d, '+', "kubernetes.io/change-cause"), "{d}");

    let out = dry(&e, "rollout_restart", json!({"name": "cart", "namespace": "shop"}), cart).await;
    let d = diff_of(&out);
    assert!(has_line(&d, '+', "kubectl.kubernetes.io/restartedAt"), "{d}");

    let config = ("", "ConfigMap", "shop", "shop-config");
    let out = dry(&e, "resource_patch", json!({"kind": "cm", "name": "shop-config", "namespace": "shop", "patch": {"data": {"CURRENCY": "GBP"}}, "type": "merge"}), config).await;
    let d = diff_of(&out);
    assert!(d.contains("-  CURRENCY: EUR") && d.contains("+  CURRENCY: GBP"), "{d}");
    for (type_, patch) in [
        ("json", json!([{"op": "replace", "path": "/spec/replicas", "value": 4}])),
        ("strategic", json!({"spec": {"replicas": 4}})),
    ] {
        let out = dry(
            &e,
            "resource_patch",
            json!({"kind": "deploy", "name": "cart", "namespace": "shop", "patch": patch, "type": type_}),
            cart,
        )
        .await;
        let d = diff_of(&out);
        assert!(d.contains("-  replicas: 2") && d.contains("+  replicas: 4"), "{type_}: {d}");
    }

    // Apply: a change to a live object and a new one, each with its diff.
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-config, namespace: shop}\ndata: {CURRENCY: USD, CART_TTL: '3600'}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: brand-new, namespace: shop}\ndata: {K: v}\n";
    let out = dry(&e, "resources_apply", json!({"manifest": manifest, "force": true}), config).await;
    let results = out.structured["results"].as_array().expect("results");
    assert_eq!((results[0]["result"].as_str(), results[1]["result"].as_str()), (Some("configured"), Some("created")));
    let d = results[0]["diff"].as_str().expect("diff");
    assert!(d.contains("-  CURRENCY: EUR") && d.contains("+  CURRENCY: USD"), "{d}");
    let d = results[1]["diff"].as_str().expect("diff");
    assert!(d.starts_with("--- /dev/null") && has_line(d, '+', "name: brand-new") && d.contains("+  K: v"), "{d}");
    assert!(e.call("resource_get", json!({"kind": "cm", "name": "brand-new", "namespace": "shop"})).await.is_err());
    let same = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-config, namespace: shop}\ndata: {CURRENCY: EUR, CART_TTL: '3600'}\n";
    let out = dry(&e, "resources_apply", json!({"manifest": same, "force": true}), config).await;
    assert_eq!(out.structured["results"][0]["result"], "unchanged", "{}", out.structured);
    assert_eq!(out.structured["results"][0]["diff"], "");

    let out =
        dry(&e, "resource_delete", json!({"kind": "cm", "name": "shop-config", "namespace": "shop"}), config).await;
    let d = diff_of(&out);
    assert!(d.contains("+++ /dev/null") && d.contains("-kind: ConfigMap") && d.contains("-  CURRENCY: EUR"), "{d}");
    // A Secret's values stay redacted in the preview.
    e.create(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": "aHVudGVyMg=="}}));
    let secret = ("", "Secret", "shop", "db");
    let out = dry(&e, "resource_delete", json!({"kind": "secret", "name": "db", "namespace": "shop"}), secret).await;
    let d = diff_of(&out);
    assert!(d.contains("-  password: '<redacted: 9 bytes>'") && !d.contains("aHVudGVyMg"), "{d}");
    let out = dry(
        &e,
        "resource_patch",
        json!({"kind": "secret", "name": "db", "namespace": "shop", "patch": {"data": {"password": "czNjcjN0IQ=="}}}),
        secret,
    )
    .await;
    let d = diff_of(&out);
    assert!(d.contains("changed") && !d.contains("czNjcjN0") && !d.contains("aHVudGVyMg"), "{d}");

    let (store, _) = (e.rv(), ());
    let out =
        e.ok("pod_run", json!({"name": "probe", "namespace": "shop", "image": "busybox:1.36", "dryRun": true})).await;
    assert!(out.summary.starts_with(DRY_RUN), "{}", out.summary);
    let d = diff_of(&out);
    assert!(
        d.starts_with("--- /dev/null") && d.contains("+kind: Pod") && has_line(&d, '+', "image: busybox:1.36"),
        "{d}"
    );
    assert_eq!(e.rv(), store);
    assert!(e.call("resource_get", json!({"kind": "pod", "name": "probe", "namespace": "shop"})).await.is_err());

    let worker = ("", "Node", "", "sim-worker-2");
    let out = dry(&e, "node_cordon", json!({"name": "sim-worker-2"}), worker).await;
    assert_eq!(out.structured["changed"], true);
    assert!(diff_of(&out).contains("+  unschedulable: true"), "{}", diff_of(&out));
    let out = dry(&e, "node_uncordon", json!({"name": "sim-worker-2"}), worker).await;
    assert_eq!((out.structured["changed"].as_bool(), diff_of(&out).as_str()), (Some(false), ""));
    e.ok("node_cordon", json!({"name": "sim-worker-2"})).await;
    let out = dry(&e, "node_uncordon", json!({"name": "sim-worker-2"}), worker).await;
    assert!(diff_of(&out).contains("-  unschedulable: true"), "{}", diff_of(&out));
}

#[tokio::test]
async fn dry_run_of_a_drain_lists_the_evictions_and_changes_nothing() {
    let e = Env::in_process(demo()).await;
    let on_worker = || async {
        let pods = e
            .ok(
                "resources_list",
                json!({"kind": "pods", "allNamespaces": true, "fieldSelector": "spec.nodeName=sim-worker-1"}),
            )
            .await;
        let mut names: Vec<String> =
            items(&pods).iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect();
        names.sort();
        names
    };
    eventually("pods running on worker-1", || async { on_worker().await.len() > 3 }).await;
    let pods = on_worker().await;
    let node_rv = object_rv(&e, "", "Node", "", "sim-worker-1");
    let out = e.ok("node_drain", json!({"name": "sim-worker-1", "dryRun": true, "ignoreDaemonSets": true})).await;
    assert!(out.summary.starts_with(DRY_RUN), "{}", out.summary);
    assert!(out.summary.contains("would be cordoned"), "{}", out.summary);
    assert!(diff_of(&out).contains("+  unschedulable: true"), "{}", diff_of(&out));
    let evicted: Vec<&str> =
        out.structured["evicted"].as_array().expect("evicted").iter().filter_map(Value::as_str).collect();
    assert!(evicted.len() > 3, "{}", out.structured);
    assert!(evicted.iter().any(|p| pods.iter().any(|n| p.ends_with(&format!("/{n}")))), "{evicted:?} vs {pods:?}");
    assert_eq!(object_rv(&e, "", "Node", "", "sim-worker-1"), node_rv, "the node is not cordoned");
    // Every eviction went to the server as a dry run, and the pods are still there, not terminating
    // (pods of Jobs may come and go by themselves while the demo settles).
    let evictions: Vec<_> =
        e.sim.recorded_requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/eviction")).collect();
    let refused = out.structured["remaining"].as_array().map_or(0, Vec::len);
    assert_eq!(evictions.len(), evicted.len() + refused, "{evictions:?}");
    assert!(evictions.iter().all(|r| r.query.contains("dryRun=All") && matches!(r.status, 201 | 429)), "{evictions:?}");
    let cluster = e.sim.cluster();
    let pod_rt = cluster.resource_for_kind("", "Pod").expect("pods");
    for p in evicted.iter().filter(|p| !p.starts_with("batch/")) {
        let (ns, name) = p.split_once('/').expect("namespace/name");
        let pod = cluster.get(&pod_rt, ns, name).unwrap_or_else(|e| panic!("{p} is gone: {e:?}"));
        assert!(pod["metadata"]["deletionTimestamp"].is_null(), "{p} is terminating");
    }
    assert!(e.progress.lock().expect("progress").iter().all(|p| !p.message.starts_with("evicted ")));
}
