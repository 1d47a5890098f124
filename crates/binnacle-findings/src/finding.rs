//! The [`Finding`] type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How bad a finding is. Orders most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something is down or cannot start.
    Critical,
    /// Degraded, or about to be.
    Warning,
    /// Worth knowing; nothing is broken.
    Info,
}

/// An event that supports a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventEvidence {
    /// The event's reason (e.g. `BackOff`).
    pub reason: String,
    /// Its message, sanitized.
    pub message: String,
    /// How many times it was seen.
    pub count: i64,
}

/// What was observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Relevant conditions and states, one line each (e.g. `Ready=False (ContainersNotReady)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// Relevant events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventEvidence>,
    /// Log lines (e.g. the last lines of a crashed container), sanitized.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
}

/// A suggested tool call from Binnacle's catalog. Only ever proposed, never applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProposedCall {
    /// Tool name (e.g. `pod_logs`, `rollout_undo`).
    pub tool: String,
    /// Its arguments.
    pub arguments: Value,
}

/// One thing that is wrong with the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// Kind of the affected object (e.g. `Deployment`, `Pod`).
    pub kind: String,
    /// Namespace of the object (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name of the object.
    pub name: String,
    /// The analyzer that reported it.
    pub analyzer: String,
    /// One line for a human.
    pub summary: String,
    /// What was observed.
    pub evidence: Evidence,
    /// The most likely cause.
    pub likely_cause: String,
    /// A next step, if one is obvious.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<ProposedCall>,
}

/// Replaces control characters (other than tab) with spaces and trims, so text from the cluster is safe to show.
pub fn sanitize(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
    let trimmed = cleaned.trim();
    if trimmed.chars().count() > 500 {
        trimmed.chars().take(500).collect::<String>() + "…"
    } else {
        trimmed.to_string()
    }
}
