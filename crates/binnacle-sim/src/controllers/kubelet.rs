//! The kubelet of every simulated node. A pod's status is a function of its spec, its behaviour (see
//! [`crate::behavior`]) and the time since it was scheduled: pulls, starts, readiness, crashes with
//! back-off, OOM kills, completions and pull failures unfold on the simulated clock, with the events a
//! real kubelet emits. Deleted pods are stopped and removed.

use super::util::{deleting, s};
use super::{Controller, Ctx};
use crate::behavior::{Behavior, CRASH_AFTER_SECS, PULL_SECS, READY_AFTER_SECS, backoff_secs, container_behavior};
use binnacle_objects::time::{format_timestamp, parse_timestamp};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Seconds a container shows `terminated` before it shows `CrashLoopBackOff`.
const TERMINATED_SHOWN_SECS: i64 = 1;
/// Seconds an image pull error shows as `ErrImagePull` before `ImagePullBackOff`.
const PULL_ERROR_SHOWN_SECS: i64 = 2;
/// How often a failing readiness probe is reported.
const UNHEALTHY_EVERY_SECS: i64 = 10;
/// How long a deleted pod takes to stop.
const STOP_SECS: i64 = 1;

/// Per-container counters of what has already been reported, so each transition emits its events once.
#[derive(Debug, Default, Clone)]
struct Seen {
    starts: i64,
    backoffs: i64,
    pull_attempts: i64,
    config_error: bool,
    unhealthy_at: Option<Timestamp>,
    probe_failures: i64,
    kills: i64,
}

/// See the module docs.
#[derive(Default)]
pub struct Kubelet {
    seen: HashMap<String, Seen>,
    /// When a pod's containers could first start (set when a config error clears).
    anchors: HashMap<String, Timestamp>,
    /// When a deleted pod was first seen terminating.
    stopping: HashMap<String, Timestamp>,
    /// When a pod's volume mount last failed and was reported (a FailedMount event every two minutes).
    mount_failures: HashMap<String, Timestamp>,
}

/// Seconds between FailedMount events for a pod whose volume cannot be mounted (the kubelet's retry report).
const MOUNT_REPORT_SECS: i64 = 120;
/// Seconds between the kubelet's retries of a failed volume mount.
const MOUNT_RETRY_SECS: f64 = 5.0;

/// The first Secret or ConfigMap volume of `pod` (directly or projected) that does not exist and is not
/// optional: `(volume name, the kubelet's message)`. The kubelet cannot mount it and keeps the pod's
/// containers in ContainerCreating.
fn missing_volume(ctx: &Ctx<'_>, namespace: &str, pod: &Value) -> Option<(String, String)> {
    let optional = |v: &Value| v.get("optional").and_then(Value::as_bool) == Some(true);
    for vol in pod.pointer("/spec/volumes").and_then(Value::as_array).into_iter().flatten() {
        let mut refs: Vec<(&str, &str, &str)> = Vec::new();
        if let Some(sec) = vol.get("secret").filter(|v| !optional(v)) {
            refs.push(("secrets", "secret", s(sec, "/secretName")));
        }
        if let Some(cm) = vol.get("configMap").filter(|v| !optional(v)) {
            refs.push(("configmaps", "configmap", s(cm, "/name")));
        }
        for src in vol.pointer("/projected/sources").and_then(Value::as_array).into_iter().flatten() {
            if let Some(sec) = src.get("secret").filter(|v| !optional(v)) {
                refs.push(("secrets", "secret", s(sec, "/name")));
            }
            if let Some(cm) = src.get("configMap").filter(|v| !optional(v)) {
                refs.push(("configmaps", "configmap", s(cm, "/name")));
            }
        }
        for (plural, noun, name) in refs {
            if !name.is_empty() && ctx.get("", plural, namespace, name).is_none() {
                let volume = s(vol, "/name");
                return Some((
                    volume.to_string(),
                    format!("MountVolume.SetUp failed for volume \"{volume}\" : {noun} \"{name}\" not found"),
                ));
            }
        }
    }
    None
}

fn secs(t: Timestamp, d: i64) -> Timestamp {
    t + SignedDuration::from_secs(d)
}

fn hash_hex(parts: &[&str], len: usize) -> String {
    let mut out = String::new();
    let mut seed: u64 = 0xcbf29ce484222325;
    while out.len() < len {
        for p in parts {
            for b in p.bytes() {
                seed = (seed ^ b as u64).wrapping_mul(0x100000001b3);
            }
        }
        out.push_str(&format!("{seed:016x}"));
    }
    out.truncate(len);
    out
}

fn full_image(image: &str) -> String {
    let first = image.split('/').next().unwrap_or_default();
    if !image.contains('/') {
        format!("docker.io/library/{image}")
    } else if first.contains('.') || first.contains(':') || first == "localhost" {
        image.to_string()
    } else {
        format!("docker.io/{image}")
    }
}

