//! Redaction of tool arguments before they reach the audit log.

use serde_json::Value;

/// A copy of `args` with secrets removed: values under credential-like keys, credential-shaped text, and
/// manifests that contain a Secret.
pub fn redact_arguments(args: &Value) -> Value {
    redact(args)
}

fn sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "passwd", "token", "secret", "apikey", "api_key", "credential", "privatekey", "stringdata"]
        .iter()
        .any(|s| k.contains(s))
}

fn redact(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, child)| {
                    let value = if sensitive_key(k) && !child.is_object() && !child.is_array() {
                        Value::String("<redacted>".into())
                    } else {
                        redact(child)
                    };
                    (k.clone(), value)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        Value::String(s) => {
            if s.contains("kind: Secret") || s.contains("\"kind\":\"Secret\"") || s.contains("\"kind\": \"Secret\"") {
                Value::String("<a manifest containing a Secret: redacted>".into())
            } else {
                Value::String(binnacle_tools::output::redact_credentials(s))
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_removed_and_the_rest_kept() {
        let args = json!({
            "name": "web", "replicas": 3,
            "password": "hunter2", "apiToken": "abc",
            "manifest": "apiVersion: v1\nkind: Secret\ndata:\n  a: b",
            "url": "https://user:pw@example.com/x",
            "nested": {"clientSecret": "s", "keep": "Bearer abcdef"}
        });
        let r = redact_arguments(&args);
        assert_eq!(r["name"], "web");
        assert_eq!(r["replicas"], 3);
        assert_eq!(r["password"], "<redacted>");
        assert_eq!(r["apiToken"], "<redacted>");
        assert!(r["manifest"].as_str().is_some_and(|s| s.contains("redacted")));
        assert!(!r["url"].as_str().unwrap_or("").contains("pw@"));
        assert_eq!(r["nested"]["clientSecret"], "<redacted>");
        assert!(!r["nested"]["keep"].as_str().unwrap_or("").contains("abcdef"));
    }
}
