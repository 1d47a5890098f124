//! `helm_release_values`: the values a release was deployed with (`helm get values`), secrets redacted.

use super::common::namespace_of;
use super::{args, redact, storage};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Arguments of `helm_release_values`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseValuesInput {
    /// Release name.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Revision; default: the latest.
    pub revision: Option<i64>,
    /// The computed values: the chart's defaults merged with the user-supplied ones (default false:
    /// only the user-supplied values).
    #[serde(default)]
    pub all: bool,
}

/// A release's values.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseValuesOutput {
    /// Release name.
    pub release: String,
    /// Namespace.
    pub namespace: String,
    /// Revision.
    pub revision: i64,
    /// Whether these are the computed values (`all`).
    pub all: bool,
    /// The values; secret-named values and credential-shaped text are redacted.
    pub values: Value,
}

/// See the module docs.
pub struct ReleaseValues;

impl Tool for ReleaseValues {
    type Input = ReleaseValuesInput;
    type Output = ReleaseValuesOutput;
    const NAME: &'static str = "helm_release_values";
    const TITLE: &'static str = "Helm: release values";
    const DESCRIPTION: &'static str = "Show the values a Helm release was deployed with: the user-supplied ones, or with all=true the chart defaults merged with them. Passwords, tokens and keys are redacted. No helm binary needed.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "read", "values"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ReleaseValuesInput) -> Result<(), ToolError> {
        args::release(&input.release)?;
        args::namespace(input.namespace.as_deref())
    }

    async fn run(&self, ctx: &ToolContext, input: ReleaseValuesInput) -> Result<Reply<ReleaseValuesOutput>, ToolError> {
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let r = storage::revision(ctx, &ns, &input.release, input.revision).await?;
        let raw = if input.all { r.all_values() } else { r.user_values() };
        let values = redact::values(&raw);
        let keys = values.as_object().map(|m| m.len()).unwrap_or(0);
        let summary = format!(
            "{} values of {ns}/{} revision {} ({keys} top-level keys; secrets redacted).",
            if input.all { "Computed" } else { "User-supplied" },
            input.release,
            r.revision
        );
        Ok(Reply::new(
            summary,
            ReleaseValuesOutput { release: input.release, namespace: ns, revision: r.revision, all: input.all, values },
        ))
    }
}
