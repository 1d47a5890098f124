//! The resource registry: one table of every kind the simulator serves. Discovery, routing, Tables,
//! OpenAPI and field selectors are all generated from it. Built-in kinds are fixed; CustomResourceDefinitions
//! add entries while the server runs.

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Where a resource's objects live in the store: `(group, plural)`. Several served versions of one resource
/// share a storage key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey {
    /// API group, `""` for core.
    pub group: String,
    /// Plural resource name.
    pub plural: String,
}

impl StorageKey {
    /// Builds a key.
    pub fn new(group: &str, plural: &str) -> Self {
        Self { group: group.to_string(), plural: plural.to_string() }
    }
}

/// How `kubectl get` columns are produced for a resource.
#[derive(Debug, Clone)]
pub enum Printer {
    /// The built-in printer for the kind (see `binnacle_objects::table`).
    Builtin,
    /// A CRD's `additionalPrinterColumns`.
    Custom(Vec<Value>),
}

/// The scale subresource of a custom resource (`spec.replicas` style JSON paths).
#[derive(Debug, Clone)]
pub struct ScalePaths {
    /// e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// e.g. `.status.replicas`.
    pub status_replicas: String,
    /// e.g. `.status.selector`.
    pub label_selector: Option<String>,
}

/// One served resource at one group/version.
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// API group (`""` for core).
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Plural resource name, e.g. `deployments`.
    pub plural: String,
    /// Singular name, e.g. `deployment`.
    pub singular: String,
    /// Short names, e.g. `deploy`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Supported verbs.
    pub verbs: Vec<String>,
    /// Subresources served (`status`, `scale`, `log`, `eviction`, `exec`, ...).
    pub subresources: Vec<String>,
    /// Table printer.
    pub printer: Printer,
    /// Scale subresource paths for custom resources (built-in scalable kinds use `spec.replicas`).
    pub scale: Option<ScalePaths>,
    /// The storage key.
    pub storage: StorageKey,
    /// True for custom resources.
    pub custom: bool,
    /// Whether the resource is served for reads only (synthetic resources like metrics).
    pub read_only: bool,
}

impl ResourceType {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// Whether a subresource is served.
    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.iter().any(|s| s == sub)
    }

    /// Whether writes to the main resource ignore `.status` (kinds with a status subresource).
    pub fn has_status(&self) -> bool {
        self.has_subresource("status")
    }

    /// The `List` kind, e.g. `DeploymentList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

const ALL_VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

struct Def {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    short: &'static [&'static str],
    cats: &'static [&'static str],
    namespaced: bool,
    subs: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
const fn def(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    short: &'static [&'static str],
    cats: &'static [&'static str],
    namespaced: bool,
    subs: &'static [&'static str],
) -> Def {
    Def { group, version, kind, plural, short, cats, namespaced, subs }
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];

