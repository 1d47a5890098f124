//! `helm_release_rollback`: `helm rollback` of a release to an earlier revision.

use super::binary::{Helm, HelmEnv, flag};
use super::common::{ReleaseSummary, namespace_of, one_line};
use super::release_install::HelmWriteOutput;
use super::{args, storage};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::Deserialize;
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_release_rollback`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackInput {
    /// Release name.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Revision to roll back to (see helm_release_history); default: the previous one.
    #[schemars(range(min = 1))]
    pub revision: Option<i64>,
    /// Wait until the release's objects are ready.
    #[serde(default)]
    pub wait: bool,
    /// How long helm may take (`5m`, `90s`; default 5m, at most 1h).
    pub timeout: Option<String>,
}

/// See the module docs.
pub struct Rollback {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for Rollback {
    type Input = RollbackInput;
    type Output = HelmWriteOutput;
    const NAME: &'static str = "helm_release_rollback";
    const TITLE: &'static str = "Helm: roll back a release";
    const DESCRIPTION: &'static str = "Roll a Helm release back to an earlier revision (default: the previous one); Helm records it as a new revision. Needs the helm binary on the server.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "write", "history"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(i: &RollbackInput) -> Result<(), ToolError> {
        args::release(&i.release)?;
        args::namespace(i.namespace.as_deref())?;
        if i.revision.is_some_and(|r| r < 1) {
            return Err(ToolError::invalid("revision must be 1 or more"));
        }
        if let Some(t) = &i.timeout {
            args::timeout(t)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: RollbackInput) -> Result<Reply<HelmWriteOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, true)?;
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let timeout = input.timeout.as_deref().map(args::timeout).transpose()?.unwrap_or(300);
        let mut flags: Vec<OsString> = vec![flag("namespace", &ns), flag("timeout", format!("{timeout}s"))];
        if input.wait {
            flags.push("--wait".into());
        }
        let revision = input.revision.map(|r| r.to_string());
        let mut positionals: Vec<&str> = vec![&input.release];
        if let Some(r) = &revision {
            positionals.push(r);
        }
        let ran = helm
            .run(&["rollback"], flags, &positionals, timeout, &format!("helm rollback of {ns}/{}", input.release))
            .await?;
        let now = storage::revision(ctx, &ns, &input.release, None).await?;
        let release = ReleaseSummary::from(&now);
        let summary = format!("Rolled back: {} ({}).", one_line(&release), release.description);
        Ok(Reply::new(summary, HelmWriteOutput { release, notes: String::new(), manifest: None, command: ran.command }))
    }
}
