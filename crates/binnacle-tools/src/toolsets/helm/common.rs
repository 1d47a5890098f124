//! What the Helm tools share: the release summary they return and the namespace default.

use super::storage::Release;
use crate::context::ToolContext;
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// One revision of a release, as `helm list` / `helm status` show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSummary {
    /// Release name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Revision.
    pub revision: i64,
    /// `deployed`, `superseded`, `failed`, `uninstalled`, `pending-install`, `pending-upgrade`, ...
    pub status: String,
    /// Chart `name-version`.
    pub chart: String,
    /// App version.
    pub app_version: String,
    /// When this revision was deployed.
    pub updated: String,
    /// What Helm recorded (`Install complete`, `Upgrade complete`, `Rollback to 1`, an error).
    pub description: String,
}

impl From<&Release> for ReleaseSummary {
    fn from(r: &Release) -> Self {
        Self {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            revision: r.revision,
            status: r.status(),
            chart: r.chart(),
            app_version: r.app_version(),
            updated: r.last_deployed(),
            description: crate::output::untrusted_text(&r.description()),
        }
    }
}

/// A summary from release JSON that `helm ... --output json` printed.
pub fn summary_from_json(v: &Value) -> ReleaseSummary {
    let r = Release {
        name: v.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
        namespace: v.get("namespace").and_then(Value::as_str).unwrap_or("").to_string(),
        revision: v.get("version").and_then(Value::as_i64).unwrap_or(0),
        raw: v.clone(),
    };
    ReleaseSummary::from(&r)
}

/// The namespace a call uses: the argument, else the context's default namespace.
pub async fn namespace_of(ctx: &ToolContext, ns: Option<&str>) -> Result<String, ToolError> {
    match ns {
        Some(n) => Ok(n.to_string()),
        None => Ok(ctx.kube().await?.default_namespace().to_string()),
    }
}

/// One line about a release.
pub fn one_line(r: &ReleaseSummary) -> String {
    format!("{}/{} revision {} {} ({}, app {})", r.namespace, r.name, r.revision, r.status, r.chart, r.app_version)
}
