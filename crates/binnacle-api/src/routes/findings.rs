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
    /// Another name for `context` (`?cluster=`).
    cluster: Option<String>,
    /// Comma-separated analyzers (e.g. `crash-loop,image-pull`; default: all).
    analyzer: Option<String>,
    /// Comma-separated kinds (e.g. `Deployment,Pod`; default: all).
    kind: Option<String>,
    /// `critical`, `warning` or `info` (default).
    min_severity: Option<String>,
    /// 1–500 (default 50).
    limit: Option<u32>,
}

/// `GET /findings?namespace=a,b&cluster=c&analyzer=x,y&kind=Pod&minSeverity=warning&limit=50`.
pub(crate) async fn list(
    State(state): State<AppState>,
    _user: AuthUser,
    Query(mut q): Query<FindingsQuery>,
) -> ApiResult<Json<Value>> {
    if q.context.is_none() {
        q.context = q.cluster.take();
    }
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
    let list = |v: &Option<String>| -> Vec<String> {
        v.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    let mut args = json!({"namespaces": list(&q.namespace), "analyzers": list(&q.analyzer), "kinds": list(&q.kind)});
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
