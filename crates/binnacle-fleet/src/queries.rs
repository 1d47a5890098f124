//! What each category reads from one cluster, and the health probe. Every query pages through lists
//! (500 objects a page, at most [`MAX_LISTED`] objects per kind) and keeps at most `max_items` items, most
//! interesting first; `total` says how many there were.

use crate::category::{Category, Topic};
use binnacle_tools::{ClusterSet, ToolContext};
use kube::Client;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Objects per list page.
const PAGE: usize = 1000;
/// The most objects of one kind a query reads (bounds memory on very large clusters; `counts.complete`
/// turns false when reached).
pub const MAX_LISTED: usize = 50_000;

/// One cluster's answer to a category (or its health), as cached.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryData {
    /// The items, most interesting first, at most the fleet's `max_items`.
    pub items: Vec<Value>,
    /// How many items there were before the cut.
    pub total: usize,
    /// Counters (by phase, health, severity...).
    pub counts: Map<String, Value>,
    /// Anything else the category reports (operators: the operator Deployments; health: version, counts).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub extra: Value,
}

/// A failed query: what went wrong, in words that say what to check.
pub(crate) type QueryError = String;

fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("the cluster answered {} {}: {}", s.code, s.reason, s.message),
        other => format!("cannot reach the cluster: {other}"),
    }
}

fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

async fn get(client: &Client, path: &str) -> Result<Value, kube::Error> {
    let req = http::Request::get(path).body(Vec::new()).map_err(kube::Error::HttpError)?;
    client.request::<Value>(req).await
}

/// A list read page by page: the objects and whether the list was read to its end.
struct Listed<T> {
    items: Vec<T>,
    complete: bool,
}

/// One page of a list, read into `T` (a lean type skips every field it does not name without allocating).
#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Option::default")]
    items: Option<Vec<T>>,
    #[serde(default)]
    metadata: PageMeta,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageMeta {
    #[serde(rename = "continue", default)]
    cont: Option<String>,
}

async fn list<T: DeserializeOwned>(client: &Client, path: &str) -> Result<Listed<T>, kube::Error> {
    let mut items = Vec::new();
    let mut cont: Option<String> = None;
    loop {
        let mut url = format!("{path}?limit={PAGE}");
        if let Some(c) = &cont {
            url.push_str("&continue=");
            url.push_str(&encode(c));
        }
        let req = http::Request::get(url).body(Vec::new()).map_err(kube::Error::HttpError)?;
        let page: Page<T> = client.request(req).await?;
        items.extend(page.items.unwrap_or_default());
        cont = page.metadata.cont.filter(|c| !c.is_empty());
        if cont.is_none() {
            return Ok(Listed { items, complete: true });
        }
        if items.len() >= MAX_LISTED {
            items.truncate(MAX_LISTED);
            return Ok(Listed { items, complete: false });
        }
    }
}

