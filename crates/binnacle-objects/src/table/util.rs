//! Small helpers shared by the printers: tolerant field access, column specs and the formatting
//! conventions kubectl uses (`<none>`, label lists, container lists, load-balancer addresses).

use jiff::Timestamp;
use serde_json::Value;

use super::ColumnDefinition;
use crate::time::{human_duration, parse_timestamp, seconds_between};

/// A column known at compile time; turned into a [`ColumnDefinition`] on demand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    /// Header name as kubectl shows it (before upper-casing).
    pub name: &'static str,
    /// OpenAPI type of the cells: `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: &'static str,
    /// Format hint (`name` for the object name column).
    pub format: &'static str,
    /// Human description of the column.
    pub description: &'static str,
    /// 0 for default columns, 1 for `-o wide` only.
    pub priority: i32,
}

impl Col {
    /// Converts to the serializable column definition.
    pub(crate) fn to_definition(self) -> ColumnDefinition {
        ColumnDefinition {
            name: self.name.to_string(),
            type_: self.type_.to_string(),
            format: self.format.to_string(),
            description: self.description.to_string(),
            priority: self.priority,
        }
    }
}

/// A default-priority column.
pub(crate) const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Col {
    Col { name, type_, format: "", description, priority: 0 }
}

/// A column shown only with `-o wide`.
pub(crate) const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Col {
    Col { name, type_, format: "", description, priority: 1 }
}

/// The `Name` column that starts nearly every table.
pub(crate) const NAME: Col = Col {
    name: "Name",
    type_: "string",
    format: "name",
    description: "Name must be unique within a namespace; it identifies the object.",
    priority: 0,
};

/// The `Age` column (time since creation, as a human duration).
pub(crate) const AGE: Col =
    col("Age", "string", "Time elapsed since the object's creationTimestamp, the server time when it was created.");

/// The `Created At` column of the default table (RFC 3339 creation time).
pub(crate) const CREATED_AT: Col = Col {
    name: "Created At",
    type_: "date",
    format: "",
    description: "Server time at which the object was created (creationTimestamp).",
    priority: 0,
};

/// Wide `Containers` column of workload kinds.
pub(crate) const CONTAINERS: Col = wide("Containers", "string", "Names of each container in the pod template.");
/// Wide `Images` column of workload kinds.
pub(crate) const IMAGES: Col = wide("Images", "string", "Images referenced by each container in the pod template.");
/// Wide `Selector` column of workload kinds.
pub(crate) const SELECTOR: Col = wide("Selector", "string", "Label selector over the pods this object manages.");

/// A string field at a JSON pointer, `""` when absent or not a string.
pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    crate::pointer::get(v, pointer).and_then(Value::as_str).unwrap_or("")
}

/// An optional string field at a JSON pointer (absent, null or non-string gives `None`).
pub(crate) fn opt_str<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    crate::pointer::get(v, pointer).and_then(Value::as_str)
}

/// An integer field at a JSON pointer, 0 when absent (floats are truncated as Go's int conversion does).
pub(crate) fn int_at(v: &Value, pointer: &str) -> i64 {
    crate::pointer::get(v, pointer).and_then(as_int).unwrap_or(0)
}

/// An optional integer field.
pub(crate) fn opt_int(v: &Value, pointer: &str) -> Option<i64> {
    crate::pointer::get(v, pointer).and_then(as_int)
}

/// A JSON number as an integer.
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| v.as_f64().map(|f| f as i64))
}

/// A boolean field, `false` when absent.
pub(crate) fn bool_at(v: &Value, pointer: &str) -> bool {
    crate::pointer::get(v, pointer).and_then(Value::as_bool).unwrap_or(false)
}

