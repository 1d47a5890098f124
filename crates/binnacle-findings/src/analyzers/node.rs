//! Nodes that are NotReady, under pressure or cordoned.

use super::{Analyzer, condition, condition_line, describe};
use crate::At;
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of};

/// Reports nodes that are not Ready, report memory/disk/PID pressure, or are unschedulable.
pub struct NodeProblems;

impl Analyzer for NodeProblems {
    fn name(&self) -> &'static str {
        "node"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let mut out = Vec::new();
        for node in snap.list("nodes") {
            let name = name_of(node);
            let mut problems = Vec::new();
            let mut conditions = Vec::new();
            let mut severity = Severity::Info;
            if condition(node, "Ready").is_none_or(|c| c.0 != "True") {
                problems.push("NotReady".to_string());
                severity = Severity::Critical;
                conditions.extend(condition_line(node, "Ready"));
            }
            for p in ["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"] {
                if condition(node, p).is_some_and(|c| c.0 == "True") {
                    problems.push(p.to_string());
                    severity = severity.min(Severity::Warning);
                    conditions.extend(condition_line(node, p));
                }
            }
            if node.at("/spec/unschedulable").and_then(serde_json::Value::as_bool) == Some(true) {
                problems.push("SchedulingDisabled".to_string());
                conditions.push("spec.unschedulable=true (cordoned)".into());
            }
            if problems.is_empty() {
                continue;
            }
            out.push(Finding {
                severity,
                kind: "Node".into(),
                namespace: String::new(),
                name: name.into(),
                analyzer: self.name().into(),
                summary: format!("node {name}: {}", problems.join(", ")),
                evidence: Evidence { conditions, events: snap.events_for("Node", "", name), logs: Vec::new() },
                likely_cause: if severity == Severity::Info {
                    "the node is cordoned; new pods will not be scheduled on it".into()
                } else {
                    format!("the kubelet reports {}", problems.join(", "))
                },
                next_step: describe("Node", "", name),
            });
        }
        out
    }
}
