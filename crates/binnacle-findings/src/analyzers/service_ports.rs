//! Services whose target ports match no port of the containers they select.

use super::service::selector_of;
use super::{Analyzer, describe};
use crate::At;
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::Value;
use std::collections::BTreeSet;

/// The declared ports of a pod's containers: `(name, number, protocol)`.
fn container_ports(pod: &Value) -> impl Iterator<Item = (&str, i64, &str)> {
    pod.at("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("ports").and_then(Value::as_array))
        .flatten()
        .filter_map(|p| {
            Some((
                get_str(p, "/name").unwrap_or_default(),
                p.get("containerPort")?.as_i64()?,
                get_str(p, "/protocol").unwrap_or("TCP"),
            ))
        })
}

/// Reports Services with a selector that matches pods when a port's `targetPort` is a name no selected
/// container defines (critical: the endpoints get no port), or a number no selected container declares while
/// the containers declare other ports (warning: probably a mismatch).
pub struct PortMismatch;

impl Analyzer for PortMismatch {
    fn name(&self) -> &'static str {
        "service-port-mismatch"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("services")
            .iter()
            .filter_map(|svc| {
                let (ns, name) = (ns_of(svc), name_of(svc));
                let (sel, text) = selector_of(svc)?;
                let pods = snap.pods_matching(ns, &sel);
                if pods.is_empty() {
                    return None;
                }
                let mut problems = Vec::new();
                let mut severity = Severity::Warning;
                let mut any_declared = None;
                for port in svc.at("/spec/ports").and_then(Value::as_array).into_iter().flatten() {
                    let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
                    let label = get_str(port, "/name").map_or(number.to_string(), |n| format!("{n} ({number})"));
                    match port.get("targetPort") {
                        Some(Value::String(target)) => {
                            if !pods.iter().any(|p| container_ports(p).any(|(n, _, _)| n == target)) {
                                severity = Severity::Critical;
                                problems.push(format!(
                                    "port {label} targets the named port {target:?}, which no selected container defines"
                                ));
                            }
                        }
                        other => {
                            let target = other.and_then(Value::as_i64).unwrap_or(number);
                            let declared =
                                *any_declared.get_or_insert_with(|| pods.iter().any(|p| container_ports(p).next().is_some()));
                            if declared && !pods.iter().any(|p| container_ports(p).any(|(_, n, _)| n == target)) {
                                problems.push(format!("port {label} targets {target}, which no selected container declares"));
                            }
                        }
                    }
                }
                if problems.is_empty() {
                    return None;
                }
                let declared: BTreeSet<(String, i64, String)> = pods
                    .iter()
                    .flat_map(|p| container_ports(p))
                    .map(|(n, p, proto)| (n.to_string(), p, proto.to_string()))
                    .collect();
                let declared_text: Vec<String> = declared
                    .iter()
                    .take(8)
                    .map(|(n, p, proto)| if n.is_empty() { format!("{p}/{proto}") } else { format!("{n}:{p}/{proto}") })
                    .collect();
                let declared_line = if declared_text.is_empty() {
                    "the selected containers declare no ports".to_string()
                } else {
                    format!("the selected containers declare {}", declared_text.join(", "))
                };
                Some(Finding {
                    severity,
                    kind: "Service".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("service {ns}/{name}: {}", problems[0]),
                    evidence: Evidence {
                        conditions: [format!("selector: {text} ({} pods)", pods.len()), declared_line.clone()]
                            .into_iter()
                            .chain(problems.iter().cloned())
                            .collect(),
                        ..Evidence::default()
                    },
                    likely_cause: format!("{}; {declared_line}", problems.join("; ")),
                    next_step: describe("Service", ns, name),
                })
            })
            .collect()
    }
}
