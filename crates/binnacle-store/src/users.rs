//! Users, roles and refresh tokens.

use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};

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

impl Store {
    /// Creates a user; `Conflict` when the name is taken.
    pub async fn create_user(&self, username: &str, password_hash: &str, role: Role) -> Result<User, StoreError> {
        todo!("{username}{password_hash}{role:?}")
    }

    /// A user and their password hash, by login name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        todo!("{username}")
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        todo!("{id}")
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        todo!()
    }

    /// How many users exist.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        todo!()
    }

    /// Changes a user's role and/or disabled flag; `NotFound` when absent.
    pub async fn update_user(&self, id: &str, role: Option<Role>, disabled: Option<bool>) -> Result<User, StoreError> {
        todo!("{id}{role:?}{disabled:?}")
    }

    /// Replaces a user's password hash; `NotFound` when absent.
    pub async fn set_password(&self, id: &str, password_hash: &str) -> Result<(), StoreError> {
        todo!("{id}{password_hash}")
    }

    /// Deletes a user and their refresh tokens (their conversations stay, for the record); `NotFound` when absent.
    pub async fn delete_user(&self, id: &str) -> Result<(), StoreError> {
        todo!("{id}")
    }

    /// Stores a refresh token.
    pub async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<RefreshToken, StoreError> {
        todo!("{token:?}")
    }

    /// A refresh token by its hash.
    pub async fn refresh_token_by_hash(&self, token_hash: &str) -> Result<Option<RefreshToken>, StoreError> {
        todo!("{token_hash}")
    }

    /// Marks a token used, atomically: `true` when this call used it, `false` when it was already used or
    /// revoked (a reuse: the caller then revokes the family).
    pub async fn use_refresh_token(&self, id: &str) -> Result<bool, StoreError> {
        todo!("{id}")
    }

    /// Revokes every token of a family.
    pub async fn revoke_refresh_family(&self, family_id: &str) -> Result<u64, StoreError> {
        todo!("{family_id}")
    }

    /// Revokes every token of a user (logout everywhere, disable, delete).
    pub async fn revoke_user_refresh_tokens(&self, user_id: &str) -> Result<u64, StoreError> {
        todo!("{user_id}")
    }
}
