//! What the Argo Rollouts tools share: the `argoproj.io/v1alpha1` resources through kube-rs' dynamic
//! API, the "Argo Rollouts is not installed" check, a Rollout's ReplicaSets, and the status summary the
//! `kubectl argo rollouts` plugin shows (phase, step, weight, stable and canary ReplicaSets).

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::validate;
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

/// The Argo API group and version.
pub const GROUP_VERSION: &str = "argoproj.io/v1alpha1";
/// The pod template hash label Argo puts on ReplicaSets and pods.
pub const HASH_LABEL: &str = "rollouts-pod-template-hash";
/// The revision annotation on ReplicaSets and Rollouts.
pub const REVISION: &str = "rollout.argoproj.io/revision";
/// The field manager of writes.
pub const FIELD_MANAGER: &str = "binnacle";

/// An Argo resource kind.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `rollouts`.
    Rollout,
    /// `analysisruns`.
    AnalysisRun,
    /// `experiments`.
    Experiment,
}

impl Kind {
    fn kind(self) -> &'static str {
        match self {
            Kind::Rollout => "Rollout",
            Kind::AnalysisRun => "AnalysisRun",
            Kind::Experiment => "Experiment",
        }
    }

    /// The resource's plural name.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Rollout => "rollouts",
            Kind::AnalysisRun => "analysisruns",
            Kind::Experiment => "experiments",
        }
    }

    fn resource(self) -> ApiResource {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", self.kind()), self.plural())
    }
}

/// The namespace a call uses: the argument, else the context's default namespace.
pub fn namespace_of(client: &Client, ns: Option<&str>) -> String {
    ns.map(str::to_string).unwrap_or_else(|| client.default_namespace().to_string())
}

/// Checks an optional namespace and a name.
pub fn check_target(namespace: Option<&str>, name: &str) -> Result<(), ToolError> {
    if let Some(ns) = namespace {
        validate::namespace(ns)?;
    }
    validate::object_name(name)
}

/// The dynamic API of an Argo kind, in a namespace or across all.
pub fn api(client: &Client, kind: Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &kind.resource()),
        None => Api::all_with(client.clone(), &kind.resource()),
    }
}

/// Maps a kube error, turning "the resource type is not served" into a clear "not installed".
pub async fn map_error(ctx: &ToolContext, client: &Client, kind: Kind, e: kube::Error) -> ToolError {
    let is_404 = matches!(&e, kube::Error::Api(s) if s.code == 404);
    if is_404 && !served(client, kind).await {
        return not_installed(ctx, kind);
    }
    ToolError::from(e)
}

/// Whether the cluster serves an Argo kind.
async fn served(client: &Client, kind: Kind) -> bool {
    match client.list_api_group_resources(GROUP_VERSION).await {
        Ok(list) => list.resources.iter().any(|r| r.name == kind.plural()),
        Err(_) => false,
    }
}

fn not_installed(ctx: &ToolContext, kind: Kind) -> ToolError {
    ToolError::MissingDependency(format!(
        "Argo Rollouts is not installed in context {}: the cluster does not serve {}.{GROUP_VERSION} (install the Argo Rollouts CRDs and controller, or pick another context)",
        ctx.context_name().unwrap_or("(default)"),
        kind.plural()
    ))
}

/// Gets one object as JSON.
pub async fn get(ctx: &ToolContext, client: &Client, kind: Kind, ns: &str, name: &str) -> Result<Value, ToolError> {
    match api(client, kind, Some(ns)).get(name).await {
        Ok(obj) => to_value(obj),
        Err(e) => match map_error(ctx, client, kind, e).await {
            ToolError::NotFound(_) => Err(ToolError::NotFound(format!(
                "{} {ns}/{name} not found; list them with argo_rollouts_list",
                kind.kind()
            ))),
            other => Err(other),
        },
    }
}

/// Lists objects as JSON.
pub async fn list(
    ctx: &ToolContext,
    client: &Client,
    kind: Kind,
    ns: Option<&str>,
    lp: &ListParams,
) -> Result<Vec<Value>, ToolError> {
    match api(client, kind, ns).list(lp).await {
        Ok(list) => list.items.into_iter().map(to_value).collect(),
        Err(e) => Err(map_error(ctx, client, kind, e).await),
    }
}

fn to_value<T: Serialize>(obj: T) -> Result<Value, ToolError> {
    serde_json::to_value(obj).map_err(|e| ToolError::Internal(format!("object does not serialise: {e}")))
}

