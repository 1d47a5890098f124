//! The Job controller. On first sight of a Job without `manualSelector` it does what the API server
//! does at creation: generates `spec.selector` (`batch.kubernetes.io/controller-uid`), labels the
//! template and gives an unlabelled Job its template's labels. It then keeps `parallelism` pods running
//! until `completions` pods have succeeded (or, with no `completions`, until one has), replacing
//! failed pods with exponential back-off (10s, 20s, … 6m)
//! until failures exceed `backoffLimit` (restarts count for `restartPolicy: OnFailure`). Finished pods
//! stay, as in a cluster. Success sets `SuccessCriteriaMet` then `Complete` and `completionTime`;
//! failure (back-off limit or `activeDeadlineSeconds`) sets `FailureTarget`, deletes the active pods,
//! then sets `Failed`. `suspend` deletes active pods; `ttlSecondsAfterFinished` deletes the finished
//! Job. `completionMode: Indexed` gives pods completion indexes and reports `completedIndexes`.
//! Not simulated: pod failure policies, success policies, `podReplacementPolicy`, backoff per index.

use super::super::replicaset::pod_from_template;
use super::super::util::{condition_status, deleting, pod_active, pod_ready, s, set_condition, uid};
use super::{Controller, Ctx, add_labels, int_or, now_string, owned_by, write_status};
use crate::cluster::Propagation;
use binnacle_objects::time::parse_timestamp;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// See the module docs.
pub struct JobController;

const COMPONENT: &str = "job-controller";
const UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
const NAME_LABEL: &str = "batch.kubernetes.io/job-name";
const INDEX_KEY: &str = "batch.kubernetes.io/job-completion-index";
const BACKOFF_LIMIT_MESSAGE: &str = "Job has reached the specified backoff limit";
const DEADLINE_MESSAGE: &str = "Job was active longer than specified deadline";
const COMPLETIONS_MESSAGE: &str = "Reached expected number of succeeded pods";
/// The pod re-creation back-off starts at 10s and doubles up to this.
const MAX_BACKOFF_SECS: i64 = 360;

impl Controller for JobController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let jobs = ctx.list("batch", "jobs", None);
        if jobs.is_empty() {
            return;
        }
        let pods = ctx.list("", "pods", None);
        for job in jobs.iter().filter(|j| !deleting(j)) {
            let job = match ensure_selector(ctx, job) {
                Some(updated) => updated,
                None => job.clone(),
            };
            if job.pointer("/spec/selector").is_none() {
                continue;
            }
            let owned = owned_by(&pods, s(&job, "/metadata/namespace"), uid(&job));
            sync(ctx, &job, &owned);
        }
    }
}

/// Generates the selector and template labels the API server adds to Jobs without `manualSelector`.
/// Written straight to the store so that `metadata.generation` stays 1, as after a real create.
fn ensure_selector(ctx: &Ctx<'_>, job: &Arc<Value>) -> Option<Arc<Value>> {
    if job.pointer("/spec/selector").is_some_and(|s| !s.is_null())
        || job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    let rt = ctx.rt("batch", "jobs")?;
    let (id, name) = (uid(job).to_string(), s(job, "/metadata/name").to_string());
    let mut updated = (**job).clone();
    updated["spec"]["selector"] = json!({"matchLabels": {UID_LABEL: id}});
    if let Some(template) = updated.pointer_mut("/spec/template") {
        add_labels(template, &[(UID_LABEL, &id), (NAME_LABEL, &name), ("controller-uid", &id), ("job-name", &name)]);
    }
    // Defaulting gives a Job without labels its template's labels.
    let unlabelled = job.pointer("/metadata/labels").and_then(Value::as_object).is_none_or(|l| l.is_empty());
    if let (true, Some(labels)) = (unlabelled, updated.pointer("/spec/template/metadata/labels").cloned()) {
        updated["metadata"]["labels"] = labels;
    }
    let rv = s(job, "/metadata/resourceVersion").parse::<u64>().ok();
    ctx.cluster.store().update(&rt.storage, updated, rv).ok()
}

/// What the Job's pods add up to.
#[derive(Debug, Default)]
struct Counts {
    active: Vec<Arc<Value>>,
    ready: i64,
    terminating: i64,
    succeeded: i64,
    failed: i64,
    /// Container restarts of active pods (they count as failures with `restartPolicy: OnFailure`).
    restarts: i64,
    succeeded_indexes: BTreeSet<i64>,
    last_failure: Option<Timestamp>,
}

