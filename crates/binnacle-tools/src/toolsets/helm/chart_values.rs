//! `helm_chart_values`: a chart's default values (`helm show values`).

use super::args;
use super::binary::{Helm, HelmEnv, flag};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, redact_credentials, sanitize_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_chart_values`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartValuesInput {
    /// Chart: `repo/chart`, `oci://registry/path/chart`, an https URL of a .tgz, or an absolute path on
    /// the server.
    pub chart: String,
    /// Chart version or constraint; default: the latest stable.
    pub version: Option<String>,
}

/// A chart's default values.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChartValuesOutput {
    /// The chart.
    pub chart: String,
    /// The version asked for, if any.
    pub version: Option<String>,
    /// The chart's values.yaml, comments included (credential-shaped text redacted; untrusted).
    pub values: String,
}

/// See the module docs.
pub struct ChartValues {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for ChartValues {
    type Input = ChartValuesInput;
    type Output = ChartValuesOutput;
    const NAME: &'static str = "helm_chart_values";
    const TITLE: &'static str = "Helm: chart default values";
    const DESCRIPTION: &'static str = "Show a chart's default values.yaml with its comments (helm show values), to know which values an install or upgrade can set. Needs the helm binary.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "charts", "read", "values"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(i: &ChartValuesInput) -> Result<(), ToolError> {
        args::chart(&i.chart)?;
        if let Some(v) = &i.version {
            args::version(v)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: ChartValuesInput) -> Result<Reply<ChartValuesOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, false)?;
        let mut flags: Vec<OsString> = Vec::new();
        if let Some(v) = &input.version {
            flags.push(flag("version", v));
        }
        let ran = helm
            .run(&["show", "values"], flags, &[&input.chart], 120, &format!("helm show values {}", input.chart))
            .await?;
        let values = redact_credentials(&sanitize_text(&ran.stdout));
        let summary = format!("Default values of {} ({} lines).", input.chart, values.lines().count());
        Ok(Reply::new(summary, ChartValuesOutput { chart: input.chart, version: input.version, values }).untrusted())
    }
}
