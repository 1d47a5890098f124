//! A Gateway spec, checked: [`GatewayConfig::from_spec`] turns a spec into what the gateway runs with, or
//! into a [`SpecProblem`] whose reason and message become the `Ready=False` condition.

use crate::crd::{AuthMode, DEFAULT_CALL_TIMEOUT_SECONDS, DEFAULT_MCP_PORT, DEFAULT_TOOL_SEPARATOR, GatewaySpec};
use crate::policy::Policy;
use binnacle_objects::names::{check_dns1123_label, check_label_value, check_qualified_name};
use binnacle_objects::selector::{LabelSelector as Selector, Requirement};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeSet;
use std::time::Duration;

/// Why a spec cannot be served: a `Ready=False` condition's reason and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct SpecProblem {
    /// CamelCase reason, e.g. `InvalidServiceSelector`.
    pub reason: &'static str,
    /// What is wrong and what to change.
    pub message: String,
}

impl SpecProblem {
    fn new(reason: &'static str, message: impl Into<String>) -> SpecProblem {
        SpecProblem { reason, message: message.into() }
    }
}

/// A checked spec: what the gateway runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The port the gateway's Service exposes.
    pub mcp_port: u16,
    /// Services matching it are MCP servers.
    pub service_selector: Selector,
    /// When set, only these namespaces.
    pub namespaces: Option<BTreeSet<String>>,
    /// When set, only namespaces whose labels match.
    pub namespace_selector: Option<Selector>,
    /// Between prefix and tool name.
    pub separator: String,
    /// Which tools pass.
    pub policy: Policy,
    /// Time limit of one forwarded call.
    pub call_timeout: Duration,
    /// The TLS Secret to check (with `enableTls`).
    pub tls_secret: Option<String>,
    /// How clients authenticate.
    pub auth: AuthConfig,
}

/// How clients authenticate, as the spec says (the Secret is read by [`crate::auth`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthConfig {
    /// No authentication.
    #[default]
    None,
    /// API keys: every data value of the Secret is one key, its data key the key's name.
    ApiKeys {
        /// The Secret in the Gateway's namespace.
        secret: String,
    },
    /// HS256 access tokens issued by the engine, verified with the Secret's `jwt-secret`.
    Jwt {
        /// The Secret in the Gateway's namespace.
        secret: String,
    },
}

impl GatewayConfig {
    /// What discovery has to watch: the label selector (as a query string) and the namespaces. A change of
    /// scope restarts the watches.
    pub fn scope(&self) -> (String, Option<BTreeSet<String>>) {
        (self.service_selector.to_selector_string(), self.namespaces.clone())
    }

