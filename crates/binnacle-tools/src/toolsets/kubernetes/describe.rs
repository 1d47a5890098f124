//! `resource_describe`: one object with its causes in one answer — status, conditions, grouped events
//! (its own and its children's warnings), the owner chain to the top, what it selects or is selected by
//! (Service → EndpointSlices/Pods, Deployment → ReplicaSets → Pods, PVC → PV → StorageClass, Pod → Node,
//! ConfigMaps, Secrets and claims a pod needs) and findings: what looks wrong, with the evidence.
//! Secret values never appear; literal env values are shown with credentials redacted.

use super::common::{
    self, Kube, Raw, Shared, arr, check_target, compact_schema, display, display_obj, int, kinds, owned_by, s,
};
use super::events::{self, EventLine};
use super::get::scrub;
use super::resolve::ResourceInfo;
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, redact_credentials, untrusted_text};
use crate::tool::Tool;
use binnacle_objects::selector::LabelSelector;
use binnacle_objects::table;
use jiff::Timestamp;
use kube::Client;
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Arguments of `resource_describe`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourceDescribeInput {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// A condition of the object.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Type.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    /// Reason.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Whether it signals a problem.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub problem: bool,
}

/// A related object.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Link {
    /// How it relates (owned by, owns, selects, selected by, uses, runs on, ...).
    pub relation: String,
    /// Kind namespace/name.
    pub object: String,
    /// Its status in one line.
    pub status: String,
}

/// What `resource_describe` returns.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct DescribeOutput {
    /// Kind namespace/name.
    pub object: String,
    /// Status columns (as kubectl get shows them).
    pub status: Map<String, Value>,
    /// Kind-specific essentials (containers, replicas, ports, capacity, spec).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
    /// What looks wrong, with evidence, most important first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// Conditions, problems first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Owners up to the top (Pod → ReplicaSet → Deployment).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Link>,
    /// Objects it selects, uses, runs on or is selected by.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Link>,
    /// Events (own, plus warnings of children), grouped, warnings first then newest.
    pub events: Vec<EventLine>,
}

/// `resource_describe`.
pub struct ResourceDescribe(pub Shared);

