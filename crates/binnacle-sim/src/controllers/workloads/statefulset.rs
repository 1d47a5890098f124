//! The StatefulSet controller: pods `<set>-0 … <set>-(N-1)` with stable names, hostnames
//! (`spec.hostname`, `spec.subdomain` = the governing Service) and one PersistentVolumeClaim per
//! volumeClaimTemplate and ordinal (`<claim>-<set>-<ordinal>`, owned by nothing, as with the default
//! Retain policy). `OrderedReady` creates pods one at a time in ordinal order, each once the previous is
//! Running and Ready, and removes extras from the highest ordinal down; `Parallel` does both at once.
//! Template changes create ControllerRevisions; `RollingUpdate` replaces pods from the highest ordinal
//! down to `partition`, one at a time, each once the set is ready; `OnDelete` waits for the user.
//! Terminal pods are deleted and created again.

use super::super::replicaset::pod_from_template;
use super::super::util::{deleting, i, pod_active, pod_ready, s, uid};
use super::revisions::{self, History, revision_template};
use super::{Controller, Ctx, add_labels, int_or, match_labels, object_at, owned_by, pod_available, write_status};
use crate::cluster::Propagation;
use binnacle_objects::selector::LabelSelector;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// See the module docs.
pub struct StatefulSetController;

const COMPONENT: &str = "statefulset-controller";
const REVISION_LABEL: &str = "controller-revision-hash";

impl Controller for StatefulSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let sets = ctx.list("apps", "statefulsets", None);
        if sets.is_empty() {
            return;
        }
        let pods = ctx.list("", "pods", None);
        let revisions = ctx.list("apps", "controllerrevisions", None);
        let claims = ctx.list("", "persistentvolumeclaims", None);
        for set in sets.iter().filter(|s| !deleting(s)) {
            let valid = LabelSelector::from_object(set.pointer("/spec/selector").unwrap_or(&Value::Null))
                .is_ok_and(|sel| !sel.is_empty());
            if valid {
                sync(ctx, set, &pods, &revisions, &claims);
            }
        }
    }
}

/// What one pass knows about a set.
struct SetView<'a> {
    set: &'a Value,
    name: String,
    ns: String,
    replicas: i64,
    parallel: bool,
    history: History,
    /// The revision existing pods below the partition keep.
    current: Arc<Value>,
    /// Owned pods by ordinal.
    pods: BTreeMap<i64, Arc<Value>>,
}

fn sync(ctx: &Ctx<'_>, set: &Arc<Value>, pods: &[Arc<Value>], revisions: &[Arc<Value>], claims: &[Arc<Value>]) {
    let Some(history) = revisions::sync(ctx, set, revisions, "controller.kubernetes.io/hash") else { return };
    let name = s(set, "/metadata/name").to_string();
    let ns = s(set, "/metadata/namespace").to_string();
    let current_name = s(set, "/status/currentRevision");
    let current = history
        .all
        .iter()
        .find(|r| s(r, "/metadata/name") == current_name)
        .cloned()
        .unwrap_or_else(|| history.update.clone());
    let owned = owned_by(pods, &ns, uid(set));
    let by_ordinal = owned.iter().filter_map(|p| ordinal_of(&name, s(p, "/metadata/name")).map(|o| (o, p.clone())));
    let view = SetView {
        set,
        replicas: int_or(set, "/spec/replicas", 1).max(0),
        parallel: s(set, "/spec/podManagementPolicy") == "Parallel",
        pods: by_ordinal.collect(),
        history,
        current,
        name,
        ns,
    };
    let busy = replace_terminal(ctx, &view) | create_missing(ctx, &view, claims);
    let busy = busy || scale_down(ctx, &view);
    if !busy {
        rolling_update(ctx, &view);
    }
    let in_use: HashSet<String> =
        owned.iter().map(|p| s(p, &format!("/metadata/labels/{REVISION_LABEL}")).to_string()).collect();
    revisions::prune(ctx, set, &view.history, &in_use);
    update_status(ctx, &view);
}

/// The ordinal of a pod named `<set>-<n>`.
fn ordinal_of(set: &str, pod: &str) -> Option<i64> {
    let rest = pod.strip_prefix(set)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) || (rest.len() > 1 && rest.starts_with('0')) {
        return None;
    }
    rest.parse().ok()
}

fn event(ctx: &Ctx<'_>, set: &Value, reason: &str, message: String) {
    ctx.event(set, false, reason, &message, COMPONENT);
}

/// Deletes failed or succeeded pods so that they are created again. Returns whether any was.
fn replace_terminal(ctx: &Ctx<'_>, view: &SetView<'_>) -> bool {
    let mut any = false;
    for pod in view.pods.values().filter(|p| !deleting(p) && !pod_active(p)) {
        ctx.delete("", "pods", pod, Propagation::Background);
        let pod_name = s(pod, "/metadata/name");
        event(
            ctx,
            view.set,
            "SuccessfulDelete",
            format!("delete Pod {pod_name} in StatefulSet {} successful", view.name),
        );
        any = true;
    }
    any
}

