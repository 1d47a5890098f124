//! "Why is pod Y failing?": find the pod (or the most troubled pod of workload Y) with `resources_list`,
//! then `resource_describe` it and read its logs with `pod_logs` in one turn, then explain: status,
//! reason, events, last log lines and the fix.

use super::{Call, Next, Tools, data_of, explain};
use crate::offline::diagnosis::{LogFacts, PodFacts, Verdict, memory_limit, verdict};
use crate::offline::error::OfflineError;
use crate::offline::intent::Target;
use crate::offline::locate::{self, Located, PodRow};
use crate::offline::markdown::{code, code_block, plain};
use crate::offline::transcript::{Observation, Transcript};
use serde_json::json;

/// Log lines read for a diagnosis.
const LOG_TAIL: i64 = 20;
/// Events shown.
const MAX_EVENTS: usize = 8;
/// Log lines shown per instance.
const MAX_LOG_LINES: usize = 15;

/// The pod chosen for a target, and how it was found.
pub(super) struct Chosen {
    /// The pod's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Whether it matched as one of a workload's pods.
    pub via_workload: bool,
    /// Other pods that matched.
    pub others: Vec<PodRow>,
}

/// Finds the pod for a target: from the `resources_list` call of this run, or (with no listing tool and
/// a namespace given) the name as written. `Ok(None)` means "list first".
pub(super) fn choose(target: &Target, t: &Transcript, tools: &Tools) -> Result<Option<Chosen>, String> {
    let Some(listing) = t.last("resources_list") else {
        if tools.has("resources_list") {
            return Ok(None);
        }
        return match &target.namespace {
            Some(ns) => Ok(Some(Chosen {
                name: target.name.clone(),
                namespace: ns.clone(),
                via_workload: false,
                others: Vec::new(),
            })),
            None => Err(explain(&OfflineError::NotEnabled(vec!["resources_list".into()]))),
        };
    };
    let data = data_of(listing).map_err(|e| explain(&e))?;
    match locate::find_pod(data, target) {
        Located::Found { pod, via_workload, others } => {
            Ok(Some(Chosen { name: pod.name, namespace: pod.namespace, via_workload, others }))
        }
        Located::NotFound { suggestions, partial } => Err(not_found(target, &suggestions, partial)),
    }
}

/// The answer when no pod matches.
pub(super) fn not_found(target: &Target, suggestions: &[String], partial: bool) -> String {
    let scope = match &target.namespace {
        Some(ns) => format!("in namespace {}", code(ns)),
        None => "in any namespace".to_string(),
    };
    let mut out = format!(
        "**Not found:** there is no pod named {} {scope}, and no pods of a workload with that name.",
        code(&target.name)
    );
    if partial {
        out.push_str(" (I read only the first page of pods; give a namespace to look further.)");
    }
    out.push('\n');
    if !suggestions.is_empty() {
        out.push_str(&format!(
            "\nDid you mean: {}?\n",
            suggestions.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
        ));
    }
    out.push_str(&format!(
        "\nAsk `list pods{}` to see the pods{}.\n",
        target.namespace.as_deref().map(|ns| format!(" in {ns}")).unwrap_or_default(),
        if target.namespace.is_none() {
            format!(", or `what is broken in namespace {}` if that is a namespace", target.name)
        } else {
            String::new()
        }
    ));
    out
}

/// The next step.
pub(super) fn next(target: &Target, t: &Transcript, tools: &Tools) -> Next {
    if let Err(e) = tools.require(&["resource_describe"]) {
        return Next::Answer(explain(&e));
    }
    let chosen = match choose(target, t, tools) {
        Ok(Some(chosen)) => chosen,
        Ok(None) => return Next::Calls(vec![Call::new("resources_list", locate::pods_call(target))]),
        Err(answer) => return Next::Answer(answer),
    };
    let Some(describe) = t.last("resource_describe") else {
        let mut calls = vec![Call::new(
            "resource_describe",
            json!({"kind": "Pod", "name": chosen.name, "namespace": chosen.namespace}),
        )];
        if tools.has("pod_logs") {
            calls.push(Call::new(
                "pod_logs",
                json!({"name": chosen.name, "namespace": chosen.namespace, "tailLines": LOG_TAIL}),
            ));
        }
        return Next::Calls(calls);
    };
    Next::Answer(answer(target, &chosen, describe, t.last("pod_logs"), tools))
}

