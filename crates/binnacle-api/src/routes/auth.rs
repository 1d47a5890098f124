//! Login, refresh with rotation, logout, me, password change.

use crate::AppState;
use crate::auth::{AuthUser, passwords, refresh_cookie, set_refresh_cookie, tokens};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use binnacle_store::{NewAuditEntry, NewRefreshToken, User, new_id, now_ms};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

/// Login body.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Password change body.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new one (at least 10 characters).
    pub new_password: String,
}

/// The client's address, when the server was started with connect info.
pub(crate) struct ClientAddr(Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

fn client_addr(addr: &ClientAddr) -> String {
    addr.0.map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// `POST /auth/login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    connect: ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let username = body.username.trim().to_lowercase();
    let keys = vec![format!("user:{username}"), format!("addr:{}", client_addr(&connect))];
    if let Some(wait) = state.limiter().check(&keys) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed logins; try again in {wait} s"),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    let found = state.store().user_by_username(&username).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = passwords::verify(&body.password, hash).await;
    let user = match (ok, user) {
        (true, Some(u)) if !u.disabled => u,
        (true, Some(_)) => return Err(ApiError::unauthorized("this account is disabled; ask an admin")),
        _ => {
            state.limiter().fail(&keys);
            return Err(ApiError::unauthorized("wrong username or password"));
        }
    };
    state.limiter().clear(&keys[0]);
    issue_session(&state, &user, new_id()).await
}

/// Issues an access token and a refresh cookie in `family`.
async fn issue_session(state: &AppState, user: &User, family: String) -> ApiResult<Response> {
    let cfg = state.config();
    let access = state.keys().issue(user, cfg.access_ttl.as_secs()).map_err(ApiError::internal)?;
    let (refresh, hash) = tokens::new_refresh_token();
    state
        .store()
        .insert_refresh_token(&NewRefreshToken {
            user_id: user.id.clone(),
            family_id: family,
            token_hash: hash,
            expires_at: now_ms() + cfg.refresh_ttl.as_millis() as i64,
        })
        .await?;
    let mut res = Json(json!({
        "accessToken": access,
        "tokenType": "Bearer",
        "expiresIn": cfg.access_ttl.as_secs(),
        "user": user,
    }))
    .into_response();
    let cookie = set_refresh_cookie(Some(&refresh), cfg.refresh_ttl.as_secs(), cfg.secure_cookies);
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(ApiError::internal)?);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

fn session_over(state: &AppState, message: &str) -> Response {
    let mut res = ApiError::new(StatusCode::UNAUTHORIZED, "session_expired", message).into_response();
    if let Ok(v) = HeaderValue::from_str(&set_refresh_cookie(None, 0, state.config().secure_cookies)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// `POST /auth/refresh`: exchanges the refresh cookie for a new access token and a new cookie. A token
/// that was already exchanged is a theft signal: its whole family is revoked.
pub(crate) async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let Some(token) = refresh_cookie(&headers) else {
        return Ok(session_over(&state, "no refresh cookie; log in again"));
    };
    let store = state.store();
    let Some(stored) = store.refresh_token_by_hash(&tokens::hash_refresh_token(&token)).await? else {
        return Ok(session_over(&state, "the session is not known; log in again"));
    };
    if stored.revoked_at.is_some() {
        return Ok(session_over(&state, "the session was signed out; log in again"));
    }
    if stored.used_at.is_some() || !store.use_refresh_token(&stored.id).await? {
        store.revoke_refresh_family(&stored.family_id).await?;
        let who = store.user(&stored.user_id).await?.map(|u| u.username).unwrap_or_default();
        tracing::warn!(user = %who, "a rotated refresh token was reused; the session family is revoked");
        if let Err(e) = store
            .append_audit(&NewAuditEntry {
                actor: who,
                action: "auth.refresh_reuse".into(),
                outcome: Some("session family revoked".into()),
                ..Default::default()
            })
            .await
        {
            tracing::error!(error = %e, "audit append failed");
        }
        return Ok(session_over(
            &state,
            "this refresh token was already used, which suggests it was stolen; every session of this login was signed out — log in again",
        ));
    }
    if stored.expires_at < now_ms() {
        return Ok(session_over(&state, "the session expired; log in again"));
    }
    let Some(user) = store.user(&stored.user_id).await? else {
        return Ok(session_over(&state, "the account no longer exists"));
    };
    if user.disabled {
        store.revoke_user_refresh_tokens(&user.id).await?;
        return Ok(session_over(&state, "this account is disabled; ask an admin"));
    }
    issue_session(&state, &user, stored.family_id).await
}

/// `POST /auth/logout`: revokes the cookie's session family and clears the cookie.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = refresh_cookie(&headers)
        && let Some(stored) = state.store().refresh_token_by_hash(&tokens::hash_refresh_token(&token)).await?
    {
        state.store().revoke_refresh_family(&stored.family_id).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_refresh_cookie(None, 0, state.config().secure_cookies))
            .map_err(ApiError::internal)?,
    );
    Ok(res)
}

/// `GET /auth/me`.
pub(crate) async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<User>> {
    let u = state.store().user(&user.0.user_id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(u))
}

/// `POST /auth/password`: changes one's own password and signs out every other session.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let store = state.store();
    let (_, hash) = store.user_by_username(&user.0.username).await?.ok_or_else(|| ApiError::not_found("user"))?;
    if !passwords::verify(&body.current_password, Some(hash)).await {
        return Err(ApiError::forbidden("the current password is wrong"));
    }
    passwords::check_strength(&body.new_password).map_err(ApiError::invalid)?;
    let hash = passwords::hash(&body.new_password).await.map_err(ApiError::internal)?;
    store.set_password(&user.0.user_id, &hash).await?;
    store.revoke_user_refresh_tokens(&user.0.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
