//! The preview shown at the approval gate: what a call would change.
//!
//! A tool that takes `dryRun` is called once with `dryRun: true` (for Kubernetes tools a server-side dry
//! run), and its summary and diff(s) are the preview. Other tools get a description of the call and a plain
//! statement that no dry run exists for them. The preview's hash binds an approval to the exact tool,
//! arguments and preview that the approver saw.

use crate::toolbox::{ToolBox, ToolEntry};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Computes the preview of a call.
pub async fn preview(tools: &ToolBox, entry: &ToolEntry, args: &Value) -> Value {
    if entry.has_dry_run() {
        let mut dry = args.clone();
        if let Some(map) = dry.as_object_mut() {
            map.insert("dryRun".into(), Value::Bool(true));
        }
        return match tools.call(entry, dry, None).await {
            Ok(out) => {
                let mut diffs = Vec::new();
                collect_diffs(&out.structured, 0, &mut diffs);
                json!({
                    "kind": "dry-run",
                    "summary": out.summary,
                    "diff": diffs.join("\n"),
                })
            }
            Err(e) => json!({
                "kind": "dry-run-failed",
                "summary": format!("The dry run failed: {}. Approving runs the call anyway; it will likely fail the same way.", e.0),
                "error": e.0,
            }),
        };
    }
    json!({
        "kind": "description",
        "summary": format!("{} ({}) with the arguments shown. This tool has no dry run, so no diff can be shown.", entry.title, entry.name),
        "destructive": entry.hints.destructive,
    })
}

/// Every string field named `diff` down to depth 4 (apply answers with one diff per document).
fn collect_diffs(v: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > 4 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                match child {
                    Value::String(s) if k == "diff" && !s.is_empty() => out.push(s.clone()),
                    _ => collect_diffs(child, depth + 1, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_diffs(c, depth + 1, out)),
        _ => {}
    }
}

/// The hex SHA-256 binding a tool, its arguments and the preview shown.
pub fn preview_hash(tool: &str, args: &Value, preview: &Value) -> String {
    let mut h = Sha256::new();
    h.update(tool.as_bytes());
    h.update([0]);
    h.update(canonical(args).as_bytes());
    h.update([0]);
    h.update(canonical(preview).as_bytes());
    hex::encode(h.finalize())
}

/// JSON with object keys sorted, so equal values hash equally.
fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_key_order_but_not_values() {
        let a = preview_hash("t", &json!({"a": 1, "b": 2}), &json!({"diff": "x"}));
        let b = preview_hash("t", &json!({"b": 2, "a": 1}), &json!({"diff": "x"}));
        let c = preview_hash("t", &json!({"a": 1, "b": 3}), &json!({"diff": "x"}));
        let d = preview_hash("t", &json!({"a": 1, "b": 2}), &json!({"diff": "y"}));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn diffs_are_collected_from_nested_results() {
        let mut out = Vec::new();
        collect_diffs(&json!({"results": [{"diff": "-a\n+b"}, {"diff": ""}, {"diff": "-c"}]}), 0, &mut out);
        assert_eq!(out, vec!["-a\n+b", "-c"]);
    }
}
