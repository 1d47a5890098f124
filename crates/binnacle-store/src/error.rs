//! Store errors.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with the current state (a duplicate name, an already-decided approval, a stale
    /// preview).
    #[error("{0}")]
    Conflict(String),
    /// The database answered with an error or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back (bad JSON, unknown enum value).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The URL is not `sqlite://…` or `postgres://…`.
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
}
