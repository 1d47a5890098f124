//! Services that select no pods, or have no ready endpoints.

use super::{Analyzer, describe, near_miss_labels, selector_keys, visibly_failing};
use crate::At;
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use binnacle_objects::selector::LabelSelector;
use serde_json::Value;

/// A Service's selector, with its string form; `None` for Services without one (endpoints managed by hand) and
/// ExternalName Services.
pub(crate) fn selector_of(svc: &Value) -> Option<(LabelSelector, String)> {
    let sel = svc.at("/spec/selector")?;
    if sel.as_object().is_none_or(|m| m.is_empty()) || get_str(svc, "/spec/type") == Some("ExternalName") {
        return None;
    }
    let parsed = LabelSelector::from_object(&serde_json::json!({"matchLabels": sel})).ok()?;
    let text = parsed.to_selector_string();
    Some((parsed, text))
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
                if !snap.pods_matching(ns, &sel).is_empty() {
                    return None;
                }
                // Suggest the labels of a pod whose labels overlap the selector's keys.
                let near = near_miss_labels(snap, ns, &selector_keys(&sel));
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
                // Without EndpointSlices (not readable) nothing can be said; any ready endpoint is enough.
                if !snap.is_served("endpointslices") {
                    return None;
                }
                let endpoints: Vec<&Value> = snap
                    .slices_for(ns, name)
                    .into_iter()
                    .filter_map(|s| s.get("endpoints")?.as_array())
                    .flatten()
                    .collect();
                if endpoints.iter().any(|e| e.at("/conditions/ready").and_then(Value::as_bool) != Some(false)) {
                    return None;
                }
                let pods = snap.pods_matching(ns, &sel);
                // Pods that are merely starting (no error, no restart, no failed probe) are not a finding yet.
                if !pods.iter().any(|p| visibly_failing(snap, p)) {
                    return None;
                }
                let pods = pods.len();
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
