//! Conversations: list, read (replay), rename, delete, and messages that start runs.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use binnacle_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

/// A message to send.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendMessage {
    /// What to ask or do (at most 32 KiB).
    pub message: String,
    /// The kubeconfig context to work in (default: the server's current context).
    pub context: Option<String>,
}

/// A new title.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rename {
    /// 1–200 characters.
    pub title: String,
}

/// List filters.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    search: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    /// Admins: `all` lists everyone's.
    scope: Option<String>,
}

/// `GET /conversations`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let offset = q.offset.unwrap_or(0).max(0);
    let all = q.scope.as_deref() == Some("all") && user.0.role == Role::Admin;
    let owner = (!all).then_some(user.0.user_id.as_str());
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let items = state.store().list_conversations(owner, search, limit, offset).await?;
    Ok(Json(json!({"items": items, "limit": limit, "offset": offset})))
}

fn started(s: binnacle_engine::RunStarted) -> Value {
    json!({
        "conversation": s.conversation,
        "run": s.run,
        "events": format!("/api/v1/runs/{}/events", s.run.id),
    })
}

/// `POST /conversations`: starts a conversation with its first message (and its first run).
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<SendMessage>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let s = state.engine().start_run(&user.0, None, &body.message, body.context.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(started(s))))
}

/// `POST /conversations/{id}/messages`: a new message, answered by a new run.
pub(crate) async fn send(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendMessage>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let s = state.engine().start_run(&user.0, Some(&id), &body.message, body.context.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(started(s))))
}

/// `GET /conversations/{id}`: everything needed to replay it: messages, runs, tool calls, approvals.
pub(crate) async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = state.engine().conversation_for(&user.0, &id).await?;
    let store = state.store();
    Ok(Json(json!({
        "conversation": c,
        "messages": store.messages(&id).await?,
        "runs": store.runs_for_conversation(&id).await?,
        "toolCalls": store.tool_calls_for_conversation(&id).await?,
        "approvals": store.approvals_for_conversation(&id).await?,
    })))
}

/// `PATCH /conversations/{id}`.
pub(crate) async fn rename(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rename>,
) -> ApiResult<Json<Value>> {
    state.engine().conversation_for(&user.0, &id).await?;
    let title = body.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(ApiError::invalid("the title must have 1 to 200 characters"));
    }
    Ok(Json(json!(state.store().rename_conversation(&id, title).await?)))
}

/// `DELETE /conversations/{id}` (not while a run is in progress).
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.engine().conversation_for(&user.0, &id).await?;
    if let Some(r) = state.store().runs_for_conversation(&id).await?.into_iter().find(|r| !r.status.is_terminal()) {
        return Err(ApiError::conflict(format!("run {} is still in progress; stop it first", r.id)));
    }
    state.store().delete_conversation(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
