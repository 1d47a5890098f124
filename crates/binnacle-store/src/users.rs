//! Users, roles and refresh tokens.

use crate::util::{flag, get, get_enum, get_flag, is_foreign_key_violation, is_unique_violation};
use crate::{Store, StoreError, new_id, now_ms};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users and integrations; chats and approves.
    Admin,
    /// Chats and approves.
    Operator,
    /// Reads history; cannot run mutating tools or approve.
    Viewer,
}

impl Role {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    /// May approve or deny tool calls and start runs.
    pub fn can_operate(self) -> bool {
        matches!(self, Role::Admin | Role::Operator)
    }

    /// May manage users and integrations.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("unknown role {other:?}: use admin, operator or viewer")),
        }
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Id.
    pub id: String,
    /// Login name (unique).
    pub username: String,
    /// Role.
    pub role: Role,
    /// A disabled user cannot log in or refresh.
    pub disabled: bool,
    /// Created, ms since the epoch.
    pub created_at: i64,
}

/// A refresh token as stored (only its SHA-256 hash is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    /// Id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Tokens rotated from one login share a family; reuse of a used token revokes the family.
    pub family_id: String,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Expiry, ms.
    pub expires_at: i64,
    /// When it was exchanged for a new one.
    pub used_at: Option<i64>,
    /// When it (or its family) was revoked.
    pub revoked_at: Option<i64>,
}

/// A refresh token to store.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    /// Owner.
    pub user_id: String,
    /// Family (a new id at login; the parent's family on rotation).
    pub family_id: String,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Expiry, ms.
    pub expires_at: i64,
}

const USER_COLUMNS: &str = "id, username, password_hash, role, disabled, created_at";
const TOKEN_COLUMNS: &str = "id, user_id, family_id, token_hash, expires_at, used_at, revoked_at";

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: get(row, "id")?,
        username: get(row, "username")?,
        role: get_enum(row, "role")?,
        disabled: get_flag(row, "disabled")?,
        created_at: get(row, "created_at")?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<RefreshToken, StoreError> {
    Ok(RefreshToken {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        family_id: get(row, "family_id")?,
        token_hash: get(row, "token_hash")?,
        expires_at: get(row, "expires_at")?,
        used_at: get(row, "used_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

impl Store {
    /// Creates a user; `Conflict` when the name is taken.
    pub async fn create_user(&self, username: &str, password_hash: &str, role: Role) -> Result<User, StoreError> {
        let user = User { id: new_id(), username: username.to_string(), role, disabled: false, created_at: now_ms() };
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(flag(false))
        .bind(user.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("user {username:?} already exists"))
            } else {
                e.into()
            }
        })?;
        Ok(user)
    }

    /// A user and their password hash, by login name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| Ok((user_from_row(&row)?, get(&row, "password_hash")?))).transpose()
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username")).fetch_all(self.pool()).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users exist.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(self.pool()).await?;
        get(&row, "n")
    }

    /// Changes a user's role and/or disabled flag; `NotFound` when absent.
    pub async fn update_user(&self, id: &str, role: Option<Role>, disabled: Option<bool>) -> Result<User, StoreError> {
        let done =
            sqlx::query("UPDATE users SET role = COALESCE($1, role), disabled = COALESCE($2, disabled) WHERE id = $3")
                .bind(role.map(|r| r.as_str().to_string()))
                .bind(disabled.map(flag))
                .bind(id)
                .execute(self.pool())
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        self.user(id).await?.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
    }

    /// Replaces a user's password hash; `NotFound` when absent.
    pub async fn set_password(&self, id: &str, password_hash: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        Ok(())
    }

    /// Deletes a user and their refresh tokens (their conversations stay, for the record); `NotFound` when absent.
    pub async fn delete_user(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a refresh token.
    pub async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<RefreshToken, StoreError> {
        let stored = RefreshToken {
            id: new_id(),
            user_id: token.user_id.clone(),
            family_id: token.family_id.clone(),
            token_hash: token.token_hash.clone(),
            expires_at: token.expires_at,
            used_at: None,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&stored.id)
        .bind(&stored.user_id)
        .bind(&stored.family_id)
        .bind(&stored.token_hash)
        .bind(stored.expires_at)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("a refresh token with this hash already exists".to_string())
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("user {}", token.user_id))
            } else {
                e.into()
            }
        })?;
        Ok(stored)
    }

    /// A refresh token by its hash.
    pub async fn refresh_token_by_hash(&self, token_hash: &str) -> Result<Option<RefreshToken>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Marks a token used, atomically: `true` when this call used it, `false` when it was already used or
    /// revoked (a reuse: the caller then revokes the family).
    pub async fn use_refresh_token(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every token of a family.
    pub async fn revoke_refresh_family(&self, family_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(family_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Revokes every token of a user (logout everywhere, disable, delete).
    pub async fn revoke_user_refresh_tokens(&self, user_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
