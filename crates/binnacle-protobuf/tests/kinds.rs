//! Encodes objects with the independent k8s-pb/prost bindings, wraps them in the `k8s\0`
//! envelope the way client-go does, and checks the JSON `decode` produces for them.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use binnacle_protobuf::{DecodeError, decode, is_kubernetes_protobuf};
use k8s_pb::Resource;
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::authentication::v1 as authn;
use k8s_pb::api::authorization::v1 as authz;
use k8s_pb::api::autoscaling::v2 as autoscaling;
use k8s_pb::api::batch::v1 as batch;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::networking::v1 as networking;
use k8s_pb::api::policy::v1 as policy;
use k8s_pb::api::rbac::v1 as rbac;
use k8s_pb::api::scheduling::v1 as scheduling;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{Value, json};

/// Wraps an encoded object in the Kubernetes protobuf envelope.
fn envelope(api_version: &str, kind: &str, object: &impl Message) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
        raw: Some(object.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

fn body<T: Message + Resource>(object: &T) -> Vec<u8> {
    envelope(T::API_VERSION, T::KIND, object)
}

fn s(value: &str) -> Option<String> {
    Some(value.to_owned())
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn meta(name: &str, namespace: Option<&str>) -> Option<meta::ObjectMeta> {
    Some(meta::ObjectMeta { name: s(name), namespace: namespace.map(str::to_owned), ..Default::default() })
}

fn quantity(value: &str) -> Quantity {
    Quantity { string: s(value) }
}

fn int_port(value: i32) -> Option<IntOrString> {
    Some(IntOrString { r#type: Some(0), int_val: Some(value), str_val: None })
}

fn str_port(value: &str) -> Option<IntOrString> {
    Some(IntOrString { r#type: Some(1), int_val: None, str_val: s(value) })
}

fn decoded(body: &[u8]) -> Value {
    assert!(is_kubernetes_protobuf(body));
    match decode(body) {
        Ok(value) => value,
        Err(e) => panic!("decode failed: {e}"),
    }
}

#[test]
fn namespace() {
    let ns = core::Namespace {
        metadata: Some(meta::ObjectMeta {
            name: s("team-a"),
            labels: labels(&[("env", "dev")]),
            annotations: labels(&[("owner", "ops")]),
            creation_timestamp: Some(meta::Time { seconds: Some(1_767_366_245), nanos: Some(0) }),
            ..Default::default()
        }),
        spec: Some(core::NamespaceSpec::default()),
        status: None,
    };
    assert_eq!(
        decoded(&body(&ns)),
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {
                "name": "team-a",
                "creationTimestamp": "2026-01-02T15:04:05Z",
                "labels": {"env": "dev"},
                "annotations": {"owner": "ops"}
            },
            "spec": {}
        })
    );
}

#[test]
fn configmap() {
    let cm = core::ConfigMap {
        metadata: meta("settings", Some("default")),
        data: labels(&[("a.txt", "hello"), ("mode", "fast")]),
        binary_data: [("blob".to_owned(), vec![0u8, 1, 2, 255])].into(),
        immutable: None,
    };
    assert_eq!(
        decoded(&body(&cm)),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default"},
            "data": {"a.txt": "hello", "mode": "fast"},
            "binaryData": {"blob": "AAEC/w=="}
        })
    );
}

#[test]
fn secret_bytes_become_base64() {
    let secret = core::Secret {
        metadata: meta("creds", Some("default")),
        immutable: None,
        data: [("password".to_owned(), b"s3cr3t".to_vec()), ("user".to_owned(), b"admin".to_vec())].into(),
        string_data: BTreeMap::new(),
        r#type: s("Opaque"),
    };
    assert_eq!(
        decoded(&body(&secret)),
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "default"},
            "data": {"password": "czNjcjN0", "user": "YWRtaW4="},
            "type": "Opaque"
        })
    );
}

