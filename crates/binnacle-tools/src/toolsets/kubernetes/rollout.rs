//! Rollouts of Deployments, StatefulSets and DaemonSets: `rollout_status` (one-shot, the checks a
//! rollout watcher makes, plus why pods are not coming up), `rollout_history` (revisions from ReplicaSets
//! or ControllerRevisions), `rollout_undo` (back to the previous or a given revision; paused Deployments
//! are refused) and `rollout_restart` (the `restartedAt` template annotation).

use super::common::{
    self, FIELD_MANAGER, Raw, Shared, arr, check_ns, compact_schema, display, int, kinds, owned_by, s,
};
use super::describe::{first_container_problem, images};
use super::preview::{self, DRY_RUN};
use super::resolve::ResourceInfo;
use super::workloads::{CHANGE_CAUSE, workload};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use crate::validate;
use binnacle_objects::selector::LabelSelector;
use kube::Client;
use kube::api::{ListParams, Patch, PatchParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const KINDS: &[&str] = &["apps/Deployment", "apps/StatefulSet", "apps/DaemonSet"];
const REVISION: &str = "deployment.kubernetes.io/revision";
/// The template annotation a restart sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Arguments of `rollout_status` and `rollout_history`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct RolloutInput {
    /// Deployment (default), StatefulSet, DaemonSet
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
}

fn check(kind: Option<&String>, name: &str, ns: Option<&String>) -> Result<(), ToolError> {
    if let Some(k) = kind {
        common::check_kind(k)?;
    }
    validate::object_name(name)?;
    check_ns(ns)
}

struct Target {
    client: Client,
    info: ResourceInfo,
    ns: String,
    obj: Value,
    display: String,
}

async fn target(
    k: &Shared,
    ctx: &ToolContext,
    kind: Option<&str>,
    name: &str,
    ns: Option<&str>,
) -> Result<Target, ToolError> {
    let (client, info) = workload(k, ctx, kind, KINDS).await?;
    let ns = common::namespace_for(&client, &info, ns).unwrap_or_default();
    let obj = Raw::new(&client, &info, Some(&ns)).get(name).await?;
    Ok(Target { display: display(&info.kind, Some(&ns), name), client, info, ns, obj })
}

// -------------------------------------------------------------------------------- rollout_status

/// What `rollout_status` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RolloutStatusOutput {
    /// Kind namespace/name.
    pub object: String,
    /// The rollout finished.
    pub done: bool,
    /// The rollout failed (progress deadline exceeded).
    pub failed: bool,
    /// What it waits for, or that it is complete.
    pub message: String,
    /// Why new pods do not become ready, when that is the hold-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocker: Option<String>,
}

