//! Integrations: external systems the tools reach (a Jenkins server). Only a reference to the Kubernetes
//! Secret holding the credentials is kept, never the credentials.

use crate::util::{get, is_unique_violation};
use crate::{Store, StoreError, new_id, now_ms};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// An integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    /// Id.
    pub id: String,
    /// `jenkins`.
    pub kind: String,
    /// A unique name.
    pub name: String,
    /// The server URL.
    pub url: String,
    /// `namespace/name` of the Secret with the credentials (keys `username` and `token`).
    pub credentials_secret: String,
    /// Created, ms.
    pub created_at: i64,
    /// Changed, ms.
    pub updated_at: i64,
}

/// An integration to create or the new values of one.
#[derive(Debug, Clone)]
pub struct NewIntegration {
    /// `jenkins`.
    pub kind: String,
    /// A unique name.
    pub name: String,
    /// The server URL.
    pub url: String,
    /// `namespace/name` of the credentials Secret.
    pub credentials_secret: String,
}

const INTEGRATION_COLUMNS: &str = "id, kind, name, url, credentials_secret, created_at, updated_at";

fn integration_from_row(row: &AnyRow) -> Result<Integration, StoreError> {
    Ok(Integration {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        name: get(row, "name")?,
        url: get(row, "url")?,
        credentials_secret: get(row, "credentials_secret")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn name_taken(name: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("integration {name:?} already exists"))
        } else {
            e.into()
        }
    }
}

impl Store {
    /// Creates an integration; `Conflict` when the name is taken.
    pub async fn create_integration(&self, integration: &NewIntegration) -> Result<Integration, StoreError> {
        let now = now_ms();
        let created = Integration {
            id: new_id(),
            kind: integration.kind.clone(),
            name: integration.name.clone(),
            url: integration.url.clone(),
            credentials_secret: integration.credentials_secret.clone(),
            created_at: now,
            updated_at: now,
        };
        sqlx::query(&format!("INSERT INTO integrations ({INTEGRATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
            .bind(&created.id)
            .bind(&created.kind)
            .bind(&created.name)
            .bind(&created.url)
            .bind(&created.credentials_secret)
            .bind(now)
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(name_taken(&integration.name))?;
        Ok(created)
    }

    /// Every integration, by name.
    pub async fn list_integrations(&self) -> Result<Vec<Integration>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY name"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(integration_from_row).collect()
    }

    /// An integration by id.
    pub async fn integration(&self, id: &str) -> Result<Option<Integration>, StoreError> {
        let row = sqlx::query(&format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(integration_from_row).transpose()
    }

    /// Replaces an integration's values; `NotFound` when absent, `Conflict` when the new name is taken.
    pub async fn update_integration(&self, id: &str, integration: &NewIntegration) -> Result<Integration, StoreError> {
        let done = sqlx::query(
            "UPDATE integrations SET kind = $1, name = $2, url = $3, credentials_secret = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(&integration.kind)
        .bind(&integration.name)
        .bind(&integration.url)
        .bind(&integration.credentials_secret)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(name_taken(&integration.name))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("integration {id}")));
        }
        self.integration(id).await?.ok_or_else(|| StoreError::NotFound(format!("integration {id}")))
    }

    /// Deletes an integration; `NotFound` when absent.
    pub async fn delete_integration(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM integrations WHERE id = $1").bind(id).execute(self.pool()).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("integration {id}")));
        }
        Ok(())
    }
}
