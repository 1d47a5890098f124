//! `helm_release_install` and `helm_release_install_with_values`: `helm install` of a chart as a new
//! release, driven through the helm binary with validated arguments.

use super::binary::{Helm, HelmEnv, flag, values_file};
use super::common::{ReleaseSummary, namespace_of, one_line, summary_from_json};
use super::{args, redact};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_release_install`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstallInput {
    /// Name of the new release.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Chart: `repo/chart` (after helm_repo_add), `oci://registry/path/chart`, an https URL of a .tgz, or
    /// an absolute path on the server.
    pub chart: String,
    /// Chart version or constraint; default: the latest stable.
    pub version: Option<String>,
    /// Values as YAML (a mapping), passed to helm in a private temporary file.
    pub values: Option<String>,
    /// Create the namespace when it does not exist.
    #[serde(default)]
    pub create_namespace: bool,
    /// Wait until the release's objects are ready.
    #[serde(default)]
    pub wait: bool,
    /// How long helm may take (`5m`, `90s`; default 5m, at most 1h).
    pub timeout: Option<String>,
    /// Render and validate against the cluster without installing (`--dry-run=server`).
    #[serde(default)]
    pub dry_run: bool,
}

/// Arguments of `helm_release_install_with_values`: the same, with `values` required.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstallWithValuesInput {
    /// Name of the new release.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Chart: `repo/chart` (after helm_repo_add), `oci://registry/path/chart`, an https URL of a .tgz, or
    /// an absolute path on the server.
    pub chart: String,
    /// Chart version or constraint; default: the latest stable.
    pub version: Option<String>,
    /// Values as YAML (a mapping), passed to helm in a private temporary file.
    pub values: String,
    /// Create the namespace when it does not exist.
    #[serde(default)]
    pub create_namespace: bool,
    /// Wait until the release's objects are ready.
    #[serde(default)]
    pub wait: bool,
    /// How long helm may take (`5m`, `90s`; default 5m, at most 1h).
    pub timeout: Option<String>,
    /// Render and validate against the cluster without installing (`--dry-run=server`).
    #[serde(default)]
    pub dry_run: bool,
}

impl From<InstallWithValuesInput> for InstallInput {
    fn from(i: InstallWithValuesInput) -> Self {
        InstallInput {
            release: i.release,
            namespace: i.namespace,
            chart: i.chart,
            version: i.version,
            values: Some(i.values),
            create_namespace: i.create_namespace,
            wait: i.wait,
            timeout: i.timeout,
            dry_run: i.dry_run,
        }
    }
}

/// What a helm write did.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmWriteOutput {
    /// The release after the command.
    pub release: ReleaseSummary,
    /// The chart's notes (untrusted text).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// The rendered manifest, for dry runs (Secrets redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The helm command that ran (file paths hidden).
    pub command: String,
}

/// Checks the arguments shared by install and upgrade.
pub fn check_chart_args(
    release: &str,
    namespace: Option<&str>,
    chart: &str,
    version: Option<&str>,
    values: Option<&str>,
    timeout: Option<&str>,
) -> Result<(), ToolError> {
    args::release(release)?;
    args::namespace(namespace)?;
    args::chart(chart)?;
    if let Some(v) = version {
        args::version(v)?;
    }
    if let Some(v) = values {
        args::values(v)?;
    }
    if let Some(t) = timeout {
        args::timeout(t)?;
    }
    Ok(())
}

/// Builds the reply of install/upgrade from helm's `--output json`.
pub fn write_reply(
    verb: &str,
    done: &str,
    stdout: &str,
    command: String,
    dry_run: bool,
) -> Result<Reply<HelmWriteOutput>, ToolError> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|e| {
        ToolError::Unavailable(format!("helm {verb} succeeded but its JSON output does not parse: {e}"))
    })?;
    let release = summary_from_json(&v);
    let notes = untrusted_text(v.pointer("/info/notes").and_then(Value::as_str).unwrap_or("").trim());
    let manifest = dry_run.then(|| redact::manifest(v.get("manifest").and_then(Value::as_str).unwrap_or("")));
    let summary = if dry_run {
        format!("Dry run of {verb}: {} would be deployed.", one_line(&release))
    } else {
        format!("{done} {}.", one_line(&release))
    };
    Ok(Reply::new(summary, HelmWriteOutput { release, notes, manifest, command }).untrusted())
}

/// Runs `helm install`.
pub async fn install(
    ctx: &ToolContext,
    env: &HelmEnv,
    input: InstallInput,
) -> Result<Reply<HelmWriteOutput>, ToolError> {
    let helm = Helm::new(ctx, env, true)?;
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
    if input.create_namespace {
        flags.push("--create-namespace".into());
    }
    if input.wait {
        flags.push("--wait".into());
    }
    if input.dry_run {
        flags.push("--dry-run=server".into());
    }
    let ran = helm
        .run(
            &["install"],
            flags,
            &[&input.release, &input.chart],
            timeout,
            &format!("helm install of {ns}/{}", input.release),
        )
        .await?;
    drop(values);
    write_reply("install", "Installed", &ran.stdout, ran.command, input.dry_run)
}

/// `helm_release_install`.
pub struct Install {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for Install {
    type Input = InstallInput;
    type Output = HelmWriteOutput;
    const NAME: &'static str = "helm_release_install";
    const TITLE: &'static str = "Helm: install a release";
    const DESCRIPTION: &'static str = "Install a Helm chart as a new release (helm install), optionally with values YAML, a chart version, --wait or a server-side dry run. Needs the helm binary on the server.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE.open_world();

    fn validate(i: &InstallInput) -> Result<(), ToolError> {
        check_chart_args(
            &i.release,
            i.namespace.as_deref(),
            &i.chart,
            i.version.as_deref(),
            i.values.as_deref(),
            i.timeout.as_deref(),
        )
    }

    async fn run(&self, ctx: &ToolContext, input: InstallInput) -> Result<Reply<HelmWriteOutput>, ToolError> {
        install(ctx, &self.env, input).await
    }
}

/// `helm_release_install_with_values`.
pub struct InstallWithValues {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for InstallWithValues {
    type Input = InstallWithValuesInput;
    type Output = HelmWriteOutput;
    const NAME: &'static str = "helm_release_install_with_values";
    const TITLE: &'static str = "Helm: install a release with values";
    const DESCRIPTION: &'static str = "Install a Helm chart as a new release with the given values YAML (helm install --values). Same as helm_release_install with `values` required. Needs the helm binary on the server.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "write", "values"];
    const ANNOTATIONS: Annotations = Annotations::WRITE.open_world();

    fn validate(i: &InstallWithValuesInput) -> Result<(), ToolError> {
        check_chart_args(
            &i.release,
            i.namespace.as_deref(),
            &i.chart,
            i.version.as_deref(),
            Some(&i.values),
            i.timeout.as_deref(),
        )
    }

    async fn run(&self, ctx: &ToolContext, input: InstallWithValuesInput) -> Result<Reply<HelmWriteOutput>, ToolError> {
        install(ctx, &self.env, input.into()).await
    }
}
