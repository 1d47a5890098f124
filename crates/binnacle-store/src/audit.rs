//! The append-only, hash-chained audit log of tool calls and decisions.
//!
//! Each entry's `hash` is the hex SHA-256 of the previous entry's hash followed by the entry's canonical
//! JSON (its fields other than `hash`, in a fixed order); the first entry chains from 64 zeros. Changing,
//! removing or reordering any entry breaks every later hash, which [`Store::verify_audit`] detects.

use crate::util::{backoff, get, is_unique_violation};
use crate::{Backend, Store, StoreError, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

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

/// The `prev_hash` of the first entry.
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How often an append that lost the race for the next `seq` is retried.
const APPEND_ATTEMPTS: u32 = 20;

/// Entries read per query by [`Store::verify_audit`].
const VERIFY_PAGE: i64 = 1_000;

const AUDIT_COLUMNS: &str =
    "seq, at, actor, action, context, tool, arguments, decision, outcome, run_id, prev_hash, hash";

/// An entry as stored: `arguments` is the stored JSON text, which is what the hash covers.
struct StoredEntry {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    context: Option<String>,
    tool: Option<String>,
    arguments: Option<String>,
    decision: Option<String>,
    outcome: Option<String>,
    run_id: Option<String>,
    prev_hash: String,
    hash: String,
}

impl StoredEntry {
    fn from_row(row: &AnyRow) -> Result<StoredEntry, StoreError> {
        Ok(StoredEntry {
            seq: get(row, "seq")?,
            at: get(row, "at")?,
            actor: get(row, "actor")?,
            action: get(row, "action")?,
            context: get(row, "context")?,
            tool: get(row, "tool")?,
            arguments: get(row, "arguments")?,
            decision: get(row, "decision")?,
            outcome: get(row, "outcome")?,
            run_id: get(row, "run_id")?,
            prev_hash: get(row, "prev_hash")?,
            hash: get(row, "hash")?,
        })
    }

    /// The entry's canonical JSON: an object with `seq`, `at`, `actor`, `action`, `context`, `tool`,
    /// `arguments`, `decision`, `outcome`, `runId` and `prevHash`, in that order, without whitespace (what
    /// `serde_json::to_string` writes for it). `arguments` is embedded as stored, so that the hash covers
    /// the stored bytes (re-reading floats need not round-trip exactly).
    fn canonical_json(&self) -> String {
        fn text(value: &str) -> String {
            Value::from(value).to_string()
        }
        fn opt(value: &Option<String>) -> String {
            value.as_deref().map(text).unwrap_or_else(|| "null".to_string())
        }
        format!(
            "{{\"seq\":{},\"at\":{},\"actor\":{},\"action\":{},\"context\":{},\"tool\":{},\"arguments\":{},\
             \"decision\":{},\"outcome\":{},\"runId\":{},\"prevHash\":{}}}",
            self.seq,
            self.at,
            text(&self.actor),
            text(&self.action),
            opt(&self.context),
            opt(&self.tool),
            self.arguments.as_deref().unwrap_or("null"),
            opt(&self.decision),
            opt(&self.outcome),
            opt(&self.run_id),
            text(&self.prev_hash),
        )
    }

    /// `hex(sha256(prev_hash + canonical JSON))`.
    fn compute_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(self.canonical_json().as_bytes());
        hex::encode(hasher.finalize())
    }

    fn into_entry(self) -> Result<AuditEntry, StoreError> {
        let arguments = self
            .arguments
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("audit entry {} arguments are not JSON: {e}", self.seq)))
            })
            .transpose()?;
        Ok(AuditEntry {
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            context: self.context,
            tool: self.tool,
            arguments,
            decision: self.decision,
            outcome: self.outcome,
            run_id: self.run_id,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

impl Store {
    /// Appends an entry, chaining it to the last one (safe under concurrent writers and replicas: a
    /// conflicting `seq` is retried).
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let arguments = entry.arguments.as_ref().map(crate::util::json_text);
        let mut attempt = 0;
        loop {
            match self.try_append_audit(entry, &arguments).await {
                Err(StoreError::Database(e)) if is_unique_violation(&e) && attempt + 1 < APPEND_ATTEMPTS => {
                    backoff(attempt).await;
                    attempt += 1;
                }
                Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "could not append to the audit log: {APPEND_ATTEMPTS} concurrent appends took the next seq first"
                    )));
                }
                other => return other,
            }
        }
    }

    async fn try_append_audit(
        &self,
        entry: &NewAuditEntry,
        arguments: &Option<String>,
    ) -> Result<AuditEntry, StoreError> {
        // Writers queue on a lock (SQLite's write lock taken by BEGIN IMMEDIATE, a self-conflicting table lock
        // on PostgreSQL that readers pass), so that the read of the last entry and the insert after it do not
        // interleave; the seq primary key still refuses a duplicate, and the caller retries.
        let mut tx = match self.backend() {
            Backend::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.pool().begin().await?;
                sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
                tx
            }
        };
        let last =
            sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
        let (last_seq, prev_hash) = match last {
            Some(row) => (get::<i64>(&row, "seq")?, get::<String>(&row, "hash")?),
            None => (0, GENESIS_HASH.to_string()),
        };
        let mut stored = StoredEntry {
            seq: last_seq + 1,
            at: now_ms(),
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            context: entry.context.clone(),
            tool: entry.tool.clone(),
            arguments: arguments.clone(),
            decision: entry.decision.clone(),
            outcome: entry.outcome.clone(),
            run_id: entry.run_id.clone(),
            prev_hash,
            hash: String::new(),
        };
        stored.hash = stored.compute_hash();
        sqlx::query(&format!(
            "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(stored.seq)
        .bind(stored.at)
        .bind(&stored.actor)
        .bind(&stored.action)
        .bind(&stored.context)
        .bind(&stored.tool)
        .bind(&stored.arguments)
        .bind(&stored.decision)
        .bind(&stored.outcome)
        .bind(&stored.run_id)
        .bind(&stored.prev_hash)
        .bind(&stored.hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(AuditEntry {
            seq: stored.seq,
            at: stored.at,
            actor: stored.actor,
            action: stored.action,
            context: stored.context,
            tool: stored.tool,
            arguments: entry.arguments.clone(),
            decision: stored.decision,
            outcome: stored.outcome,
            run_id: stored.run_id,
            prev_hash: stored.prev_hash,
            hash: stored.hash,
        })
    }

    async fn stored_audit_entries(&self, after: i64, limit: i64) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(after)
            .bind(limit.max(0))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(StoredEntry::from_row).collect()
    }

    /// Entries with `seq > after`, oldest first, at most `limit`.
    pub async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        self.stored_audit_entries(after, limit).await?.into_iter().map(StoredEntry::into_entry).collect()
    }

    /// Recomputes the whole chain.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let mut entries = 0;
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut first_invalid: Option<(i64, String)> = None;
        let mut after = 0;
        loop {
            let page = self.stored_audit_entries(after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for entry in page {
                entries += 1;
                if first_invalid.is_none() {
                    let problem = if entry.seq != expected_seq {
                        Some(format!("expected seq {expected_seq} but found seq {} (entries are missing)", entry.seq))
                    } else if entry.prev_hash != prev_hash {
                        Some("prev_hash does not match the previous entry's hash".to_string())
                    } else if entry.compute_hash() != entry.hash {
                        Some("hash does not match the entry's contents".to_string())
                    } else {
                        None
                    };
                    if let Some(problem) = problem {
                        first_invalid = Some((entry.seq, problem));
                    }
                }
                expected_seq = entry.seq + 1;
                prev_hash = entry.hash;
            }
        }
        let head_hash = (entries > 0).then_some(prev_hash);
        let (first_invalid_seq, reason) = match first_invalid {
            Some((seq, reason)) => (Some(seq), Some(reason)),
            None => (None, None),
        };
        Ok(AuditVerification { valid: first_invalid_seq.is_none(), entries, first_invalid_seq, reason, head_hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written canonical JSON is what serde_json writes for the same object.
    #[test]
    fn canonical_json_is_serde_json() {
        let arguments = serde_json::json!({"namespace": "shop", "replicas": 3, "dry": true, "q": "a\"b"});
        let entry = StoredEntry {
            seq: 7,
            at: 1_700_000_000_000,
            actor: "alice \"the admin\"".to_string(),
            action: "tool.call".to_string(),
            context: Some("prod/ü".to_string()),
            tool: None,
            arguments: Some(arguments.to_string()),
            decision: Some("approved".to_string()),
            outcome: None,
            run_id: Some("r1".to_string()),
            prev_hash: GENESIS_HASH.to_string(),
            hash: String::new(),
        };
        let expected = serde_json::json!({
            "seq": 7, "at": 1_700_000_000_000i64, "actor": "alice \"the admin\"", "action": "tool.call",
            "context": "prod/ü", "tool": null, "arguments": arguments, "decision": "approved", "outcome": null,
            "runId": "r1", "prevHash": GENESIS_HASH,
        });
        assert_eq!(entry.canonical_json(), expected.to_string());
    }
}
