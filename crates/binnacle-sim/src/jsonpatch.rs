//! RFC 6902 JSON patches as the Kubernetes API server applies them.
//!
//! One difference from the RFC matters to clients: the API server (evanphx/json-patch) lets a `test` of a
//! path that does not exist pass when the expected value is `null`. kube-runtime's `finalizer` helper relies
//! on it to add the first finalizer (`test /metadata/finalizers == null`, then `add`).

use crate::error::{ApiError, ApiResult, Reason};
use serde_json::Value;

/// Applies `ops` (a JSON array of operations) to `target`. On any error `target` is left unchanged.
pub fn apply(target: &mut Value, ops: &Value) -> ApiResult<()> {
    let list = ops.as_array().ok_or_else(|| ApiError::bad_request("the JSON patch is invalid: expected an array"))?;
    let mut doc = target.clone();
    for raw in list {
        let op: json_patch::PatchOperation = serde_json::from_value(raw.clone())
            .map_err(|e| ApiError::bad_request(format!("the JSON patch is invalid: {e}")))?;
        if is_test_of_missing_null(&doc, raw) {
            continue;
        }
        json_patch::patch(&mut doc, std::slice::from_ref(&op))
            .map_err(|e| ApiError::new(Reason::Invalid, format!("the JSON patch could not be applied: {e}")))?;
    }
    *target = doc;
    Ok(())
}

fn is_test_of_missing_null(doc: &Value, raw: &Value) -> bool {
    raw.get("op").and_then(Value::as_str) == Some("test")
        && raw.get("value").is_some_and(Value::is_null)
        && raw.get("path").and_then(Value::as_str).is_some_and(|p| doc.pointer(p).is_none())
}

#[cfg(test)]
mod tests {
    use super::apply;
    use serde_json::json;

    #[test]
    fn a_test_of_a_missing_path_against_null_passes_like_the_api_server() {
        let mut obj = json!({"metadata": {"name": "a"}});
        let ops = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["x"]}
        ]);
        apply(&mut obj, &ops).expect("applies");
        assert_eq!(obj["metadata"]["finalizers"], json!(["x"]));
        // Now the path exists: the same test fails and nothing changes.
        let before = obj.clone();
        let err = apply(&mut obj, &ops).expect_err("finalizers exist now");
        assert!(err.to_string().contains("could not be applied"), "{err}");
        assert_eq!(obj, before);
    }

    #[test]
    fn a_test_of_a_missing_path_against_a_value_fails_and_changes_nothing() {
        let mut obj = json!({"spec": {"replicas": 1}});
        let ops = json!([
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "test", "path": "/spec/paused", "value": true}
        ]);
        assert!(apply(&mut obj, &ops).is_err());
        assert_eq!(obj, json!({"spec": {"replicas": 1}}));
        assert!(apply(&mut obj, &json!({"op": "add"})).is_err());
    }
}
