//! Tables of cluster-level and policy kinds: HorizontalPodAutoscaler, PodDisruptionBudget, RBAC,
//! StorageClass, PriorityClass, RuntimeClass, Lease, CustomResourceDefinition, APIService and
//! admission webhook configurations.

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::core_group::created_at_row;
use super::util::{
    AGE, CREATED_AT, NAME, age_cell, arr_at, as_int, cell, col, find_condition, int_at, int_cell, int_or_string, name,
    opt_int, opt_str, present, quantity_at, str_at, wide,
};

/// The HorizontalPodAutoscaler printer (autoscaling/v1 and v2 objects).
pub(crate) static HORIZONTAL_POD_AUTOSCALER: Printer = Printer {
    columns: &[
        NAME,
        col("Reference", "string", "The scaled resource, as Kind/name."),
        col("Targets", "string", "Current/target value of each metric."),
        col("MinPods", "string", "Lower limit of replicas."),
        col("MaxPods", "string", "Upper limit of replicas."),
        col("Replicas", "string", "Current number of replicas."),
        AGE,
    ],
    row: hpa_row,
};

/// A metric's `current/target` for a target of either `value` or `averageValue` (`(avg)` suffix).
fn value_metric(spec: &Value, status: Option<&Value>) -> String {
    if present(spec, "/target/averageValue") {
        let current = status
            .filter(|s| present(s, "/current/averageValue"))
            .map_or_else(|| "<unknown>".to_string(), |s| quantity_at(s, "/current/averageValue"));
        format!("{current}/{} (avg)", quantity_at(spec, "/target/averageValue"))
    } else {
        let current = status.map_or_else(|| "<unknown>".to_string(), |s| quantity_at(s, "/current/value"));
        format!("{current}/{}", quantity_at(spec, "/target/value"))
    }
}

/// A resource metric's `name: current/target` (utilization in percent, or an average value).
fn resource_metric(spec: &Value, status: Option<&Value>) -> String {
    let resource = str_at(spec, "/name");
    if present(spec, "/target/averageValue") {
        let current = status.map_or_else(|| "<unknown>".to_string(), |s| quantity_at(s, "/current/averageValue"));
        format!("{resource}: {current}/{}", quantity_at(spec, "/target/averageValue"))
    } else {
        let current = status
            .and_then(|s| opt_int(s, "/current/averageUtilization"))
            .map_or_else(|| "<unknown>".to_string(), |u| format!("{u}%"));
        let target =
            opt_int(spec, "/target/averageUtilization").map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
        format!("{resource}: {current}/{target}")
    }
}

/// The TARGETS text: up to two metrics then `+ N more...`; `<none>` without metrics.
fn hpa_targets(hpa: &Value) -> String {
    const MAX: usize = 2;
    // autoscaling/v1 only knows a CPU utilization target; without any metric the API server defaults
    // to 80% CPU.
    let metrics_absent = crate::pointer::get(hpa, "/spec/metrics").is_none_or(Value::is_null);
    if present(hpa, "/spec/targetCPUUtilizationPercentage") || metrics_absent {
        let target = opt_int(hpa, "/spec/targetCPUUtilizationPercentage").unwrap_or(80);
        let current = opt_int(hpa, "/status/currentCPUUtilizationPercentage")
            .or_else(|| opt_int(hpa, "/status/currentMetrics/0/resource/current/averageUtilization"))
            .map_or_else(|| "<unknown>".to_string(), |c| format!("{c}%"));
        return format!("cpu: {current}/{target}%");
    }
    let specs = arr_at(hpa, "/spec/metrics");
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let statuses = arr_at(hpa, "/status/currentMetrics");
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .take(MAX)
        .map(|(i, spec)| {
            // Statuses are matched by position, as kubectl does.
            let status = |field: &str| statuses.get(i).and_then(|s| s.get(field)).filter(|s| !s.is_null());
            match str_at(spec, "/type") {
                "External" => value_metric(spec.get("external").unwrap_or(&Value::Null), status("external")),
                "Object" => value_metric(spec.get("object").unwrap_or(&Value::Null), status("object")),
                "Pods" => {
                    let current = status("pods")
                        .map_or_else(|| "<unknown>".to_string(), |s| quantity_at(s, "/current/averageValue"));
                    format!("{current}/{}", quantity_at(spec, "/pods/target/averageValue"))
                }
                "Resource" => resource_metric(spec.get("resource").unwrap_or(&Value::Null), status("resource")),
                "ContainerResource" => {
                    resource_metric(spec.get("containerResource").unwrap_or(&Value::Null), status("containerResource"))
                }
                _ => "<unknown type>".to_string(),
            }
        })
        .collect();
    let text = list.join(", ");
    if specs.len() > MAX { format!("{text} + {} more...", specs.len() - MAX) } else { text }
}