/// The state of a rollout, from the object alone: (done, failed, message).
pub fn rollout_state(kind: &str, obj: &Value) -> Result<(bool, bool, String), String> {
    let generation = int(obj, "/metadata/generation");
    let observed = int(obj, "/status/observedGeneration");
    let waiting_for_controller = observed < generation;
    match kind {
        "Deployment" => {
            if waiting_for_controller {
                return Ok((false, false, format!("waiting for the controller to observe generation {generation}")));
            }
            if arr(obj, "/status/conditions")
                .iter()
                .any(|c| s(c, "/type") == "Progressing" && s(c, "/reason") == "ProgressDeadlineExceeded")
            {
                return Ok((false, true, "the Deployment exceeded its progress deadline".into()));
            }
            let want = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let (updated, total, available) = (
                int(obj, "/status/updatedReplicas"),
                int(obj, "/status/replicas"),
                int(obj, "/status/availableReplicas"),
            );
            if updated < want {
                return Ok((false, false, format!("{updated} of {want} new replicas have been updated")));
            }
            if total > updated {
                return Ok((false, false, format!("{} old replicas are pending termination", total - updated)));
            }
            if available < updated {
                return Ok((false, false, format!("{available} of {updated} updated replicas are available")));
            }
            Ok((true, false, format!("successfully rolled out ({available} replicas available)")))
        }
        "StatefulSet" => {
            if s(obj, "/spec/updateStrategy/type") == "OnDelete" {
                return Err("rollout status is only available for the RollingUpdate strategy".into());
            }
            if waiting_for_controller {
                return Ok((false, false, format!("waiting for the controller to observe generation {generation}")));
            }
            let want = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let ready = int(obj, "/status/readyReplicas");
            if ready < want {
                return Ok((false, false, format!("{ready} of {want} pods are ready")));
            }
            let partition = int(obj, "/spec/updateStrategy/rollingUpdate/partition");
            let updated = int(obj, "/status/updatedReplicas");
            if partition > 0 {
                let target = (want - partition).max(0);
                if updated < target {
                    return Ok((
                        false,
                        false,
                        format!("{updated} of {target} pods above the partition have been updated"),
                    ));
                }
                return Ok((
                    true,
                    false,
                    format!("partitioned roll out complete: {updated} new pods have been updated"),
                ));
            }
            let (update_rev, current_rev) = (s(obj, "/status/updateRevision"), s(obj, "/status/currentRevision"));
            if update_rev != current_rev {
                return Ok((false, false, format!("{updated} of {want} pods are at revision {update_rev}")));
            }
            Ok((
                true,
                false,
                format!(
                    "roll out complete: {} pods at revision {current_rev}",
                    int(obj, "/status/currentReplicas").max(ready)
                ),
            ))
        }
        "DaemonSet" => {
            if s(obj, "/spec/updateStrategy/type") == "OnDelete" {
                return Err("rollout status is only available for the RollingUpdate strategy".into());
            }
            if waiting_for_controller {
                return Ok((false, false, format!("waiting for the controller to observe generation {generation}")));
            }
            let desired = int(obj, "/status/desiredNumberScheduled");
            let updated = int(obj, "/status/updatedNumberScheduled");
            if updated < desired {
                return Ok((false, false, format!("{updated} of {desired} updated pods are scheduled")));
            }
            let available = int(obj, "/status/numberAvailable");
            if available < desired {
                return Ok((false, false, format!("{available} of {desired} updated pods are available")));
            }
            Ok((true, false, format!("successfully rolled out ({available} pods)")))
        }
        other => Err(format!("{other} has no rollout")),
    }
}

/// Why a workload's pods are not becoming ready: the first pod problem found.
async fn blocker(t: &Target) -> Result<Option<String>, ToolError> {
    let Some(sel) = t.obj.pointer("/spec/selector").and_then(|s| LabelSelector::from_object(s).ok()) else {
        return Ok(None);
    };
    let pods = Raw::new(&t.client, &kinds::pods(), Some(&t.ns))
        .list_all(&ListParams::default().labels(&sel.to_selector_string()), 500)
        .await?;
    let now = common::now_after(&pods);
    let mut newest: Vec<&Value> = pods.iter().collect();
    newest.sort_by_key(|p| std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_string()));
    Ok(newest.iter().find_map(|p| {
        first_container_problem(p, now).map(|why| format!("pod {}: {}", s(p, "/metadata/name"), untrusted_text(&why)))
    }))
}

/// `rollout_status`.
pub struct RolloutStatus(pub Shared);

impl Tool for RolloutStatus {
    type Input = RolloutInput;
    type Output = RolloutStatusOutput;
    const NAME: &'static str = "rollout_status";
    const TITLE: &'static str = "Rollout status";
    const DESCRIPTION: &'static str = "Is a rollout done, progressing or failed, and what blocks it?";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["workloads", "rollout", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &RolloutInput) -> Result<(), ToolError> {
        check(input.kind.as_ref(), &input.name, input.namespace.as_ref())
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutInput) -> Result<Reply<RolloutStatusOutput>, ToolError> {
        let t = target(&self.0, ctx, input.kind.as_deref(), &input.name, input.namespace.as_deref()).await?;
        let (done, failed, message) = rollout_state(&t.info.kind, &t.obj).map_err(ToolError::invalid)?;
        let blocker = if done { None } else { blocker(&t).await? };
        let mut summary = format!(
            "{}: {}{message}.",
            t.display,
            if done {
                ""
            } else if failed {
                "FAILED: "
            } else {
                "in progress: "
            }
        );
        if let Some(b) = &blocker {
            summary.push_str(&format!(" Blocked by {b}."));
        }
        Ok(Reply::new(summary, RolloutStatusOutput { object: t.display, done, failed, message, blocker }).untrusted())
    }
}

