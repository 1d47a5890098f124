//! The node lifecycle controller and the kubelets' heartbeats: cordoned nodes get the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint (and lose it when uncordoned), and every node
//! renews its Lease in `kube-node-lease`, which `kubectl describe node` shows.

use super::util::{owner_ref, s};
use super::{Controller, Ctx};
use binnacle_objects::time::{format_micro_timestamp, format_timestamp, parse_timestamp};
use serde_json::{Value, json};

/// See the module docs.
pub struct NodeController;

const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
const LEASE_NAMESPACE: &str = "kube-node-lease";
/// Seconds between lease renewals (the kubelet default).
const RENEW_SECS: i64 = 10;
/// Lease duration (the kubelet default).
const LEASE_DURATION_SECS: i64 = 40;

fn has_taint(node: &Value, key: &str) -> bool {
    node.pointer("/spec/taints").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| s(x, "/key") == key))
}

impl Controller for NodeController {
    fn name(&self) -> &'static str {
        "node-lifecycle-controller"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let now = format_timestamp(ctx.now);
        for node in ctx.list("", "nodes", None) {
            let cordoned = node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true);
            if cordoned != has_taint(&node, UNSCHEDULABLE_TAINT) {
                ctx.modify("", "nodes", &node, |n| {
                    if cordoned {
                        let taint = json!({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": now});
                        match n.pointer_mut("/spec/taints").and_then(Value::as_array_mut) {
                            Some(list) => list.push(taint),
                            None => n["spec"]["taints"] = json!([taint]),
                        }
                    } else if let Some(list) = n.pointer_mut("/spec/taints").and_then(Value::as_array_mut) {
                        list.retain(|t| s(t, "/key") != UNSCHEDULABLE_TAINT);
                        if list.is_empty()
                            && let Some(spec) = n["spec"].as_object_mut()
                        {
                            spec.remove("taints");
                        }
                    }
                });
            }
            self.renew_lease(ctx, &node);
        }
    }
}

impl NodeController {
    fn renew_lease(&self, ctx: &Ctx<'_>, node: &Value) {
        if ctx.get("", "namespaces", "", LEASE_NAMESPACE).is_none() {
            return;
        }
        let name = s(node, "/metadata/name").to_string();
        let renew = format_micro_timestamp(ctx.now);
        match ctx.get("coordination.k8s.io", "leases", LEASE_NAMESPACE, &name) {
            None => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": LEASE_NAMESPACE, "ownerReferences": [owner_ref(node)]},
                    "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECS, "renewTime": renew}
                });
                ctx.create("coordination.k8s.io", "leases", LEASE_NAMESPACE, lease, "kubelet");
                ctx.wake_in(RENEW_SECS as f64);
            }
            Some(lease) => {
                let last = parse_timestamp(lease.pointer("/spec/renewTime"));
                let due = last.is_none_or(|t| ctx.now.duration_since(t).as_secs() >= RENEW_SECS);
                if due {
                    ctx.modify("coordination.k8s.io", "leases", &lease, |l| l["spec"]["renewTime"] = json!(renew));
                    ctx.wake_in(RENEW_SECS as f64);
                } else if let Some(t) = last {
                    ctx.wake_at(t + jiff::SignedDuration::from_secs(RENEW_SECS));
                }
            }
        }
    }
}
