//! The CronJob controller: on the simulated clock, creates the Job `<cronjob>-<scheduled unix minutes>`
//! from `jobTemplate` for the most recent unmet schedule time since `lastScheduleTime` (or creation),
//! never a burst of missed runs, and none when `startingDeadlineSeconds` has passed (MissSchedule).
//! Honours `suspend`, `timeZone`, `concurrencyPolicy` (Allow; Forbid skips while a Job is active;
//! Replace deletes the active Jobs first) and the history limits, and keeps `status.active`,
//! `lastScheduleTime` and `lastSuccessfulTime`. Unparseable schedules get the controller's
//! `UnparseableSchedule` warning and no Jobs.

use super::super::util::{condition_status, deleting, owner_ref, s, uid};
use super::schedule;
use super::{Controller, Ctx, int_or, owned_by, write_status};
use crate::cluster::Propagation;
use binnacle_objects::time::{format_timestamp, parse_timestamp};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;

/// See the module docs.
pub struct CronJobController;

const COMPONENT: &str = "cronjob-controller";
const SCHEDULED_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

impl Controller for CronJobController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let cronjobs = ctx.list("batch", "cronjobs", None);
        if cronjobs.is_empty() {
            return;
        }
        let jobs = ctx.list("batch", "jobs", None);
        for cj in &cronjobs {
            let owned = owned_by(&jobs, s(cj, "/metadata/namespace"), uid(cj));
            sync(ctx, cj, &owned);
        }
    }
}

/// The finished condition of a Job (`Complete` or `Failed`), if any.
fn finished_as(job: &Value) -> Option<&'static str> {
    if condition_status(job, "Complete") == Some("True") {
        Some("Complete")
    } else if condition_status(job, "Failed") == Some("True") {
        Some("Failed")
    } else {
        None
    }
}

fn job_ref(job: &Value) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": s(job, "/metadata/name"),
        "namespace": s(job, "/metadata/namespace"),
        "resourceVersion": s(job, "/metadata/resourceVersion"),
        "uid": uid(job),
    })
}

fn sync(ctx: &Ctx<'_>, cj: &Arc<Value>, jobs: &[Arc<Value>]) {
    let mut status = cj.get("status").filter(|s| s.is_object()).cloned().unwrap_or(json!({}));
    track_jobs(ctx, cj, jobs, &mut status);
    if !deleting(cj)
        && !is_suspended(cj)
        && let Some((sched, tz)) = parsed(ctx, cj)
    {
        run_schedule(ctx, cj, &sched, &tz, &mut status);
    }
    clean_history(ctx, cj, jobs);
    if let Some(m) = status.as_object_mut()
        && m.get("active").and_then(Value::as_array).is_some_and(|a| a.is_empty())
    {
        m.remove("active");
    }
    write_status(ctx, "batch", "cronjobs", cj, status);
}

fn is_suspended(cj: &Value) -> bool {
    cj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true)
}

/// Updates `status.active` and `lastSuccessfulTime` from the Jobs, with the controller's events.
fn track_jobs(ctx: &Ctx<'_>, cj: &Value, jobs: &[Arc<Value>], status: &mut Value) {
    let mut active: Vec<Value> = status.get("active").and_then(Value::as_array).cloned().unwrap_or_default();
    for job in jobs {
        let in_active = active.iter().any(|r| s(r, "/uid") == uid(job));
        match finished_as(job) {
            None if !in_active && !deleting(job) => {
                let msg =
                    format!("Saw a job that the controller did not create or forgot: {}", s(job, "/metadata/name"));
                ctx.event(cj, true, "UnexpectedJob", &msg, COMPONENT);
            }
            Some(how) if in_active => {
                active.retain(|r| s(r, "/uid") != uid(job));
                let msg = format!("Saw completed job: {}, status: {how}", s(job, "/metadata/name"));
                ctx.event(cj, false, "SawCompletedJob", &msg, COMPONENT);
            }
            _ => {}
        }
        if finished_as(job) == Some("Complete") {
            let done = parse_timestamp(job.pointer("/status/completionTime"));
            let last = parse_timestamp(status.get("lastSuccessfulTime"));
            if let Some(done) = done.filter(|d| last.is_none_or(|l| *d > l)) {
                status["lastSuccessfulTime"] = json!(format_timestamp(done));
            }
        }
    }
    active.retain(|r| {
        let present = jobs.iter().any(|j| uid(j) == s(r, "/uid"));
        if !present {
            let msg = format!("Active job went missing: {}", s(r, "/name"));
            ctx.event(cj, false, "MissingJob", &msg, COMPONENT);
        }
        present
    });
    status["active"] = json!(active);
}

/// The schedule and time zone, or `None` after reporting why they are unusable.
fn parsed(ctx: &Ctx<'_>, cj: &Value) -> Option<(schedule::Schedule, TimeZone)> {
    let tz = match cj.pointer("/spec/timeZone").and_then(Value::as_str) {
        None => TimeZone::UTC,
        Some(name) => match TimeZone::get(name) {
            Ok(tz) => tz,
            Err(e) => {
                let msg = format!("invalid timeZone: {name:?}: {e}");
                ctx.event(cj, true, "UnknownTimeZone", &msg, COMPONENT);
                return None;
            }
        },
    };
    let spec = s(cj, "/spec/schedule");
    match schedule::parse(spec) {
        Ok(sched) => Some((sched, tz)),
        Err(e) => {
            let msg = format!("unparseable schedule: {spec:?} : {e}");
            ctx.event(cj, true, "UnparseableSchedule", &msg, COMPONENT);
            None
        }
    }
}

