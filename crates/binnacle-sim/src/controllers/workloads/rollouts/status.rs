//! The Rollout status the `kubectl argo rollouts` plugin and the Argo UI read: replica counts from the
//! ReplicaSets, the pause and abort state from the [`Plan`], the Progressing, Available, Healthy,
//! Paused and Completed conditions with Argo's reasons and messages, and the phase and message Argo
//! derives from them (Healthy, Progressing, Paused, Degraded). Pause transitions and aborts emit the
//! controller's events.

use super::super::super::util::{i, s};
use super::super::{now_string, write_status};
use super::canary::step_hash;
use super::{COMPONENT, Ctx, Plan, View, event, status_count, steps};
use binnacle_objects::selector::LabelSelector;
use serde_json::{Value, json};

/// The ReplicaSet sums a status reports.
struct Counts {
    replicas: i64,
    updated: i64,
    ready: i64,
    available: i64,
}

impl Counts {
    fn of(v: &View<'_>) -> Self {
        let sum = |field: &str| v.all.iter().map(|rs| status_count(rs, field)).sum::<i64>();
        Self {
            replicas: sum("replicas"),
            updated: status_count(&v.new_rs, "replicas"),
            ready: sum("readyReplicas"),
            available: sum("availableReplicas"),
        }
    }
}

fn reason_of(c: &Value) -> &str {
    s(c, "/reason")
}

/// The pause conditions and `controllerPause` after this pass (Argo's pause context).
fn pause_status(plan: &Plan, now: &str) -> (Vec<Value>, bool) {
    if plan.abort || plan.clear_pause {
        return (Vec::new(), false);
    }
    let mut list: Vec<Value> =
        plan.pause.iter().filter(|c| !plan.remove_pause.contains(&reason_of(c))).cloned().collect();
    let mut controller = plan.was_controller_pause;
    for reason in &plan.add_pause {
        if !plan.pause.iter().any(|c| reason_of(c) == *reason) {
            list.push(json!({"reason": reason, "startTime": now}));
            controller = true;
        }
    }
    let controller = controller && !list.is_empty();
    (list, controller)
}

/// Builds and writes the status.
pub fn write(ctx: &Ctx<'_>, v: &View<'_>, plan: Plan) {
    let now = now_string(ctx);
    let old = v.ro.get("status").filter(|s| s.is_object()).cloned().unwrap_or(json!({}));
    let (pause, controller_pause) = pause_status(&plan, &now);
    let counts = Counts::of(v);
    let mut st = base_status(v, &plan, &counts);
    if !pause.is_empty() {
        st["pauseConditions"] = json!(pause);
        st["controllerPause"] = json!(controller_pause);
    }
    if plan.abort {
        st["abort"] = json!(true);
        st["abortedAt"] = old.get("abortedAt").filter(|a| !a.is_null()).cloned().unwrap_or(json!(now));
    }
    let conditions = conditions(ctx, v, &plan, &old, &st, &counts, &now);
    st["conditions"] = json!(conditions);
    let (phase, message) = phase(v, &st, &counts);
    st["phase"] = json!(phase);
    if !message.is_empty() {
        st["message"] = json!(message);
    }
    let was_paused = old.get("pauseConditions").and_then(Value::as_array).is_some_and(|p| !p.is_empty());
    if was_paused == pause.is_empty() && old != st {
        if let Some(first) = pause.first() {
            event(ctx, v.ro, "RolloutPaused", &format!("Rollout is paused ({})", reason_of(first)));
        } else if !plan.abort {
            event(ctx, v.ro, "RolloutResumed", "Rollout is resumed");
        }
    }
    write_status(ctx, "argoproj.io", "rollouts", v.ro, st);
}