    /// Checks a spec. Everything the gateway cannot serve as asked is a problem whose message says what to
    /// change; the TLS Secret's existence is checked separately ([`crate::status`]), against the cluster.
    pub fn from_spec(spec: &GatewaySpec) -> Result<GatewayConfig, SpecProblem> {
        let port = spec.mcp_port.unwrap_or(DEFAULT_MCP_PORT);
        let mcp_port = u16::try_from(port).ok().filter(|p| *p > 0).ok_or_else(|| {
            SpecProblem::new("InvalidPort", format!("mcpPort {port} is out of range: use a port from 1 to 65535"))
        })?;
        let service_selector = selector(&spec.effective_service_selector())
            .map_err(|e| SpecProblem::new("InvalidServiceSelector", format!("serviceSelector is invalid: {e}")))?;
        if service_selector.is_empty() {
            return Err(SpecProblem::new(
                "InvalidServiceSelector",
                "serviceSelector is empty and would make every Service an MCP server: give it matchLabels \
                 (e.g. mcp-enabled: \"true\") or matchExpressions, or remove it for the default",
            ));
        }
        let namespace_selector =
            spec.namespace_selector.as_ref().map(selector).transpose().map_err(|e| {
                SpecProblem::new("InvalidNamespaceSelector", format!("namespaceSelector is invalid: {e}"))
            })?;
        let mut namespaces = BTreeSet::new();
        for (i, ns) in spec.namespaces.iter().enumerate() {
            check_dns1123_label(ns).map_err(|e| {
                SpecProblem::new("InvalidNamespaces", format!("namespaces[{i}] {ns:?} is not a namespace name: {e}"))
            })?;
            namespaces.insert(ns.clone());
        }
        let separator = spec.tool_separator.clone().unwrap_or_else(|| DEFAULT_TOOL_SEPARATOR.to_string());
        if separator.is_empty()
            || separator.len() > 8
            || !separator.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(SpecProblem::new(
                "InvalidToolSeparator",
                format!(
                    "toolSeparator {separator:?} is not allowed: use 1 to 8 of the MCP tool-name characters \
                     (letters, digits, '_', '-', '.'), e.g. \".\" or \"__\""
                ),
            ));
        }
        let policy =
            Policy::compile(spec.tool_policy.as_ref()).map_err(|e| SpecProblem::new("InvalidToolPolicy", e))?;
        let timeout = spec.call_timeout_seconds.unwrap_or(DEFAULT_CALL_TIMEOUT_SECONDS);
        if !(1..=3600).contains(&timeout) {
            return Err(SpecProblem::new(
                "InvalidCallTimeout",
                format!("callTimeoutSeconds {timeout} is out of range: use 1 to 3600"),
            ));
        }
        let tls_secret = if spec.enable_tls {
            match spec.tls_secret_ref.as_ref().map(|r| r.name.trim()).filter(|n| !n.is_empty()) {
                Some(name) => Some(name.to_string()),
                None => {
                    return Err(SpecProblem::new(
                        "TLSSecretMissing",
                        "enableTls is true but tlsSecretRef is not set: name a kubernetes.io/tls Secret in the \
                         Gateway's namespace (tlsSecretRef.name), or set enableTls: false",
                    ));
                }
            }
        } else {
            None
        };
        let auth = match spec.auth.as_ref().map(|a| (a.mode, a.secret_ref.as_ref())) {
            None | Some((AuthMode::None, _)) => AuthConfig::None,
            Some((mode, secret)) => {
                let (label, what) = match mode {
                    AuthMode::ApiKeys => ("apiKeys", "whose every data value is one API key"),
                    _ => ("jwt", "with the engine's JWT signing secret under the key jwt-secret"),
                };
                let Some(secret) = secret.map(|r| r.name.trim()).filter(|n| !n.is_empty()) else {
                    return Err(SpecProblem::new(
                        "AuthSecretMissing",
                        format!(
                            "auth.mode {label} needs auth.secretRef.name: name a Secret in the Gateway's namespace \
                             {what}"
                        ),
                    ));
                };
                match mode {
                    AuthMode::ApiKeys => AuthConfig::ApiKeys { secret: secret.to_string() },
                    _ => AuthConfig::Jwt { secret: secret.to_string() },
                }
            }
        };
        Ok(GatewayConfig {
            mcp_port,
            service_selector,
            namespaces: (!namespaces.is_empty()).then_some(namespaces),
            namespace_selector,
            separator,
            policy,
            call_timeout: Duration::from_secs(timeout.unsigned_abs()),
            tls_secret,
            auth,
        })
    }
}

