//! Long-lived API tokens for machines (admin only): an MCP gateway delegating to the engine's `/mcp`, or a
//! script. A token acts as one user with that user's role; it is shown once and only its SHA-256 is stored.

use crate::AppState;
use crate::auth::AuthUser;
use crate::auth::tokens::hash_refresh_token;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use binnacle_store::{ApiToken, NewApiToken, now_ms};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{Value, json};

/// What every API token starts with, so it can be told from a JWT (and found by secret scanners).
pub const API_TOKEN_PREFIX: &str = "bnl_";
/// The longest lifetime of an API token, in days.
pub const MAX_TOKEN_DAYS: i64 = 366;

/// A token to create.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewToken {
    /// What it is for, e.g. `gateway` (1–64 characters).
    pub name: String,
    /// The user it acts as (its role applies); default: the caller.
    pub username: Option<String>,
    /// Days until it expires, 1–366 (default 90).
    pub expires_in_days: Option<i64>,
}

/// A new token and its hash (the stored form).
fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{API_TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// `POST /tokens`: creates a token; the answer carries it once.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let admin = user.admin()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::invalid("the token's name must be 1–64 characters, e.g. \"gateway\""));
    }
    let days = body.expires_in_days.unwrap_or(90);
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(ApiError::invalid(format!(
            "expiresInDays is {days}; use 1 to {MAX_TOKEN_DAYS} days and create a new token before it expires"
        )));
    }
    let owner = match body.username.as_deref() {
        None => state.store().user(&admin.user_id).await?.ok_or_else(|| ApiError::unauthorized("log in again"))?,
        Some(u) => state.store().user_by_username(u).await?.map(|(u, _)| u).ok_or_else(|| {
            ApiError::invalid(format!("there is no user {u:?}; create it first (POST /api/v1/users)"))
        })?,
    };
    if owner.disabled {
        return Err(ApiError::invalid(format!("user {:?} is disabled; enable it first", owner.username)));
    }
    let (token, token_hash) = new_token();
    let stored = state
        .store()
        .create_api_token(&NewApiToken {
            user_id: owner.id.clone(),
            name: name.to_string(),
            token_hash,
            created_by: admin.username.clone(),
            expires_at: now_ms() + days * 24 * 3600 * 1000,
        })
        .await?;
    super::audit_admin(
        &state,
        &admin.username,
        "token.created",
        &format!(
            "API token {:?} ({}) for {} ({}), {days} days",
            stored.name,
            stored.id,
            owner.username,
            owner.role.as_str()
        ),
    )
    .await;
    let mut out = describe(&stored, &owner.username);
    out["token"] = Value::String(token);
    Ok((StatusCode::CREATED, Json(out)))
}

fn describe(t: &ApiToken, username: &str) -> Value {
    let mut v = json!(t);
    v["username"] = Value::String(username.to_string());
    v
}

/// `GET /tokens`: every token (never the token itself).
pub(crate) async fn list(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    user.admin()?;
    let users = state.store().list_users().await?;
    let items: Vec<Value> = state
        .store()
        .list_api_tokens()
        .await?
        .iter()
        .map(|t| {
            let name =
                users.iter().find(|u| u.id == t.user_id).map(|u| u.username.as_str()).unwrap_or("(deleted user)");
            describe(t, name)
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

/// `DELETE /tokens/{id}`: revokes a token at once.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = user.admin()?;
    let revoked = state.store().revoke_api_token(&id).await.map_err(|e| match e {
        binnacle_store::StoreError::NotFound(_) => ApiError::not_found(format!("API token {id} not found")),
        other => other.into(),
    })?;
    super::audit_admin(&state, &admin.username, "token.revoked", &format!("API token {:?} ({id})", revoked.name)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The user of an API token: it must exist, be neither revoked nor expired, and its user must exist.
pub(crate) async fn user_of(state: &AppState, token: &str) -> Result<binnacle_store::User, ApiError> {
    let hash = hash_refresh_token(token);
    let stored = state
        .store()
        .api_token_by_hash(&hash)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this API token is not valid; ask an admin for a new one"))?;
    if stored.revoked_at.is_some() {
        return Err(ApiError::unauthorized("this API token was revoked; ask an admin for a new one"));
    }
    if stored.expires_at <= now_ms() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_expired",
            "this API token expired; ask an admin for a new one (POST /api/v1/tokens)",
        ));
    }
    state
        .store()
        .user(&stored.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user of this API token no longer exists; ask an admin"))
}
