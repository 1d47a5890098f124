//! Discovery and `kubectl get`: versions, API resources, tables, selectors and output formats.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_json_reports_minor_32() {
    let k = Sim::empty().await;
    let v = k.kubectl(&["version", "-o", "json"]).await.json();
    assert_eq!(v["serverVersion"]["major"], "1", "{v:#}");
    assert_eq!(v["serverVersion"]["minor"], "32", "{v:#}");
    assert!(v["serverVersion"]["gitVersion"].as_str().unwrap().starts_with("v1.32."), "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_lists_core_groups() {
    let k = Sim::empty().await;
    let out = k.ok(&["api-versions"]).await;
    let versions: Vec<&str> = out.lines().collect();
    for want in [
        "v1",
        "apps/v1",
        "batch/v1",
        "apiextensions.k8s.io/v1",
        "discovery.k8s.io/v1",
        "coordination.k8s.io/v1",
        "authorization.k8s.io/v1",
        "authentication.k8s.io/v1",
        "events.k8s.io/v1",
        "metrics.k8s.io/v1beta1",
    ] {
        assert!(versions.contains(&want), "api-versions lacks {want}:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_resources_wide() {
    let k = Sim::empty().await;
    let out = k.kubectl(&["api-resources", "-o", "wide"]).await;
    let rows = out.rows();
    assert_eq!(rows[0], ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES"], "{out}");
    let row =
        |name: &str| rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("no {name} row:\n{out}")).clone();
    let verbs = "create,delete,deletecollection,get,list,patch,update,watch";
    assert_eq!(row("pods"), ["pods", "po", "v1", "true", "Pod", verbs, "all"], "{out}");
    assert_eq!(row("deployments"), ["deployments", "deploy", "apps/v1", "true", "Deployment", verbs, "all"], "{out}");
    assert_eq!(row("namespaces")[..5], ["namespaces", "ns", "v1", "false", "Namespace"], "{out}");
    assert_eq!(row("customresourcedefinitions")[1..4], ["crd,crds", "apiextensions.k8s.io/v1", "false"], "{out}");
    // `api-resources --namespaced=false -o name` and `--api-group` filter client-side on the same discovery.
    let apps = k.ok(&["api-resources", "--api-group=apps", "-o", "name"]).await;
    for r in ["deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps"] {
        assert!(apps.lines().any(|l| l == r), "{r} missing:\n{apps}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_namespaces() {
    let k = Sim::empty().await;
    let out = k.kubectl(&["get", "ns"]).await;
    assert_eq!(
        out.rows(),
        [
            vec!["NAME", "STATUS", "AGE"],
            vec!["default", "Active", "<age>"],
            vec!["kube-node-lease", "Active", "<age>"],
            vec!["kube-public", "Active", "<age>"],
            vec!["kube-system", "Active", "<age>"],
        ],
        "{out}"
    );
    // A single namespace by its short name, as -o name.
    assert_eq!(k.ok(&["get", "namespace", "kube-system", "-o", "name"]).await.trim(), "namespace/kube-system");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_nodes_wide() {
    let k = Sim::empty().await;
    let out = k.kubectl(&["get", "nodes", "-o", "wide"]).await;
    let rows = out.rows();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME"
        ],
        "{out}"
    );
    assert_eq!(rows.len(), 3, "{out}");
    for (i, r) in rows[1..].iter().enumerate() {
        assert_eq!(r[0], format!("sim-worker-{}", i + 1), "{out}");
        assert_eq!(r[1..6], ["Ready", "worker", "<age>", "v1.32.5", &format!("192.168.49.{}", i + 2)], "{out}");
        assert_eq!(r[6], "<none>", "{out}");
        assert!(r.last().unwrap().starts_with("containerd://"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_all_namespaces_fills_namespace_column() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    let out = k.kubectl(&["get", "pods", "-A"]).await;
    let rows = out.rows();
    assert_eq!(rows[0], ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"], "{out}");
    let namespaces =
        ["apps", "data", "kube-system", "ml", "payments", "shop", "web", "batch", "rollouts", "edge", "reporting"];
    for r in &rows[1..] {
        assert!(namespaces.contains(&r[0].as_str()), "row without a namespace: {r:?}\n{out}");
    }
    let frontend: Vec<_> = rows.iter().filter(|r| r[0] == "shop" && r[1].starts_with("frontend-")).collect();
    assert_eq!(frontend.len(), 3, "{out}");
    for r in frontend {
        assert_eq!(r[2..], ["1/1", "Running", "0", "<age>"], "{out}");
    }
    assert!(rows.iter().any(|r| r[0] == "kube-system" && r[1].starts_with("coredns-")), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_selector_forms() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    wait_deploy_ready(&k, "shop", "cart", 2).await;
    let names = |text: &str| -> Vec<String> { text.lines().map(str::to_string).collect() };

    let frontend = names(&k.ok(&["get", "pods", "-n", "shop", "-l", "app=frontend", "-o", "name"]).await);
    assert_eq!(frontend.len(), 3, "{frontend:?}");
    assert!(frontend.iter().all(|n| n.starts_with("pod/frontend-")), "{frontend:?}");

    let set = names(&k.ok(&["get", "pods", "-A", "-l", "app in (web,cart,frontend)", "-o", "name"]).await);
    assert_eq!(set.len(), 5, "{set:?}");
    assert_eq!(set.iter().filter(|n| n.starts_with("pod/cart-")).count(), 2, "{set:?}");

    let notin = names(&k.ok(&["get", "pods", "-n", "shop", "-l", "app notin (frontend),app", "-o", "name"]).await);
    assert!(notin.iter().all(|n| !n.starts_with("pod/frontend-")), "{notin:?}");
    assert_eq!(notin.iter().filter(|n| n.starts_with("pod/cart-")).count(), 2, "{notin:?}");

    // Mark one frontend pod as canary, then select with `!canary` and `canary`.
    let canary = frontend[0].trim_start_matches("pod/").to_string();
    k.ok(&["label", "pod", &canary, "-n", "shop", "canary=true"]).await;
    let rest = names(&k.ok(&["get", "pods", "-n", "shop", "-l", "app in (cart,frontend),!canary", "-o", "name"]).await);
    assert_eq!(rest.len(), 4, "{rest:?}");
    assert!(!rest.contains(&frontend[0]), "{rest:?}");
    let only = k.ok(&["get", "pods", "-n", "shop", "-l", "canary", "-o", "name"]).await;
    assert_eq!(only.trim(), frontend[0]);
    let ne = names(&k.ok(&["get", "pods", "-n", "shop", "-l", "app=frontend,canary!=true", "-o", "name"]).await);
    assert_eq!(ne.len(), 2, "{ne:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_selectors() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    wait_deploy_ready(&k, "shop", "cart", 2).await;

    let running = k.kubectl(&["get", "pods", "-n", "shop", "--field-selector", "status.phase=Running"]).await;
    let names = first_column(running.ok(), true);
    assert_eq!(names.iter().filter(|n| n.starts_with("frontend-") || n.starts_with("cart-")).count(), 5, "{running}");

    let pending = k.kubectl(&["get", "pods", "-A", "--field-selector", "status.phase=Pending"]).await;
    let rows = pending.rows();
    assert!(rows.iter().any(|r| r[0] == "data" && r[1].starts_with("analytics-") && r[3] == "Pending"), "{pending}");
    assert!(rows[1..].iter().all(|r| r[3] != "Running"), "{pending}");

    let on_node = k
        .kubectl(&[
            "get",
            "pods",
            "-A",
            "-o",
            "wide",
            "--field-selector",
            "status.phase=Running,spec.nodeName=sim-worker-1",
        ])
        .await;
    let rows = on_node.rows();
    assert!(rows.len() > 1, "{on_node}");
    assert!(rows[1..].iter().all(|r| r.contains(&"sim-worker-1".to_string())), "{on_node}");

    let not_running = k.kubectl(&["get", "pods", "-n", "shop", "--field-selector", "status.phase!=Running"]).await;
    assert!(!not_running.stdout.contains("frontend-"), "{not_running}");

    let by_name = k.ok(&["get", "ns", "--field-selector", "metadata.name=shop", "-o", "name"]).await;
    assert_eq!(by_name.trim(), "namespace/shop");

    let bad = k.kubectl(&["get", "pods", "--field-selector", "foo=bar"]).await;
    bad.err();
    bad.stderr_has(&["Error from server (BadRequest)", "field label not supported: foo"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_formats() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    let pod =
        k.ok(&["get", "pods", "-n", "shop", "-l", "app=frontend", "-o", "jsonpath={.items[0].metadata.name}"]).await;
    assert!(pod.starts_with("frontend-"), "{pod}");

    // -o wide --show-labels -L app
    let wide = k.kubectl(&["get", "pod", &pod, "-n", "shop", "-o", "wide", "--show-labels", "-L", "app"]).await;
    let rows = wide.rows();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES",
            "APP",
            "LABELS"
        ],
        "{wide}"
    );
    let r = &rows[1];
    assert_eq!(r[..5], [pod.as_str(), "1/1", "Running", "0", "<age>"], "{wide}");
    assert!(r[5].starts_with("10.244."), "{wide}");
    assert!(r[6].starts_with("sim-"), "{wide}");
    assert_eq!(r[7..10], ["<none>", "<none>", "frontend"], "{wide}");
    let labels = &r[10];
    assert!(labels.starts_with("app=frontend,pod-template-hash=") && labels.ends_with(",tier=web"), "{wide}");

    // -o yaml: the stored object, no managedFields by default
    let yaml = k.ok(&["get", "pod", &pod, "-n", "shop", "-o", "yaml"]).await;
    let v: serde_json::Value = serde_norway::from_str(&yaml).expect("yaml");
    assert_eq!(v["kind"], "Pod");
    assert_eq!(v["metadata"]["name"], pod.as_str());
    assert_eq!(v["status"]["phase"], "Running");
    assert!(v["metadata"].get("managedFields").is_none(), "{yaml}");

    // -o json
    let v = k.json(&["get", "pod", &pod, "-n", "shop"]).await;
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["spec"]["containers"][0]["image"], "nginx:1.27");
    assert_eq!(v["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");

    // -o jsonpath
    let phase = k.ok(&["get", "pod", &pod, "-n", "shop", "-o", "jsonpath={.status.phase}"]).await;
    assert_eq!(phase, "Running");
    let range = k
        .ok(&[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=frontend",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}",
        ])
        .await;
    assert_eq!(range.lines().count(), 3, "{range}");

    // -o name
    assert_eq!(k.ok(&["get", "pod", &pod, "-n", "shop", "-o", "name"]).await.trim(), format!("pod/{pod}"));

    // -o custom-columns
    let cc = k
        .kubectl(&[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=frontend",
            "-o",
            "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,PHASE:.status.phase",
        ])
        .await;
    let rows = cc.rows();
    assert_eq!(rows[0], ["NAME", "IMAGE", "PHASE"], "{cc}");
    assert_eq!(rows.len(), 4, "{cc}");
    assert!(rows[1..].iter().all(|r| r[1] == "nginx:1.27" && r[2] == "Running"), "{cc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiple_types_all_category_and_sort_by() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    wait_deploy_ready(&k, "shop", "cart", 2).await;

    let multi = k.kubectl(&["get", "deploy,rs,svc", "-n", "shop"]).await;
    let n = norm(multi.ok());
    for want in [
        "NAME READY UP-TO-DATE AVAILABLE AGE",
        "deployment.apps/cart 2/2 2 2 <age>",
        "deployment.apps/frontend 3/3 3 3 <age>",
        "NAME DESIRED CURRENT READY AGE",
        "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE",
        "service/redis ClusterIP None <none> 6379/TCP <age>",
    ] {
        assert!(n.contains(want), "lacks {want:?}:\n{multi}");
    }
    assert!(n.lines().any(|l| l.starts_with("replicaset.apps/frontend-") && l.ends_with(" 3 3 3 <age>")), "{multi}");
    assert!(
        n.lines().any(|l| l.starts_with("service/frontend ClusterIP 10.96.") && l.ends_with(" <none> 80/TCP <age>")),
        "{multi}"
    );

    let all = k.kubectl(&["get", "all", "-n", "shop"]).await;
    let n = norm(all.ok());
    for prefix in ["pod/frontend-", "pod/cart-", "service/cart ", "deployment.apps/frontend ", "replicaset.apps/cart-"]
    {
        assert!(n.lines().any(|l| l.starts_with(prefix)), "get all lacks {prefix:?}:\n{all}");
    }
    assert!(n.contains("horizontalpodautoscaler.autoscaling/frontend Deployment/frontend"), "{all}");
    assert!(n.lines().any(|l| l.starts_with("statefulset.apps/redis ")), "{all}");

    // --sort-by asks for full objects in the Table and sorts client-side (across namespaces here).
    let sorted = k.kubectl(&["get", "pods", "-A", "--sort-by=.metadata.name", "--no-headers"]).await;
    let names: Vec<String> = sorted.rows().into_iter().map(|r| r[1].clone()).collect();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(names, expected, "{sorted}");
    assert!(names.len() > 10, "{sorted}");
    assert!(
        k.requests("/api/v1/pods").iter().any(|r| r.query.contains("includeObject=Object")),
        "--sort-by should request includeObject=Object"
    );
}
