//! `GET /api/v1/findings`: what is broken, from the deterministic analyzers (the `find_issues` tool), without
//! a model in the loop.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

/// Filters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FindingsQuery {
    /// Comma-separated namespaces (default: all).
    namespace: Option<String>,
    /// The kubeconfig context (default: the server's).
    context: Option<String>,
    /// `critical`, `warning` or `info` (default).
    min_severity: Option<String>,
    /// 1–500 (default 50).
    limit: Option<u32>,
}

/// `GET /findings?namespace=a,b&context=c&minSeverity=warning&limit=50`.
pub(crate) async fn list(
    State(state): State<AppState>,
    _user: AuthUser,
    Query(q): Query<FindingsQuery>,
) -> ApiResult<Json<Value>> {
    let tools = state.engine().tools();
    if let Some(ctx) = &q.context
        && !tools.contexts().iter().any(|c| c == ctx)
    {
        return Err(ApiError::invalid(format!(
            "unknown cluster context {ctx:?}; known contexts: {:?}",
            tools.contexts()
        )));
    }
    let entry = tools
        .get("find_issues")
        .cloned()
        .ok_or_else(|| ApiError::not_found("the findings toolset is not enabled on this server (--toolsets)"))?;
    let namespaces: Vec<String> = q
        .namespace
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut args = json!({"namespaces": namespaces});
    if let Some(s) = q.min_severity {
        args["minSeverity"] = Value::String(s);
    }
    if let Some(l) = q.limit {
        args["limit"] = json!(l);
    }
    if let Some(c) = q.context {
        args["context"] = Value::String(c);
    }
    match tools.call(&entry, args, None).await {
        Ok(out) => Ok(Json(json!({"summary": out.summary, "report": out.structured}))),
        Err(e) if e.0.starts_with("invalid arguments") => Err(ApiError::invalid(e.0)),
        Err(e) => Err(ApiError::new(axum::http::StatusCode::BAD_GATEWAY, "cluster_unavailable", e.0)),
    }
}
