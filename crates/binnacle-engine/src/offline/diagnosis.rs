//! What is wrong with one pod, read from `resource_describe` and `pod_logs` output: the facts, and a
//! [`Verdict`] by fixed rules (OOM kill before image pull before config error before crash loop, then
//! scheduling, readiness and phase).

use super::flows::{items, show, text};
use serde_json::Value;

/// One container of the pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Container {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// Ready.
    pub ready: bool,
    /// Restarts.
    pub restarts: i64,
    /// Current state in words (`waiting: CrashLoopBackOff (...)`).
    pub state: String,
    /// Last state in words (`terminated: OOMKilled (exit 137) 20s ago`).
    pub last_state: String,
    /// Limits (`memory=128Mi`).
    pub limits: String,
    /// Requests (`cpu=100m,memory=64Mi`).
    pub requests: String,
}

/// One (grouped) event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Event {
    /// Warning or Normal.
    pub type_: String,
    /// Reason.
    pub reason: String,
    /// Occurrences.
    pub count: i64,
    /// Time since the last one.
    pub last_seen: String,
    /// Message (cluster text).
    pub message: String,
}

/// What `resource_describe` says about a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PodFacts {
    /// kubectl's STATUS column.
    pub status: String,
    /// Ready containers, `0/1`.
    pub ready: String,
    /// Restarts as shown.
    pub restarts: String,
    /// Phase.
    pub phase: String,
    /// Node, empty when not scheduled.
    pub node: String,
    /// Containers (init containers first).
    pub containers: Vec<Container>,
    /// Problems the describe tool noticed.
    pub findings: Vec<String>,
    /// Conditions as `(type, status, reason, message)`.
    pub conditions: Vec<(String, String, String, String)>,
    /// Owners, nearest first, as `Kind namespace/name`.
    pub owners: Vec<String>,
    /// Events, warnings first, newest first.
    pub events: Vec<Event>,
}

impl PodFacts {
    /// Reads `resource_describe`'s structured output.
    pub(crate) fn read(describe: &Value) -> Self {
        let status = describe.get("status").cloned().unwrap_or(Value::Null);
        let details = describe.get("details").cloned().unwrap_or(Value::Null);
        let containers = items(&details, "containers")
            .iter()
            .map(|c| Container {
                name: text(c, "name").to_string(),
                image: text(c, "image").to_string(),
                ready: c.get("ready").and_then(Value::as_bool).unwrap_or(false),
                restarts: c.get("restarts").and_then(Value::as_i64).unwrap_or(0),
                state: text(c, "state").to_string(),
                last_state: text(c, "lastState").to_string(),
                limits: text(c, "limits").to_string(),
                requests: text(c, "requests").to_string(),
            })
            .collect();
        let events = items(describe, "events")
            .iter()
            .map(|e| Event {
                type_: text(e, "type").to_string(),
                reason: text(e, "reason").to_string(),
                count: e.get("count").and_then(Value::as_i64).unwrap_or(1),
                last_seen: text(e, "lastSeen").to_string(),
                message: text(e, "message").to_string(),
            })
            .collect();
        Self {
            status: show(status.get("status").unwrap_or(&Value::Null)),
            ready: show(status.get("ready").unwrap_or(&Value::Null)),
            restarts: show(status.get("restarts").unwrap_or(&Value::Null)),
            phase: text(&details, "phase").to_string(),
            node: text(&details, "node").to_string(),
            containers,
            findings: items(describe, "findings").iter().map(show).collect(),
            conditions: items(describe, "conditions")
                .iter()
                .map(|c| {
                    (
                        text(c, "type").to_string(),
                        text(c, "status").to_string(),
                        text(c, "reason").to_string(),
                        text(c, "message").to_string(),
                    )
                })
                .collect(),
            owners: items(describe, "owners").iter().map(|o| text(o, "object").to_string()).collect(),
            events,
        }
    }

    /// Whether the STATUS column or any container state mentions `needle`.
    fn mentions(&self, needle: &str) -> bool {
        self.status.contains(needle)
            || self.containers.iter().any(|c| c.state.contains(needle) || c.last_state.contains(needle))
    }

    /// Restarts as a number.
    pub(crate) fn restart_count(&self) -> i64 {
        let from_status = self.restarts.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        from_status.max(self.containers.iter().map(|c| c.restarts).sum())
    }

