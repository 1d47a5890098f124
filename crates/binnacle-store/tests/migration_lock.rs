//! Two engines starting together on one fresh database: both run the migrations at start, under the
//! migration lock (PostgreSQL advisory lock, SQLite `BEGIN IMMEDIATE`), so both come up and every migration
//! is applied exactly once.

use anyhow::{Context, Result, ensure};
use binnacle_store::Store;

/// Starts `n` stores on `url` at the same time and checks that all connect and the migrations table is whole.
async fn start_together(url: &str, n: usize) -> Result<()> {
    let starts: Vec<_> = (0..n).map(|_| Store::connect(url)).collect();
    let stores = futures::future::join_all(starts).await;
    for (i, store) in stores.iter().enumerate() {
        if let Err(e) = store {
            anyhow::bail!("store {i} failed to start: {e}");
        }
    }
    let pool = sqlx::AnyPool::connect(url).await?;
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(&pool)
        .await
        .context("reading _sqlx_migrations")?;
    pool.close().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let expected = std::fs::read_dir(&dir)?
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql")))
        .count();
    ensure!(rows.len() == expected, "expected {expected} successful migrations, found {rows:?}");
    // Every store works on the migrated schema.
    for store in stores.into_iter().flatten() {
        store.ping().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_engines_starting_together_migrate_once() -> Result<()> {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("engines.db").display());
    start_together(&url, 4).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_engines_starting_together_migrate_once() -> Result<()> {
    sqlx::any::install_default_drivers();
    let db = binnacle_testkit::postgres_database().await?;
    start_together(db.url(), 4).await
}