/// Creates the missing pods below `replicas`. Returns whether the set must wait (OrderedReady).
fn create_missing(ctx: &Ctx<'_>, view: &SetView<'_>, claims: &[Arc<Value>]) -> bool {
    let partition = int_or(view.set, "/spec/updateStrategy/rollingUpdate/partition", 0);
    for ordinal in 0..view.replicas {
        match view.pods.get(&ordinal) {
            Some(pod) if view.parallel || (pod_ready(pod) && s(pod, "/status/phase") == "Running") => {}
            Some(_) => return true,
            None => {
                let revision = if ordinal < partition { &view.current } else { &view.history.update };
                create_pod(ctx, view, ordinal, revision, claims);
                if !view.parallel {
                    return true;
                }
            }
        }
    }
    false
}

fn create_pod(ctx: &Ctx<'_>, view: &SetView<'_>, ordinal: i64, revision: &Value, claims: &[Arc<Value>]) {
    let pod_name = format!("{}-{ordinal}", view.name);
    for claim in claim_templates(view.set) {
        let claim_name = format!("{}-{pod_name}", s(&claim, "/metadata/name"));
        if claims.iter().any(|c| s(c, "/metadata/namespace") == view.ns && s(c, "/metadata/name") == claim_name) {
            continue;
        }
        if ctx
            .create(
                "",
                "persistentvolumeclaims",
                &view.ns,
                claim_object(view.set, &claim, &claim_name),
                "kube-controller-manager",
            )
            .is_some()
        {
            let msg = format!("create Claim {claim_name} Pod {pod_name} in StatefulSet {} success", view.name);
            event(ctx, view.set, "SuccessfulCreate", msg);
        }
    }
    let pod = pod_object(view, ordinal, &pod_name, revision);
    if !ctx.may_create(view.set) {
        return;
    }
    match ctx.create_for(view.set, "pods", &view.ns, pod, "kube-controller-manager") {
        Ok(_) => event(
            ctx,
            view.set,
            "SuccessfulCreate",
            format!("create Pod {pod_name} in StatefulSet {} successful", view.name),
        ),
        Err(e) => ctx.event(
            view.set,
            true,
            "FailedCreate",
            &format!("create Pod {pod_name} in StatefulSet {} failed error: {}", view.name, e.message),
            COMPONENT,
        ),
    }
}

fn claim_templates(set: &Value) -> Vec<Value> {
    set.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// A PVC for a claim template, labelled with the set's selector labels as the real controller does.
fn claim_object(set: &Value, claim: &Value, name: &str) -> Value {
    let mut pvc = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": s(set, "/metadata/namespace"),
            "labels": claim.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
        },
        "spec": claim.get("spec").cloned().unwrap_or(json!({})),
        "status": {"phase": "Pending"},
    });
    if let Some(a) = claim.pointer("/metadata/annotations") {
        pvc["metadata"]["annotations"] = a.clone();
    }
    let labels = match_labels(set.pointer("/spec/selector"));
    let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    add_labels(&mut pvc, &pairs);
    pvc
}

fn pod_object(view: &SetView<'_>, ordinal: i64, pod_name: &str, revision: &Value) -> Value {
    let template = revision_template(revision);
    let rev_name = s(revision, "/metadata/name");
    let index = ordinal.to_string();
    let labels = [
        (REVISION_LABEL, rev_name),
        ("statefulset.kubernetes.io/pod-name", pod_name),
        ("apps.kubernetes.io/pod-index", index.as_str()),
    ];
    let mut pod = pod_from_template(view.set, &template, "", &labels);
    if let Some(meta) = pod["metadata"].as_object_mut() {
        meta.remove("generateName");
        meta.insert("name".into(), json!(pod_name));
    }
    pod["spec"]["hostname"] = json!(pod_name);
    let service = s(view.set, "/spec/serviceName");
    if !service.is_empty() {
        pod["spec"]["subdomain"] = json!(service);
    }
    attach_claims(&mut pod, view.set, pod_name);
    pod
}

/// Points the pod's volumes named after claim templates at the ordinal's claims.
fn attach_claims(pod: &mut Value, set: &Value, pod_name: &str) {
    let templates = claim_templates(set);
    if templates.is_empty() {
        return;
    }
    let Some(spec) = object_at(pod, "spec") else { return };
    let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
    if !volumes.is_array() {
        *volumes = json!([]);
    }
    let Some(list) = volumes.as_array_mut() else { return };
    for claim in &templates {
        let volume_name = s(claim, "/metadata/name");
        let volume =
            json!({"name": volume_name, "persistentVolumeClaim": {"claimName": format!("{volume_name}-{pod_name}")}});
        match list.iter_mut().find(|v| s(v, "/name") == volume_name) {
            Some(existing) => *existing = volume,
            None => list.push(volume),
        }
    }
}

