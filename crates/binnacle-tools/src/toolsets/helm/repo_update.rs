//! `helm_repo_update`: downloads the latest chart indexes of the configured repositories.

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

/// Arguments of `helm_repo_update`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepoUpdateInput {
    /// Only these repositories; default: all.
    #[serde(default)]
    pub names: Vec<String>,
}

/// See the module docs.
pub struct RepoUpdate {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for RepoUpdate {
    type Input = RepoUpdateInput;
    type Output = RepoOutput;
    const NAME: &'static str = "helm_repo_update";
    const TITLE: &'static str = "Helm: update chart repositories";
    const DESCRIPTION: &'static str = "Download the latest chart indexes of the configured chart repositories (helm repo update), so that searches and installs see new chart versions. Needs the helm binary.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "repositories", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT.open_world();

    fn validate(i: &RepoUpdateInput) -> Result<(), ToolError> {
        if i.names.len() > 50 {
            return Err(ToolError::invalid("at most 50 repository names"));
        }
        i.names.iter().try_for_each(|n| args::repo_name(n))
    }

    async fn run(&self, ctx: &ToolContext, input: RepoUpdateInput) -> Result<Reply<RepoOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, false)?;
        let names: Vec<&str> = input.names.iter().map(String::as_str).collect();
        let ran = helm.run(&["repo", "update"], Vec::new(), &names, 300, "helm repo update").await?;
        let message = untrusted_text(ran.stdout.trim());
        let which = if names.is_empty() { "every repository".to_string() } else { names.join(", ") };
        Ok(Reply::new(format!("Updated the chart indexes of {which}."), RepoOutput { message, command: ran.command }))
    }
}
