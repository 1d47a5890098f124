//! Engine errors.

use binnacle_store::StoreError;

/// Why an engine operation failed. The API maps each to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request is malformed or names something that cannot be (an unknown context, an empty message).
    #[error("{0}")]
    Invalid(String),
    /// The thing does not exist (or the actor may not see it).
    #[error("{0} not found")]
    NotFound(String),
    /// The actor's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the current state (already decided, a run in progress).
    #[error("{0}")]
    Conflict(String),
    /// Start-up configuration is wrong.
    #[error("{0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => EngineError::NotFound(what),
            StoreError::Conflict(msg) => EngineError::Conflict(msg),
            other => EngineError::Store(other),
        }
    }
}
