//! PodDisruptionBudgets that allow no disruption.

use super::{Analyzer, describe, int};
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};

/// Reports PDBs that cover pods but allow zero disruptions (drains and evictions will block).
pub struct PdbZeroDisruptions;

impl Analyzer for PdbZeroDisruptions {
    fn name(&self) -> &'static str {
        "pdb"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("pdbs")
            .iter()
            .filter_map(|p| {
                let allowed = int(p, "/status/disruptionsAllowed")?;
                let expected = int(p, "/status/expectedPods").unwrap_or(0);
                if allowed > 0 || expected == 0 {
                    return None;
                }
                let (ns, name) = (ns_of(p), name_of(p));
                let healthy = int(p, "/status/currentHealthy").unwrap_or(0);
                let desired = int(p, "/status/desiredHealthy").unwrap_or(0);
                Some(Finding {
                    severity: Severity::Warning,
                    kind: "PodDisruptionBudget".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("PDB {ns}/{name} allows zero disruptions ({healthy} healthy, {desired} required)"),
                    evidence: Evidence {
                        conditions: vec![format!("disruptionsAllowed=0, currentHealthy={healthy}, desiredHealthy={desired}, expectedPods={expected}")],
                        ..Evidence::default()
                    },
                    likely_cause: if healthy < desired {
                        "too few of its pods are healthy".into()
                    } else {
                        "its budget leaves no room: minAvailable equals the replica count (or maxUnavailable is 0)".into()
                    },
                    next_step: describe("PodDisruptionBudget", ns, name),
                })
            })
            .collect()
    }
}