/// The diagnosis.
fn answer(
    target: &Target,
    chosen: &Chosen,
    describe: &Observation,
    logs: Option<&Observation>,
    tools: &Tools,
) -> String {
    let data = match data_of(describe) {
        Ok(d) => d,
        Err(OfflineError::ToolFailed { message, .. }) if message.to_lowercase().contains("not found") => {
            return not_found(target, &[], false);
        }
        Err(e) => return explain(&e),
    };
    let pod = PodFacts::read(data);
    let log_facts = logs.and_then(|o| data_of(o).ok()).map(LogFacts::read);
    let v = verdict(&pod, log_facts.as_ref());
    let path = format!("{}/{}", chosen.namespace, chosen.name);
    let mut out = format!("### Pod {}: {}\n\n", code(&path), headline(v, &pod));
    if chosen.via_workload {
        out.push_str(&format!("{} is not a pod name; this is ", code(&target.name)));
        let count = chosen.others.len() + 1;
        if count > 1 {
            out.push_str(&format!("the most troubled of its {count} pods (others: "));
            let others: Vec<String> =
                chosen.others.iter().take(5).map(|p| format!("{} {}", code(&p.path()), plain(&p.status))).collect();
            out.push_str(&others.join(", "));
            out.push_str(").\n\n");
        } else {
            out.push_str("its only pod.\n\n");
        }
    } else if !chosen.others.is_empty() {
        let others: Vec<String> = chosen.others.iter().map(|p| code(&p.path())).collect();
        out.push_str(&format!("Pods with the same name in other namespaces: {}.\n\n", others.join(", ")));
    }
    if let Some(owner) = pod.owners.last() {
        out.push_str(&format!("Controlled by {}.\n\n", plain(owner)));
    }
    let mut status = vec![plain(&pod.status), format!("ready {}", plain(&pod.ready))];
    status.push(format!("restarts {}", plain(&pod.restarts)));
    status.push(if pod.node.is_empty() {
        "not scheduled to a node".into()
    } else {
        format!("node {}", plain(&pod.node))
    });
    out.push_str(&format!("**Status:** {}\n\n", status.join(" · ")));
    out.push_str(&format!("**Why:** {}\n", why(v, &pod)));
    if let Some(lines) = cluster_says(v, &pod) {
        out.push('\n');
        out.push_str(&code_block(&lines));
    }
    let containers = containers(&pod);
    if !containers.is_empty() {
        out.push_str("\n**Containers:**\n\n");
        out.push_str(&code_block(&containers));
    }
    if !pod.findings.is_empty() {
        out.push_str("\n**Checks by `resource_describe`:**\n\n");
        out.push_str(&code_block(&pod.findings.iter().take(5).collect::<Vec<_>>()));
    }
    out.push_str(&events(&pod));
    out.push_str(&log_section(logs, log_facts.as_ref(), tools));
    out.push_str("\n**Suggested fix:**\n\n");
    for line in fixes(v, &pod) {
        out.push_str(&format!("- {line}\n"));
    }
    out
}

