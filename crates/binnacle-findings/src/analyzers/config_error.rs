//! Containers that cannot be created because configuration they reference is missing.

use super::{Analyzer, container_spec, describe, group_events, group_pods, pod_group_finding};
use crate::At;
use crate::finding::{Finding, Severity, sanitize};
use crate::snapshot::{Snapshot, statuses};
use binnacle_objects::pointer::get_str;
use serde_json::Value;

/// Reports containers waiting in `CreateContainerConfigError`, naming the missing ConfigMap, Secret or key.
pub struct ConfigError;

impl Analyzer for ConfigError {
    fn name(&self) -> &'static str {
        "config-error"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let groups = group_pods(snap, |pod| {
            statuses(pod).find_map(|cs| {
                (get_str(cs, "/state/waiting/reason") == Some("CreateContainerConfigError")).then(|| {
                    let container = get_str(cs, "/name").unwrap_or_default().to_string();
                    let msg = sanitize(get_str(cs, "/state/waiting/message").unwrap_or_default());
                    let missing = container_spec(pod, &container)
                        .map(|c| missing_refs(snap, crate::snapshot::ns_of(pod), c))
                        .unwrap_or_default();
                    let detail = if missing.is_empty() { msg.clone() } else { missing.join("; ") };
                    (
                        container.clone(),
                        detail,
                        vec![format!("container {container}: waiting CreateContainerConfigError: {msg}")],
                    )
                })
            })
        });
        groups
            .iter()
            .map(|(key, hits)| {
                let (ns, kind, name) = key;
                pod_group_finding(
                    self.name(),
                    Severity::Critical,
                    key,
                    hits,
                    "cannot start (CreateContainerConfigError)",
                    hits[0].detail.clone(),
                    group_events(snap, ns, kind, name, hits),
                    Vec::new(),
                    describe(kind, ns, name),
                )
            })
            .collect()
    }
}

/// ConfigMaps, Secrets or keys a container references that do not exist (optional references excepted).
fn missing_refs(snap: &Snapshot, ns: &str, container: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |store: &str, kind: &str, r: &Value, key: Option<&str>| {
        if r.get("optional").and_then(Value::as_bool) == Some(true) {
            return;
        }
        let Some(name) = get_str(r, "/name") else { return };
        match snap.get(store, ns, name) {
            None => out.push(format!("{kind} {name} is missing")),
            Some(obj) => {
                if let Some(key) = key {
                    let has = ["/data", "/binaryData"].iter().any(|p| obj.at(p).and_then(|d| d.get(key)).is_some());
                    if !has {
                        out.push(format!("{kind} {name} has no key {key}"));
                    }
                }
            }
        }
    };
    for env in container.get("env").and_then(Value::as_array).into_iter().flatten() {
        if let Some(r) = env.at("/valueFrom/configMapKeyRef") {
            check("configmaps", "ConfigMap", r, get_str(r, "/key"));
        }
        if let Some(r) = env.at("/valueFrom/secretKeyRef") {
            check("secrets", "Secret", r, get_str(r, "/key"));
        }
    }
    for from in container.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
        if let Some(r) = from.get("configMapRef") {
            check("configmaps", "ConfigMap", r, None);
        }
        if let Some(r) = from.get("secretRef") {
            check("secrets", "Secret", r, None);
        }
    }
    out.dedup();
    out
}