fn base_status(v: &View<'_>, plan: &Plan, counts: &Counts) -> Value {
    let selector = LabelSelector::from_object(v.ro.pointer("/spec/selector").unwrap_or(&Value::Null))
        .map(|sel| sel.to_selector_string())
        .unwrap_or_default();
    let mut st = json!({
        "HPAReplicas": counts.replicas,
        "availableReplicas": counts.available,
        "blueGreen": {},
        "canary": {},
        "currentPodHash": v.pod_hash,
        "observedGeneration": i(v.ro, "/metadata/generation").to_string(),
        "readyReplicas": counts.ready,
        "replicas": counts.replicas,
        "selector": selector,
        "updatedReplicas": counts.updated,
    });
    if let Some(m) = st.as_object_mut() {
        m.retain(|_, v| v.as_i64() != Some(0));
    }
    if !plan.stable.is_empty() {
        st["stableRS"] = json!(plan.stable);
    }
    if is_blue_green(v) {
        for (key, value) in [("activeSelector", &plan.active_selector), ("previewSelector", &plan.preview_selector)] {
            if !value.is_empty() {
                st["blueGreen"][key] = json!(value);
            }
        }
    } else {
        st["currentStepHash"] = json!(step_hash(&steps(v.ro)));
        if let Some(index) = plan.index {
            st["currentStepIndex"] = json!(index);
        }
    }
    if plan.promote_full {
        st["promoteFull"] = json!(true);
    }
    if let Some(r) = &plan.restarted_at {
        st["restartedAt"] = r.clone();
    }
    st
}

fn is_blue_green(v: &View<'_>) -> bool {
    v.ro.pointer("/spec/strategy/blueGreen").is_some_and(Value::is_object)
}

fn spec_paused(v: &View<'_>) -> bool {
    v.ro.pointer("/spec/paused").and_then(Value::as_bool) == Some(true)
}

fn find<'c>(conditions: &'c [Value], ty: &str) -> Option<&'c Value> {
    conditions.iter().find(|c| s(c, "/type") == ty)
}

/// Argo's SetRolloutCondition: no change when status and reason match; the transition time is kept
/// when only the reason changes. Returns whether the condition changed.
fn set(conditions: &mut Vec<Value>, ty: &str, status: &str, reason: &str, message: &str, now: &str) -> bool {
    let current = find(conditions, ty).cloned();
    if current.as_ref().is_some_and(|c| s(c, "/status") == status && s(c, "/reason") == reason) {
        return false;
    }
    let transition = match &current {
        Some(c) if s(c, "/status") == status => c.get("lastTransitionTime").cloned().unwrap_or(json!(now)),
        _ => json!(now),
    };
    conditions.retain(|c| s(c, "/type") != ty);
    conditions.push(json!({
        "lastTransitionTime": transition, "lastUpdateTime": now, "message": message,
        "reason": reason, "status": status, "type": ty,
    }));
    true
}

/// Argo's RolloutHealthy: everything updated and available, steps done, the current ReplicaSet stable.
fn healthy(v: &View<'_>, st: &Value, counts: &Counts) -> bool {
    let strategy_done = if is_blue_green(v) {
        s(st, "/blueGreen/activeSelector") == v.pod_hash
    } else {
        let total = steps(v.ro).len() as i64;
        let steps_done = total == 0 || st.get("currentStepIndex").and_then(Value::as_i64).is_none_or(|i| i == total);
        steps_done && s(st, "/stableRS") == v.pod_hash && counts.replicas == v.replicas
    };
    counts.updated == v.replicas
        && counts.available == v.replicas
        && s(v.ro, "/status/observedGeneration") == i(v.ro, "/metadata/generation").to_string()
        && strategy_done
}

/// Whether anything moved since the stored status (Argo's RolloutProgressing).
fn progressed(old: &Value, st: &Value) -> bool {
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    let text = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    n(st, "updatedReplicas") != n(old, "updatedReplicas")
        || n(st, "replicas") - n(st, "updatedReplicas") < n(old, "replicas") - n(old, "updatedReplicas")
        || n(st, "readyReplicas") > n(old, "readyReplicas")
        || n(st, "availableReplicas") > n(old, "availableReplicas")
        || ["stableRS", "currentStepIndex", "currentStepHash", "blueGreen"].iter().any(|k| text(st, k) != text(old, k))
}

