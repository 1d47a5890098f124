//! Core-group tables other than Pod, ReplicationController and Event: Service, Node, Namespace,
//! ConfigMap, Secret, ServiceAccount, Endpoints, PersistentVolumeClaim, PersistentVolume,
//! ResourceQuota, LimitRange and PodTemplate.

use jiff::Timestamp;
use serde_json::Value;

use super::util::{
    AGE, CREATED_AT, NAME, access_modes, age_cell, arr_at, cell, col, containers_and_images, format_labels, int_at,
    int_cell, join_host_port, load_balancer_addresses, map_len, name, opt_str, or_none, present, quantity_at, str_at,
    wide,
};
use super::{Printer, created_at};

/// The Service printer.
pub(crate) static SERVICE: Printer = Printer {
    columns: &[
        NAME,
        col("Type", "string", "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName."),
        col("Cluster-IP", "string", "The service's cluster-internal IP."),
        col("External-IP", "string", "External addresses: load balancer ingress or spec.externalIPs."),
        col("Port(s)", "string", "Service ports as port[:nodePort]/protocol."),
        AGE,
        wide("Selector", "string", "Label selector of the pods backing the service."),
    ],
    row: service_row,
};

/// The EXTERNAL-IP of a service of the given type.
fn service_external_ip(svc: &Value, type_: &str) -> String {
    let external: Vec<&str> = arr_at(svc, "/spec/externalIPs").iter().filter_map(Value::as_str).collect();
    match type_ {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_addresses(crate::pointer::get(svc, "/status/loadBalancer"));
            let mut all: Vec<&str> = lb.split(',').filter(|s| !s.is_empty()).collect();
            all.extend(external);
            if all.is_empty() { "<pending>".to_string() } else { all.join(",") }
        }
        "ExternalName" => str_at(svc, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// Cells of one Service.
fn service_row(svc: &Value, now: Timestamp) -> Vec<Value> {
    let type_ = opt_str(svc, "/spec/type").unwrap_or("ClusterIP");
    let mut cluster_ip = str_at(svc, "/spec/clusterIPs/0");
    if cluster_ip.is_empty() {
        cluster_ip = str_at(svc, "/spec/clusterIP");
    }
    let ports = arr_at(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let port = int_at(p, "/port");
            let protocol = opt_str(p, "/protocol").unwrap_or("TCP");
            match int_at(p, "/nodePort") {
                n if n > 0 => format!("{port}:{n}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    vec![
        cell(name(svc)),
        cell(type_),
        or_none(cluster_ip),
        cell(service_external_ip(svc, type_)),
        or_none(&ports),
        age_cell(svc, now),
        cell(format_labels(crate::pointer::get(svc, "/spec/selector"))),
    ]
}

/// The Node printer.
pub(crate) static NODE: Printer = Printer {
    columns: &[
        NAME,
        col("Status", "string", "Readiness of the node, and SchedulingDisabled when cordoned."),
        col("Roles", "string", "Roles from node-role.kubernetes.io/<role> labels."),
        AGE,
        col("Version", "string", "Kubelet version reported by the node."),
        wide("Internal-IP", "string", "The node's first InternalIP address."),
        wide("External-IP", "string", "The node's first ExternalIP address."),
        wide("OS-Image", "string", "OS image reported by the node."),
        wide("Kernel-Version", "string", "Kernel version reported by the node."),
        wide("Container-Runtime", "string", "Container runtime and version reported by the node."),
    ],
    row: node_row,
};

/// The roles of a node from its labels, sorted and de-duplicated.
fn node_roles(node: &Value) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    if let Some(labels) = crate::pointer::get(node, "/metadata/labels").and_then(Value::as_object) {
        for (key, value) in labels {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.push(role.to_string());
                }
            } else if key == "kubernetes.io/role"
                && let Some(v) = value.as_str().filter(|v| !v.is_empty())
            {
                roles.push(v.to_string());
            }
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

/// The first node address of the given type, or `<none>`.
fn node_address(node: &Value, type_: &str) -> Value {
    let address = arr_at(node, "/status/addresses")
        .iter()
        .find(|a| str_at(a, "/type") == type_)
        .map_or("", |a| str_at(a, "/address"));
    or_none(address)
}

/// A node info field, `<unknown>` when empty.
fn node_info(node: &Value, field: &str) -> Value {
    let value = str_at(node, &format!("/status/nodeInfo/{field}"));
    cell(if value.is_empty() { "<unknown>" } else { value })
}

/// Cells of one Node.
fn node_row(node: &Value, now: Timestamp) -> Vec<Value> {
    // The last Ready condition wins, as a map keyed by type would keep it.
    let ready = arr_at(node, "/status/conditions").iter().rev().find(|c| str_at(c, "/type") == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_at(c, "/status") == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if crate::pointer::get(node, "/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    vec![
        cell(name(node)),
        cell(status.join(",")),
        or_none(&node_roles(node).join(",")),
        age_cell(node, now),
        cell(str_at(node, "/status/nodeInfo/kubeletVersion")),
        node_address(node, "InternalIP"),
        node_address(node, "ExternalIP"),
        node_info(node, "osImage"),
        node_info(node, "kernelVersion"),
        node_info(node, "containerRuntimeVersion"),
    ]
}

/// The Namespace printer.
pub(crate) static NAMESPACE: Printer = Printer {
    columns: &[NAME, col("Status", "string", "The namespace's phase: Active or Terminating."), AGE],
    row: namespace_row,
};

/// Cells of one Namespace.
fn namespace_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![cell(name(obj)), cell(opt_str(obj, "/status/phase").unwrap_or("Active")), age_cell(obj, now)]
}

/// The ConfigMap printer.
pub(crate) static CONFIG_MAP: Printer = Printer {
    columns: &[NAME, col("Data", "integer", "Number of entries in data and binaryData."), AGE],
    row: config_map_row,
};

/// Cells of one ConfigMap.
fn config_map_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let count = map_len(obj, "/data") + map_len(obj, "/binaryData");
    vec![cell(name(obj)), int_cell(count as i64), age_cell(obj, now)]
}

/// The Secret printer.
pub(crate) static SECRET: Printer = Printer {
    columns: &[
        NAME,
        col("Type", "string", "The type of the secret."),
        col("Data", "integer", "Number of entries in data."),
        AGE,
    ],
    row: secret_row,
};

/// Cells of one Secret.
fn secret_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        cell(name(obj)),
        cell(opt_str(obj, "/type").unwrap_or("Opaque")),
        int_cell(map_len(obj, "/data") as i64),
        age_cell(obj, now),
    ]
}

/// The ServiceAccount printer.
pub(crate) static SERVICE_ACCOUNT: Printer = Printer {
    columns: &[NAME, col("Secrets", "integer", "Number of secrets referenced by the service account."), AGE],
    row: service_account_row,
};

/// Cells of one ServiceAccount.
fn service_account_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![cell(name(obj)), int_cell(arr_at(obj, "/secrets").len() as i64), age_cell(obj, now)]
}