/// An array field, empty when absent or not an array.
pub(crate) fn arr_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    crate::pointer::get(v, pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The number of entries of an object (map) field, 0 when absent.
pub(crate) fn map_len(v: &Value, pointer: &str) -> usize {
    crate::pointer::get(v, pointer).and_then(Value::as_object).map_or(0, serde_json::Map::len)
}

/// Whether a field is present and not null.
pub(crate) fn present(v: &Value, pointer: &str) -> bool {
    crate::pointer::get(v, pointer).is_some_and(|x| !x.is_null())
}

/// The object's `metadata.name`.
pub(crate) fn name(obj: &Value) -> &str {
    str_at(obj, "/metadata/name")
}

/// A string cell.
pub(crate) fn cell(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// An integer cell.
pub(crate) fn int_cell(n: i64) -> Value {
    Value::from(n)
}

/// A string cell that shows `<none>` when empty.
pub(crate) fn or_none(s: &str) -> Value {
    cell(if s.is_empty() { "<none>" } else { s })
}

/// The `Age` cell of an object.
pub(crate) fn age_cell(obj: &Value, now: Timestamp) -> Value {
    cell(crate::time::age(obj, now))
}

/// Human time since the timestamp at `pointer`, or `<unknown>` when absent (kubectl's
/// `translateTimestampSince`).
pub(crate) fn since(v: &Value, pointer: &str, now: Timestamp) -> String {
    match parse_timestamp(crate::pointer::get(v, pointer)) {
        Some(then) => human_duration(seconds_between(then, now)),
        None => "<unknown>".to_string(),
    }
}

/// A quantity as text (quantities are stored as strings, occasionally as bare numbers); `0` when absent.
pub(crate) fn quantity_at(v: &Value, pointer: &str) -> String {
    match crate::pointer::get(v, pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// An int-or-string value as text (`2`, `50%`).
pub(crate) fn int_or_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(as_int(v).map_or_else(|| n.to_string(), |i| i.to_string())),
        _ => None,
    }
}

/// A `map[string]string` as `k1=v1,k2=v2` sorted by key, or `<none>` (apimachinery `FormatLabels`).
pub(crate) fn format_labels(map: Option<&Value>) -> String {
    let Some(map) = map.and_then(Value::as_object) else {
        return "<none>".to_string();
    };
    let mut pairs: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))).collect();
    pairs.sort_unstable();
    let text = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    if text.is_empty() { "<none>".to_string() } else { text }
}

/// A `LabelSelector` (`matchLabels` + `matchExpressions`) in selector syntax, `<none>` when it selects
/// everything or nothing is set, `<error>` when malformed (apimachinery `FormatLabelSelector`).
pub(crate) fn format_label_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector.filter(|s| !s.is_null()) else {
        return "<none>".to_string();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for expr in selector.get("matchExpressions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        let key = str_at(expr, "/key");
        let mut values: Vec<&str> = arr_at(expr, "/values").iter().filter_map(Value::as_str).collect();
        values.sort_unstable();
        values.dedup();
        let text = match (str_at(expr, "/operator"), values.is_empty()) {
            ("In", false) => format!("{key} in ({})", values.join(",")),
            ("NotIn", false) => format!("{key} notin ({})", values.join(",")),
            ("Exists", true) => key.to_string(),
            ("DoesNotExist", true) => format!("!{key}"),
            _ => return "<error>".to_string(),
        };
        reqs.push((key.to_string(), text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    let text = reqs.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(",");
    if text.is_empty() { "<none>".to_string() } else { text }
}

/// The container names and images of a pod spec at `pointer`, each joined by `,`.
pub(crate) fn containers_and_images(obj: &Value, pointer: &str) -> (Value, Value) {
    let containers = arr_at(obj, pointer);
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    (cell(names.join(",")), cell(images.join(",")))
}

/// The addresses of a load balancer status (`ingress[].ip`, else `.hostname`), de-duplicated, sorted,
/// joined by `,`; `""` when none.
pub(crate) fn load_balancer_addresses(status: Option<&Value>) -> String {
    let mut found: Vec<&str> = status
        .and_then(|s| s.get("ingress"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|i| {
            let ip = str_at(i, "/ip");
            let host = str_at(i, "/hostname");
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    found.join(",")
}

/// Access modes abbreviated in kubectl's fixed order (`RWO,ROX,RWX,RWOP`).
pub(crate) fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        .iter()
        .filter(|(long, _)| has(long))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

/// The condition of the given type in `conditions`, if any.
pub(crate) fn find_condition<'a>(conditions: &'a [Value], type_: &str) -> Option<&'a Value> {
    conditions.iter().find(|c| str_at(c, "/type") == type_)
}

/// Whether the condition of the given type has status `True`.
pub(crate) fn condition_true(conditions: &[Value], type_: &str) -> bool {
    find_condition(conditions, type_).is_some_and(|c| str_at(c, "/status") == "True")
}

/// `host:port`, bracketing IPv6 hosts as Go's `net.JoinHostPort` does.
pub(crate) fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// kubectl's `Kind/name` for an owner-like reference with an apiVersion: `statefulset.apps/web`.
pub(crate) fn group_kind_name(api_version: &str, kind: &str, name: &str) -> String {
    let group = match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    if kind.is_empty() {
        return name.to_string();
    }
    let gk = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
    format!("{}/{name}", gk.to_lowercase())
}
