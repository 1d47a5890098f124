//! Validation on create and update: names, labels and the fields each kind requires. Returns the
//! field causes of a 422 Invalid error; an empty list means the object is valid.

use crate::error::{Cause, invalid_field, required_field};
use crate::registry::ResourceType;
use binnacle_objects::names;
use binnacle_objects::selector::LabelSelector;
use serde_json::Value;

/// Kinds whose names are DNS-1123 labels rather than subdomains.
fn label_named(kind: &str) -> bool {
    matches!(kind, "Namespace" | "Service")
}

/// Kinds whose names may be any path segment.
fn path_segment_named(group: &str) -> bool {
    group == "rbac.authorization.k8s.io"
}

/// Checks a name for a kind, with the API server's message.
pub fn check_name(rt: &ResourceType, name: &str) -> Result<(), String> {
    if path_segment_named(&rt.group) {
        names::check_path_segment(name)
    } else if label_named(&rt.kind) {
        names::check_dns1123_label(name)
    } else {
        names::check_dns1123_subdomain(name)
    }
}

/// Validates an object about to be stored.
pub fn validate(rt: &ResourceType, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let meta = obj.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        causes.push(Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value: name or generateName is required".into(),
            field: "metadata.name".into(),
        });
    } else if let Err(e) = check_name(rt, name) {
        causes.push(invalid_field("metadata.name", format!("Invalid value: {name:?}: {e}")));
    }
    if let Some(labels) = meta.and_then(|m| m.get("labels")).and_then(Value::as_object) {
        for (k, v) in labels {
            if let Err(e) = names::check_qualified_name(k) {
                causes.push(invalid_field("metadata.labels", format!("Invalid value: {k:?}: {e}")));
            }
            match v.as_str() {
                Some(v) => {
                    if let Err(e) = names::check_label_value(v) {
                        causes
                            .push(invalid_field(&format!("metadata.labels.{k}"), format!("Invalid value: {v:?}: {e}")));
                    }
                }
                None => causes.push(invalid_field(
                    &format!("metadata.labels.{k}"),
                    "Invalid value: label values must be strings",
                )),
            }
        }
    }
    if let Some(annotations) = meta.and_then(|m| m.get("annotations")).and_then(Value::as_object) {
        for (k, v) in annotations {
            if let Err(e) = names::check_qualified_name(k) {
                causes.push(invalid_field("metadata.annotations", format!("Invalid value: {k:?}: {e}")));
            }
            if !v.is_string() {
                causes.push(invalid_field(
                    &format!("metadata.annotations.{k}"),
                    "Invalid value: annotation values must be strings",
                ));
            }
        }
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => validate_pod_spec(obj.get("spec"), "spec", &mut causes),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => validate_workload(obj, &mut causes),
        ("batch", "Job") => validate_pod_spec(obj.pointer("/spec/template/spec"), "spec.template.spec", &mut causes),
        ("batch", "CronJob") => {
            if obj.pointer("/spec/schedule").and_then(Value::as_str).is_none_or(str::is_empty) {
                causes.push(required_field("spec.schedule"));
            }
            validate_pod_spec(
                obj.pointer("/spec/jobTemplate/spec/template/spec"),
                "spec.jobTemplate.spec.template.spec",
                &mut causes,
            );
        }
        ("", "Service") => validate_service(obj, &mut causes),
        ("", "ConfigMap" | "Secret") => {
            for field in ["data", "binaryData", "stringData"] {
                if let Some(data) = obj.get(field).and_then(Value::as_object) {
                    for (k, v) in data {
                        if !valid_config_key(k) {
                            causes.push(invalid_field(
                                &format!("{field}[{k}]"),
                                format!("Invalid value: {k:?}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'"),
                            ));
                        }
                        if !v.is_string() {
                            causes
                                .push(invalid_field(&format!("{field}[{k}]"), "Invalid value: values must be strings"));
                        }
                    }
                }
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => validate_crd(obj, name, &mut causes),
        _ => {}
    }
    causes
}

fn valid_config_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 253 && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn validate_workload(obj: &Value, causes: &mut Vec<Cause>) {
    let selector = obj.pointer("/spec/selector");
    match selector {
        None | Some(Value::Null) => causes.push(required_field("spec.selector")),
        Some(sel) => match LabelSelector::from_object(sel) {
            Err(e) => causes.push(invalid_field("spec.selector", format!("Invalid value: {e}"))),
            Ok(s) if s.is_empty() => {
                causes.push(invalid_field("spec.selector", "Invalid value: empty selector is invalid for deployment"))
            }
            Ok(s) => {
                if !s.matches(obj.pointer("/spec/template/metadata/labels")) {
                    causes.push(invalid_field(
                        "spec.template.metadata.labels",
                        format!(
                            "Invalid value: {}: `selector` does not match template `labels`",
                            obj.pointer("/spec/template/metadata/labels")
                                .map(Value::to_string)
                                .unwrap_or_else(|| "null".into())
                        ),
                    ));
                }
            }
        },
    }
    if let Some(r) = obj.pointer("/spec/replicas")
        && r.as_i64().is_none_or(|n| n < 0)
    {
        causes.push(invalid_field("spec.replicas", format!("Invalid value: {r}: must be greater than or equal to 0")));
    }
    validate_pod_spec(obj.pointer("/spec/template/spec"), "spec.template.spec", causes);
}

fn validate_pod_spec(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let Some(spec) = spec else {
        causes.push(required_field(path));
        return;
    };
    let containers = spec.get("containers").and_then(Value::as_array);
    match containers {
        None => causes.push(required_field(&format!("{path}.containers"))),
        Some(cs) if cs.is_empty() => causes.push(required_field(&format!("{path}.containers"))),
        Some(cs) => {
            let mut seen = std::collections::HashSet::new();
            for (i, c) in cs.iter().enumerate() {
                let cpath = format!("{path}.containers[{i}]");
                match c.get("name").and_then(Value::as_str) {
                    None | Some("") => causes.push(required_field(&format!("{cpath}.name"))),
                    Some(n) => {
                        if let Err(e) = names::check_dns1123_label(n) {
                            causes.push(invalid_field(&format!("{cpath}.name"), format!("Invalid value: {n:?}: {e}")));
                        }
                        if !seen.insert(n.to_string()) {
                            causes.push(Cause {
                                reason: "FieldValueDuplicate".into(),
                                message: format!("Duplicate value: {n:?}"),
                                field: format!("{cpath}.name"),
                            });
                        }
                    }
                }
                if c.get("image").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
                    causes.push(required_field(&format!("{cpath}.image")));
                }
            }
        }
    }
}

