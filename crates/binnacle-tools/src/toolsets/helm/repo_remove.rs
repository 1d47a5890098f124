//! `helm_repo_remove`: removes a chart repository from helm's configuration.

use super::args;
use super::binary::{Helm, HelmEnv};
use super::repo_add::RepoOutput;
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// Arguments of `helm_repo_remove`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepoRemoveInput {
    /// The repository's local name.
    pub name: String,
}

/// See the module docs.
pub struct RepoRemove {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for RepoRemove {
    type Input = RepoRemoveInput;
    type Output = RepoOutput;
    const NAME: &'static str = "helm_repo_remove";
    const TITLE: &'static str = "Helm: remove a chart repository";
    const DESCRIPTION: &'static str = "Remove a chart repository from the server's helm configuration (helm repo remove); its charts can no longer be installed by name/chart. Needs the helm binary.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "repositories", "write", "delete"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    fn validate(i: &RepoRemoveInput) -> Result<(), ToolError> {
        args::repo_name(&i.name)
    }

    async fn run(&self, ctx: &ToolContext, input: RepoRemoveInput) -> Result<Reply<RepoOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, false)?;
        let ran = helm
            .run(&["repo", "remove"], Vec::new(), &[&input.name], 60, &format!("helm repo remove {}", input.name))
            .await?;
        let message = untrusted_text(ran.stdout.trim());
        Ok(Reply::new(format!("Removed repository {}.", input.name), RepoOutput { message, command: ran.command }))
    }
}