fn image_id(image: &str) -> String {
    let base = full_image(image);
    let repo = base.split([':', '@']).next().unwrap_or(&base).to_string();
    let repo = if base.matches(':').count() > 1 || base.split('/').next_back().is_some_and(|l| l.contains(':')) {
        base.rsplit_once(':').map(|(r, _)| r.to_string()).unwrap_or(repo)
    } else {
        repo
    };
    format!("{repo}@sha256:{}", hash_hex(&[image], 64))
}

fn has_readiness_probe(c: &Value) -> bool {
    c.get("readinessProbe").is_some_and(|p| !p.is_null())
}

/// The first missing ConfigMap or Secret a container's environment needs, as the kubelet words it.
fn missing_config(ctx: &Ctx<'_>, namespace: &str, c: &Value) -> Option<String> {
    let exists = |plural: &str, name: &str| ctx.get("", plural, namespace, name);
    for env in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        for (field, plural, noun) in
            [("configMapKeyRef", "configmaps", "configmap"), ("secretKeyRef", "secrets", "secret")]
        {
            let Some(r) = env.pointer(&format!("/valueFrom/{field}")) else { continue };
            if r.get("optional").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = s(r, "/name");
            let key = s(r, "/key");
            match exists(plural, name) {
                None => return Some(format!("{noun} \"{name}\" not found")),
                Some(obj) => {
                    let has_key = obj.pointer(&format!("/data/{key}")).is_some()
                        || obj.pointer(&format!("/binaryData/{key}")).is_some()
                        || obj.pointer(&format!("/stringData/{key}")).is_some();
                    if !has_key {
                        return Some(format!(
                            "couldn't find key {key} in {}{} {namespace}/{name}",
                            noun[..1].to_uppercase(),
                            &noun[1..]
                        ));
                    }
                }
            }
        }
    }
    for from in c.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
        for (field, plural, noun) in [("configMapRef", "configmaps", "configmap"), ("secretRef", "secrets", "secret")] {
            let Some(r) = from.get(field) else { continue };
            if r.get("optional").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = s(r, "/name");
            if exists(plural, name).is_none() {
                return Some(format!("{noun} \"{name}\" not found"));
            }
        }
    }
    None
}

/// When a failing liveness probe fails and kills an instance, from the probe's settings (Kubernetes'
/// defaults: every 10 s, 3 failures): `(first failure, period, failures until the kill)` in seconds after start.
fn liveness_timing(spec: &Value) -> (i64, i64, i64) {
    let probe = spec.get("livenessProbe");
    let field = |name: &str, default: i64| {
        probe.and_then(|p| p.get(name)).and_then(Value::as_i64).filter(|v| *v >= 0).unwrap_or(default)
    };
    let period = field("periodSeconds", 10).max(1);
    (field("initialDelaySeconds", 0) + period, period, field("failureThreshold", 3).max(1))
}

/// The kubelet's words for a failed liveness probe of container `c`, by probe type.
fn liveness_message(pod: &Value, c: &Value) -> String {
    let probe = c.get("livenessProbe").unwrap_or(&Value::Null);
    let port = |p: &Value| match p.get("port") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(name)) => c
            .get("ports")
            .and_then(Value::as_array)
            .and_then(|ps| ps.iter().find(|x| x.get("name").and_then(Value::as_str) == Some(name)))
            .and_then(|x| x.get("containerPort"))
            .map(Value::to_string)
            .unwrap_or_else(|| name.clone()),
        _ => "80".into(),
    };
    if let Some(tcp) = probe.get("tcpSocket") {
        format!(
            "Liveness probe failed: dial tcp {}:{}: connect: connection refused",
            s(pod, "/status/podIP"),
            port(tcp)
        )
    } else if probe.get("exec").is_some() {
        "Liveness probe failed: command timed out: \"healthcheck\" timed out after 1s".to_string()
    } else if probe.get("grpc").is_some() {
        "Liveness probe failed: service unhealthy (responded with \"NOT_SERVING\")".to_string()
    } else {
        "Liveness probe failed: HTTP probe failed with statuscode: 500".to_string()
    }
}

/// Seconds between the kill of a container that failed its liveness probe and its exit.
const KILL_SECS: i64 = 1;

/// What one container looks like at `now`.
#[derive(Default)]
struct Plan {
    status: Value,
    running: bool,
    ready: bool,
    /// Terminated for good (no restart): Some(exit code).
    finished: Option<i64>,
    /// Instances started so far (for events).
    starts: i64,
    /// Back-offs entered so far.
    backoffs: i64,
    /// Pull attempts failed so far.
    pull_attempts: i64,
    /// Liveness probe failures so far (all instances).
    probe_failures: i64,
    /// Instances killed for failing their liveness probe so far.
    kills: i64,
    next: Option<Timestamp>,
}

