//! `helm_release_history`: a release's revisions, newest first, from Helm's release Secrets.

use super::common::{ReleaseSummary, namespace_of};
use super::{args, storage};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `helm_release_history`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseHistoryInput {
    /// Release name.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// At most this many revisions, newest first (default 20, at most 256).
    #[schemars(range(min = 1, max = 256))]
    pub max: Option<usize>,
}

/// A release's history.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseHistoryOutput {
    /// Revisions, newest first.
    pub revisions: Vec<ReleaseSummary>,
}

/// See the module docs.
pub struct ReleaseHistory;

impl Tool for ReleaseHistory {
    type Input = ReleaseHistoryInput;
    type Output = ReleaseHistoryOutput;
    const NAME: &'static str = "helm_release_history";
    const TITLE: &'static str = "Helm: release history";
    const DESCRIPTION: &'static str = "List a Helm release's revisions (newest first) with status, chart, app version, time and description, to pick a revision for helm_release_rollback. No helm binary needed.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "read", "history"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ReleaseHistoryInput) -> Result<(), ToolError> {
        args::release(&input.release)?;
        args::namespace(input.namespace.as_deref())?;
        if input.max.is_some_and(|m| !(1..=256).contains(&m)) {
            return Err(ToolError::invalid("max must be from 1 to 256"));
        }
        Ok(())
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: ReleaseHistoryInput,
    ) -> Result<Reply<ReleaseHistoryOutput>, ToolError> {
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let all = storage::history(ctx, &ns, &input.release).await?;
        let total = all.len();
        let max = input.max.unwrap_or(20);
        let revisions: Vec<ReleaseSummary> = all.iter().take(max).map(ReleaseSummary::from).collect();
        let lines: Vec<String> = revisions
            .iter()
            .take(10)
            .map(|r| format!("{} {} {} ({})", r.revision, r.status, r.chart, r.description))
            .collect();
        let mut reply = Reply::new(
            format!("{total} revisions of {ns}/{}:\n{}", input.release, lines.join("\n")),
            ReleaseHistoryOutput { revisions },
        );
        if total > max {
            reply = reply.omitted(format!("{} older revisions (raise max)", total - max));
        }
        Ok(reply)
    }
}