fn validate_service(obj: &Value, causes: &mut Vec<Cause>) {
    let ty = obj.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
    if ty == "ExternalName" {
        return;
    }
    let ports = obj.pointer("/spec/ports").and_then(Value::as_array);
    let headless = obj.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    if ports.is_none_or(|p| p.is_empty()) && !headless {
        causes.push(required_field("spec.ports"));
    }
    for (i, p) in ports.into_iter().flatten().enumerate() {
        match p.get("port").and_then(Value::as_i64) {
            Some(n) if (1..=65535).contains(&n) => {}
            Some(n) => causes.push(invalid_field(
                &format!("spec.ports[{i}].port"),
                format!("Invalid value: {n}: must be between 1 and 65535, inclusive"),
            )),
            None => causes.push(required_field(&format!("spec.ports[{i}].port"))),
        }
    }
}

fn validate_crd(obj: &Value, name: &str, causes: &mut Vec<Cause>) {
    let group = obj.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
    let plural = obj.pointer("/spec/names/plural").and_then(Value::as_str).unwrap_or_default();
    if group.is_empty() {
        causes.push(required_field("spec.group"));
    }
    if plural.is_empty() {
        causes.push(required_field("spec.names.plural"));
    }
    if obj.pointer("/spec/names/kind").and_then(Value::as_str).is_none_or(str::is_empty) {
        causes.push(required_field("spec.names.kind"));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push(invalid_field(
            "metadata.name",
            format!("Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let versions = obj.pointer("/spec/versions").and_then(Value::as_array);
    match versions {
        None => causes.push(required_field("spec.versions")),
        Some(vs) => {
            let storage = vs.iter().filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true)).count();
            if storage != 1 {
                causes.push(invalid_field(
                    "spec.versions",
                    "Invalid value: must have exactly one version marked as storage version",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    #[test]
    fn rejects_bad_names_and_missing_fields() {
        let reg = Registry::new();
        let pods = reg.get("", "v1", "pods").expect("pods");
        let bad = json!({"metadata": {"name": "Bad_Name"}, "spec": {"containers": [{"name": "a"}]}});
        let causes = validate(&pods, &bad);
        assert!(causes.iter().any(|c| c.field == "metadata.name"));
        assert!(causes.iter().any(|c| c.field == "spec.containers[0].image"));
        let deploy = reg.get("apps", "v1", "deployments").expect("deployments");
        let mismatch = json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "other"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        assert!(validate(&deploy, &mismatch).iter().any(|c| c.field == "spec.template.metadata.labels"));
    }
}
