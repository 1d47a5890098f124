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
                let conditions = ["Available", "Progressing"].iter().filter_map(|t| condition_line(d, t)).collect();
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
                    evidence: Evidence { conditions, events: snap.events_for("Deployment", ns, name), logs: Vec::new() },
                    likely_cause: if deadline {
                        "the latest rollout did not make progress in time".into()
                    } else {
                        "some of its pods are not available".into()
                    },
                    next_step: next,
                })
            })
            .collect()
    }
}