/// Starts the Job for the most recent unmet schedule time, if any, and asks to wake at the next one.
fn run_schedule(ctx: &Ctx<'_>, cj: &Value, sched: &schedule::Schedule, tz: &TimeZone, status: &mut Value) {
    if let Some(next) = sched.next_after(ctx.now, tz) {
        ctx.wake_at(next);
    }
    let created = parse_timestamp(cj.pointer("/metadata/creationTimestamp")).unwrap_or(ctx.now);
    let mut earliest = parse_timestamp(status.get("lastScheduleTime")).unwrap_or(created);
    let deadline = cj.pointer("/spec/startingDeadlineSeconds").and_then(Value::as_i64);
    if let Some(d) = deadline {
        earliest = earliest.max(ctx.now - SignedDuration::from_secs(d));
    }
    let (Some(scheduled), _) = sched.most_recent(earliest, ctx.now, tz) else { return };
    if deadline.is_some_and(|d| scheduled + SignedDuration::from_secs(d) < ctx.now) {
        let msg =
            format!("Missed scheduled time to start a job: {}", scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000"));
        ctx.event(cj, true, "MissSchedule", &msg, COMPONENT);
        return;
    }
    let name = job_name(cj, scheduled);
    let active = status.get("active").and_then(Value::as_array).cloned().unwrap_or_default();
    if active.iter().any(|r| s(r, "/name") == name) {
        return;
    }
    match s(cj, "/spec/concurrencyPolicy") {
        "Forbid" if !active.is_empty() => {
            let msg = "Not starting job because prior execution is running and concurrency policy is Forbid";
            ctx.event(cj, false, "JobAlreadyActive", msg, COMPONENT);
            return;
        }
        "Replace" => replace_active(ctx, cj, &active, status),
        _ => {}
    }
    start_job(ctx, cj, scheduled, tz, status);
}

fn job_name(cj: &Value, scheduled: Timestamp) -> String {
    format!("{}-{}", s(cj, "/metadata/name"), scheduled.as_second().div_euclid(60))
}

fn replace_active(ctx: &Ctx<'_>, cj: &Value, active: &[Value], status: &mut Value) {
    for r in active {
        if let Some(job) = ctx.get("batch", "jobs", s(r, "/namespace"), s(r, "/name")) {
            ctx.delete("batch", "jobs", &job, Propagation::Background);
            let msg = format!("Deleted job {}", s(&job, "/metadata/name"));
            ctx.event(cj, false, "SuccessfulDelete", &msg, COMPONENT);
        }
    }
    status["active"] = json!([]);
}

fn start_job(ctx: &Ctx<'_>, cj: &Value, scheduled: Timestamp, tz: &TimeZone, status: &mut Value) {
    let template = cj.pointer("/spec/jobTemplate").cloned().unwrap_or(json!({}));
    let mut annotations =
        template.pointer("/metadata/annotations").filter(|a| a.is_object()).cloned().unwrap_or(json!({}));
    annotations[SCHEDULED_ANNOTATION] =
        json!(scheduled.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string().replace("+00:00", "Z"));
    let name = job_name(cj, scheduled);
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": s(cj, "/metadata/namespace"),
            "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "annotations": annotations,
            "ownerReferences": [owner_ref(cj)],
        },
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
    });
    let created =
        ctx.create("batch", "jobs", s(cj, "/metadata/namespace"), job, "kube-controller-manager").or_else(|| {
            ctx.get("batch", "jobs", s(cj, "/metadata/namespace"), &name)
                .filter(|j| super::super::util::controlled_by(j, uid(cj)))
        });
    let Some(created) = created else { return };
    ctx.event(cj, false, "SuccessfulCreate", &format!("Created job {name}"), COMPONENT);
    if let Some(list) = status.get_mut("active").and_then(Value::as_array_mut)
        && !list.iter().any(|r| s(r, "/uid") == uid(&created))
    {
        list.push(job_ref(&created));
    }
    status["lastScheduleTime"] = json!(format_timestamp(scheduled));
}

/// Deletes the oldest finished Jobs beyond the successful and failed history limits.
fn clean_history(ctx: &Ctx<'_>, cj: &Value, jobs: &[Arc<Value>]) {
    for (how, field, default) in
        [("Complete", "successfulJobsHistoryLimit", 3), ("Failed", "failedJobsHistoryLimit", 1)]
    {
        let limit = int_or(cj, &format!("/spec/{field}"), default).max(0) as usize;
        let mut done: Vec<&Arc<Value>> = jobs.iter().filter(|j| !deleting(j) && finished_as(j) == Some(how)).collect();
        if done.len() <= limit {
            continue;
        }
        done.sort_by_key(|j| {
            parse_timestamp(j.pointer("/status/startTime"))
                .or_else(|| parse_timestamp(j.pointer("/metadata/creationTimestamp")))
        });
        for job in done.iter().take(done.len() - limit) {
            ctx.delete("batch", "jobs", job, Propagation::Background);
            let msg = format!("Deleted job {}", s(job, "/metadata/name"));
            ctx.event(cj, false, "SuccessfulDelete", &msg, COMPONENT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_use_scheduled_minutes() {
        let cj = json!({"metadata": {"name": "cleanup"}});
        let t: Timestamp = "2026-03-01T10:05:00Z".parse().expect("ts");
        assert_eq!(job_name(&cj, t), format!("cleanup-{}", t.as_second() / 60));
    }
}