fn nginx_template(app: &str) -> Option<core::PodTemplateSpec> {
    Some(core::PodTemplateSpec {
        metadata: Some(meta::ObjectMeta { labels: labels(&[("app", app)]), ..Default::default() }),
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: s("nginx"),
                image: s("nginx:1.27"),
                command: strings(&["nginx"]),
                args: strings(&["-g", "daemon off;"]),
                ports: vec![core::ContainerPort { container_port: Some(80), protocol: s("TCP"), ..Default::default() }],
                env: vec![core::EnvVar { name: s("MODE"), value: s("prod"), value_from: None }],
                resources: Some(core::ResourceRequirements {
                    limits: [("memory".to_owned(), quantity("128Mi"))].into(),
                    requests: [("cpu".to_owned(), quantity("250m"))].into(),
                    claims: vec![],
                }),
                image_pull_policy: s("IfNotPresent"),
                ..Default::default()
            }],
            volumes: vec![core::Volume {
                name: s("cache"),
                volume_source: Some(core::VolumeSource {
                    empty_dir: Some(core::EmptyDirVolumeSource { medium: None, size_limit: Some(quantity("1Gi")) }),
                    ..Default::default()
                }),
            }],
            ..Default::default()
        }),
    })
}

#[test]
fn deployment() {
    let deployment = apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: s("web"),
            namespace: s("default"),
            labels: labels(&[("app", "web")]),
            ..Default::default()
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(3),
            selector: Some(meta::LabelSelector { match_labels: labels(&[("app", "web")]), match_expressions: vec![] }),
            template: nginx_template("web"),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: str_port("25%"),
                    max_surge: int_port(1),
                }),
            }),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        decoded(&body(&deployment)),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}],
                        "containers": [{
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "command": ["nginx"],
                            "args": ["-g", "daemon off;"],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "MODE", "value": "prod"}],
                            "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "250m"}},
                            "imagePullPolicy": "IfNotPresent"
                        }]
                    }
                },
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}}
            }
        })
    );
}

/// Go's marshaller writes every non-pointer field, zero or not; the JSON must only keep the
/// zeros Go's JSON encoder keeps (pointers, and fields without `omitempty`).
#[test]
fn go_style_zero_fields_follow_json_rules() {
    let deployment = apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: s("zero"),
            generate_name: s(""),
            namespace: s(""),
            self_link: s(""),
            uid: s(""),
            resource_version: s(""),
            generation: Some(0),
            creation_timestamp: Some(meta::Time { seconds: None, nanos: None }),
            ..Default::default()
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector::default()),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta::default()),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: s("c"),
                        image: s("busybox"),
                        working_dir: s(""),
                        resources: Some(core::ResourceRequirements::default()),
                        stdin: Some(false),
                        tty: Some(false),
                        ..Default::default()
                    }],
                    restart_policy: s(""),
                    dns_policy: s(""),
                    host_network: Some(false),
                    automount_service_account_token: Some(false),
                    termination_grace_period_seconds: Some(0),
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy::default()),
            min_ready_seconds: Some(0),
            paused: Some(false),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(0),
            replicas: Some(0),
            ready_replicas: Some(0),
            ..Default::default()
        }),
    };
    assert_eq!(
        decoded(&body(&deployment)),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "zero"},
            "spec": {
                "replicas": 0,
                "selector": {},
                "template": {
                    "metadata": {},
                    "spec": {
                        "containers": [{"name": "c", "image": "busybox", "resources": {}}],
                        "terminationGracePeriodSeconds": 0,
                        "automountServiceAccountToken": false
                    }
                },
                "strategy": {}
            },
            "status": {}
        })
    );
}

#[test]
fn service_ports_int_or_string() {
    let service = core::Service {
        metadata: meta("web", Some("default")),
        spec: Some(core::ServiceSpec {
            ports: vec![
                core::ServicePort {
                    name: s("http"),
                    protocol: s("TCP"),
                    port: Some(80),
                    target_port: int_port(8080),
                    node_port: Some(0),
                    ..Default::default()
                },
                core::ServicePort {
                    name: s("metrics"),
                    protocol: s("TCP"),
                    port: Some(9090),
                    target_port: str_port("metrics"),
                    ..Default::default()
                },
            ],
            selector: labels(&[("app", "web")]),
            cluster_ip: s(""),
            r#type: s("ClusterIP"),
            ..Default::default()
        }),
        status: Some(core::ServiceStatus::default()),
    };
    assert_eq!(
        decoded(&body(&service)),
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "ports": [
                    {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics"}
                ],
                "selector": {"app": "web"},
                "type": "ClusterIP"
            },
            "status": {}
        })
    );
}

