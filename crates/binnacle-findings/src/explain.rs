//! [`explain`]: deeper evidence for one finding than a run of every analyzer gathers — the pods behind it
//! with their events and the last log lines of their failing containers, and the related objects the
//! finding depends on (EndpointSlices, backend Services, webhook Services, quotas and limit ranges, Helm
//! revisions, classes). A handful of targeted reads, each bounded; Secret data is never read.

use crate::At;
use crate::FindingsError;
use crate::analyzers::replicaset::{limit_range_lines, quota_lines};
use crate::finding::{EventEvidence, sanitize};
use crate::kinds::{by_key, by_kind};
use crate::snapshot::{Snapshot, controller, name_of, statuses};
use binnacle_objects::pointer::get_str;
use binnacle_objects::selector::LabelSelector;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, GetParams, ListParams, LogParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};

/// The finding to explain: its analyzer and object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Target {
    /// The analyzer that reported it (e.g. `crash-loop`).
    pub analyzer: String,
    /// The object's kind (e.g. `Deployment`, `HelmRelease`).
    pub kind: String,
    /// Its namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// The last lines of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogExcerpt {
    /// The pod.
    pub pod: String,
    /// The container.
    pub container: String,
    /// Whether these are the previous (crashed) instance's lines.
    pub previous: bool,
    /// The lines, sanitized, oldest first.
    pub lines: Vec<String>,
}

/// What [`explain`] gathered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeepEvidence {
    /// Whether the object exists.
    pub found: bool,
    /// The pods it owns, selects or runs, failing ones first: one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<String>,
    /// Events of the failing pods (all types), merged by reason and message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_events: Vec<EventEvidence>,
    /// Last log lines of failing containers: the previous instance's when it restarted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogExcerpt>,
    /// Related objects the finding depends on, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// Read calls made.
    pub calls: u32,
}

/// Kinds [`explain`] accepts.
pub const EXPLAINABLE_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "Ingress",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "Node",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Rollout",
    "Gateway",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "HelmRelease",
];

/// The canonical spelling of an explainable kind (case-insensitive match), if it is one.
pub fn explainable_kind(kind: &str) -> Option<&'static str> {
    EXPLAINABLE_KINDS.iter().copied().find(|k| k.eq_ignore_ascii_case(kind))
}

const MAX_PODS: usize = 10;
const FAILING_PODS: usize = 3;
const LOGGED_PODS: usize = 2;
const LOG_LINES: i64 = 20;
const MAX_EVENTS: usize = 10;
const LIST_LIMIT: u32 = 200;

struct Reader<'a> {
    client: &'a kube::Client,
    calls: AtomicU32,
}

impl Reader<'_> {
    fn read_error(&self, what: String, source: kube::Error) -> FindingsError {
        FindingsError::Read { what, source }
    }

    /// One object, `None` when it does not exist (or its kind is not served).
    async fn get(&self, key: &str, ns: &str, name: &str) -> Result<Option<Value>, FindingsError> {
        let Some(spec) = by_key(key) else { return Ok(None) };
        self.calls.fetch_add(1, Ordering::Relaxed);
        let request = kube::core::Request::new(spec.collection_path(Some(ns)));
        let req = if spec.metadata_only {
            request.get_metadata(name, &GetParams::default())
        } else {
            request.get(name, &GetParams::default())
        }
        .map_err(|e| self.read_error(format!("{} {name}", spec.kind), kube::Error::BuildRequest(e)))?;
        match self.client.request::<Value>(req).await {
            Ok(v) => Ok(Some(v)),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
            Err(e) => Err(self.read_error(format!("{} {name}", spec.kind), e)),
        }
    }

    /// Up to [`LIST_LIMIT`] objects of a kind (`""` namespace: all), by label and field selector. Lists of
    /// kinds that are not served are empty.
    async fn list(&self, key: &str, ns: &str, labels: &str, fields: &str) -> Result<Vec<Value>, FindingsError> {
        let Some(spec) = by_key(key) else { return Ok(Vec::new()) };
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut lp = ListParams::default().limit(LIST_LIMIT);
        if !labels.is_empty() {
            lp = lp.labels(labels);
        }
        if !fields.is_empty() {
            lp = lp.fields(fields);
        }
        let request = kube::core::Request::new(spec.collection_path((!ns.is_empty()).then_some(ns)));
        let req = if spec.metadata_only { request.list_metadata(&lp) } else { request.list(&lp) }
            .map_err(|e| self.read_error(spec.plural.to_string(), kube::Error::BuildRequest(e)))?;
        match self.client.request::<Value>(req).await {
            Ok(mut list) => Ok(match list.get_mut("items").map(Value::take) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(Vec::new()),
            Err(e) => Err(self.read_error(spec.plural.to_string(), e)),
        }
    }
}

