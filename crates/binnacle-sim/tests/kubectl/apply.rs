//! `apply` (client-side and server-side), `diff`, `create -f` and `replace -f`.

use crate::harness::*;
use serde_json::json;

const APP_V1: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: frontend}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        env:
        - {name: MODE, value: blue}
        - {name: LEVEL, value: debug}
      - name: sidecar
        image: busybox:1.36
        command: [sh, -c, sleep 3600]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: hello}
";

/// v2: the sidecar container, the LEVEL variable and the tier label are gone; MODE changed; NEW added.
const APP_V2: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        env:
        - {name: MODE, value: green}
        - {name: NEW, value: \"1\"}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: hello}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_create_unchanged_configured() {
    let k = Sim::empty().await;
    let v1 = k.file("app.yaml", APP_V1);
    let out = k.ok(&["apply", "-f", &v1]).await;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["deployment.apps/web created", "service/web created", "configmap/web-config created"]
    );
    // Creation went through POST with server-side strict field validation.
    let posts: Vec<_> = k.sim.recorded_requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 3, "{posts:#?}");
    assert!(posts.iter().all(|r| r.query.contains("fieldValidation=Strict")), "{posts:#?}");
    assert!(posts.iter().all(|r| r.query.contains("fieldManager=kubectl-client-side-apply")), "{posts:#?}");
    let stored = k.json(&["get", "deploy", "web"]).await;
    let last = stored["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].as_str();
    assert!(last.is_some_and(|l| l.contains("\"sidecar\"")), "{stored:#}");

    let out = k.ok(&["apply", "-f", &v1]).await;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["deployment.apps/web unchanged", "service/web unchanged", "configmap/web-config unchanged"]
    );

    let v2 = k.file("app-v2.yaml", APP_V2);
    let out = k.ok(&["apply", "-f", &v2]).await;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["deployment.apps/web configured", "service/web unchanged", "configmap/web-config unchanged"]
    );
    let patches: Vec<_> = k
        .requests("/apis/apps/v1/namespaces/default/deployments/web")
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1, "{patches:#?}");
    assert_eq!(patches[0].content_type, "application/strategic-merge-patch+json");

    let d = k.json(&["get", "deploy", "web"]).await;
    let containers = d["spec"]["template"]["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "sidecar should be gone: {d:#}");
    assert_eq!(containers[0]["name"], "app");
    assert_eq!(containers[0]["env"], json!([{"name": "MODE", "value": "green"}, {"name": "NEW", "value": "1"}]));
    assert_eq!(d["metadata"]["labels"], json!({"app": "web"}), "tier label should be removed");
    assert_eq!(d["metadata"]["generation"], 2);
    let last = d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].as_str().unwrap();
    assert!(!last.contains("sidecar"), "{last}");
    // The new template rolls out: every pod ends up with one container.
    k.wait_until(&["get", "pods", "-l", "app=web", "--no-headers"], secs(30), |o| {
        let rows = o.rows();
        rows.len() == 2 && rows.iter().all(|r| r[1] == "1/1" && r[2] == "Running")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_shows_changes_and_stores_nothing() {
    let k = Sim::empty().await;
    apply(&k, "app.yaml", APP_V1).await;
    let v1 = k.dir.path().join("app.yaml").to_string_lossy().into_owned();
    let same = k.kubectl(&["diff", "-f", &v1]).await;
    assert_eq!(same.code, 0, "no differences should exit 0:\n{same}");
    assert_eq!(same.stdout, "", "{same}");

    let v3 = k.file("app-v3.yaml", &APP_V1.replace("replicas: 2", "replicas: 4").replace("nginx:1.27", "nginx:1.28"));
    let diff = k.kubectl(&["diff", "-f", &v3]).await;
    assert_eq!(diff.code, 1, "differences should exit 1:\n{diff}");
    let lines: Vec<&str> = diff.stdout.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("diff -u -N ")), "{diff}");
    for want in ["-  replicas: 2", "+  replicas: 4", "-        image: nginx:1.27", "+        image: nginx:1.28"] {
        assert!(lines.contains(&want), "diff lacks {want:?}:\n{diff}");
    }
    // The generation bump of the dry run shows, too.
    assert!(lines.contains(&"-  generation: 1") && lines.contains(&"+  generation: 2"), "{diff}");
    assert!(
        k.requests("/deployments/web").iter().any(|r| r.method == "PATCH" && r.query.contains("dryRun=All")),
        "diff should send a dry-run PATCH"
    );
    let d = k.json(&["get", "deploy", "web"]).await;
    assert_eq!(d["spec"]["replicas"], 2, "diff must not store anything");
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_conflicts_and_force() {
    let k = Sim::empty().await;
    let cm1 =
        k.file("cm1.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {key: one, other: x}\n");
    let cm2 = k.file("cm2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {key: two}\n");
    assert_eq!(k.ok(&["apply", "--server-side", "-f", &cm1]).await.trim(), "configmap/ssa serverside-applied");
    let ssa: Vec<_> = k.requests("/configmaps/ssa").into_iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(ssa[0].content_type, "application/apply-patch+yaml", "{ssa:#?}");
    assert!(ssa[0].query.contains("fieldManager=kubectl") && ssa[0].query.contains("force=false"), "{ssa:#?}");
    // Same manager, same content: still "serverside-applied" (SSA has no "unchanged").
    assert_eq!(k.ok(&["apply", "--server-side", "-f", &cm1]).await.trim(), "configmap/ssa serverside-applied");

    let conflict = k.kubectl(&["apply", "--server-side", "--field-manager=other", "-f", &cm2]).await;
    conflict.err();
    conflict.stderr_has(&["Apply failed with 1 conflict: conflict with \"kubectl\": .data.key"]);
    assert_eq!(k.ok(&["get", "cm", "ssa", "-o", "jsonpath={.data.key}"]).await, "one");

    let forced = k.ok(&["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", &cm2]).await;
    assert_eq!(forced.trim(), "configmap/ssa serverside-applied");
    let cm = k.json(&["get", "cm", "ssa", "--show-managed-fields"]).await;
    assert_eq!(cm["data"], json!({"key": "two", "other": "x"}), "{cm:#}");
    let managed = cm["metadata"]["managedFields"].as_array().expect("managedFields");
    let other = managed.iter().find(|m| m["manager"] == "other").unwrap_or_else(|| panic!("{cm:#}"));
    assert_eq!(other["operation"], "Apply");
    assert!(other["fieldsV1"]["f:data"].get("f:key").is_some(), "{cm:#}");
    let kubectl = managed.iter().find(|m| m["manager"] == "kubectl").unwrap_or_else(|| panic!("{cm:#}"));
    assert!(kubectl["fieldsV1"]["f:data"].get("f:key").is_none(), "ownership of .data.key moved to other: {cm:#}");
    assert!(kubectl["fieldsV1"]["f:data"].get("f:other").is_some(), "{cm:#}");
    // Without --show-managed-fields they are hidden.
    let plain = k.json(&["get", "cm", "ssa"]).await;
    assert!(plain["metadata"].get("managedFields").is_none(), "{plain:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_twice_is_already_exists() {
    let k = Sim::empty().await;
    let f = k.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {k: v}\n");
    assert_eq!(k.ok(&["create", "-f", &f]).await.trim(), "configmap/plain created");
    let again = k.kubectl(&["create", "-f", &f]).await;
    again.err();
    assert_eq!(
        again.stderr.trim(),
        format!("Error from server (AlreadyExists): error when creating \"{f}\": configmaps \"plain\" already exists")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_with_stale_resource_version_conflicts() {
    let k = Sim::empty().await;
    let f = k.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {k: v1}\n");
    k.ok(&["create", "-f", &f]).await;
    let current = k.ok(&["get", "cm", "plain", "-o", "yaml"]).await;
    let stale = k.file("stale.yaml", &current.replace("k: v1", "k: stale"));
    assert_eq!(
        k.ok(&["patch", "cm", "plain", "--type=merge", "-p", r#"{"data":{"k":"v2"}}"#]).await.trim(),
        "configmap/plain patched"
    );
    let conflict = k.kubectl(&["replace", "-f", &stale]).await;
    conflict.err();
    assert_eq!(
        conflict.stderr.trim(),
        format!(
            "Error from server (Conflict): error when replacing \"{stale}\": Operation cannot be fulfilled on configmaps \"plain\": the object has been modified; please apply your changes to the latest version and try again"
        )
    );
    assert_eq!(k.ok(&["get", "cm", "plain", "-o", "jsonpath={.data.k}"]).await, "v2");

    // With the current resourceVersion, replace succeeds.
    let fresh = k.ok(&["get", "cm", "plain", "-o", "yaml"]).await;
    let fresh = k.file("fresh.yaml", &fresh.replace("k: v2", "k: v3"));
    assert_eq!(k.ok(&["replace", "-f", &fresh]).await.trim(), "configmap/plain replaced");
    assert_eq!(k.ok(&["get", "cm", "plain", "-o", "jsonpath={.data.k}"]).await, "v3");
}
