//! The audit log (admin only).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Query, State};
use binnacle_store::AuditVerification;
use serde::Deserialize;
use serde_json::{Value, json};

/// Paging.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /audit?after=&limit=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    user.admin()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let items = state.store().audit_entries(q.after.unwrap_or(0).max(0), limit).await?;
    Ok(Json(json!({"items": items, "limit": limit})))
}

/// `GET /audit/verify`: recomputes the hash chain.
pub(crate) async fn verify(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<AuditVerification>> {
    user.admin()?;
    Ok(Json(state.store().verify_audit().await?))
}