/// The built-in kinds, in discovery order.
const BUILTINS: &[Def] = &[
    def("", "v1", "Namespace", "namespaces", &["ns"], NONE, false, &["status", "finalize"]),
    def("", "v1", "Node", "nodes", &["no"], NONE, false, &["status", "proxy"]),
    def(
        "",
        "v1",
        "Pod",
        "pods",
        &["po"],
        ALL,
        true,
        &["status", "log", "eviction", "exec", "binding", "ephemeralcontainers"],
    ),
    def("", "v1", "Service", "services", &["svc"], ALL, true, &["status"]),
    def("", "v1", "Endpoints", "endpoints", &["ep"], NONE, true, NONE),
    def("", "v1", "ConfigMap", "configmaps", &["cm"], NONE, true, NONE),
    def("", "v1", "Secret", "secrets", NONE, NONE, true, NONE),
    def("", "v1", "Event", "events", &["ev"], NONE, true, NONE),
    def("", "v1", "ServiceAccount", "serviceaccounts", &["sa"], NONE, true, &["token"]),
    def("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", &["pvc"], NONE, true, &["status"]),
    def("", "v1", "PersistentVolume", "persistentvolumes", &["pv"], NONE, false, &["status"]),
    def("", "v1", "ResourceQuota", "resourcequotas", &["quota"], NONE, true, &["status"]),
    def("", "v1", "LimitRange", "limitranges", &["limits"], NONE, true, NONE),
    def("", "v1", "ReplicationController", "replicationcontrollers", &["rc"], ALL, true, &["status", "scale"]),
    def("", "v1", "PodTemplate", "podtemplates", NONE, NONE, true, NONE),
    def("apps", "v1", "Deployment", "deployments", &["deploy"], ALL, true, &["status", "scale"]),
    def("apps", "v1", "ReplicaSet", "replicasets", &["rs"], ALL, true, &["status", "scale"]),
    def("apps", "v1", "StatefulSet", "statefulsets", &["sts"], ALL, true, &["status", "scale"]),
    def("apps", "v1", "DaemonSet", "daemonsets", &["ds"], ALL, true, &["status"]),
    def("apps", "v1", "ControllerRevision", "controllerrevisions", NONE, NONE, true, NONE),
    def("batch", "v1", "Job", "jobs", NONE, ALL, true, &["status"]),
    def("batch", "v1", "CronJob", "cronjobs", &["cj"], ALL, true, &["status"]),
    def("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", &["hpa"], ALL, true, &["status"]),
    def("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", &["hpa"], ALL, true, &["status"]),
    def("networking.k8s.io", "v1", "Ingress", "ingresses", &["ing"], NONE, true, &["status"]),
    def("networking.k8s.io", "v1", "IngressClass", "ingressclasses", NONE, NONE, false, NONE),
    def("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", &["netpol"], NONE, true, NONE),
    def("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", NONE, NONE, true, NONE),
    def("events.k8s.io", "v1", "Event", "events", &["ev"], NONE, true, NONE),
    def("coordination.k8s.io", "v1", "Lease", "leases", NONE, NONE, true, NONE),
    def("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", &["pdb"], NONE, true, &["status"]),
    def("rbac.authorization.k8s.io", "v1", "Role", "roles", NONE, NONE, true, NONE),
    def("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", NONE, NONE, true, NONE),
    def("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", NONE, NONE, false, NONE),
    def("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", NONE, NONE, false, NONE),
    def("storage.k8s.io", "v1", "StorageClass", "storageclasses", &["sc"], NONE, false, NONE),
    def("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", &["pc"], NONE, false, NONE),
    def(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        NONE,
        NONE,
        false,
        NONE,
    ),
    def(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        NONE,
        NONE,
        false,
        NONE,
    ),
    def(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        &["crd", "crds"],
        NONE,
        false,
        &["status"],
    ),
    def("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", NONE, NONE, false, NONE),
    def("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", NONE, NONE, false, NONE),
    def("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", NONE, NONE, false, NONE),
    def("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", NONE, NONE, true, NONE),
    def("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", NONE, NONE, false, NONE),
];

/// Kinds that only accept `create` (review requests).
fn create_only(kind: &str) -> bool {
    matches!(kind, "SelfSubjectAccessReview" | "SelfSubjectRulesReview" | "SelfSubjectReview")
}

fn builtin(d: &Def) -> ResourceType {
    let metrics = d.group == "metrics.k8s.io";
    let verbs: Vec<String> = if create_only(d.kind) {
        vec!["create".into()]
    } else if metrics {
        vec!["get".into(), "list".into()]
    } else {
        ALL_VERBS.iter().map(|v| v.to_string()).collect()
    };
    // events.k8s.io Events are stored with core Events and converted on the way in and out.
    let storage_group = if d.group == "events.k8s.io" { "" } else { d.group };
    let storage_plural = if metrics { format!("{}.metrics", d.plural) } else { d.plural.to_string() };
    ResourceType {
        group: d.group.into(),
        version: d.version.into(),
        kind: d.kind.into(),
        plural: d.plural.into(),
        singular: d.kind.to_lowercase(),
        short_names: d.short.iter().map(|s| s.to_string()).collect(),
        categories: d.cats.iter().map(|s| s.to_string()).collect(),
        namespaced: d.namespaced,
        verbs,
        subresources: d.subs.iter().map(|s| s.to_string()).collect(),
        printer: Printer::Builtin,
        scale: None,
        storage: StorageKey { group: storage_group.to_string(), plural: storage_plural },
        custom: false,
        read_only: metrics,
    }
}

/// The registry of served resources, shared by the API server and controllers.
#[derive(Debug)]
pub struct Registry {
    inner: RwLock<RegistryInner>,
}