/// Patches a Rollout's spec (merge or JSON patch), or with `dry_run` only has the server check it;
/// returns the (would-be) Rollout.
pub async fn patch_spec(
    ctx: &ToolContext,
    client: &Client,
    ns: &str,
    name: &str,
    patch: &Patch<Value>,
    dry_run: bool,
) -> Result<Value, ToolError> {
    let pp = PatchParams { dry_run, field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
    match api(client, Kind::Rollout, Some(ns)).patch(name, &pp, patch).await {
        Ok(obj) => to_value(obj),
        Err(e) => Err(map_error(ctx, client, Kind::Rollout, e).await),
    }
}

/// Replaces a Rollout (the whole object, with its `resourceVersion`: a concurrent change fails with 409),
/// or with `dry_run` only has the server check it; returns the (would-be) Rollout.
pub async fn replace(
    ctx: &ToolContext,
    client: &Client,
    ns: &str,
    name: &str,
    obj: Value,
    dry_run: bool,
) -> Result<Value, ToolError> {
    let obj: DynamicObject =
        serde_json::from_value(obj).map_err(|e| ToolError::Internal(format!("Rollout does not parse: {e}")))?;
    let pp = kube::api::PostParams { dry_run, field_manager: Some(FIELD_MANAGER.into()) };
    match api(client, Kind::Rollout, Some(ns)).replace(name, &pp, &obj).await {
        Ok(obj) => to_value(obj),
        Err(e) => Err(map_error(ctx, client, Kind::Rollout, e).await),
    }
}

/// Merge-patches a Rollout's status through the status subresource, as the kubectl plugin does (with
/// `dry_run`, only checked by the server); returns the (would-be) Rollout.
pub async fn patch_status(
    ctx: &ToolContext,
    client: &Client,
    ns: &str,
    name: &str,
    patch: Value,
    dry_run: bool,
) -> Result<Value, ToolError> {
    let pp = PatchParams { dry_run, field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
    match api(client, Kind::Rollout, Some(ns)).patch_status(name, &pp, &Patch::Merge(patch)).await {
        Ok(obj) => to_value(obj),
        Err(e) => Err(map_error(ctx, client, Kind::Rollout, e).await),
    }
}

/// The ReplicaSets a Rollout owns, as JSON, newest revision first.
pub async fn owned_replicasets(client: &Client, ro: &Value) -> Result<Vec<Value>, ToolError> {
    let ns = str_at(ro, "/metadata/namespace");
    let uid = str_at(ro, "/metadata/uid");
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
    let mut lp = ListParams::default();
    if let Some(labels) = ro.pointer("/spec/selector/matchLabels").and_then(Value::as_object) {
        let sel: Vec<String> = labels.iter().filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}"))).collect();
        if !sel.is_empty() {
            lp = lp.labels(&sel.join(","));
        }
    }
    let list = api.list(&lp).await?;
    let mut out: Vec<Value> = list
        .items
        .into_iter()
        .filter_map(|rs| serde_json::to_value(rs).ok())
        .filter(|rs| {
            rs.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| str_at(r, "/uid") == uid))
        })
        .collect();
    out.sort_by_key(|rs| std::cmp::Reverse(revision_of(rs)));
    Ok(out)
}

/// A string at a JSON pointer ("" when absent).
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// An integer at a JSON pointer (0 when absent).
pub fn int_at(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The revision annotation of a ReplicaSet or Rollout.
pub fn revision_of(obj: &Value) -> i64 {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The pod template hash of a ReplicaSet.
pub fn hash_of(rs: &Value) -> &str {
    rs.pointer("/metadata/labels").and_then(|l| l.get(HASH_LABEL)).and_then(Value::as_str).unwrap_or("")
}

/// The container images of a pod template (`name=image`).
pub fn images(template: Option<&Value>) -> Vec<String> {
    let Some(t) = template else { return Vec::new() };
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| t.pointer(&format!("/spec/{k}")).and_then(Value::as_array))
        .flatten()
        .map(|c| format!("{}={}", str_at(c, "/name"), str_at(c, "/image")))
        .collect()
}

/// A ReplicaSet as the status shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetInfo {
    /// Name.
    pub name: String,
    /// Pod template hash.
    pub hash: String,
    /// Rollout revision.
    pub revision: i64,
    /// Desired pods.
    pub replicas: i64,
    /// Ready pods.
    pub ready: i64,
    /// Available pods.
    pub available: i64,
    /// `container=image` of its template.
    pub images: Vec<String>,
}

