//! Previews of writes, shared by every tool that takes `dryRun` (and by `resource_diff`): the cleaned
//! YAML of an object before and after a change as a unified diff. Status and the metadata that changes
//! on every write (managedFields, resourceVersion, generation, uid, creationTimestamp) are left out;
//! Secret values stay redacted, a changed value shows as changed without showing either side.

use super::apply::comparable;
use super::common::s;
use crate::error::ToolError;
use serde_json::{Map, Value, json};
use std::future::Future;

/// How every dry-run summary starts.
pub const DRY_RUN: &str = "Dry run (nothing changed): ";

/// Cleans an object for a diff: status and write-only metadata dropped, Secret values redacted; on the
/// new side (`other` = the old object) values that differ are marked "changed".
pub fn prepare(obj: &Value, other: Option<&Value>) -> Value {
    prepare_with(obj, other, false)
}

fn prepare_with(obj: &Value, other: Option<&Value>, keep_status: bool) -> Value {
    let mut o = comparable(obj);
    if !keep_status && let Some(m) = o.as_object_mut() {
        m.remove("status");
    }
    let secret = s(&o, "/kind") == "Secret";
    if secret {
        for field in ["data", "stringData"] {
            if let Some(map) = o.get_mut(field).and_then(Value::as_object_mut) {
                for (k, v) in map.iter_mut() {
                    let changed = other.and_then(|x| x.get(field)).and_then(|d| d.get(k)).is_none_or(|ov| ov != v);
                    let len = v.as_str().map(|t| if field == "data" { t.len() * 3 / 4 } else { t.len() }).unwrap_or(0);
                    *v = json!(format!(
                        "<redacted: {len} bytes{}>",
                        if changed && other.is_some() { ", changed" } else { "" }
                    ));
                }
            }
        }
        // Values are redacted above, with change markers; keep the generic redaction from redoing it.
        o["kind"] = Value::Null;
    }
    super::get::scrub(&mut o);
    if secret {
        o["kind"] = json!("Secret");
    }
    o
}

fn yaml(v: &Value) -> String {
    if v.is_null() { String::new() } else { serde_norway::to_string(v).unwrap_or_default() }
}

