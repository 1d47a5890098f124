//! The scheduler: binds pending pods to nodes that are Ready, schedulable, match the pod's node selector,
//! whose taints the pod tolerates and that have room for its CPU, memory and pod-count requests. Pods that
//! fit nowhere stay Pending with `PodScheduled=False` and a FailedScheduling event that says why.

use super::util::{condition_status, deleting, pod_active, s};
use super::{Controller, Ctx};
use binnacle_objects::quantity::{cpu_millis, memory_bytes};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// See the module docs.
pub struct Scheduler;

/// Retry interval for unschedulable pods.
const RETRY_SECS: f64 = 15.0;

#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    cpu: i64,
    memory: i64,
    pods: i64,
}

/// The summed container requests of a pod (init containers: the max, as the real scheduler does).
pub fn pod_requests(pod: &Value) -> (i64, i64) {
    let sum = |list: &str| -> (i64, i64) {
        pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array).into_iter().flatten().fold(
            (0, 0),
            |(c, m), ctr| {
                let cpu =
                    ctr.pointer("/resources/requests/cpu").and_then(Value::as_str).and_then(cpu_millis).unwrap_or(0);
                let mem = ctr
                    .pointer("/resources/requests/memory")
                    .and_then(Value::as_str)
                    .and_then(memory_bytes)
                    .unwrap_or(0);
                (c + cpu, m + mem)
            },
        )
    };
    let (c, m) = sum("containers");
    let (ic, im) = sum("initContainers");
    (c.max(ic), m.max(im))
}

/// Whether the pod's tolerations tolerate a node taint (`PreferNoSchedule` taints always are).
pub(crate) fn tolerates(pod: &Value, taint: &Value) -> bool {
    let effect = s(taint, "/effect");
    if effect == "PreferNoSchedule" {
        return true;
    }
    let key = s(taint, "/key");
    let value = s(taint, "/value");
    pod.pointer("/spec/tolerations").and_then(Value::as_array).into_iter().flatten().any(|t| {
        let t_key = s(t, "/key");
        let op = match s(t, "/operator") {
            "" => "Equal",
            o => o,
        };
        let t_effect = s(t, "/effect");
        let effect_ok = t_effect.is_empty() || t_effect == effect;
        let key_ok = t_key.is_empty() && op == "Exists" || t_key == key;
        let value_ok = op == "Exists" || s(t, "/value") == value;
        effect_ok && key_ok && value_ok
    })
}

enum Verdict {
    Fits,
    Reject(&'static str),
    RejectOwned(String),
}

fn check_node(pod: &Value, node: &Value, usage: Usage, requests: (i64, i64)) -> Verdict {
    if condition_status(node, "Ready") != Some("True") {
        return Verdict::Reject("node(s) were not ready");
    }
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        return Verdict::Reject("node(s) were unschedulable");
    }
    if let Some(selector) = pod.pointer("/spec/nodeSelector").and_then(Value::as_object) {
        let labels = node.pointer("/metadata/labels");
        if !selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)) {
            return Verdict::Reject("node(s) didn't match Pod's node affinity/selector");
        }
    }
    for taint in node.pointer("/spec/taints").and_then(Value::as_array).into_iter().flatten() {
        if !tolerates(pod, taint) {
            let key = s(taint, "/key");
            let value = s(taint, "/value");
            return Verdict::RejectOwned(format!("node(s) had untolerated taint {{{key}: {value}}}"));
        }
    }
    let alloc_cpu = node.pointer("/status/allocatable/cpu").and_then(Value::as_str).and_then(cpu_millis).unwrap_or(0);
    let alloc_mem =
        node.pointer("/status/allocatable/memory").and_then(Value::as_str).and_then(memory_bytes).unwrap_or(0);
    let alloc_pods = node
        .pointer("/status/allocatable/pods")
        .and_then(Value::as_str)
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(110);
    if usage.pods + 1 > alloc_pods {
        return Verdict::Reject("Too many pods");
    }
    if usage.cpu + requests.0 > alloc_cpu {
        return Verdict::Reject("Insufficient cpu");
    }
    if usage.memory + requests.1 > alloc_mem {
        return Verdict::Reject("Insufficient memory");
    }
    Verdict::Fits
}