#[allow(clippy::too_many_arguments)]
fn conditions(
    ctx: &Ctx<'_>,
    v: &View<'_>,
    plan: &Plan,
    old: &Value,
    st: &Value,
    counts: &Counts,
    now: &str,
) -> Vec<Value> {
    let mut conds: Vec<Value> = old.get("conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    pause_conditions(v, old, &mut conds, now);
    let paused = st.get("pauseConditions").is_some() || spec_paused(v);
    let is_healthy = healthy(v, st, counts);
    let had_healthy = find(&conds, "Healthy").is_some();
    let mut became_unhealthy = false;
    if !paused && is_healthy {
        set(&mut conds, "Healthy", "True", "RolloutHealthy", "Rollout is healthy", now);
    } else if had_healthy {
        became_unhealthy = set(&mut conds, "Healthy", "False", "RolloutHealthy", "Rollout is not healthy", now);
    }
    let rs_name = s(&v.new_rs, "/metadata/name");
    if plan.abort {
        let msg = format!("Rollout aborted update to revision {}", v.revision);
        if set(&mut conds, "Progressing", "False", "RolloutAborted", &msg, now) {
            ctx.event(v.ro, true, "RolloutAborted", &msg, COMPONENT);
        }
    } else if is_healthy {
        let msg = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
        set(&mut conds, "Progressing", "True", "NewReplicaSetAvailable", &msg, now);
    } else if progressed(old, st) || became_unhealthy {
        let msg = format!("ReplicaSet \"{rs_name}\" is progressing.");
        let was_true = find(&conds, "Progressing").is_some_and(|c| s(c, "/status") == "True");
        let transition = find(&conds, "Progressing").and_then(|c| c.get("lastTransitionTime")).cloned();
        conds.retain(|c| s(c, "/type") != "Progressing");
        set(&mut conds, "Progressing", "True", "ReplicaSetUpdated", &msg, now);
        if let (true, Some(t), Some(c)) = (was_true, transition, conds.last_mut()) {
            c["lastTransitionTime"] = t;
        }
    }
    let available = if is_blue_green(v) {
        v.all.iter().any(|rs| {
            super::hash_of(rs) == s(st, "/blueGreen/activeSelector")
                && status_count(rs, "availableReplicas") >= v.replicas
        })
    } else {
        counts.available >= v.replicas
    };
    if available {
        set(&mut conds, "Available", "True", "AvailableReason", "Rollout has minimum availability", now);
    } else {
        set(&mut conds, "Available", "False", "AvailableReason", "Rollout does not have minimum availability", now);
    }
    completed_condition(ctx, v, st, &mut conds, now);
    conds
}

/// The Paused condition and the paused/resumed/retry Progressing reasons (Argo's checkPausedConditions),
/// judged on the stored status.
fn pause_conditions(v: &View<'_>, old: &Value, conds: &mut Vec<Value>, now: &str) {
    if s(old, "/observedGeneration") != i(v.ro, "/metadata/generation").to_string() {
        return;
    }
    let progress_reason = find(conds, "Progressing").map(|c| s(c, "/reason").to_string()).unwrap_or_default();
    let was_paused =
        old.get("pauseConditions").and_then(Value::as_array).is_some_and(|p| !p.is_empty()) || spec_paused(v);
    let aborted_before = progress_reason == "RolloutAborted";
    let completed = !s(old, "/stableRS").is_empty() && s(old, "/stableRS") == s(old, "/currentPodHash");
    if was_paused != (progress_reason == "RolloutPaused") && !aborted_before && !completed {
        let (reason, msg) =
            if was_paused { ("RolloutPaused", "Rollout is paused") } else { ("RolloutResumed", "Rollout is resumed") };
        set(conds, "Progressing", "Unknown", reason, msg, now);
    }
    if old.get("abort").and_then(Value::as_bool) != Some(true) && aborted_before {
        set(conds, "Progressing", "Unknown", "RolloutRetry", "Retrying Rollout after abort", now);
    }
    let paused_true = find(conds, "Paused").is_some_and(|c| s(c, "/status") == "True");
    if was_paused != paused_true && !aborted_before {
        set(conds, "Paused", if was_paused { "True" } else { "False" }, "RolloutPaused", "Rollout is paused", now);
    }
}

fn completed_condition(ctx: &Ctx<'_>, v: &View<'_>, st: &Value, conds: &mut Vec<Value>, now: &str) {
    let completed = !s(st, "/stableRS").is_empty() && s(st, "/stableRS") == v.pod_hash;
    if completed {
        set(conds, "Completed", "True", "RolloutCompleted", "RolloutCompleted", now);
    } else if set(conds, "Completed", "False", "RolloutCompleted", "RolloutCompleted", now) {
        let msg = format!("Rollout not completed, started update to revision {} ({})", v.revision, v.pod_hash);
        event(ctx, v.ro, "RolloutNotCompleted", &msg);
    }
}

/// Argo's CalculateRolloutPhase.
fn phase(v: &View<'_>, st: &Value, counts: &Counts) -> (&'static str, String) {
    let conds = st.get("conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    for c in &conds {
        if s(c, "/type") == "InvalidSpec" {
            return ("Degraded", format!("InvalidSpec: {}", s(c, "/message")));
        }
        if matches!(s(c, "/reason"), "RolloutAborted" | "ProgressDeadlineExceeded") {
            return ("Degraded", format!("{}: {}", s(c, "/reason"), s(c, "/message")));
        }
    }
    if spec_paused(v) {
        return ("Paused", "manually paused".into());
    }
    if let Some(first) = st.get("pauseConditions").and_then(Value::as_array).and_then(|p| p.first()) {
        return ("Paused", reason_of(first).to_string());
    }
    let restart_at = v.ro.pointer("/spec/restartAt").filter(|r| !r.is_null());
    if restart_at.is_some() && restart_at != st.get("restartedAt") {
        return ("Progressing", "rollout is restarting".into());
    }
    if counts.updated < v.replicas {
        return ("Progressing", "more replicas need to be updated".into());
    }
    if counts.available < counts.updated {
        return ("Progressing", "updated replicas are still becoming available".into());
    }
    let stable_is_current = !s(st, "/stableRS").is_empty() && s(st, "/stableRS") == v.pod_hash;
    if is_blue_green(v) {
        if s(st, "/blueGreen/activeSelector") != v.pod_hash {
            return ("Progressing", "active service cutover pending".into());
        }
        if !stable_is_current {
            return ("Progressing", "waiting for post-promotion verification to complete".into());
        }
    } else {
        if counts.replicas > counts.updated {
            return ("Progressing", "old replicas are pending termination".into());
        }
        if !stable_is_current {
            return ("Progressing", "waiting for all steps to complete".into());
        }
    }
    ("Healthy", String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_context_adds_and_clears() {
        let mut plan = Plan { add_pause: vec!["CanaryPauseStep"], ..Plan::default() };
        let (list, controller) = pause_status(&plan, "t");
        assert_eq!(list.len(), 1);
        assert!(controller);
        plan = Plan {
            pause: list.clone(),
            was_controller_pause: true,
            remove_pause: vec!["CanaryPauseStep"],
            ..Plan::default()
        };
        assert_eq!(pause_status(&plan, "t"), (Vec::new(), false));
        plan = Plan { pause: list, was_controller_pause: true, abort: true, ..Plan::default() };
        assert_eq!(pause_status(&plan, "t"), (Vec::new(), false));
    }

    #[test]
    fn conditions_keep_times_when_unchanged() {
        let mut conds = Vec::new();
        assert!(set(&mut conds, "Available", "True", "AvailableReason", "m", "t1"));
        assert!(!set(&mut conds, "Available", "True", "AvailableReason", "other", "t2"));
        assert!(set(&mut conds, "Available", "False", "AvailableReason", "m", "t3"));
        assert_eq!(conds[0]["lastTransitionTime"], "t3");
    }
}
