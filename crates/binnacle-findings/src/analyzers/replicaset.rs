//! ReplicaSets that cannot create their pods (a ResourceQuota is exhausted, a LimitRange refuses them, ...).

use super::{Analyzer, condition, condition_line, describe, int};
use crate::At;
use crate::finding::{Evidence, Finding, ProposedCall, Severity, sanitize};
use crate::snapshot::{Snapshot, controller, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::Value;

/// Why a controller could not create a pod, from the API server's refusal: the cause, evidence lines (the
/// quota's usage, the limit ranges) and a next step.
pub(crate) fn create_failure(snap: &Snapshot, ns: &str, message: &str) -> (String, Vec<String>, Option<ProposedCall>) {
    let message = sanitize(message);
    let detail = message.split_once("is forbidden: ").map_or(message.as_str(), |x| x.1).to_string();
    if let Some((_, rest)) = detail.split_once("exceeded quota: ") {
        let quota = rest.split(',').next().unwrap_or_default().trim().to_string();
        let usage = rest.split_once(", ").map_or("", |x| x.1);
        let cause = if usage.is_empty() {
            format!("ResourceQuota {quota} is exhausted")
        } else {
            format!("ResourceQuota {quota} is exhausted ({usage})")
        };
        return (cause, quota_lines(snap, ns, Some(&quota)), describe("ResourceQuota", ns, &quota));
    }
    if let Some((_, rest)) = detail.split_once("failed quota: ") {
        let quota = rest.split(':').next().unwrap_or_default().trim().to_string();
        let cause = format!("ResourceQuota {quota} refuses the pod: {}", rest.split_once(": ").map_or(rest, |x| x.1));
        return (cause, quota_lines(snap, ns, Some(&quota)), describe("ResourceQuota", ns, &quota));
    }
    if ["per Container", "per Pod", "per PersistentVolumeClaim", "LimitRange"].iter().any(|w| detail.contains(w)) {
        let ranges = limit_range_lines(snap, ns);
        let next = snap
            .list("limitranges")
            .iter()
            .find(|l| ns_of(l) == ns)
            .and_then(|l| describe("LimitRange", ns, name_of(l)));
        return (format!("a LimitRange in {ns} refuses the pod: {detail}"), ranges, next);
    }
    (format!("the API server refuses the pod: {detail}"), Vec::new(), None)
}

/// `ResourceQuota q: pods 2/2 (full), requests.cpu 500m/1`, the exhausted resources first.
pub(crate) fn quota_lines(snap: &Snapshot, ns: &str, only: Option<&str>) -> Vec<String> {
    snap.list("resourcequotas")
        .iter()
        .filter(|q| ns_of(q) == ns && only.is_none_or(|n| n == name_of(q)))
        .map(|q| {
            let hard = q.at("/status/hard").or_else(|| q.at("/spec/hard")).and_then(Value::as_object);
            let used = q.at("/status/used").and_then(Value::as_object);
            let mut entries: Vec<(bool, String)> = hard
                .into_iter()
                .flatten()
                .map(|(resource, h)| {
                    let h = h.as_str().unwrap_or_default();
                    let u = used.and_then(|u| u.get(resource)).and_then(Value::as_str).unwrap_or("0");
                    let full = match (
                        binnacle_objects::quantity::parse_quantity(u),
                        binnacle_objects::quantity::parse_quantity(h),
                    ) {
                        (Some(u), Some(h)) => u >= h,
                        _ => false,
                    };
                    (full, format!("{resource} {u}/{h}{}", if full { " (full)" } else { "" }))
                })
                .collect();
            entries.sort_by_key(|e| !e.0);
            entries.truncate(6);
            let text: Vec<String> = entries.into_iter().map(|e| e.1).collect();
            format!("ResourceQuota {}: {}", name_of(q), text.join(", "))
        })
        .collect()
}

/// `LimitRange l: Container max memory=512Mi, min cpu=50m`.
pub(crate) fn limit_range_lines(snap: &Snapshot, ns: &str) -> Vec<String> {
    snap.list("limitranges")
        .iter()
        .filter(|l| ns_of(l) == ns)
        .map(|l| {
            let parts: Vec<String> = l
                .at("/spec/limits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|limit| {
                    let mut bounds = Vec::new();
                    for field in ["max", "min"] {
                        for (resource, q) in limit.get(field).and_then(Value::as_object).into_iter().flatten() {
                            bounds.push(format!("{field} {resource}={}", q.as_str().unwrap_or_default()));
                        }
                    }
                    format!("{} {}", get_str(limit, "/type").unwrap_or("?"), bounds.join(", "))
                })
                .collect();
            format!("LimitRange {}: {}", name_of(l), parts.join("; "))
        })
        .collect()
}

/// Reports ReplicaSets that want more pods than they have and whose pod creation fails
/// (`ReplicaFailure=True (FailedCreate)` or `FailedCreate` warnings), reported on their Deployment.
pub struct FailedCreate;

impl Analyzer for FailedCreate {
    fn name(&self) -> &'static str {
        "replicaset-failed-create"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("replicasets")
            .iter()
            .filter_map(|rs| {
                let (ns, name) = (ns_of(rs), name_of(rs));
                let desired = int(rs, "/spec/replicas").unwrap_or(1);
                let have = int(rs, "/status/replicas").unwrap_or(0);
                let failure = condition(rs, "ReplicaFailure").filter(|c| c.0 == "True");
                let events: Vec<_> = snap
                    .events_for("ReplicaSet", ns, name)
                    .into_iter()
                    .filter(|e| e.reason == "FailedCreate")
                    .collect();
                if desired == 0 || have >= desired || (failure.is_none() && events.is_empty()) {
                    return None;
                }
                let message = failure.map(|c| c.2.to_string()).or_else(|| events.first().map(|e| e.message.clone()))?;
                let (cause, mut lines, next) = create_failure(snap, ns, &message);
                let mut conditions = vec![format!("ReplicaSet {name}: {have} of {desired} pods created")];
                conditions.extend(condition_line(rs, "ReplicaFailure"));
                conditions.append(&mut lines);
                let (kind, owner) = match controller(rs) {
                    Some((k, n)) => (k.to_string(), n.to_string()),
                    None => ("ReplicaSet".to_string(), name.to_string()),
                };
                Some(Finding {
                    severity: if have == 0 { Severity::Critical } else { Severity::Warning },
                    kind: kind.clone(),
                    namespace: ns.into(),
                    name: owner.clone(),
                    analyzer: self.name().into(),
                    summary: format!(
                        "{} {ns}/{owner} cannot create pods ({have} of {desired}): {}",
                        kind.to_lowercase(),
                        cause.split(" (").next().unwrap_or(&cause)
                    ),
                    evidence: Evidence { conditions, events, logs: Vec::new() },
                    likely_cause: cause,
                    next_step: next.or_else(|| describe("ReplicaSet", ns, name)),
                })
            })
            .collect()
    }
}