/// Reads a ReplicaSet.
pub fn rs_info(rs: &Value) -> ReplicaSetInfo {
    ReplicaSetInfo {
        name: str_at(rs, "/metadata/name").to_string(),
        hash: hash_of(rs).to_string(),
        revision: revision_of(rs),
        replicas: int_at(rs, "/spec/replicas"),
        ready: int_at(rs, "/status/readyReplicas"),
        available: int_at(rs, "/status/availableReplicas"),
        images: images(rs.pointer("/spec/template")),
    }
}

/// The state of a Rollout, as `kubectl argo rollouts status/get` shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSummary {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// `canary` or `blueGreen`.
    pub strategy: String,
    /// `Healthy`, `Progressing`, `Paused`, `Degraded` (Argo's phase).
    pub phase: String,
    /// Why (`CanaryPauseStep`, `RolloutAborted: ...`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Paused by hand (`spec.paused`).
    pub paused: bool,
    /// Reasons the controller paused it (`CanaryPauseStep`, `BlueGreenPause`).
    pub pause_reasons: Vec<String>,
    /// The update was aborted.
    pub aborted: bool,
    /// Current step index (canary with steps).
    pub step: Option<i64>,
    /// Number of canary steps.
    pub total_steps: Option<i64>,
    /// The current step, e.g. `pause` or `setWeight: 60`.
    pub current_step: Option<String>,
    /// The canary weight the steps ask for (0-100).
    pub set_weight: Option<i64>,
    /// The share of available pods that run the canary (0-100).
    pub actual_weight: Option<i64>,
    /// Desired pods.
    pub desired: i64,
    /// Pods in all ReplicaSets.
    pub current: i64,
    /// Pods of the current template.
    pub updated: i64,
    /// Ready pods.
    pub ready: i64,
    /// Available pods.
    pub available: i64,
    /// The revision of the current template.
    pub revision: i64,
    /// `container=image` of the current template.
    pub images: Vec<String>,
    /// The stable ReplicaSet.
    pub stable: Option<ReplicaSetInfo>,
    /// The canary (or preview) ReplicaSet, while an update is in progress.
    pub canary: Option<ReplicaSetInfo>,
}

/// A canary step as Argo names it (`setWeight: 20`, `pause`, `pause: 30s`, `analysis`).
pub fn step_string(step: &Value) -> String {
    if let Some(w) = step.get("setWeight").and_then(Value::as_i64) {
        return format!("setWeight: {w}");
    }
    if let Some(p) = step.get("pause") {
        return match p.get("duration") {
            Some(Value::String(d)) => format!("pause: {d}"),
            Some(Value::Number(n)) => format!("pause: {n}s"),
            _ => "pause".into(),
        };
    }
    step.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_else(|| "unknown".into())
}

/// Summarises a Rollout with its ReplicaSets.
pub fn summarize(ro: &Value, replicasets: &[Value]) -> RolloutSummary {
    let st = ro.get("status").cloned().unwrap_or(json!({}));
    let blue_green = ro.pointer("/spec/strategy/blueGreen").is_some_and(Value::is_object);
    let steps: Vec<Value> =
        ro.pointer("/spec/strategy/canary/steps").and_then(Value::as_array).cloned().unwrap_or_default();
    let stable_hash = str_at(&st, "/stableRS");
    let current_hash = str_at(&st, "/currentPodHash");
    let aborted = st.get("abort").and_then(Value::as_bool) == Some(true);
    let step = st.get("currentStepIndex").and_then(Value::as_i64);
    let total = (!blue_green && !steps.is_empty()).then_some(steps.len() as i64);
    let promoted = !stable_hash.is_empty() && stable_hash == current_hash;
    let set_weight = if blue_green {
        None
    } else if let Some(w) = st.pointer("/canary/weights/canary/weight").and_then(Value::as_i64) {
        Some(w)
    } else if promoted || steps.is_empty() {
        Some(100)
    } else if aborted {
        Some(0)
    } else {
        let idx = step.unwrap_or(0).max(0) as usize;
        if idx >= steps.len() {
            Some(100)
        } else {
            Some(steps[..=idx].iter().rev().find_map(|s| s.get("setWeight").and_then(Value::as_i64)).unwrap_or(0))
        }
    };
    let find = |hash: &str| replicasets.iter().find(|rs| !hash.is_empty() && hash_of(rs) == hash).map(rs_info);
    let stable = find(stable_hash);
    let canary = if promoted { None } else { find(current_hash) };
    let available: i64 = replicasets.iter().map(|rs| int_at(rs, "/status/availableReplicas")).sum();
    let actual_weight = match (&canary, available) {
        (_, 0) => None,
        (Some(c), total_available) => Some(c.available * 100 / total_available),
        (None, _) if promoted => Some(100),
        (None, _) => None,
    };
    let current_step = match (step, total) {
        (Some(i), Some(t)) if i < t => steps.get(i as usize).map(step_string),
        _ => None,
    };
    RolloutSummary {
        name: str_at(ro, "/metadata/name").to_string(),
        namespace: str_at(ro, "/metadata/namespace").to_string(),
        strategy: if blue_green { "blueGreen" } else { "canary" }.to_string(),
        phase: st.get("phase").and_then(Value::as_str).unwrap_or("Unknown").to_string(),
        message: str_at(&st, "/message").to_string(),
        paused: ro.pointer("/spec/paused").and_then(Value::as_bool) == Some(true),
        pause_reasons: st
            .get("pauseConditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| str_at(c, "/reason").to_string())
            .collect(),
        aborted,
        step,
        total_steps: total,
        current_step,
        set_weight,
        actual_weight,
        desired: ro.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1),
        current: int_at(&st, "/replicas"),
        updated: int_at(&st, "/updatedReplicas"),
        ready: int_at(&st, "/readyReplicas"),
        available: int_at(&st, "/availableReplicas"),
        revision: revision_of(ro),
        images: images(ro.pointer("/spec/template")),
        stable,
        canary,
    }
}