#[derive(Debug, Default)]
struct RegistryInner {
    builtins: Vec<Arc<ResourceType>>,
    /// Custom resources by CRD name (`rollouts.argoproj.io`), one entry per served version.
    custom: BTreeMap<String, Vec<Arc<ResourceType>>>,
    generation: u64,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry with the built-in kinds.
    pub fn new() -> Self {
        let builtins = BUILTINS.iter().map(|d| Arc::new(builtin(d))).collect();
        Self { inner: RwLock::new(RegistryInner { builtins, custom: BTreeMap::new(), generation: 1 }) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, RegistryInner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Every served resource, built-ins first, in discovery order.
    pub fn all(&self) -> Vec<Arc<ResourceType>> {
        let inner = self.read();
        inner.builtins.iter().cloned().chain(inner.custom.values().flatten().cloned()).collect()
    }

    /// A counter that changes whenever the set of served resources changes (used for discovery/OpenAPI hashes).
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Looks up a resource by group, version and plural.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.all().into_iter().find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// The preferred (first listed) version of a resource by group and plural.
    pub fn preferred(&self, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.all().into_iter().find(|r| r.group == group && r.plural == plural)
    }

    /// The preferred resource for a kind in a group (used to follow ownerReferences and involvedObjects).
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<Arc<ResourceType>> {
        self.all().into_iter().find(|r| r.group == group && r.kind == kind)
    }

    /// Resources served under one group/version.
    pub fn group_version(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        self.all().into_iter().filter(|r| r.group == group && r.version == version).collect()
    }

    /// Groups with their versions in preference order (core group excluded).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for r in self.all() {
            if r.group.is_empty() {
                continue;
            }
            match groups.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, versions)) => {
                    if !versions.contains(&r.version) {
                        versions.push(r.version.clone());
                    }
                }
                None => groups.push((r.group.clone(), vec![r.version.clone()])),
            }
        }
        groups
    }

    /// Registers (or re-registers) the custom resource a CRD object defines. Returns the served types.
    pub fn register_crd(&self, crd: &Value) -> Vec<Arc<ResourceType>> {
        let Some(types) = crd_types(crd) else { return Vec::new() };
        let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.custom.insert(name, types.clone());
        inner.generation += 1;
        types
    }

    /// Removes a CRD's resources.
    pub fn unregister_crd(&self, crd_name: &str) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if inner.custom.remove(crd_name).is_some() {
            inner.generation += 1;
        }
    }
}

/// The resource types a CRD serves, in its version order with the storage version's key.
fn crd_types(crd: &Value) -> Option<Vec<Arc<ResourceType>>> {
    let spec = crd.get("spec")?;
    let group = spec.get("group")?.as_str()?;
    let names = spec.get("names")?;
    let plural = names.get("plural")?.as_str()?;
    let kind = names.get("kind")?.as_str()?;
    let singular =
        names.get("singular").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| kind.to_lowercase());
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let short_names = strings(names.get("shortNames"));
    let categories = strings(names.get("categories"));
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let versions = spec.get("versions")?.as_array()?;
    let mut out = Vec::new();
    for v in versions {
        if v.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let Some(version) = v.get("name").and_then(Value::as_str) else { continue };
        let mut subresources = Vec::new();
        let subs = v.get("subresources");
        if subs.and_then(|s| s.get("status")).is_some() {
            subresources.push("status".to_string());
        }
        let scale = subs.and_then(|s| s.get("scale")).map(|s| ScalePaths {
            spec_replicas: s.get("specReplicasPath").and_then(Value::as_str).unwrap_or(".spec.replicas").to_string(),
            status_replicas: s
                .get("statusReplicasPath")
                .and_then(Value::as_str)
                .unwrap_or(".status.replicas")
                .to_string(),
            label_selector: s.get("labelSelectorPath").and_then(Value::as_str).map(str::to_string),
        });
        if scale.is_some() {
            subresources.push("scale".to_string());
        }
        let columns = v.get("additionalPrinterColumns").and_then(Value::as_array).cloned().unwrap_or_default();
        out.push(Arc::new(ResourceType {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: singular.clone(),
            short_names: short_names.clone(),
            categories: categories.clone(),
            namespaced,
            verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
            subresources,
            printer: Printer::Custom(columns),
            scale,
            storage: StorageKey::new(group, plural),
            custom: true,
            read_only: false,
        }));
    }
    if out.is_empty() { None } else { Some(out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crds_register_and_unregister() {
        let reg = Registry::new();
        let before = reg.generation();
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size"}}}]}
        });
        let types = reg.register_crd(&crd);
        assert_eq!(types.len(), 1);
        assert!(reg.get("example.com", "v1", "widgets").is_some_and(|r| r.has_status() && r.scale.is_some()));
        assert!(reg.generation() > before);
        reg.unregister_crd("widgets.example.com");
        assert!(reg.get("example.com", "v1", "widgets").is_none());
    }

    #[test]
    fn events_share_storage() {
        let reg = Registry::new();
        let core = reg.get("", "v1", "events").expect("core events");
        let new = reg.get("events.k8s.io", "v1", "events").expect("events.k8s.io");
        assert_eq!(core.storage, new.storage);
    }
}
