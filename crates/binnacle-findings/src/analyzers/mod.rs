//! The analyzers: each reads a [`Snapshot`] and reports [`Finding`]s.

use crate::At;
use crate::finding::{EventEvidence, Evidence, Finding, ProposedCall, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::{Value, json};
use std::collections::BTreeMap;

mod config_error;
mod crash_loop;
mod cronjob;
mod cronjob_failing;
mod daemonset;
mod deployment;
mod gateway;
mod helm;
mod hpa;
mod image_pull;
mod ingress;
mod job;
mod liveness;
mod network_policy;
mod node;
mod oom;
mod pdb;
mod pending;
mod pvc;
mod readiness;
pub(crate) mod replicaset;
mod rollout;
mod service;
mod service_ports;
mod statefulset;
mod webhook;

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
        Box::new(liveness::FailingLiveness),
        Box::new(statefulset::StatefulSetUnavailable),
        Box::new(daemonset::DaemonSetUnavailable),
        Box::new(replicaset::FailedCreate),
        Box::new(service_ports::PortMismatch),
        Box::new(ingress::IngressProblems),
        Box::new(network_policy::SelectsNoPods),
        Box::new(webhook::WebhookWithoutEndpoints),
        Box::new(helm::HelmRelease),
        Box::new(gateway::GatewayNotReady),
        Box::new(cronjob_failing::CronJobFailing),
    ]
}

/// The names of every built-in analyzer.
pub fn analyzer_names() -> Vec<&'static str> {
    all_analyzers().iter().map(|a| a.name()).collect()
}

/// Analyzers that report a workload short of ready replicas; dropped by [`crate::analyze`] when another
/// finding already names the same object (the pod-level cause is the better explanation).
pub(crate) const WORKLOAD_ANALYZERS: &[&str] =
    &["deployment-unavailable", "statefulset-unavailable", "daemonset-unavailable"];

/// One pod that matched a pod-level check.
pub(crate) struct PodHit {
    pub pod: String,
    pub container: String,
    /// Cause detail for this pod (e.g. the waiting message).
    pub detail: String,
    pub conditions: Vec<String>,
}