/// The heading's short reason.
fn headline(v: Verdict, pod: &PodFacts) -> String {
    match v {
        Verdict::OomKilled => "OOMKilled (out of memory)".into(),
        Verdict::ImagePull => format!("{} (image cannot be pulled)", plain(&pod.status)),
        Verdict::ConfigError => format!("{} (bad container configuration)", plain(&pod.status)),
        Verdict::CrashLoop => "CrashLoopBackOff (keeps crashing)".into(),
        Verdict::Unschedulable => "Pending (cannot be scheduled)".into(),
        Verdict::Starting => format!("{} (starting)", plain(&pod.status)),
        Verdict::NotReady => "Running but not ready".into(),
        Verdict::Failed => format!("{} (failed)", plain(&pod.status)),
        Verdict::Completed => "Completed".into(),
        Verdict::Healthy => "Running and ready".into(),
        Verdict::Unknown => plain(&pod.status),
    }
}

/// The explanation, in the assistant's words (names and images in code spans).
fn why(v: Verdict, pod: &PodFacts) -> String {
    match v {
        Verdict::OomKilled => {
            let c = pod.container_with("OOMKilled");
            let name = c.map(|c| code(&c.name)).unwrap_or_else(|| "a container".into());
            let limit = c.and_then(|c| memory_limit(&c.limits)).map(|l| format!(" of {}", code(l))).unwrap_or_default();
            format!(
                "container {name} was **OOMKilled**: it used more memory than its limit{limit}, so the kernel killed \
                 it (exit code 137) and the kubelet restarted it. It will keep being killed while its memory use \
                 exceeds the limit."
            )
        }
        Verdict::ImagePull => {
            let c = pod.container_with("ImagePull").or_else(|| pod.container_with("ErrImage"));
            let image = c.map(|c| code(&c.image)).unwrap_or_else(|| "its image".into());
            format!(
                "the image {image} **cannot be pulled**, so the container never starts: the kubelet keeps retrying \
                 with a back-off (ImagePullBackOff). The registry's answer is below."
            )
        }
        Verdict::ConfigError => {
            let c = pod.container_with("Create").or_else(|| pod.container_with("RunContainerError"));
            let name = c.map(|c| code(&c.name)).unwrap_or_else(|| "a container".into());
            format!(
                "container {name} **cannot be created from its configuration** ({}): it references something \
                 that does not exist, typically a ConfigMap, Secret or key. The kubelet's message is below.",
                plain(&pod.status)
            )
        }
        Verdict::CrashLoop => {
            let c = pod.container_with("CrashLoopBackOff");
            let name = c.map(|c| code(&c.name)).unwrap_or_else(|| "a container".into());
            let last = c.map(|c| c.last_state.as_str()).filter(|l| !l.is_empty());
            let restarts = match pod.restart_count() {
                0 => String::new(),
                1 => ", 1 restart so far".to_string(),
                n => format!(", {n} restarts so far"),
            };
            format!(
                "container {name} **keeps crashing** and Kubernetes restarts it with a growing back-off \
                 (**CrashLoopBackOff**{restarts}){}. The last log lines before the crash say why.",
                last.map(|l| format!("; its last run ended with {}", plain(l.trim_start_matches("terminated: "))))
                    .unwrap_or_default()
            )
        }
        Verdict::Unschedulable => "the pod is **Pending**: the scheduler cannot find a node for it. The \
                                   scheduler's message is below."
            .into(),
        Verdict::Starting => "the pod is scheduled and its containers are starting (pulling images, mounting \
                              volumes)."
            .into(),
        Verdict::NotReady => "the containers run, but **not all are ready**: the readiness probe fails, so \
                              Services send the pod no traffic."
            .into(),
        Verdict::Failed => "the pod **failed**: its containers exited with an error and were not restarted.".into(),
        Verdict::Completed => "the pod ran to completion; nothing is failing.".into(),
        Verdict::Healthy if pod.restart_count() > 0 => {
            format!("the pod is running and ready now, but it restarted {} times before.", pod.restart_count())
        }
        Verdict::Healthy => "the pod is running and ready; nothing looks wrong right now.".into(),
        Verdict::Unknown => {
            "none of the usual failure patterns matches; the states and events below are the best lead.".into()
        }
    }
}

