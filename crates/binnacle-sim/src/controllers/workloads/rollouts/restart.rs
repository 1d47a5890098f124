//! Restarts (`spec.restartAt`, set by `kubectl argo rollouts restart`): once that time has come, the
//! Rollout's pods created before it are evicted oldest first, as many at a time as `maxUnavailable`
//! allows (at least one) while keeping the rest available; the ReplicaSets create replacements. When no
//! older pod is left, `status.restartedAt` records the restart as done.

use super::super::super::deployment::int_or_percent;
use super::super::super::util::{controlled_by, deleting, pod_active, s, uid};
use super::super::pod_available;
use super::{Ctx, Plan, View, spec_replicas};
use crate::cluster::Propagation;
use binnacle_objects::time::parse_timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

/// One pass of the pod restarter.
pub fn reconcile(ctx: &Ctx<'_>, v: &View<'_>, plan: &mut Plan, pods: &[Arc<Value>]) {
    let Some(wanted) = v.ro.pointer("/spec/restartAt").filter(|r| !r.is_null()) else { return };
    let Some(restart_at) = parse_timestamp(Some(wanted)) else { return };
    if plan.restarted_at.as_ref().and_then(|r| parse_timestamp(Some(r))) == Some(restart_at) {
        return;
    }
    if restart_at > ctx.now {
        ctx.wake_at(restart_at);
        return;
    }
    let mine: Vec<&Arc<Value>> = pods
        .iter()
        .filter(|p| s(p, "/metadata/namespace") == v.ns && v.all.iter().any(|rs| controlled_by(p, uid(rs))))
        .filter(|p| pod_active(p) || deleting(p))
        .collect();
    let mut old: Vec<&Arc<Value>> = mine
        .iter()
        .copied()
        .filter(|p| !deleting(p))
        .filter(|p| parse_timestamp(p.pointer("/metadata/creationTimestamp")).is_some_and(|t| t < restart_at))
        .collect();
    if old.is_empty() {
        plan.restarted_at = Some(wanted.clone());
        return;
    }
    old.sort_by_key(|p| s(p, "/metadata/creationTimestamp").to_string());
    let evictable = evictable_now(v, &mine, ctx);
    for pod in old.into_iter().take(evictable) {
        ctx.delete("", "pods", pod, Propagation::Background);
    }
    ctx.wake_in(1.0);
}

/// How many pods may go now without dropping below `replicas - maxUnavailable` available pods.
fn evictable_now(v: &View<'_>, pods: &[&Arc<Value>], ctx: &Ctx<'_>) -> usize {
    let strategy = if v.ro.pointer("/spec/strategy/blueGreen").is_some() { "blueGreen" } else { "canary" };
    let configured =
        v.ro.pointer(&format!("/spec/strategy/{strategy}/maxUnavailable")).cloned().unwrap_or(json!("25%"));
    // At least one pod at a time, so that a zero maxUnavailable still restarts.
    let max_unavailable = int_or_percent(Some(&configured), v.replicas, false, 0).max(1);
    let concurrent = max_unavailable;
    let total: i64 = v.all.iter().map(|rs| spec_replicas(rs)).sum();
    let min_available = v.replicas.min(total) - max_unavailable;
    let available = pods.iter().filter(|p| !deleting(p) && pod_available(p, 0, ctx.now)).count() as i64;
    let terminating = pods.iter().filter(|p| deleting(p)).count() as i64;
    (concurrent - terminating).min(available - min_available).max(0) as usize
}
