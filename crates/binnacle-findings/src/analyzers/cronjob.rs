//! CronJobs that are suspended or whose schedule cannot be parsed.

use super::{Analyzer, describe};
use crate::At;
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;

/// Whether a schedule is valid: a macro (`@daily`, `@every 5m`) or five cron fields whose values are in range
/// (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT), with an
/// optional `TZ=` prefix.
pub(crate) fn schedule_looks_valid(schedule: &str) -> bool {
    let s = schedule.trim();
    let s = if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") { s.split_once(' ').map_or("", |x| x.1) } else { s };
    if let Some(every) = s.strip_prefix("@every ") {
        return !every.trim().is_empty();
    }
    if s.starts_with('@') {
        return matches!(s, "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly");
    }
    const MONTHS: &[&str] = &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let fields: Vec<&str> = s.split_whitespace().collect();
    let ranges: [(u32, u32, &[&str], u32); 5] =
        [(0, 59, &[], 0), (0, 23, &[], 0), (1, 31, &[], 0), (1, 12, MONTHS, 1), (0, 7, DAYS, 0)];
    fields.len() == 5
        && fields.iter().zip(ranges).enumerate().all(|(i, (field, (lo, hi, names, first)))| {
            let value = |v: &str| -> Option<u32> {
                let by_name = names.iter().position(|n| n.eq_ignore_ascii_case(v)).map(|p| p as u32 + first);
                by_name.or_else(|| v.parse::<u32>().ok()).filter(|n| (lo..=hi).contains(n))
            };
            field.split(',').all(|item| {
                let (range, step) = match item.split_once('/') {
                    Some((r, st)) => (r, Some(st)),
                    None => (item, None),
                };
                if step.is_some_and(|st| st.parse::<u32>().map_or(true, |n| n == 0)) {
                    return false;
                }
                match range {
                    "*" => true,
                    "?" => i == 2 || i == 4,
                    r => match r.split_once('-') {
                        Some((a, b)) => matches!((value(a), value(b)), (Some(a), Some(b)) if a <= b),
                        None => value(r).is_some(),
                    },
                }
            })
        })
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
            let suspended = cj.at("/spec/suspend").and_then(serde_json::Value::as_bool) == Some(true);
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
        assert!(schedule_looks_valid("0 9-17/2 * JAN-MAR mon-fri"));
        assert!(schedule_looks_valid("TZ=Europe/Paris 30 2 1,15 * ?"));
        assert!(schedule_looks_valid("@every 1h30m"));
        assert!(!schedule_looks_valid("every 5 minutes"));
        assert!(!schedule_looks_valid("* * *"));
        assert!(!schedule_looks_valid("61 * * * *"));
        assert!(!schedule_looks_valid("0 24 * * *"));
        assert!(!schedule_looks_valid("*/0 * * * *"));
        assert!(!schedule_looks_valid("0 0 0 * *"));
        assert!(!schedule_looks_valid("0 0 * 13 *"));
        assert!(!schedule_looks_valid("0 0 * * 5-1"));
        assert!(!schedule_looks_valid("@fortnightly"));
    }
}
