//! A simulated Argo Rollouts controller (`argoproj.io/v1alpha1` Rollouts, active only while their
//! CustomResourceDefinition is served). Like the real one it manages one ReplicaSet per pod template,
//! `<rollout>-<hash>` labelled `rollouts-pod-template-hash` with a `rollout.argoproj.io/revision`
//! annotation, and keeps its state in the Rollout's status, so the `kubectl argo rollouts` actions —
//! which patch the Rollout — drive it: promote (clearing `pauseConditions`, setting
//! `currentStepIndex` or `promoteFull`), pause/resume (`spec.paused`), abort and retry
//! (`status.abort`), restart (`spec.restartAt`) and undo (an older template).
//!
//! Canary ([`canary`]) follows `setWeight`/`pause` steps with basic replica-count weighting;
//! blue-green ([`bluegreen`]) keeps the active ReplicaSet behind the active Service until the preview
//! is promoted. Status, conditions, phase and events are computed in [`status`], restarts in
//! [`restart`]. Not simulated: traffic routing, analysis, experiments, anti-affinity, ephemeral
//! metadata, progress deadlines, scale-down delays for canaries, workload references.
//!
//! A Rollout annotated `sim.binnacle.dev/stable-image` starts as if revision 1 (its template with that
//! image) had been fully rolled out before, so the real template starts a canary at once.

mod bluegreen;
mod canary;
mod restart;
mod status;

use super::super::deployment::template_identity;
use super::super::util::{controlled_by, deleting, owner_ref, s, template_hash, uid};
use super::{Controller, Ctx, add_labels, object_at};
use crate::cluster::Propagation;
use binnacle_objects::selector::LabelSelector;
use serde_json::{Value, json};
use std::sync::Arc;

/// See the module docs.
pub struct RolloutController;

/// Events come from this component.
const COMPONENT: &str = "rollouts-controller";
/// The pod template hash label.
const HASH_LABEL: &str = "rollouts-pod-template-hash";
/// The revision annotation on ReplicaSets and the Rollout.
const REVISION: &str = "rollout.argoproj.io/revision";
/// The simulator's bootstrap annotation.
const STABLE_IMAGE: &str = "sim.binnacle.dev/stable-image";

impl Controller for RolloutController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        if ctx.rt("argoproj.io", "rollouts").is_none() {
            return;
        }
        let rollouts = ctx.list("argoproj.io", "rollouts", None);
        if rollouts.is_empty() {
            return;
        }
        let replicasets = ctx.list("apps", "replicasets", None);
        let pods = ctx.list("", "pods", None);
        for ro in rollouts.iter().filter(|r| !deleting(r)) {
            sync(ctx, ro, &replicasets, &pods);
        }
    }
}

/// The status fields the controller decides; counts, conditions and phase are derived in [`status`].
#[derive(Debug, Clone, Default)]
struct Plan {
    stable: String,
    index: Option<i64>,
    pause: Vec<Value>,
    /// `status.controllerPause` as it was when the pass started.
    was_controller_pause: bool,
    add_pause: Vec<&'static str>,
    remove_pause: Vec<&'static str>,
    clear_pause: bool,
    abort: bool,
    promote_full: bool,
    restarted_at: Option<Value>,
    active_selector: String,
    preview_selector: String,
}

impl Plan {
    fn from_status(ro: &Value) -> Self {
        let st = ro.get("status").cloned().unwrap_or(json!({}));
        Self {
            stable: s(&st, "/stableRS").to_string(),
            index: st.get("currentStepIndex").and_then(Value::as_i64),
            pause: st.get("pauseConditions").and_then(Value::as_array).cloned().unwrap_or_default(),
            was_controller_pause: st.get("controllerPause").and_then(Value::as_bool) == Some(true),
            abort: st.get("abort").and_then(Value::as_bool) == Some(true),
            promote_full: st.get("promoteFull").and_then(Value::as_bool) == Some(true),
            restarted_at: st.get("restartedAt").filter(|v| !v.is_null()).cloned(),
            active_selector: s(&st, "/blueGreen/activeSelector").to_string(),
            preview_selector: s(&st, "/blueGreen/previewSelector").to_string(),
            ..Self::default()
        }
    }

