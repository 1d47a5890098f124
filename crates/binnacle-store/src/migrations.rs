//! The migrations in `migrations/`, embedded in the binary.
//!
//! `sqlx::migrate!` needs sqlx's `macros` feature, whose proc-macro would build sqlx's drivers (and the
//! bundled SQLite) a second time for the host; the list below embeds the same files with `include_str!`
//! instead, and a test checks that it matches the directory.
//!
//! Migrations run under a database lock ([`run_locked`]), so that several engine replicas starting together
//! against one database do not race: on PostgreSQL a session-level `pg_advisory_lock` on one connection, on
//! SQLite a `BEGIN IMMEDIATE` write transaction that holds the database's write lock for the whole run (each
//! migration is a savepoint inside it). The replica that waits finds the migrations applied and does nothing.

use crate::{Backend, StoreError};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Connection};
use std::borrow::Cow;

/// The advisory lock key binnacle's migrations hold on PostgreSQL (`b"binnacle"` read as a big-endian i64).
pub(crate) const POSTGRES_MIGRATION_LOCK: i64 = 0x62696e6e61636c65;

/// Runs the embedded migrations on `pool` while holding the database's migration lock (see the module docs).
pub(crate) async fn run_locked(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let migrator = Migrator::new(Embedded).await?;
    let mut conn = pool.acquire().await?;
    match backend {
        Backend::Postgres => {
            tracing::debug!("waiting for the migration lock (pg_advisory_lock)");
            // `FROM` the function: the lock functions return `void`, which the Any driver cannot decode.
            sqlx::query("SELECT 1 FROM pg_advisory_lock($1)").bind(POSTGRES_MIGRATION_LOCK).execute(&mut *conn).await?;
            let ran = migrator.run(&mut *conn).await;
            let unlocked = sqlx::query("SELECT 1 FROM pg_advisory_unlock($1)")
                .bind(POSTGRES_MIGRATION_LOCK)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                // Never hand a connection that may still hold the lock back to the pool.
                conn.close_on_drop();
            }
            ran?;
            unlocked?;
        }
        Backend::Sqlite => {
            tracing::debug!("waiting for the migration lock (BEGIN IMMEDIATE)");
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            migrator.run(&mut *tx).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// `(version, description, SQL)`, as sqlx names them from `{version}_{description}.sql`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "api tokens", include_str!("../migrations/0002_api_tokens.sql")),
];

/// The embedded migrations, as a source for [`sqlx::migrate::Migrator::new`].
#[derive(Debug)]
pub(crate) struct Embedded;

impl Embedded {
    fn migrations() -> Vec<Migration> {
        MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, Cow::Borrowed(*sql), false)
            })
            .collect()
    }
}

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> futures::future::BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async { Ok(Embedded::migrations()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded list is the directory's content, as `sqlx::migrate!` would have read it.
    #[tokio::test]
    async fn embedded_migrations_match_the_directory() -> Result<(), BoxDynError> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let from_dir = sqlx::migrate::Migrator::new(dir).await?;
        let from_dir: Vec<_> =
            from_dir.iter().map(|m| (m.version, m.description.to_string(), m.checksum.to_vec())).collect();
        let embedded: Vec<_> = Embedded::migrations()
            .iter()
            .map(|m| (m.version, m.description.to_string(), m.checksum.to_vec()))
            .collect();
        assert_eq!(embedded, from_dir);
        Ok(())
    }
}
