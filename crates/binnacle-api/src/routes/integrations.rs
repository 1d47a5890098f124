//! Integrations (Jenkins servers): everyone reads, admins write. Credentials are a Secret reference.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use binnacle_store::{Integration, NewIntegration};
use serde::Deserialize;

/// An integration to create or replace.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct IntegrationBody {
    /// `jenkins`.
    pub kind: String,
    /// A unique name.
    pub name: String,
    /// `http(s)://…`.
    pub url: String,
    /// `namespace/name` of the Secret holding `username` and `token`.
    pub credentials_secret: String,
}

fn validate(body: IntegrationBody) -> Result<NewIntegration, ApiError> {
    if body.kind != "jenkins" {
        return Err(ApiError::invalid(format!("integration kind {:?} is not supported; use jenkins", body.kind)));
    }
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("the name must have 1 to 100 characters"));
    }
    if !(body.url.starts_with("http://") || body.url.starts_with("https://")) || body.url.contains('@') {
        return Err(ApiError::invalid(
            "the URL must be http(s)://host[:port][/path] without credentials; put credentials in the Secret",
        ));
    }
    let valid_name = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    };
    match body.credentials_secret.split_once('/') {
        Some((ns, n)) if valid_name(ns) && valid_name(n) => {}
        _ => {
            return Err(ApiError::invalid(
                "credentialsSecret must be namespace/name of a Kubernetes Secret (lowercase DNS names)",
            ));
        }
    }
    Ok(NewIntegration {
        kind: body.kind,
        name: name.to_string(),
        url: body.url.trim_end_matches('/').to_string(),
        credentials_secret: body.credentials_secret,
    })
}

/// `GET /integrations`.
pub(crate) async fn list(State(state): State<AppState>, _user: AuthUser) -> ApiResult<Json<Vec<Integration>>> {
    Ok(Json(state.store().list_integrations().await?))
}

/// `POST /integrations`.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<IntegrationBody>,
) -> ApiResult<(StatusCode, Json<Integration>)> {
    let admin = user.admin()?;
    let created = state.store().create_integration(&validate(body)?).await?;
    super::audit_admin(&state, &admin.username, "integration.created", &created.name).await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PUT /integrations/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IntegrationBody>,
) -> ApiResult<Json<Integration>> {
    let admin = user.admin()?;
    let updated = state.store().update_integration(&id, &validate(body)?).await?;
    super::audit_admin(&state, &admin.username, "integration.updated", &updated.name).await;
    Ok(Json(updated))
}

/// `DELETE /integrations/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = user.admin()?;
    state.store().delete_integration(&id).await?;
    super::audit_admin(&state, &admin.username, "integration.deleted", &id).await;
    Ok(StatusCode::NO_CONTENT)
}