// ------------------------------------------------------------------------------- rollout_history

/// One revision.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// Revision number.
    pub revision: i64,
    /// Why it was made (kubernetes.io/change-cause).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub change_cause: String,
    /// Container images.
    pub images: String,
    /// The revision running now.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub current: bool,
    /// ReplicaSet or ControllerRevision holding it.
    pub source: String,
    #[serde(skip)]
    template: Value,
}

/// Revisions of a workload, newest first.
async fn revisions(t: &Target) -> Result<Vec<Revision>, ToolError> {
    let uid = s(&t.obj, "/metadata/uid");
    let mut out = Vec::new();
    if t.info.kind == "Deployment" {
        let current =
            s(&t.obj, &format!("/metadata/annotations/{}", REVISION.replace('/', "~1"))).parse::<i64>().unwrap_or(0);
        for rs in
            Raw::new(&t.client, &kinds::replica_sets(), Some(&t.ns)).list_all(&ListParams::default(), 2000).await?
        {
            if !owned_by(&rs, uid) {
                continue;
            }
            let revision =
                s(&rs, &format!("/metadata/annotations/{}", REVISION.replace('/', "~1"))).parse::<i64>().unwrap_or(0);
            let mut template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
            if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
                labels.remove("pod-template-hash");
            }
            out.push(Revision {
                revision,
                change_cause: untrusted_text(s(
                    &rs,
                    &format!("/metadata/annotations/{}", CHANGE_CAUSE.replace('/', "~1")),
                )),
                images: images(rs.pointer("/spec/template/spec")),
                current: revision == current,
                source: format!("ReplicaSet {}", s(&rs, "/metadata/name")),
                template,
            });
        }
    } else {
        let mut max = 0;
        for cr in Raw::new(&t.client, &kinds::controller_revisions(), Some(&t.ns))
            .list_all(&ListParams::default(), 2000)
            .await?
        {
            if !owned_by(&cr, uid) {
                continue;
            }
            let revision = int(&cr, "/revision");
            max = max.max(revision);
            let data = cr.get("data").cloned().unwrap_or(json!({}));
            out.push(Revision {
                revision,
                change_cause: untrusted_text(s(
                    &cr,
                    &format!("/metadata/annotations/{}", CHANGE_CAUSE.replace('/', "~1")),
                )),
                images: images(data.pointer("/spec/template/spec")),
                current: false,
                source: format!("ControllerRevision {}", s(&cr, "/metadata/name")),
                template: data,
            });
        }
        let update = s(&t.obj, "/status/updateRevision");
        for r in &mut out {
            r.current = if update.is_empty() { r.revision == max } else { r.source.ends_with(update) };
        }
        if !out.iter().any(|r| r.current) {
            for r in out.iter_mut().filter(|r| r.revision == max) {
                r.current = true;
            }
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.revision));
    Ok(out)
}

/// What `rollout_history` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RolloutHistoryOutput {
    /// Kind namespace/name.
    pub object: String,
    /// Revisions, newest first.
    pub revisions: Vec<Revision>,
}

/// `rollout_history`.
pub struct RolloutHistory(pub Shared);

impl Tool for RolloutHistory {
    type Input = RolloutInput;
    type Output = RolloutHistoryOutput;
    const NAME: &'static str = "rollout_history";
    const TITLE: &'static str = "Rollout history";
    const DESCRIPTION: &'static str = "List a workload's revisions with change cause and images.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["workloads", "rollout", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &RolloutInput) -> Result<(), ToolError> {
        check(input.kind.as_ref(), &input.name, input.namespace.as_ref())
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutInput) -> Result<Reply<RolloutHistoryOutput>, ToolError> {
        let t = target(&self.0, ctx, input.kind.as_deref(), &input.name, input.namespace.as_deref()).await?;
        let revs = revisions(&t).await?;
        let current = revs.iter().find(|r| r.current).map(|r| r.revision);
        let summary = format!(
            "{} has {} revision(s){}.",
            t.display,
            revs.len(),
            current.map(|c| format!("; current: {c}")).unwrap_or_default()
        );
        Ok(Reply::new(summary, RolloutHistoryOutput { object: t.display, revisions: revs }).untrusted())
    }
}