/// One line about a Rollout: `rollouts/checkout: Paused (CanaryPauseStep), step 1/4, weight 20`.
pub fn one_line(s: &RolloutSummary) -> String {
    let mut line = format!("{}/{}: {}", s.namespace, s.name, s.phase);
    if !s.message.is_empty() {
        line.push_str(&format!(" ({})", s.message));
    }
    if let (Some(i), Some(t)) = (s.step, s.total_steps) {
        line.push_str(&format!(", step {i}/{t}"));
    }
    if let Some(w) = s.set_weight {
        line.push_str(&format!(", weight {w}%"));
    }
    line.push_str(&format!(", {}/{} available", s.available, s.desired));
    line
}

/// Reads a Rollout and its ReplicaSets and summarises them.
pub async fn status_of(
    ctx: &ToolContext,
    client: &Client,
    ns: &str,
    name: &str,
) -> Result<(Value, Vec<Value>, RolloutSummary), ToolError> {
    let ro = get(ctx, client, Kind::Rollout, ns, name).await?;
    let rs = owned_replicasets(client, &ro).await?;
    let summary = summarize(&ro, &rs);
    Ok((ro, rs, summary))
}

/// What a write did, and the Rollout right after it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutChange {
    /// What was done (`promote`, `abort`...).
    pub action: String,
    /// The patches sent, e.g. `status {"pauseConditions":null}` (empty: nothing needed changing).
    pub patches: Vec<String>,
    /// The Rollout as it was right after the patch (the controller reacts within moments: follow with
    /// argo_rollout_status); with dryRun, as it is.
    pub rollout: RolloutSummary,
    /// With dryRun: unified diff of the Rollout (YAML, status included) the patches would make.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// Builds the reply of a write: re-reads the Rollout and says what was sent; for a dry run (`preview`),
/// what would be sent and the diff it would make.
#[allow(clippy::too_many_arguments)]
pub async fn change_reply(
    ctx: &ToolContext,
    client: &Client,
    ns: &str,
    name: &str,
    action: &str,
    patches: Vec<String>,
    done: String,
    preview: Option<Preview>,
) -> Result<crate::output::Reply<RolloutChange>, ToolError> {
    if let Some(preview) = preview {
        return dry_run_reply(ctx, client, ns, name, action, patches, preview).await;
    }
    let (_, _, rollout) = status_of(ctx, client, ns, name).await?;
    let summary = if patches.is_empty() {
        format!("{done} Nothing needed changing: {}.", one_line(&rollout))
    } else {
        format!("{done} Now {}. Follow with argo_rollout_status.", one_line(&rollout))
    };
    Ok(crate::output::Reply::new(summary, RolloutChange { action: action.to_string(), patches, rollout, diff: None }))
}

/// The Rollout a dry run previews, built from the server's answers to the dry-run writes.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The Rollout as read before the writes.
    pub before: Value,
    /// The Rollout as the writes would leave it.
    pub after: Value,
    /// Whether a write of the object (spec, metadata) was answered.
    object: bool,
    /// Whether a write of the status subresource was answered.
    status: bool,
}

