//! The `Gateway` custom resource (`binnacle.dev/v1alpha1`): what a gateway exposes (spec) and what it
//! really serves (status), and the CustomResourceDefinition generated from these types
//! (`deploy/crds/gateway.yaml`, see [`crd_yaml`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The API group of Binnacle's custom resources.
pub const GROUP: &str = "binnacle.dev";
/// The version of the `Gateway` resource.
pub const VERSION: &str = "v1alpha1";
/// The label a Service carries to be discovered when the Gateway has no `serviceSelector`.
pub const DEFAULT_SELECTOR_LABEL: (&str, &str) = ("mcp-enabled", "true");
/// Default port the gateway serves MCP on (used by the operator for the gateway's Service).
pub const DEFAULT_MCP_PORT: i32 = 8080;
/// Default separator between a service's prefix and its tool's name.
pub const DEFAULT_TOOL_SEPARATOR: &str = ".";
/// Default time limit of one tool call forwarded to an upstream, in seconds.
pub const DEFAULT_CALL_TIMEOUT_SECONDS: i64 = 60;

/// Spec of a `Gateway`: which Services are MCP servers, how the gateway serves them, and which tools it
/// lets through.
// Several `printcolumn(...)` attributes are how kube's derive takes columns.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "binnacle.dev",
    version = "v1alpha1",
    kind = "Gateway",
    namespaced,
    status = "GatewayStatus",
    shortname = "mcpgw",
    category = "binnacle",
    doc = "An MCP gateway: serves the tools of every MCP server Service it discovers behind one endpoint.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the gateway serves its spec"
    ),
    printcolumn(
        name = "Services",
        type_ = "string",
        json_path = ".status.servicesAvailable",
        description = "Available MCP services / discovered MCP services"
    ),
    printcolumn(name = "Tools", type_ = "integer", json_path = ".status.tools", description = "Tools served"),
    printcolumn(name = "Address", type_ = "string", json_path = ".status.address", description = "MCP endpoint"),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = "1",
        description = "Why the gateway is (not) ready"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    /// Port the gateway serves MCP on (1–65535, default 8080).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_port: Option<i32>,
    /// Services matching this label selector are MCP servers (default: `mcp-enabled: "true"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_selector: Option<LabelSelector>,
    /// Only Services in namespaces whose labels match this selector (default: every namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Only Services in these namespaces (default: every namespace). With `namespaceSelector`, both apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Serve MCP over TLS with the certificate in `tlsSecretRef`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_tls: bool,
    /// A `kubernetes.io/tls` Secret in the Gateway's namespace (`tls.crt`, `tls.key`); required with `enableTls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret_ref: Option<SecretRef>,
    /// How clients authenticate to the gateway (default: `mode: none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<GatewayAuth>,
    /// Which tools the gateway lists and lets clients call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_policy: Option<ToolPolicy>,
    /// Text between a service's prefix and its tool's name in `/mcp` (default `.`: `payments.get_invoice`).
    /// Only letters, digits, `_`, `-` and `.` are allowed (MCP tool-name characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_separator: Option<String>,
    /// Time limit of one tool call forwarded to an upstream, in seconds (1–3600, default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_timeout_seconds: Option<i64>,
}

/// A Secret in the Gateway's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    /// The Secret's name.
    pub name: String,
}

/// How clients authenticate to the gateway.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayAuth {
    /// `none` (no authentication), `apiKeys` (keys from `secretRef`) or `jwt` (tokens issued by the engine).
    #[serde(default)]
    pub mode: AuthMode,
    /// With `apiKeys`: a Secret whose values are the accepted keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretRef>,
}

/// Authentication mode of a gateway.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AuthMode {
    /// No authentication.
    #[default]
    None,
    /// API keys from a Secret.
    ApiKeys,
    /// JWTs issued by Binnacle's engine.
    Jwt,
}

/// Which tools pass the gateway. Patterns match the name clients see (`<service><separator><tool>`), with
/// `*` matching any run of characters (`payments.*`, `*.delete_*`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolPolicy {
    /// When not empty, only tools matching one of these patterns are served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Tools matching one of these patterns are never served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    /// Serve only tools whose upstream marks them `readOnlyHint: true` (a tool without annotations counts as
    /// changing things).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// What a gateway really serves.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayStatus {
    /// The gateway's MCP endpoint (`/mcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Every discovered MCP service and its state.
    #[serde(default)]
    pub mcp_services: Vec<McpServiceStatus>,
    /// `available/discovered`, e.g. `2/3` (the SERVICES column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services_available: Option<String>,
    /// Tools served through `/mcp` (after the tool policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<i64>,
    /// `Ready`: whether the gateway serves its spec; its reason and message say what to fix.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// One discovered MCP service.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct McpServiceStatus {
    /// The Service's name.
    pub name: String,
    /// The Service's namespace.
    pub namespace: String,
    /// `tool` (an MCP server of tools) or `agent` (an agent reachable over MCP).
    #[serde(rename = "type")]
    pub type_: McpType,
    /// The URL the gateway talks to (a ready endpoint), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `Available` or `Unavailable`.
    pub status: ServiceState,
    /// Tools the service lists (before the tool policy).
    pub tools: i64,
    /// The prefix of its tools in `/mcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Why it is unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When its state last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

/// What kind of MCP server a Service is (`binnacle.dev/mcp-type`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum McpType {
    /// Serves tools.
    #[default]
    Tool,
    /// An agent that takes tasks over MCP.
    Agent,
}

impl McpType {
    /// `tool` or `agent`.
    pub fn as_str(self) -> &'static str {
        match self {
            McpType::Tool => "tool",
            McpType::Agent => "agent",
        }
    }
}

/// Whether an upstream is served.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum ServiceState {
    /// Connected and listing its tools.
    Available,
    /// Not reachable, not answering or misbehaving; its tools are not served.
    #[default]
    Unavailable,
}

impl ServiceState {
    /// `Available` or `Unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Available => "Available",
            ServiceState::Unavailable => "Unavailable",
        }
    }
}

impl GatewaySpec {
    /// The service selector in force: the spec's, or `mcp-enabled: "true"`.
    pub fn effective_service_selector(&self) -> LabelSelector {
        self.service_selector.clone().unwrap_or_else(|| LabelSelector {
            match_labels: Some(BTreeMap::from([(
                DEFAULT_SELECTOR_LABEL.0.to_string(),
                DEFAULT_SELECTOR_LABEL.1.to_string(),
            )])),
            match_expressions: None,
        })
    }
}

/// The CustomResourceDefinition of `Gateway` as YAML, exactly as committed in `deploy/crds/gateway.yaml`.
pub fn crd_yaml() -> String {
    let crd = Gateway::crd();
    let body = serde_norway::to_string(&crd).unwrap_or_else(|e| format!("# cannot render the CRD: {e}\n"));
    format!(
        "# Generated from crates/binnacle-gateway/src/crd.rs; do not edit.\n\
         # Regenerate: cargo run -- gateway crd > deploy/crds/gateway.yaml\n\
         # (or BINNACLE_UPDATE_CRDS=1 cargo test -p binnacle-gateway --test crd)\n{body}"
    )
}
