//! [`Snapshot`]: one read of the cluster state every analyzer shares.

use crate::FindingsError;
use crate::finding::{EventEvidence, sanitize};
use binnacle_objects::pointer::get_str;
use futures::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, LogParams};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Which namespaces to look at.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Namespaces to read; empty means all. Cluster-scoped kinds (nodes, storage classes) are always read.
    pub namespaces: Vec<String>,
}

impl Scope {
    /// Every namespace.
    pub fn all() -> Self {
        Self::default()
    }

    /// Whether a finding in `namespace` is in scope (cluster-scoped findings always are).
    pub fn includes(&self, namespace: &str) -> bool {
        self.namespaces.is_empty() || namespace.is_empty() || self.namespaces.iter().any(|n| n == namespace)
    }
}

/// A kind the snapshot lists.
#[derive(Debug, Clone, Copy)]
struct KindSpec {
    key: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    optional: bool,
}

const fn k(
    key: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> KindSpec {
    KindSpec { key, group, version, kind, plural, namespaced, optional: false }
}

const KINDS: &[KindSpec] = &[
    k("pods", "", "v1", "Pod", "pods", true),
    k("deployments", "apps", "v1", "Deployment", "deployments", true),
    k("replicasets", "apps", "v1", "ReplicaSet", "replicasets", true),
    k("statefulsets", "apps", "v1", "StatefulSet", "statefulsets", true),
    k("daemonsets", "apps", "v1", "DaemonSet", "daemonsets", true),
    k("jobs", "batch", "v1", "Job", "jobs", true),
    k("cronjobs", "batch", "v1", "CronJob", "cronjobs", true),
    k("services", "", "v1", "Service", "services", true),
    k("endpointslices", "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
    k("pvcs", "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    k("storageclasses", "storage.k8s.io", "v1", "StorageClass", "storageclasses", false),
    k("nodes", "", "v1", "Node", "nodes", false),
    k("events", "", "v1", "Event", "events", true),
    k("configmaps", "", "v1", "ConfigMap", "configmaps", true),
    k("secrets", "", "v1", "Secret", "secrets", true),
    k("hpas", "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
    k("pdbs", "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
    KindSpec { optional: true, ..k("rollouts", "argoproj.io", "v1alpha1", "Rollout", "rollouts", true) },
];

/// How many list (and log) calls run at once.
const CONCURRENCY: usize = 4;
/// How many crash-looping pods get their previous logs read.
const MAX_LOG_READS: usize = 20;
/// Lines read from a crashed container.
const LOG_LINES: i64 = 10;

/// One consistent read of the cluster: each kind listed once, shared by all analyzers.
///
/// Objects are kept as JSON. ConfigMaps and Secrets keep their names and keys only: values are dropped as
/// soon as they are read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    objects: BTreeMap<&'static str, Vec<Value>>,
    /// Last lines of previous containers, by (namespace, pod, container).
    pub previous_logs: HashMap<(String, String, String), Vec<String>>,
    /// Whether Argo Rollouts (`rollouts.argoproj.io`) is served.
    pub rollouts_served: bool,
    /// List calls made.
    pub list_calls: u32,
    /// Log reads made.
    pub log_calls: u32,
}

impl Snapshot {
    /// Builds a snapshot from objects already in hand (tests, fixtures). `key` is a plural such as `pods`.
    pub fn from_objects(objects: impl IntoIterator<Item = (&'static str, Vec<Value>)>) -> Self {
        let mut snap = Self::default();
        for (key, items) in objects {
            let items = items.into_iter().map(|o| strip_values(key, o)).collect();
            snap.objects.insert(key, items);
        }
        snap.rollouts_served = snap.objects.contains_key("rollouts");
        snap
    }

    /// Reads the cluster: lists every kind once (per namespace when scoped), at most four at a time, then reads
    /// the previous logs of crash-looping containers (one pod per owner).
    pub async fn read(client: kube::Client, scope: &Scope) -> Result<Self, FindingsError> {
        let mut jobs: Vec<(KindSpec, Option<String>)> = Vec::new();
        for spec in KINDS {
            if spec.namespaced && !scope.namespaces.is_empty() {
                jobs.extend(scope.namespaces.iter().map(|ns| (*spec, Some(ns.clone()))));
            } else {
                jobs.push((*spec, None));
            }
        }
        let calls = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
        let results: Vec<_> = stream::iter(jobs)
            .map(|(spec, ns)| {
                let client = client.clone();
                async move { (spec, list(client, spec, ns.as_deref()).await) }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut snap = Self { list_calls: calls, ..Self::default() };
        for spec in KINDS {
            snap.objects.entry(spec.key).or_default();
        }
        for (spec, result) in results {
            match result {
                Ok(items) => {
                    if spec.key == "rollouts" {
                        snap.rollouts_served = true;
                    }
                    snap.objects
                        .entry(spec.key)
                        .or_default()
                        .extend(items.into_iter().map(|o| strip_values(spec.key, o)));
                }
                Err(kube::Error::Api(e)) if spec.optional && e.code == 404 => {
                    tracing::debug!(kind = spec.kind, "not served; skipped");
                }
                Err(source) => return Err(FindingsError::List { kind: spec.kind.to_string(), source }),
            }
        }
        snap.read_previous_logs(&client).await;
        Ok(snap)
    }

    async fn read_previous_logs(&mut self, client: &kube::Client) {
        let mut seen_owners = std::collections::HashSet::new();
        let mut targets = Vec::new();
        for pod in self.list("pods") {
            let ns = get_str(pod, "/metadata/namespace").unwrap_or_default().to_string();
            let name = get_str(pod, "/metadata/name").unwrap_or_default().to_string();
            for cs in statuses(pod) {
                if get_str(cs, "/state/waiting/reason") == Some("CrashLoopBackOff") {
                    let owner = self.owner_of(pod);
                    if seen_owners.insert((owner, get_str(cs, "/name").unwrap_or_default().to_string())) {
                        targets.push((ns.clone(), name.clone(), get_str(cs, "/name").unwrap_or_default().to_string()));
                    }
                }
            }
        }
        targets.truncate(MAX_LOG_READS);
        self.log_calls = u32::try_from(targets.len()).unwrap_or(u32::MAX);
        let logs: Vec<_> = stream::iter(targets)
            .map(|(ns, pod, container)| {
                let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
                async move {
                    let params = LogParams {
                        container: Some(container.clone()),
                        previous: true,
                        tail_lines: Some(LOG_LINES),
                        ..LogParams::default()
                    };
                    let result = api.logs(&pod, &params).await;
                    ((ns, pod, container), result)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (key, result) in logs {
            match result {
                Ok(text) => {
                    let lines = text.lines().map(sanitize).filter(|l| !l.is_empty()).collect();
                    self.previous_logs.insert(key, lines);
                }
                Err(e) => tracing::debug!(pod = %key.1, error = %e, "previous logs unavailable"),
            }
        }
    }

    /// The objects of a kind, by plural key (`pods`, `deployments`, `pvcs`, `hpas`, `pdbs`, `rollouts`, ...).
    pub fn list(&self, key: &str) -> &[Value] {
        self.objects.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// Finds an object of a kind by namespace and name.
    pub fn get(&self, key: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.list(key).iter().find(|o| ns_of(o) == namespace && name_of(o) == name)
    }

    /// Events about an object, merged by reason and message (counts summed), most frequent first.
    pub fn events_for(&self, kind: &str, namespace: &str, name: &str) -> Vec<EventEvidence> {
        let mut merged: Vec<EventEvidence> = Vec::new();
        for e in self.list("events") {
            if get_str(e, "/involvedObject/kind") != Some(kind)
                || get_str(e, "/involvedObject/name") != Some(name)
                || get_str(e, "/involvedObject/namespace").unwrap_or_default() != namespace
            {
                continue;
            }
            let reason = get_str(e, "/reason").unwrap_or_default().to_string();
            let message = sanitize(get_str(e, "/message").unwrap_or_default());
            let count = e.pointer("/count").and_then(Value::as_i64).unwrap_or(1).max(1);
            match merged.iter_mut().find(|m| m.reason == reason && m.message == message) {
                Some(m) => m.count += count,
                None => merged.push(EventEvidence { reason, message, count }),
            }
        }
        merged.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        merged
    }

    /// The workload that owns a pod, as `(kind, name)`: a ReplicaSet is followed to its Deployment; a pod with no
    /// controller owns itself.
    pub fn owner_of(&self, pod: &Value) -> (String, String) {
        let ns = ns_of(pod);
        let Some((kind, name)) = controller(pod) else { return ("Pod".into(), name_of(pod).into()) };
        if kind == "ReplicaSet"
            && let Some(rs) = self.get("replicasets", ns, name)
            && let Some((k2, n2)) = controller(rs)
        {
            return (k2.to_string(), n2.to_string());
        }
        (kind.to_string(), name.to_string())
    }
}

/// The controller owner reference of an object, as `(kind, name)`.
pub fn controller(obj: &Value) -> Option<(&str, &str)> {
    obj.pointer("/metadata/ownerReferences")?.as_array()?.iter().find_map(|r| {
        (r.get("controller").and_then(Value::as_bool) == Some(true))
            .then(|| Some((get_str(r, "/kind")?, get_str(r, "/name")?)))
            .flatten()
    })
}

/// An object's namespace ("" when cluster-scoped).
pub fn ns_of(obj: &Value) -> &str {
    get_str(obj, "/metadata/namespace").unwrap_or_default()
}

/// An object's name.
pub fn name_of(obj: &Value) -> &str {
    get_str(obj, "/metadata/name").unwrap_or_default()
}

/// A pod's container statuses (init containers first).
pub fn statuses(pod: &Value) -> impl Iterator<Item = &Value> {
    ["/status/initContainerStatuses", "/status/containerStatuses"]
        .into_iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
}

/// Drops values of Secrets and ConfigMaps, keeping only their keys (as `null` values), plus managed fields and
/// the last-applied annotation (which would repeat the values).
fn strip_values(key: &str, mut obj: Value) -> Value {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    if matches!(key, "secrets" | "configmaps") {
        for field in ["data", "binaryData", "stringData"] {
            if let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) {
                for v in map.values_mut() {
                    *v = Value::Null;
                }
            }
        }
    }
    obj
}

async fn list(client: kube::Client, spec: KindSpec, ns: Option<&str>) -> Result<Vec<Value>, kube::Error> {
    let ar = ApiResource {
        group: spec.group.into(),
        version: spec.version.into(),
        api_version: if spec.group.is_empty() {
            spec.version.into()
        } else {
            format!("{}/{}", spec.group, spec.version)
        },
        kind: spec.kind.into(),
        plural: spec.plural.into(),
    };
    let api: Api<DynamicObject> = match ns {
        Some(ns) if spec.namespaced => Api::namespaced_with(client, ns, &ar),
        _ => Api::all_with(client, &ar),
    };
    let list = api.list(&ListParams::default()).await?;
    let mut out = Vec::with_capacity(list.items.len());
    for mut item in list.items {
        if spec.kind == "Secret" || spec.kind == "ConfigMap" {
            // Keep keys, never values.
            for field in ["data", "binaryData", "stringData"] {
                if let Some(map) = item.data.get_mut(field).and_then(Value::as_object_mut) {
                    map.values_mut().for_each(|v| *v = Value::Null);
                }
            }
        }
        let mut value = serde_json::to_value(&item).unwrap_or(Value::Null);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("kind".into(), Value::String(spec.kind.into()));
            obj.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
        }
        out.push(value);
    }
    Ok(out)
}