/// Gathers deeper evidence for one finding. An object that no longer exists is not an error (`found: false`).
pub async fn explain(client: kube::Client, target: &Target) -> Result<DeepEvidence, FindingsError> {
    let kind = explainable_kind(&target.kind).ok_or_else(|| FindingsError::Unsupported(target.kind.clone()))?;
    let reader = Reader { client: &client, calls: AtomicU32::new(0) };
    let ns = target.namespace.as_str();
    let name = target.name.as_str();
    let mut out = DeepEvidence::default();
    if kind == "HelmRelease" {
        helm_revisions(&reader, ns, name, &mut out).await?;
        out.calls = reader.calls.load(Ordering::Relaxed);
        return Ok(out);
    }
    let spec = by_kind(kind).ok_or_else(|| FindingsError::Unsupported(target.kind.clone()))?;
    let Some(obj) = reader.get(spec.key, ns, name).await? else {
        out.related.push(format!("{kind} {} does not exist (any more)", display(ns, name)));
        out.calls = reader.calls.load(Ordering::Relaxed);
        return Ok(out);
    };
    out.found = true;
    let pods = pods_of(&reader, kind, ns, &obj, &mut out).await?;
    pod_evidence(&reader, pods, &mut out).await?;
    related(&reader, kind, &target.analyzer, ns, &obj, &mut out).await?;
    out.calls = reader.calls.load(Ordering::Relaxed);
    Ok(out)
}

fn display(ns: &str, name: &str) -> String {
    if ns.is_empty() { name.to_string() } else { format!("{ns}/{name}") }
}

