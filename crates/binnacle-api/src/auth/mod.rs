//! Authentication and roles: the [`AuthUser`] extractor, password hashing, tokens, the login limiter and
//! the first admin.

pub mod passwords;
pub mod rate_limit;
pub mod tokens;

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use binnacle_engine::Actor;
use binnacle_store::{Role, Store};
use tokens::TokenProblem;

/// The refresh cookie's name.
pub const REFRESH_COOKIE: &str = "binnacle_refresh";
/// The path the refresh cookie is sent to.
pub const REFRESH_COOKIE_PATH: &str = "/api/v1/auth";

/// The authenticated caller: the bearer token is valid, and the user exists and is enabled (read on every
/// request, so a role change or a disabled account takes effect at once).
#[derive(Debug, Clone)]
pub struct AuthUser(pub Actor);

impl AuthUser {
    /// Requires operator or admin.
    pub fn operator(&self) -> Result<&Actor, ApiError> {
        if self.0.role.can_operate() {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!("this needs the operator or admin role; you are {}", self.0.role.as_str())))
        }
    }

    /// Requires admin.
    pub fn admin(&self) -> Result<&Actor, ApiError> {
        if self.0.role == Role::Admin {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!("this needs the admin role; you are {}", self.0.role.as_str())))
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("missing bearer token: log in at POST /api/v1/auth/login and send `Authorization: Bearer <accessToken>`")
        })?;
        if token.starts_with(crate::routes::tokens::API_TOKEN_PREFIX) {
            // A long-lived API token (machines: an MCP gateway, scripts); see `routes/tokens.rs`.
            let user = crate::routes::tokens::user_of(state, token).await?;
            if user.disabled {
                return Err(ApiError::unauthorized("the account of this API token is disabled; ask an admin"));
            }
            return Ok(AuthUser(Actor { user_id: user.id, username: user.username, role: user.role }));
        }
        let claims = state.keys().verify(token).map_err(|p| match p {
            TokenProblem::Expired => ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "token_expired",
                "the access token expired; get a new one at POST /api/v1/auth/refresh",
            ),
            TokenProblem::Invalid => ApiError::unauthorized("the access token is not valid; log in again"),
        })?;
        let user = state
            .store()
            .user(&claims.sub)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the account of this token no longer exists; log in again"))?;
        if user.disabled {
            return Err(ApiError::unauthorized("this account is disabled; ask an admin"));
        }
        Ok(AuthUser(Actor { user_id: user.id, username: user.username, role: user.role }))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// The refresh token from the request's cookies.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == REFRESH_COOKIE && !v.is_empty()).then(|| v.to_string())
    })
}

/// A `Set-Cookie` value carrying a refresh token (`None`: clearing it).
pub fn set_refresh_cookie(token: Option<&str>, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{REFRESH_COOKIE}={t}; Path={REFRESH_COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
        ),
        None => format!("{REFRESH_COOKIE}=; Path={REFRESH_COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// Creates the first admin when there are no users: with `password` (from `BINNACLE_ADMIN_PASSWORD`) or a
/// generated one-time password, which is returned so the caller can print it once.
pub async fn ensure_admin(store: &Store, password: Option<&str>) -> Result<Option<String>, ApiError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => {
            passwords::check_strength(p).map_err(|e| ApiError::invalid(format!("BINNACLE_ADMIN_PASSWORD: {e}")))?;
            (p.to_string(), false)
        }
        None => (tokens::random_secret()[..20].to_string(), true),
    };
    let hash = passwords::hash(&password).await.map_err(ApiError::internal)?;
    match store.create_user("admin", &hash, Role::Admin).await {
        Ok(_) => {}
        // Another replica created it first.
        Err(binnacle_store::StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    Ok(generated.then_some(password))
}