/// Pods matching `check` (among the troubled ones), grouped by owning workload: `(namespace, owner kind, owner
/// name) -> hits`.
pub(crate) fn group_pods(
    snap: &Snapshot,
    check: impl Fn(&Value) -> Option<(String, String, Vec<String>)>,
) -> BTreeMap<(String, String, String), Vec<PodHit>> {
    let mut groups: BTreeMap<(String, String, String), Vec<PodHit>> = BTreeMap::new();
    for pod in snap.troubled_pods() {
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
    obj.at("/status/conditions")?.as_array()?.iter().find(|c| get_str(c, "/type") == Some(type_)).map(|c| {
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
    obj.at(pointer).and_then(Value::as_i64)
}

/// The spec of a pod's container by name.
pub(crate) fn container_spec<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    ["/spec/initContainers", "/spec/containers"]
        .into_iter()
        .filter_map(|p| pod.at(p).and_then(Value::as_array))
        .flatten()
        .find(|c| get_str(c, "/name") == Some(container))
}

/// Whether a pod shows a problem (rather than just starting): an error waiting reason, a restart, a failed
/// scheduling, or warning events from probes, pulls or back-offs.
pub(crate) fn visibly_failing(snap: &Snapshot, pod: &Value) -> bool {
    let container_trouble = crate::snapshot::statuses(pod).any(|cs| {
        cs.at("/restartCount").and_then(Value::as_i64).unwrap_or(0) > 0
            || get_str(cs, "/state/waiting/reason")
                .is_some_and(|r| !matches!(r, "ContainerCreating" | "PodInitializing"))
    });
    container_trouble
        || condition(pod, "PodScheduled").is_some_and(|c| c.0 == "False")
        || snap
            .events_for("Pod", ns_of(pod), name_of(pod))
            .iter()
            .any(|e| matches!(e.reason.as_str(), "Unhealthy" | "FailedScheduling" | "Failed" | "BackOff"))
}

/// What is wrong with a pod, in a few words: `waiting CrashLoopBackOff (container api)`, `not scheduled:
/// 0/3 nodes are available...`, `not ready`.
pub(crate) fn pod_problem(pod: &Value) -> String {
    for cs in crate::snapshot::statuses(pod) {
        let container = get_str(cs, "/name").unwrap_or_default();
        if let Some(reason) = get_str(cs, "/state/waiting/reason")
            && !matches!(reason, "ContainerCreating" | "PodInitializing")
        {
            return format!("waiting {reason} (container {container})");
        }
        if let Some(reason) = get_str(cs, "/state/terminated/reason") {
            return format!("terminated {reason} (container {container})");
        }
    }
    if let Some((status, reason, message)) = condition(pod, "PodScheduled")
        && status == "False"
    {
        return format!("not scheduled ({reason}): {}", crate::finding::sanitize(message));
    }
    let restarts: i64 =
        crate::snapshot::statuses(pod).filter_map(|cs| cs.at("/restartCount").and_then(Value::as_i64)).sum();
    if restarts > 0 { format!("not ready, {restarts} restarts") } else { "not ready".to_string() }
}

/// One evidence line per pod: `pod web-1: waiting CrashLoopBackOff (container app)`.
pub(crate) fn pod_lines<'a>(pods: impl IntoIterator<Item = &'a Value>, max: usize) -> Vec<String> {
    pods.into_iter().take(max).map(|p| format!("pod {}: {}", name_of(p), pod_problem(p))).collect()
}

/// Labels of pods in a namespace that share keys with a selector (`app=checkout`), to suggest a near miss.
pub(crate) fn near_miss_labels(snap: &Snapshot, ns: &str, keys: &[String]) -> Option<String> {
    snap.pods_in(ns).find_map(|p| {
        let labels = p.at("/metadata/labels")?.as_object()?;
        let shown: Vec<String> =
            keys.iter().filter_map(|k| Some(format!("{k}={}", labels.get(k)?.as_str()?))).collect();
        (!shown.is_empty()).then(|| shown.join(","))
    })
}

/// The keys a structured label selector constrains.
pub(crate) fn selector_keys(selector: &binnacle_objects::selector::LabelSelector) -> Vec<String> {
    use binnacle_objects::selector::Requirement as R;
    selector
        .requirements
        .iter()
        .map(|r| match r {
            R::Equals(k, _) | R::NotEquals(k, _) | R::In(k, _) | R::NotIn(k, _) | R::Exists(k) | R::DoesNotExist(k) => {
                k.clone()
            }
        })
        .collect()
}

/// Warning events on a workload, its visibly failing pods, the likely cause and a next step.
pub(crate) type Stuck<'a> = (Vec<EventEvidence>, Vec<&'a Value>, String, Option<ProposedCall>);

/// What keeps a StatefulSet or DaemonSet short of ready pods, when something visibly does. `None` while its
/// pods are merely starting.
pub(crate) fn stuck_workload<'a>(snap: &'a Snapshot, kind: &str, ns: &str, name: &str) -> Option<Stuck<'a>> {
    let events = snap.events_for(kind, ns, name);
    let failing: Vec<&Value> =
        snap.owned_by("pods", ns, kind, name).into_iter().filter(|p| visibly_failing(snap, p)).collect();
    if let Some(e) = events.iter().find(|e| e.reason == "FailedCreate") {
        let (cause, _, next) = replicaset::create_failure(snap, ns, &e.message);
        return Some((events, failing, format!("the controller cannot create pods: {cause}"), next));
    }
    if let Some(pod) = failing.first().copied() {
        let cause = format!("pod {} is {}", name_of(pod), pod_problem(pod));
        let next = describe("Pod", ns, name_of(pod));
        return Some((events, failing, cause, next));
    }
    let first = events.first()?;
    let cause = format!("{}: {}", first.reason, first.message);
    Some((events, failing, cause, describe(kind, ns, name)))
}

#[cfg(test)]
mod tests;
