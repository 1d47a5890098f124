//! The DaemonSet controller: one pod per eligible node (the template's nodeSelector and required node
//! affinity match, and every NoSchedule/NoExecute taint is tolerated, counting the tolerations the
//! controller adds to daemon pods). Pods carry the node affinity the real controller sets
//! (`matchFields metadata.name In [node]`) and are bound to their node directly — the simulated
//! scheduler does not read node affinity, so this stands in for the scheduler's binding. Pods on nodes
//! that no longer qualify, duplicates and failed pods are deleted. Template changes create
//! ControllerRevisions and `RollingUpdate` replaces old pods within `maxUnavailable` (`maxSurge` is not
//! simulated); `OnDelete` waits for the user.

use super::super::deployment::int_or_percent;
use super::super::replicaset::pod_from_template;
use super::super::scheduler::tolerates;
use super::super::util::{deleting, i, pod_active, s, uid};
use super::revisions::{self, History};
use super::{Controller, Ctx, int_or, now_string, object_at, owned_by, pod_available, write_status};
use crate::cluster::Propagation;
use binnacle_objects::selector::LabelSelector;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// See the module docs.
pub struct DaemonSetController;

const COMPONENT: &str = "daemonset-controller";
const HASH_LABEL: &str = "controller-revision-hash";

impl Controller for DaemonSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let sets = ctx.list("apps", "daemonsets", None);
        if sets.is_empty() {
            return;
        }
        let pods = ctx.list("", "pods", None);
        let nodes = ctx.list("", "nodes", None);
        let revisions = ctx.list("apps", "controllerrevisions", None);
        for ds in sets.iter().filter(|d| !deleting(d)) {
            let valid = LabelSelector::from_object(ds.pointer("/spec/selector").unwrap_or(&Value::Null))
                .is_ok_and(|sel| !sel.is_empty());
            if valid {
                sync(ctx, ds, &pods, &nodes, &revisions);
            }
        }
    }
}

/// The tolerations the DaemonSet controller adds to every daemon pod.
fn default_tolerations(host_network: bool) -> Vec<Value> {
    let mut list = vec![
        json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}),
    ];
    if host_network {
        list.push(
            json!({"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}),
        );
    }
    list
}

/// The template's tolerations plus the daemon defaults it lacks.
fn tolerations_for(spec: &Value) -> Vec<Value> {
    let mut list: Vec<Value> = spec.get("tolerations").and_then(Value::as_array).cloned().unwrap_or_default();
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    for t in default_tolerations(host_network) {
        if !list.iter().any(|x| x.get("key") == t.get("key") && x.get("effect") == t.get("effect")) {
            list.push(t);
        }
    }
    list
}

/// Whether a daemon pod with this pod spec belongs on `node`.
pub fn should_run(spec: &Value, node: &Value) -> bool {
    let labels = node.pointer("/metadata/labels");
    let selector_ok = spec
        .get("nodeSelector")
        .and_then(Value::as_object)
        .is_none_or(|sel| sel.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)));
    let pod_like = json!({"spec": {"tolerations": tolerations_for(spec)}});
    let taints_ok = node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|t| !matches!(s(t, "/effect"), "NoSchedule" | "NoExecute") || tolerates(&pod_like, t));
    selector_ok && taints_ok && affinity_matches(spec, node)
}

/// Required node affinity: any term matches, each term's expressions and fields all match.
fn affinity_matches(spec: &Value, node: &Value) -> bool {
    let terms = spec
        .pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Value::as_array);
    let Some(terms) = terms.filter(|t| !t.is_empty()) else { return true };
    terms.iter().any(|term| {
        let exprs = term.get("matchExpressions").and_then(Value::as_array).into_iter().flatten();
        let fields = term.get("matchFields").and_then(Value::as_array).into_iter().flatten();
        exprs
            .clone()
            .all(|e| requirement_matches(e, node.pointer(&format!("/metadata/labels/{}", escape(s(e, "/key"))))))
            && fields
                .clone()
                .all(|e| s(e, "/key") == "metadata.name" && requirement_matches(e, node.pointer("/metadata/name")))
            && (exprs.count() + fields.count() > 0)
    })
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn requirement_matches(expr: &Value, actual: Option<&Value>) -> bool {
    let actual = actual.and_then(Value::as_str);
    let values: Vec<&str> =
        expr.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let number = |v: Option<&str>| v.and_then(|x| x.parse::<i64>().ok());
    match s(expr, "/operator") {
        "In" => actual.is_some_and(|a| values.contains(&a)),
        "NotIn" => !actual.is_some_and(|a| values.contains(&a)),
        "Exists" => actual.is_some(),
        "DoesNotExist" => actual.is_none(),
        "Gt" => matches!((number(actual), number(values.first().copied())), (Some(a), Some(b)) if a > b),
        "Lt" => matches!((number(actual), number(values.first().copied())), (Some(a), Some(b)) if a < b),
        _ => false,
    }
}

