//! Team members (admin only).

use crate::AppState;
use crate::auth::{AuthUser, passwords};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use binnacle_store::{Role, User};
use serde::Deserialize;

/// A user to create.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// Login name: 3–64 of `a-z 0-9 . _ -`.
    pub username: String,
    /// Initial password (at least 10 characters).
    pub password: String,
    /// `admin`, `operator` or `viewer`.
    #[schemars(with = "String")]
    pub role: Role,
}

/// Changes to a user.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserUpdate {
    /// New role.
    #[schemars(with = "Option<String>")]
    pub role: Option<Role>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New password (signs the user out everywhere).
    pub password: Option<String>,
}

fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// `GET /users`.
pub(crate) async fn list(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<User>>> {
    user.admin()?;
    Ok(Json(state.store().list_users().await?))
}

/// `POST /users`.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let admin = user.admin()?;
    if !valid_username(&body.username) {
        return Err(ApiError::invalid("the username must be 3–64 characters of a-z, 0-9, '.', '_' or '-'"));
    }
    passwords::check_strength(&body.password).map_err(ApiError::invalid)?;
    let hash = passwords::hash(&body.password).await.map_err(ApiError::internal)?;
    let created = state.store().create_user(&body.username, &hash, body.role).await?;
    super::audit_admin(
        &state,
        &admin.username,
        "user.created",
        &format!("{} as {}", created.username, created.role.as_str()),
    )
    .await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PATCH /users/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> ApiResult<Json<User>> {
    let admin = user.admin()?;
    let store = state.store();
    let target = store.user(&id).await?.ok_or_else(|| ApiError::not_found(format!("user {id} not found")))?;
    if target.id == admin.user_id && (body.role.is_some_and(|r| r != Role::Admin) || body.disabled == Some(true)) {
        return Err(ApiError::conflict("you cannot demote or disable yourself; ask another admin"));
    }
    let password_hash = match &body.password {
        Some(p) => {
            passwords::check_strength(p).map_err(ApiError::invalid)?;
            Some(passwords::hash(p).await.map_err(ApiError::internal)?)
        }
        None => None,
    };
    let updated = store.update_user(&id, body.role, body.disabled).await?;
    if let Some(h) = password_hash {
        store.set_password(&id, &h).await?;
    }
    if body.disabled == Some(true) || body.password.is_some() || body.role.is_some() {
        store.revoke_user_refresh_tokens(&id).await?;
    }
    super::audit_admin(
        &state,
        &admin.username,
        "user.updated",
        &format!("{}: role {}, disabled {}", updated.username, updated.role.as_str(), updated.disabled),
    )
    .await;
    Ok(Json(updated))
}

/// `DELETE /users/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = user.admin()?;
    if id == admin.user_id {
        return Err(ApiError::conflict("you cannot delete yourself; ask another admin"));
    }
    let target = state.store().user(&id).await?.ok_or_else(|| ApiError::not_found(format!("user {id} not found")))?;
    state.store().delete_user(&id).await?;
    super::audit_admin(&state, &admin.username, "user.deleted", &target.username).await;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames() {
        assert!(super::valid_username("alice.o-k_1"));
        assert!(!super::valid_username("Al"));
        assert!(!super::valid_username("alice smith"));
    }
}