impl Tool for ResourceDescribe {
    type Input = ResourceDescribeInput;
    type Output = DescribeOutput;
    const NAME: &'static str = "resource_describe";
    const TITLE: &'static str = "Describe resource";
    const DESCRIPTION: &'static str =
        "Explain one object: status, conditions, events, owners, related objects, findings.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "read", "troubleshooting"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ResourceDescribeInput) -> Result<(), ToolError> {
        check_target(&input.kind, &input.name, input.namespace.as_ref(), None)
    }

    async fn run(&self, ctx: &ToolContext, input: ResourceDescribeInput) -> Result<Reply<DescribeOutput>, ToolError> {
        let (client, info) = self.0.resolve(ctx, &input.kind, None).await?;
        let namespace = common::namespace_for(&client, &info, input.namespace.as_deref());
        let obj = Raw::new(&client, &info, namespace.as_deref()).get(&input.name).await?;
        let now = common::now_after([&obj]);
        let printer = common::printer_columns(&client, &info).await;
        let mut status = common::row(&info, printer.as_deref(), &obj, now);
        status.shift_remove("name");
        status.shift_remove("namespace");
        let mut d = Describer {
            client: &client,
            kube: &self.0,
            ctx,
            ns: namespace.clone(),
            now,
            out: DescribeOutput {
                object: display(&info.kind, namespace.as_deref(), &input.name),
                status,
                ..Default::default()
            },
            children: Vec::new(),
        };
        d.out.conditions = conditions(&obj);
        d.owner_chain(&obj).await?;
        match (info.group.as_str(), info.kind.as_str()) {
            ("", "Pod") => d.pod(&obj).await?,
            ("apps", "Deployment") => d.deployment(&obj).await?,
            ("apps", "ReplicaSet" | "StatefulSet" | "DaemonSet") | ("batch", "Job") => {
                d.controller(&info, &obj).await?
            }
            ("batch", "CronJob") => d.cronjob(&obj).await?,
            ("", "Service") => d.service(&obj).await?,
            ("", "PersistentVolumeClaim") => d.pvc(&obj).await?,
            ("", "PersistentVolume") => d.pv(&obj).await?,
            ("", "Node") => d.node(&obj).await?,
            ("autoscaling", "HorizontalPodAutoscaler") => d.hpa(&obj).await?,
            ("networking.k8s.io", "Ingress") => d.ingress(&obj).await?,
            _ => d.generic(&obj),
        }
        for c in d.out.conditions.iter().filter(|c| c.problem) {
            let text = format!(
                "condition {}={}{}{}",
                c.type_,
                c.status,
                if c.reason.is_empty() { String::new() } else { format!(" ({})", c.reason) },
                if c.message.is_empty() { String::new() } else { format!(": {}", c.message) }
            );
            d.out.findings.push(text);
        }
        d.events(&info, &obj).await?;
        let out = d.out;
        let mut summary = out.object.clone();
        let status_text = out
            .status
            .iter()
            .filter(|(k, _)| k.as_str() != "age")
            .map(|(k, v)| format!("{k} {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect::<Vec<_>>()
            .join(", ");
        if !status_text.is_empty() {
            summary.push_str(&format!(": {status_text}"));
        }
        summary.push('.');
        match out.findings.first() {
            Some(f) => summary.push_str(&format!(" {} finding(s); first: {}", out.findings.len(), truncate(f, 200))),
            None => summary.push_str(" No problems found."),
        }
        let warnings = out.events.iter().filter(|e| e.type_ == "Warning").count();
        if warnings > 0 {
            summary.push_str(&format!(" {warnings} warning event group(s)."));
        }
        Ok(Reply::new(summary, out).untrusted())
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// Condition types where `True` is bad.
fn negative(type_: &str) -> bool {
    matches!(
        type_,
        "MemoryPressure"
            | "DiskPressure"
            | "PIDPressure"
            | "NetworkUnavailable"
            | "ReplicaFailure"
            | "Failed"
            | "Stalled"
            | "Degraded"
            | "FailureTarget"
    )
}

/// Condition types where anything but `True` is bad (`Unknown` only for `Ready`).
fn positive(type_: &str, status: &str) -> bool {
    match type_ {
        "Ready" => status != "True",
        "Available" | "ContainersReady" | "PodScheduled" | "Initialized" | "Progressing" | "Healthy" | "Synced"
        | "Established" | "NamesAccepted" | "ScalingActive" | "AbleToScale" | "Bound" => status == "False",
        _ => false,
    }
}

/// The object's conditions, problems first.
fn conditions(obj: &Value) -> Vec<Condition> {
    let mut out: Vec<Condition> = arr(obj, "/status/conditions")
        .iter()
        .map(|c| {
            let type_ = s(c, "/type").to_string();
            let status = s(c, "/status").to_string();
            // Finished pods report Ready=False with reason PodCompleted: not a problem.
            let problem = ((negative(&type_) && status == "True") || positive(&type_, &status))
                && s(c, "/reason") != "PodCompleted";
            Condition {
                type_,
                status,
                reason: s(c, "/reason").to_string(),
                message: untrusted_text(s(c, "/message")),
                problem,
            }
        })
        .collect();
    out.sort_by_key(|c| !c.problem);
    out
}

/// `k=v,k2=v2` for a map of labels.
fn labels_text(map: Option<&Value>) -> String {
    map.and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

/// A container state in words: `running for 3m`, `waiting: CrashLoopBackOff (...)`,
/// `terminated: OOMKilled (exit 137) 2m ago`.
pub fn state_text(state: Option<&Value>, now: Timestamp) -> String {
    let Some(state) = state.and_then(Value::as_object) else { return String::new() };
    if let Some(r) = state.get("running") {
        return format!("running for {}", common::age_of(r.get("startedAt"), now));
    }
    if let Some(w) = state.get("waiting") {
        let msg = s(w, "/message");
        return format!(
            "waiting: {}{}",
            s(w, "/reason"),
            if msg.is_empty() { String::new() } else { format!(" ({})", truncate(&untrusted_text(msg), 160)) }
        );
    }
    if let Some(t) = state.get("terminated") {
        let ago = common::age_of(t.get("finishedAt"), now);
        return format!(
            "terminated: {} (exit {}){}",
            s(t, "/reason"),
            int(t, "/exitCode"),
            if ago.is_empty() { String::new() } else { format!(" {ago} ago") }
        );
    }
    String::new()
}

fn quantities(map: Option<&Value>) -> String {
    labels_text(map)
}

struct Describer<'a> {
    client: &'a Client,
    kube: &'a Kube,
    ctx: &'a ToolContext,
    ns: Option<String>,
    now: Timestamp,
    out: DescribeOutput,
    /// Objects whose warning events belong in the answer: (kind, name, uid).
    children: Vec<(String, String, String)>,
}

impl Describer<'_> {
    fn ns(&self) -> Option<&str> {
        self.ns.as_deref()
    }

    fn link(&mut self, relation: &str, info: &ResourceInfo, obj: &Value) {
        let status = common::status_line(info, obj, self.now);
        self.out.related.push(Link { relation: relation.into(), object: display_obj(obj), status });
    }

    async fn list(
        &self,
        info: &ResourceInfo,
        ns: Option<&str>,
        lp: &ListParams,
        max: usize,
    ) -> Result<Vec<Value>, ToolError> {
        Raw::new(self.client, info, ns).list_all(lp, max).await
    }

    /// Follows controller owner references to the top.
    async fn owner_chain(&mut self, obj: &Value) -> Result<(), ToolError> {
        let mut current = obj.clone();
        for _ in 0..5 {
            let Some(owner) = common::controller_of(&current).cloned() else { break };
            let (api_version, kind, name) = (s(&owner, "/apiVersion"), s(&owner, "/kind"), s(&owner, "/name"));
            let Some(info) = self.kube.discovery.by_gvk(self.ctx, self.client, api_version, kind).await? else {
                self.out.owners.push(Link {
                    relation: "owned by".into(),
                    object: display(kind, self.ns(), name),
                    status: "kind not served".into(),
                });
                break;
            };
            match Raw::new(self.client, &info, self.ns()).get_opt(name).await? {
                Some(o) => {
                    let mut status = common::status_line(&info, &o, self.now);
                    if status.is_empty() {
                        status = "exists".into();
                    }
                    self.out.owners.push(Link {
                        relation: "owned by".into(),
                        object: display(kind, self.ns().filter(|_| info.namespaced), name),
                        status,
                    });
                    current = o;
                }
                None => {
                    self.out.owners.push(Link {
                        relation: "owned by".into(),
                        object: display(kind, self.ns(), name),
                        status: "missing (deleted?)".into(),
                    });
                    self.out.findings.push(format!(
                        "owner {kind} {name} does not exist; the object is orphaned and will be garbage-collected"
                    ));
                    break;
                }
            }
        }
        Ok(())
    }

    async fn events(&mut self, info: &ResourceInfo, obj: &Value) -> Result<(), ToolError> {
        let me = (info.kind.clone(), s(obj, "/metadata/name").to_string(), s(obj, "/metadata/uid").to_string());
        let mut targets = vec![me.clone()];
        targets.extend(self.children.iter().cloned());
        let ns = if info.namespaced { self.ns().map(str::to_string) } else { Some(String::new()) };
        // Events about cluster-scoped objects (nodes) live in the default namespace.
        let ns = match ns.as_deref() {
            Some("") | None => "default".to_string(),
            Some(n) => n.to_string(),
        };
        let mut raw = events::events_for(self.client, Some(&ns), &targets).await?;
        raw.retain(|e| {
            (s(e, "/involvedObject/kind") == me.0 && s(e, "/involvedObject/name") == me.1) || s(e, "/type") == "Warning"
        });
        let now = events::now_for(&raw).max(self.now);
        let mut lines = events::group(&raw, now);
        lines.truncate(25);
        self.out.events = lines;
        Ok(())
    }

    /// Links pods (most troubled first, at most 10) and adds a finding when some are unhealthy.
    fn pods_summary(&mut self, pods: &[Value], what: &str) {
        let pod_info = kinds::pods();
        let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
        let mut troubled = Vec::new();
        let mut fine = Vec::new();
        for p in pods {
            let st = table::pod_status(p);
            *by_status.entry(st.clone()).or_default() += 1;
            let ready = table::pod_ready(p);
            let healthy = ((st == "Running" && ready.split_once('/').is_some_and(|(a, b)| a == b))
                || st == "Completed")
                && first_container_problem(p, self.now).is_none();
            if healthy {
                fine.push(p)
            } else {
                troubled.push(p)
            }
            self.children.push(("Pod".into(), s(p, "/metadata/name").into(), s(p, "/metadata/uid").into()));
        }
        for p in troubled.iter().chain(fine.iter()).take(10) {
            self.link("pod", &pod_info, p);
        }
        let counts = by_status.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ");
        if let Some(details) = self.out.details.as_object_mut() {
            details.insert("pods".into(), json!(if pods.is_empty() { "none".to_string() } else { counts.clone() }));
        }
        if !troubled.is_empty() {
            let first = troubled[0];
            let why = first_container_problem(first, self.now).unwrap_or_else(|| table::pod_status(first));
            self.out.findings.push(format!(
                "{} of {}{what} pods unhealthy ({counts}); e.g. {}: {why}",
                troubled.len(),
                pods.len(),
                s(first, "/metadata/name")
            ));
        }
    }

    // ------------------------------------------------------------------------------------- kinds

    async fn pod(&mut self, pod: &Value) -> Result<(), ToolError> {
        let now = self.now;
        let statuses: Vec<&Value> =
            arr(pod, "/status/containerStatuses").iter().chain(arr(pod, "/status/initContainerStatuses")).collect();
        let container = |c: &Value, init: bool| -> Value {
            let name = s(c, "/name");
            let st = statuses.iter().find(|x| s(x, "/name") == name);
            let env: Vec<String> = arr(c, "/env").iter().map(env_text).collect();
            let mut m = Map::new();
            m.insert("name".into(), json!(name));
            if init {
                m.insert("init".into(), json!(true));
            }
            m.insert("image".into(), json!(s(c, "/image")));
            if let Some(st) = st {
                m.insert("ready".into(), json!(st.get("ready").and_then(Value::as_bool).unwrap_or(false)));
                m.insert("restarts".into(), json!(int(st, "/restartCount")));
                m.insert("state".into(), json!(state_text(st.get("state"), now)));
                let last = state_text(st.get("lastState"), now);
                if !last.is_empty() {
                    m.insert("lastState".into(), json!(last));
                }
            }
            for (key, ptr) in [("requests", "/resources/requests"), ("limits", "/resources/limits")] {
                let q = quantities(c.pointer(ptr));
                if !q.is_empty() {
                    m.insert(key.into(), json!(q));
                }
            }
            if !env.is_empty() {
                m.insert("env".into(), json!(env));
            }
            let from: Vec<String> = arr(c, "/envFrom")
                .iter()
                .map(|f| match (f.get("configMapRef"), f.get("secretRef")) {
                    (Some(r), _) => format!("configMap {}", s(r, "/name")),
                    (_, Some(r)) => format!("secret {}", s(r, "/name")),
                    _ => String::new(),
                })
                .collect();
            if !from.is_empty() {
                m.insert("envFrom".into(), json!(from));
            }
            Value::Object(m)
        };
        let containers: Vec<Value> = arr(pod, "/spec/initContainers")
            .iter()
            .map(|c| container(c, true))
            .chain(arr(pod, "/spec/containers").iter().map(|c| container(c, false)))
            .collect();
        let volumes: Vec<String> = arr(pod, "/spec/volumes").iter().map(volume_text).collect();
        let mut details = Map::new();
        for (k, p) in [
            ("phase", "/status/phase"),
            ("node", "/spec/nodeName"),
            ("qos", "/status/qosClass"),
            ("serviceAccount", "/spec/serviceAccountName"),
            ("reason", "/status/reason"),
            ("message", "/status/message"),
        ] {
            let v = s(pod, p);
            if !v.is_empty() {
                details.insert(k.into(), json!(untrusted_text(v)));
            }
        }
        let labels = labels_text(pod.pointer("/metadata/labels"));
        if !labels.is_empty() {
            details.insert("labels".into(), json!(labels));
        }
        details.insert("containers".into(), json!(containers));
        if !volumes.is_empty() {
            details.insert("volumes".into(), json!(volumes));
        }
        self.out.details = Value::Object(details);
        // Container problems.
        for st in &statuses {
            if let Some(problem) = container_problem(st, now) {
                self.out.findings.push(format!("container {}: {problem}", s(st, "/name")));
            }
        }
        self.references(pod).await?;
        // The node.
        let node_name = s(pod, "/spec/nodeName");
        if !node_name.is_empty() {
            let nodes = kinds::nodes();
            match Raw::new(self.client, &nodes, None).get_opt(node_name).await? {
                Some(node) => {
                    for problem in node_problems(&node) {
                        self.out.findings.push(format!("node {node_name}: {problem}"));
                    }
                    self.link("runs on", &nodes, &node);
                }
                None => self.out.findings.push(format!("node {node_name} does not exist any more")),
            }
        }
        // Services that select it.
        let services = kinds::services();
        for svc in self.list(&services, self.ns(), &ListParams::default(), 500).await? {
            if let Some(sel) = svc.pointer("/spec/selector").filter(|m| m.as_object().is_some_and(|m| !m.is_empty()))
                && LabelSelector::from_object(&json!({"matchLabels": sel})).is_ok_and(|l| l.matches_object(pod))
            {
                self.link("selected by", &services, &svc);
            }
        }
        Ok(())
    }

    /// ConfigMaps, Secrets and claims a pod needs: missing ones (and missing keys) become findings.
    async fn references(&mut self, pod: &Value) -> Result<(), ToolError> {
        // (kind, name, key, used by, optional)
        let mut refs: Vec<(&str, String, Option<String>, String, bool)> = Vec::new();
        for c in arr(pod, "/spec/containers").iter().chain(arr(pod, "/spec/initContainers")) {
            let cname = s(c, "/name");
            for e in arr(c, "/env") {
                for (field, kind) in
                    [("/valueFrom/configMapKeyRef", "ConfigMap"), ("/valueFrom/secretKeyRef", "Secret")]
                {
                    if let Some(r) = e.pointer(field) {
                        refs.push((
                            kind,
                            s(r, "/name").into(),
                            Some(s(r, "/key").into()),
                            format!("env {} of container {cname}", s(e, "/name")),
                            r.get("optional").and_then(Value::as_bool).unwrap_or(false),
                        ));
                    }
                }
            }
            for f in arr(c, "/envFrom") {
                for (field, kind) in [("/configMapRef", "ConfigMap"), ("/secretRef", "Secret")] {
                    if let Some(r) = f.pointer(field) {
                        refs.push((
                            kind,
                            s(r, "/name").into(),
                            None,
                            format!("envFrom of container {cname}"),
                            r.get("optional").and_then(Value::as_bool).unwrap_or(false),
                        ));
                    }
                }
            }
        }
        let mut claims = Vec::new();
        for v in arr(pod, "/spec/volumes") {
            let vname = s(v, "/name");
            if let Some(r) = v.get("configMap") {
                refs.push((
                    "ConfigMap",
                    s(r, "/name").into(),
                    None,
                    format!("volume {vname}"),
                    r.get("optional").and_then(Value::as_bool).unwrap_or(false),
                ));
            }
            if let Some(r) = v.get("secret") {
                refs.push((
                    "Secret",
                    s(r, "/secretName").into(),
                    None,
                    format!("volume {vname}"),
                    r.get("optional").and_then(Value::as_bool).unwrap_or(false),
                ));
            }
            if let Some(r) = v.get("persistentVolumeClaim") {
                claims.push(s(r, "/claimName").to_string());
            }
        }
        let mut seen: BTreeMap<(String, String), Option<Value>> = BTreeMap::new();
        for (kind, name, key, used_by, optional) in refs {
            if name.is_empty() {
                continue;
            }
            let info = if kind == "Secret" {
                kinds::secrets()
            } else {
                Kube::builtin("", "v1", "ConfigMap", "configmaps", true)
            };
            let k = (kind.to_string(), name.clone());
            if !seen.contains_key(&k) {
                let obj = Raw::new(self.client, &info, self.ns()).get_opt(&name).await?;
                seen.insert(k.clone(), obj);
            }
            match seen.get(&k).and_then(Option::as_ref) {
                None if !optional => {
                    self.out.findings.push(format!("{kind} {name} (used by {used_by}) does not exist"))
                }
                Some(obj) => {
                    if let Some(key) = key.filter(|_| !optional) {
                        // Only key names are looked at, never values.
                        let has = ["/data", "/binaryData", "/stringData"]
                            .iter()
                            .any(|p| obj.pointer(p).and_then(Value::as_object).is_some_and(|m| m.contains_key(&key)));
                        if !has {
                            self.out.findings.push(format!("{kind} {name} has no key {key:?} (used by {used_by})"));
                        }
                    }
                }
                None => {}
            }
        }
        let mut linked = BTreeSet::new();
        for ((kind, name), obj) in &seen {
            if obj.is_some() && linked.insert((kind.clone(), name.clone())) {
                self.out.related.push(Link {
                    relation: "uses".into(),
                    object: display(kind, self.ns(), name),
                    status: "exists".into(),
                });
            }
        }
        let pvcs = Kube::builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true);
        for claim in claims {
            match Raw::new(self.client, &pvcs, self.ns()).get_opt(&claim).await? {
                Some(pvc) => {
                    if s(&pvc, "/status/phase") != "Bound" {
                        self.out.findings.push(format!("PersistentVolumeClaim {claim} is {}; the pod cannot start until it is Bound (describe the claim)", s(&pvc, "/status/phase")));
                    }
                    self.link("uses", &pvcs, &pvc);
                }
                None => self.out.findings.push(format!("PersistentVolumeClaim {claim} does not exist")),
            }
        }
        Ok(())
    }

    async fn deployment(&mut self, deploy: &Value) -> Result<(), ToolError> {
        let uid = s(deploy, "/metadata/uid");
        let template_labels = deploy.pointer("/spec/template/metadata/labels").cloned().unwrap_or(json!({}));
        let selector = deploy
            .pointer("/spec/selector")
            .map(|s| LabelSelector::from_object(s).map(|l| l.to_selector_string()).unwrap_or_default())
            .unwrap_or_default();
        let mut details = Map::new();
        details.insert(
            "replicas".into(),
            json!(format!(
                "{} desired, {} updated, {} ready, {} available",
                int(deploy, "/spec/replicas"),
                int(deploy, "/status/updatedReplicas"),
                int(deploy, "/status/readyReplicas"),
                int(deploy, "/status/availableReplicas")
            )),
        );
        details.insert("strategy".into(), json!(s(deploy, "/spec/strategy/type")));
        if deploy.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
            details.insert("paused".into(), json!(true));
            self.out
                .findings
                .push("the Deployment is paused: template changes do not roll out (rollout resume)".into());
        }
        details.insert("selector".into(), json!(selector));
        details.insert("images".into(), json!(images(deploy.pointer("/spec/template/spec"))));
        details.insert("revision".into(), json!(s(deploy, "/metadata/annotations/deployment.kubernetes.io~1revision")));
        self.out.details = Value::Object(details);
        let rs_info = kinds::replica_sets();
        let mut sets: Vec<Value> = self
            .list(&rs_info, self.ns(), &ListParams::default().labels(&selector), 200)
            .await?
            .into_iter()
            .filter(|r| owned_by(r, uid))
            .collect();
        sets.sort_by_key(|r| {
            std::cmp::Reverse(
                s(r, "/metadata/annotations/deployment.kubernetes.io~1revision").parse::<i64>().unwrap_or(0),
            )
        });
        let rs_uids: Vec<String> = sets.iter().map(|r| s(r, "/metadata/uid").to_string()).collect();
        for rs in sets.iter().take(5) {
            let rev = s(rs, "/metadata/annotations/deployment.kubernetes.io~1revision");
            let status = format!(
                "revision {rev}, {}/{} ready, images {}",
                int(rs, "/status/readyReplicas"),
                int(rs, "/spec/replicas"),
                images(rs.pointer("/spec/template/spec"))
            );
            self.out.related.push(Link { relation: "owns".into(), object: display_obj(rs), status });
            self.children.push(("ReplicaSet".into(), s(rs, "/metadata/name").into(), s(rs, "/metadata/uid").into()));
        }
        let pods: Vec<Value> = self
            .list(&kinds::pods(), self.ns(), &ListParams::default().labels(&selector), 1000)
            .await?
            .into_iter()
            .filter(|p| rs_uids.iter().any(|u| owned_by(p, u)))
            .collect();
        self.pods_summary(&pods, "");
        self.selectors_of_template(&template_labels, Some(("Deployment", s(deploy, "/metadata/name")))).await?;
        Ok(())
    }

    /// Services, PodDisruptionBudgets and HPAs around a workload with these pod labels.
    async fn selectors_of_template(&mut self, labels: &Value, target: Option<(&str, &str)>) -> Result<(), ToolError> {
        let as_pod = json!({"metadata": {"labels": labels}});
        let services = kinds::services();
        for svc in self.list(&services, self.ns(), &ListParams::default(), 500).await? {
            if let Some(sel) = svc.pointer("/spec/selector").filter(|m| m.as_object().is_some_and(|m| !m.is_empty()))
                && LabelSelector::from_object(&json!({"matchLabels": sel})).is_ok_and(|l| l.matches_object(&as_pod))
            {
                self.link("exposed by", &services, &svc);
            }
        }
        let pdbs = Kube::builtin("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true);
        for pdb in self.list(&pdbs, self.ns(), &ListParams::default(), 500).await.unwrap_or_default() {
            if pdb
                .pointer("/spec/selector")
                .and_then(|s| LabelSelector::from_object(s).ok())
                .is_some_and(|l| !l.is_empty() && l.matches_object(&as_pod))
            {
                let allowed = int(&pdb, "/status/disruptionsAllowed");
                self.out.related.push(Link {
                    relation: "disruption budget".into(),
                    object: display_obj(&pdb),
                    status: format!(
                        "{allowed} disruptions allowed, {}/{} healthy",
                        int(&pdb, "/status/currentHealthy"),
                        int(&pdb, "/status/desiredHealthy")
                    ),
                });
            }
        }
        if let Some((kind, name)) = target {
            let hpas = Kube::builtin("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true);
            for hpa in self.list(&hpas, self.ns(), &ListParams::default(), 500).await.unwrap_or_default() {
                if s(&hpa, "/spec/scaleTargetRef/kind") == kind && s(&hpa, "/spec/scaleTargetRef/name") == name {
                    let status = format!(
                        "{}..{} replicas, current {}",
                        int(&hpa, "/spec/minReplicas").max(1),
                        int(&hpa, "/spec/maxReplicas"),
                        int(&hpa, "/status/currentReplicas")
                    );
                    self.out.related.push(Link { relation: "scaled by".into(), object: display_obj(&hpa), status });
                }
            }
        }
        Ok(())
    }

    async fn controller(&mut self, info: &ResourceInfo, obj: &Value) -> Result<(), ToolError> {
        let uid = s(obj, "/metadata/uid");
        let selector = obj
            .pointer("/spec/selector")
            .map(|s| LabelSelector::from_object(s).map(|l| l.to_selector_string()).unwrap_or_default())
            .unwrap_or_default();
        let mut details = Map::new();
        details.insert("selector".into(), json!(selector));
        details.insert("images".into(), json!(images(obj.pointer("/spec/template/spec"))));
        for (k, p) in [
            ("replicas", "/spec/replicas"),
            ("parallelism", "/spec/parallelism"),
            ("completions", "/spec/completions"),
            ("backoffLimit", "/spec/backoffLimit"),
        ] {
            if let Some(v) = obj.pointer(p) {
                details.insert(k.into(), v.clone());
            }
        }
        self.out.details = Value::Object(details);
        let pods: Vec<Value> = self
            .list(&kinds::pods(), self.ns(), &ListParams::default().labels(&selector), 1000)
            .await?
            .into_iter()
            .filter(|p| owned_by(p, uid))
            .collect();
        self.pods_summary(&pods, "");
        if info.kind != "Job" {
            let labels = obj.pointer("/spec/template/metadata/labels").cloned().unwrap_or(json!({}));
            self.selectors_of_template(&labels, Some((&info.kind, s(obj, "/metadata/name")))).await?;
        }
        Ok(())
    }

    async fn cronjob(&mut self, cj: &Value) -> Result<(), ToolError> {
        let uid = s(cj, "/metadata/uid");
        self.out.details = json!({"schedule": s(cj, "/spec/schedule"), "suspend": cj.pointer("/spec/suspend").cloned().unwrap_or(json!(false)),
            "lastSchedule": common::age_of(cj.pointer("/status/lastScheduleTime"), self.now), "images": images(cj.pointer("/spec/jobTemplate/spec/template/spec"))});
        let jobs_info = Kube::builtin("batch", "v1", "Job", "jobs", true);
        let mut jobs: Vec<Value> = self
            .list(&jobs_info, self.ns(), &ListParams::default(), 500)
            .await?
            .into_iter()
            .filter(|j| owned_by(j, uid))
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(s(j, "/metadata/creationTimestamp").to_string()));
        for j in jobs.iter().take(5) {
            self.link("owns", &jobs_info, j);
            self.children.push(("Job".into(), s(j, "/metadata/name").into(), s(j, "/metadata/uid").into()));
        }
        let failed = jobs
            .iter()
            .filter(|j| {
                arr(j, "/status/conditions").iter().any(|c| s(c, "/type") == "Failed" && s(c, "/status") == "True")
            })
            .count();
        if failed > 0 {
            self.out.findings.push(format!("{failed} of the {} recent jobs failed", jobs.len()));
        }
        Ok(())
    }

    async fn service(&mut self, svc: &Value) -> Result<(), ToolError> {
        let name = s(svc, "/metadata/name");
        let ports: Vec<String> = arr(svc, "/spec/ports")
            .iter()
            .map(|p| {
                let target = p
                    .get("targetPort")
                    .map(|t| t.as_str().map(str::to_string).unwrap_or_else(|| t.to_string()))
                    .unwrap_or_default();
                format!(
                    "{}{}→{}/{}",
                    if s(p, "/name").is_empty() { String::new() } else { format!("{} ", s(p, "/name")) },
                    int(p, "/port"),
                    target,
                    if s(p, "/protocol").is_empty() { "TCP" } else { s(p, "/protocol") }
                )
            })
            .collect();
        let selector = svc.pointer("/spec/selector").cloned().filter(|m| m.as_object().is_some_and(|m| !m.is_empty()));
        self.out.details = json!({"type": s(svc, "/spec/type"), "clusterIP": s(svc, "/spec/clusterIP"), "ports": ports, "selector": selector.as_ref().map(|m| labels_text(Some(m))).unwrap_or_else(|| "none".into())});
        // EndpointSlices.
        let slices_info = Kube::builtin("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true);
        let slices = self
            .list(
                &slices_info,
                self.ns(),
                &ListParams::default().labels(&format!("kubernetes.io/service-name={name}")),
                100,
            )
            .await
            .unwrap_or_default();
        let (mut ready, mut not_ready) = (0, 0);
        for slice in &slices {
            let eps = arr(slice, "/endpoints");
            let r =
                eps.iter().filter(|e| e.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false)).count();
            ready += r;
            not_ready += eps.len() - r;
            self.out.related.push(Link {
                relation: "endpoints".into(),
                object: display_obj(slice),
                status: format!("{r} ready, {} not ready", eps.len() - r),
            });
        }
        let Some(selector) = selector else {
            self.out.findings.push("the Service has no selector: its endpoints are managed by hand".into());
            return Ok(());
        };
        let sel_text = labels_text(Some(&selector));
        let all_pods = self.list(&kinds::pods(), self.ns(), &ListParams::default(), 2000).await?;
        let sel = LabelSelector::from_object(&json!({"matchLabels": selector}))
            .map_err(|e| ToolError::Internal(e.to_string()))?;
        let pods: Vec<Value> = all_pods.iter().filter(|p| sel.matches_object(p)).cloned().collect();
        if pods.is_empty() {
            // Show which values the pods here do have for the selector's keys.
            let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for key in selector.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                for p in &all_pods {
                    if let Some(v) = p
                        .pointer(&format!("/metadata/labels/{}", key.replace('~', "~0").replace('/', "~1")))
                        .and_then(Value::as_str)
                    {
                        seen.entry(key.clone()).or_default().insert(v.to_string());
                    }
                }
            }
            let hint = if seen.is_empty() {
                String::new()
            } else {
                format!(
                    "; pods here have {}",
                    seen.iter()
                        .map(|(k, v)| format!("{k}={}", v.iter().take(5).cloned().collect::<Vec<_>>().join("|")))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.out.findings.push(format!(
                "selector {sel_text} matches no pod in namespace {}{hint}: the Service has no endpoints",
                self.ns().unwrap_or("")
            ));
        } else {
            if ready == 0 {
                self.out.findings.push(format!(
                    "{} pod(s) match the selector but none is a ready endpoint; traffic to {name} fails",
                    pods.len()
                ));
            } else if not_ready > 0 {
                self.out.findings.push(format!("{not_ready} endpoint(s) not ready"));
            }
            // Named target ports must exist on the pods.
            for p in arr(svc, "/spec/ports") {
                if let Some(port_name) = p.get("targetPort").and_then(Value::as_str) {
                    let exposes = pods.iter().any(|pod| {
                        arr(pod, "/spec/containers")
                            .iter()
                            .any(|c| arr(c, "/ports").iter().any(|cp| s(cp, "/name") == port_name))
                    });
                    if !exposes {
                        self.out.findings.push(format!(
                            "targetPort {port_name:?} is not a named container port of the selected pods"
                        ));
                    }
                }
            }
            self.pods_summary(&pods, " selected");
        }
        Ok(())
    }

    async fn pvc(&mut self, pvc: &Value) -> Result<(), ToolError> {
        let name = s(pvc, "/metadata/name");
        self.out.details = json!({"phase": s(pvc, "/status/phase"), "storageClass": s(pvc, "/spec/storageClassName"), "requested": s(pvc, "/spec/resources/requests/storage"),
            "capacity": s(pvc, "/status/capacity/storage"), "accessModes": pvc.pointer("/spec/accessModes").cloned().unwrap_or(json!([])), "volume": s(pvc, "/spec/volumeName")});
        let volume = s(pvc, "/spec/volumeName");
        let pvs = Kube::builtin("", "v1", "PersistentVolume", "persistentvolumes", false);
        if !volume.is_empty() {
            match Raw::new(self.client, &pvs, None).get_opt(volume).await? {
                Some(pv) => self.link("bound to", &pvs, &pv),
                None => self.out.findings.push(format!("PersistentVolume {volume} does not exist (claim is Lost?)")),
            }
        }
        self.storage_class(
            pvc.pointer("/spec/storageClassName").and_then(Value::as_str),
            s(pvc, "/status/phase") != "Bound",
        )
        .await?;
        let pods = self.list(&kinds::pods(), self.ns(), &ListParams::default(), 2000).await?;
        let pod_info = kinds::pods();
        for p in pods
            .iter()
            .filter(|p| arr(p, "/spec/volumes").iter().any(|v| s(v, "/persistentVolumeClaim/claimName") == name))
        {
            self.link("used by", &pod_info, p);
        }
        Ok(())
    }

    async fn storage_class(&mut self, class: Option<&str>, pending: bool) -> Result<(), ToolError> {
        let scs = Kube::builtin("storage.k8s.io", "v1", "StorageClass", "storageclasses", false);
        let sc = match class {
            Some("") => return Ok(()),
            Some(c) => match Raw::new(self.client, &scs, None).get_opt(c).await? {
                Some(sc) => Some(sc),
                None => {
                    self.out.findings.push(format!(
                        "StorageClass {c} does not exist{}",
                        if pending { ": nothing can provision the volume, the claim stays Pending" } else { "" }
                    ));
                    return Ok(());
                }
            },
            None => {
                let all = self.list(&scs, None, &ListParams::default(), 100).await?;
                let default = all
                    .into_iter()
                    .find(|sc| s(sc, "/metadata/annotations/storageclass.kubernetes.io~1is-default-class") == "true");
                if default.is_none() && pending {
                    self.out.findings.push(
                        "no storageClassName and no default StorageClass: the claim waits for a matching volume".into(),
                    );
                }
                default
            }
        };
        if let Some(sc) = sc {
            let status = format!("provisioner {}, binding {}", s(&sc, "/provisioner"), s(&sc, "/volumeBindingMode"));
            self.out.related.push(Link { relation: "storage class".into(), object: display_obj(&sc), status });
        }
        Ok(())
    }

    async fn pv(&mut self, pv: &Value) -> Result<(), ToolError> {
        self.out.details = json!({"phase": s(pv, "/status/phase"), "capacity": s(pv, "/spec/capacity/storage"), "reclaimPolicy": s(pv, "/spec/persistentVolumeReclaimPolicy"), "storageClass": s(pv, "/spec/storageClassName")});
        let (ns, claim) = (s(pv, "/spec/claimRef/namespace"), s(pv, "/spec/claimRef/name"));
        if !claim.is_empty() {
            let pvcs = Kube::builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true);
            match Raw::new(self.client, &pvcs, Some(ns)).get_opt(claim).await? {
                Some(pvc) => self.link("claimed by", &pvcs, &pvc),
                None => self.out.findings.push(format!("claim {ns}/{claim} no longer exists")),
            }
        }
        self.storage_class(pv.pointer("/spec/storageClassName").and_then(Value::as_str), false).await
    }

    async fn node(&mut self, node: &Value) -> Result<(), ToolError> {
        let name = s(node, "/metadata/name");
        let pods = self
            .list(&kinds::pods(), None, &ListParams::default().fields(&format!("spec.nodeName={name}")), 2000)
            .await?;
        let active: Vec<&Value> =
            pods.iter().filter(|p| !matches!(s(p, "/status/phase"), "Succeeded" | "Failed")).collect();
        let (mut cpu, mut mem) = (0i64, 0i64);
        for p in &active {
            for c in arr(p, "/spec/containers") {
                cpu += c
                    .pointer("/resources/requests/cpu")
                    .and_then(Value::as_str)
                    .and_then(binnacle_objects::quantity::cpu_millis)
                    .unwrap_or(0);
                mem += c
                    .pointer("/resources/requests/memory")
                    .and_then(Value::as_str)
                    .and_then(binnacle_objects::quantity::memory_bytes)
                    .unwrap_or(0);
            }
        }
        let alloc_cpu = s(node, "/status/allocatable/cpu");
        let alloc_mem = s(node, "/status/allocatable/memory");
        let pct = |used: i64, total: Option<i64>| {
            total.filter(|t| *t > 0).map(|t| format!(" ({}%)", used * 100 / t)).unwrap_or_default()
        };
        let taints: Vec<String> = arr(node, "/spec/taints")
            .iter()
            .map(|t| {
                format!(
                    "{}{}:{}",
                    s(t, "/key"),
                    if s(t, "/value").is_empty() { String::new() } else { format!("={}", s(t, "/value")) },
                    s(t, "/effect")
                )
            })
            .collect();
        self.out.details = json!({
            "unschedulable": node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false),
            "taints": taints,
            "allocatable": format!("cpu {alloc_cpu}, memory {alloc_mem}, pods {}", s(node, "/status/allocatable/pods")),
            "requested": format!("cpu {}m{}, memory {}Mi{}", cpu, pct(cpu, binnacle_objects::quantity::cpu_millis(alloc_cpu)), mem / (1024 * 1024), pct(mem, binnacle_objects::quantity::memory_bytes(alloc_mem))),
            "kubelet": s(node, "/status/nodeInfo/kubeletVersion"),
            "pods": active.len(),
        });
        for problem in node_problems(node) {
            self.out.findings.push(problem);
        }
        let owned: Vec<Value> = active.into_iter().cloned().collect();
        let pod_info = kinds::pods();
        let troubled: Vec<&Value> =
            owned.iter().filter(|p| !matches!(table::pod_status(p).as_str(), "Running" | "Completed")).collect();
        for p in troubled.iter().take(10) {
            self.link("runs", &pod_info, p);
        }
        if !troubled.is_empty() {
            self.out.findings.push(format!("{} pod(s) on the node are not running", troubled.len()));
        }
        Ok(())
    }

    async fn hpa(&mut self, hpa: &Value) -> Result<(), ToolError> {
        let (api_version, kind, name) = (
            s(hpa, "/spec/scaleTargetRef/apiVersion"),
            s(hpa, "/spec/scaleTargetRef/kind"),
            s(hpa, "/spec/scaleTargetRef/name"),
        );
        self.out.details = json!({"target": format!("{kind}/{name}"), "replicas": format!("min {}, max {}, current {}, desired {}", int(hpa, "/spec/minReplicas").max(1), int(hpa, "/spec/maxReplicas"), int(hpa, "/status/currentReplicas"), int(hpa, "/status/desiredReplicas"))});
        if let Some(info) = self.kube.discovery.by_gvk(self.ctx, self.client, api_version, kind).await? {
            match Raw::new(self.client, &info, self.ns()).get_opt(name).await? {
                Some(t) => self.link("scales", &info, &t),
                None => self.out.findings.push(format!("scale target {kind} {name} does not exist")),
            }
        }
        Ok(())
    }

    async fn ingress(&mut self, ing: &Value) -> Result<(), ToolError> {
        let mut backends = BTreeSet::new();
        if let Some(svc) = ing.pointer("/spec/defaultBackend/service/name").and_then(Value::as_str) {
            backends.insert(svc.to_string());
        }
        for rule in arr(ing, "/spec/rules") {
            for path in arr(rule, "/http/paths") {
                if let Some(svc) = path.pointer("/backend/service/name").and_then(Value::as_str) {
                    backends.insert(svc.to_string());
                }
            }
        }
        self.out.details = json!({"class": s(ing, "/spec/ingressClassName"), "hosts": arr(ing, "/spec/rules").iter().map(|r| s(r, "/host")).collect::<Vec<_>>(), "backends": backends});
        let services = kinds::services();
        for b in backends {
            match Raw::new(self.client, &services, self.ns()).get_opt(&b).await? {
                Some(svc) => self.link("routes to", &services, &svc),
                None => self.out.findings.push(format!("backend Service {b} does not exist")),
            }
        }
        Ok(())
    }

    /// Any other kind: labels, data keys (never values), spec.
    fn generic(&mut self, obj: &Value) {
        let mut details = Map::new();
        let labels = labels_text(obj.pointer("/metadata/labels"));
        if !labels.is_empty() {
            details.insert("labels".into(), json!(labels));
        }
        for field in ["data", "binaryData", "stringData"] {
            if let Some(m) = obj.get(field).and_then(Value::as_object) {
                let keys: Vec<String> =
                    m.iter().map(|(k, v)| format!("{k} ({} bytes)", v.as_str().map(str::len).unwrap_or(0))).collect();
                details.insert(format!("{field}Keys"), json!(keys));
            }
        }
        if s(obj, "/kind") == "Secret" {
            details.insert("type".into(), json!(s(obj, "/type")));
        } else if let Some(spec) = obj.get("spec") {
            let mut spec = json!({"kind": "x", "spec": spec});
            scrub(&mut spec);
            details.insert("spec".into(), spec["spec"].take());
        }
        self.out.details = Value::Object(details);
    }
}

