//! The migrations in `migrations/`, embedded in the binary.
//!
//! `sqlx::migrate!` needs sqlx's `macros` feature, whose proc-macro would build sqlx's drivers (and the
//! bundled SQLite) a second time for the host; the list below embeds the same files with `include_str!`
//! instead, and a test checks that it matches the directory.

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};
use std::borrow::Cow;

/// `(version, description, SQL)`, as sqlx names them from `{version}_{description}.sql`.
const MIGRATIONS: &[(i64, &str, &str)] = &[(1, "initial", include_str!("../migrations/0001_initial.sql"))];

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
