//! Everything else: `create` generators (protobuf bodies), `auth`, `cordon`/`uncordon`, `drain`, `top`,
//! `cluster-info`, `get --raw`, `explain`, `exec`, `run`, `expose`.

use crate::harness::*;

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_generators_send_protobuf() {
    let k = Sim::empty().await;
    assert_eq!(k.ok(&["create", "namespace", "gen"]).await.trim(), "namespace/gen created");
    let post = k.requests("/api/v1/namespaces").into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.content_type, PROTOBUF, "kubectl 1.32 sends typed-client bodies as protobuf");
    assert_eq!(post.status, 201);

    let out =
        k.ok(&["create", "deployment", "gen", "--image=nginx:1.27", "--replicas=2", "--port=80", "-n", "gen"]).await;
    assert_eq!(out.trim(), "deployment.apps/gen created");
    let d = k.json(&["get", "deploy", "gen", "-n", "gen"]).await;
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "gen");
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["name"], "nginx");
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 80);
    assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate", "defaulted: {d:#}");

    let out =
        k.ok(&["create", "configmap", "cfg", "-n", "gen", "--from-literal=a=1", "--from-literal=b=two words"]).await;
    assert_eq!(out.trim(), "configmap/cfg created");
    let cm = k.json(&["get", "cm", "cfg", "-n", "gen"]).await;
    assert_eq!(cm["data"], serde_json::json!({"a": "1", "b": "two words"}));

    let out = k.ok(&["create", "secret", "generic", "creds", "-n", "gen", "--from-literal=password=hunter2"]).await;
    assert_eq!(out.trim(), "secret/creds created");
    let s = k.json(&["get", "secret", "creds", "-n", "gen"]).await;
    assert_eq!(s["type"], "Opaque");
    assert_eq!(s["data"]["password"], "aHVudGVyMg==");
    let row = k.kubectl(&["get", "secret", "creds", "-n", "gen", "--no-headers"]).await.rows().remove(0);
    assert_eq!(row, ["creds", "Opaque", "1", "<age>"]);

    let out = k.ok(&["create", "service", "clusterip", "gen", "-n", "gen", "--tcp=80:8080"]).await;
    assert_eq!(out.trim(), "service/gen created");
    let out = k.ok(&["create", "serviceaccount", "robot", "-n", "gen"]).await;
    assert_eq!(out.trim(), "serviceaccount/robot created");
    let protobuf_posts = k
        .sim
        .recorded_requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.content_type == PROTOBUF && r.status == 201)
        .count();
    assert_eq!(
        protobuf_posts,
        6,
        "{:#?}",
        k.sim.recorded_requests().iter().filter(|r| r.method == "POST").collect::<Vec<_>>()
    );

    wait_deploy_ready(&k, "gen", "gen", 2).await;

    // JSON-bodied generators of everyday use: run and expose.
    assert_eq!(
        k.ok(&["run", "tmp", "--image=busybox:1.36", "-n", "gen", "--", "sleep", "3600"]).await.trim(),
        "pod/tmp created"
    );
    assert_eq!(
        k.ok(&["expose", "deployment", "gen", "-n", "gen", "--port=80", "--name=gen-web"]).await.trim(),
        "service/gen-web exposed"
    );
    let svc = k.json(&["get", "svc", "gen-web", "-n", "gen"]).await;
    assert_eq!(svc["spec"]["selector"]["app"], "gen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_can_i_and_whoami() {
    let k = Sim::empty().await;
    let yes = k.kubectl(&["auth", "can-i", "create", "deployments"]).await;
    assert_eq!(yes.ok().trim(), "yes", "{yes}");
    let ssar = k.requests("selfsubjectaccessreviews").into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(ssar.content_type, PROTOBUF);
    assert_eq!(k.ok(&["auth", "can-i", "delete", "nodes"]).await.trim(), "yes");
    assert_eq!(k.ok(&["auth", "can-i", "get", "pods", "-n", "kube-system"]).await.trim(), "yes");

    let who = k.kubectl(&["auth", "whoami"]).await;
    let rows = who.rows();
    assert_eq!(rows[0], ["ATTRIBUTE", "VALUE"], "{who}");
    assert_eq!(rows[1], ["Username", "sim-admin"], "{who}");
    assert_eq!(rows[2][0], "Groups", "{who}");
    assert!(who.stdout.contains("system:authenticated"), "{who}");
    let json = k.kubectl(&["auth", "whoami", "-o", "json"]).await.json();
    assert_eq!(json["kind"], "SelfSubjectReview");
    assert_eq!(json["status"]["userInfo"]["username"], "sim-admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_blocks_scheduling_until_uncordon() {
    let k = Sim::empty().await;
    for node in ["sim-worker-1", "sim-worker-2"] {
        assert_eq!(k.ok(&["cordon", node]).await.trim(), format!("node/{node} cordoned"));
    }
    assert_eq!(k.ok(&["cordon", "sim-worker-2"]).await.trim(), "node/sim-worker-2 already cordoned");
    let nodes = k.kubectl(&["get", "nodes", "--no-headers"]).await;
    assert!(nodes.rows().iter().all(|r| r[1] == "Ready,SchedulingDisabled"), "{nodes}");
    assert_eq!(k.json(&["get", "node", "sim-worker-1"]).await["spec"]["unschedulable"], true);

    apply(&k, "pod.yaml", &pod("stuck", "app: stuck")).await;
    let described =
        k.wait_until(&["describe", "pod", "stuck"], secs(20), |o| o.stdout.contains("FailedScheduling")).await;
    let text = norm(described.ok());
    assert!(text.lines().any(|l| l == "Status: Pending"), "{text}");
    let line = text.lines().find(|l| l.contains("FailedScheduling")).unwrap();
    assert!(line.starts_with("Warning FailedScheduling <age> default-scheduler 0/2 nodes are available:"), "{text}");
    assert!(line.contains("2 node(s) were unschedulable"), "{text}");
    let row = k.kubectl(&["get", "pod", "stuck", "--no-headers"]).await.rows().remove(0);
    assert_eq!(row[1..4], ["0/1", "Pending", "0"]);

    assert_eq!(k.ok(&["uncordon", "sim-worker-1"]).await.trim(), "node/sim-worker-1 uncordoned");
    let nodes = k.kubectl(&["get", "nodes", "--no-headers"]).await;
    assert_eq!(nodes.rows()[0][..2], ["sim-worker-1", "Ready"], "{nodes}");
    let row = k
        .wait_until(&["get", "pod", "stuck", "-o", "wide", "--no-headers"], secs(30), |o| {
            o.rows().first().is_some_and(|r| r[2] == "Running")
        })
        .await
        .rows()
        .remove(0);
    assert_eq!(row[6], "sim-worker-1", "{row:?}");
}

async fn pods_on(k: &Sim, node: &str) -> String {
    k.ok(&["get", "pods", "-A", "--field-selector", &format!("spec.nodeName={node}"), "-o", "name"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_evicts_pods() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 4, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 4).await;
    let before = pods_on(&k, "sim-worker-1").await;
    assert!(!before.is_empty());
    let out = k
        .kubectl(&[
            "drain",
            "sim-worker-1",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            "--timeout=30s",
        ])
        .await;
    let text = format!("{}\n{}", out.ok(), out.stderr);
    assert!(out.stdout.starts_with("node/sim-worker-1 cordoned\n"), "{out}");
    assert!(out.stdout.trim_end().ends_with("node/sim-worker-1 drained"), "{out}");
    for pod in before.lines() {
        assert!(text.contains(&format!("{pod} evicted")), "{pod} not evicted:\n{out}");
    }
    let evictions = k.requests("/eviction");
    assert_eq!(evictions.len(), before.lines().count(), "{evictions:#?}");
    assert!(evictions.iter().all(|r| r.method == "POST" && r.status == 201), "{evictions:#?}");
    // The Deployment recovers on the other worker.
    wait_deploy_ready(&k, "default", "web", 4).await;
    let nodes = k.ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}"]).await;
    assert_eq!(nodes.split_whitespace().collect::<Vec<_>>(), ["sim-worker-2"; 4], "{nodes}");
    assert_eq!(pods_on(&k, "sim-worker-1").await, "");
    let node = k.kubectl(&["get", "node", "sim-worker-1", "--no-headers"]).await;
    assert_eq!(node.rows()[0][1], "Ready,SchedulingDisabled");
}

/// The demo's PodDisruptionBudget shop/frontend (minAvailable 2 of 3 ready pods) allows one eviction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_respects_pod_disruption_budget() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    let pdb = k
        .wait_until(&["get", "pdb", "frontend", "-n", "shop", "--no-headers"], secs(20), |o| {
            o.rows().first().is_some_and(|r| r[3] == "1")
        })
        .await;
    assert_eq!(pdb.rows()[0][1..4], ["2", "N/A", "1"], "{pdb}");
    let out = k
        .kubectl(&[
            "drain",
            "sim-worker-1",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            "--timeout=20s",
        ])
        .await;
    assert!(out.ok().trim_end().ends_with("node/sim-worker-1 drained"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_pods_and_nodes() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    let pods = k.kubectl(&["top", "pods", "-A"]).await;
    let rows = pods.rows();
    assert_eq!(rows[0], ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"], "{pods}");
    let frontend: Vec<_> = rows.iter().filter(|r| r[1].starts_with("frontend-")).collect();
    assert_eq!(frontend.len(), 3, "{pods}");
    for r in &rows[1..] {
        assert!(r[2].ends_with('m') && r[3].ends_with("Mi"), "{pods}");
    }
    let nodes = k.kubectl(&["top", "nodes"]).await;
    let rows = nodes.rows();
    assert_eq!(rows[0], ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], "{nodes}");
    assert_eq!(first_column(&nodes.stdout, true), ["sim-control-plane", "sim-worker-1", "sim-worker-2"], "{nodes}");
    for r in &rows[1..] {
        assert!(r[1].ends_with('m') && r[2].ends_with('%') && r[3].ends_with("Mi") && r[4].ends_with('%'), "{nodes}");
    }
    let sorted = k.kubectl(&["top", "pods", "-n", "shop", "--sort-by=cpu", "--no-headers"]).await;
    let cpu: Vec<u64> = sorted.rows().iter().map(|r| r[1].trim_end_matches('m').parse().unwrap()).collect();
    assert!(cpu.windows(2).all(|w| w[0] >= w[1]), "{sorted}");
    let containers = k.kubectl(&["top", "pod", "-n", "shop", "--containers"]).await;
    assert_eq!(containers.rows()[0], ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"], "{containers}");
    assert!(containers.rows()[1..].iter().any(|r| r[0].starts_with("cart-") && r[1] == "cart"), "{containers}");
    let one = k.kubectl(&["top", "node", "sim-worker-1", "--no-headers"]).await;
    assert_eq!(one.rows().len(), 1, "{one}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_pods_by_label() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "cart", 2).await;
    let out = k.kubectl(&["top", "pod", "-n", "shop", "-l", "app=cart", "--no-headers"]).await;
    let names = first_column(out.ok(), false);
    assert_eq!(names.len(), 2, "{out}");
    assert!(names.iter().all(|n| n.starts_with("cart-")), "{out}");
    let nodes = k.kubectl(&["top", "nodes", "-l", "node-role.kubernetes.io/worker", "--no-headers"]).await;
    assert_eq!(first_column(nodes.ok(), false), ["sim-worker-1", "sim-worker-2"], "{nodes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_info_and_raw_endpoints() {
    let k = Sim::empty().await;
    let info = k.ok(&["cluster-info"]).await;
    let server = k.server();
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(lines[0], format!("Kubernetes control plane is running at {server}"), "{info}");
    assert_eq!(
        lines[1],
        format!("CoreDNS is running at {server}/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy"),
        "{info}"
    );
    for path in ["/readyz", "/livez", "/healthz"] {
        assert_eq!(k.ok(&["get", "--raw", path]).await, "ok", "{path}");
    }
    let ns: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "--raw", "/api/v1/namespaces/default"]).await).unwrap();
    assert_eq!(ns["kind"], "Namespace");
    let version: serde_json::Value = serde_json::from_str(&k.ok(&["get", "--raw", "/version"]).await).unwrap();
    assert_eq!(version["minor"], "32");
}

/// The lines of `kubectl explain` output under `FIELDS:` that name a field (`name<TAB><type>...`), indented
/// as printed.
fn explain_fields(out: &str) -> Vec<String> {
    let fields = out.split_once("\nFIELDS:\n").map(|(_, f)| f).unwrap_or_default();
    fields.lines().filter(|l| l.contains('\t')).map(str::to_string).collect()
}

/// `kubectl explain` reads the OpenAPI v3 documents: the kind from the paths' GVK extension, and the
/// fields from the component schema carrying the same GVK (generated from the k8s-openapi types).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_builtin_kinds() {
    let k = Sim::empty().await;

    let out = k.ok(&["explain", "pods"]).await;
    assert!(
        out.starts_with(
            "KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n    Pod is a collection of containers that can run on a host."
        ),
        "{out}"
    );
    assert_eq!(
        explain_fields(&out),
        [
            "  apiVersion\t<string>",
            "  kind\t<string>",
            "  metadata\t<ObjectMeta>",
            "  spec\t<PodSpec>",
            "  status\t<PodStatus>"
        ],
        "{out}"
    );
    assert!(!out.contains("-required-"), "metadata is not required: {out}");
    assert!(out.contains("  spec\t<PodSpec>\n    Specification of the desired behavior of the pod."), "{out}");

    let out = k.ok(&["explain", "deployment.spec.strategy"]).await;
    let head: Vec<&str> = out.lines().take(5).collect();
    assert_eq!(
        head,
        ["GROUP:      apps", "KIND:       Deployment", "VERSION:    v1", "", "FIELD: strategy <DeploymentStrategy>"],
        "{out}"
    );
    assert!(
        out.contains("DESCRIPTION:\n    The deployment strategy to use to replace existing pods with new ones.\n"),
        "{out}"
    );
    assert_eq!(explain_fields(&out), ["  rollingUpdate\t<RollingUpdateDeployment>", "  type\t<string>"], "{out}");

    let out = k.ok(&["explain", "pods.spec.containers.resources", "--recursive"]).await;
    assert!(out.contains("FIELD: resources <ResourceRequirements>\n"), "{out}");
    assert_eq!(
        explain_fields(&out),
        [
            "  claims\t<[]ResourceClaim>",
            "    name\t<string> -required-",
            "    request\t<string>",
            "  limits\t<map[string]Quantity>",
            "  requests\t<map[string]Quantity>"
        ],
        "{out}"
    );

    let out = k.ok(&["explain", "svc", "--api-version=v1"]).await;
    assert!(
        out.starts_with("KIND:       Service\nVERSION:    v1\n\nDESCRIPTION:\n    Service is a named abstraction"),
        "{out}"
    );
    assert!(explain_fields(&out).contains(&"  spec\t<ServiceSpec>".to_string()), "{out}");

    // Each group-version has its own document: the two HorizontalPodAutoscaler versions differ.
    let v1 = k.ok(&["explain", "hpa.spec", "--api-version=autoscaling/v1"]).await;
    assert!(v1.contains("VERSION:    v1\n"), "{v1}");
    assert!(explain_fields(&v1).contains(&"  targetCPUUtilizationPercentage\t<integer>".to_string()), "{v1}");
    let v2 = k.ok(&["explain", "hpa.spec", "--api-version=autoscaling/v2"]).await;
    assert!(v2.contains("VERSION:    v2\n"), "{v2}");
    assert!(explain_fields(&v2).contains(&"  metrics\t<[]MetricSpec>".to_string()), "{v2}");
    assert!(explain_fields(&v2).contains(&"  scaleTargetRef\t<CrossVersionObjectReference> -required-".to_string()));

    let out = k.kubectl(&["explain", "pods.spec.nope"]).await;
    assert_eq!(out.err().trim(), "error: field \"nope\" does not exist", "{out}");
    let docs: Vec<_> = k.requests("/openapi/v3/api/v1").into_iter().map(|r| r.status).collect();
    assert!(!docs.is_empty() && docs.iter().all(|s| *s == 200), "{docs:?}");
}

const EXPLAINED_CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: A Gadget is a thing made in the example factory.
        type: object
        properties:
          spec:
            description: The desired shape of the gadget.
            type: object
            required: [size]
            properties:
              size: {type: integer, description: How many units wide the gadget is.}
              color: {type: string, description: The paint colour., enum: [red, blue]}
              parts:
                type: array
                description: What the gadget is made of.
                items:
                  type: object
                  properties:
                    name: {type: string, description: The part's name.}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
";

/// A CRD's structural `openAPIV3Schema` becomes its group-version's document (with `apiVersion`, `kind`
/// and `ObjectMeta` added as the API server does), and a changed schema is served at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_custom_resource() {
    let k = Sim::empty().await;
    apply(&k, "crd.yaml", EXPLAINED_CRD).await;

    let out = k.ok(&["explain", "gadgets"]).await;
    assert!(
        out.starts_with(
            "GROUP:      example.com\nKIND:       Gadget\nVERSION:    v1\n\nDESCRIPTION:\n    A Gadget is a thing made in the example factory.\n"
        ),
        "{out}"
    );
    assert_eq!(
        explain_fields(&out),
        [
            "  apiVersion\t<string>",
            "  kind\t<string>",
            "  metadata\t<ObjectMeta>",
            "  spec\t<Object>",
            "  status\t<Object>"
        ],
        "{out}"
    );

    let out = k.ok(&["explain", "gadgets.spec"]).await;
    assert!(out.contains("FIELD: spec <Object>\n"), "{out}");
    assert!(out.contains("DESCRIPTION:\n    The desired shape of the gadget.\n"), "{out}");
    assert_eq!(
        explain_fields(&out),
        ["  color\t<string>", "  parts\t<[]Object>", "  size\t<integer> -required-"],
        "{out}"
    );
    assert!(out.contains("  color\t<string>\n  enum: red, blue\n    The paint colour.\n"), "{out}");
    assert!(out.contains("  size\t<integer> -required-\n    How many units wide the gadget is.\n"), "{out}");

    let out = k.ok(&["explain", "gd.spec.parts", "--recursive"]).await;
    assert!(out.contains("FIELD: parts <[]Object>\n"), "{out}");
    assert_eq!(explain_fields(&out), ["  name\t<string>"], "{out}");
    let out = k.ok(&["explain", "gadgets.metadata"]).await;
    assert!(explain_fields(&out).contains(&"  ownerReferences\t<[]OwnerReference>".to_string()), "{out}");

    // A new field in the schema shows up: the document is rebuilt when the CRD changes.
    let changed = EXPLAINED_CRD.replace(
        "              size: {",
        "              shape: {type: string, description: Round or square.}\n              size: {",
    );
    apply(&k, "crd.yaml", &changed).await;
    let out = k.ok(&["explain", "gadgets.spec.shape"]).await;
    assert!(out.contains("FIELD: shape <string>\n") && out.contains("DESCRIPTION:\n    Round or square.\n"), "{out}");

    // Client-side apply still sends a JSON merge patch for custom resources (no strategic merge patch in
    // the documents), and the server still validates.
    let gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 3, color: blue}\n";
    assert_eq!(apply(&k, "g.yaml", gadget).await.trim(), "gadget.example.com/g1 created");
    assert_eq!(
        apply(&k, "g.yaml", &gadget.replace("size: 3", "size: 4")).await.trim(),
        "gadget.example.com/g1 configured"
    );
    let patch = k.last_request("PATCH", "/gadgets/g1");
    assert_eq!(patch.content_type, "application/merge-patch+json", "{patch:?}");
    assert!(patch.query.contains("fieldValidation=Strict"), "{patch:?}");

    // Deleting the CRD removes the kind from the documents.
    k.ok(&["delete", "crd", "gadgets.example.com"]).await;
    k.wait_until(&["explain", "gadgets"], secs(10), |o| !o.success()).await;
}

