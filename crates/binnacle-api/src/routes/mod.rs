//! The `/api/v1` routes, one module per resource.

pub(crate) mod approvals;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod conversations;
pub(crate) mod findings;
pub(crate) mod fleet;
pub(crate) mod health;
pub(crate) mod integrations;
pub(crate) mod meta;
pub(crate) mod runs;
pub(crate) mod tokens;
pub(crate) mod users;

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::routing::{get, post};

pub(crate) fn api() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/health/database", get(health::database))
        .route("/openapi.json", get(crate::openapi::document))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", post(auth::change_password))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", axum::routing::patch(users::update).delete(users::delete))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/conversations", get(conversations::list).post(conversations::create))
        .route(
            "/conversations/{id}",
            get(conversations::get).patch(conversations::rename).delete(conversations::delete),
        )
        .route("/conversations/{id}/messages", post(conversations::send))
        .route("/runs/{id}", get(runs::get))
        .route("/runs/{id}/events", get(runs::events))
        .route("/runs/{id}/stop", post(runs::stop))
        .route("/approvals", get(approvals::list))
        .route("/approvals/{id}", get(approvals::get).post(approvals::decide))
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .route("/integrations", get(integrations::list).post(integrations::create))
        .route("/integrations/{id}", axum::routing::put(integrations::update).delete(integrations::delete))
        .route("/usage", get(meta::usage))
        .route("/clusters", get(meta::clusters))
        .route("/tools", get(meta::tools))
        .route("/findings", get(findings::list))
        .route("/fleet/clusters", get(fleet::clusters))
        .route("/fleet/clusters/reload", post(fleet::reload))
        .route("/fleet/{category}", get(fleet::query))
        .route("/fleet/{category}/stream", get(fleet::stream))
        .fallback(not_found)
}

/// Records an administrative action (users, integrations) in the audit log; a failure is logged, since the
/// action itself already happened.
pub(crate) async fn audit_admin(state: &AppState, actor: &str, action: &str, outcome: &str) {
    let entry = binnacle_store::NewAuditEntry {
        actor: actor.into(),
        action: action.into(),
        outcome: Some(outcome.into()),
        ..Default::default()
    };
    if let Err(e) = state.store().append_audit(&entry).await {
        tracing::error!(error = %e, action, "audit append failed");
    }
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no API endpoint {}; GET /api/v1/openapi.json lists them", uri.path()))
}
