//! How simulated containers behave: whether they run, crash, get OOM-killed, fail to pull, never become
//! ready or run to completion; what they log; how much CPU and memory they use.
//!
//! Behaviour is chosen by annotations on the pod (or its template), in the style of kwok stages, or by
//! image-name conventions so that `kubectl set image` can break a workload live:
//!
//! | trigger | behaviour |
//! |---|---|
//! | annotation `sim.binnacle.dev/behavior: crash` or an image whose name contains `crash` | exits with code 1 after a few seconds, restarts with back-off (CrashLoopBackOff) |
//! | annotation `sim.binnacle.dev/behavior: oom` | is OOM-killed (exit 137) after a few seconds, restarts with back-off |
//! | annotation `sim.binnacle.dev/behavior: not-ready` | runs but its readiness probe fails |
//! | annotation `sim.binnacle.dev/behavior: liveness-fail` (on a container with a `livenessProbe`) | runs, then its liveness probe fails `failureThreshold` times (`Unhealthy` warnings); the kubelet kills it (exit 137, reason `Error`) and restarts it with back-off (CrashLoopBackOff) |
//! | annotation `sim.binnacle.dev/behavior: fail` | exits with code 1 once (Job pods: the Job fails after its back-off limit) |
//! | annotation `sim.binnacle.dev/behavior: complete`, or a Job pod | runs for `sim.binnacle.dev/duration` seconds (default 5), exits 0 |
//! | image tag `does-not-exist`, or a repository under `notfound/` | the pull fails (ErrImagePull, ImagePullBackOff) |
//!
//! A per-container annotation `sim.binnacle.dev/behavior.<container>` overrides the pod-wide one.

use binnacle_objects::quantity::{cpu_millis, memory_bytes};
use binnacle_objects::time::{format_timestamp, parse_timestamp};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// Annotation that selects a behaviour.
pub const BEHAVIOR_ANNOTATION: &str = "sim.binnacle.dev/behavior";
/// Annotation with a run duration in seconds for completing containers.
pub const DURATION_ANNOTATION: &str = "sim.binnacle.dev/duration";

/// What a container does once started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// Runs and becomes ready.
    Healthy,
    /// Exits with code 1 after `run_secs`, restarting with back-off.
    Crash,
    /// OOM-killed (137) after `run_secs`, restarting with back-off.
    OomKilled,
    /// Runs but never passes its readiness probe.
    NeverReady,
    /// Runs, then fails its liveness probe and is killed (137) by the kubelet, restarting with back-off.
    LivenessFail,
    /// The image cannot be pulled.
    PullFailure,
    /// Runs for the given seconds and exits 0.
    Complete(i64),
    /// Runs for the given seconds and exits 1.
    Fail(i64),
}

/// Seconds a crashing container runs before it exits.
pub const CRASH_AFTER_SECS: i64 = 3;
/// Seconds from start until a healthy container is ready.
pub const READY_AFTER_SECS: i64 = 1;
/// Seconds a pull takes.
pub const PULL_SECS: i64 = 1;

fn annotation<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

fn owned_by_job(pod: &Value) -> bool {
    pod.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("kind").and_then(Value::as_str) == Some("Job")))
}

/// The behaviour of a container of a pod.
pub fn container_behavior(pod: &Value, container: &Value) -> Behavior {
    let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
    let image = container.get("image").and_then(Value::as_str).unwrap_or_default();
    let duration = annotation(pod, DURATION_ANNOTATION).and_then(|d| d.parse::<i64>().ok()).unwrap_or(5).max(0);
    let chosen =
        annotation(pod, &format!("{BEHAVIOR_ANNOTATION}.{name}")).or_else(|| annotation(pod, BEHAVIOR_ANNOTATION));
    if image_pull_fails(image) {
        return Behavior::PullFailure;
    }
    match chosen {
        Some("crash") => return Behavior::Crash,
        Some("oom") => return Behavior::OomKilled,
        Some("not-ready") => return Behavior::NeverReady,
        // Only a container with a liveness probe can be killed by one.
        Some("liveness-fail") if container.get("livenessProbe").is_some_and(|p| !p.is_null()) => {
            return Behavior::LivenessFail;
        }
        Some("fail") => return Behavior::Fail(duration.min(3)),
        Some("complete") => return Behavior::Complete(duration),
        Some("healthy") => return Behavior::Healthy,
        _ => {}
    }
    let repo = image.rsplit('/').next().unwrap_or(image);
    if repo.contains("crash") {
        return Behavior::Crash;
    }
    let restart = pod.pointer("/spec/restartPolicy").and_then(Value::as_str).unwrap_or("Always");
    if owned_by_job(pod) || restart != "Always" {
        return Behavior::Complete(duration);
    }
    Behavior::Healthy
}

