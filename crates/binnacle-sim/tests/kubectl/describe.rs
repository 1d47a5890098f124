//! `kubectl describe` for pods, deployments, nodes and services.

use crate::harness::*;

/// Field lines of describe output (`Key:  value`), whitespace-collapsed.
fn has_line(text: &str, want: &str) -> bool {
    norm(text).lines().any(|l| l == want)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_running_pod_has_lifecycle_events() {
    let k = Sim::empty().await;
    apply(&k, "pod.yaml", &pod("web", "app: web")).await;
    k.wait_until(&["get", "pod", "web", "--no-headers"], secs(20), |o| o.stdout.contains("Running")).await;
    // Events are recorded by the simulated kubelet as it goes; wait for Started.
    let out = k.wait_until(&["describe", "pod", "web"], secs(20), |o| o.stdout.contains("Started")).await;
    let text = out.ok();
    for want in [
        "Name: web",
        "Namespace: default",
        "Status: Running",
        "Labels: app=web",
        "Image: nginx:1.27",
        "State: Running",
        "Ready: True",
        "Restart Count: 0",
    ] {
        assert!(has_line(text, want), "describe lacks {want:?}:\n{text}");
    }
    assert!(norm(text).lines().any(|l| l.starts_with("Node: sim-worker-")), "{text}");
    let events = text.split("Events:").nth(1).unwrap_or_else(|| panic!("no Events section:\n{text}"));
    let events = norm(events);
    assert!(events.contains("Type Reason Age From Message"), "{text}");
    assert!(
        events.contains("Normal Scheduled <age> default-scheduler Successfully assigned default/web to sim-worker-"),
        "{text}"
    );
    assert!(events.contains("Normal Pulling <age> kubelet Pulling image \"nginx:1.27\""), "{text}");
    assert!(events.contains("Normal Pulled <age> kubelet Successfully pulled image \"nginx:1.27\""), "{text}");
    assert!(events.contains("Normal Created <age> kubelet Created container: app"), "{text}");
    assert!(events.contains("Normal Started <age> kubelet Started container app"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_deployment() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 3, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 3).await;
    let rs = k.ok(&["get", "rs", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]).await;
    let out = k.kubectl(&["describe", "deploy", "web"]).await;
    let text = out.ok();
    for want in [
        "Name: web",
        "Namespace: default",
        "Selector: app=web",
        "Replicas: 3 desired | 3 updated | 3 total | 3 available | 0 unavailable",
        "StrategyType: RollingUpdate",
        "RollingUpdateStrategy: 25% max unavailable, 25% max surge",
        "Available True MinimumReplicasAvailable",
        "Progressing True NewReplicaSetAvailable",
        "OldReplicaSets: <none>",
        &format!("NewReplicaSet: {rs} (3/3 replicas created)"),
    ] {
        assert!(has_line(text, want), "describe deploy lacks {want:?}:\n{text}");
    }
    assert!(
        norm(text).contains(&format!(
            "Normal ScalingReplicaSet <age> deployment-controller Scaled up replica set {rs} from 0 to 3"
        )),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_node_lists_pods_and_allocation() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 4, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 4).await;
    let on_node = k
        .ok(&["get", "pods", "-A", "--field-selector", "spec.nodeName=sim-worker-1", "--no-headers", "-o", "name"])
        .await;
    let count = on_node.lines().count();
    assert!(count > 0, "no pods on sim-worker-1");
    let out = k.kubectl(&["describe", "node", "sim-worker-1"]).await;
    let text = out.ok();
    for want in [
        "Name: sim-worker-1",
        "Roles: worker",
        "Taints: <none>",
        "Unschedulable: false",
        "Kubelet Version: v1.32.5",
        "Container Runtime Version: containerd://1.7.24",
        "(Total limits may be over 100 percent, i.e., overcommitted.)",
        "Resource Requests Limits",
    ] {
        assert!(has_line(text, want), "describe node lacks {want:?}:\n{text}");
    }
    for section in ["Capacity:", "Allocatable:", "System Info:", "Conditions:", "Addresses:"] {
        assert!(text.contains(section), "lacks {section}:\n{text}");
    }
    assert!(has_line(text, &format!("Non-terminated Pods: ({count} in total)")), "expected {count} pods:\n{text}");
    let n = norm(text);
    for pod in on_node.lines() {
        let name = pod.trim_start_matches("pod/");
        assert!(n.lines().any(|l| l.contains(name)), "{name} not listed:\n{text}");
    }
    let allocated = text.split("Allocated resources:").nth(1).expect("Allocated resources section");
    assert!(norm(allocated).lines().any(|l| l.starts_with("cpu ") && l.contains("m (")), "{text}");
    assert!(norm(allocated).lines().any(|l| l.starts_with("memory ")), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_service_shows_endpoints() {
    let k = Sim::empty().await;
    let manifest = format!(
        "{}---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: 8080}}]
",
        deployment("web", 2, "nginx:1.27")
    );
    apply(&k, "app.yaml", &manifest).await;
    wait_deploy_ready(&k, "default", "web", 2).await;
    let ips = k.ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"]).await;
    let ips: Vec<&str> = ips.split_whitespace().collect();
    assert_eq!(ips.len(), 2);
    let out = k
        .wait_until(&["describe", "svc", "web"], secs(15), |o| {
            ips.iter().all(|ip| o.stdout.contains(&format!("{ip}:8080")))
        })
        .await;
    let text = out.ok();
    for want in ["Name: web", "Selector: app=web", "Type: ClusterIP", "Port: http 80/TCP", "TargetPort: 8080/TCP"] {
        assert!(has_line(text, want), "describe svc lacks {want:?}:\n{text}");
    }
    let endpoints =
        norm(text).lines().find(|l| l.starts_with("Endpoints:")).map(str::to_string).expect("Endpoints line");
    let mut listed: Vec<&str> = endpoints.trim_start_matches("Endpoints:").trim().split(',').collect();
    listed.sort();
    let mut want: Vec<String> = ips.iter().map(|ip| format!("{ip}:8080")).collect();
    want.sort();
    assert_eq!(listed, want, "{text}");
}

/// Services with an unnamed port (as `kubectl expose` and most manifests write them), with and without
/// matching pods. The EndpointSlice controller always sets `ports[].name` (to "" for unnamed ports);
/// kubectl dereferences it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_service_with_unnamed_port() {
    let k = Sim::empty().await;
    let manifest = format!(
        "{}---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: nobody}}
spec:
  selector: {{app: nobody}}
  ports: [{{port: 80}}]
",
        deployment("web", 1, "nginx:1.27")
    );
    apply(&k, "app.yaml", &manifest).await;
    wait_deploy_ready(&k, "default", "web", 1).await;
    let ip = k.ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].status.podIP}"]).await;
    let out = k.wait_until(&["describe", "svc", "web"], secs(15), |o| !o.success() || o.stdout.contains(&ip)).await;
    assert!(has_line(out.ok(), &format!("Endpoints: {ip}:80")), "{out}");
    let out = k.kubectl(&["describe", "svc", "nobody"]).await;
    let line =
        norm(out.ok()).lines().find(|l| l.starts_with("Endpoints:")).map(str::to_string).expect("Endpoints line");
    assert!(line == "Endpoints:" || line == "Endpoints: <none>", "{out}");
}

/// Probe fields the API server defaults (scheme, timeout, thresholds) show in `describe`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_defaulted_probe() {
    let k = Sim::empty().await;
    let manifest = deployment("web", 1, "nginx:1.27")
        .replace("        resources:", "        readinessProbe: {httpGet: {path: /, port: 80}}\n        resources:");
    apply(&k, "web.yaml", &manifest).await;
    let text = k.ok(&["describe", "deploy", "web"]).await;
    assert!(
        has_line(&text, "Readiness: http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3"),
        "{text}"
    );
}

/// Every kubelet renews a Lease named after its node in kube-node-lease; `describe node` shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_node_shows_lease() {
    let k = Sim::empty().await;
    let text = k.ok(&["describe", "node", "sim-worker-1"]).await;
    assert!(!text.contains("Failed to get lease"), "{text}");
    assert!(has_line(&text, "HolderIdentity: sim-worker-1"), "{text}");
    let leases = k.kubectl(&["get", "leases", "-n", "kube-node-lease", "--no-headers"]).await;
    assert_eq!(first_column(leases.ok(), false), ["sim-worker-1", "sim-worker-2"], "{leases}");
}