/// Cluster text that supports the explanation (scheduler message, pull errors, probe failures).
fn cluster_says(v: Verdict, pod: &PodFacts) -> Option<Vec<String>> {
    let lines: Vec<String> = match v {
        Verdict::Unschedulable => pod.scheduler_message().into_iter().collect(),
        Verdict::ImagePull => {
            // The registry's answer ("Failed to pull image ...") says more than "Error: ErrImagePull".
            let mut l = pod.event_messages("Failed");
            let informative: Vec<String> =
                l.iter().filter(|m| m.to_lowercase().contains("failed to pull")).cloned().collect();
            if !informative.is_empty() {
                l = informative;
            }
            l.truncate(2);
            l
        }
        Verdict::ConfigError => pod
            .containers
            .iter()
            .filter(|c| c.state.contains("Create") || c.state.contains("RunContainerError"))
            .map(|c| format!("{}: {}", c.name, c.state))
            .collect(),
        Verdict::NotReady => {
            let mut l = pod.event_messages("Unhealthy");
            l.truncate(2);
            l
        }
        _ => Vec::new(),
    };
    (!lines.is_empty()).then_some(lines)
}

/// The containers as lines.
fn containers(pod: &PodFacts) -> Vec<String> {
    let mut lines = Vec::new();
    for c in &pod.containers {
        lines.push(format!("{}  image {}  ready {}  restarts {}", c.name, c.image, c.ready, c.restarts));
        if !c.state.is_empty() {
            lines.push(format!("  state:      {}", c.state));
        }
        if !c.last_state.is_empty() {
            lines.push(format!("  last state: {}", c.last_state));
        }
        if !c.requests.is_empty() {
            lines.push(format!("  requests:   {}", c.requests));
        }
        if !c.limits.is_empty() {
            lines.push(format!("  limits:     {}", c.limits));
        }
    }
    lines
}

/// The events section.
fn events(pod: &PodFacts) -> String {
    if pod.events.is_empty() {
        return "\n**Events:** none recorded.\n".into();
    }
    let lines: Vec<String> = pod
        .events
        .iter()
        .take(MAX_EVENTS)
        .map(|e| {
            let mut when = Vec::new();
            if e.count > 1 {
                when.push(format!("x{}", e.count));
            }
            if !e.last_seen.is_empty() {
                when.push(format!("{} ago", e.last_seen));
            }
            let when = if when.is_empty() { String::new() } else { format!(" ({})", when.join(", ")) };
            format!("{:<8} {}{when}: {}", e.type_, e.reason, e.message)
        })
        .collect();
    format!("\n**Events** (warnings first, newest first):\n\n{}", code_block(&lines))
}

/// The log section.
fn log_section(logs: Option<&Observation>, facts: Option<&LogFacts>, tools: &Tools) -> String {
    let Some(o) = logs else {
        return if tools.has("pod_logs") {
            String::new()
        } else {
            "\n**Logs:** not read: `pod_logs` is not enabled in this session.\n".into()
        };
    };
    let Some(l) = facts else {
        return match data_of(o) {
            Err(OfflineError::ToolFailed { message, .. }) => {
                format!("\n**Logs:** `pod_logs` failed:\n\n{}", code_block(&[message]))
            }
            _ => "\n**Logs:** no result.\n".into(),
        };
    };
    let tail = |lines: &[String]| -> Vec<String> { lines[lines.len().saturating_sub(MAX_LOG_LINES)..].to_vec() };
    let mut out = String::new();
    if let Some((reason, exit, lines)) = &l.previous {
        out.push_str(&format!(
            "\n**Last log lines of the previous instance** of container {} (it ended with {}, exit code {exit}):\n\n",
            code(&l.container),
            plain(reason)
        ));
        out.push_str(&code_block(&tail(lines)));
    }
    // A waiting container's "current" log is its last run's: show it once.
    let same_as_previous = l.previous.as_ref().is_some_and(|(_, _, lines)| *lines == l.lines);
    if !l.lines.is_empty() && !same_as_previous {
        out.push_str(&format!(
            "\n**Last log lines{}** of container {}:\n\n",
            if l.previous.is_some() { " of the current instance" } else { "" },
            code(&l.container)
        ));
        out.push_str(&code_block(&tail(&l.lines)));
    } else if l.previous.is_none() {
        out.push_str(&format!("\n**Logs:** container {} has no log lines", code(&l.container)));
        match &l.note {
            Some(note) => out.push_str(&format!(":\n\n{}", code_block(&[note]))),
            None => out.push_str(".\n"),
        }
    }
    out
}

