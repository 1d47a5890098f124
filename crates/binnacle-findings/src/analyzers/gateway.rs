//! Gateway API Gateways that are not accepted or not programmed.

use super::{Analyzer, condition, condition_line, describe};
use crate::At;
use crate::finding::{Evidence, Finding, Severity, sanitize};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::Value;

/// Reports Gateways (`gateway.networking.k8s.io`, when installed) with `Accepted`, `Programmed` or `Ready`
/// `False` (critical), not yet accepted by any controller (warning), or with a listener whose references do not
/// resolve or that conflicts (warning).
pub struct GatewayNotReady;

impl Analyzer for GatewayNotReady {
    fn name(&self) -> &'static str {
        "gateway"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        if !snap.is_served("gateways") {
            return Vec::new();
        }
        snap.list("gateways")
            .iter()
            .filter_map(|gw| {
                let (ns, name) = (ns_of(gw), name_of(gw));
                let class = get_str(gw, "/spec/gatewayClassName").unwrap_or("?");
                let mut conditions: Vec<String> =
                    ["Accepted", "Programmed", "Ready"].iter().filter_map(|t| condition_line(gw, t)).collect();
                let mut listener_problems = Vec::new();
                for l in gw.at("/status/listeners").and_then(Value::as_array).into_iter().flatten() {
                    let lname = get_str(l, "/name").unwrap_or("?");
                    for c in l.get("conditions").and_then(Value::as_array).into_iter().flatten() {
                        let (t, s) = (get_str(c, "/type").unwrap_or_default(), get_str(c, "/status").unwrap_or_default());
                        let bad = (matches!(t, "ResolvedRefs" | "Accepted" | "Programmed") && s == "False")
                            || (t == "Conflicted" && s == "True");
                        if bad {
                            listener_problems.push(format!(
                                "listener {lname}: {t}={s} ({}): {}",
                                get_str(c, "/reason").unwrap_or_default(),
                                sanitize(get_str(c, "/message").unwrap_or_default())
                            ));
                        }
                    }
                }
                let failed = ["Accepted", "Programmed", "Ready"]
                    .iter()
                    .find_map(|t| condition(gw, t).filter(|c| c.0 == "False").map(|c| (*t, c.1, c.2)));
                let accepted = condition(gw, "Accepted");
                let (severity, summary, cause) = if let Some((t, reason, message)) = failed {
                    (
                        Severity::Critical,
                        format!("gateway {ns}/{name} is not {} ({reason})", t.to_lowercase()),
                        format!("{t}=False ({reason}): {}", sanitize(message)),
                    )
                } else if accepted.is_none_or(|c| c.0 == "Unknown") {
                    (
                        Severity::Warning,
                        format!("gateway {ns}/{name} has not been accepted by a controller"),
                        format!("no controller has accepted it: check that GatewayClass {class} exists and its controller runs"),
                    )
                } else if !listener_problems.is_empty() {
                    (
                        Severity::Warning,
                        format!("gateway {ns}/{name}: {}", listener_problems[0]),
                        listener_problems.join("; "),
                    )
                } else {
                    return None;
                };
                conditions.push(format!("gatewayClassName: {class}"));
                conditions.extend(listener_problems.into_iter().take(5));
                Some(Finding {
                    severity,
                    kind: "Gateway".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary,
                    evidence: Evidence { conditions, events: snap.events_for("Gateway", ns, name), logs: Vec::new() },
                    likely_cause: cause,
                    next_step: describe("Gateway", ns, name),
                })
            })
            .collect()
    }
}