    /// The pause condition with this reason, as the pass started.
    fn pause_condition(&self, reason: &str) -> Option<&Value> {
        self.pause.iter().find(|c| s(c, "/reason") == reason)
    }

    /// What a template or steps change resets.
    fn reset(&mut self, ro: &Value, step_count: usize) {
        self.clear_pause = true;
        self.abort = false;
        self.promote_full = false;
        self.index = (step_count > 0).then_some(0);
        self.restarted_at = ro.pointer("/spec/restartAt").filter(|v| !v.is_null()).cloned();
    }
}

/// A Rollout and its ReplicaSets as one pass sees them.
struct View<'a> {
    ro: &'a Value,
    name: String,
    ns: String,
    replicas: i64,
    pod_hash: String,
    revision: i64,
    new_rs: Arc<Value>,
    stable_rs: Option<Arc<Value>>,
    /// Every owned ReplicaSet (new and stable included).
    all: Vec<Arc<Value>>,
}

impl View<'_> {
    fn is_new(&self, rs: &Value) -> bool {
        uid(rs) == uid(&self.new_rs)
    }

    fn is_stable(&self, rs: &Value) -> bool {
        self.stable_rs.as_ref().is_some_and(|st| uid(st) == uid(rs))
    }
}

fn sync(ctx: &Ctx<'_>, ro: &Arc<Value>, replicasets: &[Arc<Value>], pods: &[Arc<Value>]) {
    let valid = LabelSelector::from_object(ro.pointer("/spec/selector").unwrap_or(&Value::Null))
        .is_ok_and(|sel| !sel.is_empty());
    if !valid {
        return;
    }
    let ns = s(ro, "/metadata/namespace");
    let owned: Vec<Arc<Value>> = replicasets
        .iter()
        .filter(|rs| s(rs, "/metadata/namespace") == ns && controlled_by(rs, uid(ro)) && !deleting(rs))
        .cloned()
        .collect();
    if bootstrap(ctx, ro, &owned) {
        return;
    }
    let mut plan = Plan::from_status(ro);
    let Some(view) = prepare(ctx, ro, owned, &plan) else { return };
    if ro.pointer("/spec/strategy/blueGreen").is_some_and(Value::is_object) {
        bluegreen::reconcile(ctx, &view, &mut plan);
    } else {
        canary::reconcile(ctx, &view, &mut plan);
    }
    restart::reconcile(ctx, &view, &mut plan, pods);
    prune_history(ctx, &view);
    status::write(ctx, &view, plan);
}

/// The pod template hash of a template (without any hash label). The template is defaulted first: a
/// Rollout's own template is not defaulted (it is a custom resource) while its ReplicaSets' templates are,
/// so an undo that copies a ReplicaSet's template back must hash the same as the original.
fn pod_hash(template: &Value) -> String {
    let mut identity = template_identity(template);
    if let Some(labels) = identity.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(HASH_LABEL);
    }
    if let Some(spec) = identity.get_mut("spec") {
        crate::defaults::default_pod_spec(spec);
    }
    template_hash(&identity)
}

fn hash_of(rs: &Value) -> &str {
    s(rs, &format!("/metadata/labels/{HASH_LABEL}"))
}

fn revision_of(rs: &Value) -> i64 {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn spec_replicas(rs: &Value) -> i64 {
    rs.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)
}

fn status_count(rs: &Value, field: &str) -> i64 {
    rs.pointer(&format!("/status/{field}")).and_then(Value::as_i64).unwrap_or(0)
}

