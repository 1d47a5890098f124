//! The canary strategy. `currentStepIndex` walks the steps: a `setWeight` step completes once the
//! canary and stable ReplicaSets have the replica counts that approximate the weight (Argo's basic
//! canary arithmetic, see [`weighted_counts`]) and those pods are up; a `pause` step adds the
//! `CanaryPauseStep` pause condition and completes when its duration has passed or when a promote
//! clears the condition. After the last step the canary goes to 100% and, once fully available,
//! becomes the stable ReplicaSet and the old one is scaled down. `promoteFull` skips the remaining
//! steps; an abort scales the canary to zero and the stable back to full. Other step kinds (analysis,
//! experiment, traffic routes) have nothing to wait for in the simulation and complete at once.

use super::super::super::deployment::int_or_percent;
use super::super::super::util::{s, template_hash};
use super::Ctx;
use super::{Plan, View, event, hash_of, point_service, scale, spec_replicas, status_count, steps};
use binnacle_objects::time::parse_timestamp;
use jiff::SignedDuration;
use serde_json::{Value, json};

/// The hash of the steps that `currentStepHash` records.
pub fn step_hash(steps: &[Value]) -> String {
    template_hash(&json!(steps))
}

/// A step as the controller names it in events (`setWeight: 20`, `pause`, `pause: 30s`).
pub fn step_string(step: &Value) -> String {
    if let Some(w) = step.get("setWeight").and_then(Value::as_i64) {
        return format!("setWeight: {w}");
    }
    if let Some(pause) = step.get("pause") {
        return match pause.get("duration") {
            Some(Value::String(d)) => format!("pause: {d}"),
            Some(Value::Number(n)) => format!("pause: {n}"),
            _ => "pause".into(),
        };
    }
    ["experiment", "analysis", "setCanaryScale", "plugin", "setHeaderRoute", "setMirrorRoute"]
        .iter()
        .find(|k| step.get(**k).is_some())
        .map(|k| k.to_string())
        .unwrap_or_else(|| "invalid".into())
}

