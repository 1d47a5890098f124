//! `helm_release_manifest`: the rendered manifest of a release (`helm get manifest`), Secrets redacted.

use super::common::namespace_of;
use super::{args, redact, storage};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, sanitize_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Arguments of `helm_release_manifest`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseManifestInput {
    /// Release name.
    pub release: String,
    /// Namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Revision; default: the latest.
    pub revision: Option<i64>,
}

/// A release's manifest.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseManifestOutput {
    /// Release name.
    pub release: String,
    /// Namespace.
    pub namespace: String,
    /// Revision.
    pub revision: i64,
    /// The objects it declares.
    pub resources: Vec<Map<String, Value>>,
    /// The manifest YAML (Secret values and credential-shaped text redacted; untrusted).
    pub manifest: String,
}

/// See the module docs.
pub struct ReleaseManifest;

impl Tool for ReleaseManifest {
    type Input = ReleaseManifestInput;
    type Output = ReleaseManifestOutput;
    const NAME: &'static str = "helm_release_manifest";
    const TITLE: &'static str = "Helm: release manifest";
    const DESCRIPTION: &'static str = "Show the Kubernetes manifest a Helm release rendered (latest or a given revision), with the list of objects; Secret values are redacted. No helm binary needed.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "releases", "read", "manifest"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ReleaseManifestInput) -> Result<(), ToolError> {
        args::release(&input.release)?;
        args::namespace(input.namespace.as_deref())
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: ReleaseManifestInput,
    ) -> Result<Reply<ReleaseManifestOutput>, ToolError> {
        let ns = namespace_of(ctx, input.namespace.as_deref()).await?;
        let r = storage::revision(ctx, &ns, &input.release, input.revision).await?;
        let text = r.manifest();
        let resources = storage::manifest_resources(&text);
        let manifest = sanitize_text(&redact::manifest(&text));
        let kinds: Vec<String> = resources
            .iter()
            .map(|m| {
                format!(
                    "{}/{}",
                    m.get("kind").and_then(Value::as_str).unwrap_or(""),
                    m.get("name").and_then(Value::as_str).unwrap_or("")
                )
            })
            .collect();
        let summary = format!("Manifest of {ns}/{} revision {}: {}.", input.release, r.revision, kinds.join(", "));
        Ok(Reply::new(
            summary,
            ReleaseManifestOutput { release: input.release, namespace: ns, revision: r.revision, resources, manifest },
        )
        .untrusted())
    }
}
