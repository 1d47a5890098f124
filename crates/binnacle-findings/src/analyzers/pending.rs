//! Pods the scheduler cannot place.

use super::{Analyzer, condition, describe, group_events, group_pods, pod_group_finding};
use crate::finding::{Finding, Severity, sanitize};
use crate::snapshot::Snapshot;
use binnacle_objects::pointer::get_str;

/// Reports Pending pods whose `PodScheduled` condition is `False (Unschedulable)`, with the scheduler's message.
pub struct Unschedulable;

impl Analyzer for Unschedulable {
    fn name(&self) -> &'static str {
        "unschedulable"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let groups = group_pods(snap, |pod| {
            if get_str(pod, "/status/phase") != Some("Pending") {
                return None;
            }
            let (status, reason, message) = condition(pod, "PodScheduled")?;
            (status == "False" && reason == "Unschedulable").then(|| {
                let msg = sanitize(message);
                (String::new(), msg.clone(), vec![format!("PodScheduled=False (Unschedulable): {msg}")])
            })
        });
        groups
            .iter()
            .map(|(key, hits)| {
                let (ns, kind, name) = key;
                let events = group_events(snap, ns, kind, name, hits);
                let msg = events
                    .iter()
                    .find(|e| e.reason == "FailedScheduling")
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| hits[0].detail.clone());
                pod_group_finding(
                    self.name(),
                    Severity::Critical,
                    key,
                    hits,
                    "cannot be scheduled (Pending)",
                    format!("the scheduler cannot place it: {msg}"),
                    events,
                    Vec::new(),
                    describe(kind, ns, name),
                )
            })
            .collect()
    }
}
