//! Runs: state, event stream, stop.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

/// Where to resume.
#[derive(Debug, Deserialize)]
pub(crate) struct EventsQuery {
    after: Option<i64>,
}

/// `GET /runs/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let run = state.engine().run_for(&user.0, &id).await?;
    let store = state.store();
    Ok(Json(json!({
        "run": run,
        "toolCalls": store.tool_calls_for_run(&id).await?,
        "approvals": store.approvals_for_run(&id).await?,
    })))
}

/// `GET /runs/{id}/events`: SSE from `Last-Event-ID` (or `?after=`), else from the start.
pub(crate) async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let after = match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::invalid("Last-Event-ID must be the id of an event of this run (a number)"))?,
        None => q.after.unwrap_or(0).max(0),
    };
    let stream = state.engine().follow(&user.0, &id, after).await?;
    Ok(crate::sse::respond(stream, state.config().heartbeat))
}

/// `POST /runs/{id}/stop`.
pub(crate) async fn stop(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let run = state.engine().stop(&user.0, &id).await?;
    Ok(Json(json!({"run": run})))
}