fn job_spec() -> Option<batch::JobSpec> {
    Some(batch::JobSpec {
        backoff_limit: Some(0),
        ttl_seconds_after_finished: Some(100),
        template: Some(core::PodTemplateSpec {
            metadata: Some(meta::ObjectMeta::default()),
            spec: Some(core::PodSpec {
                containers: vec![core::Container {
                    name: s("pi"),
                    image: s("perl"),
                    command: strings(&["perl", "-e", "print 1"]),
                    ..Default::default()
                }],
                restart_policy: s("Never"),
                ..Default::default()
            }),
        }),
        ..Default::default()
    })
}

#[test]
fn job() {
    let job = batch::Job { metadata: meta("pi", Some("default")), spec: job_spec(), status: None };
    assert_eq!(
        decoded(&body(&job)),
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default"},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "metadata": {},
                    "spec": {
                        "containers": [{"name": "pi", "image": "perl", "command": ["perl", "-e", "print 1"]}],
                        "restartPolicy": "Never"
                    }
                },
                "ttlSecondsAfterFinished": 100
            }
        })
    );
}

#[test]
fn cronjob() {
    let cronjob = batch::CronJob {
        metadata: meta("nightly", Some("ops")),
        spec: Some(batch::CronJobSpec {
            schedule: s("0 3 * * *"),
            suspend: Some(false),
            job_template: Some(batch::JobTemplateSpec { metadata: meta("nightly", None), spec: job_spec() }),
            ..Default::default()
        }),
        status: None,
    };
    let value = decoded(&body(&cronjob));
    assert_eq!(value["apiVersion"], "batch/v1");
    assert_eq!(value["kind"], "CronJob");
    assert_eq!(value["spec"]["schedule"], "0 3 * * *");
    assert_eq!(value["spec"]["suspend"], false, "suspend is a pointer: false is kept");
    assert_eq!(value["spec"]["jobTemplate"]["metadata"], json!({"name": "nightly"}));
    assert_eq!(value["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"], "Never");
}

#[test]
fn role_and_rolebinding() {
    let role = rbac::Role {
        metadata: meta("reader", Some("default")),
        rules: vec![rbac::PolicyRule {
            verbs: strings(&["get", "list", "watch"]),
            api_groups: strings(&[""]),
            resources: strings(&["pods"]),
            resource_names: vec![],
            non_resource_ur_ls: vec![],
        }],
    };
    assert_eq!(
        decoded(&body(&role)),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader", "namespace": "default"},
            "rules": [{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods"]}]
        })
    );

    let binding = rbac::RoleBinding {
        metadata: meta("read-pods", Some("default")),
        subjects: vec![
            rbac::Subject {
                kind: s("User"),
                api_group: s("rbac.authorization.k8s.io"),
                name: s("jane"),
                namespace: None,
            },
            rbac::Subject { kind: s("ServiceAccount"), api_group: s(""), name: s("bot"), namespace: s("default") },
        ],
        role_ref: Some(rbac::RoleRef { api_group: s("rbac.authorization.k8s.io"), kind: s("Role"), name: s("reader") }),
    };
    assert_eq!(
        decoded(&body(&binding)),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "read-pods", "namespace": "default"},
            "subjects": [
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "jane"},
                {"kind": "ServiceAccount", "name": "bot", "namespace": "default"}
            ],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
        })
    );
}

#[test]
fn cluster_role_non_resource_urls() {
    let role = rbac::ClusterRole {
        metadata: meta("metrics", None),
        rules: vec![rbac::PolicyRule {
            verbs: strings(&["get"]),
            non_resource_ur_ls: strings(&["/metrics"]),
            ..Default::default()
        }],
        aggregation_rule: None,
    };
    assert_eq!(decoded(&body(&role))["rules"], json!([{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]));
}

#[test]
fn serviceaccount() {
    let sa = core::ServiceAccount {
        metadata: meta("bot", Some("default")),
        automount_service_account_token: Some(false),
        ..Default::default()
    };
    assert_eq!(
        decoded(&body(&sa)),
        json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "bot", "namespace": "default"},
            "automountServiceAccountToken": false
        })
    );
}

#[test]
fn self_subject_access_review() {
    let review = authz::SelfSubjectAccessReview {
        metadata: Some(meta::ObjectMeta::default()),
        spec: Some(authz::SelfSubjectAccessReviewSpec {
            resource_attributes: Some(authz::ResourceAttributes {
                namespace: s("default"),
                verb: s("create"),
                group: s("apps"),
                resource: s("deployments"),
                name: s("web"),
                ..Default::default()
            }),
            non_resource_attributes: None,
        }),
        status: Some(authz::SubjectAccessReviewStatus { allowed: Some(false), ..Default::default() }),
    };
    assert_eq!(
        decoded(&body(&review)),
        json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {"resourceAttributes": {
                "namespace": "default", "verb": "create", "group": "apps", "resource": "deployments", "name": "web"
            }},
            "status": {"allowed": false}
        })
    );
}