/// What to do about it.
fn fixes(v: Verdict, pod: &PodFacts) -> Vec<String> {
    let workload = pod.workload();
    let (object, ask) = match &workload {
        Some((kind, ns, name)) => {
            (format!("{kind} {}", code(&format!("{ns}/{name}"))), Some((name.clone(), ns.clone())))
        }
        None => ("the pod's workload".to_string(), None),
    };
    let restart =
        ask.as_ref().map(|(n, ns)| format!(" (ask me: {})", code(&format!("restart {n} in {ns}")))).unwrap_or_default();
    let undo = ask
        .as_ref()
        .map(|(n, ns)| format!(" (ask me: {})", code(&format!("roll back {n} in {ns}"))))
        .unwrap_or_default();
    match v {
        Verdict::OomKilled => {
            let limit = pod
                .container_with("OOMKilled")
                .and_then(|c| memory_limit(&c.limits))
                .map(|l| format!(" (now {})", code(l)))
                .unwrap_or_default();
            vec![
                format!(
                    "Raise the container's memory limit{limit} above its real peak use, e.g. with `resource_patch` on \
                     {object} (`spec.template.spec.containers[].resources.limits.memory`), or make the app use less \
                     memory (cache or heap size)."
                ),
                "Then watch the restarts stop: ask `list pods` in its namespace.".into(),
            ]
        }
        Verdict::ImagePull => vec![
            "Check that the image exists: registry, repository and tag spelled right, and the tag pushed.".into(),
            "For a private registry, check the pod's `imagePullSecrets` and that the node can reach the registry."
                .into(),
            format!(
                "Fix the image with `workload_set_image` on {object}, or go back to the last working version{undo}."
            ),
        ],
        Verdict::ConfigError => vec![
            "Create the missing ConfigMap, Secret or key the container references (see the checks above), or fix \
             the reference in the workload."
                .into(),
            format!("The kubelet retries on its own once it exists; restart {object} to be sure{restart}."),
        ],
        Verdict::CrashLoop => vec![
            "Read the last log lines above: the process says why it exits (configuration, a dependency it cannot \
             reach, a bad release)."
                .into(),
            format!("Fix that cause, then restart {object}{restart}."),
            format!("If it began with a new version, roll back{undo}."),
        ],
        Verdict::Unschedulable => vec![
            "Lower the pod's resource requests to what a node can offer, or add capacity (nodes).".into(),
            "Check node selectors, affinity, taints and tolerations against the scheduler's message.".into(),
        ],
        Verdict::Starting => {
            vec!["Wait a little and ask again; if it stays here, the events say what it waits for.".into()]
        }
        Verdict::NotReady => vec![
            "Check the readiness probe's path and port against what the app serves, and the app's health endpoint."
                .into(),
            "The probe failures are in the events above; the logs may say why the app reports unhealthy.".into(),
        ],
        Verdict::Failed => vec![
            "The log lines above show why the container exited; fix the cause.".into(),
            "For a Job, create it again (or let its CronJob run again) once fixed.".into(),
        ],
        Verdict::Completed | Verdict::Healthy => vec!["Nothing to fix right now.".into()],
        Verdict::Unknown => vec![
            "Look at the container states and events above; ask `what is broken` in the pod's namespace for more."
                .into(),
        ],
    }
}
