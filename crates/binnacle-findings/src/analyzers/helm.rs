//! Helm releases whose latest revision failed or never finished.

use super::Analyzer;
use crate::finding::{Evidence, Finding, ProposedCall, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::json;
use std::collections::BTreeMap;

/// Reports Helm releases whose latest revision is `failed` or `pending-install`/`pending-upgrade`/
/// `pending-rollback`. Helm 3 stores each revision as a Secret (`sh.helm.release.v1.<name>.v<N>`, type
/// `helm.sh/release.v1`) labelled `owner=helm`, `name`, `status` and `version`: only those labels are read,
/// never the Secret's data.
pub struct HelmRelease;

impl Analyzer for HelmRelease {
    fn name(&self) -> &'static str {
        "helm-release"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        // (namespace, release) -> [(revision, status)]
        let mut releases: BTreeMap<(&str, &str), Vec<(i64, &str)>> = BTreeMap::new();
        for secret in snap.list("secrets") {
            let label = |k: &str| get_str(secret, &format!("/metadata/labels/{k}"));
            if label("owner") != Some("helm") || !name_of(secret).starts_with("sh.helm.release.v1.") {
                continue;
            }
            let (Some(release), Some(status), Some(version)) =
                (label("name"), label("status"), label("version").and_then(|v| v.parse::<i64>().ok()))
            else {
                continue;
            };
            releases.entry((ns_of(secret), release)).or_default().push((version, status));
        }
        let mut out = Vec::new();
        for ((ns, release), mut revisions) in releases {
            revisions.sort_by_key(|r| std::cmp::Reverse(r.0));
            let Some(&(latest, status)) = revisions.first() else { continue };
            let pending = status.starts_with("pending-");
            if status != "failed" && !pending {
                continue;
            }
            let deployed = revisions.iter().find(|r| r.1 == "deployed").map(|r| r.0);
            let history: Vec<String> = revisions.iter().take(5).map(|(v, s)| format!("revision {v}: {s}")).collect();
            let (summary, cause, tool) = if pending {
                (
                    format!("helm release {ns}/{release} is stuck in {status} (revision {latest})"),
                    format!(
                        "a helm {} did not finish; helm refuses further operations on the release (\"another operation is in progress\") until it is rolled back",
                        status.trim_start_matches("pending-")
                    ),
                    "helm_release_status",
                )
            } else {
                (
                    format!("helm release {ns}/{release} failed (revision {latest})"),
                    match deployed {
                        Some(d) => format!(
                            "the last helm operation (revision {latest}) failed; revision {d} is still the deployed one"
                        ),
                        None => {
                            format!("the last helm operation (revision {latest}) failed and no revision is deployed")
                        }
                    },
                    "helm_release_history",
                )
            };
            out.push(Finding {
                severity: Severity::Warning,
                kind: "HelmRelease".into(),
                namespace: ns.into(),
                name: release.into(),
                analyzer: self.name().into(),
                summary,
                evidence: Evidence { conditions: history, ..Evidence::default() },
                likely_cause: cause,
                next_step: Some(ProposedCall {
                    tool: tool.into(),
                    arguments: json!({"release": release, "namespace": ns}),
                }),
            });
        }
        out
    }
}
