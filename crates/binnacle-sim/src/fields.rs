//! Field selectors: which fields each kind supports and how to read them.

use crate::registry::ResourceType;
use serde_json::Value;

/// Fields a kind can be selected by, besides `metadata.name` and `metadata.namespace`.
fn kind_fields(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("", "Pod") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "Event") | ("events.k8s.io", "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "regarding.kind",
            "regarding.name",
            "regarding.namespace",
            "regarding.uid",
            "reportingController",
        ],
        ("", "Secret") => &["type"],
        ("", "Node") => &["spec.unschedulable"],
        ("", "Namespace") => &["status.phase"],
        ("", "ReplicationController") | ("apps", "ReplicaSet") => &["status.replicas"],
        ("batch", "Job") => &["status.successful"],
        ("", "PersistentVolume") => &["name"],
        _ => &[],
    }
}

/// Whether a field selector field is supported for a kind.
pub fn supported(rt: &ResourceType, field: &str) -> bool {
    matches!(field, "metadata.name" | "metadata.namespace") || kind_fields(&rt.group, &rt.kind).contains(&field)
}

/// The string value of a selectable field (missing fields read as `""`, booleans as `true`/`false`).
pub fn value(obj: &Value, field: &str) -> String {
    // events.k8s.io field names map onto core Event storage.
    let field = match field {
        "regarding.kind" => "involvedObject.kind",
        "regarding.name" => "involvedObject.name",
        "regarding.namespace" => "involvedObject.namespace",
        "regarding.uid" => "involvedObject.uid",
        "reportingController" => "reportingComponent",
        "source" => "source.component",
        other => other,
    };
    // Walk the dotted path directly: this runs for every object of a filtered list.
    let found = field.split('.').try_fold(obj, |v, segment| v.get(segment));
    match found {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}
