//! Jobs that failed.

use super::{Analyzer, condition, condition_line, describe};
use crate::finding::{Evidence, Finding, Severity, sanitize};
use crate::snapshot::{Snapshot, name_of, ns_of};

/// Reports Jobs with `Failed=True` (e.g. `BackoffLimitExceeded`), except those a CronJob created.
pub struct JobFailed;

impl Analyzer for JobFailed {
    fn name(&self) -> &'static str {
        "job-failed"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("jobs")
            .iter()
            .filter_map(|j| {
                // A CronJob's failing Jobs are reported once, on the CronJob (`cronjob-failing`).
                if crate::snapshot::controller(j).is_some_and(|(kind, _)| kind == "CronJob") {
                    return None;
                }
                let (_, reason, message) = condition(j, "Failed").filter(|c| c.0 == "True")?;
                let (ns, name) = (ns_of(j), name_of(j));
                let failed = super::int(j, "/status/failed").unwrap_or(0);
                Some(Finding {
                    severity: Severity::Warning,
                    kind: "Job".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("job {ns}/{name} failed ({reason}, {failed} failed pods)"),
                    evidence: Evidence {
                        conditions: condition_line(j, "Failed").into_iter().collect(),
                        events: snap.events_for("Job", ns, name),
                        logs: Vec::new(),
                    },
                    likely_cause: format!("{reason}: {}", sanitize(message)),
                    next_step: describe("Job", ns, name),
                })
            })
            .collect()
    }
}