impl Controller for Scheduler {
    fn name(&self) -> &'static str {
        "default-scheduler"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let pods = ctx.list("", "pods", None);
        let pending: Vec<&Arc<Value>> = pods
            .iter()
            .filter(|p| {
                s(p, "/spec/nodeName").is_empty()
                    && !deleting(p)
                    && matches!(s(p, "/spec/schedulerName"), "" | "default-scheduler")
            })
            .collect();
        if pending.is_empty() {
            return;
        }
        let nodes = ctx.list("", "nodes", None);
        let mut usage: HashMap<String, Usage> = HashMap::new();
        for p in pods.iter().filter(|p| !s(p, "/spec/nodeName").is_empty() && pod_active(p)) {
            let (cpu, mem) = pod_requests(p);
            let u = usage.entry(s(p, "/spec/nodeName").to_string()).or_default();
            u.cpu += cpu;
            u.memory += mem;
            u.pods += 1;
        }
        let now = binnacle_objects::time::format_timestamp(ctx.now);
        for pod in pending {
            let requests = pod_requests(pod);
            let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
            let mut best: Option<(&Arc<Value>, i64)> = None;
            for node in &nodes {
                let name = s(node, "/metadata/name");
                let u = usage.get(name).copied().unwrap_or_default();
                match check_node(pod, node, u, requests) {
                    Verdict::Fits => {
                        let score = u.cpu * 1000
                            / node
                                .pointer("/status/allocatable/cpu")
                                .and_then(Value::as_str)
                                .and_then(cpu_millis)
                                .unwrap_or(1)
                                .max(1)
                            + u.pods;
                        if best.is_none_or(|(_, b)| score < b) {
                            best = Some((node, score));
                        }
                    }
                    Verdict::Reject(r) => *reasons.entry(r.to_string()).or_default() += 1,
                    Verdict::RejectOwned(r) => *reasons.entry(r).or_default() += 1,
                }
            }
            match best {
                Some((node, _)) => {
                    let node_name = s(node, "/metadata/name").to_string();
                    let bound = ctx.modify("", "pods", pod, |p| {
                        p["spec"]["nodeName"] = json!(node_name);
                        super::util::set_condition(p, "PodScheduled", "True", "", "", &now, false);
                        if let Some(c) = p.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
                            for cond in c.iter_mut().filter(|c| c["type"] == "PodScheduled") {
                                if let Some(m) = cond.as_object_mut() {
                                    m.remove("reason");
                                    m.remove("message");
                                    m.insert("lastProbeTime".into(), Value::Null);
                                }
                            }
                        }
                        if p.pointer("/status/phase").is_none() {
                            p["status"]["phase"] = json!("Pending");
                        }
                    });
                    if let Some(bound) = bound {
                        let u = usage.entry(node_name.clone()).or_default();
                        u.cpu += requests.0;
                        u.memory += requests.1;
                        u.pods += 1;
                        let msg = format!(
                            "Successfully assigned {}/{} to {node_name}",
                            s(&bound, "/metadata/namespace"),
                            s(&bound, "/metadata/name")
                        );
                        ctx.event(&bound, false, "Scheduled", &msg, "default-scheduler");
                    }
                }
                None => {
                    let total = nodes.len();
                    let detail = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect::<Vec<_>>().join(", ");
                    let message = format!(
                        "0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
                    );
                    let already = pod
                        .pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"))
                        .is_some_and(|c| c.get("message").and_then(Value::as_str) == Some(message.as_str()));
                    let last = pod
                        .pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"))
                        .and_then(|c| c.get("lastProbeTime"))
                        .and_then(|t| binnacle_objects::time::parse_timestamp(Some(t)));
                    let due = last.is_none_or(|t| ctx.now.duration_since(t).as_secs_f64() >= RETRY_SECS);
                    if !already || due {
                        let updated = ctx.modify("", "pods", pod, |p| {
                            super::util::set_condition(
                                p,
                                "PodScheduled",
                                "False",
                                "Unschedulable",
                                &message,
                                &now,
                                false,
                            );
                            if let Some(c) = p.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
                                for cond in c.iter_mut().filter(|c| c["type"] == "PodScheduled") {
                                    cond["lastProbeTime"] = json!(now);
                                }
                            }
                            p["status"]["phase"] = json!("Pending");
                        });
                        if let Some(updated) = updated {
                            ctx.event(&updated, true, "FailedScheduling", &message, "default-scheduler");
                        }
                    }
                    ctx.wake_in(RETRY_SECS);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerations() {
        let taint = json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"});
        assert!(!tolerates(&json!({"spec": {}}), &taint));
        assert!(tolerates(
            &json!({"spec": {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}),
            &taint
        ));
        assert!(tolerates(&json!({"spec": {"tolerations": [{"operator": "Exists"}]}}), &taint));
    }

    #[test]
    fn requests_sum() {
        let pod = json!({"spec": {"containers": [
            {"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            {"resources": {"requests": {"cpu": "1"}}}
        ]}});
        assert_eq!(pod_requests(&pod), (1100, 64 << 20));
    }
}
