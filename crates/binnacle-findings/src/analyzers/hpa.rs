//! HorizontalPodAutoscalers that cannot read metrics or are pinned at their maximum.

use super::{Analyzer, condition, condition_line, describe, int};
use crate::At;
use crate::finding::{Evidence, Finding, Severity, sanitize};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use binnacle_objects::time::parse_timestamp;

/// Whether the HPA's scale target exists and is not yet fully ready (its pods are still starting).
fn target_starting(snap: &Snapshot, hpa: &serde_json::Value) -> bool {
    let key = match get_str(hpa, "/spec/scaleTargetRef/kind") {
        Some("Deployment") => "deployments",
        Some("StatefulSet") => "statefulsets",
        Some("ReplicaSet") => "replicasets",
        _ => return false,
    };
    let Some(target) = snap.get(key, ns_of(hpa), get_str(hpa, "/spec/scaleTargetRef/name").unwrap_or_default()) else {
        return false;
    };
    if int(target, "/status/readyReplicas").unwrap_or(0) < int(target, "/spec/replicas").unwrap_or(1) {
        return true;
    }
    // The HPA has not re-evaluated since its target became available: its failure predates the target's pods.
    let transition = |obj: &serde_json::Value, type_: &str| {
        obj.at("/status/conditions")?
            .as_array()?
            .iter()
            .find(|c| get_str(c, "/type") == Some(type_))
            .and_then(|c| parse_timestamp(c.get("lastTransitionTime")))
    };
    match (transition(hpa, "ScalingActive"), transition(target, "Available")) {
        (Some(failed_since), Some(available_since)) => failed_since <= available_since,
        _ => false,
    }
}

/// Reports HPAs with `ScalingActive=False` / `AbleToScale=False` (warning) or at `maxReplicas` (info).
pub struct HpaProblems;

impl Analyzer for HpaProblems {
    fn name(&self) -> &'static str {
        "hpa"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let mut out = Vec::new();
        for h in snap.list("hpas") {
            let (ns, name) = (ns_of(h), name_of(h));
            let conditions: Vec<String> = ["AbleToScale", "ScalingActive", "ScalingLimited"]
                .iter()
                .filter_map(|t| condition_line(h, t))
                .collect();
            let broken =
                ["ScalingActive", "AbleToScale"].iter().find_map(|t| condition(h, t).filter(|c| c.0 == "False"));
            let max = int(h, "/spec/maxReplicas").unwrap_or(0);
            let current = int(h, "/status/currentReplicas").unwrap_or(0);
            let (severity, summary, cause) = if let Some((_, reason, message)) = broken {
                if reason.starts_with("FailedGet") && target_starting(snap, h) {
                    // Metrics are missing while the target's pods are still starting: expected, not a finding.
                    continue;
                }
                (
                    Severity::Warning,
                    format!("HPA {ns}/{name} cannot scale ({reason})"),
                    format!("{reason}: {}", sanitize(message)),
                )
            } else if max > 0 && current >= max {
                (
                    Severity::Info,
                    format!("HPA {ns}/{name} is at its maximum of {max} replicas"),
                    "load needs more replicas than maxReplicas allows".to_string(),
                )
            } else {
                continue;
            };
            out.push(Finding {
                severity,
                kind: "HorizontalPodAutoscaler".into(),
                namespace: ns.into(),
                name: name.into(),
                analyzer: self.name().into(),
                summary,
                evidence: Evidence {
                    conditions,
                    events: snap.events_for("HorizontalPodAutoscaler", ns, name),
                    logs: Vec::new(),
                },
                likely_cause: cause,
                next_step: describe("HorizontalPodAutoscaler", ns, name),
            });
        }
        out
    }
}
