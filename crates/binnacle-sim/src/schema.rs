//! Field validation of built-in kinds (`fieldValidation=Strict|Warn|Ignore`): an object is decoded into
//! its k8s-openapi type and encoded again; fields that did not survive are unknown, and a value of the
//! wrong type fails the decode. Custom resources are not checked (their CRDs in the simulator preserve
//! unknown fields). The same table of kinds gives the OpenAPI documents their schemas (`http::openapi`).

use k8s_openapi::api;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

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

/// One built-in kind with a schema: where it is served and the k8s-openapi type behind it. Field
/// validation decodes objects into the type; the OpenAPI documents publish the type's JSON schema.
#[derive(Clone, Copy)]
pub struct TypedKind {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    check: fn(&mut Value) -> Check,
    schema: fn(&mut SchemaGenerator) -> String,
}

impl std::fmt::Debug for TypedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedKind({}/{} {})", self.group, self.version, self.kind)
    }
}

impl TypedKind {
    /// Adds the kind's schema (and every schema it refers to) to the generator's definitions and returns
    /// its definition name, the OpenAPI name such as `io.k8s.api.apps.v1.Deployment`.
    pub fn add_schema(&self, generator: &mut SchemaGenerator) -> String {
        (self.schema)(generator)
    }
}

fn add_schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

const fn typed<T: DeserializeOwned + Serialize + JsonSchema>(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
) -> TypedKind {
    TypedKind { group, version, kind, check: round_trip::<T>, schema: add_schema::<T> }
}

/// The built-in kinds with a schema. Custom resources and the synthetic kinds (reviews, metrics) have none.
pub static TYPED_KINDS: &[TypedKind] = &[
    typed::<api::core::v1::Namespace>("", "v1", "Namespace"),
    typed::<api::core::v1::Node>("", "v1", "Node"),
    typed::<api::core::v1::Pod>("", "v1", "Pod"),
    typed::<api::core::v1::Service>("", "v1", "Service"),
    typed::<api::core::v1::Endpoints>("", "v1", "Endpoints"),
    typed::<api::core::v1::ConfigMap>("", "v1", "ConfigMap"),
    typed::<api::core::v1::Secret>("", "v1", "Secret"),
    typed::<api::core::v1::Event>("", "v1", "Event"),
    typed::<api::core::v1::ServiceAccount>("", "v1", "ServiceAccount"),
    typed::<api::core::v1::PersistentVolumeClaim>("", "v1", "PersistentVolumeClaim"),
    typed::<api::core::v1::PersistentVolume>("", "v1", "PersistentVolume"),
    typed::<api::core::v1::ResourceQuota>("", "v1", "ResourceQuota"),
    typed::<api::core::v1::LimitRange>("", "v1", "LimitRange"),
    typed::<api::core::v1::ReplicationController>("", "v1", "ReplicationController"),
    typed::<api::core::v1::PodTemplate>("", "v1", "PodTemplate"),
    typed::<api::apps::v1::Deployment>("apps", "v1", "Deployment"),
    typed::<api::apps::v1::ReplicaSet>("apps", "v1", "ReplicaSet"),
    typed::<api::apps::v1::StatefulSet>("apps", "v1", "StatefulSet"),
    typed::<api::apps::v1::DaemonSet>("apps", "v1", "DaemonSet"),
    typed::<api::apps::v1::ControllerRevision>("apps", "v1", "ControllerRevision"),
    typed::<api::batch::v1::Job>("batch", "v1", "Job"),
    typed::<api::batch::v1::CronJob>("batch", "v1", "CronJob"),
    typed::<api::autoscaling::v1::HorizontalPodAutoscaler>("autoscaling", "v1", "HorizontalPodAutoscaler"),
    typed::<api::autoscaling::v2::HorizontalPodAutoscaler>("autoscaling", "v2", "HorizontalPodAutoscaler"),
    typed::<api::networking::v1::Ingress>("networking.k8s.io", "v1", "Ingress"),
    typed::<api::networking::v1::IngressClass>("networking.k8s.io", "v1", "IngressClass"),
    typed::<api::networking::v1::NetworkPolicy>("networking.k8s.io", "v1", "NetworkPolicy"),
    typed::<api::discovery::v1::EndpointSlice>("discovery.k8s.io", "v1", "EndpointSlice"),
    typed::<api::events::v1::Event>("events.k8s.io", "v1", "Event"),
    typed::<api::coordination::v1::Lease>("coordination.k8s.io", "v1", "Lease"),
    typed::<api::policy::v1::PodDisruptionBudget>("policy", "v1", "PodDisruptionBudget"),
    typed::<api::rbac::v1::Role>("rbac.authorization.k8s.io", "v1", "Role"),
    typed::<api::rbac::v1::RoleBinding>("rbac.authorization.k8s.io", "v1", "RoleBinding"),
    typed::<api::rbac::v1::ClusterRole>("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    typed::<api::rbac::v1::ClusterRoleBinding>("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    typed::<api::storage::v1::StorageClass>("storage.k8s.io", "v1", "StorageClass"),
    typed::<api::scheduling::v1::PriorityClass>("scheduling.k8s.io", "v1", "PriorityClass"),
    typed::<api::admissionregistration::v1::ValidatingWebhookConfiguration>(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
    ),
    typed::<api::admissionregistration::v1::MutatingWebhookConfiguration>(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
    ),
    typed::<apiextensions::CustomResourceDefinition>("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
];

/// The typed kind served at a group, version and kind.
pub fn typed_kind(group: &str, version: &str, kind: &str) -> Option<&'static TypedKind> {
    TYPED_KINDS.iter().find(|k| k.group == group && k.version == version && k.kind == kind)
}

/// Checks an object against the schema of its apiVersion and kind, removing unknown fields from it.
pub fn check(obj: &mut Value) -> Check {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version.as_str()));
    match typed_kind(group, version, &kind) {
        Some(k) => (k.check)(obj),
        None => Check::Unchecked,
    }
}

/// The API server's message for unknown fields: `unknown field "spec.replica", unknown field "x"`.
pub fn unknown_message(fields: &[String]) -> String {
    fields.iter().map(|f| format!("unknown field \"{f}\"")).collect::<Vec<_>>().join(", ")
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
        assert_eq!(
            check,
            Check::Unknown(vec!["spec.replica".into(), "spec.template.spec.containers[0].imagee".into()])
        );
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
