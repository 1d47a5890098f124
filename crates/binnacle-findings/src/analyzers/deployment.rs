//! Deployments short of available replicas or past their progress deadline.

use super::{Analyzer, condition, condition_line, describe, int};
use crate::At;
use crate::finding::{Evidence, Finding, ProposedCall, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use serde_json::json;

/// Reports Deployments with `Progressing=False (ProgressDeadlineExceeded)`, or unavailable replicas once a rollout
/// has completed (a rollout still within its deadline is left alone).
/// Dropped by [`crate::analyze`] when a pod-level finding already names the same Deployment.
pub struct DeploymentUnavailable;

impl Analyzer for DeploymentUnavailable {
    fn name(&self) -> &'static str {
        "deployment-unavailable"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("deployments")
            .iter()
            .filter_map(|d| {
                let (ns, name) = (ns_of(d), name_of(d));
                let unavailable = int(d, "/status/unavailableReplicas").unwrap_or(0);
                let deadline = condition(d, "Progressing").is_some_and(|c| c.1 == "ProgressDeadlineExceeded");
                // A rollout still within its progress deadline is not a finding yet (pods are starting).
                let rolling = condition(d, "Progressing").is_some_and(|c| c.0 == "True" && c.1 != "NewReplicaSetAvailable");
                if (unavailable == 0 || rolling) && !deadline {
                    return None;
                }
                let desired = int(d, "/spec/replicas").unwrap_or(1);
                let mut conditions: Vec<String> =
                    ["Available", "Progressing"].iter().filter_map(|t| condition_line(d, t)).collect();
                let revision = d
                    .at("/metadata/annotations/deployment.kubernetes.io~1revision")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|r| r.parse::<i64>().ok())
                    .unwrap_or(1);
                let next = if deadline && revision > 1 {
                    Some(ProposedCall { tool: "rollout_undo".into(), arguments: json!({"kind": "Deployment", "name": name, "namespace": ns}) })
                } else {
                    describe("Deployment", ns, name)
                };
                let mut events = snap.events_for("Deployment", ns, name);
                let mut cause = if deadline {
                    "the latest rollout did not make progress in time".to_string()
                } else {
                    "some of its pods are not available".to_string()
                };
                if deadline {
                    // What holds the rollout: the new pods' state and the warnings about them (a volume the
                    // kubelet cannot mount, say), which no pod-level analyzer reports.
                    let stalled = stalled_pods(snap, d);
                    let lines = stalled.iter().take(3).map(|p| format!("pod {}: {}", name_of(p), waiting(p)));
                    conditions.extend(lines);
                    if let Some((pod, first)) = stalled
                        .iter()
                        .find_map(|p| snap.events_for("Pod", ns, name_of(p)).into_iter().next().map(|e| (*p, e)))
                    {
                        let (pod, reason, message) = (name_of(pod), &first.reason, &first.message);
                        cause = format!("{cause}: its new pods are stuck (pod {pod}: {reason}: {message})");
                    }
                    for p in stalled.iter().take(3) {
                        for e in snap.events_for("Pod", ns, name_of(p)) {
                            match events.iter_mut().find(|m| m.reason == e.reason && m.message == e.message) {
                                Some(m) => m.count += e.count,
                                None => events.push(e),
                            }
                        }
                    }
                }
                Some(Finding {
                    severity: if deadline { Severity::Critical } else { Severity::Warning },
                    kind: "Deployment".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: if deadline {
                        format!("deployment {ns}/{name} exceeded its progress deadline ({unavailable} of {desired} unavailable)")
                    } else {
                        format!("deployment {ns}/{name} has {unavailable} of {desired} replicas unavailable")
                    },
                    evidence: Evidence { conditions, events, logs: Vec::new() },
                    likely_cause: cause,
                    next_step: next,
                })
            })
            .collect()
    }
}

/// The not-ready pods of a Deployment's newest ReplicaSet (the highest `deployment.kubernetes.io/revision`).
fn stalled_pods<'a>(snap: &'a Snapshot, deploy: &serde_json::Value) -> Vec<&'a serde_json::Value> {
    let (ns, name) = (ns_of(deploy), name_of(deploy));
    let revision = |rs: &serde_json::Value| {
        rs.at("/metadata/annotations/deployment.kubernetes.io~1revision")
            .and_then(serde_json::Value::as_str)
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let Some(newest) = snap.owned_by("replicasets", ns, "Deployment", name).into_iter().max_by_key(|rs| revision(rs))
    else {
        return Vec::new();
    };
    snap.owned_by("pods", ns, "ReplicaSet", name_of(newest))
        .into_iter()
        .filter(|p| condition(p, "Ready").is_none_or(|c| c.0 != "True"))
        .collect()
}

/// A pod's phase and its first waiting container: `Pending, container catalog waiting ContainerCreating`.
fn waiting(pod: &serde_json::Value) -> String {
    let phase = pod.at("/status/phase").and_then(serde_json::Value::as_str).unwrap_or("Unknown");
    crate::snapshot::statuses(pod)
        .find_map(|cs| {
            let reason = cs.at("/state/waiting/reason")?.as_str()?;
            let container = cs.at("/name").and_then(serde_json::Value::as_str).unwrap_or_default();
            Some(format!("{phase}, container {container} waiting {reason}"))
        })
        .unwrap_or_else(|| format!("{phase}, not ready"))
}