/// Cells of one HorizontalPodAutoscaler.
fn hpa_row(hpa: &Value, now: Timestamp) -> Vec<Value> {
    let reference =
        format!("{}/{}", str_at(hpa, "/spec/scaleTargetRef/kind"), str_at(hpa, "/spec/scaleTargetRef/name"));
    let min_pods = opt_int(hpa, "/spec/minReplicas").map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    vec![
        cell(name(hpa)),
        cell(reference),
        cell(hpa_targets(hpa)),
        cell(min_pods),
        int_cell(int_at(hpa, "/spec/maxReplicas")),
        int_cell(int_at(hpa, "/status/currentReplicas")),
        age_cell(hpa, now),
    ]
}

/// The PodDisruptionBudget printer.
pub(crate) static POD_DISRUPTION_BUDGET: Printer = Printer {
    columns: &[
        NAME,
        col("Min Available", "string", "Pods that must remain available during evictions."),
        col("Max Unavailable", "string", "Pods that may be unavailable during evictions."),
        col("Allowed Disruptions", "integer", "Evictions currently allowed."),
        AGE,
    ],
    row: pdb_row,
};

/// Cells of one PodDisruptionBudget.
fn pdb_row(pdb: &Value, now: Timestamp) -> Vec<Value> {
    let bound =
        |field: &str| crate::pointer::get(pdb, field).and_then(int_or_string).unwrap_or_else(|| "N/A".to_string());
    vec![
        cell(name(pdb)),
        cell(bound("/spec/minAvailable")),
        cell(bound("/spec/maxUnavailable")),
        int_cell(int_at(pdb, "/status/disruptionsAllowed")),
        age_cell(pdb, now),
    ]
}

/// The Role and ClusterRole printer.
pub(crate) static ROLE: Printer = Printer { columns: &[NAME, CREATED_AT], row: created_at_row };

/// The RoleBinding and ClusterRoleBinding printer.
pub(crate) static ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        col("Role", "string", "The role bound, as Kind/name."),
        AGE,
        wide("Users", "string", "Users bound to the role."),
        wide("Groups", "string", "Groups bound to the role."),
        wide("ServiceAccounts", "string", "Service accounts bound to the role, as namespace:name."),
    ],
    row: role_binding_row,
};

/// Cells of one RoleBinding or ClusterRoleBinding.
fn role_binding_row(binding: &Value, now: Timestamp) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for subject in arr_at(binding, "/subjects") {
        let subject_name = str_at(subject, "/name");
        match str_at(subject, "/kind") {
            "User" => users.push(subject_name.to_string()),
            "Group" => groups.push(subject_name.to_string()),
            "ServiceAccount" => service_accounts.push(format!("{}:{subject_name}", str_at(subject, "/namespace"))),
            _ => {}
        }
    }
    vec![
        cell(name(binding)),
        cell(format!("{}/{}", str_at(binding, "/roleRef/kind"), str_at(binding, "/roleRef/name"))),
        age_cell(binding, now),
        cell(users.join(", ")),
        cell(groups.join(", ")),
        cell(service_accounts.join(", ")),
    ]
}

/// The StorageClass printer.
pub(crate) static STORAGE_CLASS: Printer = Printer {
    columns: &[
        NAME,
        col("Provisioner", "string", "The volume plugin provisioning volumes of this class."),
        col("ReclaimPolicy", "string", "Reclaim policy of provisioned volumes."),
        col("VolumeBindingMode", "string", "When volumes are bound and provisioned."),
        col("AllowVolumeExpansion", "string", "Whether volumes of this class can be expanded."),
        AGE,
    ],
    row: storage_class_row,
};