struct ContainerInput<'a> {
    pod_uid: &'a str,
    spec: &'a Value,
    behavior: Behavior,
    restart_policy: &'a str,
    anchor: Timestamp,
    now: Timestamp,
    config_error: Option<&'a str>,
}

fn terminated(input: &ContainerInput<'_>, k: i64, started: Timestamp, finished: Timestamp, code: i64) -> Value {
    let reason = match (input.behavior, code) {
        (Behavior::OomKilled, _) => "OOMKilled",
        (_, 0) => "Completed",
        _ => "Error",
    };
    let name = s(input.spec, "/name");
    json!({"terminated": {
        "exitCode": code, "reason": reason,
        "startedAt": format_timestamp(started), "finishedAt": format_timestamp(finished),
        "containerID": format!("containerd://{}", hash_hex(&[input.pod_uid, name, &k.to_string()], 64))
    }})
}

fn plan_container(input: &ContainerInput<'_>) -> Plan {
    let name = s(input.spec, "/name").to_string();
    let image = s(input.spec, "/image").to_string();
    let base = |state: Value, last: Value, restarts: i64, ready: bool, started: bool, k: i64| {
        let mut st = json!({
            "name": name, "image": image, "imageID": "", "ready": ready, "restartCount": restarts,
            "started": started, "state": state, "lastState": last,
        });
        if started || k > 0 || st.pointer("/state/terminated").is_some() {
            st["imageID"] = json!(image_id(&image));
            st["containerID"] =
                json!(format!("containerd://{}", hash_hex(&[input.pod_uid, &name, &k.to_string()], 64)));
        }
        st
    };
    let waiting = |reason: &str, message: Option<String>| {
        let mut w = json!({"reason": reason});
        if let Some(m) = message {
            w["message"] = json!(m);
        }
        json!({"waiting": w})
    };
    let now = input.now;
    let mut plan = Plan::default();
    if let Some(err) = input.config_error {
        plan.status = base(waiting("CreateContainerConfigError", Some(err.to_string())), json!({}), 0, false, false, 0);
        return plan;
    }
    if now < input.anchor && input.behavior != Behavior::PullFailure {
        plan.status = base(waiting("ContainerCreating", None), json!({}), 0, false, false, 0);
        plan.next = Some(input.anchor);
        return plan;
    }
    match input.behavior {
        Behavior::PullFailure => {
            let pull_start = secs(input.anchor, -PULL_SECS);
            let mut attempt_start = pull_start;
            let mut j = 0;
            loop {
                let fail = secs(attempt_start, PULL_SECS);
                if now < fail {
                    plan.status = base(waiting("ContainerCreating", None), json!({}), 0, false, false, 0);
                    plan.next = Some(fail);
                    break;
                }
                let retry = secs(fail, backoff_secs(j));
                if now < retry {
                    plan.pull_attempts = j + 1;
                    if now < secs(fail, PULL_ERROR_SHOWN_SECS) {
                        let msg = format!(
                            "rpc error: code = NotFound desc = failed to pull and unpack image \"{}\": not found",
                            full_image(&image)
                        );
                        plan.status = base(waiting("ErrImagePull", Some(msg)), json!({}), 0, false, false, 0);
                        plan.next = Some(secs(fail, PULL_ERROR_SHOWN_SECS));
                    } else {
                        plan.status = base(
                            waiting("ImagePullBackOff", Some(format!("Back-off pulling image \"{image}\""))),
                            json!({}),
                            0,
                            false,
                            false,
                            0,
                        );
                        plan.backoffs = j + 1;
                        plan.next = Some(retry);
                    }
                    break;
                }
                attempt_start = retry;
                j += 1;
            }
        }
        Behavior::Healthy | Behavior::NeverReady => {
            let ready_at = secs(input.anchor, if has_readiness_probe(input.spec) { READY_AFTER_SECS } else { 0 });
            let ready = input.behavior == Behavior::Healthy && now >= ready_at;
            if input.behavior == Behavior::Healthy && !ready {
                plan.next = Some(ready_at);
            }
            let state = json!({"running": {"startedAt": format_timestamp(input.anchor)}});
            plan.status = base(state, json!({}), 0, ready, true, 0);
            plan.running = true;
            plan.ready = ready;
            plan.starts = 1;
        }
        Behavior::Crash | Behavior::OomKilled | Behavior::Complete(_) | Behavior::Fail(_) | Behavior::LivenessFail => {
            let (first_failure, period, threshold) = liveness_timing(input.spec);
            let liveness = input.behavior == Behavior::LivenessFail;
            let (run, code) = match input.behavior {
                Behavior::Complete(d) => (d, 0),
                Behavior::Fail(d) => (d, 1),
                Behavior::OomKilled => (CRASH_AFTER_SECS, 137),
                // Killed at the last tolerated failure; SIGKILL after the grace period gives 137.
                Behavior::LivenessFail => (first_failure + (threshold - 1) * period + KILL_SECS, 137),
                _ => (CRASH_AFTER_SECS, 1),
            };
            let restarts_after_exit = match input.restart_policy {
                "Never" => false,
                "OnFailure" => code != 0,
                _ => true,
            };
            let mut start = input.anchor;
            let mut k: i64 = 0;
            let mut last = json!({});
            loop {
                let finish = secs(start, run);
                if now < finish {
                    let state = json!({"running": {"startedAt": format_timestamp(start)}});
                    let ready_at = secs(start, if has_readiness_probe(input.spec) { READY_AFTER_SECS } else { 0 });
                    let ready = now >= ready_at && (code == 0 || run > READY_AFTER_SECS + 1);
                    plan.status = base(state, last, k, ready, true, k);
                    plan.running = true;
                    plan.ready = ready;
                    plan.starts = k + 1;
                    plan.backoffs = k;
                    plan.next = Some(if ready || now >= ready_at { finish } else { ready_at.min(finish) });
                    if liveness {
                        let elapsed = now.duration_since(start).as_secs();
                        let failed = if elapsed < first_failure {
                            0
                        } else {
                            ((elapsed - first_failure) / period + 1).min(threshold)
                        };
                        plan.probe_failures = k * threshold + failed;
                        // The kill comes with the last tolerated failure; the container exits a moment later.
                        plan.kills = k + i64::from(failed >= threshold);
                        if failed < threshold {
                            let due = secs(start, first_failure + failed * period);
                            plan.next = plan.next.map(|n| n.min(due));
                        }
                    }
                    break;
                }
                if liveness {
                    plan.probe_failures = (k + 1) * threshold;
                    plan.kills = k + 1;
                }
                let term = terminated(input, k, start, finish, code);
                if !restarts_after_exit {
                    plan.status = base(term, last, k, false, false, k);
                    plan.finished = Some(code);
                    plan.starts = k + 1;
                    plan.backoffs = k;
                    break;
                }
                let restart_at = secs(finish, backoff_secs(k));
                if now < restart_at {
                    plan.starts = k + 1;
                    plan.backoffs = k + 1;
                    if now < secs(finish, TERMINATED_SHOWN_SECS) {
                        plan.status = base(term, last, k, false, false, k);
                        plan.next = Some(secs(finish, TERMINATED_SHOWN_SECS));
                    } else {
                        let pod_ref = s(input.spec, "/name");
                        let msg = format!("back-off {}s restarting failed container={pod_ref}", backoff_secs(k));
                        plan.status = base(waiting("CrashLoopBackOff", Some(msg)), term, k, false, false, k);
                        plan.next = Some(restart_at);
                    }
                    break;
                }
                last = term;
                start = restart_at;
                k += 1;
            }
        }
    }
    plan
}

