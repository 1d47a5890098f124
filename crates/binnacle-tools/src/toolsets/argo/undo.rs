//! `argo_rollout_undo`: rolls a Rollout back to an earlier revision by putting that revision's pod
//! template back (as `kubectl argo rollouts undo` does); the controller rolls it out like any update
//! (straight back to stable when it is the stable revision).

use super::common::{
    HASH_LABEL, Kind, Preview, RolloutChange, change_reply, get, namespace_of, owned_replicasets, record, replace,
    revision_of, str_at,
};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Arguments of `argo_rollout_undo`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UndoInput {
    /// The Rollout's name.
    pub name: String,
    /// Its namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Revision to go back to (see argo_rollout_history); default: the one before the current.
    #[schemars(range(min = 1))]
    pub to_revision: Option<i64>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// See the module docs.
pub struct RolloutUndo;

impl Tool for RolloutUndo {
    type Input = UndoInput;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_undo";
    const TITLE: &'static str = "Argo Rollouts: undo";
    const DESCRIPTION: &'static str = "Roll an Argo Rollout back to an earlier revision (default: the previous one) by restoring that revision's pod template; the controller then rolls it out (at once when it is the stable revision).";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "write", "history"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &UndoInput) -> Result<(), ToolError> {
        super::common::check_target(input.namespace.as_deref(), &input.name)?;
        if input.to_revision.is_some_and(|r| r < 1) {
            return Err(ToolError::invalid("toRevision must be 1 or more"));
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: UndoInput) -> Result<Reply<RolloutChange>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let ro = get(ctx, &client, Kind::Rollout, &ns, &input.name).await?;
        if ro.pointer("/spec/template").is_none() {
            return Err(ToolError::invalid(
                "this Rollout has no pod template (it may use workloadRef): undo the referenced Deployment instead",
            ));
        }
        let replicasets = owned_replicasets(&client, &ro).await?;
        let current_hash = str_at(&ro, "/status/currentPodHash");
        let current = replicasets
            .iter()
            .find(|rs| !current_hash.is_empty() && super::common::hash_of(rs) == current_hash)
            .map(revision_of)
            .unwrap_or_else(|| revision_of(&ro));
        let available: Vec<i64> = replicasets.iter().map(revision_of).collect();
        let target = match input.to_revision {
            Some(r) => replicasets.iter().find(|rs| revision_of(rs) == r).ok_or_else(|| {
                ToolError::NotFound(format!(
                    "revision {r} of Rollout {ns}/{} is not kept (revisions: {available:?}); see argo_rollout_history",
                    input.name
                ))
            })?,
            None => {
                replicasets.iter().filter(|rs| revision_of(rs) < current).max_by_key(|rs| revision_of(rs)).ok_or_else(
                    || {
                        ToolError::NotFound(format!(
                            "Rollout {ns}/{} has no revision before {current} (revisions: {available:?})",
                            input.name
                        ))
                    },
                )?
            }
        };
        let revision = revision_of(target);
        let mut template = target.pointer("/spec/template").cloned().unwrap_or(json!({}));
        if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
            labels.remove(HASH_LABEL);
        }
        let mut patches = Vec::new();
        let mut preview = input.dry_run.then(|| Preview::new(&ro));
        if revision != current {
            // The whole template is replaced (a merge patch would keep fields the old template lacks).
            let mut updated = ro.clone();
            updated["spec"]["template"] = template;
            patches.push(format!("spec.template from revision {revision} ({})", str_at(target, "/metadata/name")));
            let answer = replace(ctx, &client, &ns, &input.name, updated, input.dry_run).await?;
            record(&mut preview, answer, false);
        }
        change_reply(
            ctx,
            &client,
            &ns,
            &input.name,
            "undo",
            patches,
            format!("Rolled {ns}/{} back to revision {revision}.", input.name),
            preview,
        )
        .await
    }
}
