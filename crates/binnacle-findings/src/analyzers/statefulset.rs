//! StatefulSets short of ready replicas, or whose rolling update is stuck.

use super::{Analyzer, int, pod_lines, stuck_workload};
use crate::finding::{Evidence, Finding, ProposedCall, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::json;

/// Reports StatefulSets with fewer ready replicas than desired when something visibly keeps them short
/// (warning events such as `FailedCreate`, or pods that fail rather than start), and names a stuck rolling
/// update (`updateRevision` not reached). Dropped by [`crate::analyze`] when a pod-level finding already names
/// the same StatefulSet.
pub struct StatefulSetUnavailable;

impl Analyzer for StatefulSetUnavailable {
    fn name(&self) -> &'static str {
        "statefulset-unavailable"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("statefulsets")
            .iter()
            .filter_map(|set| {
                let (ns, name) = (ns_of(set), name_of(set));
                let desired = int(set, "/spec/replicas").unwrap_or(1);
                let ready = int(set, "/status/readyReplicas").unwrap_or(0);
                if desired == 0 || ready >= desired {
                    return None;
                }
                let (events, failing, cause, next) = stuck_workload(snap, "StatefulSet", ns, name)?;
                let current = get_str(set, "/status/currentRevision").unwrap_or_default();
                let update = get_str(set, "/status/updateRevision").unwrap_or_default();
                let updated = int(set, "/status/updatedReplicas").unwrap_or(0);
                let rolling = !update.is_empty() && current != update;
                let mut conditions = vec![format!(
                    "{ready} of {desired} replicas ready ({} created)",
                    int(set, "/status/replicas").unwrap_or(0)
                )];
                if rolling {
                    conditions.push(format!(
                        "rolling update to revision {update}: {updated} of {desired} pods updated (current revision {current})"
                    ));
                }
                conditions.extend(pod_lines(failing.iter().copied(), 5));
                let summary = if rolling {
                    format!("statefulset {ns}/{name}: rolling update stuck ({updated} of {desired} updated, {ready} ready)")
                } else {
                    format!("statefulset {ns}/{name} has {ready} of {desired} replicas ready")
                };
                let next = if rolling {
                    Some(ProposedCall {
                        tool: "rollout_undo".into(),
                        arguments: json!({"kind": "StatefulSet", "name": name, "namespace": ns}),
                    })
                } else {
                    next
                };
                Some(Finding {
                    severity: if ready == 0 { Severity::Critical } else { Severity::Warning },
                    kind: "StatefulSet".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary,
                    evidence: Evidence { conditions, events, logs: Vec::new() },
                    likely_cause: if rolling {
                        format!("the update waits for each pod to be ready in turn, and {cause}")
                    } else {
                        cause
                    },
                    next_step: next,
                })
            })
            .collect()
    }
}
