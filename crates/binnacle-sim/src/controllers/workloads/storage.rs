//! Volume binding and dynamic provisioning, as the PersistentVolume controller and a provisioner do it.
//! A pending claim first binds an Available volume that fits (class, access modes, size); otherwise, if
//! its StorageClass exists (the default class when `storageClassName` is unset), a volume `pvc-<uid>` is
//! provisioned (a `hostPath` for local-path/hostpath provisioners, a CSI source otherwise) and both
//! sides are bound. `WaitForFirstConsumer` classes wait until a pod uses the claim. A missing class
//! leaves the claim Pending with a `ProvisioningFailed` warning every 15 seconds. When a bound claim is
//! gone its volume is deleted (`Delete`) or becomes `Released` (`Retain`). Not simulated: volume
//! expansion, selectors on claims, protection finalizers.

use super::super::util::{deleting, s, uid};
use super::{Controller, Ctx, now_string};
use crate::cluster::Propagation;
use binnacle_objects::quantity::memory_bytes;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// See the module docs (keeps when each claim was last warned about, to pace repeats).
#[derive(Default)]
pub struct StorageController {
    warned: HashMap<String, Timestamp>,
}

const COMPONENT: &str = "persistentvolume-controller";
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
const RETRY_SECS: i64 = 15;

impl Controller for StorageController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let claims = ctx.list("", "persistentvolumeclaims", None);
        let volumes = ctx.list("", "persistentvolumes", None);
        let live: std::collections::HashSet<&str> = claims.iter().map(|c| uid(c)).collect();
        self.warned.retain(|k, _| live.contains(k.as_str()));
        release_volumes(ctx, &volumes, &claims);
        if claims.is_empty() {
            return;
        }
        let classes = ctx.list("storage.k8s.io", "storageclasses", None);
        let pods = ctx.list("", "pods", None);
        let mut taken: Vec<String> = Vec::new();
        for claim in claims.iter().filter(|c| !deleting(c) && s(c, "/spec/volumeName").is_empty()) {
            if let Some(pv) = self.sync_claim(ctx, claim, &volumes, &classes, &pods, &taken) {
                taken.push(pv);
            }
        }
    }
}

impl StorageController {
    /// Binds or provisions a volume for an unbound claim; returns the volume bound.
    fn sync_claim(
        &mut self,
        ctx: &Ctx<'_>,
        claim: &Arc<Value>,
        volumes: &[Arc<Value>],
        classes: &[Arc<Value>],
        pods: &[Arc<Value>],
        taken: &[String],
    ) -> Option<String> {
        let claim = ensure_pending(ctx, claim);
        let class_name = match claim.pointer("/spec/storageClassName") {
            Some(Value::String(name)) => Some(name.clone()),
            Some(Value::Null) | None => default_class(classes),
            Some(_) => None,
        };
        let class_name = class_name.unwrap_or_default();
        if let Some(pv) = volumes.iter().find(|v| fits(v, &claim, &class_name) && !taken.contains(&pv_name(v))) {
            bind(ctx, &claim, pv, &class_name);
            return Some(pv_name(pv));
        }
        if class_name.is_empty() {
            let msg = "no persistent volumes available for this claim and no storage class is set";
            self.warn(ctx, &claim, false, "FailedBinding", msg);
            return None;
        }
        let Some(class) = classes.iter().find(|c| s(c, "/metadata/name") == class_name) else {
            let msg = format!("storageclass.storage.k8s.io \"{class_name}\" not found");
            self.warn(ctx, &claim, true, "ProvisioningFailed", &msg);
            return None;
        };
        let consumer = pods.iter().find(|p| uses_claim(p, &claim));
        if s(class, "/volumeBindingMode") == "WaitForFirstConsumer" && consumer.is_none() {
            let msg = "waiting for first consumer to be created before binding";
            self.warn(ctx, &claim, false, "WaitForFirstConsumer", msg);
            return None;
        }
        let node = consumer.map(|p| s(p, "/spec/nodeName")).filter(|n| !n.is_empty());
        let pv = provision(ctx, &claim, class, node)?;
        bind(ctx, &claim, &pv, &class_name);
        Some(pv_name(&pv))
    }