/// Whether pulling an image fails in the simulation.
pub fn image_pull_fails(image: &str) -> bool {
    crate::defaults::image_tag(image) == Some("does-not-exist")
        || image.starts_with("notfound/")
        || image.contains("/notfound/")
}

/// The crash-loop back-off before restart number `restarts + 1`: 10s, 20s, 40s ... capped at 5 minutes.
pub fn backoff_secs(restarts: i64) -> i64 {
    let exp = restarts.clamp(0, 5) as u32;
    (10i64 << exp).min(300)
}

/// A log line with its time.
pub type LogLine = (Timestamp, String);

fn seeded(pod: &Value, salt: u64) -> u64 {
    let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    name.bytes().fold(1469598103934665603u64 ^ salt, |h, b| (h ^ b as u64).wrapping_mul(1099511628211))
}

fn image_family(image: &str) -> &'static str {
    let repo = image.rsplit('/').next().unwrap_or(image);
    let base = repo.split([':', '@']).next().unwrap_or(repo);
    if base.contains("nginx") || base.contains("httpd") || base.contains("envoy") {
        "web-server"
    } else if base.contains("redis") || base.contains("postgres") || base.contains("mysql") || base.contains("mongo") {
        "database"
    } else if base.contains("busybox") || base.contains("alpine") || base.contains("batch") || base.contains("job") {
        "batch"
    } else {
        "app"
    }
}

/// The lines a container instance printed between `start` and `end`.
fn script_lines(
    pod: &Value,
    container: &Value,
    behavior: Behavior,
    start: Timestamp,
    end: Timestamp,
    finished: bool,
) -> Vec<LogLine> {
    let name = container.get("name").and_then(Value::as_str).unwrap_or("app");
    let image = container.get("image").and_then(Value::as_str).unwrap_or("app");
    let at = |secs: f64| start + SignedDuration::from_secs_f64(secs);
    let mut lines: Vec<LogLine> = Vec::new();
    let family = image_family(image);
    match behavior {
        Behavior::Crash | Behavior::Fail(_) => {
            lines.push((at(0.1), format!("{name} starting (image {image})")));
            lines.push((at(0.4), "loading configuration from /etc/app/config.yaml".into()));
            lines.push((at(0.8), "connecting to database at postgres.data.svc:5432".into()));
            if finished {
                lines.push((
                    at(2.5),
                    "ERROR: could not connect to database: dial tcp 10.96.0.42:5432: connect: connection refused"
                        .into(),
                ));
                lines.push((at(2.6), "panic: database connection failed after 3 attempts".into()));
                lines.push((at(2.7), "goroutine 1 [running]:".into()));
                lines.push((at(2.7), "main.main()".into()));
                lines.push((at(2.7), "\t/src/cmd/server/main.go:42 +0x1d5".into()));
            }
        }
        Behavior::OomKilled => {
            lines.push((at(0.1), format!("{name} starting (image {image})")));
            lines.push((at(0.5), "warming cache: loading 2500000 entries".into()));
            lines.push((at(1.5), "cache: 1200000 entries loaded, heap 240Mi".into()));
            lines.push((at(2.5), "cache: 2100000 entries loaded, heap 470Mi".into()));
        }
        Behavior::Complete(d) => {
            lines.push((at(0.1), format!("starting batch job {name}")));
            let steps = d.clamp(1, 10);
            for i in 1..=steps {
                let t = (d as f64) * (i as f64) / (steps as f64 + 1.0);
                if at(t) <= end {
                    lines.push((at(t), format!("processed batch {i}/{steps}")));
                }
            }
            if finished {
                lines.push((at(d as f64 - 0.05), "done: all batches processed".into()));
            }
        }
        Behavior::Healthy | Behavior::NeverReady | Behavior::PullFailure | Behavior::LivenessFail => {
            match family {
                "web-server" => {
                    lines.push((at(0.1), "/docker-entrypoint.sh: Configuration complete; ready for start up".into()));
                    lines.push((at(0.2), "nginx: [notice] start worker processes".into()));
                }
                "database" => {
                    lines.push((at(0.1), "database system is starting up".into()));
                    lines.push((at(0.9), "database system is ready to accept connections".into()));
                }
                _ => {
                    lines.push((at(0.1), format!("{name} starting (image {image})")));
                    lines.push((at(0.5), "listening on :8080".into()));
                }
            }
            if behavior == Behavior::NeverReady {
                lines.push((
                    at(0.7),
                    "WARN dependency check failed: upstream cache unavailable, reporting not ready".into(),
                ));
            }
            if behavior == Behavior::LivenessFail {
                lines.push((at(1.2), "WARN worker pool exhausted: 64/64 workers busy, requests queued".into()));
                lines.push((at(2.0), "WARN /healthz: event loop blocked for 5.2s, answering 500".into()));
            }
            // Periodic lines every 10 seconds up to `end` (bounded: at most the last 500).
            let elapsed = (end.as_second() - start.as_second()).max(0);
            let count = elapsed / 10;
            let first = (count - 500).max(1);
            let seed = seeded(pod, 7);
            for i in first..=count {
                let t = at(i as f64 * 10.0);
                let line = match family {
                    "web-server" => format!(
                        "10.244.{}.{} - - \"GET /{} HTTP/1.1\" 200 {} \"-\" \"kube-probe/1.32\"",
                        (seed >> 8) % 4,
                        (seed.wrapping_add(i as u64)) % 250 + 2,
                        if i % 3 == 0 { "healthz" } else { "" },
                        615 + (i % 7) * 3
                    ),
                    "database" => {
                        format!("checkpoint complete: wrote {} buffers", 10 + (seed.wrapping_add(i as u64) % 90))
                    }
                    _ if behavior == Behavior::NeverReady => "WARN readiness: upstream cache unavailable".to_string(),
                    _ if behavior == Behavior::LivenessFail => {
                        "WARN /healthz: event loop blocked, answering 500".to_string()
                    }
                    _ => format!(
                        "INFO handled GET /api/v1/items status=200 duration={}ms",
                        3 + (seed.wrapping_add(i as u64 * 31)) % 40
                    ),
                };
                lines.push((t, line));
            }
        }
    }
    lines.retain(|(t, _)| *t <= end);
    lines
}