#[test]
fn self_subject_access_review_non_resource() {
    let review = authz::SelfSubjectAccessReview {
        metadata: None,
        spec: Some(authz::SelfSubjectAccessReviewSpec {
            resource_attributes: None,
            non_resource_attributes: Some(authz::NonResourceAttributes { path: s("/healthz"), verb: s("get") }),
        }),
        status: None,
    };
    assert_eq!(decoded(&body(&review))["spec"], json!({"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}));
}

#[test]
fn self_subject_rules_review() {
    let review = authz::SelfSubjectRulesReview {
        metadata: Some(meta::ObjectMeta::default()),
        spec: Some(authz::SelfSubjectRulesReviewSpec { namespace: s("kube-system") }),
        status: None,
    };
    assert_eq!(
        decoded(&body(&review)),
        json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "metadata": {},
            "spec": {"namespace": "kube-system"}
        })
    );
}

#[test]
fn self_subject_review_with_extra_values() {
    let review = authn::SelfSubjectReview {
        metadata: Some(meta::ObjectMeta::default()),
        status: Some(authn::SelfSubjectReviewStatus {
            user_info: Some(authn::UserInfo {
                username: s("admin"),
                uid: s("u-1"),
                groups: strings(&["system:masters", "system:authenticated"]),
                extra: [("scopes".to_owned(), authn::ExtraValue { items: strings(&["a", "b"]) })].into(),
            }),
        }),
    };
    assert_eq!(
        decoded(&body(&review)),
        json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
            "metadata": {},
            "status": {"userInfo": {
                "username": "admin",
                "uid": "u-1",
                "groups": ["system:masters", "system:authenticated"],
                "extra": {"scopes": ["a", "b"]}
            }}
        })
    );
}

#[test]
fn token_request() {
    let request = authn::TokenRequest {
        metadata: meta("bot", Some("default")),
        spec: Some(authn::TokenRequestSpec {
            audiences: strings(&["https://kubernetes.default.svc"]),
            expiration_seconds: Some(3600),
            bound_object_ref: Some(authn::BoundObjectReference {
                kind: s("Pod"),
                api_version: s("v1"),
                name: s("web-0"),
                u_id: s("1234"),
            }),
        }),
        status: Some(authn::TokenRequestStatus { token: s(""), expiration_timestamp: Some(meta::Time::default()) }),
    };
    assert_eq!(
        decoded(&envelope("authentication.k8s.io/v1", "TokenRequest", &request)),
        json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"name": "bot", "namespace": "default"},
            "spec": {
                "audiences": ["https://kubernetes.default.svc"],
                "expirationSeconds": 3600,
                "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web-0", "uid": "1234"}
            },
            "status": {"token": ""}
        })
    );
}

#[test]
fn eviction_with_delete_options() {
    let eviction = policy::Eviction {
        metadata: meta("web-0", Some("default")),
        delete_options: Some(meta::DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Some(meta::Preconditions { uid: s("abc"), resource_version: None }),
            propagation_policy: s("Background"),
            dry_run: strings(&["All"]),
            ..Default::default()
        }),
    };
    assert_eq!(
        decoded(&envelope("policy/v1", "Eviction", &eviction)),
        json!({
            "apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": "web-0", "namespace": "default"},
            "deleteOptions": {
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "abc"},
                "propagationPolicy": "Background",
                "dryRun": ["All"]
            }
        })
    );
}

#[test]
fn delete_options_in_any_group_version() {
    let options = meta::DeleteOptions { propagation_policy: s("Foreground"), ..Default::default() };
    for api_version in ["v1", "apps/v1", "meta.k8s.io/v1"] {
        assert_eq!(
            decoded(&envelope(api_version, "DeleteOptions", &options)),
            json!({"apiVersion": api_version, "kind": "DeleteOptions", "propagationPolicy": "Foreground"})
        );
    }
}