    /// Records a claim event at most every 15 seconds.
    fn warn(&mut self, ctx: &Ctx<'_>, claim: &Value, warning: bool, reason: &str, message: &str) {
        let due = self.warned.get(uid(claim)).is_none_or(|t| ctx.now.duration_since(*t).as_secs() >= RETRY_SECS);
        if due {
            ctx.event(claim, warning, reason, message, COMPONENT);
            self.warned.insert(uid(claim).to_string(), ctx.now);
        }
        ctx.wake_in(RETRY_SECS as f64);
    }
}

fn pv_name(pv: &Value) -> String {
    s(pv, "/metadata/name").to_string()
}

/// Sets `status.phase: Pending` on a new claim, as the API server does at creation.
fn ensure_pending(ctx: &Ctx<'_>, claim: &Arc<Value>) -> Arc<Value> {
    if s(claim, "/status/phase").is_empty()
        && let Some(updated) =
            ctx.modify("", "persistentvolumeclaims", claim, |c| c["status"]["phase"] = json!("Pending"))
    {
        return updated;
    }
    claim.clone()
}

fn default_class(classes: &[Arc<Value>]) -> Option<String> {
    classes
        .iter()
        .find(|c| {
            c.pointer("/metadata/annotations").and_then(|a| a.get(DEFAULT_CLASS)).and_then(Value::as_str)
                == Some("true")
        })
        .map(|c| s(c, "/metadata/name").to_string())
}

fn requested_bytes(claim: &Value) -> i64 {
    claim.pointer("/spec/resources/requests/storage").and_then(Value::as_str).and_then(memory_bytes).unwrap_or(0)
}

fn access_modes(obj: &Value) -> Vec<String> {
    obj.pointer("/spec/accessModes")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Whether an Available volume satisfies a claim.
fn fits(pv: &Value, claim: &Value, class: &str) -> bool {
    let available = matches!(s(pv, "/status/phase"), "Available" | "");
    let unclaimed = pv.pointer("/spec/claimRef").is_none_or(|r| {
        s(r, "/name") == s(claim, "/metadata/name") && s(r, "/namespace") == s(claim, "/metadata/namespace")
    });
    let capacity = pv.pointer("/spec/capacity/storage").and_then(Value::as_str).and_then(memory_bytes).unwrap_or(0);
    let modes = access_modes(pv);
    available
        && unclaimed
        && !deleting(pv)
        && s(pv, "/spec/storageClassName") == class
        && capacity >= requested_bytes(claim)
        && access_modes(claim).iter().all(|m| modes.contains(m))
}

fn uses_claim(pod: &Value, claim: &Value) -> bool {
    s(pod, "/metadata/namespace") == s(claim, "/metadata/namespace")
        && pod
            .pointer("/spec/volumes")
            .and_then(Value::as_array)
            .is_some_and(|vs| vs.iter().any(|v| s(v, "/persistentVolumeClaim/claimName") == s(claim, "/metadata/name")))
}

/// Creates the volume a provisioner would for a claim.
fn provision(ctx: &Ctx<'_>, claim: &Value, class: &Value, node: Option<&str>) -> Option<Arc<Value>> {
    let provisioner = s(class, "/provisioner");
    let name = format!("pvc-{}", uid(claim));
    let mut spec = json!({
        "capacity": {"storage": claim.pointer("/spec/resources/requests/storage").cloned().unwrap_or(json!("1Gi"))},
        "accessModes": claim.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
        "claimRef": claim_ref(claim),
        "persistentVolumeReclaimPolicy": match s(class, "/reclaimPolicy") { "" => "Delete", p => p },
        "storageClassName": s(class, "/metadata/name"),
        "volumeMode": claim.pointer("/spec/volumeMode").cloned().unwrap_or(json!("Filesystem")),
    });
    if provisioner.contains("local-path") || provisioner.contains("hostpath") {
        let dir = format!("{name}_{}_{}", s(claim, "/metadata/namespace"), s(claim, "/metadata/name"));
        spec["hostPath"] = json!({"path": format!("/var/local-path-provisioner/{dir}"), "type": "DirectoryOrCreate"});
    } else {
        spec["csi"] = json!({"driver": provisioner, "volumeHandle": name, "fsType": "ext4"});
    }
    if let Some(node) = node {
        spec["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
        ]}]}});
    }
    let pv = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner}},
        "spec": spec,
        "status": {"phase": "Bound"},
    });
    let created = ctx.create("", "persistentvolumes", "", pv, provisioner)?;
    let ns_name = format!("{}/{}", s(claim, "/metadata/namespace"), s(claim, "/metadata/name"));
    let msg = format!("External provisioner is provisioning volume for claim \"{ns_name}\"");
    ctx.event(claim, false, "Provisioning", &msg, provisioner);
    ctx.event(claim, false, "ProvisioningSucceeded", &format!("Successfully provisioned volume {name}"), provisioner);
    Some(created)
}