fn steps(ro: &Value) -> Vec<Value> {
    ro.pointer("/spec/strategy/canary/steps").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn event(ctx: &Ctx<'_>, ro: &Value, reason: &str, message: &str) {
    ctx.event(ro, false, reason, message, COMPONENT);
}

/// Creates revision 1 from the template with the `sim.binnacle.dev/stable-image` image, marked stable.
fn bootstrap(ctx: &Ctx<'_>, ro: &Value, owned: &[Arc<Value>]) -> bool {
    let image = s(ro, &format!("/metadata/annotations/{}", STABLE_IMAGE.replace('/', "~1")));
    if image.is_empty() || !owned.is_empty() || !s(ro, "/status/stableRS").is_empty() {
        return false;
    }
    let mut template = ro.pointer("/spec/template").cloned().unwrap_or(json!({}));
    if let Some(first) = template.pointer_mut("/spec/containers/0") {
        first["image"] = json!(image);
    }
    let hash = pod_hash(&template);
    let replicas = ro.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    if create_rs(ctx, ro, &template, &hash, 1, replicas).is_none() {
        return false;
    }
    let steps = steps(ro);
    let mut st = json!({
        "stableRS": hash,
        "currentPodHash": hash,
        "canary": {},
        "blueGreen": {},
        "observedGeneration": super::super::util::i(ro, "/metadata/generation").to_string(),
    });
    if ro.pointer("/spec/strategy/blueGreen").is_some_and(Value::is_object) {
        st["blueGreen"] = json!({"activeSelector": hash, "previewSelector": hash});
    } else {
        st["currentStepHash"] = json!(canary::step_hash(&steps));
        if !steps.is_empty() {
            st["currentStepIndex"] = json!(steps.len());
        }
    }
    ctx.modify("argoproj.io", "rollouts", ro, |r| r["status"] = st.clone());
    true
}

/// Creates a ReplicaSet for a template with the given hash and revision.
fn create_rs(
    ctx: &Ctx<'_>,
    ro: &Value,
    template: &Value,
    hash: &str,
    revision: i64,
    replicas: i64,
) -> Option<Arc<Value>> {
    let name = format!("{}-{hash}", s(ro, "/metadata/name"));
    let mut rs_template = template_identity(template);
    add_labels(&mut rs_template, &[(HASH_LABEL, hash)]);
    let mut selector = ro.pointer("/spec/selector").cloned().unwrap_or(json!({}));
    if let Some(m) = object_at(&mut selector, "matchLabels") {
        m.insert(HASH_LABEL.into(), json!(hash));
    }
    let total = ro.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let rs = json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": s(ro, "/metadata/namespace"),
            "labels": rs_template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "annotations": {REVISION: revision.to_string(), "rollout.argoproj.io/desired-replicas": total.to_string()},
            "ownerReferences": [owner_ref(ro)],
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": ro.pointer("/spec/minReadySeconds").cloned().unwrap_or(json!(0)),
            "selector": selector,
            "template": rs_template,
        },
    });
    ctx.create("apps", "replicasets", s(ro, "/metadata/namespace"), rs, "argo-rollouts")
}

/// Finds or creates the ReplicaSet of the current template (bumping an older one's revision on undo).
fn prepare<'a>(ctx: &Ctx<'_>, ro: &'a Value, mut owned: Vec<Arc<Value>>, plan: &Plan) -> Option<View<'a>> {
    let template = ro.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let hash = pod_hash(&template);
    let replicas = ro.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let max_revision = owned.iter().map(|r| revision_of(r)).max().unwrap_or(0);
    let existing = owned.iter().find(|r| hash_of(r) == hash).cloned();
    let new_rs = match existing {
        Some(rs) if revision_of(&rs) < max_revision => {
            let next = (max_revision + 1).to_string();
            let bumped =
                ctx.modify("apps", "replicasets", &rs, |r| r["metadata"]["annotations"][REVISION] = json!(next))?;
            owned.retain(|r| uid(r) != uid(&rs));
            owned.push(bumped.clone());
            bumped
        }
        Some(rs) => rs,
        None => {
            let is_bg = ro.pointer("/spec/strategy/blueGreen").is_some_and(Value::is_object);
            let initial = if plan.stable.is_empty() || is_bg { replicas } else { 0 };
            let created = create_rs(ctx, ro, &template, &hash, max_revision + 1, initial)?;
            let msg = format!("Created ReplicaSet {} (revision {})", s(&created, "/metadata/name"), max_revision + 1);
            event(ctx, ro, "NewReplicaSetCreated", &msg);
            if initial > 0 {
                let msg = format!(
                    "Scaled up ReplicaSet {} (revision {}) from 0 to {initial}",
                    s(&created, "/metadata/name"),
                    max_revision + 1
                );
                event(ctx, ro, "ScalingReplicaSet", &msg);
            }
            owned.push(created.clone());
            created
        }
    };
    let revision = revision_of(&new_rs);
    sync_revision_annotation(ctx, ro, revision);
    let stable_rs = owned.iter().find(|r| !plan.stable.is_empty() && hash_of(r) == plan.stable).cloned();
    Some(View {
        ro,
        name: s(ro, "/metadata/name").to_string(),
        ns: s(ro, "/metadata/namespace").to_string(),
        replicas,
        pod_hash: hash,
        revision,
        new_rs,
        stable_rs,
        all: owned,
    })
}