    /// The workload at the top of the owner chain (`Deployment`, namespace, name), if it is one the
    /// assistant can restart or roll back.
    pub(crate) fn workload(&self) -> Option<(String, String, String)> {
        let top = self.owners.last()?;
        let (kind, path) = top.split_once(' ')?;
        let (ns, name) = path.split_once('/')?;
        matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
            .then(|| (kind.to_string(), ns.to_string(), name.to_string()))
    }

    /// The scheduler's message, when it could not place the pod.
    pub(crate) fn scheduler_message(&self) -> Option<String> {
        self.events.iter().find(|e| e.reason == "FailedScheduling").map(|e| e.message.clone()).or_else(|| {
            self.conditions
                .iter()
                .find(|(t, s, _, m)| t == "PodScheduled" && s == "False" && !m.is_empty())
                .map(|(_, _, _, m)| m.clone())
        })
    }

    /// The container the verdict is about: the first one whose state mentions `needle`, else the first
    /// not ready, else the first.
    pub(crate) fn container_with(&self, needle: &str) -> Option<&Container> {
        self.containers
            .iter()
            .find(|c| c.state.contains(needle) || c.last_state.contains(needle))
            .or_else(|| self.containers.iter().find(|c| !c.ready))
            .or_else(|| self.containers.first())
    }

    /// Whether the kubelet is backing off restarts of a container (`BackOff` warnings about restarting).
    pub(crate) fn backing_off(&self) -> bool {
        self.events.iter().any(|e| e.reason == "BackOff" && e.message.to_lowercase().contains("restarting"))
    }

    /// Messages of events with a reason.
    pub(crate) fn event_messages(&self, reason: &str) -> Vec<String> {
        self.events.iter().filter(|e| e.reason == reason).map(|e| e.message.clone()).collect()
    }
}

/// What `pod_logs` returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LogFacts {
    /// Container read.
    pub container: String,
    /// Lines, oldest first.
    pub lines: Vec<String>,
    /// Why there are no lines.
    pub note: Option<String>,
    /// The previous instance: why it ended, exit code, last lines.
    pub previous: Option<(String, i64, Vec<String>)>,
}

impl LogFacts {
    /// Reads `pod_logs`' structured output.
    pub(crate) fn read(logs: &Value) -> Self {
        let lines = |v: &Value| items(v, "lines").iter().map(show).collect::<Vec<_>>();
        Self {
            container: text(logs, "container").to_string(),
            lines: lines(logs),
            note: logs.get("note").and_then(Value::as_str).map(str::to_string),
            previous: logs.get("previousInstance").filter(|p| p.is_object()).map(|p| {
                (text(p, "reason").to_string(), p.get("exitCode").and_then(Value::as_i64).unwrap_or(0), lines(p))
            }),
        }
    }
}

/// Why the pod is not well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A container was killed for using more memory than its limit.
    OomKilled,
    /// An image cannot be pulled.
    ImagePull,
    /// A container cannot be created from its configuration (missing ConfigMap, Secret, key).
    ConfigError,
    /// A container keeps exiting and is restarted with back-off.
    CrashLoop,
    /// The scheduler cannot place the pod.
    Unschedulable,
    /// Scheduled, containers not started yet.
    Starting,
    /// Running, but not every container is ready.
    NotReady,
    /// The pod failed (containers exited with errors, not restarted).
    Failed,
    /// The pod ran to completion.
    Completed,
    /// Running and ready.
    Healthy,
    /// None of the above.
    Unknown,
}

/// The verdict for a pod.
pub(crate) fn verdict(pod: &PodFacts, logs: Option<&LogFacts>) -> Verdict {
    let previous_reason = logs.and_then(|l| l.previous.as_ref()).map(|p| p.0.as_str()).unwrap_or("");
    if pod.mentions("OOMKilled") || previous_reason == "OOMKilled" {
        return Verdict::OomKilled;
    }
    if ["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"].iter().any(|n| pod.mentions(n)) {
        return Verdict::ImagePull;
    }
    if ["CreateContainerConfigError", "CreateContainerError", "RunContainerError"].iter().any(|n| pod.mentions(n)) {
        return Verdict::ConfigError;
    }
    let restarted_after_exit =
        pod.restart_count() > 0 && pod.containers.iter().any(|c| c.last_state.starts_with("terminated"));
    if pod.mentions("CrashLoopBackOff") || (restarted_after_exit && pod.phase != "Succeeded" && !all_ready(pod)) {
        return Verdict::CrashLoop;
    }
    match pod.phase.as_str() {
        "Pending" if pod.node.is_empty() => Verdict::Unschedulable,
        "Pending" => Verdict::Starting,
        "Failed" => Verdict::Failed,
        "Succeeded" => Verdict::Completed,
        "Running" if !all_ready(pod) => Verdict::NotReady,
        // Running and ready between crashes: a crash loop if the kubelet is backing off its restarts.
        "Running" if restarted_after_exit && (pod.backing_off() || pod.restart_count() >= 3) => Verdict::CrashLoop,
        "Running" => Verdict::Healthy,
        _ if pod.status == "Error" => Verdict::Failed,
        _ => Verdict::Unknown,
    }
}