/// The Endpoints printer.
pub(crate) static ENDPOINTS: Printer = Printer {
    columns: &[NAME, col("Endpoints", "string", "Ready endpoint addresses (ip:port), the first few."), AGE],
    row: endpoints_row,
};

/// The ENDPOINTS text: up to three `ip:port` (or bare IPs for port-less subsets), then `+ N more...`.
fn format_endpoints(obj: &Value) -> String {
    const MAX: usize = 3;
    let subsets = arr_at(obj, "/subsets");
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let mut list: Vec<String> = Vec::new();
    let mut count = 0usize;
    let mut more = false;
    for subset in subsets {
        let addresses = arr_at(subset, "/addresses");
        let ports = arr_at(subset, "/ports");
        let mut push = |text: String| {
            if list.len() == MAX {
                more = true;
                false
            } else {
                list.push(text);
                true
            }
        };
        if ports.is_empty() {
            count += addresses.len();
            for address in addresses {
                if !push(str_at(address, "/ip").to_string()) {
                    break;
                }
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for address in addresses {
                if !push(join_host_port(str_at(address, "/ip"), int_at(port, "/port"))) {
                    break;
                }
            }
        }
    }
    let text = list.join(",");
    if more { format!("{text} + {} more...", count - MAX) } else { text }
}

/// Cells of one Endpoints.
fn endpoints_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![cell(name(obj)), cell(format_endpoints(obj)), age_cell(obj, now)]
}

/// `<unset>` unless the optional string at `pointer` is non-empty.
fn or_unset(obj: &Value, pointer: &str) -> Value {
    cell(opt_str(obj, pointer).filter(|s| !s.is_empty()).unwrap_or("<unset>"))
}

/// The storage class of a PVC or PV: the legacy beta annotation, else `spec.storageClassName`.
fn storage_class(obj: &Value) -> Value {
    let annotation = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .and_then(Value::as_str);
    cell(annotation.unwrap_or_else(|| str_at(obj, "/spec/storageClassName")))
}

/// Wide `VolumeMode` column of PVCs and PVs.
const VOLUME_MODE: super::util::Col = wide("VolumeMode", "string", "Filesystem or Block.");
/// `VolumeAttributesClass` column of PVCs and PVs.
const VOLUME_ATTRIBUTES_CLASS: super::util::Col =
    col("VolumeAttributesClass", "string", "The VolumeAttributesClass the volume uses, if any.");

/// The PersistentVolumeClaim printer.
pub(crate) static PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: &[
        NAME,
        col("Status", "string", "Phase of the claim: Pending, Bound or Lost (Terminating when deleted)."),
        col("Volume", "string", "The bound PersistentVolume."),
        col("Capacity", "string", "Storage capacity of the bound volume."),
        col("Access Modes", "string", "Access modes of the bound volume."),
        col("StorageClass", "string", "The claim's storage class."),
        VOLUME_ATTRIBUTES_CLASS,
        AGE,
        VOLUME_MODE,
    ],
    row: persistent_volume_claim_row,
};