fn count(pods: &[Arc<Value>]) -> Counts {
    let mut c = Counts::default();
    for pod in pods {
        match s(pod, "/status/phase") {
            "Succeeded" => {
                c.succeeded += 1;
                if let Some(ix) = completion_index(pod) {
                    c.succeeded_indexes.insert(ix);
                }
            }
            "Failed" => {
                c.failed += 1;
                c.last_failure = c.last_failure.max(finished_at(pod));
            }
            _ if deleting(pod) => c.terminating += 1,
            _ => {
                c.ready += i64::from(pod_ready(pod));
                c.restarts += restart_count(pod);
                c.active.push(pod.clone());
            }
        }
    }
    c
}

fn completion_index(pod: &Value) -> Option<i64> {
    pod.pointer("/metadata/annotations").and_then(|a| a.get(INDEX_KEY)).and_then(Value::as_str)?.parse().ok()
}

fn finished_at(pod: &Value) -> Option<Timestamp> {
    let statuses = pod.pointer("/status/containerStatuses").and_then(Value::as_array)?;
    statuses.iter().filter_map(|c| parse_timestamp(c.pointer("/state/terminated/finishedAt"))).max()
}

fn restart_count(pod: &Value) -> i64 {
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|k| pod.pointer(&format!("/status/{k}")).and_then(Value::as_array).cloned().unwrap_or_default())
        .map(|c| int_or(&c, "/restartCount", 0))
        .sum()
}

/// How the Job stands after this pass.
enum Verdict {
    Running,
    Succeeded,
    Failed { reason: &'static str, message: &'static str },
}

fn finished(job: &Value) -> bool {
    condition_status(job, "Complete") == Some("True") || condition_status(job, "Failed") == Some("True")
}

fn sync(ctx: &Ctx<'_>, job: &Arc<Value>, pods: &[Arc<Value>]) {
    let counts = count(pods);
    if finished(job) {
        expire(ctx, job);
        write_counts(ctx, job, &counts, None);
        return;
    }
    let verdict = verdict(ctx, job, &counts);
    let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    match &verdict {
        Verdict::Running if suspended => delete_active(ctx, job, &counts.active),
        Verdict::Running => manage_pods(ctx, job, &counts),
        _ => delete_active(ctx, job, &counts.active),
    }
    write_counts(ctx, job, &counts, Some((&verdict, suspended)));
}

fn verdict(ctx: &Ctx<'_>, job: &Value, c: &Counts) -> Verdict {
    let limit = int_or(job, "/spec/backoffLimit", 6);
    let on_failure = s(job, "/spec/template/spec/restartPolicy") == "OnFailure";
    let restarts_exceed = on_failure && if limit == 0 { c.restarts > 0 } else { c.restarts >= limit };
    if condition_status(job, "FailureTarget") == Some("True") {
        return match s(&failure_target(job), "/reason") {
            "DeadlineExceeded" => Verdict::Failed { reason: "DeadlineExceeded", message: DEADLINE_MESSAGE },
            _ => Verdict::Failed { reason: "BackoffLimitExceeded", message: BACKOFF_LIMIT_MESSAGE },
        };
    }
    if condition_status(job, "SuccessCriteriaMet") == Some("True") || success_reached(job, c) {
        return Verdict::Succeeded;
    }
    if c.failed > limit || restarts_exceed {
        return Verdict::Failed { reason: "BackoffLimitExceeded", message: BACKOFF_LIMIT_MESSAGE };
    }
    if let Some(deadline) = deadline(job) {
        if ctx.now >= deadline {
            return Verdict::Failed { reason: "DeadlineExceeded", message: DEADLINE_MESSAGE };
        }
        ctx.wake_at(deadline);
    }
    Verdict::Running
}

fn failure_target(job: &Value) -> Value {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "FailureTarget"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn deadline(job: &Value) -> Option<Timestamp> {
    let secs = job.pointer("/spec/activeDeadlineSeconds").and_then(Value::as_i64)?;
    let start = parse_timestamp(job.pointer("/status/startTime"))?;
    Some(start + SignedDuration::from_secs(secs))
}

fn completions(job: &Value) -> Option<i64> {
    job.pointer("/spec/completions").and_then(Value::as_i64).map(|n| n.max(0))
}

fn indexed(job: &Value) -> bool {
    s(job, "/spec/completionMode") == "Indexed"
}

fn success_reached(job: &Value, c: &Counts) -> bool {
    match completions(job) {
        Some(n) if indexed(job) => c.succeeded_indexes.range(0..n).count() as i64 >= n,
        Some(n) => c.succeeded >= n,
        None => c.succeeded >= 1 && c.active.is_empty(),
    }
}

/// Creates pods up to parallelism (and the remaining completions), after the failure back-off.
fn manage_pods(ctx: &Ctx<'_>, job: &Value, c: &Counts) {
    let parallelism = int_or(job, "/spec/parallelism", 1).max(0);
    let active = c.active.len() as i64;
    let wanted = match completions(job) {
        Some(n) if indexed(job) => parallelism.min(n - c.succeeded_indexes.range(0..n).count() as i64),
        Some(n) => parallelism.min(n - c.succeeded),
        None if c.succeeded > 0 => 0,
        None => parallelism,
    }
    .max(0);
    if active > wanted {
        let mut extra = c.active.clone();
        extra.sort_by_key(|p| (pod_ready(p), std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_string())));
        let excess = ((active - wanted) as usize).min(extra.len());
        delete_active(ctx, job, &extra[..excess]);
        return;
    }
    if active == wanted || !backoff_elapsed(ctx, c) {
        return;
    }
    let mut free_indexes = free_indexes(job, c).into_iter();
    for _ in active..wanted {
        let index = if indexed(job) { free_indexes.next() } else { None };
        if indexed(job) && index.is_none() {
            break;
        }
        create_pod(ctx, job, index);
    }
}

