//! Server settings shared by all replicas (for example the JWT signing key).

use crate::util::{get, is_unique_violation};
use crate::{Store, StoreError, now_ms};

impl Store {
    /// A setting's value.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(self.pool()).await?;
        row.map(|row| get(&row, "value")).transpose()
    }

    /// Stores `value` under `key` unless the key exists, and returns the value that is stored now (so that
    /// replicas starting together agree on one value).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO settings (key, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => {}
            // Another replica won the race (ON CONFLICT already covers it; this is belt and braces).
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        self.setting(key).await?.ok_or_else(|| StoreError::NotFound(format!("setting {key:?}")))
    }
}