/// The pods behind an object.
async fn pods_of(
    reader: &Reader<'_>,
    kind: &str,
    ns: &str,
    obj: &Value,
    out: &mut DeepEvidence,
) -> Result<Vec<Value>, FindingsError> {
    let selector = match kind {
        "Pod" => return Ok(vec![obj.clone()]),
        "Node" => return reader.list("pods", "", "", &format!("spec.nodeName={}", name_of(obj))).await,
        "Service" => obj
            .at("/spec/selector")
            .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
            .map(|s| LabelSelector::from_object(&serde_json::json!({"matchLabels": s})).unwrap_or_default()),
        "NetworkPolicy" => obj.at("/spec/podSelector").and_then(|s| LabelSelector::from_object(s).ok()),
        "CronJob" => {
            let jobs = reader.list("jobs", ns, "", "").await?;
            let mut owned: Vec<&Value> = jobs
                .iter()
                .filter(|j| controller(j).is_some_and(|(k, n)| k == "CronJob" && n == name_of(obj)))
                .collect();
            owned.sort_by_key(|j| std::cmp::Reverse(get_str(j, "/metadata/creationTimestamp").unwrap_or_default()));
            for j in owned.iter().take(5) {
                out.related.push(format!("job {}: {}", name_of(j), job_state(j)));
            }
            owned.first().and_then(|j| j.at("/spec/selector")).and_then(|s| LabelSelector::from_object(s).ok())
        }
        "HorizontalPodAutoscaler" => {
            let target_kind = get_str(obj, "/spec/scaleTargetRef/kind").unwrap_or_default();
            let target_name = get_str(obj, "/spec/scaleTargetRef/name").unwrap_or_default();
            match by_kind(target_kind) {
                Some(spec) => match reader.get(spec.key, ns, target_name).await? {
                    Some(target) => {
                        out.related.push(format!(
                            "scale target {target_kind} {target_name}: {} of {} replicas ready",
                            target.at("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0),
                            target.at("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)
                        ));
                        target.at("/spec/selector").and_then(|s| LabelSelector::from_object(s).ok())
                    }
                    None => {
                        out.related.push(format!("scale target {target_kind} {target_name} does not exist"));
                        None
                    }
                },
                None => None,
            }
        }
        "Ingress"
        | "Gateway"
        | "PersistentVolumeClaim"
        | "ValidatingWebhookConfiguration"
        | "MutatingWebhookConfiguration" => None,
        _ => obj.at("/spec/selector").and_then(|s| LabelSelector::from_object(s).ok()),
    };
    match selector {
        Some(sel) if !sel.is_empty() => reader.list("pods", ns, &sel.to_selector_string(), "").await,
        _ => Ok(Vec::new()),
    }
}

fn job_state(job: &Value) -> String {
    let conditions = job.at("/status/conditions").and_then(Value::as_array);
    let done = conditions
        .into_iter()
        .flatten()
        .find(|c| matches!(get_str(c, "/type"), Some("Complete" | "Failed")) && get_str(c, "/status") == Some("True"));
    let started = get_str(job, "/status/startTime").unwrap_or("not started");
    match done {
        Some(c) => format!(
            "{} ({}) started {started}",
            get_str(c, "/type").unwrap_or_default(),
            get_str(c, "/reason").unwrap_or_default()
        ),
        None => format!("running, started {started}"),
    }
}

/// How badly a pod fails: higher is worse (0: running and ready, or done).
fn pod_rank(pod: &Value) -> i64 {
    let phase = get_str(pod, "/status/phase").unwrap_or_default();
    if phase == "Succeeded" {
        return 0;
    }
    let mut rank = 0;
    for cs in statuses(pod) {
        if get_str(cs, "/state/waiting/reason").is_some_and(|r| !matches!(r, "ContainerCreating" | "PodInitializing")) {
            rank += 100;
        }
        rank += cs.at("/restartCount").and_then(Value::as_i64).unwrap_or(0).min(50);
        if cs.at("/ready").and_then(Value::as_bool) == Some(false) {
            rank += 10;
        }
    }
    if phase == "Pending" || phase == "Failed" {
        rank += 50;
    }
    rank
}

/// `web-1: Running, 0/1 ready, 3 restarts, waiting CrashLoopBackOff (container app), node sim-worker-1`.
fn pod_line(pod: &Value) -> String {
    let all: Vec<&Value> = statuses(pod).collect();
    let ready = all.iter().filter(|cs| cs.at("/ready").and_then(Value::as_bool) == Some(true)).count();
    let restarts: i64 = all.iter().filter_map(|cs| cs.at("/restartCount").and_then(Value::as_i64)).sum();
    let mut line = format!(
        "{}: {}, {ready}/{} ready, {restarts} restarts",
        name_of(pod),
        get_str(pod, "/status/phase").unwrap_or("Unknown"),
        all.len()
    );
    let problem = crate::analyzers::pod_problem(pod);
    if !problem.starts_with("not ready") {
        line.push_str(&format!(", {problem}"));
    }
    if let Some(node) = get_str(pod, "/spec/nodeName") {
        line.push_str(&format!(", node {node}"));
    }
    line
}

/// Pod lines, the failing pods' events and their containers' last log lines.
async fn pod_evidence(reader: &Reader<'_>, mut pods: Vec<Value>, out: &mut DeepEvidence) -> Result<(), FindingsError> {
    pods.sort_by_key(|p| std::cmp::Reverse(pod_rank(p)));
    let total = pods.len();
    out.pods.extend(pods.iter().take(MAX_PODS).map(pod_line));
    if total > MAX_PODS {
        out.pods.push(format!("… and {} more pods", total - MAX_PODS));
    }
    let failing: Vec<&Value> = pods.iter().filter(|p| pod_rank(p) > 0).take(FAILING_PODS).collect();
    // (warning, event): warnings first, then the most frequent.
    let mut merged: Vec<(bool, EventEvidence)> = Vec::new();
    for pod in &failing {
        let ns = get_str(pod, "/metadata/namespace").unwrap_or_default();
        let fields = format!("involvedObject.kind=Pod,involvedObject.name={}", name_of(pod));
        for e in reader.list("events", ns, "", &fields).await? {
            let warning = get_str(&e, "/type") == Some("Warning");
            let reason = get_str(&e, "/reason").unwrap_or_default().to_string();
            let message = sanitize(get_str(&e, "/message").unwrap_or_default());
            let count = e.at("/count").and_then(Value::as_i64).unwrap_or(1).max(1);
            match merged.iter_mut().find(|m| m.1.reason == reason && m.1.message == message) {
                Some(m) => m.1.count += count,
                None => merged.push((warning, EventEvidence { reason, message, count })),
            }
        }
    }
    merged.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.count.cmp(&a.1.count)).then_with(|| a.1.reason.cmp(&b.1.reason)));
    out.pod_events.extend(merged.into_iter().take(MAX_EVENTS).map(|m| m.1));
    for pod in failing.iter().take(LOGGED_PODS) {
        let ns = get_str(pod, "/metadata/namespace").unwrap_or_default();
        // The container that restarted most; else one that runs but is not ready.
        let restarted = statuses(pod)
            .filter(|cs| cs.at("/restartCount").and_then(Value::as_i64).unwrap_or(0) > 0)
            .max_by_key(|cs| cs.at("/restartCount").and_then(Value::as_i64).unwrap_or(0));
        let (cs, previous) = match restarted {
            Some(cs) => (cs, true),
            None => match statuses(pod)
                .find(|cs| cs.at("/state/running").is_some() && cs.at("/ready").and_then(Value::as_bool) != Some(true))
            {
                Some(cs) => (cs, false),
                None => continue,
            },
        };
        let container = get_str(cs, "/name").unwrap_or_default().to_string();
        let api: Api<Pod> = Api::namespaced(reader.client.clone(), ns);
        let params = LogParams {
            container: Some(container.clone()),
            previous,
            tail_lines: Some(LOG_LINES),
            ..LogParams::default()
        };
        reader.calls.fetch_add(1, Ordering::Relaxed);
        match api.logs(name_of(pod), &params).await {
            Ok(text) => out.logs.push(LogExcerpt {
                pod: name_of(pod).to_string(),
                container,
                previous,
                lines: text.lines().map(sanitize).filter(|l| !l.is_empty()).collect(),
            }),
            Err(e) => tracing::debug!(pod = name_of(pod), error = %e, "logs unavailable"),
        }
    }
    Ok(())
}