/// Why logs cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogError {
    /// The container has not started (400 in the API).
    Waiting(String),
    /// No previous instance.
    NoPrevious(String),
    /// No such container.
    NoContainer(String),
}

fn container_status<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    ["containerStatuses", "initContainerStatuses"].iter().find_map(|list| {
        pod.pointer(&format!("/status/{list}"))?
            .as_array()?
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
    })
}

fn find_container<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    ["containers", "initContainers"].iter().find_map(|list| {
        pod.pointer(&format!("/spec/{list}"))?
            .as_array()?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
    })
}

/// The log of a container (current instance, or the previous one), up to `now`.
pub fn container_logs(pod: &Value, container: &str, previous: bool, now: Timestamp) -> Result<Vec<LogLine>, LogError> {
    let pod_name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let spec = find_container(pod, container)
        .ok_or_else(|| LogError::NoContainer(format!("container {container} is not valid for pod {pod_name}")))?;
    let behavior = container_behavior(pod, spec);
    let status = container_status(pod, container);
    if previous {
        let last = status.and_then(|s| s.pointer("/lastState/terminated")).ok_or_else(|| {
            LogError::NoPrevious(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            ))
        })?;
        let start = parse_timestamp(last.get("startedAt")).unwrap_or(now);
        let end = parse_timestamp(last.get("finishedAt")).unwrap_or(now);
        return Ok(script_lines(pod, spec, behavior, start, end, true));
    }
    let state = status.and_then(|s| s.get("state"));
    if let Some(running) = state.and_then(|s| s.get("running")) {
        let start = parse_timestamp(running.get("startedAt")).unwrap_or(now);
        return Ok(script_lines(pod, spec, behavior, start, now, false));
    }
    if let Some(term) = state.and_then(|s| s.get("terminated")) {
        let start = parse_timestamp(term.get("startedAt")).unwrap_or(now);
        let end = parse_timestamp(term.get("finishedAt")).unwrap_or(now);
        return Ok(script_lines(pod, spec, behavior, start, end, true));
    }
    if let Some(waiting) = state.and_then(|s| s.get("waiting")) {
        let reason = waiting.get("reason").and_then(Value::as_str).unwrap_or("ContainerCreating");
        // A crash-looping container still shows the last run's log, as kubectl users expect.
        if reason == "CrashLoopBackOff"
            && let Some(last) = status.and_then(|s| s.pointer("/lastState/terminated"))
        {
            let start = parse_timestamp(last.get("startedAt")).unwrap_or(now);
            let end = parse_timestamp(last.get("finishedAt")).unwrap_or(now);
            return Ok(script_lines(pod, spec, behavior, start, end, true));
        }
        let message = match reason {
            "ImagePullBackOff" | "ErrImagePull" => "trying and failing to pull image".to_string(),
            other => other.to_string(),
        };
        return Err(LogError::Waiting(format!(
            "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {message}"
        )));
    }
    Err(LogError::Waiting(format!(
        "container \"{container}\" in pod \"{pod_name}\" is waiting to start: ContainerCreating"
    )))
}

fn request_of(container: &Value, resource: &str) -> Option<String> {
    let r = container.get("resources")?;
    r.pointer(&format!("/requests/{resource}"))
        .or_else(|| r.pointer(&format!("/limits/{resource}")))?
        .as_str()
        .map(str::to_string)
}