fn claim_ref(claim: &Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "name": s(claim, "/metadata/name"),
        "namespace": s(claim, "/metadata/namespace"),
        "resourceVersion": s(claim, "/metadata/resourceVersion"),
        "uid": uid(claim),
    })
}

/// Binds a claim and a volume to each other.
fn bind(ctx: &Ctx<'_>, claim: &Value, pv: &Value, class: &str) {
    let reference = claim_ref(claim);
    let now = now_string(ctx);
    ctx.modify("", "persistentvolumes", pv, |v| {
        v["spec"]["claimRef"] = reference.clone();
        v["status"] = json!({"phase": "Bound", "lastPhaseTransitionTime": now});
    });
    let provisioner = s(pv, "/metadata/annotations/pv.kubernetes.io~1provisioned-by").to_string();
    let (name, capacity, modes) =
        (pv_name(pv), pv.pointer("/spec/capacity").cloned(), pv.pointer("/spec/accessModes").cloned());
    ctx.modify("", "persistentvolumeclaims", claim, |c| {
        c["spec"]["volumeName"] = json!(name);
        if !class.is_empty() {
            c["spec"]["storageClassName"] = json!(class);
        }
        let annotations = super::object_at(&mut c["metadata"], "annotations");
        if let Some(a) = annotations {
            a.insert("pv.kubernetes.io/bind-completed".into(), json!("yes"));
            a.insert("pv.kubernetes.io/bound-by-controller".into(), json!("yes"));
            if !provisioner.is_empty() {
                a.insert("volume.beta.kubernetes.io/storage-provisioner".into(), json!(provisioner));
                a.insert("volume.kubernetes.io/storage-provisioner".into(), json!(provisioner));
            }
        }
        c["status"] = json!({
            "phase": "Bound",
            "accessModes": modes.clone().unwrap_or(json!([])),
            "capacity": capacity.clone().unwrap_or(json!({})),
        });
    });
}

/// Volumes whose bound claim is gone are deleted or released, per their reclaim policy.
fn release_volumes(ctx: &Ctx<'_>, volumes: &[Arc<Value>], claims: &[Arc<Value>]) {
    for pv in volumes.iter().filter(|v| s(v, "/status/phase") == "Bound" && !deleting(v)) {
        let claim_uid = s(pv, "/spec/claimRef/uid");
        if claim_uid.is_empty() || claims.iter().any(|c| uid(c) == claim_uid) {
            continue;
        }
        if s(pv, "/spec/persistentVolumeReclaimPolicy") == "Delete" {
            ctx.delete("", "persistentvolumes", pv, Propagation::Background);
        } else {
            let now = now_string(ctx);
            ctx.modify("", "persistentvolumes", pv, |v| {
                v["status"] = json!({"phase": "Released", "lastPhaseTransitionTime": now});
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_fit_claims_by_class_modes_and_size() {
        let claim = json!({"metadata": {"name": "data", "namespace": "db"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}});
        let pv = json!({"spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce", "ReadOnlyMany"], "capacity": {"storage": "10Gi"}}, "status": {"phase": "Available"}});
        assert!(fits(&pv, &claim, "manual"));
        assert!(!fits(&pv, &claim, "standard"));
        let small = json!({"spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}});
        assert!(!fits(&small, &claim, "manual"));
        let other = json!({"spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}, "claimRef": {"name": "x", "namespace": "db"}}});
        assert!(!fits(&other, &claim, "manual"));
    }

    #[test]
    fn default_class_by_annotation() {
        let classes = vec![
            Arc::new(json!({"metadata": {"name": "fast"}})),
            Arc::new(json!({"metadata": {"name": "standard", "annotations": {DEFAULT_CLASS: "true"}}})),
        ];
        assert_eq!(default_class(&classes).as_deref(), Some("standard"));
    }
}
