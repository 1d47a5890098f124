//! The Deployment controller: one ReplicaSet per pod template (named `<deployment>-<hash>`), rolling
//! updates within maxSurge/maxUnavailable or Recreate, revisions and rollbacks by template, pause,
//! progress deadlines, the status and conditions `kubectl rollout status` reads, and pruning of old
//! ReplicaSets beyond `revisionHistoryLimit`.

use super::util::{controlled_by, controller_of, deleting, i, owner_ref, s, set_condition, template_hash, uid};
use super::{Controller, Ctx};
use crate::cluster::Propagation;
use binnacle_objects::selector::LabelSelector;
use binnacle_objects::time::{format_timestamp, parse_timestamp};
use serde_json::{Value, json};
use std::sync::Arc;

/// See the module docs.
pub struct DeploymentController;

const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH_LABEL: &str = "pod-template-hash";

/// Resolves an int-or-percent against a total (percentages round up for surge, down for unavailable).
pub fn int_or_percent(v: Option<&Value>, total: i64, round_up: bool, default: i64) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(default),
        Some(Value::String(s)) if s.ends_with('%') => {
            let pct: f64 = s.trim_end_matches('%').parse().unwrap_or(0.0);
            let x = total as f64 * pct / 100.0;
            if round_up { x.ceil() as i64 } else { x.floor() as i64 }
        }
        Some(Value::String(s)) => s.parse().unwrap_or(default),
        _ => default,
    }
}

/// The template without the pod-template-hash label (what identifies a revision).
pub fn template_identity(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(HASH_LABEL);
    }
    drop_nulls(&mut t);
    t
}

/// Removes null values and empty maps left behind by them, recursively.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            for x in map.values_mut() {
                drop_nulls(x);
            }
            map.retain(|k, x| !(k == "metadata" && x.as_object().is_some_and(|m| m.is_empty())));
        }
        Value::Array(list) => list.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn revision(rs: &Value) -> i64 {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn spec_replicas(rs: &Value) -> i64 {
    rs.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)
}

impl Controller for DeploymentController {
    fn name(&self) -> &'static str {
        "deployment-controller"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let all_rs = ctx.list("apps", "replicasets", None);
        for deploy in ctx.list("apps", "deployments", None) {
            if deleting(&deploy) {
                continue;
            }
            self.sync(ctx, &deploy, &all_rs);
        }
    }
}

