//! `helm_release_uninstall`: `helm uninstall` of a release (its objects are deleted).

use super::args;
use super::binary::{Helm, HelmEnv, flag};
use super::common::namespace_of;
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_release_uninstall`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UninstallInput {
    /// Release name.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Keep the release history (status `uninstalled`), so that it can be rolled back.
    #[serde(default)]
    pub keep_history: bool,
    /// Wait until the objects are deleted.
    #[serde(default)]
    pub wait: bool,
    /// How long helm may take (`5m`, `90s`; default 5m, at most 1h).
    pub timeout: Option<String>,
}

/// What was uninstalled.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UninstallOutput {
    /// Release name.
    pub release: String,
    /// Namespace.
    pub namespace: String,
    /// Whether the history was kept.
    pub keep_history: bool,
    /// Helm's message.
    pub message: String,
    /// The helm command that ran.
    pub command: String,
}

/// See the module docs.
pub struct Uninstall {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for Uninstall {
    type Input = UninstallInput;
    type Output = UninstallOutput;
    const NAME: &'static str = "helm_release_uninstall";
    const TITLE: &'static str = "Helm: uninstall a release";
    const DESCRIPTION: &'static str = "Uninstall a Helm release: delete every object it manages and, unless keepHistory, its history. Needs the helm binary on the server.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "write", "delete"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    fn validate(i: &UninstallInput) -> Result<(), ToolError> {
        args::release(&i.release)?;
        args::namespace(i.namespace.as_deref())?;
        if let Some(t) = &i.timeout {
            args::timeout(t)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: UninstallInput) -> Result<Reply<UninstallOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, true)?;
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let timeout = input.timeout.as_deref().map(args::timeout).transpose()?.unwrap_or(300);
        let mut flags: Vec<OsString> = vec![flag("namespace", &ns), flag("timeout", format!("{timeout}s"))];
        if input.keep_history {
            flags.push("--keep-history".into());
        }
        if input.wait {
            flags.push("--wait".into());
        }
        let ran = helm
            .run(
                &["uninstall"],
                flags,
                &[&input.release],
                timeout,
                &format!("helm uninstall of {ns}/{}", input.release),
            )
            .await?;
        let message = untrusted_text(ran.stdout.trim());
        let summary =
            format!("Uninstalled {ns}/{}{}.", input.release, if input.keep_history { " (history kept)" } else { "" });
        Ok(Reply::new(
            summary,
            UninstallOutput {
                release: input.release,
                namespace: ns,
                keep_history: input.keep_history,
                message,
                command: ran.command,
            },
        ))
    }
}
