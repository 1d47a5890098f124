//! Conversions between served versions and storage: events.k8s.io/v1 Events are stored as core/v1
//! Events, and every object leaves the server with the apiVersion the client asked for.

use crate::registry::ResourceType;
use serde_json::{Map, Value, json};

fn move_field(from: &mut Map<String, Value>, to: &mut Map<String, Value>, src: &str, dst: &str) {
    if let Some(v) = from.remove(src)
        && !v.is_null()
    {
        to.insert(dst.to_string(), v);
    }
}

/// Whether a stored object is already in the form served for `rt` (no copy needed).
pub fn is_served_form(rt: &ResourceType, obj: &Value) -> bool {
    rt.group != "events.k8s.io"
        && obj.get("kind").and_then(Value::as_str) == Some(rt.kind.as_str())
        && obj.get("apiVersion").and_then(Value::as_str).is_some_and(|v| v == rt.api_version())
}

/// The served form of a stored object, borrowing it when no conversion is needed.
pub fn served_cow<'a>(rt: &ResourceType, obj: &'a Value) -> std::borrow::Cow<'a, Value> {
    if is_served_form(rt, obj) { std::borrow::Cow::Borrowed(obj) } else { std::borrow::Cow::Owned(to_served(rt, obj)) }
}

/// Converts a stored object into the form served for `rt`.
pub fn to_served(rt: &ResourceType, obj: &Value) -> Value {
    if rt.group == "events.k8s.io" {
        return core_event_to_events_v1(obj);
    }
    let mut out = obj.clone();
    if let Some(map) = out.as_object_mut() {
        let api_version = rt.api_version();
        if map.get("apiVersion").and_then(Value::as_str) != Some(api_version.as_str()) {
            map.insert("apiVersion".into(), json!(api_version));
        }
        if map.get("kind").and_then(Value::as_str) != Some(rt.kind.as_str()) {
            map.insert("kind".into(), json!(rt.kind));
        }
    }
    out
}

/// Converts an object received for `rt` into its storage form.
pub fn to_storage(rt: &ResourceType, obj: Value) -> Value {
    if rt.group == "events.k8s.io" {
        return events_v1_to_core_event(obj);
    }
    obj
}

fn core_event_to_events_v1(obj: &Value) -> Value {
    let mut src = obj.as_object().cloned().unwrap_or_default();
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    out.insert("kind".into(), json!("Event"));
    move_field(&mut src, &mut out, "metadata", "metadata");
    move_field(&mut src, &mut out, "involvedObject", "regarding");
    move_field(&mut src, &mut out, "related", "related");
    move_field(&mut src, &mut out, "message", "note");
    move_field(&mut src, &mut out, "reason", "reason");
    move_field(&mut src, &mut out, "type", "type");
    move_field(&mut src, &mut out, "action", "action");
    move_field(&mut src, &mut out, "reportingComponent", "reportingController");
    move_field(&mut src, &mut out, "reportingInstance", "reportingInstance");
    move_field(&mut src, &mut out, "series", "series");
    move_field(&mut src, &mut out, "count", "deprecatedCount");
    move_field(&mut src, &mut out, "firstTimestamp", "deprecatedFirstTimestamp");
    move_field(&mut src, &mut out, "lastTimestamp", "deprecatedLastTimestamp");
    move_field(&mut src, &mut out, "source", "deprecatedSource");
    let event_time = src.remove("eventTime").filter(|v| !v.is_null());
    let fallback = out.get("deprecatedLastTimestamp").cloned();
    if let Some(t) = event_time.or(fallback) {
        out.insert("eventTime".into(), t);
    }
    Value::Object(out)
}

fn events_v1_to_core_event(obj: Value) -> Value {
    let mut src = match obj {
        Value::Object(m) => m,
        other => return other,
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Event"));
    move_field(&mut src, &mut out, "metadata", "metadata");
    move_field(&mut src, &mut out, "regarding", "involvedObject");
    move_field(&mut src, &mut out, "related", "related");
    move_field(&mut src, &mut out, "note", "message");
    move_field(&mut src, &mut out, "reason", "reason");
    move_field(&mut src, &mut out, "type", "type");
    move_field(&mut src, &mut out, "action", "action");
    move_field(&mut src, &mut out, "reportingController", "reportingComponent");
    move_field(&mut src, &mut out, "reportingInstance", "reportingInstance");
    move_field(&mut src, &mut out, "series", "series");
    move_field(&mut src, &mut out, "deprecatedCount", "count");
    move_field(&mut src, &mut out, "deprecatedFirstTimestamp", "firstTimestamp");
    move_field(&mut src, &mut out, "deprecatedLastTimestamp", "lastTimestamp");
    move_field(&mut src, &mut out, "deprecatedSource", "source");
    move_field(&mut src, &mut out, "eventTime", "eventTime");
    // `kubectl describe` shows the series count and last observed time for kube-runtime recorder events.
    if let Some(series) = out.get("series").cloned() {
        if let Some(count) = series.get("count") {
            out.entry("count").or_insert(count.clone());
        }
        if let Some(last) = series.get("lastObservedTime") {
            out.insert("lastTimestamp".into(), json!(trim_micro(last)));
        }
    }
    if !out.contains_key("source")
        && let Some(c) = out.get("reportingComponent").cloned()
    {
        out.insert("source".into(), json!({"component": c}));
    }
    if !out.contains_key("firstTimestamp")
        && let Some(t) = out.get("eventTime").map(trim_micro)
    {
        out.insert("firstTimestamp".into(), json!(t));
        out.entry("lastTimestamp").or_insert(json!(t));
    }
    out.entry("count").or_insert(json!(1));
    Value::Object(out)
}

/// `2026-01-02T15:04:05.123456Z` → `2026-01-02T15:04:05Z`.
fn trim_micro(v: &Value) -> String {
    let s = v.as_str().unwrap_or_default();
    match s.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn events_round_trip() {
        let reg = Registry::new();
        let rt = reg.get("events.k8s.io", "v1", "events").expect("events");
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hello", "reason": "Test", "type": "Normal",
            "reportingController": "ctl", "eventTime": "2026-01-02T15:04:05.000001Z", "action": "Tested"});
        let core = to_storage(&rt, v1);
        assert_eq!(core["involvedObject"]["name"], "p");
        assert_eq!(core["message"], "hello");
        assert_eq!(core["firstTimestamp"], "2026-01-02T15:04:05Z");
        let back = to_served(&rt, &core);
        assert_eq!(back["regarding"]["name"], "p");
        assert_eq!(back["note"], "hello");
    }
}
