//! Field validation of built-in kinds (`fieldValidation=Strict|Warn|Ignore`): an object is decoded into
//! its k8s-openapi type and encoded again; fields that did not survive are unknown, and a value of the
//! wrong type fails the decode. Custom resources are not checked (their CRDs in the simulator preserve
//! unknown fields).

use k8s_openapi::api;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// How the server treats unknown fields (the `fieldValidation` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Reject the request.
    Strict,
    /// Accept it, drop the fields and warn (the API server's default).
    #[default]
    Warn,
    /// Accept it and drop the fields silently.
    Ignore,
}

/// What checking an object found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The object is well typed; these fields are unknown (dotted paths, `[i]` for list items).
    Unknown(Vec<String>),
    /// A value has the wrong type or shape; the decoder's message.
    Malformed(String),
    /// No schema for this kind (custom resources).
    Unchecked,
}

fn round_trip<T: DeserializeOwned + Serialize>(obj: &mut Value) -> Check {
    let typed: T = match serde_json::from_value(obj.clone()) {
        Ok(t) => t,
        Err(e) => return Check::Malformed(e.to_string()),
    };
    let back = match serde_json::to_value(&typed) {
        Ok(v) => v,
        Err(e) => return Check::Malformed(e.to_string()),
    };
    let mut unknown = Vec::new();
    prune(obj, &back, "", &mut unknown);
    Check::Unknown(unknown)
}

/// Removes from `input` what `known` lacks, recording the paths.
fn prune(input: &mut Value, known: &Value, path: &str, unknown: &mut Vec<String>) {
    match (input, known) {
        (Value::Object(map), Value::Object(known_map)) => {
            let mut drop = Vec::new();
            for (k, v) in map.iter_mut() {
                if v.is_null() {
                    continue;
                }
                let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match known_map.get(k) {
                    Some(kv) => prune(v, kv, &child, unknown),
                    None => {
                        unknown.push(child);
                        drop.push(k.clone());
                    }
                }
            }
            for k in drop {
                map.remove(&k);
            }
        }
        (Value::Array(list), Value::Array(known_list)) => {
            for (i, (v, kv)) in list.iter_mut().zip(known_list.iter()).enumerate() {
                prune(v, kv, &format!("{path}[{i}]"), unknown);
            }
        }
        _ => {}
    }
}

macro_rules! kinds {
    ($obj:expr, $group:expr, $version:expr, $kind:expr; $( ($g:literal, $v:literal, $k:literal) => $t:ty ),* $(,)?) => {
        match ($group, $version, $kind) {
            $( ($g, $v, $k) => round_trip::<$t>($obj), )*
            _ => Check::Unchecked,
        }
    };
}

/// Checks an object against the schema of its apiVersion and kind, removing unknown fields from it.
pub fn check(obj: &mut Value) -> Check {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version.as_str()));
    kinds!(obj, group, version, kind.as_str();
        ("", "v1", "Namespace") => api::core::v1::Namespace,
        ("", "v1", "Node") => api::core::v1::Node,
        ("", "v1", "Pod") => api::core::v1::Pod,
        ("", "v1", "Service") => api::core::v1::Service,
        ("", "v1", "Endpoints") => api::core::v1::Endpoints,
        ("", "v1", "ConfigMap") => api::core::v1::ConfigMap,
        ("", "v1", "Secret") => api::core::v1::Secret,
        ("", "v1", "Event") => api::core::v1::Event,
        ("", "v1", "ServiceAccount") => api::core::v1::ServiceAccount,
        ("", "v1", "PersistentVolumeClaim") => api::core::v1::PersistentVolumeClaim,
        ("", "v1", "PersistentVolume") => api::core::v1::PersistentVolume,
        ("", "v1", "ResourceQuota") => api::core::v1::ResourceQuota,
        ("", "v1", "LimitRange") => api::core::v1::LimitRange,
        ("", "v1", "ReplicationController") => api::core::v1::ReplicationController,
        ("", "v1", "PodTemplate") => api::core::v1::PodTemplate,
        ("apps", "v1", "Deployment") => api::apps::v1::Deployment,
        ("apps", "v1", "ReplicaSet") => api::apps::v1::ReplicaSet,
        ("apps", "v1", "StatefulSet") => api::apps::v1::StatefulSet,
        ("apps", "v1", "DaemonSet") => api::apps::v1::DaemonSet,
        ("apps", "v1", "ControllerRevision") => api::apps::v1::ControllerRevision,
        ("batch", "v1", "Job") => api::batch::v1::Job,
        ("batch", "v1", "CronJob") => api::batch::v1::CronJob,
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => api::autoscaling::v1::HorizontalPodAutoscaler,
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => api::autoscaling::v2::HorizontalPodAutoscaler,
        ("networking.k8s.io", "v1", "Ingress") => api::networking::v1::Ingress,
        ("networking.k8s.io", "v1", "IngressClass") => api::networking::v1::IngressClass,
        ("networking.k8s.io", "v1", "NetworkPolicy") => api::networking::v1::NetworkPolicy,
        ("discovery.k8s.io", "v1", "EndpointSlice") => api::discovery::v1::EndpointSlice,
        ("events.k8s.io", "v1", "Event") => api::events::v1::Event,
        ("coordination.k8s.io", "v1", "Lease") => api::coordination::v1::Lease,
        ("policy", "v1", "PodDisruptionBudget") => api::policy::v1::PodDisruptionBudget,
        ("rbac.authorization.k8s.io", "v1", "Role") => api::rbac::v1::Role,
        ("rbac.authorization.k8s.io", "v1", "RoleBinding") => api::rbac::v1::RoleBinding,
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => api::rbac::v1::ClusterRole,
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => api::rbac::v1::ClusterRoleBinding,
        ("storage.k8s.io", "v1", "StorageClass") => api::storage::v1::StorageClass,
        ("scheduling.k8s.io", "v1", "PriorityClass") => api::scheduling::v1::PriorityClass,
        ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration") => api::admissionregistration::v1::ValidatingWebhookConfiguration,
        ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration") => api::admissionregistration::v1::MutatingWebhookConfiguration,
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    )
}

/// The API server's message for unknown fields: `unknown field "spec.replica", unknown field "x"`.
pub fn unknown_message(fields: &[String]) -> String {
    fields.iter().map(|f| format!("unknown field \"{f}\"")).collect::<Vec<_>>().join(", ")
}

/// Keeps only the given keys of a map (used to restore server-owned fields after a check).
pub fn retain_keys(map: &mut Map<String, Value>, keys: &[&str]) {
    map.retain(|k, _| keys.contains(&k.as_str()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_found_and_removed() {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replica": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x", "imagee": "y"}]}}}});
        let check = check(&mut d);
        assert_eq!(check, Check::Unknown(vec!["spec.replica".into(), "spec.template.spec.containers[0].imagee".into()]));
        assert!(d["spec"].get("replica").is_none());
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "x");
    }

    #[test]
    fn wrong_types_are_malformed_and_custom_kinds_unchecked() {
        let mut d = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": 1}});
        assert!(matches!(check(&mut d), Check::Malformed(_)));
        let mut w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"anything": 1}});
        assert_eq!(check(&mut w), Check::Unchecked);
        let mut ok = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}}, "data": {"a": "1"}});
        assert_eq!(check(&mut ok), Check::Unknown(vec![]));
    }
}