/// Whether the back-off after the latest failure is over (wakes the controller when it will be).
fn backoff_elapsed(ctx: &Ctx<'_>, c: &Counts) -> bool {
    let failures = c.failed + c.restarts;
    let Some(last) = c.last_failure.filter(|_| failures > 0) else { return true };
    let delay = (10i64 << (failures - 1).clamp(0, 6)).min(MAX_BACKOFF_SECS);
    let at = last + SignedDuration::from_secs(delay);
    if ctx.now >= at {
        return true;
    }
    ctx.wake_at(at);
    false
}

fn free_indexes(job: &Value, c: &Counts) -> Vec<i64> {
    let n = completions(job).unwrap_or(0);
    let busy: BTreeSet<i64> = c.active.iter().filter_map(|p| completion_index(p)).collect();
    (0..n).filter(|ix| !c.succeeded_indexes.contains(ix) && !busy.contains(ix)).collect()
}

fn create_pod(ctx: &Ctx<'_>, job: &Value, index: Option<i64>) {
    let template = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let name = s(job, "/metadata/name");
    let prefix = match index {
        Some(ix) => format!("{name}-{ix}-"),
        None => format!("{name}-"),
    };
    let mut pod = pod_from_template(job, &template, &prefix, &[]);
    if let Some(ix) = index {
        let ix = ix.to_string();
        add_labels(&mut pod, &[(INDEX_KEY, &ix)]);
        pod["metadata"]["annotations"] = merged(pod.pointer("/metadata/annotations"), INDEX_KEY, &ix);
        pod["spec"]["hostname"] = json!(format!("{name}-{ix}"));
    }
    if !ctx.may_create(job) {
        return;
    }
    match ctx.create_for(job, "pods", s(job, "/metadata/namespace"), pod, "kube-controller-manager") {
        Ok(created) => {
            let msg = format!("Created pod: {}", s(&created, "/metadata/name"));
            ctx.event(job, false, "SuccessfulCreate", &msg, COMPONENT);
        }
        Err(e) => ctx.event(job, true, "FailedCreate", &format!("Error creating: {}", e.message), COMPONENT),
    }
}

fn merged(map: Option<&Value>, key: &str, value: &str) -> Value {
    let mut m = map.filter(|m| m.is_object()).cloned().unwrap_or(json!({}));
    m[key] = json!(value);
    m
}

fn delete_active(ctx: &Ctx<'_>, job: &Value, pods: &[Arc<Value>]) {
    for pod in pods.iter().filter(|p| pod_active(p)) {
        ctx.delete("", "pods", pod, Propagation::Background);
        let msg = format!("Deleted pod: {}", s(pod, "/metadata/name"));
        ctx.event(job, false, "SuccessfulDelete", &msg, COMPONENT);
    }
}

/// Deletes a finished Job whose `ttlSecondsAfterFinished` has passed.
fn expire(ctx: &Ctx<'_>, job: &Value) {
    let Some(ttl) = job.pointer("/spec/ttlSecondsAfterFinished").and_then(Value::as_i64) else { return };
    let finished_at = parse_timestamp(job.pointer("/status/completionTime")).or_else(|| {
        job.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Failed" && c["status"] == "True"))
            .and_then(|c| parse_timestamp(c.get("lastTransitionTime")))
    });
    let Some(at) = finished_at.map(|t| t + SignedDuration::from_secs(ttl)) else { return };
    if ctx.now >= at {
        ctx.delete("batch", "jobs", job, Propagation::Foreground);
    } else {
        ctx.wake_at(at);
    }
}