/// Percent-encodes a continue token for a query string.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How many objects a list has, from one object and `remainingItemCount` (one small request).
async fn count(client: &Client, path: &str) -> Result<u64, kube::Error> {
    let page = get(client, &format!("{path}?limit=1")).await?;
    let listed = page.get("items").and_then(Value::as_array).map_or(0, Vec::len) as u64;
    let remaining = page.pointer("/metadata/remainingItemCount").and_then(Value::as_u64);
    let more = page.pointer("/metadata/continue").and_then(Value::as_str).is_some_and(|c| !c.is_empty());
    match (remaining, more) {
        (Some(r), _) => Ok(listed + r),
        (None, false) => Ok(listed),
        // The server does not say how many remain (selectors, old servers): count them.
        (None, true) => Ok(list::<serde::de::IgnoredAny>(client, path).await?.items.len() as u64),
    }
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn finish(mut items: Vec<Value>, max_items: usize, counts: Map<String, Value>, extra: Value) -> CategoryData {
    let total = items.len();
    items.truncate(max_items);
    CategoryData { items, total, counts, extra }
}

/// Runs one topic against one cluster.
pub(crate) async fn run(
    client: &Client,
    cluster: &str,
    topic: Topic,
    max_items: usize,
) -> Result<CategoryData, QueryError> {
    match topic {
        Topic::Health => health(client).await.map_err(|e| describe(&e)),
        Topic::Category(Category::Pods) => pods(client, max_items).await.map_err(|e| describe(&e)),
        Topic::Category(Category::Workloads) => workloads(client, max_items).await.map_err(|e| describe(&e)),
        Topic::Category(Category::Nodes) => nodes(client, max_items, false).await.map_err(|e| describe(&e)),
        Topic::Category(Category::GpuNodes) => nodes(client, max_items, true).await.map_err(|e| describe(&e)),
        Topic::Category(Category::Events) => events(client, max_items).await.map_err(|e| describe(&e)),
        Topic::Category(Category::Operators) => operators(client, max_items).await.map_err(|e| describe(&e)),
        Topic::Category(Category::HelmReleases) => helm_releases(client, cluster, max_items).await,
        Topic::Category(Category::Findings) => findings(client, max_items).await,
    }
}

async fn health(client: &Client) -> Result<CategoryData, kube::Error> {
    let started = Instant::now();
    let version = get(client, "/version").await?;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (nodes, pods) = futures::try_join!(count(client, "/api/v1/nodes"), count(client, "/api/v1/pods"))?;
    let extra = json!({
        "version": s(&version, "/gitVersion"),
        "platform": s(&version, "/platform"),
        "nodes": nodes,
        "pods": pods,
        "latencyMs": latency_ms,
    });
    Ok(CategoryData { extra, ..CategoryData::default() })
}

/// Waiting reasons that are part of a normal start.
const STARTING: [&str; 2] = ["ContainerCreating", "PodInitializing"];

/// `null` read as the type's default (lean types must not fail on explicit nulls).
fn nullable<'de, D: serde::Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The parts of a Pod the pods category reads; everything else (managedFields, specs, env) is skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LeanPod {
    #[serde(deserialize_with = "nullable")]
    metadata: LeanMeta,
    #[serde(deserialize_with = "nullable")]
    spec: LeanPodSpec,
    #[serde(deserialize_with = "nullable")]
    status: LeanPodStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LeanMeta {
    #[serde(deserialize_with = "nullable")]
    name: String,
    #[serde(deserialize_with = "nullable")]
    namespace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanPodSpec {
    #[serde(deserialize_with = "nullable")]
    node_name: String,
    #[serde(deserialize_with = "nullable")]
    containers: Vec<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanPodStatus {
    #[serde(deserialize_with = "nullable")]
    phase: String,
    #[serde(deserialize_with = "nullable")]
    reason: String,
    #[serde(deserialize_with = "nullable")]
    conditions: Vec<LeanCondition>,
    #[serde(deserialize_with = "nullable")]
    container_statuses: Vec<LeanContainer>,
    #[serde(deserialize_with = "nullable")]
    init_container_statuses: Vec<LeanContainer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LeanCondition {
    #[serde(rename = "type", deserialize_with = "nullable")]
    type_: String,
    #[serde(deserialize_with = "nullable")]
    status: String,
    #[serde(deserialize_with = "nullable")]
    message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanContainer {
    #[serde(deserialize_with = "nullable")]
    ready: bool,
    #[serde(deserialize_with = "nullable")]
    restart_count: i64,
    #[serde(deserialize_with = "nullable")]
    state: LeanState,
    #[serde(deserialize_with = "nullable")]
    last_state: LeanState,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LeanState {
    #[serde(deserialize_with = "nullable")]
    waiting: Option<LeanReason>,
    #[serde(deserialize_with = "nullable")]
    terminated: Option<LeanReason>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LeanReason {
    #[serde(deserialize_with = "nullable")]
    reason: String,
}

fn reason(r: &Option<LeanReason>) -> &str {
    r.as_ref().map_or("", |r| r.reason.as_str())
}

fn pod_item(p: &LeanPod) -> (Value, bool) {
    let st = &p.status;
    let phase = st.phase.as_str();
    let statuses = || st.init_container_statuses.iter().chain(&st.container_statuses);
    let containers = if p.spec.containers.is_empty() { st.container_statuses.len() } else { p.spec.containers.len() };
    let ready = st.container_statuses.iter().filter(|c| c.ready).count();
    let restarts: i64 = statuses().map(|c| c.restart_count).sum();
    let mut waiting: Vec<String> =
        statuses().map(|c| reason(&c.state.waiting)).filter(|r| !r.is_empty()).map(str::to_string).collect();
    waiting.dedup();
    let mut problems: Vec<String> = Vec::new();
    match phase {
        "Failed" if st.reason.is_empty() => problems.push("Failed".into()),
        "Failed" => problems.push(format!("Failed: {}", st.reason)),
        "Unknown" => problems.push("phase Unknown (node lost?)".into()),
        "Pending" => {
            if let Some(c) = st.conditions.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False") {
                problems.push(format!("Unschedulable: {}", c.message));
            }
        }
        _ => {}
    }
    for w in &waiting {
        if !STARTING.contains(&w.as_str()) {
            problems.push(w.clone());
        }
    }
    if statuses().any(|c| reason(&c.last_state.terminated) == "OOMKilled") && !problems.iter().any(|p| p == "OOMKilled")
    {
        problems.push("OOMKilled".into());
    }
    if phase == "Running" && ready < containers && problems.is_empty() {
        problems.push("NotReady".into());
    }
    if restarts >= 3 && problems.is_empty() {
        problems.push(format!("restarted {restarts} times"));
    }
    let problem = !problems.is_empty();
    let item = json!({
        "namespace": p.metadata.namespace,
        "name": p.metadata.name,
        "phase": phase,
        "node": p.spec.node_name,
        "ready": format!("{ready}/{containers}"),
        "restarts": restarts,
        "waiting": waiting,
        "problems": problems,
    });
    (item, problem)
}

async fn pods(client: &Client, max_items: usize) -> Result<CategoryData, kube::Error> {
    let listed = list::<LeanPod>(client, "/api/v1/pods").await?;
    let mut by_phase: BTreeMap<&str, u64> = BTreeMap::new();
    let mut built: Vec<(bool, i64, &str, &str, Value)> = Vec::with_capacity(listed.items.len());
    for p in &listed.items {
        *by_phase.entry(p.status.phase.as_str()).or_default() += 1;
        let (item, problem) = pod_item(p);
        let restarts = item["restarts"].as_i64().unwrap_or(0);
        built.push((problem, restarts, p.metadata.namespace.as_str(), p.metadata.name.as_str(), item));
    }
    let problems = built.iter().filter(|r| r.0).count();
    built.sort_by(|a, b| (Reverse(a.0), Reverse(a.1), a.2, a.3).cmp(&(Reverse(b.0), Reverse(b.1), b.2, b.3)));
    let rows: Vec<Value> = built.into_iter().map(|r| r.4).collect();
    let mut counts = Map::new();
    counts.insert("pods".into(), json!(listed.items.len()));
    counts.insert("problems".into(), json!(problems));
    counts.insert("byPhase".into(), json!(by_phase));
    counts.insert("complete".into(), json!(listed.complete));
    Ok(finish(rows, max_items, counts, Value::Null))
}

fn workload_item(kind: &str, o: &Value) -> Value {
    let (desired, ready, updated, available) = match kind {
        "DaemonSet" => (
            n(o, "/status/desiredNumberScheduled"),
            n(o, "/status/numberReady"),
            n(o, "/status/updatedNumberScheduled"),
            n(o, "/status/numberAvailable"),
        ),
        _ => (
            o.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1),
            n(o, "/status/readyReplicas"),
            n(o, "/status/updatedReplicas"),
            n(o, "/status/availableReplicas"),
        ),
    };
    let phase = s(o, "/status/phase");
    let observed = n(o, "/status/observedGeneration") >= n(o, "/metadata/generation");
    let healthy = match kind {
        "Rollout" if !phase.is_empty() => phase == "Healthy",
        _ => ready >= desired && available >= desired && updated >= desired && observed,
    };
    let mut item = json!({
        "kind": kind,
        "namespace": s(o, "/metadata/namespace"),
        "name": s(o, "/metadata/name"),
        "desired": desired,
        "ready": ready,
        "updated": updated,
        "available": available,
        "healthy": healthy,
    });
    if kind == "Rollout" {
        item["phase"] = json!(phase);
        item["paused"] = json!(o.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false));
    }
    item
}

async fn workloads(client: &Client, max_items: usize) -> Result<CategoryData, kube::Error> {
    let kinds = [
        ("Deployment", "/apis/apps/v1/deployments"),
        ("StatefulSet", "/apis/apps/v1/statefulsets"),
        ("DaemonSet", "/apis/apps/v1/daemonsets"),
        ("Rollout", "/apis/argoproj.io/v1alpha1/rollouts"),
    ];
    let lists = futures::future::join_all(kinds.iter().map(|(_, path)| list::<Value>(client, path))).await;
    let mut items = Vec::new();
    let mut counts = Map::new();
    let mut rollouts_served = true;
    for ((kind, _), listed) in kinds.iter().zip(lists) {
        let listed = match listed {
            Ok(l) => l,
            // Argo Rollouts is not installed: no Rollouts, not an error.
            Err(e) if *kind == "Rollout" && not_found(&e) => {
                rollouts_served = false;
                continue;
            }
            Err(e) => return Err(e),
        };
        let before = items.len();
        items.extend(listed.items.iter().map(|o| workload_item(kind, o)));
        let unhealthy = items[before..].iter().filter(|i| i["healthy"] == json!(false)).count();
        counts.insert(format!("{}s", kind.to_ascii_lowercase()), json!(listed.items.len()));
        counts.insert(format!("{}sUnhealthy", kind.to_ascii_lowercase()), json!(unhealthy));
    }
    counts.insert("rolloutsServed".into(), json!(rollouts_served));
    counts.insert("unhealthy".into(), json!(items.iter().filter(|i| i["healthy"] == json!(false)).count()));
    items.sort_by(|a, b| {
        (a["healthy"].as_bool(), s(a, "/namespace"), s(a, "/name"), s(a, "/kind")).cmp(&(
            b["healthy"].as_bool(),
            s(b, "/namespace"),
            s(b, "/name"),
            s(b, "/kind"),
        ))
    });
    Ok(finish(items, max_items, counts, Value::Null))
}

/// The GPU resource names a node can advertise.
const GPU_RESOURCES: [(&str, &str); 2] = [("nvidia.com/gpu", "nvidia"), ("amd.com/gpu", "amd")];

fn quantity(v: &Value, key: &str) -> Value {
    v.get(key).cloned().unwrap_or(Value::Null)
}

fn gpu_count(resources: Option<&Value>) -> (u64, &'static str) {
    for (name, vendor) in GPU_RESOURCES {
        let count = resources.and_then(|r| r.get(name)).and_then(Value::as_str).and_then(|q| q.parse::<u64>().ok());
        if let Some(c) = count.filter(|c| *c > 0) {
            return (c, vendor);
        }
    }
    (0, "")
}

fn node_item(node: &Value) -> Value {
    let conditions = node.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let ready = conditions.iter().any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True");
    // Conditions that say something is wrong: Ready not True, any pressure or unavailability True.
    let bad: Vec<Value> = conditions
        .iter()
        .filter(|c| if s(c, "/type") == "Ready" { s(c, "/status") != "True" } else { s(c, "/status") == "True" })
        .map(|c| json!({"type": s(c, "/type"), "status": s(c, "/status"), "reason": s(c, "/reason"), "message": s(c, "/message")}))
        .collect();
    let pick = |ptr: &str| {
        let r = node.pointer(ptr).cloned().unwrap_or(Value::Null);
        let mut m = Map::new();
        for key in ["cpu", "memory", "pods", "ephemeral-storage", "nvidia.com/gpu", "amd.com/gpu"] {
            let q = quantity(&r, key);
            if !q.is_null() {
                m.insert(key.into(), q);
            }
        }
        Value::Object(m)
    };
    let roles: Vec<String> = node
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/").map(str::to_string))
        .collect();
    json!({
        "name": s(node, "/metadata/name"),
        "ready": ready,
        "unschedulable": node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false),
        "roles": roles,
        "kubeletVersion": s(node, "/status/nodeInfo/kubeletVersion"),
        "capacity": pick("/status/capacity"),
        "allocatable": pick("/status/allocatable"),
        "conditions": bad,
    })
}

async fn nodes(client: &Client, max_items: usize, gpu_only: bool) -> Result<CategoryData, kube::Error> {
    let listed = list::<Value>(client, "/api/v1/nodes").await?;
    let mut items = Vec::new();
    let (mut gpus, mut gpus_allocatable) = (0u64, 0u64);
    for node in &listed.items {
        let mut item = node_item(node);
        if gpu_only {
            let (cap, vendor) = gpu_count(node.pointer("/status/capacity"));
            if cap == 0 {
                continue;
            }
            let (alloc, _) = gpu_count(node.pointer("/status/allocatable"));
            gpus += cap;
            gpus_allocatable += alloc;
            item["vendor"] = json!(vendor);
            item["gpus"] = json!(cap);
            item["gpusAllocatable"] = json!(alloc);
            let labels = node.pointer("/metadata/labels");
            let product = labels
                .and_then(|l| l.get("nvidia.com/gpu.product").or_else(|| l.get("amd.com/gpu.product-name")))
                .and_then(Value::as_str)
                .unwrap_or("");
            item["product"] = json!(product);
        }
        items.push(item);
    }
    let ready = items.iter().filter(|i| i["ready"] == json!(true)).count();
    let unschedulable = items.iter().filter(|i| i["unschedulable"] == json!(true)).count();
    let mut counts = Map::new();
    counts.insert("nodes".into(), json!(items.len()));
    counts.insert("ready".into(), json!(ready));
    counts.insert("notReady".into(), json!(items.len() - ready));
    counts.insert("unschedulable".into(), json!(unschedulable));
    if gpu_only {
        counts.insert("gpus".into(), json!(gpus));
        counts.insert("gpusAllocatable".into(), json!(gpus_allocatable));
    }
    items.sort_by(|a, b| (a["ready"].as_bool(), s(a, "/name")).cmp(&(b["ready"].as_bool(), s(b, "/name"))));
    Ok(finish(items, max_items, counts, Value::Null))
}

/// The parts of an Event the events category reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanEvent {
    #[serde(rename = "type", deserialize_with = "nullable")]
    type_: String,
    #[serde(deserialize_with = "nullable")]
    reason: String,
    #[serde(deserialize_with = "nullable")]
    message: String,
    #[serde(deserialize_with = "nullable")]
    metadata: LeanEventMeta,
    #[serde(deserialize_with = "nullable")]
    involved_object: LeanObjectRef,
    #[serde(deserialize_with = "nullable")]
    count: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    last_timestamp: String,
    #[serde(deserialize_with = "nullable")]
    event_time: String,
    #[serde(deserialize_with = "nullable")]
    series: LeanSeries,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanEventMeta {
    #[serde(deserialize_with = "nullable")]
    namespace: String,
    #[serde(deserialize_with = "nullable")]
    creation_timestamp: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LeanObjectRef {
    #[serde(deserialize_with = "nullable")]
    kind: String,
    #[serde(deserialize_with = "nullable")]
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanSeries {
    #[serde(deserialize_with = "nullable")]
    last_observed_time: String,
}

impl LeanEvent {
    /// When it last happened: the newest of the times an event may carry.
    fn time(&self) -> &str {
        [&self.last_timestamp, &self.event_time, &self.series.last_observed_time, &self.metadata.creation_timestamp]
            .into_iter()
            .find(|t| !t.is_empty())
            .map_or("", String::as_str)
    }
}

async fn events(client: &Client, max_items: usize) -> Result<CategoryData, kube::Error> {
    let listed = list::<LeanEvent>(client, "/api/v1/events").await?;
    let mut rows: Vec<&LeanEvent> = listed.items.iter().collect();
    // Warnings first, then newest first (RFC 3339 times in UTC sort as text).
    rows.sort_by(|a, b| (a.type_ != "Warning", Reverse(a.time())).cmp(&(b.type_ != "Warning", Reverse(b.time()))));
    let warnings = rows.iter().filter(|e| e.type_ == "Warning").count();
    let items: Vec<Value> = rows
        .iter()
        .take(max_items)
        .map(|e| {
            json!({
                "type": e.type_,
                "reason": e.reason,
                "message": binnacle_findings::finding::sanitize(&e.message),
                "namespace": e.metadata.namespace,
                "object": format!("{}/{}", e.involved_object.kind, e.involved_object.name),
                "count": e.count.unwrap_or(1),
                "lastSeen": e.time(),
            })
        })
        .collect();
    let mut counts = Map::new();
    counts.insert("events".into(), json!(rows.len()));
    counts.insert("warnings".into(), json!(warnings));
    counts.insert("complete".into(), json!(listed.complete));
    Ok(CategoryData { total: rows.len(), items, counts, extra: Value::Null })
}

async fn helm_releases(client: &Client, cluster: &str, max_items: usize) -> Result<CategoryData, QueryError> {
    // The Helm tools' own reader of release Secrets, over this cluster's client.
    let ctx = ToolContext::new(Arc::new(ClusterSet::from_client(cluster, client.clone())), Arc::default());
    let revisions = binnacle_tools::toolsets::helm::storage::list(&ctx, None, None).await.map_err(|e| e.to_string())?;
    // Newest revision first within each release.
    let mut latest: BTreeMap<(String, String), &binnacle_tools::toolsets::helm::storage::Release> = BTreeMap::new();
    for r in &revisions {
        latest.entry((r.namespace.clone(), r.name.clone())).or_insert(r);
    }
    let mut items: Vec<Value> = latest
        .values()
        .map(|r| {
            json!({
                "namespace": r.namespace,
                "name": r.name,
                "revision": r.revision,
                "status": r.status(),
                "chart": r.chart(),
                "appVersion": r.app_version(),
                "updated": r.last_deployed(),
                "description": binnacle_findings::finding::sanitize(&r.description()),
            })
        })
        .collect();
    let status_rank = |v: &Value| match s(v, "/status") {
        "failed" => 0,
        st if st.starts_with("pending") => 1,
        "deployed" => 3,
        _ => 2,
    };
    items.sort_by(|a, b| {
        (status_rank(a), s(a, "/namespace"), s(a, "/name")).cmp(&(status_rank(b), s(b, "/namespace"), s(b, "/name")))
    });
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for i in &items {
        *by_status.entry(s(i, "/status").to_string()).or_default() += 1;
    }
    let mut counts = Map::new();
    counts.insert("releases".into(), json!(items.len()));
    counts.insert("byStatus".into(), json!(by_status));
    Ok(finish(items, max_items, counts, Value::Null))
}

/// Parts of API group names that say nothing about who owns them.
const GENERIC: [&str; 10] = ["io", "com", "org", "net", "dev", "sh", "k8s", "x-k8s", "cloud", "app"];

fn looks_like_operator(d: &Value) -> bool {
    let name = s(d, "/metadata/name");
    let component = s(d, "/metadata/labels/app.kubernetes.io~1component");
    ["operator", "controller", "manager"].iter().any(|w| name.contains(w))
        || ["operator", "controller", "controller-manager"].contains(&component)
}

/// Whether a Deployment probably runs the controller of an API group: its name or namespace mentions a
/// distinctive part of the group (`cert-manager.io` → `cert-manager`), or its name's first word starts
/// that part (`argo-rollouts` → `argoproj.io`).
fn serves_group(d: &Value, group: &str) -> bool {
    let name = s(d, "/metadata/name");
    let ns = s(d, "/metadata/namespace");
    let first = name.split('-').next().unwrap_or("");
    group
        .split('.')
        .filter(|t| t.len() >= 3 && !GENERIC.contains(t))
        .any(|t| name.contains(t) || ns.contains(t) || (first.len() >= 4 && t.starts_with(first)))
}

async fn operators(client: &Client, max_items: usize) -> Result<CategoryData, kube::Error> {
    let (crds, deployments) = futures::try_join!(
        list::<Value>(client, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"),
        list::<Value>(client, "/apis/apps/v1/deployments")
    )?;
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &crds.items {
        groups.entry(s(c, "/spec/group").to_string()).or_default().push(s(c, "/spec/names/kind").to_string());
    }
    let summary = |d: &Value| {
        json!({
            "namespace": s(d, "/metadata/namespace"),
            "name": s(d, "/metadata/name"),
            "desired": d.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1),
            "ready": n(d, "/status/readyReplicas"),
        })
    };
    let items: Vec<Value> = groups
        .iter_mut()
        .map(|(group, kinds)| {
            kinds.sort();
            let operators: Vec<Value> =
                deployments.items.iter().filter(|d| serves_group(d, group)).map(summary).collect();
            json!({"group": group, "kinds": kinds, "crds": kinds.len(), "operators": operators})
        })
        .collect();
    let operator_deployments: Vec<Value> = deployments
        .items
        .iter()
        .filter(|d| looks_like_operator(d) || groups.keys().any(|g| serves_group(d, g)))
        .take(max_items)
        .map(summary)
        .collect();
    let mut counts = Map::new();
    counts.insert("groups".into(), json!(groups.len()));
    counts.insert("crds".into(), json!(crds.items.len()));
    counts.insert("operatorDeployments".into(), json!(operator_deployments.len()));
    Ok(finish(items, max_items, counts, json!({"operatorDeployments": operator_deployments})))
}

async fn findings(client: &Client, max_items: usize) -> Result<CategoryData, QueryError> {
    let report = binnacle_findings::find_issues(client.clone(), binnacle_findings::Scope::all())
        .await
        .map_err(|e| e.to_string())?;
    let mut by_severity: BTreeMap<String, u64> = BTreeMap::new();
    for f in &report.findings {
        let sev =
            serde_json::to_value(f.severity).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        *by_severity.entry(sev).or_default() += 1;
    }
    let items: Vec<Value> = report.findings.iter().filter_map(|f| serde_json::to_value(f).ok()).collect();
    let mut counts = Map::new();
    counts.insert("findings".into(), json!(items.len()));
    counts.insert("bySeverity".into(), json!(by_severity));
    counts.insert("listCalls".into(), json!(report.stats.list_calls));
    Ok(finish(items, max_items, counts, Value::Null))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pod_problems_name_the_cause() {
        let crash = json!({"metadata": {"namespace": "a", "name": "p"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": false, "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let lean = |v: Value| serde_json::from_value::<LeanPod>(v).unwrap();
        let (item, problem) = pod_item(&lean(crash));
        assert!(problem);
        assert_eq!(item["problems"], json!(["CrashLoopBackOff"]));
        assert_eq!(item["restarts"], 7);
        assert_eq!(item["ready"], "0/1");
        let starting = json!({"metadata": {"namespace": "a", "name": "q"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        assert!(!pod_item(&lean(starting)).1, "a starting pod is not a problem");
        let healthy = json!({"metadata": {"namespace": "a", "name": "r"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
        assert!(!pod_item(&lean(healthy)).1);
        let nulls = json!({"metadata": {"namespace": "a", "name": "n"}, "spec": {"nodeName": null, "containers": null},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "message": "0/3 nodes"}],
                "containerStatuses": null}});
        let (item, problem) = pod_item(&lean(nulls));
        assert!(problem);
        assert_eq!(item["problems"], json!(["Unschedulable: 0/3 nodes"]));
    }

    #[test]
    fn operator_deployments_are_matched_to_their_groups() {
        let d = |ns: &str, name: &str| json!({"metadata": {"namespace": ns, "name": name}});
        assert!(serves_group(&d("argo-rollouts", "argo-rollouts"), "argoproj.io"));
        assert!(serves_group(&d("cert-manager", "cert-manager"), "cert-manager.io"));
        assert!(!serves_group(&d("shop", "frontend"), "argoproj.io"));
        assert!(looks_like_operator(&d("x", "prometheus-operator")));
        assert!(!looks_like_operator(&d("shop", "frontend")));
    }

    #[test]
    fn gpu_counts_come_from_either_vendor() {
        assert_eq!(gpu_count(Some(&json!({"nvidia.com/gpu": "4"}))), (4, "nvidia"));
        assert_eq!(gpu_count(Some(&json!({"amd.com/gpu": "2"}))), (2, "amd"));
        assert_eq!(gpu_count(Some(&json!({"cpu": "8"}))), (0, ""));
    }

    #[test]
    fn event_times_fall_back_in_order() {
        let e: LeanEvent = serde_json::from_value(json!({"type": "Warning", "eventTime": null,
            "series": {"lastObservedTime": "2026-01-02T00:00:00Z"}, "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}}))
        .unwrap();
        assert_eq!(e.time(), "2026-01-02T00:00:00Z");
        let old: LeanEvent =
            serde_json::from_value(json!({"metadata": {"creationTimestamp": "2025-01-01T00:00:00Z"}})).unwrap();
        assert_eq!(old.time(), "2025-01-01T00:00:00Z");
    }

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(encode("a+b/c="), "a%2Bb%2Fc%3D");
    }
}
