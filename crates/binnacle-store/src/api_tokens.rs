//! Long-lived API tokens for machines: each acts as one user; only the token's SHA-256 is stored.

use crate::util::{get, is_unique_violation};
use crate::{Store, StoreError, new_id, now_ms};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// A stored API token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    /// Id.
    pub id: String,
    /// The user it acts as.
    pub user_id: String,
    /// What it is for (e.g. `gateway`).
    pub name: String,
    /// Hex SHA-256 of the token.
    #[serde(skip_serializing)]
    pub token_hash: String,
    /// Who created it (username).
    pub created_by: String,
    /// Created, ms.
    pub created_at: i64,
    /// Expiry, ms.
    pub expires_at: i64,
    /// When it was revoked, ms.
    pub revoked_at: Option<i64>,
}

/// An API token to store.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// The user it acts as.
    pub user_id: String,
    /// What it is for.
    pub name: String,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Who creates it (username).
    pub created_by: String,
    /// Expiry, ms.
    pub expires_at: i64,
}

const COLUMNS: &str = "id, user_id, name, token_hash, created_by, created_at, expires_at, revoked_at";

fn from_row(row: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        name: get(row, "name")?,
        token_hash: get(row, "token_hash")?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

impl Store {
    /// Stores an API token.
    pub async fn create_api_token(&self, token: &NewApiToken) -> Result<ApiToken, StoreError> {
        let stored = ApiToken {
            id: new_id(),
            user_id: token.user_id.clone(),
            name: token.name.clone(),
            token_hash: token.token_hash.clone(),
            created_by: token.created_by.clone(),
            created_at: now_ms(),
            expires_at: token.expires_at,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&stored.id)
        .bind(&stored.user_id)
        .bind(&stored.name)
        .bind(&stored.token_hash)
        .bind(&stored.created_by)
        .bind(stored.created_at)
        .bind(stored.expires_at)
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("an API token with this hash exists already".into())
            } else {
                e.into()
            }
        })?;
        Ok(stored)
    }

    /// The token with this hash (revoked and expired ones too: the caller decides).
    pub async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every token, newest first.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Revokes a token; `NotFound` when there is no such token. Revoking twice keeps the first time.
    pub async fn revoke_api_token(&self, id: &str) -> Result<ApiToken, StoreError> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()?.ok_or_else(|| StoreError::NotFound(format!("API token {id}")))
    }
}