/// A structured label selector as a checked selector: operators, keys, values.
fn selector(sel: &LabelSelector) -> Result<Selector, String> {
    let value = serde_json::to_value(sel).map_err(|e| e.to_string())?;
    for (i, expr) in sel.match_expressions.iter().flatten().enumerate() {
        let values = expr.values.as_deref().unwrap_or_default();
        match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(format!("matchExpressions[{i}] ({} {}) needs at least one value", expr.key, expr.operator));
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(format!("matchExpressions[{i}] ({} {}) must have no values", expr.key, expr.operator));
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => {
                return Err(format!(
                    "matchExpressions[{i}] has operator {other:?}: use In, NotIn, Exists or DoesNotExist"
                ));
            }
        }
    }
    let parsed = Selector::from_object(&value).map_err(|e| e.to_string())?;
    for req in &parsed.requirements {
        let (key, values): (&str, Vec<&str>) = match req {
            Requirement::Equals(k, v) | Requirement::NotEquals(k, v) => (k, vec![v.as_str()]),
            Requirement::In(k, vs) | Requirement::NotIn(k, vs) => (k, vs.iter().map(String::as_str).collect()),
            Requirement::Exists(k) | Requirement::DoesNotExist(k) => (k, vec![]),
        };
        check_qualified_name(key).map_err(|e| format!("label key {key:?} is not valid: {e}"))?;
        for v in values {
            check_label_value(v).map_err(|e| format!("label value {v:?} (key {key:?}) is not valid: {e}"))?;
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{GatewayAuth, SecretRef, ToolPolicy};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use std::collections::BTreeMap;

    fn problem(spec: GatewaySpec) -> SpecProblem {
        GatewayConfig::from_spec(&spec).expect_err("a problem")
    }

    #[test]
    fn defaults() {
        let config = GatewayConfig::from_spec(&GatewaySpec::default()).expect("valid");
        assert_eq!(config.mcp_port, 8080);
        assert_eq!(config.service_selector.to_selector_string(), "mcp-enabled=true");
        assert_eq!(config.separator, ".");
        assert_eq!(config.call_timeout, Duration::from_secs(60));
        assert_eq!(config.namespaces, None);
        assert_eq!(config.tls_secret, None);
    }

    #[test]
    fn problems_say_what_to_fix() {
        let p = problem(GatewaySpec { mcp_port: Some(70000), ..Default::default() });
        assert_eq!(p.reason, "InvalidPort");
        assert!(p.message.contains("mcpPort 70000 is out of range: use a port from 1 to 65535"), "{p}");
        assert_eq!(problem(GatewaySpec { mcp_port: Some(0), ..Default::default() }).reason, "InvalidPort");

        let bad_key = LabelSelector {
            match_labels: Some(BTreeMap::from([("bad key!".to_string(), "x".to_string())])),
            match_expressions: None,
        };
        let p = problem(GatewaySpec { service_selector: Some(bad_key), ..Default::default() });
        assert_eq!(p.reason, "InvalidServiceSelector");
        assert!(p.message.contains("label key \"bad key!\" is not valid"), "{p}");

        let bad_op = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "Equals".into(),
                values: Some(vec!["mcp".into()]),
            }]),
        };
        let p = problem(GatewaySpec { service_selector: Some(bad_op), ..Default::default() });
        assert!(p.message.contains("operator \"Equals\": use In, NotIn, Exists or DoesNotExist"), "{p}");
        let empty = LabelSelector::default();
        assert_eq!(
            problem(GatewaySpec { service_selector: Some(empty), ..Default::default() }).reason,
            "InvalidServiceSelector"
        );

        let p = problem(GatewaySpec { enable_tls: true, ..Default::default() });
        assert_eq!(p.reason, "TLSSecretMissing");
        assert!(p.message.contains("tlsSecretRef"), "{p}");
        let ok = GatewayConfig::from_spec(&GatewaySpec {
            enable_tls: true,
            tls_secret_ref: Some(SecretRef { name: "gw-tls".into() }),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(ok.tls_secret.as_deref(), Some("gw-tls"));

        assert_eq!(
            problem(GatewaySpec { tool_separator: Some("/".into()), ..Default::default() }).reason,
            "InvalidToolSeparator"
        );
        assert_eq!(
            problem(GatewaySpec { namespaces: vec!["Not_A_Namespace".into()], ..Default::default() }).reason,
            "InvalidNamespaces"
        );
        assert_eq!(
            problem(GatewaySpec {
                tool_policy: Some(ToolPolicy { allow: vec![" ".into()], ..Default::default() }),
                ..Default::default()
            })
            .reason,
            "InvalidToolPolicy"
        );
        assert_eq!(
            problem(GatewaySpec { call_timeout_seconds: Some(0), ..Default::default() }).reason,
            "InvalidCallTimeout"
        );
        let p = problem(GatewaySpec {
            auth: Some(GatewayAuth { mode: AuthMode::ApiKeys, secret_ref: None }),
            ..Default::default()
        });
        assert_eq!(p.reason, "AuthSecretMissing");
        assert!(p.message.contains("auth.secretRef.name"), "{p}");
        let ok = GatewayConfig::from_spec(&GatewaySpec {
            auth: Some(GatewayAuth { mode: AuthMode::Jwt, secret_ref: Some(SecretRef { name: "gw-jwt".into() }) }),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(ok.auth, AuthConfig::Jwt { secret: "gw-jwt".into() });
    }
}