/// A literal env value (credentials redacted) or where it comes from (never a Secret's value).
fn env_text(e: &Value) -> String {
    let name = s(e, "/name");
    if let Some(v) = e.get("value").and_then(Value::as_str) {
        return format!("{name}={}", truncate(&redact_credentials(&untrusted_text(v)), 200));
    }
    if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
        return format!("{name} from secret {} key {}", s(r, "/name"), s(r, "/key"));
    }
    if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
        return format!("{name} from configMap {} key {}", s(r, "/name"), s(r, "/key"));
    }
    if let Some(r) = e.pointer("/valueFrom/fieldRef") {
        return format!("{name} from field {}", s(r, "/fieldPath"));
    }
    if let Some(r) = e.pointer("/valueFrom/resourceFieldRef") {
        return format!("{name} from resource {}", s(r, "/resource"));
    }
    name.to_string()
}

fn volume_text(v: &Value) -> String {
    let name = s(v, "/name");
    let source = if let Some(r) = v.get("persistentVolumeClaim") {
        format!("pvc {}", s(r, "/claimName"))
    } else if let Some(r) = v.get("configMap") {
        format!("configMap {}", s(r, "/name"))
    } else if let Some(r) = v.get("secret") {
        format!("secret {}", s(r, "/secretName"))
    } else {
        v.as_object().and_then(|m| m.keys().find(|k| *k != "name").cloned()).unwrap_or_default()
    };
    format!("{name}: {source}")
}