/// Ready and not-ready endpoint counts of a Service, from its EndpointSlices (`None`: it has none).
async fn endpoints(
    reader: &Reader<'_>,
    ns: &str,
    svc: &str,
) -> Result<Option<(usize, usize, Vec<String>)>, FindingsError> {
    let slices = reader.list("endpointslices", ns, &format!("kubernetes.io/service-name={svc}"), "").await?;
    if slices.is_empty() {
        return Ok(None);
    }
    let (mut ready, mut not_ready, mut ports) = (0, 0, Vec::new());
    for s in &slices {
        for e in s.get("endpoints").and_then(Value::as_array).into_iter().flatten() {
            if e.at("/conditions/ready").and_then(Value::as_bool) == Some(false) {
                not_ready += 1;
            } else {
                ready += 1;
            }
        }
        for p in s.get("ports").and_then(Value::as_array).into_iter().flatten() {
            let port = format!(
                "{}/{}",
                p.get("port").and_then(Value::as_i64).unwrap_or(0),
                get_str(p, "/protocol").unwrap_or("TCP")
            );
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
    }
    Ok(Some((ready, not_ready, ports)))
}

async fn service_line(reader: &Reader<'_>, ns: &str, svc: &str) -> Result<String, FindingsError> {
    let Some(service) = reader.get("services", ns, svc).await? else {
        return Ok(format!("Service {ns}/{svc} does not exist"));
    };
    let ports: Vec<String> = service
        .at("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let target = p.get("targetPort").map_or("=".to_string(), |t| t.to_string().trim_matches('"').to_string());
            format!("{}→{target}", p.get("port").and_then(Value::as_i64).unwrap_or(0))
        })
        .collect();
    let eps = match endpoints(reader, ns, svc).await? {
        Some((ready, not_ready, _)) => format!("{ready} ready, {not_ready} not ready endpoints"),
        None => "no EndpointSlices".to_string(),
    };
    Ok(format!("Service {ns}/{svc}: ports {}; {eps}", ports.join(", ")))
}

