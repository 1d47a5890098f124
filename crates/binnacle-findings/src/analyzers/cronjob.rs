//! CronJobs that are suspended or whose schedule cannot be parsed.

use super::{Analyzer, describe};
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;

/// Whether a schedule looks valid: a macro (`@daily`) or five fields (an optional `TZ=` prefix allowed).
fn schedule_looks_valid(schedule: &str) -> bool {
    let s = schedule.trim();
    let s = if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") { s.split_once(' ').map_or("", |x| x.1) } else { s };
    if s.starts_with('@') {
        return matches!(s, "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly")
            || s.starts_with("@every ");
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5 && fields.iter().all(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || "*/,-?".contains(c)))
}

/// Reports suspended CronJobs (info) and CronJobs with an unparseable schedule (warning).
pub struct CronJobProblems;

impl Analyzer for CronJobProblems {
    fn name(&self) -> &'static str {
        "cronjob"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let mut out = Vec::new();
        for cj in snap.list("cronjobs") {
            let (ns, name) = (ns_of(cj), name_of(cj));
            let schedule = get_str(cj, "/spec/schedule").unwrap_or_default();
            let events = snap.events_for("CronJob", ns, name);
            let unparseable =
                events.iter().any(|e| e.reason == "UnparseableSchedule") || !schedule_looks_valid(schedule);
            let suspended = cj.pointer("/spec/suspend").and_then(serde_json::Value::as_bool) == Some(true);
            let base = |severity, summary: String, cause: String| Finding {
                severity,
                kind: "CronJob".into(),
                namespace: ns.into(),
                name: name.into(),
                analyzer: "cronjob".into(),
                summary,
                evidence: Evidence {
                    conditions: vec![format!("schedule {schedule:?}, suspend {suspended}")],
                    events: events.clone(),
                    logs: Vec::new(),
                },
                likely_cause: cause,
                next_step: describe("CronJob", ns, name),
            };
            if unparseable {
                out.push(base(
                    Severity::Warning,
                    format!("cronjob {ns}/{name} has an unparseable schedule {schedule:?}"),
                    "the schedule is not a valid cron expression; no jobs will be created".into(),
                ));
            } else if suspended {
                out.push(base(
                    Severity::Info,
                    format!("cronjob {ns}/{name} is suspended"),
                    "spec.suspend is true; no jobs will be created".into(),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::schedule_looks_valid;

    #[test]
    fn schedules() {
        assert!(schedule_looks_valid("*/5 * * * *"));
        assert!(schedule_looks_valid("@daily"));
        assert!(!schedule_looks_valid("every 5 minutes"));
        assert!(!schedule_looks_valid("* * *"));
    }
}
