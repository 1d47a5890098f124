//! [`Snapshot`]: one read of the cluster state every analyzer shares, indexed for the lookups analyzers make
//! (by name, pods by namespace, label and owner, events by involved object, EndpointSlices by Service).
//!
//! Reading costs one paged list per kind (per namespace when scoped): a first round of the kinds every run
//! needs, then a second round of kinds only some findings need (StorageClasses when a claim is Pending,
//! IngressClasses when there are Ingresses, ConfigMaps when a container has a config error, ResourceQuotas
//! and LimitRanges when a controller failed to create pods). Events are listed as warnings only; Secrets as
//! metadata only (names and labels: their data is never read).

use crate::At;
use crate::FindingsError;
use crate::finding::{EventEvidence, sanitize};
use crate::kinds::{KINDS, KindSpec, When};
use binnacle_objects::pointer::get_str;
use binnacle_objects::selector::{LabelSelector, Requirement};
use futures::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which namespaces to look at, and how to read them.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Namespaces to read; empty means all. Cluster-scoped kinds (nodes, webhooks, classes) are always read.
    pub namespaces: Vec<String>,
    /// Items per list page (default [`PAGE_SIZE`]).
    pub page_size: Option<u32>,
}

impl Scope {
    /// Every namespace.
    pub fn all() -> Self {
        Self::default()
    }

    /// These namespaces only.
    pub fn namespaces(namespaces: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { namespaces: namespaces.into_iter().map(Into::into).collect(), page_size: None }
    }

    /// Whether a finding in `namespace` is in scope (cluster-scoped findings always are).
    pub fn includes(&self, namespace: &str) -> bool {
        self.namespaces.is_empty() || namespace.is_empty() || self.namespaces.iter().any(|n| n == namespace)
    }
}

/// Items per list page: 5,000 pods are read in 5 calls, which keeps a full run under 30 list calls.
pub const PAGE_SIZE: u32 = 1000;
/// How many list (and log) calls run at once.
const CONCURRENCY: usize = 4;
/// How many crash-looping pods get their previous logs read.
const MAX_LOG_READS: usize = 20;
/// Lines read from a crashed container.
const LOG_LINES: i64 = 10;
/// A list stops after this many pages (a server that keeps answering `continue` must not loop us forever).
const MAX_PAGES: u32 = 1000;

/// One consistent read of the cluster: each kind listed once, shared by all analyzers.
///
/// Objects are kept as JSON, without managed fields. Secrets are read as metadata only; ConfigMaps keep
/// their keys, never their values.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    objects: BTreeMap<&'static str, Vec<Value>>,
    index: Index,
    served: BTreeSet<&'static str>,
    namespaces: Vec<String>,
    /// Last lines of previous containers, by (namespace, pod, container).
    pub previous_logs: HashMap<(String, String, String), Vec<String>>,
    /// Kinds that could not be read (`"secrets: forbidden"`): their analyzers saw nothing.
    pub skipped: Vec<String>,
    /// List calls made (one per page).
    pub list_calls: u32,
    /// Log reads made.
    pub log_calls: u32,
}

/// Lookup tables over the objects (positions in the kind's list).
#[derive(Debug, Clone, Default)]
struct Index {
    /// kind key → `ns/name` → position.
    by_name: HashMap<&'static str, HashMap<String, usize>>,
    /// `kind/ns/name` of the involved object → positions in `events`.
    events: HashMap<String, Vec<usize>>,
    /// namespace → positions in `pods`.
    pods_by_ns: HashMap<String, Vec<usize>>,
    /// `ns/key=value` → positions in `pods`.
    pods_by_label: HashMap<String, Vec<usize>>,
    /// kind key → `ns/ownerKind/ownerName` (controller) → positions.
    by_owner: HashMap<&'static str, HashMap<String, Vec<usize>>>,
    /// `ns/service` → positions in `endpointslices`.
    slices: HashMap<String, Vec<usize>>,
    /// Positions in `pods` of pods that are not plainly healthy (see [`Snapshot::troubled_pods`]).
    troubled: Vec<usize>,
}

