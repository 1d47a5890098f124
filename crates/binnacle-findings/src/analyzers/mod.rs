//! The analyzers: each reads a [`Snapshot`] and reports [`Finding`]s.

use crate::finding::{EventEvidence, Evidence, Finding, ProposedCall, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::{Value, json};
use std::collections::BTreeMap;

mod config_error;
mod crash_loop;
mod cronjob;
mod deployment;
mod hpa;
mod image_pull;
mod job;
mod node;
mod oom;
mod pdb;
mod pending;
mod pvc;
mod readiness;
mod rollout;
mod service;

/// Something that reads a snapshot and reports what is wrong.
pub trait Analyzer: Send + Sync {
    /// A short, stable name (`crash-loop`, `pvc-pending`, ...).
    fn name(&self) -> &'static str;
    /// The findings for a snapshot.
    fn analyze(&self, snap: &Snapshot) -> Vec<Finding>;
}

/// Every built-in analyzer.
pub fn all_analyzers() -> Vec<Box<dyn Analyzer>> {
    vec![
        Box::new(crash_loop::CrashLoop),
        Box::new(image_pull::ImagePull),
        Box::new(oom::OomKilled),
        Box::new(pending::Unschedulable),
        Box::new(readiness::FailingReadiness),
        Box::new(config_error::ConfigError),
        Box::new(deployment::DeploymentUnavailable),
        Box::new(service::SelectorMatchesNothing),
        Box::new(service::NoReadyEndpoints),
        Box::new(pvc::PvcPending),
        Box::new(node::NodeProblems),
        Box::new(job::JobFailed),
        Box::new(cronjob::CronJobProblems),
        Box::new(hpa::HpaProblems),
        Box::new(pdb::PdbZeroDisruptions),
        Box::new(rollout::ArgoRollout),
    ]
}

/// One pod that matched a pod-level check.
pub(crate) struct PodHit {
    pub pod: String,
    pub container: String,
    /// Cause detail for this pod (e.g. the waiting message).
    pub detail: String,
    pub conditions: Vec<String>,
}

/// Pods matching `check`, grouped by owning workload: `(namespace, owner kind, owner name) -> hits`.
pub(crate) fn group_pods(
    snap: &Snapshot,
    check: impl Fn(&Value) -> Option<(String, String, Vec<String>)>,
) -> BTreeMap<(String, String, String), Vec<PodHit>> {
    let mut groups: BTreeMap<(String, String, String), Vec<PodHit>> = BTreeMap::new();
    for pod in snap.list("pods") {
        if let Some((container, detail, conditions)) = check(pod) {
            let (kind, name) = snap.owner_of(pod);
            groups.entry((ns_of(pod).to_string(), kind, name)).or_default().push(PodHit {
                pod: name_of(pod).to_string(),
                container,
                detail,
                conditions,
            });
        }
    }
    groups
}

/// "2 pods of Deployment payments/payments-api" or "pod payments/x".
pub(crate) fn subject(ns: &str, kind: &str, name: &str, pods: usize) -> String {
    if kind == "Pod" {
        format!("pod {ns}/{name}")
    } else if pods == 1 {
        format!("1 pod of {} {ns}/{name}", kind.to_lowercase())
    } else {
        format!("{pods} pods of {} {ns}/{name}", kind.to_lowercase())
    }
}

/// Events of every pod in a group (merged by reason) plus those of the owner.
pub(crate) fn group_events(snap: &Snapshot, ns: &str, kind: &str, name: &str, hits: &[PodHit]) -> Vec<EventEvidence> {
    let mut merged: Vec<EventEvidence> = Vec::new();
    let owner = if kind == "Pod" { Vec::new() } else { snap.events_for(kind, ns, name) };
    for e in hits.iter().flat_map(|h| snap.events_for("Pod", ns, &h.pod)).chain(owner) {
        match merged.iter_mut().find(|m| m.reason == e.reason && m.message == e.message) {
            Some(m) => m.count += e.count,
            None => merged.push(e),
        }
    }
    merged.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    merged.truncate(MAX_EVENTS);
    merged
}

/// At most this many distinct events are kept as evidence.
const MAX_EVENTS: usize = 10;

/// A finding for a group of pods.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pod_group_finding(
    analyzer: &str,
    severity: Severity,
    (ns, kind, name): &(String, String, String),
    hits: &[PodHit],
    what: &str,
    likely_cause: String,
    events: Vec<EventEvidence>,
    logs: Vec<String>,
    next_step: Option<ProposedCall>,
) -> Finding {
    let mut conditions: Vec<String> = hits.iter().flat_map(|h| h.conditions.iter().cloned()).collect();
    conditions.dedup();
    conditions.truncate(10);
    Finding {
        severity,
        kind: kind.clone(),
        namespace: ns.clone(),
        name: name.clone(),
        analyzer: analyzer.to_string(),
        summary: format!("{} {what}", subject(ns, kind, name, hits.len())),
        evidence: Evidence { conditions, events, logs },
        likely_cause,
        next_step,
    }
}

/// `resource_describe` for an object.
pub(crate) fn describe(kind: &str, ns: &str, name: &str) -> Option<ProposedCall> {
    let mut arguments = json!({"kind": kind, "name": name});
    if !ns.is_empty() {
        arguments["namespace"] = json!(ns);
    }
    Some(ProposedCall { tool: "resource_describe".into(), arguments })
}

/// The status of a condition of an object: `(status, reason, message)`.
pub(crate) fn condition<'a>(obj: &'a Value, type_: &str) -> Option<(&'a str, &'a str, &'a str)> {
    obj.pointer("/status/conditions")?.as_array()?.iter().find(|c| get_str(c, "/type") == Some(type_)).map(|c| {
        (
            get_str(c, "/status").unwrap_or_default(),
            get_str(c, "/reason").unwrap_or_default(),
            get_str(c, "/message").unwrap_or_default(),
        )
    })
}

/// `Type=Status (Reason): message` for a condition, if present.
pub(crate) fn condition_line(obj: &Value, type_: &str) -> Option<String> {
    let (status, reason, message) = condition(obj, type_)?;
    let mut line = format!("{type_}={status}");
    if !reason.is_empty() {
        line.push_str(&format!(" ({reason})"));
    }
    if !message.is_empty() {
        line.push_str(&format!(": {}", crate::finding::sanitize(message)));
    }
    Some(line)
}

/// An integer at a JSON pointer.
pub(crate) fn int(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

/// The spec of a pod's container by name.
pub(crate) fn container_spec<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    ["/spec/initContainers", "/spec/containers"]
        .into_iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .find(|c| get_str(c, "/name") == Some(container))
}

#[cfg(test)]
mod tests;
