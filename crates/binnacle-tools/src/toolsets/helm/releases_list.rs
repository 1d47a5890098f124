//! `helm_releases_list`: Helm releases (latest revision of each), read from Helm's release Secrets.

use super::common::{ReleaseSummary, one_line};
use super::storage;
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `helm_releases_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleasesListInput {
    /// Namespace; default: every namespace.
    pub namespace: Option<String>,
    /// Every release whatever its status (default: only deployed and failed ones, like `helm list`).
    #[serde(default)]
    pub all: bool,
    /// Only releases whose name contains this text.
    pub filter: Option<String>,
}

/// The releases.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleasesListOutput {
    /// Releases: failed and pending first, then by namespace and name.
    pub releases: Vec<ReleaseSummary>,
}

/// See the module docs.
pub struct ReleasesList;

impl Tool for ReleasesList {
    type Input = ReleasesListInput;
    type Output = ReleasesListOutput;
    const NAME: &'static str = "helm_releases_list";
    const TITLE: &'static str = "Helm: list releases";
    const DESCRIPTION: &'static str = "List Helm releases (latest revision of each) with status, chart, app version and when they were last deployed; by default only deployed and failed ones, `all` for every status. Reads Helm's release Secrets directly: no helm binary needed.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ReleasesListInput) -> Result<(), ToolError> {
        if let Some(ns) = &input.namespace {
            validate::namespace(ns)?;
        }
        if input.filter.as_ref().is_some_and(|f| f.len() > 53 || f.chars().any(char::is_control)) {
            return Err(ToolError::invalid("filter must be at most 53 characters of text"));
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: ReleasesListInput) -> Result<Reply<ReleasesListOutput>, ToolError> {
        let revisions = storage::list(ctx, input.namespace.as_deref(), None).await?;
        let mut releases: Vec<ReleaseSummary> = Vec::new();
        for r in &revisions {
            // Sorted newest first within a release: the first one seen is the latest.
            if releases.iter().any(|x| x.name == r.name && x.namespace == r.namespace) {
                continue;
            }
            releases.push(ReleaseSummary::from(r));
        }
        releases.retain(|r| input.all || matches!(r.status.as_str(), "deployed" | "failed"));
        if let Some(f) = &input.filter {
            releases.retain(|r| r.name.contains(f.as_str()));
        }
        let rank = |s: &str| match s {
            "failed" => 0,
            s if s.starts_with("pending") => 1,
            _ => 2,
        };
        releases
            .sort_by(|a, b| (rank(&a.status), &a.namespace, &a.name).cmp(&(rank(&b.status), &b.namespace, &b.name)));
        let where_ = input.namespace.as_deref().map(|n| format!(" in {n}")).unwrap_or_default();
        let summary = if releases.is_empty() {
            format!(
                "No Helm releases{where_}{}.",
                if input.all { "" } else { " deployed or failed (all=true shows every status)" }
            )
        } else {
            let lines: Vec<String> = releases.iter().take(10).map(one_line).collect();
            format!("{} Helm releases{where_}:\n{}", releases.len(), lines.join("\n"))
        };
        Ok(Reply::new(summary, ReleasesListOutput { releases }))
    }
}
