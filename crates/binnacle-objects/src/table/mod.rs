//! Server-side table printing: the `meta.k8s.io/v1 Table` columns and cells kubectl shows for
//! `kubectl get`.
//!
//! kubectl 1.32 has no client-side printers for built-in kinds: it asks the API server for a `Table`
//! and prints the columns with priority 0 (all of them with `-o wide`). This module computes those
//! columns and cells from objects in their JSON form:
//!
//! - [`columns`] / [`row_cells`] / [`row_conditions`] for built-in kinds (and the `Name`, `Created At`
//!   default for anything else);
//! - [`custom_columns`] / [`custom_row_cells`] for custom resources, from a CRD version's
//!   `additionalPrinterColumns` evaluated with a small JSONPath subset ([`jsonpath`]);
//! - [`pod_status`], [`pod_ready`] and [`pod_restarts`], the pod summary kubectl shows, reused by tools
//!   and analyzers.
//!
//! Every printer tolerates missing fields: absent values print as `<none>`, `0` or an empty cell as
//! kubectl does.

use jiff::Timestamp;
use serde_json::Value;

mod cluster;
mod core_group;
mod custom;
mod events;
pub mod jsonpath;
mod network;
mod pod;
mod util;
mod workloads;

#[cfg(test)]
mod tests;

pub use custom::{custom_columns, custom_row_cells};
pub use pod::{pod_ready, pod_restarts, pod_status};

use util::Col;

/// One column of a Table (serializes as `{"name","type","format","description","priority"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnDefinition {
    /// Header text; kubectl upper-cases it (`Nominated Node` prints as `NOMINATED NODE`).
    pub name: String,
    /// OpenAPI type of the cells: `string`, `integer`, `number`, `boolean` or `date`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Format hint; `name` marks the column holding the object name.
    pub format: String,
    /// Human description of the column.
    pub description: String,
    /// 0 for columns always shown, 1 (or more) for columns shown only with `-o wide`.
    pub priority: i32,
}

/// A table printer for one kind: its columns and how to compute a row's cells.
pub(crate) struct Printer {
    /// The columns, in order.
    pub columns: &'static [Col],
    /// The cells of one object, one per column.
    pub row: fn(&Value, Timestamp) -> Vec<Value>,
}

/// The printer of a built-in kind (`group` is `""` or `"core"` for the core group).
fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    let group = if group == "core" { "" } else { group };
    let printer = match (group, kind) {
        ("", "Pod") => &pod::POD,
        ("", "Service") => &core_group::SERVICE,
        ("", "Node") => &core_group::NODE,
        ("", "Namespace") => &core_group::NAMESPACE,
        ("", "ConfigMap") => &core_group::CONFIG_MAP,
        ("", "Secret") => &core_group::SECRET,
        ("", "ServiceAccount") => &core_group::SERVICE_ACCOUNT,
        ("", "Endpoints") => &core_group::ENDPOINTS,
        ("", "PersistentVolumeClaim") => &core_group::PERSISTENT_VOLUME_CLAIM,
        ("", "PersistentVolume") => &core_group::PERSISTENT_VOLUME,
        ("", "ResourceQuota") => &core_group::RESOURCE_QUOTA,
        ("", "LimitRange") => &core_group::LIMIT_RANGE,
        ("", "PodTemplate") => &core_group::POD_TEMPLATE,
        ("", "ReplicationController") => &workloads::REPLICATION_CONTROLLER,
        ("", "Event") | ("events.k8s.io", "Event") => {
            if group.is_empty() {
                &events::CORE_EVENT
            } else {
                &events::EVENTS_EVENT
            }
        }
        ("apps", "Deployment") => &workloads::DEPLOYMENT,
        ("apps", "ReplicaSet") => &workloads::REPLICA_SET,
        ("apps", "StatefulSet") => &workloads::STATEFUL_SET,
        ("apps", "DaemonSet") => &workloads::DAEMON_SET,
        ("apps", "ControllerRevision") => &workloads::CONTROLLER_REVISION,
        ("batch", "Job") => &workloads::JOB,
        ("batch", "CronJob") => &workloads::CRON_JOB,
        ("networking.k8s.io", "Ingress") => &network::INGRESS,
        ("networking.k8s.io", "IngressClass") => &network::INGRESS_CLASS,
        ("networking.k8s.io", "NetworkPolicy") => &network::NETWORK_POLICY,
        ("discovery.k8s.io", "EndpointSlice") => &network::ENDPOINT_SLICE,
        ("autoscaling", "HorizontalPodAutoscaler") => &cluster::HORIZONTAL_POD_AUTOSCALER,
        ("policy", "PodDisruptionBudget") => &cluster::POD_DISRUPTION_BUDGET,
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => &cluster::ROLE,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => &cluster::ROLE_BINDING,
        ("storage.k8s.io", "StorageClass") => &cluster::STORAGE_CLASS,
        ("scheduling.k8s.io", "PriorityClass") => &cluster::PRIORITY_CLASS,
        ("node.k8s.io", "RuntimeClass") => &cluster::RUNTIME_CLASS,
        ("coordination.k8s.io", "Lease") => &cluster::LEASE,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => &cluster::CUSTOM_RESOURCE_DEFINITION,
        ("apiregistration.k8s.io", "APIService") => &cluster::API_SERVICE,
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration") => {
            &cluster::WEBHOOK_CONFIGURATION
        }
        _ => return None,
    };
    Some(printer)
}