fn pod_ip(node: Option<&Value>, uid: &str) -> String {
    let cidr = node.map(|n| s(n, "/spec/podCIDR")).unwrap_or("10.244.0.0/24");
    let prefix: Vec<&str> = cidr.split('/').next().unwrap_or("10.244.0.0").split('.').collect();
    let host = u64::from_str_radix(&hash_hex(&[uid], 8), 16).unwrap_or(7) % 250 + 2;
    format!(
        "{}.{}.{}.{host}",
        prefix.first().unwrap_or(&"10"),
        prefix.get(1).unwrap_or(&"244"),
        prefix.get(2).unwrap_or(&"0")
    )
}

fn scheduled_at(pod: &Value, now: Timestamp) -> Timestamp {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled" && c["status"] == "True"))
        .and_then(|c| parse_timestamp(c.get("lastTransitionTime")))
        .or_else(|| parse_timestamp(pod.pointer("/status/startTime")))
        .unwrap_or(now)
}

impl Controller for Kubelet {
    fn name(&self) -> &'static str {
        "kubelet"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let pods = ctx.list("", "pods", None);
        let nodes: HashMap<String, std::sync::Arc<Value>> =
            ctx.list("", "nodes", None).into_iter().map(|n| (s(&n, "/metadata/name").to_string(), n)).collect();
        let live: std::collections::HashSet<&str> = pods.iter().map(|p| s(p, "/metadata/uid")).collect();
        self.seen.retain(|k, _| k.split('|').next().is_some_and(|u| live.contains(u)));
        self.anchors.retain(|k, _| live.contains(k.as_str()));
        self.stopping.retain(|k, _| live.contains(k.as_str()));
        self.mount_failures.retain(|k, _| live.contains(k.as_str()));
        for pod in &pods {
            let node_name = s(pod, "/spec/nodeName");
            if node_name.is_empty() {
                continue;
            }
            if deleting(pod) {
                self.stop(ctx, pod, node_name);
                continue;
            }
            let phase = s(pod, "/status/phase");
            if phase == "Succeeded" || phase == "Failed" {
                continue;
            }
            self.sync(ctx, pod, nodes.get(node_name).map(|n| n.as_ref()));
        }
    }
}

