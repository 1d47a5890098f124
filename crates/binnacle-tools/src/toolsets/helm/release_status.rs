//! `helm_release_status`: a release's status, notes and resources, from Helm's release Secrets.

use super::common::{ReleaseSummary, namespace_of, one_line};
use super::{args, storage};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Arguments of `helm_release_status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseStatusInput {
    /// Release name.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Revision; default: the latest.
    pub revision: Option<i64>,
}

/// A release's status.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseStatusOutput {
    /// The revision.
    #[serde(flatten)]
    pub release: ReleaseSummary,
    /// When the release was first deployed.
    pub first_deployed: String,
    /// The chart's notes (untrusted text).
    pub notes: String,
    /// The objects its manifest declares.
    pub resources: Vec<Map<String, Value>>,
}

/// See the module docs.
pub struct ReleaseStatus;

impl Tool for ReleaseStatus {
    type Input = ReleaseStatusInput;
    type Output = ReleaseStatusOutput;
    const NAME: &'static str = "helm_release_status";
    const TITLE: &'static str = "Helm: release status";
    const DESCRIPTION: &'static str = "Show a Helm release's status (latest or a given revision): status, chart, app version, description, deployment times, the chart's notes and the objects it manages. No helm binary needed.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ReleaseStatusInput) -> Result<(), ToolError> {
        args::release(&input.release)?;
        args::namespace(input.namespace.as_deref())
    }

    async fn run(&self, ctx: &ToolContext, input: ReleaseStatusInput) -> Result<Reply<ReleaseStatusOutput>, ToolError> {
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let r = storage::revision(ctx, &ns, &input.release, input.revision).await?;
        let out = ReleaseStatusOutput {
            release: ReleaseSummary::from(&r),
            first_deployed: r.first_deployed(),
            notes: untrusted_text(r.notes().trim()),
            resources: storage::manifest_resources(&r.manifest()),
        };
        let summary =
            format!("{}; {} resources. {}", one_line(&out.release), out.resources.len(), out.release.description);
        Ok(Reply::new(summary, out).untrusted())
    }
}
