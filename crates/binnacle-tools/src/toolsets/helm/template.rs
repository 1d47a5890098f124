//! `helm_template`: renders a chart locally (`helm template`) without touching the cluster.

use super::binary::{Helm, HelmEnv, flag, values_file};
use super::common::namespace_of;
use super::{redact, storage};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, sanitize_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_template`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateInput {
    /// Release name to render with.
    pub release: String,
    /// Namespace to render for; default: the context's namespace.
    pub namespace: Option<String>,
    /// Chart: `repo/chart`, `oci://registry/path/chart`, an https URL of a .tgz, or an absolute path on
    /// the server.
    pub chart: String,
    /// Chart version or constraint; default: the latest stable.
    pub version: Option<String>,
    /// Values as YAML (a mapping).
    pub values: Option<String>,
}

/// The rendered chart.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateOutput {
    /// The objects it would create.
    pub resources: Vec<Map<String, Value>>,
    /// The manifest YAML (Secret values and credential-shaped text redacted; untrusted).
    pub manifest: String,
    /// The helm command that ran.
    pub command: String,
}

/// See the module docs.
pub struct Template {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for Template {
    type Input = TemplateInput;
    type Output = TemplateOutput;
    const NAME: &'static str = "helm_template";
    const TITLE: &'static str = "Helm: render a chart";
    const DESCRIPTION: &'static str = "Render a chart with values into Kubernetes manifests without installing anything (helm template), to review what an install or upgrade would create. Secret values are redacted. Needs the helm binary.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "charts", "read", "manifest"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(i: &TemplateInput) -> Result<(), ToolError> {
        super::release_install::check_chart_args(
            &i.release,
            i.namespace.as_deref(),
            &i.chart,
            i.version.as_deref(),
            i.values.as_deref(),
            None,
        )
    }

    async fn run(&self, ctx: &ToolContext, input: TemplateInput) -> Result<Reply<TemplateOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, false)?;
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let mut flags: Vec<OsString> = vec![flag("namespace", &ns)];
        if let Some(v) = &input.version {
            flags.push(flag("version", v));
        }
        let values = input.values.as_deref().map(values_file).transpose()?;
        if let Some(f) = &values {
            flags.push(flag("values", f.path()));
        }
        let ran = helm
            .run(&["template"], flags, &[&input.release, &input.chart], 120, &format!("helm template {}", input.chart))
            .await?;
        drop(values);
        let resources = storage::manifest_resources(&ran.stdout);
        let manifest = sanitize_text(&redact::manifest(&ran.stdout));
        let summary =
            format!("{} renders {} objects for release {} in {ns}.", input.chart, resources.len(), input.release);
        Ok(Reply::new(summary, TemplateOutput { resources, manifest, command: ran.command }).untrusted())
    }
}
