//! The Pod table and the pod summary (status reason, ready count, restarts) kubectl shows.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Printer;
use super::util::{
    AGE, NAME, age_cell, arr_at, bool_at, cell, col, condition_true, int_at, or_none, present, str_at, wide,
};
use crate::time::{human_duration, parse_timestamp, seconds_between};

/// The Pod printer.
pub(crate) static POD: Printer = Printer {
    columns: &[
        NAME,
        col("Ready", "string", "Ready containers out of all containers that count toward readiness."),
        col("Status", "string", "Summary of the pod's phase and container states, or why it is not running."),
        col("Restarts", "string", "Container restarts, with the time since the latest one."),
        AGE,
        wide("IP", "string", "The pod's primary IP address."),
        wide("Node", "string", "The node the pod is bound to."),
        wide("Nominated Node", "string", "The node the scheduler nominated while preempting for this pod."),
        wide("Readiness Gates", "string", "Readiness gates whose condition is True, out of all gates."),
    ],
    row: pod_row,
};

/// Cells of one pod row.
fn pod_row(pod: &Value, now: Timestamp) -> Vec<Value> {
    let summary = Summary::of(pod);
    let mut ip = str_at(pod, "/status/podIPs/0/ip");
    if ip.is_empty() {
        ip = str_at(pod, "/status/podIP");
    }
    let gates = arr_at(pod, "/spec/readinessGates");
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = arr_at(pod, "/status/conditions");
        let passing = gates.iter().filter(|g| condition_true(conditions, str_at(g, "/conditionType"))).count();
        format!("{passing}/{}", gates.len())
    };
    vec![
        cell(str_at(pod, "/metadata/name")),
        cell(summary.ready_text()),
        cell(summary.status.clone()),
        cell(summary.restarts_text(now)),
        age_cell(pod, now),
        or_none(ip),
        or_none(str_at(pod, "/spec/nodeName")),
        or_none(str_at(pod, "/status/nominatedNodeName")),
        cell(readiness_gates),
    ]
}

/// The `Completed` row condition of a pod in a terminal phase (`Succeeded` or `Failed`).
pub(crate) fn completed_condition(pod: &Value) -> Option<Value> {
    match str_at(pod, "/status/phase") {
        "Succeeded" => Some(json!({
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        })),
        "Failed" => Some(json!({
            "type": "Completed",
            "status": "True",
            "reason": "Failed",
            "message": "The pod failed.",
        })),
        _ => None,
    }
}

/// The STATUS column of a pod as kubectl shows it: the phase, or a more precise reason such as
/// `CrashLoopBackOff`, `ImagePullBackOff`, `Init:0/1`, `Init:Error`, `OOMKilled`, `Completed`,
/// `SchedulingGated`, `Terminating` or `Evicted`.
pub fn pod_status(pod: &Value) -> String {
    Summary::of(pod).status
}

/// The READY column of a pod: ready containers out of the containers that count (app containers plus
/// restartable "sidecar" init containers), e.g. `1/2`.
pub fn pod_ready(pod: &Value) -> String {
    Summary::of(pod).ready_text()
}

/// The RESTARTS column of a pod: the restart count, followed by the time since the latest container
/// termination when known, e.g. `3 (25s ago)`.
pub fn pod_restarts(pod: &Value, now: Timestamp) -> String {
    Summary::of(pod).restarts_text(now)
}

/// What the pod row shows, computed in one pass over the container statuses.
struct Summary {
    /// The STATUS text.
    status: String,
    /// Ready containers.
    ready: usize,
    /// Containers that count toward readiness.
    total: usize,
    /// Restarts shown.
    restarts: i64,
    /// The latest `lastState.terminated.finishedAt` among the counted containers.
    last_restart: Option<Timestamp>,
}

/// Restarts and the latest restart time, accumulated over container statuses.
#[derive(Default, Clone, Copy)]
struct RestartTally {
    count: i64,
    latest: Option<Timestamp>,
}

impl RestartTally {
    /// Adds one container status.
    fn add(&mut self, status: &Value) {
        self.count += int_at(status, "/restartCount");
        if let Some(finished) = parse_timestamp(crate::pointer::get(status, "/lastState/terminated/finishedAt"))
            && self.latest.is_none_or(|l| l < finished)
        {
            self.latest = Some(finished);
        }
    }
}

