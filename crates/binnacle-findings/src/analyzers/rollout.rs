//! Argo Rollouts that are degraded or paused.

use super::{Analyzer, int};
use crate::At;
use crate::finding::{Evidence, Finding, ProposedCall, Severity, sanitize};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::{Value, json};

/// Reports Argo Rollouts (when `rollouts.argoproj.io` is served) whose phase is `Degraded` or `Paused`.
pub struct ArgoRollout;

impl Analyzer for ArgoRollout {
    fn name(&self) -> &'static str {
        "argo-rollout"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        if !snap.is_served("rollouts") {
            return Vec::new();
        }
        snap.list("rollouts")
            .iter()
            .filter_map(|r| {
                let (ns, name) = (ns_of(r), name_of(r));
                let phase = get_str(r, "/status/phase").unwrap_or_default();
                let paused = phase == "Paused"
                    || r.at("/spec/paused").and_then(Value::as_bool) == Some(true)
                    || r.at("/status/pauseConditions").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
                let degraded = phase == "Degraded" || r.at("/status/abort").and_then(Value::as_bool) == Some(true);
                if !paused && !degraded {
                    return None;
                }
                let step = int(r, "/status/currentStepIndex");
                let steps = r.at("/spec/strategy/canary/steps").and_then(Value::as_array).map_or(0, Vec::len);
                let weight = step.and_then(|i| {
                    let steps = r.at("/spec/strategy/canary/steps")?.as_array()?;
                    let reached = usize::try_from(i).ok()?.min(steps.len());
                    steps[..reached].iter().rev().find_map(|s| int(s, "/setWeight"))
                });
                let message = sanitize(get_str(r, "/status/message").unwrap_or_default());
                let mut conditions = vec![format!("phase {phase}")];
                if let Some(i) = step {
                    conditions.push(format!(
                        "step {} of {steps}{}",
                        i + 1,
                        weight.map_or(String::new(), |w| format!(", canary weight {w}%"))
                    ));
                }
                for c in r.at("/status/pauseConditions").and_then(Value::as_array).into_iter().flatten() {
                    conditions.push(format!("paused: {}", get_str(c, "/reason").unwrap_or_default()));
                }
                if !message.is_empty() {
                    conditions.push(format!("message: {message}"));
                }
                let (severity, summary, cause, tool) = if degraded {
                    (
                        Severity::Critical,
                        format!("rollout {ns}/{name} is degraded"),
                        format!("the canary failed: {message}"),
                        "argo_rollout_describe",
                    )
                } else {
                    (
                        Severity::Info,
                        format!(
                            "rollout {ns}/{name} is paused at step {}",
                            step.map_or("?".into(), |i| (i + 1).to_string())
                        ),
                        format!(
                            "the canary reached an indefinite pause{} and waits to be promoted",
                            weight.map_or(String::new(), |w| format!(" at weight {w}%"))
                        ),
                        "argo_rollout_promote",
                    )
                };
                Some(Finding {
                    severity,
                    kind: "Rollout".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary,
                    evidence: Evidence { conditions, events: snap.events_for("Rollout", ns, name), logs: Vec::new() },
                    likely_cause: cause,
                    next_step: Some(ProposedCall {
                        tool: tool.into(),
                        arguments: json!({"name": name, "namespace": ns}),
                    }),
                })
            })
            .collect()
    }
}