/// Cells of one PersistentVolumeClaim.
fn persistent_volume_claim_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let phase = if present(obj, "/metadata/deletionTimestamp") { "Terminating" } else { str_at(obj, "/status/phase") };
    let volume = str_at(obj, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (quantity_at(obj, "/status/capacity/storage"), access_modes(arr_at(obj, "/status/accessModes")))
    };
    vec![
        cell(name(obj)),
        cell(phase),
        cell(volume),
        cell(capacity),
        cell(modes),
        storage_class(obj),
        or_unset(obj, "/spec/volumeAttributesClassName"),
        age_cell(obj, now),
        or_unset(obj, "/spec/volumeMode"),
    ]
}

/// The PersistentVolume printer.
pub(crate) static PERSISTENT_VOLUME: Printer = Printer {
    columns: &[
        NAME,
        col("Capacity", "string", "Storage capacity of the volume."),
        col("Access Modes", "string", "Access modes the volume supports."),
        col("Reclaim Policy", "string", "What happens to the volume when released: Retain, Delete or Recycle."),
        col("Status", "string", "Phase of the volume: Available, Bound, Released or Failed."),
        col("Claim", "string", "The claim bound to the volume, as namespace/name."),
        col("StorageClass", "string", "The volume's storage class."),
        VOLUME_ATTRIBUTES_CLASS,
        col("Reason", "string", "Why the volume is in its phase."),
        AGE,
        VOLUME_MODE,
    ],
    row: persistent_volume_row,
};

/// Cells of one PersistentVolume.
fn persistent_volume_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let claim = if present(obj, "/spec/claimRef") {
        format!("{}/{}", str_at(obj, "/spec/claimRef/namespace"), str_at(obj, "/spec/claimRef/name"))
    } else {
        String::new()
    };
    let phase = if present(obj, "/metadata/deletionTimestamp") { "Terminating" } else { str_at(obj, "/status/phase") };
    vec![
        cell(name(obj)),
        cell(quantity_at(obj, "/spec/capacity/storage")),
        cell(access_modes(arr_at(obj, "/spec/accessModes"))),
        cell(opt_str(obj, "/spec/persistentVolumeReclaimPolicy").unwrap_or("Retain")),
        cell(phase),
        cell(claim),
        storage_class(obj),
        or_unset(obj, "/spec/volumeAttributesClassName"),
        cell(str_at(obj, "/status/reason")),
        age_cell(obj, now),
        or_unset(obj, "/spec/volumeMode"),
    ]
}

/// The ResourceQuota printer (kubectl shows Age before the usage columns).
pub(crate) static RESOURCE_QUOTA: Printer = Printer {
    columns: &[
        NAME,
        AGE,
        col("Request", "string", "Used/hard for each quota resource other than limits.*."),
        col("Limit", "string", "Used/hard for each limits.* quota resource."),
    ],
    row: resource_quota_row,
};

/// Cells of one ResourceQuota: `resource: used/hard` pairs, sorted by resource name.
fn resource_quota_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let mut resources: Vec<&str> = obj
        .pointer("/spec/hard")
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    resources.sort_unstable();
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    for resource in resources {
        let key = resource.replace('~', "~0").replace('/', "~1");
        let used = quantity_at(obj, &format!("/status/used/{key}"));
        let hard = quantity_at(obj, &format!("/status/hard/{key}"));
        let text = format!("{resource}: {used}/{hard}");
        if resource.split_once('.').is_some_and(|(head, _)| head == "limits") {
            limits.push(text);
        } else {
            requests.push(text);
        }
    }
    vec![cell(name(obj)), age_cell(obj, now), cell(requests.join(", ")), cell(limits.join(", "))]
}

/// The LimitRange printer.
pub(crate) static LIMIT_RANGE: Printer = Printer { columns: &[NAME, CREATED_AT], row: created_at_row };

/// Cells of a `Name`, `Created At` table.
pub(crate) fn created_at_row(obj: &Value, _now: Timestamp) -> Vec<Value> {
    vec![cell(name(obj)), cell(created_at(obj))]
}

/// The PodTemplate printer.
pub(crate) static POD_TEMPLATE: Printer = Printer {
    columns: &[
        NAME,
        col("Containers", "string", "Names of each container in the template."),
        col("Images", "string", "Images referenced by each container in the template."),
        col("Pod Labels", "string", "Labels of pods created from the template."),
    ],
    row: pod_template_row,
};

/// Cells of one PodTemplate.
fn pod_template_row(obj: &Value, _now: Timestamp) -> Vec<Value> {
    let (containers, images) = containers_and_images(obj, "/template/spec/containers");
    vec![
        cell(name(obj)),
        containers,
        images,
        cell(format_labels(crate::pointer::get(obj, "/template/metadata/labels"))),
    ]
}
