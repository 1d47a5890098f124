//! `cluster_info`: what cluster this is, and whether it answers.

use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `cluster_info` (none besides the common ones).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::common::compact_schema)]
pub struct ClusterInfoInput {}

/// What `cluster_info` reports.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfoOutput {
    /// The kubeconfig context used.
    pub context: Option<String>,
    /// The API server URL (from the kubeconfig; never credentials).
    pub server: Option<String>,
    /// Kubernetes version, e.g. `v1.32.5`.
    pub version: String,
    /// Platform, e.g. `linux/amd64`.
    pub platform: String,
    /// Every kubeconfig context the server can use.
    pub contexts: Vec<String>,
}

/// See the module docs.
pub struct ClusterInfo;

impl Tool for ClusterInfo {
    type Input = ClusterInfoInput;
    type Output = ClusterInfoOutput;
    const NAME: &'static str = "cluster_info";
    const TITLE: &'static str = "Cluster info";
    const DESCRIPTION: &'static str = "Which cluster a context reaches (server, version) and the other contexts.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["cluster", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    async fn run(&self, ctx: &ToolContext, _input: ClusterInfoInput) -> Result<Reply<ClusterInfoOutput>, ToolError> {
        let client = ctx.kube().await?;
        let version = client.apiserver_version().await?;
        let context = ctx.context_name().map(str::to_string);
        let server = context.as_deref().and_then(|c| ctx.clusters().server_of(c));
        let out = ClusterInfoOutput {
            context: context.clone(),
            server: server.clone(),
            version: version.git_version.clone(),
            platform: version.platform.clone(),
            contexts: ctx.clusters().contexts(),
        };
        let summary = format!(
            "Cluster {} ({}) runs Kubernetes {}.",
            context.as_deref().unwrap_or("(default)"),
            server.as_deref().unwrap_or("in-process"),
            version.git_version
        );
        Ok(Reply::new(summary, out))
    }
}
