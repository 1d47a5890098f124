//! "List pods (in X)": one `resources_list` call, shown as a short table.

use super::{Call, Next, Tools, data_of, explain, items, show};
use crate::offline::markdown::{code, plain, table};
use crate::offline::transcript::Transcript;
use serde_json::{Value, json};

/// Rows listed.
const LIMIT: u64 = 100;
/// Rows shown in the table.
const MAX_ROWS: usize = 50;
/// Columns shown.
const MAX_COLUMNS: usize = 7;
/// Columns left out of the short table.
const SKIPPED: &[&str] = &["ip", "nominatedNode", "readinessGates", "internalIp", "externalIp"];

/// What to list.
pub(super) struct Request<'a> {
    /// `resources_list`'s `kind`.
    pub kind: &'a str,
    /// Plural for the answer.
    pub plural: &'a str,
    /// Whether the kind is namespaced.
    pub namespaced: bool,
    /// The namespace (else all).
    pub namespace: Option<&'a str>,
}

/// The next step.
pub(super) fn next(r: Request<'_>, t: &Transcript, tools: &Tools) -> Next {
    let Some(o) = t.last("resources_list") else {
        if let Err(e) = tools.require(&["resources_list"]) {
            return Next::Answer(explain(&e));
        }
        let args = match (r.namespaced, r.namespace) {
            (true, Some(ns)) => json!({"kind": r.kind, "namespace": ns, "limit": LIMIT}),
            (true, None) => json!({"kind": r.kind, "allNamespaces": true, "limit": LIMIT}),
            (false, _) => json!({"kind": r.kind, "limit": LIMIT}),
        };
        return Next::Calls(vec![Call::new("resources_list", args)]);
    };
    let data = match data_of(o) {
        Ok(d) => d,
        Err(e) => return Next::Answer(explain(&e)),
    };
    let rows = items(data, "items");
    let mut out = String::new();
    if let Some(headline) = o.outcome.headline() {
        out.push_str(&format!("**{}**\n\n", plain(headline)));
    }
    if rows.is_empty() {
        let scope = match (r.namespaced, r.namespace) {
            (true, Some(ns)) => format!(" in namespace {}", code(ns)),
            (true, None) => " in any namespace".to_string(),
            (false, _) => String::new(),
        };
        out.push_str(&format!("There are no {}{scope}.\n", r.plural));
        return Next::Answer(out);
    }
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        if let Some(map) = row.as_object() {
            for key in map.keys() {
                let same_namespace = key == "namespace" && r.namespace.is_some();
                if !columns.contains(key) && !SKIPPED.contains(&key.as_str()) && !same_namespace {
                    columns.push(key.clone());
                }
            }
        }
    }
    columns.truncate(MAX_COLUMNS);
    let headers: Vec<String> = columns.iter().map(|c| header(c)).collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .take(MAX_ROWS)
        .map(|row| columns.iter().map(|c| show(row.get(c).unwrap_or(&Value::Null))).collect())
        .collect();
    out.push_str(&table(&headers, &body));
    let more = rows.len().saturating_sub(MAX_ROWS);
    if more > 0 || data.get("continue").is_some_and(|c| !c.is_null()) {
        out.push_str(&format!("\nShowing {} {}; there are more. Narrow it with a namespace.\n", body.len(), r.plural));
    }
    Next::Answer(out)
}

/// `upToDate` → `Up to date`.
fn header(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_ascii_uppercase() {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::header;

    #[test]
    fn headers() {
        assert_eq!(header("upToDate"), "Up to date");
        assert_eq!(header("name"), "Name");
    }
}
