//! Controllers for StatefulSets, DaemonSets, Jobs, CronJobs, HorizontalPodAutoscalers,
//! PersistentVolumeClaims, PodDisruptionBudgets and Argo Rollouts.
//!
//! Each lives in its own submodule and implements [`Controller`]; [`WorkloadControllers`] runs them in
//! a fixed order within the simulator's controller pass (volumes before the StatefulSets that use them,
//! CronJobs before the Jobs they create, the autoscaler and budgets after the workloads they read).

mod cronjob;
mod daemonset;
mod hpa;
mod job;
mod pdb;
mod revisions;
mod rollouts;
mod schedule;
mod statefulset;
mod storage;

use super::util::pod_ready;
use super::{Controller, Ctx};
use binnacle_objects::time::{format_timestamp, parse_timestamp};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The workload controllers, run one after another in each pass.
pub struct WorkloadControllers {
    controllers: Vec<Box<dyn Controller>>,
}

impl Default for WorkloadControllers {
    fn default() -> Self {
        Self {
            controllers: vec![
                Box::new(storage::StorageController::default()),
                Box::new(statefulset::StatefulSetController),
                Box::new(daemonset::DaemonSetController),
                Box::new(cronjob::CronJobController),
                Box::new(job::JobController),
                Box::new(hpa::HpaController::default()),
                Box::new(pdb::DisruptionController),
                Box::new(rollouts::RolloutController),
            ],
        }
    }
}

impl Controller for WorkloadControllers {
    fn name(&self) -> &'static str {
        "workload-controllers"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        for c in &mut self.controllers {
            let _span = tracing::trace_span!("controller", name = c.name()).entered();
            c.reconcile(ctx);
        }
    }
}

/// The pass time as an API timestamp string.
fn now_string(ctx: &Ctx<'_>) -> String {
    format_timestamp(ctx.now)
}

/// An integer field with a default when it is absent.
fn int_or(obj: &Value, pointer: &str, default: i64) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(default)
}

/// Writes `status` when it differs from the stored one.
fn write_status(ctx: &Ctx<'_>, group: &str, plural: &str, obj: &Value, status: Value) -> Option<Arc<Value>> {
    if obj.get("status") == Some(&status) {
        return None;
    }
    // The status was computed from `obj`. If someone else changed the status since (a client's
    // `status.abort: false` to retry a Rollout, say), writing ours would silently undo theirs: skip, and the
    // next pass computes from what is there now.
    let seen = obj.get("status").cloned();
    ctx.modify(group, plural, obj, |o| {
        if o.get("status").cloned() == seen {
            o["status"] = status.clone();
        }
    })
}

/// The objects among `all` in `namespace` that `owner_uid` controls.
fn owned_by(all: &[Arc<Value>], namespace: &str, owner_uid: &str) -> Vec<Arc<Value>> {
    all.iter()
        .filter(|o| super::util::s(o, "/metadata/namespace") == namespace && super::util::controlled_by(o, owner_uid))
        .cloned()
        .collect()
}

/// A mutable JSON object at `key` of `parent`, created (or replaced when not an object) as needed.
fn object_at<'v>(parent: &'v mut Value, key: &str) -> Option<&'v mut Map<String, Value>> {
    let map = parent.as_object_mut()?;
    let entry = map.entry(key.to_string()).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut()
}

/// Adds labels to an object's (or template's) `metadata.labels`.
fn add_labels(obj: &mut Value, labels: &[(&str, &str)]) {
    let Some(meta) = object_at(obj, "metadata") else { return };
    let entry = meta.entry("labels").or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    if let Some(map) = entry.as_object_mut() {
        for (k, v) in labels {
            map.insert((*k).to_string(), json!(v));
        }
    }
}

/// Whether a pod is ready and has been for `min_ready_secs` (what controllers call "available").
fn pod_available(pod: &Value, min_ready_secs: i64, now: Timestamp) -> bool {
    if !pod_ready(pod) {
        return false;
    }
    if min_ready_secs <= 0 {
        return true;
    }
    let since = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .and_then(|c| parse_timestamp(c.get("lastTransitionTime")));
    since.is_some_and(|t| t + SignedDuration::from_secs(min_ready_secs) <= now)
}

/// The labels of a label selector's `matchLabels` as pairs.
fn match_labels(selector: Option<&Value>) -> Vec<(String, String)> {
    selector
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_added_to_missing_metadata() {
        let mut t = json!({"spec": {}});
        add_labels(&mut t, &[("a", "1")]);
        assert_eq!(t["metadata"]["labels"]["a"], "1");
        let mut t = json!({"metadata": {"labels": null}});
        add_labels(&mut t, &[("b", "2")]);
        assert_eq!(t["metadata"]["labels"]["b"], "2");
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let now: Timestamp = "2026-01-01T00:01:00Z".parse().expect("ts");
        let pod = json!({"status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:50Z"}]}});
        assert!(pod_available(&pod, 0, now));
        assert!(pod_available(&pod, 10, now));
        assert!(!pod_available(&pod, 11, now));
    }
}