/// Removes pods at or above `replicas`, highest ordinal first. Returns whether the set must wait.
fn scale_down(ctx: &Ctx<'_>, view: &SetView<'_>) -> bool {
    let condemned: Vec<&Arc<Value>> = view.pods.range(view.replicas..).rev().map(|(_, p)| p).collect();
    if condemned.is_empty() {
        return false;
    }
    if !view.parallel && view.pods.values().any(|p| deleting(p) || !pod_ready(p)) {
        return true;
    }
    for pod in condemned.into_iter().filter(|p| !deleting(p)) {
        ctx.delete("", "pods", pod, Propagation::Background);
        let pod_name = s(pod, "/metadata/name");
        event(
            ctx,
            view.set,
            "SuccessfulDelete",
            format!("delete Pod {pod_name} in StatefulSet {} successful", view.name),
        );
        if !view.parallel {
            break;
        }
    }
    true
}

/// Replaces the highest-ordinal pod not at the update revision, once every pod is ready.
fn rolling_update(ctx: &Ctx<'_>, view: &SetView<'_>) {
    if s(view.set, "/spec/updateStrategy/type") == "OnDelete" {
        return;
    }
    let all_ready = view.pods.values().all(|p| !deleting(p) && pod_ready(p));
    if !all_ready || (view.pods.len() as i64) < view.replicas {
        return;
    }
    let partition = int_or(view.set, "/spec/updateStrategy/rollingUpdate/partition", 0);
    let update = s(&view.history.update, "/metadata/name");
    let from = partition.clamp(0, view.replicas.max(0));
    let stale = view.pods.range(from..view.replicas.max(from)).rev().map(|(_, p)| p).find(|p| revision_of(p) != update);
    if let Some(pod) = stale {
        ctx.delete("", "pods", pod, Propagation::Background);
        let pod_name = s(pod, "/metadata/name");
        event(
            ctx,
            view.set,
            "SuccessfulDelete",
            format!("delete Pod {pod_name} in StatefulSet {} successful", view.name),
        );
    }
}

fn revision_of(pod: &Value) -> &str {
    s(pod, &format!("/metadata/labels/{REVISION_LABEL}"))
}

fn update_status(ctx: &Ctx<'_>, view: &SetView<'_>) {
    let min_ready = int_or(view.set, "/spec/minReadySeconds", 0);
    let pods: Vec<&Arc<Value>> = view.pods.values().collect();
    let count = |f: &dyn Fn(&Value) -> bool| pods.iter().filter(|p| f(p)).count() as i64;
    let update = s(&view.history.update, "/metadata/name").to_string();
    let mut current = s(&view.current, "/metadata/name").to_string();
    let replicas = pods.len() as i64;
    let ready = count(&|p| pod_ready(p));
    let updated = count(&|p| !deleting(p) && revision_of(p) == update);
    let mut current_replicas = count(&|p| !deleting(p) && revision_of(p) == current);
    let rolling = s(view.set, "/spec/updateStrategy/type") != "OnDelete";
    if rolling && updated == replicas && ready == replicas && replicas == view.replicas {
        current = update.clone();
        current_replicas = updated;
    }
    let mut status = json!({
        "observedGeneration": i(view.set, "/metadata/generation"),
        "replicas": replicas,
        "readyReplicas": ready,
        "currentReplicas": current_replicas,
        "updatedReplicas": updated,
        "availableReplicas": count(&|p| pod_available(p, min_ready, ctx.now)),
        "currentRevision": current,
        "updateRevision": update,
        "collisionCount": int_or(view.set, "/status/collisionCount", 0),
    });
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| {
            !matches!(k.as_str(), "readyReplicas" | "currentReplicas" | "updatedReplicas") || v.as_i64() != Some(0)
        });
    }
    write_status(ctx, "apps", "statefulsets", view.set, status);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_from_names() {
        assert_eq!(ordinal_of("redis", "redis-0"), Some(0));
        assert_eq!(ordinal_of("redis", "redis-12"), Some(12));
        assert_eq!(ordinal_of("redis", "redis-01"), None);
        assert_eq!(ordinal_of("redis", "redis-x"), None);
        assert_eq!(ordinal_of("redis", "redis-cache-0"), None);
        assert_eq!(ordinal_of("redis", "redis"), None);
    }

    #[test]
    fn claims_are_attached_by_template_name() {
        let set = json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]}});
        let mut pod = json!({"spec": {"volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]}});
        attach_claims(&mut pod, &set, "web-1");
        assert_eq!(pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"], "data-web-1");
        assert_eq!(pod["spec"]["volumes"][1]["name"], "tmp");
    }
}