async fn running_pod(k: &Sim) {
    apply(k, "pod.yaml", &pod("web", "app: web")).await;
    k.wait_until(&["get", "pod", "web", "--no-headers"], secs(20), |o| {
        o.rows().first().is_some_and(|r| r[2] == "Running")
    })
    .await;
}

/// `exec` either runs in the simulated shell (the command's output arrives) or is refused with a clear
/// message, never hangs or fails obscurely. [`exec_runs_commands_and_exits_cleanly`] holds the full check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_or_is_refused_clearly() {
    let k = Sim::empty().await;
    running_pod(&k).await;
    let out = k.kubectl(&["exec", "web", "--", "ls", "/"]).await;
    if out.stderr.contains("exec is not supported by the simulated cluster") {
        out.err();
    } else {
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines.contains(&"bin") && lines.contains(&"etc"), "exec output missing:\n{out}");
    }
    assert!(
        k.requests("/pods/web/exec").iter().any(|r| r.method == "GET" && r.query.contains("command=ls")),
        "kubectl 1.32 first tries exec over WebSocket (GET)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_commands_and_exits_cleanly() {
    let k = Sim::empty().await;
    running_pod(&k).await;
    let out = k.kubectl(&["exec", "web", "--", "ls", "/"]).await;
    assert_eq!(out.ok(), "bin\ndev\netc\nhome\nlib\nproc\nroot\nrun\nsys\ntmp\nusr\nvar\n", "{out}");
    assert_eq!(out.stderr, "", "{out}");
    let out = k.kubectl(&["exec", "web", "-c", "app", "--", "cat", "/etc/hostname"]).await;
    assert_eq!(out.ok(), "web\n", "{out}");
    // A failing command: kubectl exits with the command's code.
    let out = k.kubectl(&["exec", "web", "--", "ls", "/nope"]).await;
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(out.stderr, "ls: /nope: No such file or directory\ncommand terminated with exit code 1\n", "{out}");
}

/// The node lifecycle controller taints cordoned nodes with `node.kubernetes.io/unschedulable:NoSchedule`,
/// which `describe node` shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordoned_node_is_tainted() {
    let k = Sim::empty().await;
    k.ok(&["cordon", "sim-worker-1"]).await;
    let text = k
        .wait_until(&["describe", "node", "sim-worker-1"], secs(10), |o| {
            o.stdout.contains("node.kubernetes.io/unschedulable")
        })
        .await;
    assert!(norm(&text.stdout).lines().any(|l| l == "Taints: node.kubernetes.io/unschedulable:NoSchedule"), "{text}");
    assert!(norm(&text.stdout).lines().any(|l| l == "Unschedulable: true"), "{text}");
}
