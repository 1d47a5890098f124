//! Binnacle's REST + SSE API under `/api/v1`, served by `binnacle serve` and `binnacle demo`.
//!
//! * Auth: `POST /auth/login` (argon2id; rate-limited) answers a short-lived JWT access token and sets an
//!   HttpOnly, SameSite=Strict refresh cookie; `POST /auth/refresh` rotates it (reusing a rotated token
//!   revokes its whole family); `POST /auth/logout` revokes. Roles: admin, operator, viewer.
//! * Conversations and runs: `POST /conversations` (first message) and `POST /conversations/{id}/messages`
//!   start runs; `GET /runs/{id}/events` streams them as SSE (ids, `Last-Event-ID`, heartbeats);
//!   `POST /runs/{id}/stop`.
//! * The gate: `GET /approvals`, `POST /approvals/{id}` (approve or deny, bound to the call and preview).
//! * Audit (`GET /audit`, `GET /audit/verify`), users, integrations, usage, clusters, tools, health,
//!   Prometheus `/metrics` and the OpenAPI document (`GET /api/v1/openapi.json`).
//!
//! * `/mcp`: the engine as an MCP agent (`ask`, `run_status`) for gateways and MCP clients ([`mcp`]).
//!
//! Every error is JSON `{"error": {"code", "message"}}` ([`error::ApiError`]).

pub mod auth;
pub mod error;
pub mod json;
pub mod mcp;
pub mod openapi;
mod routes;
mod sse;

use auth::rate_limit::LoginLimiter;
use auth::tokens::JwtKeys;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use binnacle_engine::Engine;
use binnacle_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// API settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
    /// Mark the refresh cookie `Secure` (on unless serving plain HTTP on loopback).
    pub secure_cookies: bool,
    /// Failed logins allowed per username and per address in `login_window`.
    pub login_max_failures: usize,
    /// The login limiter's window.
    pub login_window: Duration,
    /// Seconds between SSE heartbeats.
    pub heartbeat: Duration,
    /// The MCP agent endpoint (`/mcp`): origin and host checks, body limit.
    pub mcp: mcp::McpEndpointConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            secure_cookies: true,
            login_max_failures: 10,
            login_window: Duration::from_secs(300),
            heartbeat: Duration::from_secs(15),
            mcp: mcp::McpEndpointConfig::default(),
        }
    }
}

struct StateInner {
    engine: Engine,
    keys: JwtKeys,
    config: ApiConfig,
    limiter: LoginLimiter,
    fleet: std::sync::OnceLock<binnacle_fleet::Fleet>,
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

impl AppState {
    /// State over an engine; the JWT key comes from `jwt_secret` or else from the store (made once and
    /// shared by all replicas).
    pub async fn new(engine: Engine, config: ApiConfig, jwt_secret: Option<&str>) -> Result<Self, error::ApiError> {
        let secret = match jwt_secret {
            Some(s) if s.len() >= 32 => s.to_string(),
            Some(_) => return Err(error::ApiError::invalid("BINNACLE_JWT_SECRET must have at least 32 characters")),
            None => engine.store().setting_or_insert("jwt_secret", &auth::tokens::random_secret()).await?,
        };
        let limiter = LoginLimiter::new(config.login_max_failures, config.login_window);
        Ok(Self(Arc::new(StateInner {
            engine,
            keys: JwtKeys::from_secret(secret.as_bytes()),
            config,
            limiter,
            fleet: std::sync::OnceLock::new(),
        })))
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// The store.
    pub fn store(&self) -> &Store {
        self.0.engine.store()
    }

    /// The JWT key.
    pub fn keys(&self) -> &JwtKeys {
        &self.0.keys
    }

    /// The settings.
    pub fn config(&self) -> &ApiConfig {
        &self.0.config
    }

    /// Serves `/api/v1/fleet/...` from this fleet (without one those routes answer 404). Set once.
    pub fn with_fleet(self, fleet: binnacle_fleet::Fleet) -> Self {
        if self.0.fleet.set(fleet).is_err() {
            tracing::warn!("the API's fleet was already set; the new one is ignored");
        }
        self
    }

    /// The fleet, when the server has one.
    pub fn fleet(&self) -> Option<&binnacle_fleet::Fleet> {
        self.0.fleet.get()
    }

    pub(crate) fn limiter(&self) -> &LoginLimiter {
        &self.0.limiter
    }
}

/// The API's routes: `/api/v1/...`, `/metrics` and the MCP agent endpoint `/mcp` ([`mcp`]). Serve with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the login limiter sees client addresses.
pub fn router(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", routes::api())
        .route("/metrics", axum::routing::get(routes::health::metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(mcp::service(state.clone()))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One structured log line per request: method, route (the matched pattern, never ids or query strings),
/// status and duration. Event streams are logged when they end.
async fn log_request(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    if status >= 500 {
        tracing::warn!(%method, route, status, ms, "request");
    } else {
        tracing::info!(%method, route, status, ms, "request");
    }
    res
}
