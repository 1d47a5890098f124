//! Containers restarted by a failing liveness probe.

use super::{Analyzer, container_spec, describe, group_events, group_pods, pod_group_finding};
use crate::At;
use crate::finding::{EventEvidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of, statuses};
use binnacle_objects::pointer::get_str;
use serde_json::Value;

/// The kubelet's `Unhealthy` warning for a failed liveness probe of a pod, if it has one.
pub(crate) fn liveness_failure(snap: &Snapshot, pod: &Value) -> Option<EventEvidence> {
    snap.events_for("Pod", ns_of(pod), name_of(pod))
        .into_iter()
        .find(|e| e.reason == "Unhealthy" && e.message.starts_with("Liveness probe failed"))
}

/// Reports pods whose liveness probe fails (the kubelet's `Unhealthy: Liveness probe failed` warnings): the
/// kubelet kills and restarts the container, so it looks like a crash loop whose logs show no error.
pub struct FailingLiveness;

impl Analyzer for FailingLiveness {
    fn name(&self) -> &'static str {
        "failing-liveness"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let groups = group_pods(snap, |pod| {
            let event = liveness_failure(snap, pod)?;
            // The container with a liveness probe that restarted most (else the first with a probe).
            let cs = statuses(pod)
                .filter(|cs| {
                    container_spec(pod, get_str(cs, "/name").unwrap_or_default())
                        .is_some_and(|c| c.get("livenessProbe").is_some())
                })
                .max_by_key(|cs| cs.at("/restartCount").and_then(Value::as_i64).unwrap_or(0))
                .or_else(|| statuses(pod).next());
            let container = cs.and_then(|cs| get_str(cs, "/name")).unwrap_or_default().to_string();
            let restarts = cs.and_then(|cs| cs.at("/restartCount")).and_then(Value::as_i64).unwrap_or(0);
            let mut line = format!("container {container}: {restarts} restarts");
            if let Some(cs) = cs {
                if let Some(reason) = get_str(cs, "/state/waiting/reason") {
                    line.push_str(&format!(", waiting {reason}"));
                }
                if let Some(reason) = get_str(cs, "/lastState/terminated/reason") {
                    let code = cs.at("/lastState/terminated/exitCode").and_then(Value::as_i64);
                    line.push_str(&format!(
                        ", last terminated {reason} (exit code {})",
                        code.map_or("?".into(), |c| c.to_string())
                    ));
                }
            }
            if let Some(probe) = container_spec(pod, &container).and_then(|c| c.get("livenessProbe")) {
                line.push_str(&format!("; probe {}", probe_text(probe)));
            }
            Some((container, event.message, vec![line]))
        });
        groups
            .iter()
            .map(|(key, hits)| {
                let (ns, kind, name) = key;
                let crash_looping = hits.iter().any(|h| {
                    snap.get("pods", ns, &h.pod).is_some_and(|p| {
                        statuses(p).any(|cs| get_str(cs, "/state/waiting/reason") == Some("CrashLoopBackOff"))
                    })
                });
                pod_group_finding(
                    self.name(),
                    if crash_looping { Severity::Critical } else { Severity::Warning },
                    key,
                    hits,
                    "fail their liveness probe (restarted by the kubelet)",
                    format!(
                        "the liveness probe of container {} fails ({}); the kubelet kills and restarts the container",
                        hits[0].container, hits[0].detail
                    ),
                    group_events(snap, ns, kind, name, hits),
                    Vec::new(),
                    describe(kind, ns, name),
                )
            })
            .collect()
    }
}

/// `httpGet :8080/healthz every 10s, failureThreshold 3`.
fn probe_text(probe: &Value) -> String {
    let how = if let Some(h) = probe.get("httpGet") {
        let port = h.get("port").map(|p| p.to_string().trim_matches('"').to_string()).unwrap_or_default();
        format!("httpGet :{port}{}", get_str(h, "/path").unwrap_or("/"))
    } else if let Some(t) = probe.get("tcpSocket") {
        format!("tcpSocket :{}", t.get("port").map(|p| p.to_string().trim_matches('"').to_string()).unwrap_or_default())
    } else if probe.get("exec").is_some() {
        "exec".to_string()
    } else if probe.get("grpc").is_some() {
        "grpc".to_string()
    } else {
        "?".to_string()
    };
    let period = probe.get("periodSeconds").and_then(Value::as_i64).unwrap_or(10);
    let threshold = probe.get("failureThreshold").and_then(Value::as_i64).unwrap_or(3);
    format!("{how} every {period}s, failureThreshold {threshold}")
}
