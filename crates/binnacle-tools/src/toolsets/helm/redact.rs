//! Keeping secrets out of Helm output: values whose keys name a secret (`password`, `token`, `apiKey`...)
//! are replaced, credential-shaped text is redacted everywhere, and the `data`/`stringData` of every
//! Secret in a manifest are replaced by placeholders that keep the keys.

use crate::output::{redact_credentials, redact_secret};
use serde_json::Value;

/// Whether a values key names a secret (and not merely a reference to one, like `existingSecret`).
pub fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '_'], "");
    let named = [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "credential",
        "privatekey",
        "accesskey",
        "secretkey",
        "clientsecret",
        "auth",
    ]
    .iter()
    .any(|w| k.contains(w));
    let reference = k.starts_with("existing")
        || ["name", "ref", "file", "path", "enabled", "create"].iter().any(|s| k.ends_with(s));
    named && !reference
}

/// Redacts a values tree: secret-named scalar values become `<redacted>`, other strings pass through
/// [`redact_credentials`].
pub fn values(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let redacted = match x {
                        Value::String(s) if secret_key(k) && !s.is_empty() => Value::String("<redacted>".into()),
                        Value::Number(_) if secret_key(k) => Value::String("<redacted>".into()),
                        other => values(other),
                    };
                    (k.clone(), redacted)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(values).collect()),
        Value::String(s) => Value::String(redact_credentials(s)),
        other => other.clone(),
    }
}

/// Redacts a multi-document manifest: Secret values replaced (keys kept), credential-shaped text
/// redacted in every other document. Comments (`# Source: ...`) are kept.
pub fn manifest(text: &str) -> String {
    let mut out = String::new();
    for doc in super::storage::split_documents(text) {
        out.push_str("---\n");
        let parsed: Option<Value> = serde_norway::from_str(doc).ok();
        match parsed {
            Some(mut v) if v.get("kind").and_then(Value::as_str) == Some("Secret") => {
                for line in doc.lines().take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty()) {
                    if !line.trim().is_empty() {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                redact_secret(&mut v);
                out.push_str(&serde_norway::to_string(&v).unwrap_or_else(|_| "# (Secret redacted)\n".into()));
            }
            _ => {
                out.push_str(&redact_credentials(doc));
            }
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_and_manifests_are_redacted() {
        let v = json!({"auth": {"password": "hunter2", "existingSecret": "db-creds", "username": "app"}, "apiKey": "k", "replicas": 2,
                       "url": "postgres://u:pw@db/x", "token": 1234, "secretName": "tls"});
        let r = values(&v);
        assert_eq!(r["auth"]["password"], "<redacted>");
        assert_eq!(r["auth"]["existingSecret"], "db-creds");
        assert_eq!(r["auth"]["username"], "app");
        assert_eq!(r["apiKey"], "<redacted>");
        assert_eq!(r["token"], "<redacted>");
        assert_eq!(r["secretName"], "tls");
        assert_eq!(r["replicas"], 2);
        assert!(!r["url"].as_str().unwrap_or_default().contains("pw@"));
        let m = "---\n# Source: a/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: aHVudGVyMg==\nstringData:\n  token: abc\n---\n# Source: a/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  DB: password=hunter2\n";
        let out = manifest(m);
        assert!(out.contains("# Source: a/templates/secret.yaml"), "{out}");
        assert!(out.contains("password: '<redacted: "), "{out}");
        assert!(!out.contains("aHVudGVyMg==") && !out.contains("hunter2") && !out.contains("token: abc"), "{out}");
        assert!(out.contains("kind: ConfigMap"));
    }
}
