//! The `Binnacle` custom resource (`binnacle.dev/v1alpha1`): one installation of Binnacle (the engine with
//! its UI, the MCP server, optionally a Gateway), and its CustomResourceDefinition (`deploy/crds/binnacle.yaml`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Spec of a `Binnacle`: what to install, from a small set of choices.
// Several `printcolumn(...)` attributes are how kube's derive takes columns.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "binnacle.dev",
    version = "v1alpha1",
    kind = "Binnacle",
    namespaced,
    status = "BinnacleStatus",
    shortname = "bnc",
    category = "binnacle",
    doc = "An installation of Binnacle: the engine with its UI, the MCP server and optionally an MCP Gateway.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the installation is in its declared state"
    ),
    printcolumn(name = "Version", type_ = "string", json_path = ".status.observedVersion", description = "Image tag"),
    printcolumn(name = "URL", type_ = "string", json_path = ".status.url", description = "The UI and API"),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = "1",
        description = "Why it is (not) ready"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct BinnacleSpec {
    /// The image of every pod (default: the operator's `--image`, i.e. its own version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Engine replicas (1–10, default 1). More than one needs `database.urlSecretRef` (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub replicas: Option<i32>,
    /// The engine's database (default: SQLite on an emptyDir, one replica, data lost with the pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseSpec>,
    /// The LLM provider of the agent (default: offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmSpec>,
    /// What the tools may do: `readOnly` (ClusterRole `binnacle-read`, default) or `readWrite`
    /// (`binnacle-write`).
    #[serde(default)]
    pub tools: ToolsMode,
    /// Expose the UI and API through an Ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    /// The MCP server (`binnacle mcp` over Streamable HTTP; default enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<Toggle>,
    /// An MCP Gateway (a `Gateway` owned by this resource; default disabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Toggle>,
}

/// A key of a Secret in the resource's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key in the Secret.
    pub key: String,
}

/// The engine's database.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSpec {
    /// A Secret key holding the database URL (`postgres://USER:PASSWORD@HOST/DB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret_ref: Option<SecretKeyRef>,
}

/// The LLM provider.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LlmSpec {
    /// `offline` (no model: findings and tools only), `openai` (or compatible) or `anthropic`.
    #[serde(default)]
    pub provider: LlmProvider,
    /// A Secret key holding the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// The model (required with a provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider's base URL (default: the provider's public API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// LLM providers.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LlmProvider {
    /// No model.
    #[default]
    Offline,
    /// OpenAI or an OpenAI-compatible server.
    Openai,
    /// Anthropic.
    Anthropic,
}

impl LlmProvider {
    /// The value of `BINNACLE_LLM_PROVIDER`.
    pub fn as_str(self) -> &'static str {
        match self {
            LlmProvider::Offline => "offline",
            LlmProvider::Openai => "openai",
            LlmProvider::Anthropic => "anthropic",
        }
    }
}

/// What the tools may do.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ToolsMode {
    /// Read only.
    #[default]
    ReadOnly,
    /// Read and write (changes still go through the approval gate).
    ReadWrite,
}

/// The Ingress of the UI and API.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// The host name.
    pub host: String,
    /// The IngressClass (default: the cluster's default class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// A `kubernetes.io/tls` Secret for the host (TLS is off without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret_name: Option<String>,
}

/// An on/off switch.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Toggle {
    /// On or off (absent: the field's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// What is installed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BinnacleStatus {
    /// `Ready`: whether everything is installed and available; the reason and message say what to fix.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The image tag running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_version: Option<String>,
    /// Where the UI and API are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl BinnacleSpec {
    /// Engine replicas asked for (default 1).
    pub fn replicas(&self) -> i32 {
        self.replicas.unwrap_or(1)
    }

    /// Whether the MCP server is installed (default yes).
    pub fn mcp_enabled(&self) -> bool {
        self.mcp.as_ref().and_then(|t| t.enabled).unwrap_or(true)
    }

    /// Whether a Gateway is installed (default no).
    pub fn gateway_enabled(&self) -> bool {
        self.gateway.as_ref().and_then(|t| t.enabled).unwrap_or(false)
    }
}

/// The CustomResourceDefinition of `Binnacle` as YAML, exactly as committed in `deploy/crds/binnacle.yaml`.
pub fn crd_yaml() -> String {
    let crd = Binnacle::crd();
    let body = serde_norway::to_string(&crd).unwrap_or_else(|e| format!("# cannot render the CRD: {e}\n"));
    format!(
        "# Generated from crates/binnacle-operator/src/binnacle/crd.rs; do not edit.\n\
         # Regenerate: BINNACLE_UPDATE_CRDS=1 cargo test -p binnacle-operator --test crd\n{body}"
    )
}
