//! The kinds the snapshot lists, and how: every run, only when served (optional CRDs), or only when the first
//! round of lists shows they are needed.

use crate::At;
use crate::snapshot::Snapshot;
use binnacle_objects::pointer::get_str;
use serde_json::Value;

/// When a kind is listed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum When {
    /// In the first round, every run.
    Always,
    /// In the first round; a 404 (the CRD is not installed) skips it quietly.
    Optional,
    /// In a second round, only when the predicate holds for the first round's snapshot.
    After(fn(&Snapshot) -> bool),
    /// Never by the snapshot; known so that `explain_finding` can read single objects of the kind.
    Explain,
}

/// A kind and how to list it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KindSpec {
    /// The snapshot key (`pods`, `pvcs`, ...).
    pub key: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub when: When,
    /// List `PartialObjectMetadata` only (Secrets: names and labels, never data).
    pub metadata_only: bool,
    /// A field selector for every list (events: warnings only).
    pub field_selector: Option<&'static str>,
}

impl KindSpec {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The collection path, in a namespace or across all of them.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }
}

const fn k(
    key: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    when: When,
) -> KindSpec {
    KindSpec { key, group, version, kind, plural, namespaced, when, metadata_only: false, field_selector: None }
}

use When::{After, Always, Explain, Optional};

/// Every kind, in listing order (the largest lists first, so that they start early).
pub(crate) const KINDS: &[KindSpec] = &[
    k("pods", "", "v1", "Pod", "pods", true, Always),
    KindSpec { field_selector: Some("type=Warning"), ..k("events", "", "v1", "Event", "events", true, Always) },
    k("replicasets", "apps", "v1", "ReplicaSet", "replicasets", true, Always),
    k("endpointslices", "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, Always),
    k("deployments", "apps", "v1", "Deployment", "deployments", true, Always),
    k("services", "", "v1", "Service", "services", true, Always),
    KindSpec { metadata_only: true, ..k("secrets", "", "v1", "Secret", "secrets", true, Always) },
    k("statefulsets", "apps", "v1", "StatefulSet", "statefulsets", true, Always),
    k("daemonsets", "apps", "v1", "DaemonSet", "daemonsets", true, Always),
    k("jobs", "batch", "v1", "Job", "jobs", true, Always),
    k("cronjobs", "batch", "v1", "CronJob", "cronjobs", true, Always),
    k("pvcs", "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, Always),
    k("hpas", "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, Always),
    k("pdbs", "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, Always),
    k("ingresses", "networking.k8s.io", "v1", "Ingress", "ingresses", true, Always),
    k("networkpolicies", "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, Always),
    k("nodes", "", "v1", "Node", "nodes", false, Always),
    k(
        "validatingwebhooks",
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        Always,
    ),
    k(
        "mutatingwebhooks",
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        Always,
    ),
    k("rollouts", "argoproj.io", "v1alpha1", "Rollout", "rollouts", true, Optional),
    k("gateways", "gateway.networking.k8s.io", "v1", "Gateway", "gateways", true, Optional),
    k("storageclasses", "storage.k8s.io", "v1", "StorageClass", "storageclasses", false, After(pvc_pending)),
    k("ingressclasses", "networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, After(any_ingress)),
    k("configmaps", "", "v1", "ConfigMap", "configmaps", true, After(config_error)),
    k("resourcequotas", "", "v1", "ResourceQuota", "resourcequotas", true, After(failed_create)),
    k("limitranges", "", "v1", "LimitRange", "limitranges", true, After(failed_create)),
    k("gatewayclasses", "gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", false, Explain),
];

/// The spec of a kind by its snapshot key.
pub(crate) fn by_key(key: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|s| s.key == key)
}

/// The spec of a kind by its `kind` (case-insensitive).
pub(crate) fn by_kind(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|s| s.kind.eq_ignore_ascii_case(kind))
}

fn pvc_pending(snap: &Snapshot) -> bool {
    snap.list("pvcs").iter().any(|p| get_str(p, "/status/phase") == Some("Pending"))
}

fn any_ingress(snap: &Snapshot) -> bool {
    !snap.list("ingresses").is_empty()
}

fn config_error(snap: &Snapshot) -> bool {
    snap.list("pods").iter().any(|p| {
        crate::snapshot::statuses(p)
            .any(|cs| get_str(cs, "/state/waiting/reason") == Some("CreateContainerConfigError"))
    })
}

fn failed_create(snap: &Snapshot) -> bool {
    let replica_failure = snap.list("replicasets").iter().any(|rs| {
        rs.at("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
            cs.iter().any(|c| get_str(c, "/type") == Some("ReplicaFailure") && get_str(c, "/status") == Some("True"))
        })
    });
    replica_failure || snap.list("events").iter().any(|e| get_str(e, "/reason") == Some("FailedCreate"))
}