#[test]
fn horizontal_pod_autoscaler_v2() {
    let hpa = autoscaling::HorizontalPodAutoscaler {
        metadata: meta("web", Some("default")),
        spec: Some(autoscaling::HorizontalPodAutoscalerSpec {
            scale_target_ref: Some(autoscaling::CrossVersionObjectReference {
                kind: s("Deployment"),
                name: s("web"),
                api_version: s("apps/v1"),
            }),
            min_replicas: Some(1),
            max_replicas: Some(5),
            metrics: vec![autoscaling::MetricSpec {
                r#type: s("Resource"),
                resource: Some(autoscaling::ResourceMetricSource {
                    name: s("cpu"),
                    target: Some(autoscaling::MetricTarget {
                        r#type: s("Utilization"),
                        average_utilization: Some(80),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }],
            behavior: None,
        }),
        status: None,
    };
    assert_eq!(
        decoded(&body(&hpa)),
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                "minReplicas": 1,
                "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
            }
        })
    );
}

#[test]
fn horizontal_pod_autoscaler_v1() {
    use k8s_pb::api::autoscaling::v1 as autoscaling_v1;
    let hpa = autoscaling_v1::HorizontalPodAutoscaler {
        metadata: meta("web", Some("default")),
        spec: Some(autoscaling_v1::HorizontalPodAutoscalerSpec {
            scale_target_ref: Some(autoscaling_v1::CrossVersionObjectReference {
                kind: s("Deployment"),
                name: s("web"),
                api_version: s("apps/v1"),
            }),
            min_replicas: Some(2),
            max_replicas: Some(4),
            target_cpu_utilization_percentage: Some(70),
        }),
        status: None,
    };
    assert_eq!(
        decoded(&body(&hpa))["spec"],
        json!({
            "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
            "minReplicas": 2,
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 70
        })
    );
}

#[test]
fn pod_disruption_budget() {
    let pdb = policy::PodDisruptionBudget {
        metadata: meta("web", Some("default")),
        spec: Some(policy::PodDisruptionBudgetSpec {
            min_available: str_port("50%"),
            selector: Some(meta::LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![meta::LabelSelectorRequirement {
                    key: s("app"),
                    operator: s("In"),
                    values: strings(&["web", "api"]),
                }],
            }),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        decoded(&body(&pdb)),
        json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "minAvailable": "50%",
                "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}
            }
        })
    );
}

#[test]
fn ingress() {
    let backend = |name: &str, port: i32| networking::IngressBackend {
        service: Some(networking::IngressServiceBackend {
            name: s(name),
            port: Some(networking::ServiceBackendPort { name: None, number: Some(port) }),
        }),
        resource: None,
    };
    let ingress = networking::Ingress {
        metadata: meta("web", Some("default")),
        spec: Some(networking::IngressSpec {
            ingress_class_name: s("nginx"),
            default_backend: Some(backend("fallback", 8080)),
            tls: vec![networking::IngressTls { hosts: strings(&["example.com"]), secret_name: s("tls") }],
            rules: vec![networking::IngressRule {
                host: s("example.com"),
                ingress_rule_value: Some(networking::IngressRuleValue {
                    http: Some(networking::HttpIngressRuleValue {
                        paths: vec![networking::HttpIngressPath {
                            path: s("/"),
                            path_type: s("Prefix"),
                            backend: Some(backend("web", 80)),
                        }],
                    }),
                }),
            }],
        }),
        status: None,
    };
    assert_eq!(
        decoded(&body(&ingress)),
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "ingressClassName": "nginx",
                "defaultBackend": {"service": {"name": "fallback", "port": {"number": 8080}}},
                "tls": [{"hosts": ["example.com"], "secretName": "tls"}],
                "rules": [{
                    "host": "example.com",
                    "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}
                }]
            }
        })
    );
}

#[test]
fn resource_quota() {
    let quota = core::ResourceQuota {
        metadata: meta("compute", Some("default")),
        spec: Some(core::ResourceQuotaSpec {
            hard: [("pods".to_owned(), quantity("10")), ("requests.cpu".to_owned(), quantity("4"))].into(),
            scopes: strings(&["NotTerminating"]),
            scope_selector: None,
        }),
        status: None,
    };
    assert_eq!(
        decoded(&body(&quota)),
        json!({
            "apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "compute", "namespace": "default"},
            "spec": {"hard": {"pods": "10", "requests.cpu": "4"}, "scopes": ["NotTerminating"]}
        })
    );
}

