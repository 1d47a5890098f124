//! Containers killed for running out of memory.

use super::{Analyzer, container_spec, describe, group_events, group_pods, pod_group_finding};
use crate::At;
use crate::finding::{Finding, Severity};
use crate::snapshot::{Snapshot, statuses};
use binnacle_objects::pointer::get_str;

/// Reports containers whose current or last state is `OOMKilled`, with their memory limit.
pub struct OomKilled;

impl Analyzer for OomKilled {
    fn name(&self) -> &'static str {
        "oom-killed"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let groups = group_pods(snap, |pod| {
            statuses(pod).find_map(|cs| {
                let oom = get_str(cs, "/lastState/terminated/reason") == Some("OOMKilled")
                    || get_str(cs, "/state/terminated/reason") == Some("OOMKilled");
                oom.then(|| {
                    let container = get_str(cs, "/name").unwrap_or_default().to_string();
                    let limit = container_spec(pod, &container)
                        .and_then(|c| get_str(c, "/resources/limits/memory"))
                        .unwrap_or("none")
                        .to_string();
                    let restarts = cs.at("/restartCount").and_then(serde_json::Value::as_i64).unwrap_or(0);
                    let line = format!(
                        "container {container}: last terminated OOMKilled (memory limit {limit}), {restarts} restarts"
                    );
                    (container, limit, vec![line])
                })
            })
        });
        groups
            .iter()
            .map(|(key, hits)| {
                let (ns, kind, name) = key;
                let limit = &hits[0].detail;
                let cause = if limit == "none" {
                    "the container uses more memory than the node can give it (no memory limit set)".to_string()
                } else {
                    format!("the container needs more memory than its limit of {limit}")
                };
                pod_group_finding(
                    self.name(),
                    Severity::Critical,
                    key,
                    hits,
                    &format!("OOMKilled (memory limit {limit})"),
                    cause,
                    group_events(snap, ns, kind, name, hits),
                    hits.iter()
                        .find_map(|h| snap.previous_logs.get(&(ns.clone(), h.pod.clone(), h.container.clone())))
                        .cloned()
                        .unwrap_or_default(),
                    describe(kind, ns, name),
                )
            })
            .collect()
    }
}