/// Cells of one StorageClass; the default class's name carries ` (default)`.
fn storage_class_row(sc: &Value, now: Timestamp) -> Vec<Value> {
    let annotations = crate::pointer::get(sc, "/metadata/annotations");
    let is_default =
        ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]
            .iter()
            .any(|key| annotations.and_then(|a| a.get(*key)).and_then(Value::as_str) == Some("true"));
    let display_name = if is_default { format!("{} (default)", name(sc)) } else { name(sc).to_string() };
    vec![
        cell(display_name),
        cell(str_at(sc, "/provisioner")),
        cell(opt_str(sc, "/reclaimPolicy").unwrap_or("Delete")),
        cell(opt_str(sc, "/volumeBindingMode").unwrap_or("Immediate")),
        Value::Bool(sc.get("allowVolumeExpansion").and_then(Value::as_bool).unwrap_or(false)),
        age_cell(sc, now),
    ]
}

/// The PriorityClass printer.
pub(crate) static PRIORITY_CLASS: Printer = Printer {
    columns: &[
        NAME,
        col("Value", "integer", "Priority of pods using this class."),
        col("Global-Default", "boolean", "Whether this is the default class for pods without one."),
        AGE,
        col("PreemptionPolicy", "string", "Whether pods of this class may preempt lower-priority pods."),
    ],
    row: priority_class_row,
};

/// Cells of one PriorityClass.
fn priority_class_row(pc: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        cell(name(pc)),
        int_cell(pc.get("value").and_then(as_int).unwrap_or(0)),
        Value::Bool(pc.get("globalDefault").and_then(Value::as_bool).unwrap_or(false)),
        age_cell(pc, now),
        cell(opt_str(pc, "/preemptionPolicy").unwrap_or("PreemptLowerPriority")),
    ]
}

/// The RuntimeClass printer.
pub(crate) static RUNTIME_CLASS: Printer = Printer {
    columns: &[NAME, col("Handler", "string", "The CRI handler running pods of this class."), AGE],
    row: runtime_class_row,
};

/// Cells of one RuntimeClass.
fn runtime_class_row(rc: &Value, now: Timestamp) -> Vec<Value> {
    vec![cell(name(rc)), cell(str_at(rc, "/handler")), age_cell(rc, now)]
}

/// The Lease printer.
pub(crate) static LEASE: Printer =
    Printer { columns: &[NAME, col("Holder", "string", "The current holder of the lease."), AGE], row: lease_row };

/// Cells of one Lease.
fn lease_row(lease: &Value, now: Timestamp) -> Vec<Value> {
    vec![cell(name(lease)), cell(str_at(lease, "/spec/holderIdentity")), age_cell(lease, now)]
}

/// The CustomResourceDefinition printer.
pub(crate) static CUSTOM_RESOURCE_DEFINITION: Printer = Printer { columns: &[NAME, CREATED_AT], row: created_at_row };

/// The APIService printer.
pub(crate) static API_SERVICE: Printer = Printer {
    columns: &[
        NAME,
        col("Service", "string", "The service serving this API, or Local."),
        col("Available", "string", "Whether the API is available, with the reason when not."),
        AGE,
    ],
    row: api_service_row,
};

/// Cells of one APIService.
fn api_service_row(svc: &Value, now: Timestamp) -> Vec<Value> {
    let service = if present(svc, "/spec/service") {
        format!("{}/{}", str_at(svc, "/spec/service/namespace"), str_at(svc, "/spec/service/name"))
    } else {
        "Local".to_string()
    };
    let available = match find_condition(arr_at(svc, "/status/conditions"), "Available") {
        None => "Unknown".to_string(),
        Some(c) => match (str_at(c, "/status"), str_at(c, "/reason")) {
            ("True", _) => "True".to_string(),
            (status, "") => status.to_string(),
            (status, reason) => format!("{status} ({reason})"),
        },
    };
    vec![cell(name(svc)), cell(service), cell(available), age_cell(svc, now)]
}

/// The printer of Mutating- and ValidatingWebhookConfigurations.
pub(crate) static WEBHOOK_CONFIGURATION: Printer = Printer {
    columns: &[NAME, col("Webhooks", "integer", "Number of webhooks in the configuration."), AGE],
    row: webhook_configuration_row,
};

/// Cells of one webhook configuration.
fn webhook_configuration_row(config: &Value, now: Timestamp) -> Vec<Value> {
    vec![cell(name(config)), int_cell(arr_at(config, "/webhooks").len() as i64), age_cell(config, now)]
}
