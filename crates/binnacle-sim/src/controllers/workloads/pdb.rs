//! The disruption controller: PodDisruptionBudget status. `currentHealthy` counts the selected pods
//! that are ready; `desiredHealthy` comes from `minAvailable` (an integer as is, a percentage of the
//! expected pods rounded up) or `maxUnavailable` (expected pods minus the rounded-up value); the expected
//! pods are the scale of the selected pods' controllers (a Deployment through its ReplicaSet, a
//! ReplicaSet, StatefulSet, ReplicationController or any resource with `spec.replicas`), or the number of
//! selected pods for an integer `minAvailable`. `disruptionsAllowed` is what is left over, and the
//! `DisruptionAllowed` condition says whether it is positive. Evictions are not counted here.

use super::super::deployment::int_or_percent;
use super::super::util::{controller_of, deleting, i, pod_ready, s, set_condition};
use super::{Controller, Ctx, now_string, write_status};
use binnacle_objects::selector::LabelSelector;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// See the module docs.
pub struct DisruptionController;

impl Controller for DisruptionController {
    fn name(&self) -> &'static str {
        "disruption-controller"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let budgets = ctx.list("policy", "poddisruptionbudgets", None);
        if budgets.is_empty() {
            return;
        }
        let pods = ctx.list("", "pods", None);
        for pdb in budgets.iter().filter(|p| !deleting(p)) {
            sync(ctx, pdb, &pods);
        }
    }
}

/// The budget's arithmetic: `(desiredHealthy, expectedPods, disruptionsAllowed)`.
pub fn budget(
    min_available: Option<&Value>,
    max_unavailable: Option<&Value>,
    pod_count: i64,
    expected_scale: i64,
    current_healthy: i64,
) -> (i64, i64, i64) {
    let (desired, expected) = match (max_unavailable, min_available) {
        (Some(max), _) => {
            let unavailable = int_or_percent(Some(max), expected_scale, true, 0);
            ((expected_scale - unavailable).max(0), expected_scale)
        }
        (None, Some(Value::Number(n))) => (n.as_i64().unwrap_or(0), pod_count),
        (None, Some(min)) => (int_or_percent(Some(min), expected_scale, true, 0), expected_scale),
        (None, None) => (0, pod_count),
    };
    let allowed = if expected <= 0 { 0 } else { (current_healthy - desired).max(0) };
    (desired, expected, allowed)
}

fn sync(ctx: &Ctx<'_>, pdb: &Arc<Value>, pods: &[Arc<Value>]) {
    let ns = s(pdb, "/metadata/namespace");
    let selected: Vec<&Arc<Value>> = match pdb.pointer("/spec/selector") {
        None | Some(Value::Null) => Vec::new(),
        Some(sel) => match LabelSelector::from_object(sel) {
            Ok(sel) => pods
                .iter()
                .filter(|p| s(p, "/metadata/namespace") == ns && !deleting(p) && sel.matches_object(p))
                .collect(),
            Err(_) => Vec::new(),
        },
    };
    let healthy = selected.iter().filter(|p| pod_ready(p)).count() as i64;
    let scale = expected_scale(ctx, ns, &selected);
    let (desired, expected, allowed) = budget(
        pdb.pointer("/spec/minAvailable"),
        pdb.pointer("/spec/maxUnavailable"),
        selected.len() as i64,
        scale,
        healthy,
    );
    let mut p = (**pdb).clone();
    let conditions = pdb.pointer("/status/conditions").cloned();
    p["status"] = json!({
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "observedGeneration": i(pdb, "/metadata/generation"),
    });
    if let Some(disrupted) = pdb.pointer("/status/disruptedPods") {
        p["status"]["disruptedPods"] = disrupted.clone();
    }
    if let Some(c) = conditions {
        p["status"]["conditions"] = c;
    }
    let (status, reason) = if allowed > 0 { ("True", "SufficientPods") } else { ("False", "InsufficientPods") };
    set_condition(&mut p, "DisruptionAllowed", status, reason, "", &now_string(ctx), false);
    let generation = i(pdb, "/metadata/generation");
    let conditions = p.pointer_mut("/status/conditions").and_then(Value::as_array_mut);
    if let Some(c) = conditions.and_then(|cs| cs.iter_mut().find(|c| c["type"] == "DisruptionAllowed")) {
        c["observedGeneration"] = json!(generation);
    }
    if let Some(st) = p.get("status").cloned() {
        write_status(ctx, "policy", "poddisruptionbudgets", pdb, st);
    }
}

/// The summed scale of the controllers of the selected pods (pods without a controller add nothing).
fn expected_scale(ctx: &Ctx<'_>, ns: &str, pods: &[&Arc<Value>]) -> i64 {
    let mut controllers: BTreeMap<(String, String), i64> = BTreeMap::new();
    for pod in pods {
        let Some((kind, name)) = controller_of(pod) else { continue };
        let api_version = pod
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .and_then(|refs| refs.iter().find(|r| r["controller"] == true))
            .map(|r| s(r, "/apiVersion").to_string())
            .unwrap_or_default();
        let key = (kind.to_string(), name.to_string());
        if let std::collections::btree_map::Entry::Vacant(slot) = controllers.entry(key) {
            slot.insert(scale_of(ctx, ns, &api_version, kind, name).unwrap_or(0));
        }
    }
    controllers.values().sum()
}

fn scale_of(ctx: &Ctx<'_>, ns: &str, api_version: &str, kind: &str, name: &str) -> Option<i64> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let rt = ctx.cluster.registry().by_kind(group, kind)?;
    let owner = ctx.get(&rt.group, &rt.plural, ns, name)?;
    if kind == "ReplicaSet"
        && let Some(("Deployment", deploy)) = controller_of(&owner)
        && let Some(d) = ctx.get("apps", "deployments", ns, deploy)
    {
        return d.pointer("/spec/replicas").and_then(Value::as_i64);
    }
    owner.pointer("/spec/replicas").and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_available_integer_uses_pod_count() {
        assert_eq!(budget(Some(&json!(2)), None, 3, 3, 3), (2, 3, 1));
        assert_eq!(budget(Some(&json!(2)), None, 3, 3, 2), (2, 3, 0));
    }

    #[test]
    fn percentages_round_up_against_the_scale() {
        assert_eq!(budget(Some(&json!("50%")), None, 3, 3, 3), (2, 3, 1));
        assert_eq!(budget(None, Some(&json!("25%")), 4, 5, 5), (3, 5, 2));
        assert_eq!(budget(None, Some(&json!(1)), 3, 3, 3), (2, 3, 1));
        assert_eq!(budget(None, Some(&json!(1)), 0, 0, 0), (0, 0, 0));
    }
}
