//! Integrations: external systems the tools reach (a Jenkins server). Only a reference to the Kubernetes
//! Secret holding the credentials is kept, never the credentials.

use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};

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

impl Store {
    /// Creates an integration; `Conflict` when the name is taken.
    pub async fn create_integration(&self, integration: &NewIntegration) -> Result<Integration, StoreError> {
        todo!("{integration:?}")
    }

    /// Every integration, by name.
    pub async fn list_integrations(&self) -> Result<Vec<Integration>, StoreError> {
        todo!()
    }

    /// An integration by id.
    pub async fn integration(&self, id: &str) -> Result<Option<Integration>, StoreError> {
        todo!("{id}")
    }

    /// Replaces an integration's values; `NotFound` when absent, `Conflict` when the new name is taken.
    pub async fn update_integration(&self, id: &str, integration: &NewIntegration) -> Result<Integration, StoreError> {
        todo!("{id}{integration:?}")
    }

    /// Deletes an integration; `NotFound` when absent.
    pub async fn delete_integration(&self, id: &str) -> Result<(), StoreError> {
        todo!("{id}")
    }
}
