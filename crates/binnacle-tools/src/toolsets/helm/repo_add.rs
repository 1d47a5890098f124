//! `helm_repo_add`: adds (or with `forceUpdate` replaces) a chart repository in helm's configuration.

use super::args;
use super::binary::{Helm, HelmEnv};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_repo_add`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepoAddInput {
    /// Local name of the repository (charts are then `name/chart`).
    pub name: String,
    /// Repository URL (http or https, no credentials in it).
    pub url: String,
    /// Replace an existing repository of that name with a different URL.
    #[serde(default)]
    pub force_update: bool,
}

/// The repository command's result.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepoOutput {
    /// Helm's message.
    pub message: String,
    /// The helm command that ran.
    pub command: String,
}

/// See the module docs.
pub struct RepoAdd {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for RepoAdd {
    type Input = RepoAddInput;
    type Output = RepoOutput;
    const NAME: &'static str = "helm_repo_add";
    const TITLE: &'static str = "Helm: add a chart repository";
    const DESCRIPTION: &'static str = "Add a chart repository to the server's helm configuration (helm repo add) and download its index, so that its charts can be searched and installed as name/chart. Needs the helm binary.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "repositories", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT.open_world();

    fn validate(i: &RepoAddInput) -> Result<(), ToolError> {
        args::repo_name(&i.name)?;
        args::repo_url(&i.url)
    }

    async fn run(&self, ctx: &ToolContext, input: RepoAddInput) -> Result<Reply<RepoOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, false)?;
        let flags: Vec<OsString> = if input.force_update { vec!["--force-update".into()] } else { Vec::new() };
        let ran = helm
            .run(&["repo", "add"], flags, &[&input.name, &input.url], 120, &format!("helm repo add {}", input.name))
            .await?;
        let message = untrusted_text(ran.stdout.trim());
        Ok(Reply::new(
            format!("Repository {} ({}) is configured: {message}", input.name, input.url),
            RepoOutput { message, command: ran.command },
        ))
    }
}
