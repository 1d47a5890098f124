//! CronJobs whose latest Job failed.

use super::{Analyzer, condition, condition_line, describe, int};
use crate::finding::{Evidence, Finding, Severity, sanitize};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;

/// Reports CronJobs whose most recent Job has `Failed=True`: the last scheduled run failed. (Failed Jobs of a
/// CronJob are reported here, once, rather than by `job-failed`.)
pub struct CronJobFailing;

impl Analyzer for CronJobFailing {
    fn name(&self) -> &'static str {
        "cronjob-failing"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("cronjobs")
            .iter()
            .filter_map(|cj| {
                let (ns, name) = (ns_of(cj), name_of(cj));
                let jobs = snap.owned_by("jobs", ns, "CronJob", name);
                let latest = jobs
                    .iter()
                    .max_by_key(|j| (get_str(j, "/metadata/creationTimestamp").unwrap_or_default(), name_of(j)))?;
                let (_, reason, message) = condition(latest, "Failed").filter(|c| c.0 == "True")?;
                let job = name_of(latest);
                let failed = jobs.iter().filter(|j| condition(j, "Failed").is_some_and(|c| c.0 == "True")).count();
                let mut conditions: Vec<String> =
                    condition_line(latest, "Failed").map(|l| format!("job {job}: {l}")).into_iter().collect();
                conditions.push(format!("{failed} of the {} jobs kept failed", jobs.len()));
                conditions.push(format!(
                    "lastScheduleTime {}, lastSuccessfulTime {}",
                    get_str(cj, "/status/lastScheduleTime").unwrap_or("never"),
                    get_str(cj, "/status/lastSuccessfulTime").unwrap_or("never")
                ));
                let mut events = snap.events_for("Job", ns, job);
                events.extend(snap.events_for("CronJob", ns, name));
                Some(Finding {
                    severity: Severity::Warning,
                    kind: "CronJob".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!(
                        "cronjob {ns}/{name}: its last job {job} failed ({reason}, {} failed pods)",
                        int(latest, "/status/failed").unwrap_or(0)
                    ),
                    evidence: Evidence { conditions, events, logs: Vec::new() },
                    likely_cause: format!("{reason}: {}", sanitize(message)),
                    next_step: describe("Job", ns, job),
                })
            })
            .collect()
    }
}
