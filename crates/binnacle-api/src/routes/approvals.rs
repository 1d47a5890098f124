//! The approval gate.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, Query, State};
use binnacle_engine::Decision;
use binnacle_store::{Approval, ApprovalStatus, Role};
use serde::Deserialize;
use serde_json::{Value, json};

/// A decision.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DecisionBody {
    /// `approve` or `deny`.
    pub decision: String,
    /// The tool call the approval gates (from `approval.required`).
    pub tool_call_id: String,
    /// The preview hash shown (from `approval.required`): the decision binds to that exact preview.
    pub preview_hash: String,
    /// Why (shown to the model on a denial).
    pub reason: Option<String>,
}

/// Filters.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
}

/// `GET /approvals?status=pending`: approvals in the caller's conversations (admins and operators: all).
pub(crate) async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let status = match q.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(
            s.parse::<ApprovalStatus>()
                .map_err(|e| ApiError::invalid(format!("{e}; use pending, approved, denied, cancelled or all")))?,
        ),
    };
    let owner = (user.0.role == Role::Viewer).then_some(user.0.user_id.as_str());
    let items = state.store().list_approvals(status, owner).await?;
    Ok(Json(json!({"items": items})))
}

/// `GET /approvals/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Approval>> {
    let a =
        state.store().approval(&id).await?.ok_or_else(|| ApiError::not_found(format!("approval {id} not found")))?;
    if user.0.role == Role::Viewer {
        state
            .engine()
            .conversation_for(&user.0, &a.conversation_id)
            .await
            .map_err(|_| ApiError::not_found(format!("approval {id} not found")))?;
    }
    Ok(Json(a))
}

/// `POST /approvals/{id}`: approve or deny.
pub(crate) async fn decide(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<Approval>> {
    let decision = match body.decision.as_str() {
        "approve" | "approved" => Decision::Approve,
        "deny" | "denied" => Decision::Deny,
        other => return Err(ApiError::invalid(format!("decision {other:?} is not understood; use approve or deny"))),
    };
    let a = state
        .engine()
        .decide(&user.0, &id, &body.tool_call_id, &body.preview_hash, decision, body.reason.as_deref())
        .await?;
    Ok(Json(a))
}