// ---------------------------------------------------------------------------------- rollout_undo

/// Arguments of `rollout_undo`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct RolloutUndoInput {
    /// Deployment (default), StatefulSet, DaemonSet
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    /// Default: previous
    pub to_revision: Option<i64>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// What `rollout_undo` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutUndoOutput {
    /// Kind namespace/name.
    pub object: String,
    /// Revision before.
    pub from_revision: i64,
    /// Revision restored.
    pub to_revision: i64,
    /// Images of the restored revision.
    pub images: String,
    /// With dryRun: unified diff of the workload (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// `rollout_undo`.
pub struct RolloutUndo(pub Shared);

impl Tool for RolloutUndo {
    type Input = RolloutUndoInput;
    type Output = RolloutUndoOutput;
    const NAME: &'static str = "rollout_undo";
    const TITLE: &'static str = "Roll back";
    const DESCRIPTION: &'static str = "Roll a workload back to the previous revision or toRevision.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["workloads", "rollout", "write"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    fn validate(input: &RolloutUndoInput) -> Result<(), ToolError> {
        check(input.kind.as_ref(), &input.name, input.namespace.as_ref())?;
        if let Some(r) = input.to_revision {
            common::check_range("toRevision", r, 1, i64::from(i32::MAX))?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: RolloutUndoInput) -> Result<Reply<RolloutUndoOutput>, ToolError> {
        let t = target(&self.0, ctx, input.kind.as_deref(), &input.name, input.namespace.as_deref()).await?;
        if t.info.kind == "Deployment" && t.obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
            return Err(ToolError::Conflict(format!(
                "{} is paused; a paused Deployment cannot be rolled back (resume it first)",
                t.display
            )));
        }
        let revs = revisions(&t).await?;
        let current = revs.iter().find(|r| r.current).map(|r| r.revision).unwrap_or(0);
        let list = revs.iter().map(|r| r.revision.to_string()).collect::<Vec<_>>().join(", ");
        let wanted = match input.to_revision {
            Some(n) => revs
                .iter()
                .find(|r| r.revision == n)
                .ok_or_else(|| ToolError::NotFound(format!("{} has no revision {n}; revisions: {list}", t.display)))?,
            None => revs.iter().find(|r| r.revision < current).ok_or_else(|| {
                ToolError::NotFound(format!(
                    "{} has no revision before {current} to go back to (revisions: {list})",
                    t.display
                ))
            })?,
        };
        let mut out = RolloutUndoOutput {
            object: t.display.clone(),
            from_revision: current,
            to_revision: wanted.revision,
            images: wanted.images.clone(),
            diff: input.dry_run.then(String::new),
        };
        let dry = if input.dry_run { DRY_RUN } else { "" };
        if wanted.revision == current {
            return Ok(Reply::new(
                format!("{dry}{} already runs revision {current}; nothing changed.", t.display),
                out,
            ));
        }
        let raw = Raw::new(&t.client, &t.info, Some(&t.ns));
        let pp =
            PatchParams { dry_run: input.dry_run, field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        let after = if t.info.kind == "Deployment" {
            let cause = format!("binnacle: rollback to revision {}", wanted.revision);
            let mut ops = vec![json!({"op": "replace", "path": "/spec/template", "value": wanted.template})];
            if t.obj.pointer("/metadata/annotations").is_some_and(Value::is_object) {
                ops.push(json!({"op": "add", "path": format!("/metadata/annotations/{}", CHANGE_CAUSE.replace('/', "~1")), "value": cause}));
            } else {
                ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": {CHANGE_CAUSE: cause}}));
            }
            raw.json_patch(&input.name, &pp, &Value::Array(ops)).await?
        } else {
            // A ControllerRevision's data is a strategic merge patch that restores the template.
            raw.patch(&input.name, &pp, &Patch::Strategic(wanted.template.clone())).await?
        };
        if input.dry_run {
            let before = preview::matching_before(t.obj.clone(), &after, || raw.get(&input.name)).await?;
            out.diff = Some(preview::object_diff(Some(&before), Some(&after)));
            return Ok(Reply::new(
                format!(
                    "{DRY_RUN}{} would be rolled back from revision {current} to {} ({}).",
                    t.display, wanted.revision, wanted.images
                ),
                out,
            )
            .untrusted());
        }
        Ok(Reply::new(
            format!(
                "Rolled {} back from revision {current} to {} ({}); follow it with rollout_status.",
                t.display, wanted.revision, wanted.images
            ),
            out,
        ))
    }
}