#[test]
fn priority_class() {
    let class = scheduling::PriorityClass {
        metadata: meta("high", None),
        value: Some(1000),
        global_default: Some(false),
        description: s("important"),
        preemption_policy: s("Never"),
    };
    assert_eq!(
        decoded(&body(&class)),
        json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "high"},
            "value": 1000,
            "description": "important",
            "preemptionPolicy": "Never"
        })
    );
    let zero = scheduling::PriorityClass { metadata: meta("zero", None), value: Some(0), ..Default::default() };
    assert_eq!(decoded(&body(&zero))["value"], 0, "value has no omitempty: a zero is kept");
}

#[test]
fn micro_time_and_raw_extension() {
    let lease = k8s_pb::api::coordination::v1::Lease {
        metadata: meta("leader", Some("kube-system")),
        spec: Some(k8s_pb::api::coordination::v1::LeaseSpec {
            holder_identity: s("node-1"),
            renew_time: Some(meta::MicroTime { seconds: Some(1_767_366_245), nanos: Some(123_456_789) }),
            ..Default::default()
        }),
    };
    assert_eq!(decoded(&body(&lease))["spec"]["renewTime"], "2026-01-02T15:04:05.123456Z");

    let revision = apps::ControllerRevision {
        metadata: meta("web-1", Some("default")),
        data: Some(RawExtension { raw: Some(br#"{"spec":{"replicas":2}}"#.to_vec()) }),
        revision: Some(1),
    };
    assert_eq!(decoded(&body(&revision))["data"], json!({"spec": {"replicas": 2}}));

    let nested = apps::ControllerRevision {
        metadata: meta("web-2", Some("default")),
        data: Some(RawExtension {
            raw: Some(body(&core::ConfigMap { metadata: meta("inner", None), ..Default::default() })),
        }),
        revision: Some(2),
    };
    assert_eq!(
        decoded(&body(&nested))["data"],
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}})
    );
}

#[test]
fn json_content_type_in_envelope() {
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("ConfigMap") }),
        raw: Some(br#"{"metadata":{"name":"x"},"data":{"k":"v"}}"#.to_vec()),
        content_encoding: None,
        content_type: s("application/json"),
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    assert_eq!(
        decoded(&body),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "v"}})
    );
}

#[test]
fn errors() {
    assert!(matches!(decode(br#"{"kind":"Pod"}"#), Err(DecodeError::NotProtobuf)));
    assert!(!is_kubernetes_protobuf(b"k8s"));

    let unknown_kind = envelope("example.com/v1", "Widget", &core::ConfigMap::default());
    match decode(&unknown_kind) {
        Err(DecodeError::UnsupportedKind { api_version, kind }) => {
            assert_eq!((api_version.as_str(), kind.as_str()), ("example.com/v1", "Widget"));
        }
        other => panic!("expected UnsupportedKind, got {other:?}"),
    }

    let gzip = Unknown {
        type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("ConfigMap") }),
        raw: Some(vec![]),
        content_encoding: s("gzip"),
        content_type: None,
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(gzip.encode_to_vec());
    assert!(matches!(decode(&body), Err(DecodeError::Envelope(_))));

    // A string field (ConfigMap.data value) sent as a varint: a wire-type error with its path.
    let raw = [0x12, 0x05, 0x0a, 0x01, b'k', 0x10, 0x01];
    let err = decode(&envelope_raw("v1", "ConfigMap", &raw)).unwrap_err();
    let DecodeError::Message(message) = &err else { panic!("expected a message error, got {err:?}") };
    assert_eq!(message.path, r#"data["k"]"#);
    assert!(err.to_string().contains("v1 ConfigMap"), "{err}");
}

/// An envelope around raw (already encoded) object bytes.
fn envelope_raw(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: s(api_version), kind: s(kind) }),
        raw: Some(raw.to_vec()),
        content_encoding: None,
        content_type: None,
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

#[test]
fn deeply_nested_raw_extensions_are_refused() {
    let mut inner = body(&core::ConfigMap { metadata: meta("leaf", None), ..Default::default() });
    for _ in 0..200 {
        let revision = apps::ControllerRevision {
            metadata: None,
            data: Some(RawExtension { raw: Some(inner) }),
            revision: Some(1),
        };
        inner = body(&revision);
    }
    let err = decode(&inner).unwrap_err();
    assert!(err.to_string().contains("nested more than"), "{err}");
    assert!(err.to_string().len() < 300, "the error stays short: {err}");
}