impl Preview {
    /// A preview of no change yet.
    pub fn new(ro: &Value) -> Self {
        Self { before: ro.clone(), after: ro.clone(), object: false, status: false }
    }

    /// Takes in the server's answer to a dry-run write of the object, or with `status` of its status
    /// subresource. Each answer is the whole Rollout; an object write leaves the status alone and a
    /// status write everything else, so when both were previewed each contributes its own part.
    pub fn answer(&mut self, answer: Value, status: bool) {
        let previous = std::mem::replace(&mut self.after, answer);
        if status && self.object {
            let st = self.after.get("status").cloned();
            self.after = previous;
            set_or_remove(&mut self.after, "status", st);
        } else if !status && self.status {
            set_or_remove(&mut self.after, "status", previous.get("status").cloned());
        }
        if status {
            self.status = true;
        } else {
            self.object = true;
        }
    }
}

/// Takes the answer to a dry-run write into the preview, if this is a dry run.
pub fn record(preview: &mut Option<Preview>, answer: Value, status: bool) {
    if let Some(p) = preview {
        p.answer(answer, status);
    }
}

fn set_or_remove(obj: &mut Value, key: &str, value: Option<Value>) {
    if let Some(m) = obj.as_object_mut() {
        match value {
            Some(v) => {
                m.insert(key.to_string(), v);
            }
            None => {
                m.remove(key);
            }
        }
    }
}

/// Builds the reply of a dry run: the patches that would be sent, the diff of the Rollout they would make
/// (status included) and the Rollout as it is.
async fn dry_run_reply(
    ctx: &ToolContext,
    client: &Client,
    ns: &str,
    name: &str,
    action: &str,
    patches: Vec<String>,
    preview: Preview,
) -> Result<crate::output::Reply<RolloutChange>, ToolError> {
    use crate::toolsets::kubernetes::preview::{DRY_RUN, matching_before, object_diff_with_status};
    let before = matching_before(preview.before, &preview.after, || get(ctx, client, Kind::Rollout, ns, name)).await?;
    let diff = object_diff_with_status(Some(&before), Some(&preview.after));
    let rollout = summarize(&before, &owned_replicasets(client, &before).await?);
    let summary = if patches.is_empty() {
        format!("{DRY_RUN}{action} of {ns}/{name} needs no change: {}.", one_line(&rollout))
    } else {
        format!("{DRY_RUN}{action} of {ns}/{name} would send: {}.", patches.join("; "))
    };
    Ok(crate::output::Reply::new(
        summary,
        RolloutChange { action: action.to_string(), patches, rollout, diff: Some(diff) },
    )
    .untrusted())
}

/// The current time as Kubernetes writes it (RFC 3339, seconds).
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).map(|t| t.to_string()).unwrap_or_else(|_| now.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_paused_canary() {
        let ro = json!({
            "metadata": {"name": "c", "namespace": "n", "uid": "u", "annotations": {REVISION: "2"}},
            "spec": {"replicas": 5, "template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}},
                     "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "30s"}}]}}},
            "status": {"phase": "Paused", "message": "CanaryPauseStep", "stableRS": "s1", "currentPodHash": "c2", "currentStepIndex": 1,
                       "pauseConditions": [{"reason": "CanaryPauseStep"}], "availableReplicas": 5, "replicas": 5, "updatedReplicas": 1}
        });
        let rs = vec![
            json!({"metadata": {"name": "c-c2", "labels": {HASH_LABEL: "c2"}, "annotations": {REVISION: "2"}}, "spec": {"replicas": 1}, "status": {"availableReplicas": 1, "readyReplicas": 1}}),
            json!({"metadata": {"name": "c-s1", "labels": {HASH_LABEL: "s1"}, "annotations": {REVISION: "1"}}, "spec": {"replicas": 4}, "status": {"availableReplicas": 4, "readyReplicas": 4}}),
        ];
        let s = summarize(&ro, &rs);
        assert_eq!((s.step, s.total_steps, s.set_weight, s.actual_weight), (Some(1), Some(4), Some(20), Some(20)));
        assert_eq!(s.current_step.as_deref(), Some("pause"));
        assert_eq!(s.stable.as_ref().map(|r| r.name.as_str()), Some("c-s1"));
        assert_eq!(s.canary.as_ref().map(|r| r.ready), Some(1));
        assert_eq!(s.images, vec!["app=app:2"]);
        assert!(one_line(&s).contains("step 1/4, weight 20%"));
    }
}
