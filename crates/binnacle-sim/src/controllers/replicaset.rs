//! The ReplicaSet controller: keeps `spec.replicas` pods of the template running, adopting matching
//! orphans and removing extras (unscheduled and not-ready pods first, newest first).

use super::util::{controlled_by, controller_of, deleting, i, owner_ref, pod_active, pod_ready, s, uid};
use super::{Controller, Ctx};
use crate::cluster::Propagation;
use binnacle_objects::selector::LabelSelector;
use serde_json::{Value, json};
use std::sync::Arc;

/// See the module docs.
pub struct ReplicaSetController;

/// At most this many pods are created per ReplicaSet per pass (the real controller uses slow-start batches).
const BURST: i64 = 500;

/// A pod for a template owned by `owner`, named `<prefix><random>`.
pub fn pod_from_template(owner: &Value, template: &Value, generate_name: &str, extra_labels: &[(&str, &str)]) -> Value {
    let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["generateName"] = json!(generate_name);
    metadata["namespace"] = json!(s(owner, "/metadata/namespace"));
    metadata["ownerReferences"] = json!([owner_ref(owner)]);
    for (k, v) in extra_labels {
        if metadata.get("labels").is_none_or(|l| !l.is_object()) {
            metadata["labels"] = json!({});
        }
        metadata["labels"][*k] = json!(v);
    }
    if let Some(m) = metadata.as_object_mut() {
        m.remove("name");
        m.remove("creationTimestamp");
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.get("spec").cloned().unwrap_or(json!({}))})
}

/// Orders pods for deletion: unscheduled first, then not ready, then newest.
pub fn deletion_order(pods: &mut [Arc<Value>]) {
    pods.sort_by(|a, b| {
        let key = |p: &Value| {
            (
                !s(p, "/spec/nodeName").is_empty(),
                pod_ready(p),
                std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_string()),
            )
        };
        key(a).cmp(&key(b))
    });
}

impl Controller for ReplicaSetController {
    fn name(&self) -> &'static str {
        "replicaset-controller"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let all_pods = ctx.list("", "pods", None);
        for rs in ctx.list("apps", "replicasets", None) {
            if deleting(&rs) {
                continue;
            }
            let ns = s(&rs, "/metadata/namespace");
            let Ok(selector) = LabelSelector::from_object(rs.pointer("/spec/selector").unwrap_or(&Value::Null)) else {
                continue;
            };
            if selector.is_empty() {
                continue;
            }
            let rs_uid = uid(&rs).to_string();
            let mut owned: Vec<Arc<Value>> = Vec::new();
            for pod in all_pods.iter().filter(|p| s(p, "/metadata/namespace") == ns) {
                if controlled_by(pod, &rs_uid) {
                    owned.push(pod.clone());
                } else if controller_of(pod).is_none() && selector.matches_object(pod) && pod_active(pod) {
                    let reference = owner_ref(&rs);
                    if let Some(adopted) = ctx.modify("", "pods", pod, |p| {
                        let refs =
                            p["metadata"].as_object_mut().map(|m| m.entry("ownerReferences").or_insert(json!([])));
                        if let Some(Value::Array(refs)) = refs {
                            refs.push(reference.clone());
                        }
                    }) {
                        owned.push(adopted);
                    }
                }
            }
            let mut active: Vec<Arc<Value>> = owned.iter().filter(|p| pod_active(p)).cloned().collect();
            let desired = rs.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let diff = desired - active.len() as i64;
            let rs_name = s(&rs, "/metadata/name").to_string();
            // `ReplicaFailure`: set with the API server's refusal, cleared by a sync that creates what it must;
            // left as it is while the ReplicaSet waits out its back-off.
            let mut failure: Option<Option<String>> = None;
            if diff > 0 && ctx.may_create(&rs) {
                let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
                failure = Some(None);
                for _ in 0..diff.min(BURST) {
                    let pod = pod_from_template(&rs, &template, &format!("{rs_name}-"), &[]);
                    match ctx.create_for(&rs, "pods", ns, pod, "kube-controller-manager") {
                        Ok(created) => {
                            ctx.event(
                                &rs,
                                false,
                                "SuccessfulCreate",
                                &format!("Created pod: {}", s(&created, "/metadata/name")),
                                "replicaset-controller",
                            );
                            active.push(created);
                        }
                        Err(e) => {
                            let msg = format!("Error creating: {}", e.message);
                            ctx.event(&rs, true, "FailedCreate", &msg, "replicaset-controller");
                            failure = Some(Some(e.message));
                            break;
                        }
                    }
                }
            } else if diff <= 0 {
                failure = Some(None);
            }
            if diff < 0 {
                deletion_order(&mut active);
                for pod in active.drain(..(-diff) as usize) {
                    ctx.delete("", "pods", &pod, Propagation::Background);
                    ctx.event(
                        &rs,
                        false,
                        "SuccessfulDelete",
                        &format!("Deleted pod: {}", s(&pod, "/metadata/name")),
                        "replicaset-controller",
                    );
                }
            }
            let ready = active.iter().filter(|p| pod_ready(p)).count() as i64;
            let replicas = active.len() as i64;
            let labeled = active
                .iter()
                .filter(|p| {
                    rs.pointer("/spec/template/metadata/labels").and_then(Value::as_object).is_none_or(|l| {
                        l.iter().all(|(k, v)| p.pointer("/metadata/labels").and_then(|pl| pl.get(k)) == Some(v))
                    })
                })
                .count() as i64;
            let generation = i(&rs, "/metadata/generation");
            let status = json!({
                "replicas": replicas,
                "fullyLabeledReplicas": labeled,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": generation,
            });
            let mut clean = status.clone();
            if let Some(m) = clean.as_object_mut() {
                m.retain(|k, v| k == "replicas" || k == "observedGeneration" || v.as_i64() != Some(0));
            }
            let has_failure = super::util::condition_status(&rs, "ReplicaFailure").is_some();
            let failure_changes = match &failure {
                Some(Some(message)) => {
                    rs.pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure"))
                        .and_then(|c| c.get("message"))
                        .and_then(Value::as_str)
                        != Some(message.as_str())
                }
                Some(None) => has_failure,
                None => false,
            };
            if rs.get("status").map(without_conditions) != Some(clean.clone()) || failure_changes {
                let now = binnacle_objects::time::format_timestamp(ctx.now);
                ctx.modify("apps", "replicasets", &rs, |r| {
                    let conditions = r.pointer("/status/conditions").cloned();
                    r["status"] = clean.clone();
                    if let Some(c) = conditions.clone() {
                        r["status"]["conditions"] = c;
                    }
                    match &failure {
                        Some(Some(message)) => super::util::set_condition(
                            r,
                            "ReplicaFailure",
                            "True",
                            "FailedCreate",
                            message,
                            &now,
                            false,
                        ),
                        Some(None) => {
                            if let Some(list) = r.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
                                list.retain(|c| c["type"] != "ReplicaFailure");
                                if list.is_empty()
                                    && let Some(st) = r["status"].as_object_mut()
                                {
                                    st.remove("conditions");
                                }
                            }
                        }
                        None => {}
                    }
                });
            }
        }
    }
}

fn without_conditions(status: &Value) -> Value {
    let mut s = status.clone();
    if let Some(m) = s.as_object_mut() {
        m.remove("conditions");
    }
    s
}