impl DeploymentController {
    fn scale(&self, ctx: &Ctx<'_>, deploy: &Value, rs: &Value, to: i64, max_replicas: i64) -> Option<Arc<Value>> {
        let from = spec_replicas(rs);
        let desired = deploy.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let updated = ctx.modify("apps", "replicasets", rs, |r| {
            r["spec"]["replicas"] = json!(to);
            r["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = json!(desired.to_string());
            r["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = json!(max_replicas.to_string());
        });
        if from != to {
            let verb = if to > from { "up" } else { "down" };
            let msg = format!("Scaled {verb} replica set {} from {from} to {to}", s(rs, "/metadata/name"));
            ctx.event(deploy, false, "ScalingReplicaSet", &msg, "deployment-controller");
        }
        updated
    }

    fn sync(&self, ctx: &Ctx<'_>, deploy: &Arc<Value>, all_rs: &[Arc<Value>]) {
        let ns = s(deploy, "/metadata/namespace").to_string();
        let name = s(deploy, "/metadata/name").to_string();
        let d_uid = uid(deploy).to_string();
        let Ok(selector) = LabelSelector::from_object(deploy.pointer("/spec/selector").unwrap_or(&Value::Null)) else {
            return;
        };
        if selector.is_empty() {
            return;
        }
        let replicas = deploy.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let template = deploy.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let identity = template_identity(&template);
        // The ReplicaSets this Deployment controls, adopting orphans that match its selector.
        let mut owned: Vec<Arc<Value>> = Vec::new();
        for rs in all_rs.iter().filter(|r| s(r, "/metadata/namespace") == ns && !deleting(r)) {
            if controlled_by(rs, &d_uid) {
                owned.push(rs.clone());
            } else if controller_of(rs).is_none() && selector.matches_object(rs) {
                let reference = owner_ref(deploy);
                if let Some(adopted) = ctx.modify("apps", "replicasets", rs, |r| {
                    r["metadata"]["ownerReferences"] = json!([reference.clone()]);
                }) {
                    owned.push(adopted);
                }
            }
        }
        let max_revision = owned.iter().map(|r| revision(r)).max().unwrap_or(0);
        let mut new_rs = owned
            .iter()
            .find(|r| r.pointer("/spec/template").map(template_identity) == Some(identity.clone()))
            .cloned();
        let paused = deploy.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        let strategy = s(deploy, "/spec/strategy/type").to_string();
        let max_surge = if strategy == "Recreate" {
            0
        } else {
            int_or_percent(deploy.pointer("/spec/strategy/rollingUpdate/maxSurge"), replicas, true, 1)
        };
        let max_unavailable = if strategy == "Recreate" {
            replicas
        } else {
            int_or_percent(deploy.pointer("/spec/strategy/rollingUpdate/maxUnavailable"), replicas, false, 0)
        };
        let max_unavailable = if max_surge == 0 && max_unavailable == 0 { 1 } else { max_unavailable };
        let mut created_new = false;
        if !paused {
            match &new_rs {
                None => {
                    let hash = template_hash(&identity);
                    let rs_name = format!("{name}-{hash}");
                    let mut rs_template = identity.clone();
                    rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
                    let mut rs_selector = deploy.pointer("/spec/selector").cloned().unwrap_or(json!({}));
                    if rs_selector.get("matchLabels").is_none_or(|m| !m.is_object()) {
                        rs_selector["matchLabels"] = json!({});
                    }
                    rs_selector["matchLabels"][HASH_LABEL] = json!(hash);
                    let mut labels = rs_template.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
                    labels[HASH_LABEL] = json!(hash);
                    let mut annotations = json!({
                        REVISION: (max_revision + 1).to_string(),
                        "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                        "deployment.kubernetes.io/max-replicas": (replicas + max_surge).to_string(),
                    });
                    if let Some(cause) = deploy.pointer("/metadata/annotations/kubernetes.io~1change-cause") {
                        annotations["kubernetes.io/change-cause"] = cause.clone();
                    }
                    let initial = if owned.iter().all(|r| spec_replicas(r) == 0) && strategy != "Recreate" {
                        replicas
                    } else {
                        0
                    };
                    let rs = json!({
                        "apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": rs_name, "namespace": ns, "labels": labels, "annotations": annotations, "ownerReferences": [owner_ref(deploy)]},
                        "spec": {"replicas": initial, "selector": rs_selector, "template": rs_template, "minReadySeconds": deploy.pointer("/spec/minReadySeconds").cloned().unwrap_or(json!(0))}
                    });
                    if let Some(created) = ctx.create("apps", "replicasets", &ns, rs, "kube-controller-manager") {
                        if initial > 0 {
                            let msg = format!("Scaled up replica set {rs_name} from 0 to {initial}");
                            ctx.event(deploy, false, "ScalingReplicaSet", &msg, "deployment-controller");
                        }
                        new_rs = Some(created.clone());
                        owned.push(created);
                        created_new = true;
                    }
                }
                Some(rs) if revision(rs) < max_revision => {
                    // A rollback to an older template: that ReplicaSet becomes the newest revision.
                    let next = (max_revision + 1).to_string();
                    if let Some(updated) =
                        ctx.modify("apps", "replicasets", rs, |r| r["metadata"]["annotations"][REVISION] = json!(next))
                    {
                        owned.retain(|o| uid(o) != uid(&updated));
                        owned.push(updated.clone());
                        new_rs = Some(updated);
                    }
                }
                Some(_) => {}
            }
        }
        let new_uid = new_rs.as_ref().map(|r| uid(r).to_string()).unwrap_or_default();
        let old: Vec<Arc<Value>> = owned.iter().filter(|r| uid(r) != new_uid).cloned().collect();
        if let (false, Some(new)) = (paused, &new_rs) {
            let avail = |r: &Value| r.pointer("/status/availableReplicas").and_then(Value::as_i64).unwrap_or(0);
            if strategy == "Recreate" {
                let old_active: i64 = old
                    .iter()
                    .map(|r| r.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0) + spec_replicas(r))
                    .sum();
                for r in old.iter().filter(|r| spec_replicas(r) > 0) {
                    self.scale(ctx, deploy, r, 0, replicas);
                }
                if old_active == 0 && spec_replicas(new) != replicas {
                    self.scale(ctx, deploy, new, replicas, replicas);
                }
            } else {
                let total: i64 = owned.iter().map(|r| spec_replicas(r)).sum();
                let max_total = replicas + max_surge;
                let new_spec = spec_replicas(new);
                if new_spec > replicas {
                    self.scale(ctx, deploy, new, replicas, max_total);
                } else if new_spec < replicas && total < max_total {
                    let to = (new_spec + (max_total - total)).min(replicas);
                    self.scale(ctx, deploy, new, to, max_total);
                }
                // Scale old ReplicaSets down: unavailable old pods first, then within maxUnavailable.
                let min_available = replicas - max_unavailable;
                let available_total: i64 = owned.iter().map(|r| avail(r)).sum();
                let mut can_remove = (available_total - min_available).max(0);
                for r in old.iter().filter(|r| spec_replicas(r) > 0) {
                    let unhealthy = (spec_replicas(r) - avail(r)).max(0);
                    let mut target = spec_replicas(r) - unhealthy;
                    let extra = can_remove.min(target);
                    target -= extra;
                    can_remove -= extra;
                    if target != spec_replicas(r) {
                        self.scale(ctx, deploy, r, target, max_total);
                    }
                }
            }
        }
        // Prune old ReplicaSets beyond the history limit.
        let limit = deploy.pointer("/spec/revisionHistoryLimit").and_then(Value::as_i64).unwrap_or(10);
        let mut prunable: Vec<&Arc<Value>> = old
            .iter()
            .filter(|r| {
                spec_replicas(r) == 0 && r.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0) == 0
            })
            .collect();
        if prunable.len() as i64 > limit {
            prunable.sort_by_key(|r| revision(r));
            let excess = prunable.len() - limit.max(0) as usize;
            for r in prunable.into_iter().take(excess) {
                ctx.delete("apps", "replicasets", r, Propagation::Background);
            }
        }
        self.update_status(ctx, deploy, &owned, new_rs.as_deref(), replicas, max_unavailable, paused, created_new);
        if let Some(new) = &new_rs {
            let rev = revision(new).to_string();
            let current = deploy.pointer("/metadata/annotations").and_then(|a| a.get(REVISION)).and_then(Value::as_str);
            if current != Some(rev.as_str()) && !rev.is_empty() && rev != "0" {
                ctx.modify("apps", "deployments", deploy, |d| {
                    if d.pointer("/metadata/annotations").is_none_or(|a| !a.is_object()) {
                        d["metadata"]["annotations"] = json!({});
                    }
                    d["metadata"]["annotations"][REVISION] = json!(rev);
                });
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update_status(
        &self,
        ctx: &Ctx<'_>,
        deploy: &Value,
        owned: &[Arc<Value>],
        new_rs: Option<&Value>,
        replicas: i64,
        max_unavailable: i64,
        paused: bool,
        created_new: bool,
    ) {
        let sum = |p: &str| owned.iter().map(|r| r.pointer(p).and_then(Value::as_i64).unwrap_or(0)).sum::<i64>();
        let total = sum("/status/replicas");
        let ready = sum("/status/readyReplicas");
        let available = sum("/status/availableReplicas");
        let updated = new_rs.map(|r| r.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0)).unwrap_or(0);
        let new_available =
            new_rs.map(|r| r.pointer("/status/availableReplicas").and_then(Value::as_i64).unwrap_or(0)).unwrap_or(0);
        let now = format_timestamp(ctx.now);
        let new_name = new_rs.map(|r| s(r, "/metadata/name").to_string()).unwrap_or_default();
        let generation = i(deploy, "/metadata/generation");
        let counts_changed = ["replicas", "updatedReplicas", "readyReplicas", "availableReplicas"]
            .iter()
            .zip([total, updated, ready, available])
            .any(|(k, v)| deploy.pointer(&format!("/status/{k}")).and_then(Value::as_i64).unwrap_or(0) != v);
        let complete = updated == replicas
            && total == replicas
            && new_available == replicas
            && i(deploy, "/status/observedGeneration") >= generation;
        let deadline = deploy.pointer("/spec/progressDeadlineSeconds").and_then(Value::as_i64).unwrap_or(600);
        let last_progress = deploy
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| c["type"] == "Progressing"))
            .and_then(|c| parse_timestamp(c.get("lastUpdateTime")));
        let mut d = deploy.clone();
        d["status"]["observedGeneration"] = json!(generation);
        d["status"]["replicas"] = json!(total);
        d["status"]["updatedReplicas"] = json!(updated);
        d["status"]["readyReplicas"] = json!(ready);
        d["status"]["availableReplicas"] = json!(available);
        d["status"]["unavailableReplicas"] = json!((replicas.max(total) - available).max(0));
        if let Some(m) = d["status"].as_object_mut() {
            m.retain(|k, v| {
                !matches!(k.as_str(), "updatedReplicas" | "readyReplicas" | "availableReplicas" | "unavailableReplicas")
                    || v.as_i64() != Some(0)
            });
        }
        if available >= replicas - max_unavailable {
            set_condition(
                &mut d,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                &now,
                true,
            );
        } else {
            set_condition(
                &mut d,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                &now,
                true,
            );
        }
        let timed_out = !complete
            && !paused
            && !counts_changed
            && !created_new
            && last_progress.is_some_and(|t| ctx.now.duration_since(t).as_secs() >= deadline);
        let already_timed_out = deploy
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|c| c["reason"] == "ProgressDeadlineExceeded"))
            && !counts_changed
            && !complete;
        if paused {
            set_condition(&mut d, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", &now, true);
        } else if complete {
            set_condition(
                &mut d,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
                &now,
                true,
            );
        } else if timed_out || already_timed_out {
            set_condition(
                &mut d,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                &now,
                true,
            );
        } else if created_new {
            set_condition(
                &mut d,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{new_name}\""),
                &now,
                true,
            );
        } else {
            set_condition(
                &mut d,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
                &now,
                true,
            );
            if counts_changed
                && let Some(c) = d
                    .pointer_mut("/status/conditions")
                    .and_then(Value::as_array_mut)
                    .and_then(|c| c.iter_mut().find(|c| c["type"] == "Progressing"))
            {
                c["lastUpdateTime"] = json!(now);
            }
        }
        if !complete && !paused && !timed_out && !already_timed_out {
            let since = last_progress.unwrap_or(ctx.now);
            ctx.wake_at(since + jiff::SignedDuration::from_secs(deadline));
        }
        if d.get("status") != deploy.get("status") {
            let status = d["status"].clone();
            ctx.modify("apps", "deployments", deploy, |x| x["status"] = status.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surge_and_unavailable() {
        assert_eq!(int_or_percent(Some(&json!("25%")), 3, true, 1), 1);
        assert_eq!(int_or_percent(Some(&json!("25%")), 3, false, 1), 0);
        assert_eq!(int_or_percent(Some(&json!(2)), 3, false, 1), 2);
        assert_eq!(int_or_percent(None, 3, false, 7), 7);
    }
}
