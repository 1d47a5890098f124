//! NetworkPolicies whose pod selector matches nothing.

use super::{Analyzer, describe, near_miss_labels, selector_keys};
use crate::At;
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::selector::LabelSelector;
use serde_json::Value;

/// Pod template labels of the workloads of a namespace (pods that may exist later: scaled-down Deployments,
/// CronJobs between runs).
fn template_labels<'a>(snap: &'a Snapshot, ns: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    [
        ("deployments", "/spec/template/metadata/labels"),
        ("statefulsets", "/spec/template/metadata/labels"),
        ("daemonsets", "/spec/template/metadata/labels"),
        ("jobs", "/spec/template/metadata/labels"),
        ("cronjobs", "/spec/jobTemplate/spec/template/metadata/labels"),
        ("rollouts", "/spec/template/metadata/labels"),
    ]
    .into_iter()
    .flat_map(move |(key, pointer)| {
        snap.list(key).iter().filter(move |o| ns_of(o) == ns).filter_map(move |o| o.at(pointer))
    })
}

/// Reports NetworkPolicies with a non-empty pod selector that matches no pod of their namespace, nor the pod
/// template of any workload there: the policy applies to nothing, which usually means a label typo (and the
/// pods it was written for stay isolated, or open, against the author's intent).
pub struct SelectsNoPods;

impl Analyzer for SelectsNoPods {
    fn name(&self) -> &'static str {
        "network-policy"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("networkpolicies")
            .iter()
            .filter_map(|np| {
                let (ns, name) = (ns_of(np), name_of(np));
                let sel = LabelSelector::from_object(np.at("/spec/podSelector")?).ok()?;
                if sel.is_empty() || !snap.pods_matching(ns, &sel).is_empty() {
                    return None;
                }
                if template_labels(snap, ns).any(|labels| sel.matches(Some(labels))) {
                    return None;
                }
                let text = sel.to_selector_string();
                let types: Vec<&str> = np
                    .at("/spec/policyTypes")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_else(|| vec!["Ingress"]);
                let cause = match near_miss_labels(snap, ns, &selector_keys(&sel)) {
                    Some(labels) => {
                        format!("podSelector {text} matches no pod in {ns}; pods there are labelled {labels}")
                    }
                    None => format!("podSelector {text} matches no pod or workload template in {ns}"),
                };
                Some(Finding {
                    severity: Severity::Warning,
                    kind: "NetworkPolicy".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("network policy {ns}/{name} selects no pods ({text})"),
                    evidence: Evidence {
                        conditions: vec![format!("podSelector: {text}"), format!("policyTypes: {}", types.join(", "))],
                        ..Evidence::default()
                    },
                    likely_cause: cause,
                    next_step: describe("NetworkPolicy", ns, name),
                })
            })
            .collect()
    }
}
