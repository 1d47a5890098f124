//! Running pods that never become Ready.

use super::{Analyzer, condition, condition_line, describe, group_events, group_pods, pod_group_finding};
use crate::At;
use crate::finding::{Finding, Severity};
use crate::snapshot::{Snapshot, statuses};
use binnacle_objects::pointer::get_str;

/// Reports Running pods that are not Ready while a container runs but fails its readiness probe (`Unhealthy`).
pub struct FailingReadiness;

impl Analyzer for FailingReadiness {
    fn name(&self) -> &'static str {
        "failing-readiness"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let groups = group_pods(snap, |pod| {
            if get_str(pod, "/status/phase") != Some("Running")
                || condition(pod, "Ready").is_some_and(|c| c.0 == "True")
            {
                return None;
            }
            let cs = statuses(pod).find(|cs| {
                cs.at("/state/running").is_some() && cs.at("/ready").and_then(serde_json::Value::as_bool) == Some(false)
            })?;
            let unhealthy = snap.events_for("Pod", crate::snapshot::ns_of(pod), crate::snapshot::name_of(pod));
            let probe = unhealthy.iter().find(|e| {
                e.reason == "Unhealthy"
                    && !e.message.starts_with("Liveness probe")
                    && !e.message.starts_with("Startup probe")
            })?;
            let container = get_str(cs, "/name").unwrap_or_default().to_string();
            let conds = condition_line(pod, "Ready").into_iter().collect();
            Some((container, probe.message.clone(), conds))
        });
        groups
            .iter()
            .map(|(key, hits)| {
                let (ns, kind, name) = key;
                pod_group_finding(
                    self.name(),
                    Severity::Warning,
                    key,
                    hits,
                    "running but not Ready (readiness probe failing)",
                    format!("the readiness probe of container {} fails: {}", hits[0].container, hits[0].detail),
                    group_events(snap, ns, kind, name, hits),
                    Vec::new(),
                    describe(kind, ns, name),
                )
            })
            .collect()
    }
}