/// The related objects a finding depends on.
async fn related(
    reader: &Reader<'_>,
    kind: &str,
    analyzer: &str,
    ns: &str,
    obj: &Value,
    out: &mut DeepEvidence,
) -> Result<(), FindingsError> {
    let name = name_of(obj);
    match kind {
        "Service" => match endpoints(reader, ns, name).await? {
            Some((ready, not_ready, ports)) => out.related.push(format!(
                "EndpointSlices: {ready} ready, {not_ready} not ready endpoints; ports {}",
                ports.join(", ")
            )),
            None => out.related.push("no EndpointSlices".into()),
        },
        "Ingress" => {
            if let Some(class) = get_str(obj, "/spec/ingressClassName") {
                let exists = reader.get("ingressclasses", "", class).await?.is_some();
                out.related.push(format!("IngressClass {class}{}", if exists { " exists" } else { " does not exist" }));
            }
            let mut services = Vec::new();
            let mut backends: Vec<&Value> = obj.at("/spec/defaultBackend").into_iter().collect();
            for rule in obj.at("/spec/rules").and_then(Value::as_array).into_iter().flatten() {
                backends.extend(
                    rule.at("/http/paths")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p.get("backend")),
                );
            }
            for b in backends {
                if let Some(svc) = get_str(b, "/service/name")
                    && !services.contains(&svc)
                {
                    services.push(svc);
                }
            }
            for svc in services.into_iter().take(5) {
                out.related.push(service_line(reader, ns, svc).await?);
            }
            for tls in obj.at("/spec/tls").and_then(Value::as_array).into_iter().flatten().take(5) {
                if let Some(secret) = get_str(tls, "/secretName") {
                    let exists = reader.get("secrets", ns, secret).await?.is_some();
                    out.related
                        .push(format!("TLS Secret {secret}{}", if exists { " exists" } else { " does not exist" }));
                }
            }
        }
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => {
            for wh in obj.get("webhooks").and_then(Value::as_array).into_iter().flatten().take(5) {
                let webhook = get_str(wh, "/name").unwrap_or("?");
                let policy = get_str(wh, "/failurePolicy").unwrap_or("Fail");
                match (get_str(wh, "/clientConfig/service/namespace"), get_str(wh, "/clientConfig/service/name")) {
                    (Some(sns), Some(svc)) => {
                        let line = service_line(reader, sns, svc).await?;
                        out.related.push(format!("webhook {webhook} (failurePolicy {policy}) → {line}"));
                    }
                    _ => out.related.push(format!("webhook {webhook} (failurePolicy {policy}) calls a URL")),
                }
            }
        }
        "PersistentVolumeClaim" => match get_str(obj, "/spec/storageClassName") {
            Some(class) => match reader.get("storageclasses", "", class).await? {
                Some(sc) => out.related.push(format!(
                    "StorageClass {class}: provisioner {}, volumeBindingMode {}",
                    get_str(&sc, "/provisioner").unwrap_or("?"),
                    get_str(&sc, "/volumeBindingMode").unwrap_or("Immediate")
                )),
                None => out.related.push(format!("StorageClass {class} does not exist")),
            },
            None => out.related.push("no storageClassName: the default StorageClass applies".into()),
        },
        "Gateway" => {
            let class = get_str(obj, "/spec/gatewayClassName").unwrap_or_default();
            match reader.get("gatewayclasses", "", class).await? {
                Some(gc) => {
                    let accepted = gc
                        .at("/status/conditions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .find(|c| get_str(c, "/type") == Some("Accepted"))
                        .map_or("no Accepted condition".to_string(), |c| {
                            format!("Accepted={}", get_str(c, "/status").unwrap_or("?"))
                        });
                    out.related.push(format!(
                        "GatewayClass {class}: controller {}, {accepted}",
                        get_str(&gc, "/spec/controllerName").unwrap_or("?")
                    ));
                }
                None => out.related.push(format!("GatewayClass {class} does not exist")),
            }
        }
        "NetworkPolicy" if out.pods.is_empty() => {
            let pods = reader.list("pods", ns, "", "").await?;
            let mut label_sets: Vec<String> = Vec::new();
            for p in &pods {
                let text = p
                    .at("/metadata/labels")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter(|(k, _)| !matches!(k.as_str(), "pod-template-hash" | "controller-revision-hash"))
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                if !text.is_empty() && !label_sets.contains(&text) {
                    label_sets.push(text);
                }
            }
            label_sets.truncate(5);
            out.related.push(format!("pods in {ns} are labelled: {}", label_sets.join(" | ")));
        }
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
            if matches!(
                analyzer,
                "replicaset-failed-create"
                    | "deployment-unavailable"
                    | "statefulset-unavailable"
                    | "daemonset-unavailable"
            ) =>
        {
            let quotas = reader.list("resourcequotas", ns, "", "").await?;
            let ranges = reader.list("limitranges", ns, "", "").await?;
            let snap = Snapshot::from_objects([("resourcequotas", quotas), ("limitranges", ranges)]);
            out.related.extend(quota_lines(&snap, ns, None));
            out.related.extend(limit_range_lines(&snap, ns));
            if kind == "Deployment" {
                let sets = reader.list("replicasets", ns, "", "").await?;
                for rs in
                    sets.iter().filter(|rs| controller(rs).is_some_and(|(k, n)| k == "Deployment" && n == name)).take(5)
                {
                    let failure = rs
                        .at("/status/conditions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .find(|c| {
                            get_str(c, "/type") == Some("ReplicaFailure") && get_str(c, "/status") == Some("True")
                        })
                        .map_or(String::new(), |c| {
                            format!("; ReplicaFailure: {}", sanitize(get_str(c, "/message").unwrap_or_default()))
                        });
                    out.related.push(format!(
                        "ReplicaSet {} (revision {}): {} of {} pods{failure}",
                        name_of(rs),
                        get_str(rs, "/metadata/annotations/deployment.kubernetes.io~1revision").unwrap_or("?"),
                        rs.at("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
                        rs.at("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// A Helm release's revisions, from its release Secrets' labels (never their data).
async fn helm_revisions(
    reader: &Reader<'_>,
    ns: &str,
    release: &str,
    out: &mut DeepEvidence,
) -> Result<(), FindingsError> {
    let secrets = reader.list("secrets", ns, &format!("owner=helm,name={release}"), "").await?;
    let mut revisions: Vec<(i64, String, String)> = secrets
        .iter()
        .filter_map(|s| {
            let label = |k: &str| get_str(s, &format!("/metadata/labels/{k}"));
            Some((
                label("version")?.parse::<i64>().ok()?,
                label("status").unwrap_or("?").to_string(),
                label("modifiedAt").unwrap_or_default().to_string(),
            ))
        })
        .collect();
    revisions.sort_by_key(|r| std::cmp::Reverse(r.0));
    out.found = !revisions.is_empty();
    if revisions.is_empty() {
        out.related.push(format!("no release Secrets for Helm release {ns}/{release}"));
    }
    for (version, status, modified) in revisions.into_iter().take(10) {
        let when = modified
            .parse::<i64>()
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map_or(String::new(), |t| format!(", modified {t}"));
        out.related.push(format!("revision {version}: {status}{when}"));
    }
    Ok(())
}
