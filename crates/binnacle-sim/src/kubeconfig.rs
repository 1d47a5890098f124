//! Kubeconfig files for simulated clusters: one context per cluster, plain HTTP on loopback, a token user.

use serde_json::json;

/// One cluster entry: context name and server URL.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Context (and cluster) name, e.g. `sim-1`.
    pub name: String,
    /// Server URL, e.g. `http://127.0.0.1:41234`.
    pub server: String,
}

/// Renders a kubeconfig YAML with one context per entry; the first is current.
pub fn render(entries: &[Entry]) -> String {
    let clusters: Vec<_> = entries.iter().map(|e| json!({"name": e.name, "cluster": {"server": e.server}})).collect();
    let contexts: Vec<_> = entries
        .iter()
        .map(|e| json!({"name": e.name, "context": {"cluster": e.name, "user": "sim-admin", "namespace": "default"}}))
        .collect();
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "contexts": contexts,
        "current-context": entries.first().map(|e| e.name.clone()).unwrap_or_default(),
        "users": [{"name": "sim-admin", "user": {"token": "sim-admin-token"}}]
    });
    serde_norway::to_string(&doc).unwrap_or_default()
}
