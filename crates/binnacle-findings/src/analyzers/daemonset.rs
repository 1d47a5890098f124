//! DaemonSets with unavailable pods, or whose rolling update is stuck.

use super::{Analyzer, int, pod_lines, stuck_workload};
use crate::finding::{Evidence, Finding, ProposedCall, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use serde_json::json;

/// Reports DaemonSets with unavailable or missing pods when something visibly keeps them so (warning events
/// such as `FailedCreate`, or pods that fail rather than start), and names a stuck rolling update (fewer pods
/// updated than desired). Dropped by [`crate::analyze`] when a pod-level finding already names the same
/// DaemonSet.
pub struct DaemonSetUnavailable;

impl Analyzer for DaemonSetUnavailable {
    fn name(&self) -> &'static str {
        "daemonset-unavailable"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("daemonsets")
            .iter()
            .filter_map(|ds| {
                let (ns, name) = (ns_of(ds), name_of(ds));
                let desired = int(ds, "/status/desiredNumberScheduled").unwrap_or(0);
                let available = int(ds, "/status/numberAvailable").unwrap_or(0);
                let unavailable = int(ds, "/status/numberUnavailable").unwrap_or(desired - available).max(0);
                let scheduled = int(ds, "/status/currentNumberScheduled").unwrap_or(0);
                if desired == 0 || (unavailable == 0 && scheduled >= desired) {
                    return None;
                }
                let (events, failing, cause, next) = stuck_workload(snap, "DaemonSet", ns, name)?;
                let updated = int(ds, "/status/updatedNumberScheduled").unwrap_or(0);
                let rolling = updated < desired;
                let mut conditions = vec![format!(
                    "{available} of {desired} pods available, {scheduled} scheduled, {updated} updated, {} misscheduled",
                    int(ds, "/status/numberMisscheduled").unwrap_or(0)
                )];
                conditions.extend(pod_lines(failing.iter().copied(), 5));
                let next = if rolling && updated > 0 {
                    Some(ProposedCall {
                        tool: "rollout_undo".into(),
                        arguments: json!({"kind": "DaemonSet", "name": name, "namespace": ns}),
                    })
                } else {
                    next
                };
                Some(Finding {
                    severity: if available == 0 { Severity::Critical } else { Severity::Warning },
                    kind: "DaemonSet".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: if rolling && updated > 0 {
                        format!("daemonset {ns}/{name}: rolling update stuck ({updated} of {desired} updated, {unavailable} unavailable)")
                    } else {
                        format!("daemonset {ns}/{name} has {unavailable} of {desired} pods unavailable")
                    },
                    evidence: Evidence { conditions, events, logs: Vec::new() },
                    likely_cause: cause,
                    next_step: next,
                })
            })
            .collect()
    }
}