impl Kubelet {
    fn stop(&mut self, ctx: &Ctx<'_>, pod: &Value, node: &str) {
        let uid = s(pod, "/metadata/uid").to_string();
        let first = !self.stopping.contains_key(&uid);
        let noticed = *self.stopping.entry(uid.clone()).or_insert(ctx.now);
        if first {
            for c in pod.pointer("/status/containerStatuses").and_then(Value::as_array).into_iter().flatten() {
                if c.pointer("/state/running").is_some() {
                    let name = s(c, "/name");
                    ctx.container_event(pod, name, false, "Killing", &format!("Stopping container {name}"), node);
                }
            }
        }
        let deadline = parse_timestamp(pod.pointer("/metadata/deletionTimestamp"))
            .unwrap_or(ctx.now)
            .min(secs(noticed, STOP_SECS));
        if ctx.now < deadline {
            ctx.wake_at(deadline);
            return;
        }
        let has_finalizers =
            pod.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
        if has_finalizers {
            // Stopped; the object goes when its finalizers are removed.
            let now = format_timestamp(ctx.now);
            ctx.modify("", "pods", pod, |p| {
                if let Some(list) = p.pointer_mut("/status/containerStatuses").and_then(Value::as_array_mut) {
                    for c in list.iter_mut() {
                        if c.pointer("/state/running").is_some() {
                            c["state"] =
                                json!({"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": now}});
                            c["ready"] = json!(false);
                        }
                    }
                }
            });
            return;
        }
        if let Some(rt) = ctx.rt("", "pods") {
            ctx.cluster.remove_now(&rt, &crate::store::ObjectKey::of(pod));
        }
    }

    fn sync(&mut self, ctx: &Ctx<'_>, pod: &Value, node: Option<&Value>) {
        let uid = s(pod, "/metadata/uid").to_string();
        let namespace = s(pod, "/metadata/namespace").to_string();
        let node_name = s(pod, "/spec/nodeName").to_string();
        let scheduled = scheduled_at(pod, ctx.now);
        let restart_policy = match s(pod, "/spec/restartPolicy") {
            "" => "Always",
            p => p,
        };
        let init: Vec<&Value> = pod
            .pointer("/spec/initContainers")
            .and_then(Value::as_array)
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        let containers: Vec<&Value> =
            pod.pointer("/spec/containers").and_then(Value::as_array).map(|c| c.iter().collect()).unwrap_or_default();
        let config_errors: Vec<Option<String>> =
            containers.iter().map(|c| missing_config(ctx, &namespace, c)).collect();
        let any_config_error = config_errors.iter().any(Option::is_some);
        let base_anchor = secs(scheduled, PULL_SECS);
        if any_config_error {
            self.anchors.remove(&uid);
        } else if pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|c| s(c, "/state/waiting/reason") == "CreateContainerConfigError"))
        {
            self.anchors.insert(uid.clone(), secs(ctx.now, PULL_SECS));
        }
        // Volumes are mounted before any container starts: a missing Secret or ConfigMap keeps them all waiting.
        let mount_error = missing_volume(ctx, &namespace, pod);
        if let Some((_, message)) = &mount_error {
            self.anchors.insert(uid.clone(), secs(ctx.now, PULL_SECS));
            let due = self
                .mount_failures
                .get(&uid)
                .is_none_or(|last| ctx.now.duration_since(*last).as_secs() >= MOUNT_REPORT_SECS);
            if due {
                self.mount_failures.insert(uid.clone(), ctx.now);
                ctx.events.record(ctx, pod, None, true, "FailedMount", message, "kubelet", Some(&node_name));
            }
            ctx.wake_in(MOUNT_RETRY_SECS);
        } else {
            self.mount_failures.remove(&uid);
        }
        let mounting = mount_error.is_some();
        let anchor = self.anchors.get(&uid).copied().unwrap_or(base_anchor);
        // Init containers run one after another, one second each.
        let mut init_statuses = Vec::new();
        let mut init_done = true;
        for (i, c) in init.iter().enumerate() {
            let start = secs(anchor, i as i64);
            let input = ContainerInput {
                pod_uid: &uid,
                spec: c,
                behavior: Behavior::Complete(1),
                restart_policy: "Never",
                anchor: start,
                now: ctx.now,
                config_error: None,
            };
            let plan = plan_container(&input);
            if plan.finished.is_none() {
                init_done = false;
                if let Some(n) = plan.next {
                    ctx.wake_at(n);
                }
            }
            init_statuses.push(plan.status);
        }
        let app_anchor = secs(anchor, init.len() as i64);
        let mut statuses = Vec::new();
        let (mut all_ready, mut any_running, mut all_finished, mut any_failed) = (true, false, true, false);
        for (i, c) in containers.iter().enumerate() {
            let behavior = container_behavior(pod, c);
            let name = s(c, "/name").to_string();
            let plan = if mounting {
                let st = json!({"name": name, "image": s(c, "/image"), "imageID": "", "ready": false, "restartCount": 0, "started": false, "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}});
                Plan { status: st, ..Plan::default() }
            } else if init_done {
                let input = ContainerInput {
                    pod_uid: &uid,
                    spec: c,
                    behavior,
                    restart_policy,
                    anchor: app_anchor,
                    now: ctx.now,
                    config_error: config_errors[i].as_deref(),
                };
                plan_container(&input)
            } else {
                let st = json!({"name": name, "image": s(c, "/image"), "imageID": "", "ready": false, "restartCount": 0, "started": false, "state": {"waiting": {"reason": "PodInitializing"}}, "lastState": {}});
                Plan { status: st, ..Plan::default() }
            };
            if let Some(n) = plan.next {
                ctx.wake_at(n);
            }
            if !mounting {
                self.emit(ctx, pod, c, &node_name, &plan, behavior, config_errors[i].as_deref());
            }
            all_ready &= plan.ready;
            any_running |= plan.running;
            match plan.finished {
                Some(code) => any_failed |= code != 0,
                None => all_finished = false,
            }
            statuses.push(plan.status);
        }
        let phase = if !init_done {
            "Pending"
        } else if all_finished && !containers.is_empty() {
            if any_failed { "Failed" } else { "Succeeded" }
        } else if any_running
            || statuses.iter().any(|s| {
                s.get("restartCount").and_then(Value::as_i64).unwrap_or(0) > 0
                    || s.pointer("/state/terminated").is_some()
                    || s.pointer("/lastState/terminated").is_some()
            })
        {
            "Running"
        } else {
            "Pending"
        };
        let now = format_timestamp(ctx.now);
        let host_ip = node
            .and_then(|n| n.pointer("/status/addresses").and_then(Value::as_array))
            .and_then(|a| a.iter().find(|x| x["type"] == "InternalIP"))
            .map(|x| s(x, "/address").to_string())
            .unwrap_or_else(|| "192.168.49.2".into());
        let ip = pod_ip(node, &uid);
        let terminal = phase == "Succeeded" || phase == "Failed";
        let ready = all_ready && !terminal && init_done && !containers.is_empty();
        let new_status = {
            let mut st = pod.get("status").cloned().unwrap_or(json!({}));
            if !st.is_object() {
                st = json!({});
            }
            let map: &mut Map<String, Value> = match st.as_object_mut() {
                Some(m) => m,
                None => return,
            };
            map.insert("phase".into(), json!(phase));
            map.insert("hostIP".into(), json!(host_ip));
            map.insert("hostIPs".into(), json!([{"ip": host_ip}]));
            map.insert("podIP".into(), json!(ip));
            map.insert("podIPs".into(), json!([{"ip": ip}]));
            map.entry("startTime").or_insert(json!(format_timestamp(scheduled)));
            map.insert("qosClass".into(), json!(crate::defaults::qos_class(pod)));
            map.insert("containerStatuses".into(), json!(statuses));
            if !init.is_empty() {
                map.insert("initContainerStatuses".into(), json!(init_statuses));
            }
            let mut holder = json!({"status": st});
            let completed_reason = if terminal { "PodCompleted" } else { "" };
            let tf = |b: bool| if b { "True" } else { "False" };
            // The sandbox is created once the volumes are mounted.
            let sandbox = tf(!mounting);
            super::util::set_condition(&mut holder, "PodReadyToStartContainers", sandbox, "", "", &now, false);
            super::util::set_condition(
                &mut holder,
                "Initialized",
                tf(init_done),
                if init_done { completed_reason } else { "ContainersNotInitialized" },
                "",
                &now,
                false,
            );
            let not_ready_msg = if ready {
                String::new()
            } else {
                let names: Vec<&str> = containers
                    .iter()
                    .zip(
                        holder["status"]["containerStatuses"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .iter()
                            .map(|c| c["ready"] == true)
                            .collect::<Vec<_>>(),
                    )
                    .filter(|(_, r)| !r)
                    .map(|(c, _)| s(c, "/name"))
                    .collect();
                format!("containers with unready status: [{}]", names.join(" "))
            };
            let reason = if ready {
                ""
            } else if terminal {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            };
            super::util::set_condition(
                &mut holder,
                "Ready",
                tf(ready),
                reason,
                if terminal || ready { "" } else { &not_ready_msg },
                &now,
                false,
            );
            super::util::set_condition(
                &mut holder,
                "ContainersReady",
                tf(ready),
                reason,
                if terminal || ready { "" } else { &not_ready_msg },
                &now,
                false,
            );
            if let Some(conds) = holder.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
                for c in conds.iter_mut() {
                    for key in ["reason", "message"] {
                        if c.get(key).and_then(Value::as_str) == Some("")
                            && let Some(m) = c.as_object_mut()
                        {
                            m.remove(key);
                        }
                    }
                    if let Some(m) = c.as_object_mut() {
                        m.entry("lastProbeTime").or_insert(Value::Null);
                    }
                }
                let order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
                conds.sort_by_key(|c| order.iter().position(|o| c["type"] == *o).unwrap_or(order.len()));
            }
            holder["status"].take()
        };
        if pod.get("status") != Some(&new_status) {
            ctx.modify("", "pods", pod, |p| p["status"] = new_status.clone());
        }
        if behavior_needs_periodic_wake(pod, &containers) && !terminal {
            ctx.wake_in(UNHEALTHY_EVERY_SECS as f64);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        ctx: &Ctx<'_>,
        pod: &Value,
        c: &Value,
        node: &str,
        plan: &Plan,
        behavior: Behavior,
        config_error: Option<&str>,
    ) {
        let name = s(c, "/name");
        let image = s(c, "/image");
        let key = format!("{}|{name}", s(pod, "/metadata/uid"));
        let mut seen = self.seen.get(&key).cloned().unwrap_or_default();
        if let Some(err) = config_error {
            if !seen.config_error {
                ctx.container_event(
                    pod,
                    name,
                    false,
                    "Pulled",
                    &format!("Container image \"{image}\" already present on machine"),
                    node,
                );
                ctx.container_event(pod, name, true, "Failed", &format!("Error: {err}"), node);
                seen.config_error = true;
            }
        } else {
            seen.config_error = false;
        }
        while seen.pull_attempts < plan.pull_attempts {
            ctx.container_event(pod, name, false, "Pulling", &format!("Pulling image \"{image}\""), node);
            ctx.container_event(pod, name, true, "Failed", &format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{}\": failed to resolve reference \"{}\": {}: not found", full_image(image), full_image(image), full_image(image)), node);
            ctx.container_event(pod, name, true, "Failed", "Error: ErrImagePull", node);
            seen.pull_attempts += 1;
        }
        while seen.starts < plan.starts {
            if seen.starts == 0 {
                ctx.container_event(pod, name, false, "Pulling", &format!("Pulling image \"{image}\""), node);
                let size = 20_000_000 + u64::from_str_radix(&hash_hex(&[image], 6), 16).unwrap_or(0) % 80_000_000;
                ctx.container_event(pod, name, false, "Pulled", &format!("Successfully pulled image \"{image}\" in 1.204s (1.204s including waiting). Image size: {size} bytes."), node);
            } else {
                ctx.container_event(
                    pod,
                    name,
                    false,
                    "Pulled",
                    &format!("Container image \"{image}\" already present on machine"),
                    node,
                );
            }
            ctx.container_event(pod, name, false, "Created", &format!("Created container: {name}"), node);
            ctx.container_event(pod, name, false, "Started", &format!("Started container {name}"), node);
            seen.starts += 1;
        }
        while seen.backoffs < plan.backoffs {
            if behavior == Behavior::PullFailure {
                ctx.container_event(pod, name, false, "BackOff", &format!("Back-off pulling image \"{image}\""), node);
                ctx.container_event(pod, name, true, "Failed", "Error: ImagePullBackOff", node);
            } else {
                let pod_ref = format!(
                    "{}_{}({})",
                    s(pod, "/metadata/name"),
                    s(pod, "/metadata/namespace"),
                    s(pod, "/metadata/uid")
                );
                ctx.container_event(
                    pod,
                    name,
                    true,
                    "BackOff",
                    &format!("Back-off restarting failed container {name} in pod {pod_ref}"),
                    node,
                );
            }
            seen.backoffs += 1;
        }
        while seen.probe_failures < plan.probe_failures {
            ctx.container_event(pod, name, true, "Unhealthy", &liveness_message(pod, c), node);
            seen.probe_failures += 1;
        }
        while seen.kills < plan.kills {
            ctx.container_event(
                pod,
                name,
                false,
                "Killing",
                &format!("Container {name} failed liveness probe, will be restarted"),
                node,
            );
            seen.kills += 1;
        }
        if behavior == Behavior::NeverReady && plan.running {
            let due = seen.unhealthy_at.is_none_or(|t| ctx.now.duration_since(t).as_secs() >= UNHEALTHY_EVERY_SECS);
            if due {
                let msg = if has_readiness_probe(c) {
                    "Readiness probe failed: HTTP probe failed with statuscode: 503"
                } else {
                    "Readiness probe failed: connection refused"
                };
                ctx.container_event(pod, name, true, "Unhealthy", msg, node);
                seen.unhealthy_at = Some(ctx.now);
            }
        }
        self.seen.insert(key, seen);
    }
}