/// One pass over one DaemonSet.
struct DsView<'a> {
    ds: &'a Value,
    hash: String,
    /// Eligible node names.
    eligible: Vec<String>,
    /// Live (not terminating) daemon pods by node.
    by_node: BTreeMap<String, Vec<Arc<Value>>>,
}

fn sync(ctx: &Ctx<'_>, ds: &Arc<Value>, pods: &[Arc<Value>], nodes: &[Arc<Value>], revisions: &[Arc<Value>]) {
    let Some(history) = revisions::sync(ctx, ds, revisions, HASH_LABEL) else { return };
    let hash = s(&history.update, &format!("/metadata/labels/{HASH_LABEL}")).to_string();
    let spec = ds.pointer("/spec/template/spec").cloned().unwrap_or(json!({}));
    let eligible: Vec<String> =
        nodes.iter().filter(|n| should_run(&spec, n)).map(|n| s(n, "/metadata/name").to_string()).collect();
    let owned = owned_by(pods, s(ds, "/metadata/namespace"), uid(ds));
    let mut by_node: BTreeMap<String, Vec<Arc<Value>>> = BTreeMap::new();
    for pod in owned.iter().filter(|p| !deleting(p)) {
        by_node.entry(s(pod, "/spec/nodeName").to_string()).or_default().push(pod.clone());
    }
    let view = DsView { ds, hash, eligible, by_node };
    let changed = remove_unwanted(ctx, &view) | create_missing(ctx, &view);
    if !changed {
        rolling_update(ctx, &view);
    }
    prune_history(ctx, ds, &history, &owned);
    update_status(ctx, &view);
}

fn deleted_event(ctx: &Ctx<'_>, ds: &Value, pod: &Value) {
    let msg = format!("Deleted pod: {}", s(pod, "/metadata/name"));
    ctx.event(ds, false, "SuccessfulDelete", &msg, COMPONENT);
}

/// Deletes pods on ineligible nodes, duplicates and failed pods. Returns whether any was deleted.
fn remove_unwanted(ctx: &Ctx<'_>, view: &DsView<'_>) -> bool {
    let mut any = false;
    for (node, pods) in &view.by_node {
        let wanted = view.eligible.contains(node);
        let mut kept = false;
        for pod in pods {
            let failed = s(pod, "/status/phase") == "Failed";
            if failed && wanted {
                let msg = format!(
                    "Found failed daemon pod {}/{} on node {node}, will try to kill it",
                    s(pod, "/metadata/namespace"),
                    s(pod, "/metadata/name")
                );
                ctx.event(view.ds, true, "FailedDaemonPod", &msg, COMPONENT);
            }
            if wanted && !kept && pod_active(pod) {
                kept = true;
                continue;
            }
            ctx.delete("", "pods", pod, Propagation::Background);
            deleted_event(ctx, view.ds, pod);
            any = true;
        }
    }
    any
}

/// Creates a pod on every eligible node that has none. Returns whether any was created.
fn create_missing(ctx: &Ctx<'_>, view: &DsView<'_>) -> bool {
    let mut any = false;
    for node in &view.eligible {
        if view.by_node.get(node).is_some_and(|pods| pods.iter().any(|p| pod_active(p))) {
            continue;
        }
        if !ctx.may_create(view.ds) {
            break;
        }
        let pod = pod_for_node(ctx, view, node);
        match ctx.create_for(view.ds, "pods", s(view.ds, "/metadata/namespace"), pod, "kube-controller-manager") {
            Ok(created) => {
                let msg = format!("Created pod: {}", s(&created, "/metadata/name"));
                ctx.event(view.ds, false, "SuccessfulCreate", &msg, COMPONENT);
                any = true;
            }
            Err(e) => {
                ctx.event(view.ds, true, "FailedCreate", &format!("Error creating: {}", e.message), COMPONENT);
                break;
            }
        }
    }
    any
}

fn pod_for_node(ctx: &Ctx<'_>, view: &DsView<'_>, node: &str) -> Value {
    let template = view.ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let generation = i(view.ds, "/metadata/generation").to_string();
    let prefix = format!("{}-", s(view.ds, "/metadata/name"));
    let labels = [(HASH_LABEL, view.hash.as_str()), ("pod-template-generation", generation.as_str())];
    let mut pod = pod_from_template(view.ds, &template, &prefix, &labels);
    let tolerations = tolerations_for(&pod["spec"]);
    if let Some(spec) = object_at(&mut pod, "spec") {
        spec.insert("nodeName".into(), json!(node));
        spec.insert("tolerations".into(), json!(tolerations));
    }
    let term = json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]});
    if let Some(affinity) = object_at(&mut pod["spec"], "affinity") {
        let node_affinity = affinity.entry("nodeAffinity").or_insert_with(|| json!({}));
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = json!({"nodeSelectorTerms": [term]});
    }
    let now = now_string(ctx);
    pod["status"] = json!({
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}],
    });
    pod
}