/// The default table of the API server for kinds without a printer: `Name`, `Created At`.
static DEFAULT: Printer = Printer { columns: &[util::NAME, util::CREATED_AT], row: default_row };

/// Cells of the default table: the name and the RFC 3339 creation time (Go's zero time when absent).
fn default_row(obj: &Value, _now: Timestamp) -> Vec<Value> {
    vec![util::cell(util::name(obj)), util::cell(created_at(obj))]
}

/// The `Created At` cell: `metadata.creationTimestamp` normalized to whole-second UTC RFC 3339.
pub(crate) fn created_at(obj: &Value) -> String {
    let raw = crate::pointer::get(obj, "/metadata/creationTimestamp");
    match crate::time::parse_timestamp(raw) {
        Some(ts) => crate::time::format_timestamp(ts),
        None => match raw.and_then(Value::as_str) {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => "0001-01-01T00:00:00Z".to_string(),
        },
    }
}

/// Columns for a built-in kind; for unknown kinds the default (`Name`, `Created At`).
///
/// `group` is the API group (`""` or `"core"` for the core group, `"apps"`, ...) and `kind` the
/// object's kind (`Deployment`).
pub fn columns(group: &str, kind: &str) -> Vec<ColumnDefinition> {
    printer(group, kind).unwrap_or(&DEFAULT).columns.iter().map(|c| c.to_definition()).collect()
}

/// Cells for one object (same length and order as [`columns`]), computed at `now` (ages are relative
/// to it). Cells are JSON strings or integers (booleans where the API server sends booleans, e.g. a
/// StorageClass's `AllowVolumeExpansion`).
pub fn row_cells(group: &str, kind: &str, obj: &Value, now: Timestamp) -> Vec<Value> {
    let printer = printer(group, kind).unwrap_or(&DEFAULT);
    let mut cells = (printer.row)(obj, now);
    // Every printer produces exactly one cell per column; guard anyway so a Table is always well formed.
    cells.resize(printer.columns.len(), Value::String(String::new()));
    cells
}

/// Row conditions: `Completed` for pods in phase `Succeeded` or `Failed` (kubectl uses it to tell
/// finished pods apart); `None` for every other object.
pub fn row_conditions(group: &str, kind: &str, obj: &Value) -> Option<Vec<Value>> {
    if !matches!(group, "" | "core") || kind != "Pod" {
        return None;
    }
    pod::completed_condition(obj).map(|c| vec![c])
}