/// A pause duration in seconds: an integer, or a string of digits with an optional s/m/h unit.
pub fn pause_secs(pause: &Value) -> Option<i64> {
    match pause.get("duration")? {
        Value::Number(n) => n.as_i64(),
        Value::String(d) => {
            let (number, unit) = d.split_at(d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len()));
            let n: i64 = number.parse().ok()?;
            match unit {
                "" | "s" => Some(n),
                "m" => Some(n * 60),
                "h" => Some(n * 3600),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Canary and stable replica counts for a weight: the closest approximation of `weight`% with
/// `replicas` pods (or one surge pod more when `max_surge` allows), never zero canary or stable pods for
/// a weight strictly between 0 and 100 — Argo's basic canary arithmetic.
pub fn weighted_counts(replicas: i64, weight: i64, max_surge: i64) -> (i64, i64) {
    if replicas <= 0 {
        return (0, 0);
    }
    let exact = (replicas * weight) as f64 / 100.0;
    let (ceil, floor) = (exact.ceil() as i64, exact.floor() as i64);
    let tied = |total: i64| ((total * weight) as f64 / 100.0).fract() == 0.5;
    let zero_allowed = weight == 100 || weight == 0 || (replicas == 1 && max_surge == 0);
    let mut options: Vec<(i64, i64)> = Vec::new();
    if ceil < replicas || zero_allowed {
        options.push((ceil, replicas));
    }
    if !tied(replicas) && (floor != 0 || zero_allowed) {
        options.push((floor, replicas));
    }
    if max_surge > 0 {
        options.push((ceil, replicas + 1));
        if !tied(replicas + 1) && (floor != 0 || zero_allowed) {
            options.push((floor, replicas + 1));
        }
    }
    let delta = |(canary, total): (i64, i64)| ((canary * 100) as f64 / total as f64 - weight as f64).abs();
    let mut best = match options.first() {
        Some(first) => *first,
        None => return (0, replicas),
    };
    for option in options.into_iter().skip(1) {
        if delta(option) < delta(best) {
            best = option;
        }
    }
    (best.0, best.1 - best.0)
}

/// The canary weight the rollout is at.
fn current_weight(v: &View<'_>, plan: &Plan, steps: &[Value]) -> i64 {
    if plan.promote_full || plan.stable.is_empty() || plan.stable == v.pod_hash {
        return 100;
    }
    if plan.abort {
        return 0;
    }
    let index = plan.index.unwrap_or(0).max(0) as usize;
    if index >= steps.len() {
        return 100;
    }
    steps[..=index].iter().rev().find_map(|st| st.get("setWeight").and_then(Value::as_i64)).unwrap_or(0)
}

/// The `(canary, stable)` replica counts for the current weight.
fn desired_counts(v: &View<'_>, plan: &Plan, steps: &[Value]) -> (i64, i64) {
    if v.stable_rs.as_ref().is_none_or(|st| v.is_new(st)) {
        return (v.replicas, 0);
    }
    let surge = v.ro.pointer("/spec/strategy/canary/maxSurge").or(Some(&json!("25%"))).cloned();
    let max_surge = int_or_percent(surge.as_ref(), v.replicas, true, 1);
    weighted_counts(v.replicas, current_weight(v, plan, steps), max_surge)
}

/// Whether the ReplicaSets are at the step's counts and their pods are up.
fn at_desired_counts(v: &View<'_>, canary: i64, stable: i64) -> bool {
    let new_ok = spec_replicas(&v.new_rs) == canary && status_count(&v.new_rs, "availableReplicas") == canary;
    let stable_ok = v
        .stable_rs
        .as_ref()
        .is_none_or(|st| v.is_new(st) || (spec_replicas(st) == stable && status_count(st, "replicas") == stable));
    let others_down =
        v.all.iter().filter(|r| !v.is_new(r) && !v.is_stable(r)).all(|r| status_count(r, "availableReplicas") == 0);
    new_ok && stable_ok && others_down
}

/// One pass of the canary strategy.
pub fn reconcile(ctx: &Ctx<'_>, v: &View<'_>, plan: &mut Plan) {
    let steps = steps(v.ro);
    let hash = step_hash(&steps);
    if s(v.ro, "/status/currentPodHash") != v.pod_hash || s(v.ro, "/status/currentStepHash") != hash {
        plan.reset(v.ro, steps.len());
        if !steps.is_empty() && plan.stable == v.pod_hash {
            event(ctx, v.ro, "SkipSteps", "Rollback to stable ReplicaSets");
            plan.index = Some(steps.len() as i64);
        }
        return;
    }
    let total = steps.len() as i64;
    if plan.promote_full {
        plan.clear_pause = true;
        plan.abort = false;
        plan.index = (total > 0).then_some(total);
    }
    if let Some(reason) = full_promotion(v, plan, total) {
        promote_stable(ctx, v, plan, &reason, total);
    } else if plan.abort {
        plan.index = (total > 0).then_some(if plan.stable == v.pod_hash { total } else { 0 });
    } else if v.ro.pointer("/spec/paused").and_then(Value::as_bool) != Some(true) {
        advance(ctx, v, plan, &steps);
    }
    reconcile_replicas(ctx, v, plan, &steps);
}

/// Why the canary should become stable now, if it should.
fn full_promotion(v: &View<'_>, plan: &Plan, total: i64) -> Option<String> {
    if v.stable_rs.is_none() {
        return Some("Initial deploy".into());
    }
    if plan.abort || status_count(&v.new_rs, "availableReplicas") < v.replicas {
        return None;
    }
    if plan.promote_full {
        return Some("Full promotion requested".into());
    }
    (total == 0 || plan.index == Some(total)).then(|| format!("Completed all {total} canary steps"))
}

/// Marks the current ReplicaSet stable.
pub(super) fn promote_stable(ctx: &Ctx<'_>, v: &View<'_>, plan: &mut Plan, reason: &str, total: i64) {
    plan.clear_pause = true;
    plan.abort = false;
    plan.promote_full = false;
    if v.ro.pointer("/spec/strategy/canary").is_some() {
        plan.index = (total > 0).then_some(total);
    }
    if plan.stable != v.pod_hash {
        plan.stable = v.pod_hash.clone();
        let msg = format!("Rollout completed update to revision {} ({}): {reason}", v.revision, v.pod_hash);
        event(ctx, v.ro, "RolloutCompleted", &msg);
    }
}

/// Pauses at pause steps and moves past completed steps.
fn advance(ctx: &Ctx<'_>, v: &View<'_>, plan: &mut Plan, steps: &[Value]) {
    let Some(index) = plan.index.filter(|i| (*i as usize) < steps.len()) else { return };
    let step = &steps[index as usize];
    let done = match step.get("pause") {
        Some(pause) => pause_step(ctx, plan, pause),
        None if step.get("setWeight").is_some() => {
            let (canary, stable) = desired_counts(v, plan, steps);
            at_desired_counts(v, canary, stable)
        }
        None => true,
    };
    if done {
        plan.index = Some(index + 1);
        plan.remove_pause.push("CanaryPauseStep");
        let msg = format!("Rollout step {}/{} completed ({})", index + 1, steps.len(), step_string(step));
        event(ctx, v.ro, "RolloutStepCompleted", &msg);
    }
}

/// Whether a pause step is over; adds its pause condition the first time.
fn pause_step(ctx: &Ctx<'_>, plan: &mut Plan, pause: &Value) -> bool {
    let condition = plan.pause_condition("CanaryPauseStep").cloned();
    let Some(condition) = condition else {
        if plan.was_controller_pause {
            return true;
        }
        plan.add_pause.push("CanaryPauseStep");
        if let Some(secs) = pause_secs(pause) {
            ctx.wake_in(secs as f64);
        }
        return false;
    };
    let Some(secs) = pause_secs(pause) else { return false };
    let Some(start) = parse_timestamp(condition.get("startTime")) else { return false };
    let end = start + SignedDuration::from_secs(secs);
    if ctx.now > end {
        return true;
    }
    ctx.wake_at(end + SignedDuration::from_secs(1));
    false
}

/// Sizes the canary, stable and older ReplicaSets for the current weight.
fn reconcile_replicas(ctx: &Ctx<'_>, v: &View<'_>, plan: &Plan, steps: &[Value]) {
    let halted = v.ro.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    if halted && !plan.abort {
        return;
    }
    let (canary, stable) = desired_counts(v, plan, steps);
    if let Some(st) = v.stable_rs.as_ref().filter(|st| !v.is_new(st)) {
        scale(ctx, v, st, stable);
    }
    scale(ctx, v, &v.new_rs, canary);
    for rs in v.all.iter().filter(|r| !v.is_new(r) && !v.is_stable(r)) {
        scale(ctx, v, rs, 0);
    }
    point_service(ctx, v, "canary/canaryService", &v.pod_hash);
    let stable_hash = v.stable_rs.as_ref().map(|st| hash_of(st).to_string()).unwrap_or_default();
    point_service(ctx, v, "canary/stableService", &stable_hash);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_approximate_like_argo() {
        assert_eq!(weighted_counts(5, 20, 2), (1, 4));
        assert_eq!(weighted_counts(5, 60, 2), (3, 2));
        assert_eq!(weighted_counts(5, 100, 2), (5, 0));
        assert_eq!(weighted_counts(5, 0, 2), (0, 5));
        assert_eq!(weighted_counts(10, 10, 3), (1, 9));
        // 3 pods at 20%: one canary next to three stable pods (25%) is closer than 1 of 3 (33%).
        assert_eq!(weighted_counts(3, 20, 1), (1, 3));
        assert_eq!(weighted_counts(3, 20, 0), (1, 2));
        // 1 pod at 5% with surge: a canary beside the stable pod.
        assert_eq!(weighted_counts(1, 5, 1), (1, 1));
        // A tie (3 pods at 50%) rounds up.
        assert_eq!(weighted_counts(3, 50, 0), (2, 1));
    }

    #[test]
    fn step_names_and_durations() {
        assert_eq!(step_string(&json!({"setWeight": 20})), "setWeight: 20");
        assert_eq!(step_string(&json!({"pause": {}})), "pause");
        assert_eq!(step_string(&json!({"pause": {"duration": "30s"}})), "pause: 30s");
        assert_eq!(pause_secs(&json!({"duration": "30s"})), Some(30));
        assert_eq!(pause_secs(&json!({"duration": "1m"})), Some(60));
        assert_eq!(pause_secs(&json!({"duration": 45})), Some(45));
        assert_eq!(pause_secs(&json!({"duration": "20"})), Some(20));
        assert_eq!(pause_secs(&json!({})), None);
    }
}