/// Writes counts, times and conditions; emits the events of transitions.
fn write_counts(ctx: &Ctx<'_>, job: &Value, c: &Counts, verdict: Option<(&Verdict, bool)>) {
    let mut j = job.clone();
    if !j["status"].is_object() {
        j["status"] = json!({});
    }
    let st = &mut j["status"];
    for (key, v) in [("active", c.active.len() as i64), ("succeeded", c.succeeded), ("failed", c.failed)] {
        if v > 0 {
            st[key] = json!(v);
        } else if let Some(m) = st.as_object_mut() {
            m.remove(key);
        }
    }
    st["ready"] = json!(c.ready);
    st["terminating"] = json!(c.terminating);
    st["uncountedTerminatedPods"] = json!({});
    if indexed(job) {
        st["completedIndexes"] = json!(index_ranges(&c.succeeded_indexes));
    }
    if let Some((verdict, suspended)) = verdict {
        transition(ctx, job, &mut j, c, verdict, suspended);
    }
    if let Some(status) = j.get("status").cloned() {
        write_status(ctx, "batch", "jobs", job, status);
    }
}

fn job_condition(j: &mut Value, ty: &str, status: &str, reason: &str, message: &str, now: &str) {
    set_condition(j, ty, status, reason, message, now, false);
    let cond = j
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
        .and_then(|cs| cs.iter_mut().find(|c| c["type"] == ty));
    if let Some(c) = cond {
        c["lastProbeTime"] = c["lastTransitionTime"].clone();
    }
}

fn transition(ctx: &Ctx<'_>, job: &Value, j: &mut Value, c: &Counts, verdict: &Verdict, suspended: bool) {
    let now = now_string(ctx);
    suspension(ctx, job, j, suspended, &now);
    if !suspended && j.pointer("/status/startTime").is_none() {
        j["status"]["startTime"] = json!(now);
    }
    let settled = c.active.is_empty() && c.terminating == 0;
    match verdict {
        Verdict::Running => {}
        Verdict::Succeeded => {
            job_condition(j, "SuccessCriteriaMet", "True", "CompletionsReached", COMPLETIONS_MESSAGE, &now);
            if settled {
                job_condition(j, "Complete", "True", "CompletionsReached", COMPLETIONS_MESSAGE, &now);
                j["status"]["completionTime"] = json!(now);
                ctx.event(job, false, "Completed", "Job completed", COMPONENT);
            }
        }
        Verdict::Failed { reason, message } => {
            if condition_status(job, "FailureTarget") != Some("True") {
                ctx.event(job, true, reason, message, COMPONENT);
            }
            job_condition(j, "FailureTarget", "True", reason, message, &now);
            if settled {
                job_condition(j, "Failed", "True", reason, message, &now);
            }
        }
    }
}

fn suspension(ctx: &Ctx<'_>, job: &Value, j: &mut Value, suspended: bool, now: &str) {
    let was = condition_status(job, "Suspended") == Some("True");
    if suspended && !was {
        job_condition(j, "Suspended", "True", "JobSuspended", "Job suspended", now);
        ctx.event(job, false, "Suspended", "Job suspended", COMPONENT);
    } else if !suspended && was {
        job_condition(j, "Suspended", "False", "JobResumed", "Job resumed", now);
        ctx.event(job, false, "Resumed", "Job resumed", COMPONENT);
        if let Some(m) = j["status"].as_object_mut() {
            m.remove("startTime");
        }
    }
}

/// `0-2,5` style ranges of indexes.
fn index_ranges(indexes: &BTreeSet<i64>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = indexes.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if end == start { start.to_string() } else { format!("{start}-{end}") });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_are_ranges() {
        let set: BTreeSet<i64> = [0, 1, 2, 5, 7, 8].into_iter().collect();
        assert_eq!(index_ranges(&set), "0-2,5,7-8");
        assert_eq!(index_ranges(&BTreeSet::new()), "");
    }

    #[test]
    fn counting_pods() {
        let pods = vec![
            Arc::new(json!({"status": {"phase": "Succeeded"}})),
            Arc::new(
                json!({"status": {"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"finishedAt": "2026-01-01T00:00:05Z"}}}]}}),
            ),
            Arc::new(
                json!({"status": {"phase": "Running", "containerStatuses": [{"restartCount": 2}], "conditions": [{"type": "Ready", "status": "True"}]}}),
            ),
            Arc::new(
                json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Running"}}),
            ),
        ];
        let c = count(&pods);
        assert_eq!((c.succeeded, c.failed, c.active.len(), c.ready, c.terminating, c.restarts), (1, 1, 1, 1, 1, 2));
        assert_eq!(c.last_failure, Some("2026-01-01T00:00:05Z".parse().expect("ts")));
    }
}
