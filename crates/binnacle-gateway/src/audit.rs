//! The audit trail of tool calls through the gateway: one record per `tools/call` (allowed, refused by
//! policy or role, failed upstream), appended to the engine's hash-chained audit log (`binnacle-store`,
//! `--database-url`) and/or written as JSON lines (`--audit-log FILE|-`).
//!
//! Writes never hold up a call: records go through a bounded queue to one writer task; when the queue is
//! full the record is dropped, a warning is logged and [`Audit::dropped`] counts it.

use binnacle_store::{NewAuditEntry, Store};
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// The `action` of the gateway's entries in the engine's audit log.
pub const ACTION: &str = "gateway.tool_call";
/// Records waiting to be written before new ones are dropped.
pub const QUEUE: usize = 4096;

/// One tool call through the gateway.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Unix milliseconds.
    pub at: i64,
    /// The API key's name or the token's subject (`anonymous` without auth).
    pub caller: String,
    /// `namespace/name` of the upstream, or `-` when the tool resolved to none.
    pub upstream: String,
    /// The tool name the client called.
    pub tool: String,
    /// The argument names only: values are not recorded (they may hold Secret data or tokens).
    pub arguments: Value,
    /// `allowed` or `denied`.
    pub decision: String,
    /// `ok`, `tool_error`, `rpc_error`, `timeout`, `unavailable`, `failed`, `cancelled`, `refused`, `unknown`.
    pub outcome: String,
    /// Milliseconds the call took at the gateway.
    pub duration_ms: f64,
}

impl AuditRecord {
    /// The argument names of a call (sorted), in the form recorded.
    pub fn argument_names(arguments: Option<&serde_json::Map<String, Value>>) -> Value {
        let mut names: Vec<String> = arguments.map(|a| a.keys().cloned().collect()).unwrap_or_default();
        names.sort();
        json!({"names": names})
    }

    fn entry(&self) -> NewAuditEntry {
        NewAuditEntry {
            actor: self.caller.clone(),
            action: ACTION.into(),
            context: Some(self.upstream.clone()),
            tool: Some(self.tool.clone()),
            arguments: Some(self.arguments.clone()),
            decision: Some(self.decision.clone()),
            outcome: Some(format!("{} ({:.1} ms)", self.outcome, self.duration_ms)),
            run_id: None,
        }
    }
}

/// Where records go.
#[derive(Debug, Clone)]
pub enum AuditTarget {
    /// The engine's database (its hash-chained audit log).
    Store(Store),
    /// JSON lines appended to a file.
    File(PathBuf),
    /// JSON lines on stdout.
    Stdout,
}

/// The audit writer's handle. Cheap to clone; without targets it records nothing.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    tx: Option<mpsc::Sender<AuditRecord>>,
    dropped: Arc<AtomicU64>,
}

impl Audit {
    /// Starts the writer task for `targets` (none: a no-op audit).
    pub fn start(targets: Vec<AuditTarget>) -> Audit {
        if targets.is_empty() {
            return Audit::default();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write(targets, rx));
        Audit { tx: Some(tx), dropped: Arc::default() }
    }

    /// Queues a record (never waits).
    pub fn record(&self, record: AuditRecord) {
        let Some(tx) = &self.tx else { return };
        if let Err(e) = tx.try_send(record) {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(dropped_total = n, error = %e, "the audit queue is full or closed: a tool call record was dropped");
        }
    }

    /// Records dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write(targets: Vec<AuditTarget>, mut rx: mpsc::Receiver<AuditRecord>) {
    let mut files = Vec::new();
    for t in &targets {
        if let AuditTarget::File(path) = t {
            match std::fs::OpenOptions::new().create(true).append(true).open(path) {
                Ok(f) => files.push(f),
                Err(e) => tracing::error!(path = %path.display(), error = %e, "cannot open the audit log"),
            }
        }
    }
    while let Some(record) = rx.recv().await {
        let line = match serde_json::to_string(&record) {
            Ok(line) => line,
            Err(e) => {
                tracing::warn!(error = %e, "cannot encode an audit record");
                continue;
            }
        };
        for f in &mut files {
            if let Err(e) = writeln!(f, "{line}") {
                tracing::warn!(error = %e, "cannot write to the audit log");
            }
        }
        for t in &targets {
            match t {
                AuditTarget::Stdout => println!("{line}"),
                AuditTarget::Store(store) => {
                    if let Err(e) = store.append_audit(&record.entry()).await {
                        tracing::warn!(error = %e, "cannot append to the engine's audit log");
                    }
                }
                AuditTarget::File(_) => {}
            }
        }
    }
}