/// Deletes old-revision pods while no more than `maxUnavailable` daemon pods are unavailable.
fn rolling_update(ctx: &Ctx<'_>, view: &DsView<'_>) {
    if s(view.ds, "/spec/updateStrategy/type") == "OnDelete" {
        return;
    }
    let desired = view.eligible.len() as i64;
    let max_unavailable =
        int_or_percent(view.ds.pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable"), desired, true, 1).max(1);
    let min_ready = int_or(view.ds, "/spec/minReadySeconds", 0);
    let pod_of = |node: &String| view.by_node.get(node).and_then(|p| p.iter().find(|p| pod_active(p))).cloned();
    let mut unavailable =
        view.eligible.iter().filter(|n| pod_of(n).is_none_or(|p| !pod_available(&p, min_ready, ctx.now))).count()
            as i64;
    let mut old: Vec<Arc<Value>> = view
        .eligible
        .iter()
        .filter_map(pod_of)
        .filter(|p| s(p, &format!("/metadata/labels/{HASH_LABEL}")) != view.hash)
        .collect();
    // Unavailable old pods go first: replacing them costs no availability.
    old.sort_by_key(|p| pod_available(p, min_ready, ctx.now));
    for pod in old {
        let available = pod_available(&pod, min_ready, ctx.now);
        if available && unavailable >= max_unavailable {
            break;
        }
        ctx.delete("", "pods", &pod, Propagation::Background);
        deleted_event(ctx, view.ds, &pod);
        if available {
            unavailable += 1;
        }
    }
}

fn prune_history(ctx: &Ctx<'_>, ds: &Value, history: &History, owned: &[Arc<Value>]) {
    let live_hashes: HashSet<&str> = owned.iter().map(|p| s(p, &format!("/metadata/labels/{HASH_LABEL}"))).collect();
    let in_use: HashSet<String> = history
        .all
        .iter()
        .filter(|r| live_hashes.contains(s(r, &format!("/metadata/labels/{HASH_LABEL}"))))
        .map(|r| s(r, "/metadata/name").to_string())
        .collect();
    revisions::prune(ctx, ds, history, &in_use);
}

fn update_status(ctx: &Ctx<'_>, view: &DsView<'_>) {
    let min_ready = int_or(view.ds, "/spec/minReadySeconds", 0);
    let pod_of = |node: &String| view.by_node.get(node).and_then(|p| p.iter().find(|p| pod_active(p)));
    let scheduled: Vec<&Arc<Value>> = view.eligible.iter().filter_map(pod_of).collect();
    let desired = view.eligible.len() as i64;
    let available = scheduled.iter().filter(|p| pod_available(p, min_ready, ctx.now)).count() as i64;
    let misscheduled = view.by_node.keys().filter(|n| !view.eligible.contains(n)).count() as i64;
    let mut status = json!({
        "currentNumberScheduled": scheduled.len(),
        "desiredNumberScheduled": desired,
        "numberMisscheduled": misscheduled,
        "numberReady": scheduled.iter().filter(|p| super::super::util::pod_ready(p)).count(),
        "numberAvailable": available,
        "numberUnavailable": desired - available,
        "observedGeneration": i(view.ds, "/metadata/generation"),
        "updatedNumberScheduled": scheduled.iter().filter(|p| s(p, &format!("/metadata/labels/{HASH_LABEL}")) == view.hash).count(),
    });
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| {
            !matches!(k.as_str(), "numberAvailable" | "numberUnavailable" | "updatedNumberScheduled")
                || v.as_i64() != Some(0)
        });
    }
    write_status(ctx, "apps", "daemonsets", view.ds, status);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, labels: Value, taints: Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}})
    }

    #[test]
    fn eligibility_follows_selector_affinity_and_taints() {
        let worker = node("w1", json!({"kubernetes.io/os": "linux"}), json!([]));
        let cp = node(
            "cp",
            json!({"kubernetes.io/os": "linux"}),
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        );
        let plain = json!({"containers": [{"name": "a"}]});
        assert!(should_run(&plain, &worker));
        assert!(!should_run(&plain, &cp));
        let tolerant = json!({"tolerations": [{"operator": "Exists"}]});
        assert!(should_run(&tolerant, &cp));
        let windows = json!({"nodeSelector": {"kubernetes.io/os": "windows"}});
        assert!(!should_run(&windows, &worker));
        let affinity = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w2"]}]}
        ]}}}});
        assert!(!should_run(&affinity, &worker));
        let not_ready = node("w3", json!({}), json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]));
        assert!(should_run(&plain, &not_ready));
    }
}