fn sync_revision_annotation(ctx: &Ctx<'_>, ro: &Value, revision: i64) {
    let current = ro.pointer("/metadata/annotations").and_then(|a| a.get(REVISION)).and_then(Value::as_str);
    let wanted = revision.to_string();
    if current == Some(wanted.as_str()) {
        return;
    }
    ctx.modify("argoproj.io", "rollouts", ro, |r| {
        if let Some(a) = object_at(&mut r["metadata"], "annotations") {
            a.insert(REVISION.into(), json!(wanted));
        }
    });
    event(ctx, ro, "RolloutUpdated", &format!("Rollout updated to revision {revision}"));
}

/// Scales a ReplicaSet, with the controller's ScalingReplicaSet event.
fn scale(ctx: &Ctx<'_>, v: &View<'_>, rs: &Value, to: i64) {
    let from = spec_replicas(rs);
    if from == to {
        return;
    }
    let replicas = v.replicas.to_string();
    ctx.modify("apps", "replicasets", rs, |r| {
        r["spec"]["replicas"] = json!(to);
        if let Some(a) = object_at(&mut r["metadata"], "annotations") {
            a.insert("rollout.argoproj.io/desired-replicas".into(), json!(replicas));
        }
    });
    let verb = if to > from { "up" } else { "down" };
    let msg = format!(
        "Scaled {verb} ReplicaSet {} (revision {}) from {from} to {to}",
        s(rs, "/metadata/name"),
        revision_of(rs)
    );
    event(ctx, v.ro, "ScalingReplicaSet", &msg);
}

/// Points a Service's selector at a pod template hash, as the controller does for the Services a
/// strategy names.
fn point_service(ctx: &Ctx<'_>, v: &View<'_>, field: &str, hash: &str) {
    let name = s(v.ro, &format!("/spec/strategy/{field}"));
    if name.is_empty() || hash.is_empty() {
        return;
    }
    let Some(svc) = ctx.get("", "services", &v.ns, name) else { return };
    let rollout = v.name.clone();
    ctx.modify("", "services", &svc, |svc| {
        if let Some(sel) = object_at(&mut svc["spec"], "selector") {
            sel.insert(HASH_LABEL.into(), json!(hash));
        }
        if let Some(a) = object_at(&mut svc["metadata"], "annotations") {
            a.insert("argo-rollouts.argoproj.io/managed-by-rollouts".into(), json!(rollout));
        }
    });
}

/// Deletes scaled-down old ReplicaSets beyond `revisionHistoryLimit` (default 10), oldest first.
fn prune_history(ctx: &Ctx<'_>, v: &View<'_>) {
    let limit = v.ro.pointer("/spec/revisionHistoryLimit").and_then(Value::as_i64).unwrap_or(10).max(0) as usize;
    let mut old: Vec<&Arc<Value>> = v
        .all
        .iter()
        .filter(|r| !v.is_new(r) && !v.is_stable(r) && spec_replicas(r) == 0 && status_count(r, "replicas") == 0)
        .collect();
    if old.len() <= limit {
        return;
    }
    old.sort_by_key(|r| revision_of(r));
    for rs in old.iter().take(old.len() - limit) {
        ctx.delete("apps", "replicasets", rs, Propagation::Background);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_the_hash_label() {
        let a = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}});
        let mut b = a.clone();
        b["metadata"]["labels"][HASH_LABEL] = json!("abc");
        assert_eq!(pod_hash(&a), pod_hash(&b));
        let mut c = a.clone();
        c["spec"]["containers"][0]["image"] = json!("i:2");
        assert_ne!(pod_hash(&a), pod_hash(&c));
    }

    #[test]
    fn plan_reads_the_status() {
        let ro = json!({"status": {"stableRS": "s", "currentStepIndex": 1, "controllerPause": true,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}], "abort": true}});
        let plan = Plan::from_status(&ro);
        assert_eq!(
            (plan.stable.as_str(), plan.index, plan.was_controller_pause, plan.abort),
            ("s", Some(1), true, true)
        );
        assert!(plan.pause_condition("CanaryPauseStep").is_some());
    }
}
