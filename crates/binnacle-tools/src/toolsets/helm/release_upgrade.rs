//! `helm_release_upgrade`: `helm upgrade` of a release to a chart version and/or new values.

use super::args;
use super::binary::{Helm, HelmEnv, flag, values_file};
use super::common::namespace_of;
use super::release_install::{HelmWriteOutput, check_chart_args, write_reply};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::Deserialize;
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_release_upgrade`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpgradeInput {
    /// Release name.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Chart: `repo/chart`, `oci://registry/path/chart`, an https URL of a .tgz, or an absolute path on
    /// the server.
    pub chart: String,
    /// Chart version or constraint; default: the latest stable.
    pub version: Option<String>,
    /// Values as YAML (a mapping), passed to helm in a private temporary file.
    pub values: Option<String>,
    /// Keep the release's current values and merge `values` over them (`--reuse-values`); default: the
    /// chart's defaults plus `values` only.
    #[serde(default)]
    pub reuse_values: bool,
    /// Install the release when it does not exist (`--install`).
    #[serde(default)]
    pub install: bool,
    /// Wait until the release's objects are ready.
    #[serde(default)]
    pub wait: bool,
    /// Roll back automatically when the upgrade fails (`--atomic`, implies waiting).
    #[serde(default)]
    pub atomic: bool,
    /// How long helm may take (`5m`, `90s`; default 5m, at most 1h).
    pub timeout: Option<String>,
    /// Render and validate against the cluster without upgrading (`--dry-run=server`).
    #[serde(default)]
    pub dry_run: bool,
}

/// See the module docs.
pub struct Upgrade {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for Upgrade {
    type Input = UpgradeInput;
    type Output = HelmWriteOutput;
    const NAME: &'static str = "helm_release_upgrade";
    const TITLE: &'static str = "Helm: upgrade a release";
    const DESCRIPTION: &'static str = "Upgrade a Helm release to a chart (version) and/or new values YAML (helm upgrade), optionally reusing the current values, installing when missing, waiting or rolling back on failure (atomic). Needs the helm binary on the server.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT.open_world();

    fn validate(i: &UpgradeInput) -> Result<(), ToolError> {
        check_chart_args(
            &i.release,
            i.namespace.as_deref(),
            &i.chart,
            i.version.as_deref(),
            i.values.as_deref(),
            i.timeout.as_deref(),
        )
    }

    async fn run(&self, ctx: &ToolContext, input: UpgradeInput) -> Result<Reply<HelmWriteOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, true)?;
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let timeout = input.timeout.as_deref().map(args::timeout).transpose()?.unwrap_or(300);
        let mut flags: Vec<OsString> =
            vec![flag("namespace", &ns), flag("output", "json"), flag("timeout", format!("{timeout}s"))];
        if let Some(v) = &input.version {
            flags.push(flag("version", v));
        }
        let values = input.values.as_deref().map(values_file).transpose()?;
        if let Some(f) = &values {
            flags.push(flag("values", f.path()));
        }
        for (on, name) in [
            (input.reuse_values, "--reuse-values"),
            (input.install, "--install"),
            (input.wait, "--wait"),
            (input.atomic, "--atomic"),
            (input.dry_run, "--dry-run=server"),
        ] {
            if on {
                flags.push(name.into());
            }
        }
        let ran = helm
            .run(
                &["upgrade"],
                flags,
                &[&input.release, &input.chart],
                timeout,
                &format!("helm upgrade of {ns}/{}", input.release),
            )
            .await?;
        drop(values);
        write_reply("upgrade", "Upgraded", &ran.stdout, ran.command, input.dry_run)
    }
}