fn key2(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len() + 1);
    s.push_str(a);
    s.push('/');
    s.push_str(b);
    s
}

fn key3(a: &str, b: &str, c: &str) -> String {
    let mut s = key2(a, b);
    s.push('/');
    s.push_str(c);
    s
}

/// Kinds whose objects are indexed by their controller.
const OWNED: &[&str] = &["pods", "replicasets", "jobs"];

impl Snapshot {
    /// Builds a snapshot from objects already in hand (tests, fixtures). `key` is a snapshot key such as `pods`
    /// (see the kinds table); every optional kind given counts as served.
    pub fn from_objects(objects: impl IntoIterator<Item = (&'static str, Vec<Value>)>) -> Self {
        let mut snap = Self::default();
        for (key, items) in objects {
            let items = items.into_iter().map(|o| strip_values(key, o)).collect();
            snap.objects.insert(key, items);
            snap.served.insert(key);
        }
        snap.reindex();
        snap
    }

    /// Reads the cluster: lists every kind once (per namespace when scoped), at most four kinds at a time and
    /// page by page, then the kinds the first round shows are needed, then the previous logs of crash-looping
    /// containers (one pod per owner).
    pub async fn read(client: kube::Client, scope: &Scope) -> Result<Self, FindingsError> {
        let mut snap = Self { namespaces: scope.namespaces.clone(), ..Self::default() };
        let calls = Arc::new(AtomicU32::new(0));
        let first: Vec<&KindSpec> = KINDS.iter().filter(|s| matches!(s.when, When::Always | When::Optional)).collect();
        snap.fetch(&client, scope, &first, &calls).await?;
        snap.reindex();
        let second: Vec<&KindSpec> =
            KINDS.iter().filter(|s| matches!(s.when, When::After(needed) if needed(&snap))).collect();
        if !second.is_empty() {
            snap.fetch(&client, scope, &second, &calls).await?;
            snap.reindex();
        }
        snap.list_calls = calls.load(Ordering::Relaxed);
        snap.read_previous_logs(&client).await;
        Ok(snap)
    }

    async fn fetch(
        &mut self,
        client: &kube::Client,
        scope: &Scope,
        specs: &[&'static KindSpec],
        calls: &Arc<AtomicU32>,
    ) -> Result<(), FindingsError> {
        let page_size = scope.page_size.unwrap_or(PAGE_SIZE).max(1);
        let jobs: Vec<(KindSpec, Vec<Option<String>>)> = specs
            .iter()
            .map(|spec| {
                let namespaces = if spec.namespaced && !scope.namespaces.is_empty() {
                    scope.namespaces.iter().cloned().map(Some).collect()
                } else {
                    vec![None]
                };
                (**spec, namespaces)
            })
            .collect();
        let results: Vec<(KindSpec, Result<Vec<Value>, kube::Error>)> = stream::iter(jobs)
            .map(|(spec, namespaces)| {
                let client = client.clone();
                let calls = calls.clone();
                async move {
                    let mut items = Vec::new();
                    for ns in namespaces {
                        match list_paged(&client, &spec, ns.as_deref(), page_size, &calls).await {
                            Ok(mut more) => items.append(&mut more),
                            // A CRD that is not installed answers 404 in every namespace: ask once.
                            Err(e) => return (spec, Err(e)),
                        }
                    }
                    (spec, Ok(items))
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (spec, result) in results {
            let entry = self.objects.entry(spec.key).or_default();
            match result {
                Ok(items) => {
                    self.served.insert(spec.key);
                    entry.extend(items);
                }
                Err(kube::Error::Api(e)) if matches!(spec.when, When::Optional) && e.code == 404 => {
                    tracing::debug!(kind = spec.kind, "not served; skipped");
                }
                Err(kube::Error::Api(e)) if e.code == 403 && spec.key != "pods" => {
                    tracing::debug!(kind = spec.kind, "forbidden; skipped");
                    self.skipped.push(format!("{}: forbidden ({})", spec.plural, sanitize(&e.message)));
                }
                Err(source) => return Err(FindingsError::List { kind: spec.kind.to_string(), source }),
            }
        }
        Ok(())
    }

    fn reindex(&mut self) {
        let mut index = Index::default();
        for (key, items) in &self.objects {
            let names = index.by_name.entry(key).or_default();
            names.reserve(items.len());
            for (i, o) in items.iter().enumerate() {
                names.insert(key2(ns_of(o), name_of(o)), i);
            }
            if OWNED.contains(key) {
                let owners = index.by_owner.entry(key).or_default();
                for (i, o) in items.iter().enumerate() {
                    if let Some((kind, name)) = controller(o) {
                        owners.entry(key3(ns_of(o), kind, name)).or_default().push(i);
                    }
                }
            }
        }
        for (i, e) in self.list("events").iter().enumerate() {
            let kind = get_str(e, "/involvedObject/kind").unwrap_or_default();
            let ns = get_str(e, "/involvedObject/namespace").unwrap_or_default();
            let name = get_str(e, "/involvedObject/name").unwrap_or_default();
            index.events.entry(key3(kind, ns, name)).or_default().push(i);
        }
        for (i, p) in self.list("pods").iter().enumerate() {
            let ns = ns_of(p);
            index.pods_by_ns.entry(ns.to_string()).or_default().push(i);
            if let Some(labels) = p.at("/metadata/labels").and_then(Value::as_object) {
                for (k, v) in labels {
                    if let Some(v) = v.as_str() {
                        index.pods_by_label.entry(format!("{ns}/{k}={v}")).or_default().push(i);
                    }
                }
            }
        }
        for (i, p) in self.list("pods").iter().enumerate() {
            let ns = ns_of(p);
            if !plainly_healthy(p) || index.events.contains_key(&key3("Pod", ns, name_of(p))) {
                index.troubled.push(i);
            }
        }
        for (i, s) in self.list("endpointslices").iter().enumerate() {
            if let Some(svc) = get_str(s, "/metadata/labels/kubernetes.io~1service-name") {
                index.slices.entry(key2(ns_of(s), svc)).or_default().push(i);
            }
        }
        self.index = index;
    }

    async fn read_previous_logs(&mut self, client: &kube::Client) {
        let mut seen_owners = HashSet::new();
        let mut targets = Vec::new();
        for pod in self.list("pods") {
            for cs in statuses(pod) {
                if get_str(cs, "/state/waiting/reason") == Some("CrashLoopBackOff") {
                    let container = get_str(cs, "/name").unwrap_or_default().to_string();
                    if seen_owners.insert((ns_of(pod).to_string(), self.owner_of(pod), container.clone())) {
                        targets.push((ns_of(pod).to_string(), name_of(pod).to_string(), container));
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

    /// The objects of a kind, by snapshot key (`pods`, `deployments`, `pvcs`, `hpas`, `pdbs`, `rollouts`, ...).
    pub fn list(&self, key: &str) -> &[Value] {
        self.objects.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether a kind was read: always for the kinds every run lists, only when installed for optional CRDs
    /// (`rollouts`, `gateways`), only when needed for second-round kinds.
    pub fn is_served(&self, key: &str) -> bool {
        self.served.contains(key)
    }

    /// Whether objects of `namespace` were read (every namespace when the run was not scoped).
    pub fn namespace_read(&self, namespace: &str) -> bool {
        self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == namespace)
    }

    /// Finds an object of a kind by namespace and name.
    pub fn get(&self, key: &str, namespace: &str, name: &str) -> Option<&Value> {
        let i = *self.index.by_name.get(key)?.get(&key2(namespace, name))?;
        self.list(key).get(i)
    }

    /// Warning events about an object, merged by reason and message (counts summed), most frequent first.
    pub fn events_for(&self, kind: &str, namespace: &str, name: &str) -> Vec<EventEvidence> {
        let mut merged: Vec<EventEvidence> = Vec::new();
        let events = self.list("events");
        for &i in self.index.events.get(&key3(kind, namespace, name)).into_iter().flatten() {
            let Some(e) = events.get(i) else { continue };
            let reason = get_str(e, "/reason").unwrap_or_default().to_string();
            let message = sanitize(get_str(e, "/message").unwrap_or_default());
            let count = e.at("/count").and_then(Value::as_i64).unwrap_or(1).max(1);
            match merged.iter_mut().find(|m| m.reason == reason && m.message == message) {
                Some(m) => m.count += count,
                None => merged.push(EventEvidence { reason, message, count }),
            }
        }
        merged.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        merged
    }

    /// Pods that are not plainly healthy: not Running (or Succeeded), not Ready, with a container that waits,
    /// terminated or restarted, or with warning events. Pod-level analyzers look at these only.
    pub fn troubled_pods(&self) -> impl Iterator<Item = &Value> {
        let pods = self.list("pods");
        self.index.troubled.iter().filter_map(move |&i| pods.get(i))
    }

    /// The pods of a namespace.
    pub fn pods_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a Value> + 'a {
        let pods = self.list("pods");
        self.index.pods_by_ns.get(namespace).into_iter().flatten().filter_map(move |&i| pods.get(i))
    }

    /// The pods of a namespace a selector matches (an empty selector matches every pod of the namespace).
    /// Looks candidates up by the selector's first `key=value` requirement, when it has one.
    pub fn pods_matching<'a>(&'a self, namespace: &str, selector: &LabelSelector) -> Vec<&'a Value> {
        let first_equal = selector.requirements.iter().find_map(|r| match r {
            Requirement::Equals(k, v) => Some(format!("{namespace}/{k}={v}")),
            _ => None,
        });
        match first_equal {
            Some(key) => {
                let pods = self.list("pods");
                self.index
                    .pods_by_label
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter_map(|&i| pods.get(i))
                    .filter(|p| selector.matches_object(p))
                    .collect()
            }
            None => self.pods_in(namespace).filter(|p| selector.matches_object(p)).collect(),
        }
    }

    /// Objects of a kind (`pods`, `replicasets` or `jobs`) whose controller is `owner_kind/owner_name`.
    pub fn owned_by<'a>(&'a self, key: &str, namespace: &str, owner_kind: &str, owner_name: &str) -> Vec<&'a Value> {
        let items = self.list(key);
        self.index
            .by_owner
            .get(key)
            .and_then(|m| m.get(&key3(namespace, owner_kind, owner_name)))
            .into_iter()
            .flatten()
            .filter_map(|&i| items.get(i))
            .collect()
    }

    /// The EndpointSlices of a Service.
    pub fn slices_for<'a>(&'a self, namespace: &str, service: &str) -> Vec<&'a Value> {
        let slices = self.list("endpointslices");
        self.index.slices.get(&key2(namespace, service)).into_iter().flatten().filter_map(|&i| slices.get(i)).collect()
    }

    /// The workload that owns a pod, as `(kind, name)`: a ReplicaSet is followed to its Deployment (or Rollout);
    /// a pod with no controller owns itself.
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

/// Whether a pod runs ready (or has completed) with every container running (or done) and none restarted.
fn plainly_healthy(pod: &Value) -> bool {
    let phase = get_str(pod, "/status/phase").unwrap_or_default();
    if phase == "Succeeded" {
        return true;
    }
    let ready = pod.at("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
        cs.iter().any(|c| get_str(c, "/type") == Some("Ready") && get_str(c, "/status") == Some("True"))
    });
    let restarted = |cs: &Value| cs.at("/restartCount").and_then(Value::as_i64).unwrap_or(0) > 0;
    let list = |p: &str| pod.at(p).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    phase == "Running"
        && ready
        && list("/status/containerStatuses").iter().all(|cs| cs.at("/state/running").is_some() && !restarted(cs))
        && list("/status/initContainerStatuses").iter().all(|cs| {
            // Done, or a sidecar still running.
            let done = cs.at("/state/terminated/exitCode").and_then(Value::as_i64) == Some(0);
            (done || cs.at("/state/running").is_some()) && !restarted(cs)
        })
}

/// The controller owner reference of an object, as `(kind, name)`.
pub fn controller(obj: &Value) -> Option<(&str, &str)> {
    obj.at("/metadata/ownerReferences")?.as_array()?.iter().find_map(|r| {
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
        .filter_map(|p| pod.at(p).and_then(Value::as_array))
        .flatten()
}

/// Drops managed fields and the last-applied annotation (which would repeat values), and the values of
/// Secrets and ConfigMaps, keeping only their keys (as `null` values).
pub(crate) fn strip_values(key: &str, mut obj: Value) -> Value {
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

/// The head of a page: its `continue` token. Reading it skips the items without building them.
#[derive(Deserialize)]
struct PageHead {
    #[serde(default)]
    metadata: PageMeta,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

/// Lists a kind page by page. Each page's items are parsed on a blocking thread while the next page is
/// fetched (only its `continue` token is read first). An expired `continue` token (410) restarts the list
/// once without paging, as kubectl's pager does.
pub(crate) async fn list_paged(
    client: &kube::Client,
    spec: &KindSpec,
    namespace: Option<&str>,
    page_size: u32,
    calls: &AtomicU32,
) -> Result<Vec<Value>, kube::Error> {
    let path = spec.collection_path(namespace);
    let mut parsing = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut lp = ListParams::default().limit(page_size);
        if let Some(f) = spec.field_selector {
            lp = lp.fields(f);
        }
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let text = match request_page(client, spec, &path, &lp, calls).await {
            Err(kube::Error::Api(e)) if e.code == 410 && token.is_some() => {
                let mut full = ListParams::default();
                if let Some(f) = spec.field_selector {
                    full = full.fields(f);
                }
                parsing.clear();
                let text = request_page(client, spec, &path, &full, calls).await?;
                let (key, kind, api_version) = (spec.key, spec.kind, spec.api_version());
                parsing.push(tokio::task::spawn_blocking(move || {
                    crate::parse::parse_items(&text, key, kind, &api_version)
                }));
                break;
            }
            other => other?,
        };
        let head: PageHead = serde_json::from_str(&text).map_err(kube::Error::SerdeError)?;
        let (key, kind, api_version) = (spec.key, spec.kind, spec.api_version());
        parsing.push(tokio::task::spawn_blocking(move || crate::parse::parse_items(&text, key, kind, &api_version)));
        pages += 1;
        match head.metadata.continue_token {
            Some(t) if !t.is_empty() && pages < MAX_PAGES => token = Some(t),
            _ => break,
        }
    }
    let mut out: Vec<Value> = Vec::new();
    for task in parsing {
        let mut items = task.await.map_err(|e| kube::Error::Service(Box::new(e)))??;
        out.append(&mut items);
    }
    Ok(out)
}

async fn request_page(
    client: &kube::Client,
    spec: &KindSpec,
    path: &str,
    lp: &ListParams,
    calls: &AtomicU32,
) -> Result<String, kube::Error> {
    let request = kube::core::Request::new(path);
    let req = if spec.metadata_only { request.list_metadata(lp) } else { request.list(lp) }
        .map_err(kube::Error::BuildRequest)?;
    calls.fetch_add(1, Ordering::Relaxed);
    client.request_text(req).await
}
