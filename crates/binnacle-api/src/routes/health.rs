//! Health and metrics.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::time::Instant;

/// `GET /api/v1/health`: the process is up.
pub(crate) async fn health(State(state): State<AppState>) -> Json<Value> {
    let p = state.engine().provider();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "replica": state.engine().replica_id(),
        "llm": {"provider": p.provider, "model": p.model, "offline": p.offline},
    }))
}

/// `GET /api/v1/health/database`: a round trip to the database.
pub(crate) async fn database(State(state): State<AppState>) -> impl IntoResponse {
    let started = Instant::now();
    let store = state.store();
    let backend = format!("{:?}", store.backend()).to_lowercase();
    match store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "backend": backend, "latencyMs": started.elapsed().as_secs_f64() * 1000.0})),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "backend": backend, "error": e.to_string()})),
        ),
    }
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.engine().metrics().render(),
    )
}