/// Whether every container counted in READY is ready.
fn all_ready(pod: &PodFacts) -> bool {
    match pod.ready.split_once('/') {
        Some((a, b)) => a == b,
        None => pod.containers.iter().all(|c| c.ready),
    }
}

/// The memory limit in a `limits` text (`cpu=1,memory=128Mi` → `128Mi`).
pub(crate) fn memory_limit(limits: &str) -> Option<&str> {
    limits.split(',').find_map(|kv| kv.trim().strip_prefix("memory="))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: &str, ready: &str, phase: &str, node: &str, state: &str, last: &str) -> PodFacts {
        PodFacts::read(&json!({
            "status": {"status": status, "ready": ready, "restarts": if last.is_empty() { "0" } else { "3 (5s ago)" }},
            "details": {"phase": phase, "node": node, "containers": [
                {"name": "app", "image": "x:1", "ready": ready == "1/1",
                 "restarts": if last.is_empty() { 0 } else { 3 },
                 "state": state, "lastState": last, "limits": "cpu=1,memory=128Mi"}]},
            "owners": [{"relation": "owned by", "object": "ReplicaSet ns/app-1", "status": ""},
                       {"relation": "owned by", "object": "Deployment ns/app", "status": ""}],
            "events": [{"type": "Warning", "reason": "FailedScheduling", "count": 2, "lastSeen": "5s",
                        "message": "0/3 nodes are available: 3 Insufficient cpu."}]
        }))
    }

    #[test]
    fn verdicts() {
        let v = |p: &PodFacts| verdict(p, None);
        assert_eq!(
            v(&pod("OOMKilled", "0/1", "Running", "n", "terminated: OOMKilled (exit 137)", "")),
            Verdict::OomKilled
        );
        assert_eq!(
            v(&pod(
                "CrashLoopBackOff",
                "0/1",
                "Running",
                "n",
                "waiting: CrashLoopBackOff",
                "terminated: OOMKilled (exit 137)"
            )),
            Verdict::OomKilled
        );
        assert_eq!(
            v(&pod("ImagePullBackOff", "0/1", "Pending", "n", "waiting: ImagePullBackOff", "")),
            Verdict::ImagePull
        );
        assert_eq!(
            v(&pod("CreateContainerConfigError", "0/1", "Pending", "n", "waiting: CreateContainerConfigError", "")),
            Verdict::ConfigError
        );
        assert_eq!(
            v(&pod(
                "CrashLoopBackOff",
                "0/1",
                "Running",
                "n",
                "waiting: CrashLoopBackOff",
                "terminated: Error (exit 1)"
            )),
            Verdict::CrashLoop
        );
        assert_eq!(
            v(&pod("Running", "0/1", "Running", "n", "running for 5s", "terminated: Error (exit 1)")),
            Verdict::CrashLoop
        );
        let pending = pod("Pending", "0/1", "Pending", "", "", "");
        assert_eq!(v(&pending), Verdict::Unschedulable);
        assert_eq!(pending.scheduler_message().as_deref(), Some("0/3 nodes are available: 3 Insufficient cpu."));
        assert_eq!(v(&pod("Running", "0/1", "Running", "n", "running for 5m", "")), Verdict::NotReady);
        assert_eq!(v(&pod("Running", "1/1", "Running", "n", "running for 5m", "")), Verdict::Healthy);
        // Restarted once long ago, no back-off now: healthy (the answer mentions the restarts).
        let mut once = pod("Running", "1/1", "Running", "n", "running for 5m", "terminated: Error (exit 1)");
        once.restarts = "1 (5m ago)".into();
        once.events.clear();
        for c in &mut once.containers {
            c.restarts = 1;
        }
        assert_eq!(v(&once), Verdict::Healthy);
        assert_eq!(
            v(&pod("Completed", "0/1", "Succeeded", "n", "terminated: Completed (exit 0)", "")),
            Verdict::Completed
        );
        assert_eq!(pending.workload(), Some(("Deployment".into(), "ns".into(), "app".into())));
        assert_eq!(memory_limit("cpu=1,memory=128Mi"), Some("128Mi"));
    }
}