/// A `state.terminated` block with a non-zero exit code described as `<prefix>Signal:N` or
/// `<prefix>ExitCode:N` (used when it carries no reason).
fn exit_text(prefix: &str, terminated: &Value) -> String {
    let signal = int_at(terminated, "/signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int_at(terminated, "/exitCode"))
    }
}

/// A non-null sub-object.
fn block<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    crate::pointer::get(v, pointer).filter(|b| b.is_object())
}

impl Summary {
    /// Computes the summary of a pod.
    fn of(pod: &Value) -> Summary {
        let phase = str_at(pod, "/status/phase");
        let status_reason = str_at(pod, "/status/reason");
        let mut reason = if status_reason.is_empty() { phase.to_string() } else { status_reason.to_string() };

        let conditions = arr_at(pod, "/status/conditions");
        if conditions.iter().any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated")
        {
            reason = "SchedulingGated".to_string();
        }

        let init_specs = arr_at(pod, "/spec/initContainers");
        let is_sidecar = |name: &str| {
            init_specs.iter().any(|c| str_at(c, "/name") == name && str_at(c, "/restartPolicy") == "Always")
        };
        let sidecars = init_specs.iter().filter(|c| str_at(c, "/restartPolicy") == "Always").count();
        let total = arr_at(pod, "/spec/containers").len() + sidecars;
        let mut ready = 0usize;

        let mut all = RestartTally::default();
        let mut sidecar_tally = RestartTally::default();
        let mut initializing = false;
        for (i, status) in arr_at(pod, "/status/initContainerStatuses").iter().enumerate() {
            all.add(status);
            let sidecar = is_sidecar(str_at(status, "/name"));
            if sidecar {
                sidecar_tally.add(status);
            }
            let terminated = block(status, "/state/terminated");
            if terminated.is_some_and(|t| int_at(t, "/exitCode") == 0) {
                continue;
            }
            if sidecar && bool_at(status, "/started") {
                if bool_at(status, "/ready") {
                    ready += 1;
                }
                continue;
            }
            let waiting_reason = str_at(status, "/state/waiting/reason");
            reason = if let Some(terminated) = terminated {
                match str_at(terminated, "/reason") {
                    "" => exit_text("Init:", terminated),
                    r => format!("Init:{r}"),
                }
            } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
                format!("Init:{waiting_reason}")
            } else {
                format!("Init:{i}/{}", init_specs.len())
            };
            initializing = true;
            break;
        }

        let mut tally = all;
        if !initializing || condition_true(conditions, "Initialized") {
            tally = sidecar_tally;
            let mut has_running = false;
            for status in arr_at(pod, "/status/containerStatuses").iter().rev() {
                tally.add(status);
                let waiting_reason = str_at(status, "/state/waiting/reason");
                let terminated = block(status, "/state/terminated");
                if !waiting_reason.is_empty() {
                    reason = waiting_reason.to_string();
                } else if let Some(terminated) = terminated {
                    reason = match str_at(terminated, "/reason") {
                        "" => exit_text("", terminated),
                        r => r.to_string(),
                    };
                } else if bool_at(status, "/ready") && block(status, "/state/running").is_some() {
                    has_running = true;
                    ready += 1;
                }
            }
            if reason == "Completed" && has_running {
                reason = if condition_true(conditions, "Ready") { "Running" } else { "NotReady" }.to_string();
            }
        }

        if present(pod, "/metadata/deletionTimestamp") {
            if status_reason == "NodeLost" {
                reason = "Unknown".to_string();
            } else if phase != "Succeeded" && phase != "Failed" {
                reason = "Terminating".to_string();
            }
        }

        Summary { status: reason, ready, total, restarts: tally.count, last_restart: tally.latest }
    }

    /// `ready/total`.
    fn ready_text(&self) -> String {
        format!("{}/{}", self.ready, self.total)
    }

    /// `N` or `N (age ago)`.
    fn restarts_text(&self, now: Timestamp) -> String {
        match self.last_restart {
            Some(last) if self.restarts != 0 => {
                format!("{} ({} ago)", self.restarts, human_duration(seconds_between(last, now)))
            }
            _ => self.restarts.to_string(),
        }
    }
}
