//! The append-only, hash-chained audit log of tool calls and decisions.
//!
//! Each entry's `hash` is the hex SHA-256 of the previous entry's hash followed by the entry's canonical
//! JSON (its fields other than `hash`, in a fixed order); the first entry chains from 64 zeros. Changing,
//! removing or reordering any entry breaks every later hash, which [`Store::verify_audit`] detects.

use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// When, ms.
    pub at: i64,
    /// Who: a username, `policy`, or `system`.
    pub actor: String,
    /// What happened: `tool.call`, `approval.approved`, `approval.denied`, `user.created`, ...
    pub action: String,
    /// The kubeconfig context, when any.
    pub context: Option<String>,
    /// The tool, when any.
    pub tool: Option<String>,
    /// Arguments with secrets redacted.
    pub arguments: Option<Value>,
    /// The decision: `approved`, `denied`, `auto-approved`, `read-only`.
    pub decision: Option<String>,
    /// The outcome: `succeeded`, `failed: ...`, `denied`.
    pub outcome: Option<String>,
    /// The run, when any.
    pub run_id: Option<String>,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// An entry to append.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Context.
    pub context: Option<String>,
    /// Tool.
    pub tool: Option<String>,
    /// Arguments, already redacted.
    pub arguments: Option<Value>,
    /// Decision.
    pub decision: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Run.
    pub run_id: Option<String>,
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerification {
    /// True when every entry's hash matches and `seq` has no gaps.
    pub valid: bool,
    /// Entries checked.
    pub entries: i64,
    /// The first entry that does not match.
    pub first_invalid_seq: Option<i64>,
    /// Why it does not match.
    pub reason: Option<String>,
    /// The last entry's hash (a value to write down elsewhere to detect truncation).
    pub head_hash: Option<String>,
}

impl Store {
    /// Appends an entry, chaining it to the last one (safe under concurrent writers and replicas: a
    /// conflicting `seq` is retried).
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        todo!("{entry:?}")
    }

    /// Entries with `seq > after`, oldest first, at most `limit`.
    pub async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        todo!("{after}{limit}")
    }

    /// Recomputes the whole chain.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        todo!()
    }
}