// ------------------------------------------------------------------------------- rollout_restart

/// Arguments of `rollout_restart`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct RolloutRestartInput {
    /// Deployment (default), StatefulSet, DaemonSet
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// What `rollout_restart` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutRestartOutput {
    /// Kind namespace/name.
    pub object: String,
    /// The restartedAt annotation set.
    pub restarted_at: String,
    /// With dryRun: unified diff of the workload (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// `rollout_restart`.
pub struct RolloutRestart(pub Shared);

impl Tool for RolloutRestart {
    type Input = RolloutRestartInput;
    type Output = RolloutRestartOutput;
    const NAME: &'static str = "rollout_restart";
    const TITLE: &'static str = "Restart rollout";
    const DESCRIPTION: &'static str = "Restart a workload's pods with a rolling update.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["workloads", "rollout", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE;

    fn validate(input: &RolloutRestartInput) -> Result<(), ToolError> {
        check(input.kind.as_ref(), &input.name, input.namespace.as_ref())
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: RolloutRestartInput,
    ) -> Result<Reply<RolloutRestartOutput>, ToolError> {
        let t = target(&self.0, ctx, input.kind.as_deref(), &input.name, input.namespace.as_deref()).await?;
        if t.info.kind == "Deployment" && t.obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
            return Err(ToolError::Conflict(format!("{} is paused; resume it before restarting", t.display)));
        }
        let now = binnacle_objects::time::format_timestamp(jiff::Timestamp::now());
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}});
        let pp =
            PatchParams { dry_run: input.dry_run, field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        let raw = Raw::new(&t.client, &t.info, Some(&t.ns));
        let after = raw.patch(&input.name, &pp, &Patch::Strategic(patch)).await?;
        if input.dry_run {
            let before = preview::matching_before(t.obj, &after, || raw.get(&input.name)).await?;
            let diff = preview::object_diff(Some(&before), Some(&after));
            return Ok(Reply::new(
                format!(
                    "{DRY_RUN}the pods of {} would be replaced by a rolling update (template annotation {RESTARTED_AT}).",
                    t.display
                ),
                RolloutRestartOutput { object: t.display, restarted_at: now, diff: Some(diff) },
            )
            .untrusted());
        }
        Ok(Reply::new(
            format!("Restarting {}: pods are replaced by a rolling update; follow it with rollout_status.", t.display),
            RolloutRestartOutput { object: t.display, restarted_at: now, diff: None },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_states() {
        let d = |generation: i64, obs: i64, want: i64, updated: i64, total: i64, available: i64| {
            json!({"metadata": {"generation": generation}, "spec": {"replicas": want},
                   "status": {"observedGeneration": obs, "updatedReplicas": updated, "replicas": total, "availableReplicas": available}})
        };
        assert!(!rollout_state("Deployment", &d(2, 1, 3, 3, 3, 3)).expect("ok").1);
        assert!(rollout_state("Deployment", &d(2, 1, 3, 3, 3, 3)).expect("ok").2.contains("observe"));
        assert!(rollout_state("Deployment", &d(2, 2, 3, 1, 4, 3)).expect("ok").2.contains("1 of 3 new replicas"));
        assert!(rollout_state("Deployment", &d(2, 2, 3, 3, 4, 3)).expect("ok").2.contains("1 old replicas"));
        assert!(rollout_state("Deployment", &d(2, 2, 3, 3, 3, 2)).expect("ok").2.contains("2 of 3 updated"));
        assert!(rollout_state("Deployment", &d(2, 2, 3, 3, 3, 3)).expect("ok").0);
        let failed = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}});
        assert!(rollout_state("Deployment", &failed).expect("ok").1);
        assert!(rollout_state("StatefulSet", &json!({"spec": {"updateStrategy": {"type": "OnDelete"}}})).is_err());
    }
}
