//! PersistentVolumeClaims stuck Pending.

use super::{Analyzer, describe};
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;

/// Reports Pending PVCs, naming a StorageClass that does not exist.
pub struct PvcPending;

impl Analyzer for PvcPending {
    fn name(&self) -> &'static str {
        "pvc-pending"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("pvcs")
            .iter()
            .filter(|p| get_str(p, "/status/phase") == Some("Pending"))
            .map(|p| {
                let (ns, name) = (ns_of(p), name_of(p));
                let class = get_str(p, "/spec/storageClassName");
                let events = snap.events_for("PersistentVolumeClaim", ns, name);
                let cause = match class {
                    Some(c) if snap.get("storageclasses", "", c).is_none() => {
                        format!("StorageClass {c} does not exist")
                    }
                    Some(c) => events.iter().find(|e| e.reason == "ProvisioningFailed").map_or_else(
                        || format!("StorageClass {c} has not provisioned a volume"),
                        |e| e.message.clone(),
                    ),
                    None => "no StorageClass given and no default provisioned a volume".to_string(),
                };
                Finding {
                    severity: Severity::Warning,
                    kind: "PersistentVolumeClaim".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("PVC {ns}/{name} is Pending"),
                    evidence: Evidence {
                        conditions: vec![format!("phase Pending, storageClassName {}", class.unwrap_or("(none)"))],
                        events,
                        logs: Vec::new(),
                    },
                    likely_cause: cause,
                    next_step: describe("PersistentVolumeClaim", ns, name),
                }
            })
            .collect()
    }
}
