//! Binnacle's persistence on SQLite or PostgreSQL.
//!
//! One [`Store`] over an sqlx `AnyPool`; one set of migrations (`migrations/`) written in the SQL both
//! databases accept (TEXT ids made by the application, BIGINT millisecond timestamps, JSON kept as TEXT).
//! Queries use `$1`-style parameters in increasing order, which both drivers bind by position.
//!
//! What is kept: users and refresh tokens ([`users`]), conversations and their messages
//! ([`conversations`]), runs with their event log, tool calls and approvals ([`runs`]), the hash-chained audit
//! log ([`audit`]), integrations ([`integrations`]) and server settings ([`settings`]). [`notify`] carries
//! signals between engine replicas (PostgreSQL `LISTEN`/`NOTIFY`; a no-op on SQLite, which has one replica).

pub mod audit;
pub mod conversations;
pub mod error;
pub mod integrations;
pub mod notify;
pub mod runs;
pub mod settings;
pub mod users;

pub use audit::{AuditEntry, AuditVerification, NewAuditEntry};
pub use conversations::{Conversation, Message};
pub use error::StoreError;
pub use integrations::{Integration, NewIntegration};
pub use notify::{Listener, Notification};
pub use runs::{
    Approval, ApprovalStatus, NewApproval, NewRun, NewToolCall, Run, RunEvent, RunStatus, ToolCall, ToolCallStatus,
    UsageBucket,
};
pub use users::{NewRefreshToken, RefreshToken, Role, User};

use sqlx::AnyPool;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (one engine replica).
    Sqlite,
    /// PostgreSQL (any number of replicas).
    Postgres,
}

/// The handle every part of the engine uses to read and write its state. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to `sqlite://FILE` (created when missing; `sqlite::memory:` for a throwaway store) or
    /// `postgres://…`, and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        todo!("helper: implement (install_default_drivers, WAL + busy_timeout + foreign keys on SQLite, migrate) {url}")
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for modules of this crate.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The connection URL (with any password removed), for logs and health output.
    pub fn display_url(&self) -> String {
        todo!("helper: implement {}", self.url)
    }

    /// A round trip to the database (`SELECT 1`), for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        todo!("helper: implement")
    }
}

/// Milliseconds since the Unix epoch, the unit of every timestamp in the store.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A new time-ordered id (UUID v7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
