//! Helm's release storage read natively: Helm 3 keeps each revision of a release in a Secret
//! `sh.helm.release.v1.<name>.v<N>` labelled `owner=helm`, whose `release` key holds base64 (Helm's own,
//! inside the API's base64) of the gzipped release JSON. This module lists those Secrets through
//! kube-rs and decodes them, so the read tools need no `helm` binary.

use crate::context::ToolContext;
use crate::error::ToolError;
use base64::Engine;
use flate2::read::GzDecoder;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Map, Value, json};
use std::io::Read;

/// The most bytes a decompressed release may have (a guard against gzip bombs).
const MAX_RELEASE_BYTES: u64 = 64 * 1024 * 1024;

/// One revision of a release, decoded.
#[derive(Debug, Clone)]
pub struct Release {
    /// Release name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Revision number.
    pub revision: i64,
    /// The release JSON as Helm stored it.
    pub raw: Value,
}

impl Release {
    fn text(&self, pointer: &str) -> String {
        self.raw.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_string()
    }

    /// `deployed`, `superseded`, `failed`, `uninstalled`, `pending-install`, ...
    pub fn status(&self) -> String {
        self.text("/info/status")
    }

    /// The description Helm recorded (`Install complete`, `Rollback to 1`...).
    pub fn description(&self) -> String {
        self.text("/info/description")
    }

    /// The chart name.
    pub fn chart_name(&self) -> String {
        self.text("/chart/metadata/name")
    }

    /// The chart version.
    pub fn chart_version(&self) -> String {
        self.text("/chart/metadata/version")
    }

    /// `name-version`, as `helm list` shows it.
    pub fn chart(&self) -> String {
        format!("{}-{}", self.chart_name(), self.chart_version())
    }

    /// The app version.
    pub fn app_version(&self) -> String {
        self.text("/chart/metadata/appVersion")
    }

    /// When this revision was deployed.
    pub fn last_deployed(&self) -> String {
        self.text("/info/last_deployed")
    }

    /// When the release was first deployed.
    pub fn first_deployed(&self) -> String {
        self.text("/info/first_deployed")
    }

    /// The chart's notes (untrusted text from the chart).
    pub fn notes(&self) -> String {
        self.text("/info/notes")
    }

    /// The rendered manifest.
    pub fn manifest(&self) -> String {
        self.text("/manifest")
    }

    /// The user-supplied values (`config`).
    pub fn user_values(&self) -> Value {
        match self.raw.get("config") {
            Some(Value::Object(m)) => Value::Object(m.clone()),
            _ => json!({}),
        }
    }

    /// The chart's default values merged with the user-supplied ones, as `helm get values --all` shows.
    pub fn all_values(&self) -> Value {
        let mut base = match self.raw.pointer("/chart/values") {
            Some(Value::Object(m)) => Value::Object(m.clone()),
            _ => json!({}),
        };
        coalesce(&mut base, &self.user_values());
        base
    }
}

