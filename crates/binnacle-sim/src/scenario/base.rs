//! The objects every simulated cluster has: standard namespaces, nodes, the API and DNS Services and a
//! default StorageClass.

use crate::cluster::Cluster;
use crate::error::ApiResult;
use serde_json::{Value, json};

fn create(cluster: &Cluster, group: &str, version: &str, plural: &str, namespace: &str, obj: Value) -> ApiResult<()> {
    let rt = cluster.resource(group, version, plural)?;
    cluster.create_with_status(&rt, namespace, obj, "binnacle-scenario")?;
    Ok(())
}

/// Creates a namespace if it is missing.
pub fn ensure_namespace(cluster: &Cluster, name: &str) -> ApiResult<()> {
    let rt = cluster.resource("", "v1", "namespaces")?;
    if cluster.get_raw(&rt, "", name).is_ok() {
        return Ok(());
    }
    create(
        cluster,
        "",
        "v1",
        "namespaces",
        "",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
}

/// A node with 4 CPUs and 16 GiB.
pub fn node(name: &str, index: usize, control_plane: bool) -> Value {
    let mut labels = json!({
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": format!("sim-zone-{}", (index % 2) + 1),
    });
    let mut spec = json!({"podCIDR": format!("10.244.{index}.0/24"), "podCIDRs": [format!("10.244.{index}.0/24")]});
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        spec["taints"] = json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    } else {
        labels["node-role.kubernetes.io/worker"] = json!("");
    }
    let condition = |ty: &str, status: &str, reason: &str, message: &str| {
        json!({"type": ty, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": null, "lastTransitionTime": null})
    };
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": spec,
        "status": {
            "capacity": {"cpu": "4", "memory": "16393256Ki", "pods": "110", "ephemeral-storage": "102350Mi", "hugepages-2Mi": "0"},
            "allocatable": {"cpu": "4", "memory": "16290856Ki", "pods": "110", "ephemeral-storage": "102350Mi", "hugepages-2Mi": "0"},
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": format!("192.168.49.{}", index + 2)},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{:032x}", index as u128 + 0x5151),
                "systemUUID": format!("{:08x}-0000-4000-8000-000000000000", index + 1),
                "bootID": format!("{:08x}-1111-4000-8000-000000000000", index + 1),
                "kernelVersion": "6.1.0-sim",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": "v1.32.5",
                "kubeProxyVersion": "v1.32.5",
                "operatingSystem": "linux",
                "architecture": "amd64"
            },
            "images": []
        }
    })
}

fn stamp_node_times(cluster: &Cluster, mut node: Value) -> Value {
    let now = cluster.now_string();
    if let Some(conditions) = node.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
        for c in conditions {
            c["lastHeartbeatTime"] = json!(now);
            c["lastTransitionTime"] = json!(now);
        }
    }
    node
}

/// Loads the system basics with `workers` worker nodes (the demo also gets a control-plane node).
pub fn load_system(cluster: &Cluster, nodes: usize) -> ApiResult<()> {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        ensure_namespace(cluster, ns)?;
    }
    let mut names = Vec::new();
    if nodes >= 3 {
        names.push(("sim-control-plane".to_string(), true));
        for i in 1..nodes {
            names.push((format!("sim-worker-{i}"), false));
        }
    } else {
        for i in 1..=nodes.max(1) {
            names.push((format!("sim-worker-{i}"), false));
        }
    }
    for (i, (name, cp)) in names.iter().enumerate() {
        create(cluster, "", "v1", "nodes", "", stamp_node_times(cluster, node(name, i, *cp)))?;
    }
    create(
        cluster,
        "",
        "v1",
        "services",
        "default",
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}
        }),
    )?;
    create(
        cluster,
        "",
        "v1",
        "services",
        "kube-system",
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kube-dns", "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}},
            "spec": {"clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"},
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}, {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]}
        }),
    )?;
    create(
        cluster,
        "apps",
        "v1",
        "deployments",
        "kube-system",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "coredns", "labels": {"k8s-app": "kube-dns"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}},
                    "spec": {"priorityClassName": "system-cluster-critical",
                        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                        "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                            "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"}, {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}}}]}}}
        }),
    )?;
    create(
        cluster,
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "",
        json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate", "allowVolumeExpansion": true
        }),
    )?;
    for (name, value) in [("system-cluster-critical", 2000000000), ("system-node-critical", 2000001000)] {
        create(
            cluster,
            "scheduling.k8s.io",
            "v1",
            "priorityclasses",
            "",
            json!({
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                "value": value, "globalDefault": false, "preemptionPolicy": "PreemptLowerPriority",
                "description": "Used for system critical pods that must run in the cluster."
            }),
        )?;
    }
    create(
        cluster,
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "",
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]
        }),
    )?;
    create(
        cluster,
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "",
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "view"},
            "rules": [{"apiGroups": ["", "apps", "batch", "networking.k8s.io", "autoscaling", "policy"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]
        }),
    )?;
    create(
        cluster,
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "",
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "cluster-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]
        }),
    )?;
    Ok(())
}

/// Cordons a node (`spec.unschedulable: true`), as `kubectl cordon` does; the node lifecycle controller then
/// adds the `node.kubernetes.io/unschedulable` taint.
pub fn cordon(cluster: &Cluster, name: &str) -> ApiResult<()> {
    let rt = cluster.resource("", "v1", "nodes")?;
    cluster.get_raw(&rt, "", name)?;
    cluster.modify(&rt, &crate::store::ObjectKey::new("", name), |n| n["spec"]["unschedulable"] = json!(true));
    Ok(())
}
