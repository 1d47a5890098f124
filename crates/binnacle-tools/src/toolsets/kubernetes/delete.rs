//! `resource_delete`: deletes one object of any kind, with propagation, grace period and dry run.
//! The namespaces the cluster cannot live without and nodes are refused unless `confirmProtected`.

use super::common::{self, Raw, Shared, arr, check_target, compact_schema, s};
use super::preview::{self, DRY_RUN};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use kube::api::{DeleteParams, PropagationPolicy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Namespaces that are refused without `confirmProtected`.
pub const PROTECTED_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease", "default"];

/// What happens to dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(inline)]
pub enum Propagation {
    /// Delete now, dependents in the background (default).
    Background,
    /// Delete dependents first.
    Foreground,
    /// Keep dependents.
    Orphan,
}

/// Arguments of `resource_delete`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourceDeleteInput {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub propagation_policy: Option<Propagation>,
    /// 0-86400.
    pub grace_period_seconds: Option<i64>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub confirm_protected: bool,
}

/// What `resource_delete` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResourceDeleteOutput {
    /// Kind namespace/name.
    pub object: String,
    /// deleted, terminating (with finalizers) or dry run.
    pub result: String,
    /// With dryRun: unified diff of the object removed (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// `resource_delete`.
pub struct ResourceDelete(pub Shared);

impl Tool for ResourceDelete {
    type Input = ResourceDeleteInput;
    type Output = ResourceDeleteOutput;
    const NAME: &'static str = "resource_delete";
    const TITLE: &'static str = "Delete resource";
    const DESCRIPTION: &'static str = "Delete one object. Nodes and system namespaces need confirmProtected.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "write"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    fn validate(input: &ResourceDeleteInput) -> Result<(), ToolError> {
        check_target(&input.kind, &input.name, input.namespace.as_ref(), None)?;
        if let Some(g) = input.grace_period_seconds {
            common::check_range("gracePeriodSeconds", g, 0, 86_400)?;
        }
        Ok(())
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: ResourceDeleteInput,
    ) -> Result<Reply<ResourceDeleteOutput>, ToolError> {
        let (client, info) = self.0.resolve(ctx, &input.kind, None).await?;
        let namespace = common::namespace_for(&client, &info, input.namespace.as_deref());
        let object = common::display(&info.kind, namespace.as_deref(), &input.name);
        if info.group.is_empty() && !input.confirm_protected {
            if info.kind == "Namespace" && PROTECTED_NAMESPACES.contains(&input.name.as_str()) {
                return Err(ToolError::Forbidden(format!(
                    "{object} is a system namespace; deleting it breaks the cluster. Pass confirmProtected: true if you really mean it"
                )));
            }
            if info.kind == "Node" {
                return Err(ToolError::Forbidden(format!(
                    "deleting {object} removes it from the cluster (drain it first with node_drain). Pass confirmProtected: true if you really mean it"
                )));
            }
        }
        let dp = DeleteParams {
            dry_run: input.dry_run,
            grace_period_seconds: input.grace_period_seconds.map(|g| g as u32),
            propagation_policy: input.propagation_policy.map(|p| match p {
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            ..Default::default()
        };
        let raw = Raw::new(&client, &info, namespace.as_deref());
        if input.dry_run {
            let live = raw.get(&input.name).await?;
            // The server checks the deletion (preconditions, protections) and changes nothing; the
            // preview is the object as it is, removed.
            raw.delete(&input.name, &dp).await?;
            let diff = preview::object_diff(Some(&live), None);
            let finalizers: Vec<&str> = arr(&live, "/metadata/finalizers").iter().filter_map(|f| f.as_str()).collect();
            let mut summary = format!("{DRY_RUN}{object} would be deleted");
            if !finalizers.is_empty() {
                summary.push_str(&format!(" once its finalizers ({}) are done", finalizers.join(", ")));
            }
            summary.push_str(match input.propagation_policy {
                Some(Propagation::Orphan) => "; the objects it owns would be kept.",
                Some(Propagation::Foreground) => ", after the objects it owns.",
                _ => ".",
            });
            let result = "dry run: would be deleted".to_string();
            return Ok(Reply::new(summary, ResourceDeleteOutput { object, result, diff: Some(diff) }).untrusted());
        }
        let answer = raw.delete(&input.name, &dp).await?;
        let finalizers: Vec<&str> = arr(&answer, "/metadata/finalizers").iter().filter_map(|f| f.as_str()).collect();
        let terminating = !s(&answer, "/metadata/deletionTimestamp").is_empty();
        let result = if terminating && !finalizers.is_empty() {
            format!("terminating: waiting for finalizers {}", finalizers.join(", "))
        } else if terminating {
            "terminating (graceful)".to_string()
        } else {
            "deleted".to_string()
        };
        let summary = format!("{object}: {result}.");
        Ok(Reply::new(summary, ResourceDeleteOutput { object, result, diff: None }))
    }
}