/// Merges `over` into `base` the way Helm coalesces values: maps merge key by key, anything else
/// replaces, and a `null` deletes the key.
pub fn coalesce(base: &mut Value, over: &Value) {
    let (Value::Object(b), Value::Object(o)) = (&mut *base, over) else {
        *base = over.clone();
        return;
    };
    for (k, v) in o {
        if v.is_null() {
            b.remove(k);
            continue;
        }
        match b.get_mut(k) {
            Some(existing) if existing.is_object() && v.is_object() => coalesce(existing, v),
            _ => {
                b.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Decodes the `release` key of a Helm release Secret (the bytes after the API's base64).
pub fn decode(helm_text: &[u8]) -> Result<Value, String> {
    let trimmed: Vec<u8> = helm_text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(&trimmed).map_err(|e| format!("not base64: {e}"))?;
    let json_bytes = if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        GzDecoder::new(bytes.as_slice())
            .take(MAX_RELEASE_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| format!("not gzip: {e}"))?;
        out
    } else {
        bytes
    };
    serde_json::from_slice(&json_bytes).map_err(|e| format!("not release JSON: {e}"))
}

/// Lists the revisions of releases (one release when `name` is given) in a namespace or in all.
pub async fn list(ctx: &ToolContext, namespace: Option<&str>, name: Option<&str>) -> Result<Vec<Release>, ToolError> {
    let client = ctx.kube().await?;
    let api: Api<Secret> = match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut selector = "owner=helm".to_string();
    if let Some(n) = name {
        selector.push_str(&format!(",name={n}"));
    }
    let secrets = api.list(&ListParams::default().labels(&selector)).await?;
    let mut out = Vec::new();
    for s in secrets.items {
        let secret_name = s.metadata.name.clone().unwrap_or_default();
        if !secret_name.starts_with("sh.helm.release.v1.") {
            continue;
        }
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        let Some(data) = s.data.as_ref().and_then(|d| d.get("release")) else { continue };
        let raw = decode(&data.0).map_err(|e| {
            ToolError::Unavailable(format!("Helm release Secret {ns}/{secret_name} cannot be decoded: {e}"))
        })?;
        let labels = s.metadata.labels.clone().unwrap_or_default();
        let rel_name = raw
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| labels.get("name").cloned())
            .unwrap_or_default();
        let revision = raw
            .get("version")
            .and_then(Value::as_i64)
            .or_else(|| labels.get("version").and_then(|v| v.parse().ok()))
            .unwrap_or(0);
        let namespace = raw.get("namespace").and_then(Value::as_str).map(str::to_string).unwrap_or(ns);
        out.push(Release { name: rel_name, namespace, revision, raw });
    }
    out.sort_by(|a, b| (&a.namespace, &a.name, b.revision).cmp(&(&b.namespace, &b.name, a.revision)));
    Ok(out)
}

/// The revisions of one release, newest first; NotFound when there are none.
pub async fn history(ctx: &ToolContext, namespace: &str, name: &str) -> Result<Vec<Release>, ToolError> {
    let revisions = list(ctx, Some(namespace), Some(name)).await?;
    let revisions: Vec<Release> = revisions.into_iter().filter(|r| r.name == name).collect();
    if revisions.is_empty() {
        return Err(ToolError::NotFound(format!(
            "Helm release {name:?} not found in namespace {namespace}; list releases with helm_releases_list"
        )));
    }
    Ok(revisions)
}

/// One revision of a release: the given one, or the latest.
pub async fn revision(
    ctx: &ToolContext,
    namespace: &str,
    name: &str,
    revision: Option<i64>,
) -> Result<Release, ToolError> {
    let all = history(ctx, namespace, name).await?;
    match revision {
        None => {
            all.into_iter().next().ok_or_else(|| ToolError::NotFound(format!("Helm release {name:?} has no revisions")))
        }
        Some(r) => {
            let known: Vec<i64> = all.iter().map(|x| x.revision).collect();
            all.into_iter().find(|x| x.revision == r).ok_or_else(|| {
                ToolError::NotFound(format!(
                    "revision {r} of Helm release {namespace}/{name} not found; revisions kept: {known:?}"
                ))
            })
        }
    }
}

/// The objects a manifest declares (`kind`, `name`, optional `namespace`).
pub fn manifest_resources(manifest: &str) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for doc in split_documents(manifest) {
        let Ok(v) = serde_norway::from_str::<Value>(doc) else { continue };
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() {
            continue;
        }
        let mut m = Map::new();
        m.insert("kind".into(), json!(kind));
        m.insert("name".into(), json!(name));
        if let Some(ns) = v.pointer("/metadata/namespace").and_then(Value::as_str) {
            m.insert("namespace".into(), json!(ns));
        }
        out.push(m);
    }
    out
}

/// Splits multi-document YAML on `---` lines.
pub fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if !text[start..offset].trim().is_empty() {
                docs.push(&text[start..offset]);
            }
            start = offset + line.len();
        }
        offset += line.len();
    }
    if !text[start..].trim().is_empty() {
        docs.push(&text[start..]);
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    #[test]
    fn decodes_what_helm_stores() {
        let release = json!({"name": "a", "version": 3, "chart": {"values": {"x": 1, "m": {"k": "v", "drop": 1}}}, "config": {"m": {"drop": null, "n": 2}}});
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(release.to_string().as_bytes()).expect("gzip");
        let helm_text = base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("gzip"));
        let decoded = decode(helm_text.as_bytes()).expect("decodes");
        assert_eq!(decoded, release);
        let plain = base64::engine::general_purpose::STANDARD.encode(release.to_string());
        assert_eq!(decode(plain.as_bytes()).ok(), Some(release.clone()));
        assert!(decode(b"%%%").is_err());
        let r = Release { name: "a".into(), namespace: "n".into(), revision: 3, raw: release };
        assert_eq!(r.all_values(), json!({"x": 1, "m": {"k": "v", "n": 2}}));
    }

    #[test]
    fn manifests_split_into_resources() {
        let m = "---\n# Source: a/templates/s.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: t\n  namespace: x\n";
        let r = manifest_resources(m);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["namespace"], "x");
    }
}
