//! The blue-green strategy, kept minimal: the new (preview) ReplicaSet is scaled to full size next to
//! the active one and the preview Service points at it once it is available. Promotion — automatic
//! (`autoPromotionEnabled`, default true, after `autoPromotionSeconds`) or by clearing the
//! `BlueGreenPause` condition — switches the active Service and `status.blueGreen.activeSelector` to
//! the new ReplicaSet and makes it stable; the previous one is scaled down `scaleDownDelaySeconds`
//! (default 30) later. An abort scales the preview down and points the preview Service back at the
//! active ReplicaSet. Not simulated: pre/post-promotion analysis, `previewReplicaCount`,
//! `scaleDownDelayRevisionLimit`, anti-affinity.

use super::super::super::util::s;
use super::canary::promote_stable;
use super::{Ctx, Plan, View, hash_of, object_at, point_service, scale, spec_replicas, status_count};
use binnacle_objects::time::{format_timestamp, parse_timestamp};
use jiff::SignedDuration;
use serde_json::{Value, json};

const DEADLINE: &str = "argo-rollouts.argoproj.io/scale-down-deadline";

fn bg_i64(v: &View<'_>, field: &str) -> Option<i64> {
    v.ro.pointer(&format!("/spec/strategy/blueGreen/{field}")).and_then(Value::as_i64)
}

/// One pass of the blue-green strategy.
pub fn reconcile(ctx: &Ctx<'_>, v: &View<'_>, plan: &mut Plan) {
    if s(v.ro, "/status/currentPodHash") != v.pod_hash {
        plan.reset(v.ro, 0);
        return;
    }
    let paused = v.ro.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let aborting_preview = plan.abort && !plan.active_selector.is_empty() && plan.active_selector != v.pod_hash;
    scale(ctx, v, &v.new_rs, if aborting_preview { 0 } else { v.replicas });
    if v.stable_rs.is_none() || plan.active_selector.is_empty() {
        plan.active_selector = v.pod_hash.clone();
        promote_stable(ctx, v, plan, "Initial deploy", 0);
    } else if plan.active_selector == v.pod_hash {
        plan.preview_selector = v.pod_hash.clone();
    } else if plan.abort {
        plan.preview_selector = plan.active_selector.clone();
    } else if status_count(&v.new_rs, "availableReplicas") >= v.replicas && !paused {
        plan.preview_selector = v.pod_hash.clone();
        if plan.promote_full || promotion_due(ctx, v, plan) {
            plan.active_selector = v.pod_hash.clone();
            let reason = if plan.promote_full { "Full promotion requested" } else { "Completed blue-green update" };
            promote_stable(ctx, v, plan, reason, 0);
        }
    }
    point_service(ctx, v, "blueGreen/activeService", &plan.active_selector);
    point_service(ctx, v, "blueGreen/previewService", &plan.preview_selector);
    scale_down_old(ctx, v, plan);
}

/// Whether the preview may become active: auto-promotion after its delay, or a cleared pause.
fn promotion_due(ctx: &Ctx<'_>, v: &View<'_>, plan: &mut Plan) -> bool {
    let auto = v.ro.pointer("/spec/strategy/blueGreen/autoPromotionEnabled").and_then(Value::as_bool) != Some(false);
    let delay = bg_i64(v, "autoPromotionSeconds").unwrap_or(0);
    if auto && delay == 0 {
        return true;
    }
    let Some(condition) = plan.pause_condition("BlueGreenPause").cloned() else {
        if plan.was_controller_pause {
            return true;
        }
        plan.add_pause.push("BlueGreenPause");
        if auto {
            ctx.wake_in(delay as f64);
        }
        return false;
    };
    if !auto {
        return false;
    }
    let Some(start) = parse_timestamp(condition.get("startTime")) else { return false };
    let end = start + SignedDuration::from_secs(delay);
    if ctx.now > end {
        plan.remove_pause.push("BlueGreenPause");
        return true;
    }
    ctx.wake_at(end + SignedDuration::from_secs(1));
    false
}

/// Scales ReplicaSets that are neither active nor the preview down once their deadline passes.
fn scale_down_old(ctx: &Ctx<'_>, v: &View<'_>, plan: &Plan) {
    let delay = bg_i64(v, "scaleDownDelaySeconds").unwrap_or(30);
    for rs in v.all.iter().filter(|r| !v.is_new(r) && hash_of(r) != plan.active_selector) {
        if spec_replicas(rs) == 0 {
            continue;
        }
        let deadline = parse_timestamp(rs.pointer("/metadata/annotations").and_then(|a| a.get(DEADLINE)));
        match deadline {
            Some(at) if ctx.now >= at => scale(ctx, v, rs, 0),
            Some(at) => ctx.wake_at(at),
            None => {
                let at = ctx.now + SignedDuration::from_secs(delay);
                let stamp = format_timestamp(at);
                ctx.modify("apps", "replicasets", rs, |r| {
                    if let Some(a) = object_at(&mut r["metadata"], "annotations") {
                        a.insert(DEADLINE.into(), json!(stamp));
                    }
                });
                ctx.wake_at(at);
            }
        }
    }
}
