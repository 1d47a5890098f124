//! Services that select no pods, or have no ready endpoints.

use super::{Analyzer, describe};
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use binnacle_objects::selector::LabelSelector;
use serde_json::Value;

fn selector_of(svc: &Value) -> Option<(LabelSelector, String)> {
    let sel = svc.pointer("/spec/selector")?;
    if sel.as_object().is_none_or(|m| m.is_empty()) || get_str(svc, "/spec/type") == Some("ExternalName") {
        return None;
    }
    let parsed = LabelSelector::from_object(&serde_json::json!({"matchLabels": sel})).ok()?;
    let text = parsed.to_selector_string();
    Some((parsed, text))
}

fn matching_pods<'a>(snap: &'a Snapshot, ns: &'a str, sel: &'a LabelSelector) -> impl Iterator<Item = &'a Value> {
    snap.list("pods").iter().filter(move |p| ns_of(p) == ns && sel.matches(p.pointer("/metadata/labels")))
}

/// Whether a pod shows a problem (rather than just starting): an error waiting reason, a restart, a failed
/// probe or a scheduling failure.
fn visibly_failing(snap: &Snapshot, pod: &Value) -> bool {
    let container_trouble = crate::snapshot::statuses(pod).any(|cs| {
        cs.pointer("/restartCount").and_then(Value::as_i64).unwrap_or(0) > 0
            || get_str(cs, "/state/waiting/reason")
                .is_some_and(|r| !matches!(r, "ContainerCreating" | "PodInitializing"))
    });
    container_trouble
        || snap
            .events_for("Pod", ns_of(pod), name_of(pod))
            .iter()
            .any(|e| matches!(e.reason.as_str(), "Unhealthy" | "FailedScheduling" | "Failed" | "BackOff"))
}

/// Reports Services whose selector matches no pod in their namespace.
pub struct SelectorMatchesNothing;

impl Analyzer for SelectorMatchesNothing {
    fn name(&self) -> &'static str {
        "service-selector"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("services")
            .iter()
            .filter_map(|svc| {
                let (ns, name) = (ns_of(svc), name_of(svc));
                let (sel, text) = selector_of(svc)?;
                if matching_pods(snap, ns, &sel).next().is_some() {
                    return None;
                }
                // Suggest the labels of a pod whose labels overlap the selector's keys.
                let keys: Vec<String> = svc
                    .pointer("/spec/selector")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                let near = snap.list("pods").iter().filter(|p| ns_of(p) == ns).find_map(|p| {
                    let labels = p.pointer("/metadata/labels")?.as_object()?;
                    let shown: Vec<String> =
                        keys.iter().filter_map(|k| Some(format!("{k}={}", labels.get(k)?.as_str()?))).collect();
                    (!shown.is_empty()).then(|| shown.join(","))
                });
                let cause = match &near {
                    Some(labels) => format!("selector {text} matches no pod in {ns}; pods there are labelled {labels}"),
                    None => format!("selector {text} matches no pod in {ns}"),
                };
                Some(Finding {
                    severity: Severity::Warning,
                    kind: "Service".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("service {ns}/{name} selects no pods ({text})"),
                    evidence: Evidence { conditions: vec![format!("selector: {text}")], ..Evidence::default() },
                    likely_cause: cause,
                    next_step: describe("Service", ns, name),
                })
            })
            .collect()
    }
}

/// Reports Services whose selector matches pods but whose EndpointSlices hold no ready endpoint.
pub struct NoReadyEndpoints;

impl Analyzer for NoReadyEndpoints {
    fn name(&self) -> &'static str {
        "service-no-endpoints"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("services")
            .iter()
            .filter_map(|svc| {
                let (ns, name) = (ns_of(svc), name_of(svc));
                let (sel, text) = selector_of(svc)?;
                let pods: Vec<&Value> = matching_pods(snap, ns, &sel).collect();
                // Pods that are merely starting (no error, no restart, no failed probe) are not a finding yet.
                if !pods.iter().any(|p| visibly_failing(snap, p)) {
                    return None;
                }
                let pods = pods.len();
                let slices: Vec<&Value> = snap
                    .list("endpointslices")
                    .iter()
                    .filter(|s| {
                        ns_of(s) == ns && get_str(s, "/metadata/labels/kubernetes.io~1service-name") == Some(name)
                    })
                    .collect();
                let endpoints: Vec<&Value> =
                    slices.iter().filter_map(|s| s.get("endpoints")?.as_array()).flatten().collect();
                let ready = endpoints
                    .iter()
                    .filter(|e| e.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false))
                    .count();
                if ready > 0 {
                    return None;
                }
                Some(Finding {
                    severity: Severity::Critical,
                    kind: "Service".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("service {ns}/{name} has no ready endpoints ({pods} matching pods, none ready)"),
                    evidence: Evidence {
                        conditions: vec![
                            format!("selector: {text}"),
                            format!("endpoints: {} not ready, 0 ready", endpoints.len()),
                        ],
                        ..Evidence::default()
                    },
                    likely_cause: "none of the pods it selects is ready".into(),
                    next_step: describe("Service", ns, name),
                })
            })
            .collect()
    }
}
