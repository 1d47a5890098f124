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

pub mod api_tokens;
pub mod audit;
pub mod conversations;
pub mod error;
pub mod integrations;
mod migrations;
pub mod notify;
pub mod runs;
pub mod settings;
pub mod users;
mod util;

pub use api_tokens::{ApiToken, NewApiToken};
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
use sqlx::any::AnyPoolOptions;
use std::sync::Once;
use std::time::Duration;

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
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);

        let target = Target::parse(url)?;
        let pool = match &target {
            Target::Postgres => {
                AnyPoolOptions::new().max_connections(10).acquire_timeout(Duration::from_secs(30)).connect(url).await?
            }
            Target::SqliteMemory(conn_url) => {
                // One connection that never closes: every query sees the same in-memory database.
                AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn, false).await }))
                    .connect(conn_url)
                    .await?
            }
            Target::SqliteFile(conn_url, path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    // Best effort: connecting reports the real error when the directory cannot be made.
                    let _ = std::fs::create_dir_all(parent);
                }
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn, true).await }))
                    .connect(conn_url)
                    .await?
            }
        };
        let backend = match target {
            Target::Postgres => Backend::Postgres,
            Target::SqliteMemory(_) | Target::SqliteFile(..) => Backend::Sqlite,
        };
        migrations::run_locked(&pool, backend).await?;
        Ok(Store { pool, backend, url: url.to_string() })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for modules of this crate.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL as given to [`Store::connect`], password included, for modules of this crate.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The connection URL (with any password removed), for logs and health output.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// A round trip to the database (`SELECT 1`), for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// What a URL points at.
enum Target {
    Postgres,
    /// The URL to hand to sqlx.
    SqliteMemory(String),
    /// The URL to hand to sqlx (with `mode=rwc` unless a mode was given) and the file.
    SqliteFile(String, std::path::PathBuf),
}

impl Target {
    fn parse(url: &str) -> Result<Target, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres);
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (file, query) = match rest.split_once('?') {
            Some((file, query)) => (file, Some(query)),
            None => (rest, None),
        };
        let has = |key: &str, value: Option<&str>| {
            query.is_some_and(|q| {
                q.split('&').any(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    k == key && value.is_none_or(|value| v == value)
                })
            })
        };
        if file.is_empty() {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        if file == ":memory:" || has("mode", Some("memory")) {
            return Ok(Target::SqliteMemory(url.to_string()));
        }
        let conn_url = if has("mode", None) {
            url.to_string()
        } else if query.is_some() {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        Ok(Target::SqliteFile(conn_url, std::path::PathBuf::from(file)))
    }
}

/// Settings of every SQLite connection: foreign keys, a busy timeout, and write-ahead logging for files.
async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection, file: bool) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
    sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
    if file {
        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
    }
    Ok(())
}

/// `url` with the password (in the user info or a `password=` parameter) replaced by `***`.
fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len());
    match head.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            out.push_str(scheme);
            out.push_str("://");
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            out.push_str(user);
                            out.push_str(":***");
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(head),
    }
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// Milliseconds since the Unix epoch, the unit of every timestamp in the store.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A new time-ordered id (UUID v7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://user:secret@host/db"), "postgres://user:***@host/db");
        assert_eq!(
            redact_url("postgresql://user:p%40ss@host:5432/db?sslmode=require"),
            "postgresql://user:***@host:5432/db?sslmode=require"
        );
        assert_eq!(redact_url("postgres://user@host/db"), "postgres://user@host/db");
        assert_eq!(redact_url("postgres://host/db?user=u&password=secret"), "postgres://host/db?user=u&password=***");
        assert_eq!(redact_url("sqlite://data/binnacle.db"), "sqlite://data/binnacle.db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn urls_are_classified() {
        assert!(matches!(Target::parse("postgres://u@h/db"), Ok(Target::Postgres)));
        assert!(matches!(Target::parse("postgresql://u@h/db"), Ok(Target::Postgres)));
        assert!(matches!(Target::parse("sqlite::memory:"), Ok(Target::SqliteMemory(_))));
        assert!(matches!(Target::parse("sqlite://:memory:"), Ok(Target::SqliteMemory(_))));
        assert!(matches!(Target::parse("sqlite://x.db?mode=memory"), Ok(Target::SqliteMemory(_))));
        match Target::parse("sqlite://data/b.db") {
            Ok(Target::SqliteFile(url, path)) => {
                assert_eq!(
                    (url.as_str(), path.as_path()),
                    ("sqlite://data/b.db?mode=rwc", std::path::Path::new("data/b.db"))
                )
            }
            _ => panic!("not a file"),
        }
        match Target::parse("sqlite:///tmp/b.db?cache=shared") {
            Ok(Target::SqliteFile(url, path)) => {
                assert_eq!(
                    (url.as_str(), path.as_path()),
                    ("sqlite:///tmp/b.db?cache=shared&mode=rwc", std::path::Path::new("/tmp/b.db"))
                )
            }
            _ => panic!("not a file"),
        }
        match Target::parse("sqlite://b.db?mode=ro") {
            Ok(Target::SqliteFile(url, _)) => assert_eq!(url, "sqlite://b.db?mode=ro"),
            _ => panic!("not a file"),
        }
        for bad in ["mysql://h/db", "b.db", "sqlite://", ""] {
            assert!(matches!(Target::parse(bad), Err(StoreError::UnsupportedUrl(_))), "{bad}");
        }
    }
}
