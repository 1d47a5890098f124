//! The fleet (`binnacle-fleet`): every kubeconfig context as a cluster, and category queries fanned out to
//! all of them. `GET /fleet/clusters` (health), `POST /fleet/clusters/reload` (re-read the kubeconfig),
//! `GET /fleet/{category}` (one JSON answer) and `GET /fleet/{category}/stream` (SSE: one `cluster` event per
//! cluster as it answers, then a `summary` event, then the stream ends).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use binnacle_fleet::{Category, Fleet, FleetError, FleetEvent};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;

/// Items per cluster when `limit` is not given.
const DEFAULT_LIMIT: usize = 100;

/// The query string of the fan-out endpoints.
#[derive(Debug, Deserialize)]
pub(crate) struct FleetQuery {
    /// Comma-separated cluster names (default: all).
    clusters: Option<String>,
    /// Another name for `clusters`.
    cluster: Option<String>,
    /// Items per cluster, 1 to the server's maximum (default 100).
    limit: Option<String>,
}

impl From<FleetError> for ApiError {
    fn from(e: FleetError) -> Self {
        match e {
            FleetError::UnknownCategory(_) => ApiError::not_found(e.to_string()),
            FleetError::UnknownCluster { .. } | FleetError::Kubeconfig(_) | FleetError::Config(_) => {
                ApiError::invalid(e.to_string())
            }
        }
    }
}

fn fleet(state: &AppState) -> ApiResult<&Fleet> {
    state.fleet().ok_or_else(|| {
        ApiError::not_found("the fleet is not enabled on this server; `binnacle serve` and `binnacle demo` enable it")
    })
}

/// The checked request: category, cluster filter, limit.
fn parse(fleet: &Fleet, category: &str, q: FleetQuery) -> ApiResult<(Category, Option<Vec<String>>, usize)> {
    let category: Category = category.parse()?;
    let raw = q.clusters.or(q.cluster);
    let filter: Option<Vec<String>> =
        raw.map(|r| r.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>());
    fleet.resolve(filter.as_deref())?;
    let max = fleet.config().max_items;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT.min(max),
        Some(l) => match l.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => return Err(ApiError::invalid(format!("limit must be a whole number from 1 to {max}, got {l:?}"))),
        },
    };
    Ok((category, filter, limit))
}

/// `GET /fleet/clusters`: every cluster with its health.
pub(crate) async fn clusters(State(state): State<AppState>, _user: AuthUser) -> ApiResult<Json<Value>> {
    let fleet = fleet(&state)?;
    let clusters = fleet.clusters().await;
    Ok(Json(json!({
        "clusters": clusters,
        "categories": Category::names(),
        "reloadError": fleet.reload_error(),
    })))
}

/// `POST /fleet/clusters/reload`: re-reads the kubeconfig files now (operators and admins).
pub(crate) async fn reload(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Value>> {
    user.operator()?;
    let fleet = fleet(&state)?;
    let report = fleet.reload().await?;
    Ok(Json(serde_json::to_value(report).map_err(ApiError::internal)?))
}

/// `GET /fleet/{category}?clusters=a,b&limit=100`: every cluster's answer, the failures and a summary.
pub(crate) async fn query(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(category): Path<String>,
    Query(q): Query<FleetQuery>,
) -> ApiResult<Json<Value>> {
    let fleet = fleet(&state)?;
    let (category, filter, limit) = parse(fleet, &category, q)?;
    let answer = fleet.query(category, filter.as_deref(), limit).await?;
    Ok(Json(serde_json::to_value(answer).map_err(ApiError::internal)?))
}

/// `GET /fleet/{category}/stream?clusters=a,b&limit=100`: SSE, one `cluster` event per cluster as soon as it
/// answers, then one `summary` event; then the stream ends.
pub(crate) async fn stream(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(category): Path<String>,
    Query(q): Query<FleetQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let fleet = fleet(&state)?;
    let (category, filter, limit) = parse(fleet, &category, q)?;
    let events = fleet.stream(category, filter.as_deref(), limit)?;
    let sse = events.map(|e| {
        let (name, data) = match e {
            FleetEvent::Cluster(r) => ("cluster", serde_json::to_string(&r)),
            FleetEvent::Summary(s) => ("summary", serde_json::to_string(&s)),
        };
        let data = data.unwrap_or_else(|e| json!({"error": e.to_string()}).to_string());
        Ok(SseEvent::default().event(name).data(data))
    });
    Ok(Sse::new(sse).keep_alive(KeepAlive::new().interval(state.config().heartbeat).text("heartbeat")))
}
