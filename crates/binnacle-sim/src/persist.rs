//! `--state FILE`: the store saved as JSON so that objects survive a restart. Writes are atomic
//! (temporary file, then rename) and follow changes within a fraction of a second.

use crate::cluster::Cluster;
use crate::registry::StorageKey;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A state file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading or writing failed.
    #[error("cannot use state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a state file.
    #[error("state file {path} is not valid: {reason}; move it away to start from the scenario")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Writes the store to `path`. Saves are serialised (the autosave task and a shutdown may save at the same
/// moment; both used one temporary file, and the loser's rename failed), and each snapshot is taken under
/// the lock so an older snapshot never overwrites a newer one.
pub fn save(cluster: &Cluster, path: &Path) -> Result<(), PersistError> {
    static SAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = SAVING.lock().unwrap_or_else(|p| p.into_inner());
    let (rv, objects) = cluster.store().snapshot();
    let objects: Vec<Value> = objects
        .iter()
        .map(|(sk, obj)| json!({"group": sk.group, "resource": sk.plural, "object": obj.as_ref()}))
        .collect();
    let doc = json!({"format": "binnacle-sim-state/v1", "resourceVersion": rv, "objects": objects});
    let io = |source| PersistError::Io { path: path.to_path_buf(), source };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&doc).unwrap_or_default()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(())
}

/// Loads a state file into an empty cluster, registering its CRDs.
pub fn load(cluster: &Cluster, path: &Path) -> Result<(), PersistError> {
    let bytes = std::fs::read(path).map_err(|source| PersistError::Io { path: path.to_path_buf(), source })?;
    let invalid = |reason: String| PersistError::Invalid { path: path.to_path_buf(), reason };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if doc.get("format").and_then(Value::as_str) != Some("binnacle-sim-state/v1") {
        return Err(invalid("missing format binnacle-sim-state/v1".into()));
    }
    let rv = doc.get("resourceVersion").and_then(Value::as_u64).unwrap_or(1);
    let mut objects = Vec::new();
    for entry in doc.get("objects").and_then(Value::as_array).ok_or_else(|| invalid("no objects list".into()))? {
        let group = entry.get("group").and_then(Value::as_str).unwrap_or_default();
        let resource =
            entry.get("resource").and_then(Value::as_str).ok_or_else(|| invalid("an entry has no resource".into()))?;
        let object = entry.get("object").cloned().ok_or_else(|| invalid("an entry has no object".into()))?;
        if group == "apiextensions.k8s.io" && resource == "customresourcedefinitions" {
            cluster.registry().register_crd(&object);
        }
        objects.push((StorageKey::new(group, resource), object));
    }
    cluster.store().restore(rv, objects);
    Ok(())
}

/// Saves the store whenever it changed, checking a few times a second, until shutdown.
pub async fn autosave(cluster: Arc<Cluster>, path: PathBuf, mut shutdown: watch::Receiver<bool>) {
    let mut saved_rv = cluster.store().current_rv();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => {
                if let Err(e) = save(&cluster, &path) {
                    tracing::error!(error = %e, "could not save the simulated cluster's state");
                }
                return;
            }
        }
        let rv = cluster.store().current_rv();
        if rv != saved_rv {
            match save(&cluster, &path) {
                Ok(()) => saved_rv = rv,
                Err(e) => tracing::error!(error = %e, "could not save the simulated cluster's state"),
            }
        }
    }
}