/// Synthetic usage of a running container: `(millicores, bytes)`.
pub fn container_usage(pod: &Value, container: &Value, index: u64) -> (i64, i64) {
    let seed = seeded(pod, 13 + index);
    let cpu_req = request_of(container, "cpu").and_then(|q| cpu_millis(&q)).unwrap_or(50);
    let mem_req = request_of(container, "memory").and_then(|q| memory_bytes(&q)).unwrap_or(64 << 20);
    let factor = 0.2 + (seed % 60) as f64 / 100.0;
    let mut cpu = ((cpu_req as f64) * factor).max(1.0) as i64;
    let mut mem = ((mem_req as f64) * (0.3 + (seed % 50) as f64 / 100.0)) as i64;
    if container_behavior(pod, container) == Behavior::OomKilled {
        mem = container
            .pointer("/resources/limits/memory")
            .and_then(Value::as_str)
            .and_then(memory_bytes)
            .unwrap_or(mem_req);
        cpu = cpu.max(200);
    }
    (cpu, mem.max(4 << 20))
}

/// `PodMetrics` for a running pod, or `None`.
pub fn pod_metrics(pod: &Value, now: Timestamp) -> Option<Value> {
    if pod.pointer("/status/phase").and_then(Value::as_str) != Some("Running") {
        return None;
    }
    let containers = pod.pointer("/spec/containers")?.as_array()?;
    let usage: Vec<Value> = containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (cpu, mem) = container_usage(pod, c, i as u64);
            json!({"name": c.get("name").cloned().unwrap_or(json!("")), "usage": {"cpu": format!("{}n", cpu * 1_000_000), "memory": format!("{}Ki", mem / 1024)}})
        })
        .collect();
    Some(json!({
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": pod.pointer("/metadata/name").cloned().unwrap_or(json!("")),
            "namespace": pod.pointer("/metadata/namespace").cloned().unwrap_or(json!("")),
            "labels": pod.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "creationTimestamp": format_timestamp(now),
        },
        "timestamp": format_timestamp(now),
        "window": "30s",
        "containers": usage,
    }))
}

/// `NodeMetrics` for a node, from the pods running on it plus system overhead.
pub fn node_metrics(node: &Value, pods_on_node: &[&Value], now: Timestamp) -> Value {
    let (mut cpu, mut mem) = (120i64, 600i64 << 20);
    for pod in pods_on_node {
        if pod.pointer("/status/phase").and_then(Value::as_str) != Some("Running") {
            continue;
        }
        for (i, c) in pod.pointer("/spec/containers").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let (c_cpu, c_mem) = container_usage(pod, c, i as u64);
            cpu += c_cpu;
            mem += c_mem;
        }
    }
    json!({
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": node.pointer("/metadata/name").cloned().unwrap_or(json!("")),
            "labels": node.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "creationTimestamp": format_timestamp(now),
        },
        "timestamp": format_timestamp(now),
        "window": "20s",
        "usage": {"cpu": format!("{}n", cpu * 1_000_000), "memory": format!("{}Ki", mem / 1024)},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviors_from_conventions() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"restartPolicy": "Always"}});
        assert_eq!(container_behavior(&pod, &json!({"name": "a", "image": "nginx:1.27"})), Behavior::Healthy);
        assert_eq!(
            container_behavior(&pod, &json!({"name": "a", "image": "nginx:does-not-exist"})),
            Behavior::PullFailure
        );
        assert_eq!(container_behavior(&pod, &json!({"name": "a", "image": "acme/crashy-app:1"})), Behavior::Crash);
        let oom = json!({"metadata": {"name": "p", "annotations": {"sim.binnacle.dev/behavior": "oom"}}, "spec": {}});
        assert_eq!(container_behavior(&oom, &json!({"name": "a", "image": "x"})), Behavior::OomKilled);
        let live = json!({"metadata": {"name": "p", "annotations": {"sim.binnacle.dev/behavior": "liveness-fail"}}});
        let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}});
        assert_eq!(
            container_behavior(&live, &json!({"name": "a", "image": "x", "livenessProbe": probe})),
            Behavior::LivenessFail
        );
        assert_eq!(container_behavior(&live, &json!({"name": "a", "image": "x"})), Behavior::Healthy, "no probe");
        let job = json!({"metadata": {"name": "p"}, "spec": {"restartPolicy": "Never"}});
        assert_eq!(container_behavior(&job, &json!({"name": "a", "image": "busybox"})), Behavior::Complete(5));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_secs(0), 10);
        assert_eq!(backoff_secs(1), 20);
        assert_eq!(backoff_secs(4), 160);
        assert_eq!(backoff_secs(9), 300);
    }
}