fn behavior_needs_periodic_wake(pod: &Value, containers: &[&Value]) -> bool {
    containers.iter().any(|c| container_behavior(pod, c) == Behavior::NeverReady)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(
        spec: &'a Value,
        behavior: Behavior,
        anchor: Timestamp,
        now: Timestamp,
        policy: &'a str,
    ) -> ContainerInput<'a> {
        ContainerInput { pod_uid: "u", spec, behavior, restart_policy: policy, anchor, now, config_error: None }
    }

    #[test]
    fn crash_loop_timeline() {
        let spec = json!({"name": "app", "image": "x"});
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("ts");
        let at = |s: i64| secs(t0, s);
        let p = plan_container(&input(&spec, Behavior::Crash, t0, at(1), "Always"));
        assert!(p.running);
        let p = plan_container(&input(&spec, Behavior::Crash, t0, at(5), "Always"));
        assert_eq!(p.status.pointer("/state/waiting/reason").and_then(Value::as_str), Some("CrashLoopBackOff"));
        assert_eq!(p.status["restartCount"], 0);
        // Restarted at 3 + 10 = 13, crashes at 16, back-off 20s.
        let p = plan_container(&input(&spec, Behavior::Crash, t0, at(14), "Always"));
        assert!(p.running);
        assert_eq!(p.status["restartCount"], 1);
        assert_eq!(p.status.pointer("/lastState/terminated/exitCode").and_then(Value::as_i64), Some(1));
        let oom = plan_container(&input(&spec, Behavior::OomKilled, t0, at(5), "Always"));
        assert_eq!(oom.status.pointer("/lastState/terminated/reason").and_then(Value::as_str), Some("OOMKilled"));
    }

    #[test]
    fn liveness_failure_timeline() {
        let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5, "failureThreshold": 3});
        let spec = json!({"name": "app", "image": "x", "livenessProbe": probe});
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("ts");
        let at = |s: i64| secs(t0, s);
        let plan = |s: i64| plan_container(&input(&spec, Behavior::LivenessFail, t0, at(s), "Always"));
        // Probes fail at 5, 10 and 15 s; the kubelet kills the container, which exits at 16 s.
        let p = plan(7);
        assert!(p.running && p.ready, "runs (and is ready: no readiness probe) while the liveness probe fails");
        assert_eq!((p.probe_failures, p.kills, p.next), (1, 0, Some(at(10))));
        let p = plan(15);
        assert!(p.running, "killed at the third failure, still stopping");
        assert_eq!((p.probe_failures, p.kills), (3, 1));
        let p = plan(16);
        assert_eq!((p.probe_failures, p.kills), (3, 1));
        assert_eq!(p.status.pointer("/state/terminated/exitCode").and_then(Value::as_i64), Some(137));
        assert_eq!(p.status.pointer("/state/terminated/reason").and_then(Value::as_str), Some("Error"));
        let p = plan(20);
        assert_eq!(p.status.pointer("/state/waiting/reason").and_then(Value::as_str), Some("CrashLoopBackOff"));
        assert_eq!(p.status.pointer("/lastState/terminated/exitCode").and_then(Value::as_i64), Some(137));
        // Restarted after the 10 s back-off (26 s), fails again at 31 s.
        let p = plan(31);
        assert!(p.running);
        assert_eq!(p.status["restartCount"], 1);
        assert_eq!((p.probe_failures, p.kills), (4, 1));
    }

    #[test]
    fn completion_and_pull_failure() {
        let spec = json!({"name": "job", "image": "busybox"});
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("ts");
        let p = plan_container(&input(&spec, Behavior::Complete(5), t0, secs(t0, 6), "Never"));
        assert_eq!(p.finished, Some(0));
        let bad = json!({"name": "web", "image": "nginx:does-not-exist"});
        let p = plan_container(&input(&bad, Behavior::PullFailure, t0, secs(t0, 1), "Always"));
        assert_eq!(p.status.pointer("/state/waiting/reason").and_then(Value::as_str), Some("ErrImagePull"));
        let p = plan_container(&input(&bad, Behavior::PullFailure, t0, secs(t0, 5), "Always"));
        assert_eq!(p.status.pointer("/state/waiting/reason").and_then(Value::as_str), Some("ImagePullBackOff"));
    }
}