/// A unified diff of two (prepared) objects' YAML (`""` when equal).
pub fn unified(old: &Value, new: &Value, old_name: &str, new_name: &str) -> String {
    let (a, b) = (yaml(old), yaml(new));
    if a == b {
        return String::new();
    }
    similar::TextDiff::from_lines(&a, &b).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// `new` with the keys of its objects in the order `old` has them (keys `old` lacks last), recursively,
/// so that a diff shows changed values rather than keys that moved (servers do not keep key order).
pub fn align(new: &Value, old: &Value) -> Value {
    match (new, old) {
        (Value::Object(n), Value::Object(o)) => {
            let mut out = Map::with_capacity(n.len());
            for (k, ov) in o {
                if let Some(nv) = n.get(k) {
                    out.insert(k.clone(), align(nv, ov));
                }
            }
            for (k, nv) in n {
                if !o.contains_key(k) {
                    out.insert(k.clone(), nv.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(n), Value::Array(o)) => Value::Array(
            n.iter().enumerate().map(|(i, nv)| o.get(i).map_or_else(|| nv.clone(), |ov| align(nv, ov))).collect(),
        ),
        _ => new.clone(),
    }
}

/// The unified diff of an object's YAML before and after a change (`None` before: created, `None`
/// after: deleted), cleaned as [`prepare`] does; `""` when nothing changes.
pub fn object_diff(before: Option<&Value>, after: Option<&Value>) -> String {
    diff_of(before, after, false)
}

/// [`object_diff`] keeping `status`: for writes through the status subresource (Argo Rollouts' abort,
/// promote, retry), whose change is in the status.
pub fn object_diff_with_status(before: Option<&Value>, after: Option<&Value>) -> String {
    diff_of(before, after, true)
}

fn diff_of(before: Option<&Value>, after: Option<&Value>, keep_status: bool) -> String {
    let old = before.map(|b| prepare_with(b, None, keep_status)).unwrap_or(Value::Null);
    let new = after.map(|a| align(&prepare_with(a, before, keep_status), &old)).unwrap_or(Value::Null);
    unified(
        &old,
        &new,
        if before.is_some() { "before" } else { "/dev/null" },
        if after.is_some() { "after" } else { "/dev/null" },
    )
}

/// The object a dry run answered from. A dry run works on the object as it is when it runs (its answer
/// keeps that `resourceVersion`); when a controller wrote between our read and the dry run, `read`
/// fetches the object again (at most three times) so that the diff shows only the change asked for.
pub async fn matching_before<F, Fut>(mut before: Value, answer: &Value, mut read: F) -> Result<Value, ToolError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Value, ToolError>>,
{
    let wanted = s(answer, "/metadata/resourceVersion").to_string();
    for _ in 0..3 {
        if wanted.is_empty() || s(&before, "/metadata/resourceVersion") == wanted {
            break;
        }
        before = read().await?;
    }
    Ok(before)
}

/// Cuts long diffs so that all of them fit in `budget` bytes together, each to an equal share, rather
/// than dropping objects; returns a note per cut diff.
pub fn cut_diffs<'a>(diffs: impl IntoIterator<Item = (&'a str, &'a mut String)>, budget: usize) -> Vec<String> {
    let diffs: Vec<(&str, &mut String)> = diffs.into_iter().collect();
    let total: usize = diffs.iter().map(|(_, d)| super::common::json_len(d.as_str())).sum();
    if total <= budget {
        return Vec::new();
    }
    let per = budget / diffs.len().max(1);
    let mut notes = Vec::new();
    for (object, diff) in diffs {
        if diff.len() > per {
            let cut: String = diff.chars().take(per).collect();
            notes.push(format!("diff of {object} cut at {per} bytes (output budget)"));
            *diff = format!("{cut}\n… [cut]");
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_redact_secret_values_but_show_changes() {
        let live = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "resourceVersion": "1"}, "data": {"password": "aHVudGVyMg==", "user": "YWRtaW4="}});
        let new = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "resourceVersion": "2"}, "data": {"password": "czNjcjN0IQ==", "user": "YWRtaW4="}});
        let d = object_diff(Some(&live), Some(&new));
        assert!(d.contains("changed") && !d.contains("aHVudGVyMg") && !d.contains("czNjcjN0"), "{d}");
        assert!(!d.contains("resourceVersion"), "{d}");
        assert!(d.contains("--- before") && d.contains("+++ after"), "{d}");
        let removed = object_diff(Some(&live), None);
        assert!(removed.contains("+++ /dev/null") && removed.contains("-kind: Secret"), "{removed}");
        assert!(!removed.contains("aHVudGVyMg"), "{removed}");
    }

    #[test]
    fn noise_is_left_out_and_status_kept_on_request() {
        let before = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "u", "generation": 1, "resourceVersion": "7", "creationTimestamp": "t", "managedFields": [{}]},
            "spec": {"replicas": 2}, "status": {"replicas": 2}});
        let mut after = before.clone();
        after["spec"]["replicas"] = json!(5);
        after["metadata"]["generation"] = json!(2);
        after["status"]["abort"] = json!(true);
        let d = object_diff(Some(&before), Some(&after));
        assert!(d.contains("-  replicas: 2") && d.contains("+  replicas: 5"), "{d}");
        for noise in ["uid", "generation", "resourceVersion", "creationTimestamp", "managedFields", "status", "abort"] {
            assert!(!d.contains(noise), "{noise} in {d}");
        }
        assert!(object_diff_with_status(Some(&before), Some(&after)).contains("+  abort: true"));
        let created = object_diff(None, Some(&after));
        assert!(created.starts_with("--- /dev/null\n+++ after") && created.contains("+kind: Deployment"), "{created}");
        assert_eq!(object_diff(Some(&before), Some(&before)), "");
    }

    #[test]
    fn moved_keys_are_no_change() {
        let before = json!({"kind": "X", "status": {"a": 1, "b": [{"name": "c", "image": "i:1"}], "message": "m"}});
        let after = json!({"kind": "X", "status": {"message": "m", "a": 1, "b": [{"image": "i:2", "name": "c"}]}});
        let d = object_diff_with_status(Some(&before), Some(&after));
        let changed: Vec<&str> =
            d.lines().filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++")).collect();
        assert_eq!(changed, vec!["-    image: i:1", "+    image: i:2"], "{d}");
        assert!(d.contains("-    image: i:1") && d.contains("+    image: i:2"), "{d}");
    }

    #[test]
    fn long_diffs_are_cut_evenly() {
        let (mut a, mut b) = ("x".repeat(100), "y".repeat(10));
        let notes = cut_diffs([("A", &mut a), ("B", &mut b)], 60);
        assert_eq!(notes.len(), 1);
        assert!(a.starts_with(&"x".repeat(30)) && a.ends_with("[cut]") && b.len() == 10, "{a} {b}");
    }
}
