//! Server settings shared by all replicas (for example the JWT signing key).

use crate::{Store, StoreError};

impl Store {
    /// A setting's value.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        todo!("{key}")
    }

    /// Stores `value` under `key` unless the key exists, and returns the value that is stored now (so that
    /// replicas starting together agree on one value).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        todo!("{key}{value}")
    }
}