/// `nginx:1.27, sidecar:2` for a pod spec.
pub fn images(spec: Option<&Value>) -> String {
    spec.map(|sp| arr(sp, "/containers").iter().map(|c| s(c, "/image")).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// What is wrong with a container, if anything.
fn container_problem(st: &Value, now: Timestamp) -> Option<String> {
    let waiting = st.pointer("/state/waiting");
    let last = st.pointer("/lastState/terminated");
    let restarts = int(st, "/restartCount");
    let mut parts = Vec::new();
    if let Some(w) = waiting {
        let reason = s(w, "/reason");
        if !matches!(reason, "ContainerCreating" | "PodInitializing" | "") {
            let msg = s(w, "/message");
            parts.push(format!(
                "{reason}{}",
                if msg.is_empty() { String::new() } else { format!(" — {}", truncate(&untrusted_text(msg), 200)) }
            ));
        }
    }
    if let Some(t) = st.pointer("/state/terminated")
        && int(t, "/exitCode") != 0
    {
        parts.push(format!("terminated {} (exit {})", s(t, "/reason"), int(t, "/exitCode")));
    }
    if let Some(t) = last
        && restarts > 0
    {
        let reason = s(t, "/reason");
        let hint = match reason {
            "OOMKilled" => " — it ran out of memory: raise the memory limit or fix the leak",
            "Error" | "" => " — read pod_logs with previous=true",
            _ => "",
        };
        parts.push(format!(
            "restarted {restarts} times, last exit {reason} (code {}) {} ago{hint}",
            int(t, "/exitCode"),
            common::age_of(t.get("finishedAt"), now)
        ));
    }
    if parts.is_empty()
        && st.get("ready").and_then(Value::as_bool) == Some(false)
        && st.pointer("/state/running").is_some()
    {
        parts.push("running but not ready (readiness probe failing?)".into());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The first container problem of a pod, for summaries.
pub fn first_container_problem(pod: &Value, now: Timestamp) -> Option<String> {
    if s(pod, "/status/phase") == "Pending"
        && let Some(c) = arr(pod, "/status/conditions")
            .iter()
            .find(|c| s(c, "/type") == "PodScheduled" && s(c, "/status") == "False")
    {
        return Some(format!("unschedulable: {}", truncate(&untrusted_text(s(c, "/message")), 200)));
    }
    arr(pod, "/status/initContainerStatuses")
        .iter()
        .chain(arr(pod, "/status/containerStatuses"))
        .find_map(|st| container_problem(st, now).map(|p| format!("container {}: {p}", s(st, "/name"))))
}

/// What is wrong with a node, if anything.
fn node_problems(node: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        out.push("cordoned (unschedulable): no new pods are placed on it".to_string());
    }
    for c in arr(node, "/status/conditions") {
        let (t, st) = (s(c, "/type"), s(c, "/status"));
        if (t == "Ready" && st != "True") || (negative(t) && st == "True") {
            out.push(format!("{t}={st}: {}", untrusted_text(s(c, "/message"))));
        }
    }
    out
}
