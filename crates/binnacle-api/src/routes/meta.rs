//! Usage over time, clusters, tools.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Query, State};
use binnacle_store::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};

/// The period.
#[derive(Debug, Deserialize)]
pub(crate) struct UsageQuery {
    days: Option<i64>,
}

/// `GET /usage?days=30`: tokens per day (admin).
pub(crate) async fn usage(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<Value>> {
    user.admin()?;
    let days = q.days.unwrap_or(30).clamp(1, 366);
    let items = state.store().usage_by_day(now_ms() - days * 86_400_000).await?;
    Ok(Json(json!({"days": days, "items": items})))
}

/// `GET /clusters`: the kubeconfig contexts tools can reach.
pub(crate) async fn clusters(State(state): State<AppState>, _user: AuthUser) -> ApiResult<Json<Value>> {
    let tools = state.engine().tools();
    Ok(Json(json!({"contexts": tools.contexts(), "default": tools.default_context()})))
}

/// `GET /tools`: what runs may call, with their hints.
pub(crate) async fn tools(State(state): State<AppState>, _user: AuthUser) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state
        .engine()
        .tools()
        .entries()
        .iter()
        .map(|e| json!({"name": e.name, "title": e.title, "description": e.description, "hints": e.hints, "origin": e.origin, "dryRun": e.has_dry_run()}))
        .collect();
    Ok(Json(json!({"items": items})))
}
