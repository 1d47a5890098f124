//! Pods in CrashLoopBackOff, with the last lines of the crashed container.

use super::{Analyzer, group_events, group_pods, pod_group_finding};
use crate::At;
use crate::finding::{Finding, ProposedCall, Severity};
use crate::snapshot::{Snapshot, statuses};
use binnacle_objects::pointer::get_str;
use serde_json::json;

/// Reports containers waiting in `CrashLoopBackOff` (except OOM kills, reported by `oom-killed`, and restarts by
/// a failing liveness probe, reported by `failing-liveness`).
pub struct CrashLoop;

impl Analyzer for CrashLoop {
    fn name(&self) -> &'static str {
        "crash-loop"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let groups = group_pods(snap, |pod| {
            statuses(pod).find_map(|cs| {
                let crashing = get_str(cs, "/state/waiting/reason") == Some("CrashLoopBackOff")
                    && get_str(cs, "/lastState/terminated/reason") != Some("OOMKilled")
                    && super::liveness::liveness_failure(snap, pod).is_none();
                crashing.then(|| {
                    let container = get_str(cs, "/name").unwrap_or_default().to_string();
                    let code = cs.at("/lastState/terminated/exitCode").and_then(serde_json::Value::as_i64);
                    let reason = get_str(cs, "/lastState/terminated/reason").unwrap_or("Error");
                    let restarts = cs.at("/restartCount").and_then(serde_json::Value::as_i64).unwrap_or(0);
                    let line = format!(
                        "container {container}: waiting CrashLoopBackOff, last terminated {reason} (exit code {}), {restarts} restarts",
                        code.map_or("?".into(), |c| c.to_string())
                    );
                    (container, format!("exit code {}", code.map_or("?".into(), |c| c.to_string())), vec![line])
                })
            })
        });
        groups
            .iter()
            .map(|(key, hits)| {
                let (ns, kind, name) = key;
                let logs = hits
                    .iter()
                    .find_map(|h| snap.previous_logs.get(&(ns.clone(), h.pod.clone(), h.container.clone())))
                    .cloned()
                    .unwrap_or_default();
                let last_error = logs
                    .iter()
                    .rev()
                    .find(|l| {
                        let l = l.to_lowercase();
                        ["error", "fatal", "panic", "exception", "refused", "failed"].iter().any(|w| l.contains(w))
                    })
                    .or(logs.last());
                let cause = match last_error {
                    Some(line) => format!("the container exits ({}); its last log says: {line}", hits[0].detail),
                    None => format!("the container keeps exiting ({}); no previous logs were available", hits[0].detail),
                };
                let first = &hits[0];
                let next = ProposedCall {
                    tool: "pod_logs".into(),
                    arguments: json!({"name": first.pod, "namespace": ns, "container": first.container, "previous": true, "tailLines": 100}),
                };
                pod_group_finding(
                    self.name(),
                    Severity::Critical,
                    key,
                    hits,
                    "crash-loop (CrashLoopBackOff)",
                    cause,
                    group_events(snap, ns, kind, name, hits),
                    logs,
                    Some(next),
                )
            })
            .collect()
    }
}
