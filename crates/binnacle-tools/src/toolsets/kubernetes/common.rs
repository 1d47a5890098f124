//! Helpers shared by the Kubernetes tools: the shared state (discovery cache), raw JSON access to any
//! resource, argument checks, schema compaction, budgets and table rows.

use super::resolve::{Discovery, ResourceInfo};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::BYTES_PER_TOKEN;
use crate::validate;
use binnacle_objects::table;
use jiff::Timestamp;
use kube::Client;
use kube::api::{DeleteParams, GetParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, Request, Resource};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "binnacle";

/// State shared by the Kubernetes tools of one catalog.
#[derive(Debug, Default)]
pub struct Kube {
    /// Discovery snapshots per context.
    pub discovery: Discovery,
}

/// The shared state as tools hold it.
pub type Shared = Arc<Kube>;

impl Kube {
    /// The call's client and the resource `kind` names (see [`Discovery::resolve`]).
    pub async fn resolve(
        &self,
        ctx: &ToolContext,
        kind: &str,
        api_version: Option<&str>,
    ) -> Result<(Client, ResourceInfo), ToolError> {
        let client = ctx.kube().await?;
        let info = self.discovery.resolve(ctx, &client, kind, api_version).await?;
        Ok((client, info))
    }

    /// A built-in resource by group and plural (always served, no discovery needed).
    pub fn builtin(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> ResourceInfo {
        ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            short_names: Vec::new(),
            namespaced,
            verbs: Vec::new(),
            subresources: Vec::new(),
            preferred: true,
        }
    }
}

/// Built-in resources used directly.
pub mod kinds {
    use super::{Kube, ResourceInfo};
    /// Pods.
    pub fn pods() -> ResourceInfo {
        Kube::builtin("", "v1", "Pod", "pods", true)
    }
    /// Nodes.
    pub fn nodes() -> ResourceInfo {
        Kube::builtin("", "v1", "Node", "nodes", false)
    }
    /// Core events.
    pub fn events() -> ResourceInfo {
        Kube::builtin("", "v1", "Event", "events", true)
    }
    /// Services.
    pub fn services() -> ResourceInfo {
        Kube::builtin("", "v1", "Service", "services", true)
    }
    /// ReplicaSets.
    pub fn replica_sets() -> ResourceInfo {
        Kube::builtin("apps", "v1", "ReplicaSet", "replicasets", true)
    }
    /// ControllerRevisions.
    pub fn controller_revisions() -> ResourceInfo {
        Kube::builtin("apps", "v1", "ControllerRevision", "controllerrevisions", true)
    }
    /// Secrets.
    pub fn secrets() -> ResourceInfo {
        Kube::builtin("", "v1", "Secret", "secrets", true)
    }
}

// ------------------------------------------------------------------------------------------- raw API

/// JSON access to one resource in one namespace (or cluster-wide), without typed structs, so every kind
/// (CRDs included) goes through the same path.
pub struct Raw {
    client: Client,
    info: ResourceInfo,
    request: Request,
}

fn build(e: kube::core::request::Error) -> ToolError {
    ToolError::Internal(format!("cannot build the request: {e}"))
}

impl Raw {
    /// Objects of `info` in `namespace` (ignored for cluster-scoped kinds; `None`: every namespace).
    pub fn new(client: &Client, info: &ResourceInfo, namespace: Option<&str>) -> Self {
        let ns = if info.namespaced { namespace } else { None };
        let url = <DynamicObject as Resource>::url_path(&info.api_resource(), ns);
        Self { client: client.clone(), info: info.clone(), request: Request::new(url) }
    }

    /// The resource.
    pub fn info(&self) -> &ResourceInfo {
        &self.info
    }

    /// Sets `apiVersion` and `kind` (list items come without them).
    pub fn typed(&self, obj: Value) -> Value {
        with_type(obj, &self.info)
    }

    /// One object.
    pub async fn get(&self, name: &str) -> Result<Value, ToolError> {
        let req = self.request.get(name, &GetParams::default()).map_err(build)?;
        Ok(self.typed(self.client.request::<Value>(req).await?))
    }

    /// One object, `None` when it does not exist.
    pub async fn get_opt(&self, name: &str) -> Result<Option<Value>, ToolError> {
        match self.get(name).await {
            Ok(v) => Ok(Some(v)),
            Err(ToolError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page: items (typed), continue token, remaining count.
    pub async fn list(&self, lp: &ListParams) -> Result<Page, ToolError> {
        let req = self.request.list(lp).map_err(build)?;
        let mut list = self.client.request::<Value>(req).await?;
        let items = match list.get_mut("items").map(Value::take) {
            Some(Value::Array(items)) => items.into_iter().map(|o| self.typed(o)).collect(),
            _ => Vec::new(),
        };
        let cont =
            list.pointer("/metadata/continue").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let remaining = list.pointer("/metadata/remainingItemCount").and_then(Value::as_i64);
        Ok(Page { items, cont, remaining })
    }

    /// Every object matching `lp`, following continue tokens, at most `max` objects.
    pub async fn list_all(&self, lp: &ListParams, max: usize) -> Result<Vec<Value>, ToolError> {
        let mut out = Vec::new();
        let mut lp = lp.clone();
        lp.limit = Some(500);
        loop {
            let page = self.list(&lp).await?;
            out.extend(page.items);
            match page.cont {
                Some(c) if out.len() < max => lp.continue_token = Some(c),
                _ => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }

    /// Creates an object.
    pub async fn create(&self, pp: &PostParams, obj: &Value) -> Result<Value, ToolError> {
        let body = serde_json::to_vec(obj).map_err(|e| ToolError::Internal(e.to_string()))?;
        let req = self.request.create(pp, body).map_err(build)?;
        Ok(self.typed(self.client.request::<Value>(req).await?))
    }

    /// Patches an object (merge, strategic or apply).
    pub async fn patch(&self, name: &str, pp: &PatchParams, patch: &Patch<Value>) -> Result<Value, ToolError> {
        let req = self.request.patch(name, pp, patch).map_err(build)?;
        Ok(self.typed(self.client.request::<Value>(req).await?))
    }

    /// Applies an RFC 6902 JSON patch (an array of operations).
    pub async fn json_patch(&self, name: &str, pp: &PatchParams, ops: &Value) -> Result<Value, ToolError> {
        // The body of a merge patch is the JSON as given; only the content type differs.
        let mut req = self.request.patch(name, pp, &Patch::Merge(ops)).map_err(build)?;
        let content_type =
            "application/json-patch+json".parse().map_err(|_| ToolError::Internal("content type".into()))?;
        req.headers_mut().insert("content-type", content_type);
        Ok(self.typed(self.client.request::<Value>(req).await?))
    }

    /// Deletes an object; returns the object (still terminating) or the server's Status.
    pub async fn delete(&self, name: &str, dp: &DeleteParams) -> Result<Value, ToolError> {
        let req = self.request.delete(name, dp).map_err(build)?;
        Ok(self.client.request::<Value>(req).await?)
    }

    /// Reads a subresource (`scale`).
    pub async fn get_sub(&self, sub: &str, name: &str) -> Result<Value, ToolError> {
        let req = self.request.get_subresource(sub, name).map_err(build)?;
        Ok(self.client.request::<Value>(req).await?)
    }

    /// Patches a subresource (`scale`) with a merge patch.
    pub async fn patch_sub(&self, sub: &str, name: &str, pp: &PatchParams, patch: &Value) -> Result<Value, ToolError> {
        let req = self.request.patch_subresource(sub, name, pp, &Patch::Merge(patch)).map_err(build)?;
        Ok(self.client.request::<Value>(req).await?)
    }
}

/// One page of a list.
#[derive(Debug, Default)]
pub struct Page {
    /// Objects, with `apiVersion` and `kind` set.
    pub items: Vec<Value>,
    /// Continue token for the next page.
    pub cont: Option<String>,
    /// How many objects follow, when the server says.
    pub remaining: Option<i64>,
}

/// `obj` with `apiVersion` and `kind` first.
pub fn with_type(obj: Value, info: &ResourceInfo) -> Value {
    match obj {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len() + 2);
            let api_version = map.get("apiVersion").cloned().unwrap_or_else(|| json!(info.api_version()));
            let kind = map.get("kind").cloned().unwrap_or_else(|| json!(info.kind));
            out.insert("apiVersion".into(), api_version);
            out.insert("kind".into(), kind);
            for (k, v) in map {
                if k != "apiVersion" && k != "kind" {
                    out.insert(k, v);
                }
            }
            Value::Object(out)
        }
        other => other,
    }
}

/// The namespace a call works in: the one given, else the context's default (`None` for
/// cluster-scoped kinds).
pub fn namespace_for(client: &Client, info: &ResourceInfo, namespace: Option<&str>) -> Option<String> {
    info.namespaced.then(|| namespace.unwrap_or(client.default_namespace()).to_string())
}

/// `Deployment shop/frontend` or `Node worker-1`.
pub fn display(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{kind} {ns}/{name}"),
        _ => format!("{kind} {name}"),
    }
}

/// `Deployment shop/frontend` for an object.
pub fn display_obj(obj: &Value) -> String {
    display(s(obj, "/kind"), Some(s(obj, "/metadata/namespace")), s(obj, "/metadata/name"))
}

// --------------------------------------------------------------------------------------- JSON access

/// The string at a pointer, `""` when absent.
pub fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    binnacle_objects::pointer::get_str(v, pointer).unwrap_or("")
}

/// The integer at a pointer, 0 when absent.
pub fn int(v: &Value, pointer: &str) -> i64 {
    binnacle_objects::pointer::get(v, pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The array at a pointer, empty when absent.
pub fn arr<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    binnacle_objects::pointer::get(v, pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// "Now" for ages: the wall clock, or the newest timestamp seen when the cluster's clock runs ahead.
pub fn now_after<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Timestamp {
    let wall = Timestamp::now();
    objects
        .into_iter()
        .filter_map(|o| binnacle_objects::time::parse_timestamp(o.pointer("/metadata/creationTimestamp")))
        .fold(wall, |a, b| a.max(b))
}

/// Human age of a timestamp field (`3m20s`), `""` when absent.
pub fn age_of(v: Option<&Value>, now: Timestamp) -> String {
    binnacle_objects::time::parse_timestamp(v)
        .map(|t| binnacle_objects::time::human_duration(binnacle_objects::time::seconds_between(t, now)))
        .unwrap_or_default()
}

/// Human time since `t` (`3m20s`), `""` when unknown.
pub fn ago(t: Option<Timestamp>, now: Timestamp) -> String {
    t.map(|t| binnacle_objects::time::human_duration(binnacle_objects::time::seconds_between(t, now)))
        .unwrap_or_default()
}

/// The controller owner reference of an object (or its first owner).
pub fn controller_of(obj: &Value) -> Option<&Value> {
    let owners = arr(obj, "/metadata/ownerReferences");
    owners.iter().find(|o| o.get("controller").and_then(Value::as_bool) == Some(true)).or_else(|| owners.first())
}

/// Whether `obj` is controlled by the object with `uid`.
pub fn owned_by(obj: &Value, uid: &str) -> bool {
    !uid.is_empty() && arr(obj, "/metadata/ownerReferences").iter().any(|o| s(o, "/uid") == uid)
}

// -------------------------------------------------------------------------------------- table rows

/// Wide columns kept in compact rows, per kind (the rest of `-o wide` is left out).
fn keep_wide(kind: &str, column: &str) -> bool {
    matches!(
        (kind, column),
        ("Pod", "IP" | "Node")
            | ("Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job", "Images")
            | ("Node", "Internal-IP")
    )
}

/// `Up-to-date` → `upToDate`, `Nominated Node` → `nominatedNode`, `Port(s)` → `ports`,
/// `VolumeAttributesClass` → `volumeAttributesClass`.
pub fn camel(name: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !matches!(c, '(' | ')')).collect();
    let mut out = String::new();
    for word in cleaned.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let word =
            if word.chars().all(|c| !c.is_ascii_lowercase()) { word.to_ascii_lowercase() } else { word.to_string() };
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(if out.is_empty() { first.to_ascii_lowercase() } else { first.to_ascii_uppercase() });
            out.extend(chars);
        }
    }
    out
}

/// A compact row of an object: the kubectl table columns (built-in kinds) or printer columns (custom
/// resources), with the namespace after the name and empty cells left out.
pub fn row(info: &ResourceInfo, printer_columns: Option<&[Value]>, obj: &Value, now: Timestamp) -> Map<String, Value> {
    let (columns, cells) = match printer_columns {
        Some(pc) => (table::custom_columns(pc), table::custom_row_cells(pc, obj, now)),
        None => (table::columns(&info.group, &info.kind), table::row_cells(&info.group, &info.kind, obj, now)),
    };
    let mut out = Map::new();
    for (col, cell) in columns.iter().zip(cells) {
        if col.priority > 0 && !keep_wide(&info.kind, &col.name) {
            continue;
        }
        let key = if col.name == "Created At" { "age".to_string() } else { camel(&col.name) };
        let cell = if col.name == "Created At" { json!(binnacle_objects::time::age(obj, now)) } else { cell };
        if matches!(&cell, Value::String(t) if t.is_empty() || t == "<none>" || t == "<unset>") {
            continue;
        }
        out.insert(key, cell);
        if out.len() == 1
            && info.namespaced
            && let Some(ns) = obj.pointer("/metadata/namespace")
        {
            out.insert("namespace".into(), ns.clone());
        }
    }
    if printer_columns.is_some() && !out.contains_key("age") {
        out.insert("age".into(), json!(binnacle_objects::time::age(obj, now)));
    }
    out
}

/// One line of status for an object (its row without name, namespace and age), e.g.
/// `ready 2/3, upToDate 3, available 2`.
pub fn status_line(info: &ResourceInfo, obj: &Value, now: Timestamp) -> String {
    row(info, None, obj, now)
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "name" | "namespace" | "age" | "images" | "ip" | "internalIp"))
        .map(|(k, v)| format!("{k} {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The printer columns of a custom resource's version (`None` for built-in kinds, empty when the CRD
/// declares none or cannot be read).
pub async fn printer_columns(client: &Client, info: &ResourceInfo) -> Option<Vec<Value>> {
    if info.is_builtin() {
        return None;
    }
    let crds = Raw::new(
        client,
        &Kube::builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false),
        None,
    );
    let crd = crds.get_opt(&info.qualified()).await.ok().flatten();
    let columns = crd
        .as_ref()
        .and_then(|c| arr(c, "/spec/versions").iter().find(|v| s(v, "/name") == info.version))
        .map(|v| arr(v, "/additionalPrinterColumns").iter().filter(|c| int(c, "/priority") == 0).cloned().collect())
        .unwrap_or_default();
    Some(columns)
}

// ----------------------------------------------------------------------------------------- budgets

/// The bytes a tool may fill with list entries (the budget less room for the rest of the reply).
pub fn budget_bytes(ctx: &ToolContext) -> usize {
    ctx.budget_tokens() * BYTES_PER_TOKEN * 85 / 100
}

/// Serialised size of a value.
pub fn json_len<T: Serialize + ?Sized>(v: &T) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0)
}

/// How many leading items fit in `bytes` (at least one when there are any).
pub fn fitting<T: Serialize>(items: &[T], bytes: usize) -> usize {
    let mut used = 2;
    for (i, item) in items.iter().enumerate() {
        used += json_len(item) + 1;
        if used > bytes {
            return i.max(1);
        }
    }
    items.len()
}

/// Keeps the newest lines (the end) of `lines` within `bytes`; returns how many were dropped.
pub fn keep_tail(lines: &mut Vec<String>, bytes: usize) -> usize {
    let mut used = 2;
    let mut keep = 0;
    for line in lines.iter().rev() {
        used += line.len() + 3;
        if used > bytes && keep > 0 {
            break;
        }
        keep += 1;
    }
    let drop = lines.len() - keep;
    lines.drain(..drop);
    drop
}

// ------------------------------------------------------------------------------ argument checking

/// A resource name as typed (`deploy`, `Deployment`, `rollouts.argoproj.io`).
pub fn check_kind(kind: &str) -> Result<(), ToolError> {
    let ok = !kind.is_empty()
        && kind.len() <= 253
        && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !kind.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "kind {kind:?} is not valid: use a Kind, plural or short name such as Deployment, pods or deploy"
        )))
    }
}

/// An `apiVersion` (`v1`, `apps/v1`, `argoproj.io/v1alpha1`).
pub fn check_api_version(av: &str) -> Result<(), ToolError> {
    let (group, version) = super::resolve::split_api_version(av);
    let group_ok = group.is_empty() || binnacle_objects::names::check_dns1123_subdomain(group).is_ok();
    let version_ok = binnacle_objects::names::check_dns1123_label(version).is_ok() && version.starts_with('v');
    if group_ok && version_ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!("apiVersion {av:?} is not valid: use v1, apps/v1 or group/version")))
    }
}

/// An optional namespace.
pub fn check_ns(ns: Option<&String>) -> Result<(), ToolError> {
    ns.map_or(Ok(()), |n| validate::namespace(n))
}

/// Common checks of `kind`, `name`, `namespace` and `apiVersion`.
pub fn check_target(
    kind: &str,
    name: &str,
    namespace: Option<&String>,
    api_version: Option<&String>,
) -> Result<(), ToolError> {
    check_kind(kind)?;
    validate::object_name(name)?;
    check_ns(namespace)?;
    api_version.map_or(Ok(()), |a| check_api_version(a))
}

/// An integer in a range.
pub fn check_range(what: &str, v: i64, min: i64, max: i64) -> Result<(), ToolError> {
    if (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(ToolError::invalid(format!("{what} must be from {min} to {max}, got {v}")))
    }
}

/// A regular expression (bounded size).
pub fn check_regex(what: &str, re: &str) -> Result<regex::Regex, ToolError> {
    if re.len() > 512 {
        return Err(ToolError::invalid(format!("{what} is longer than 512 characters")));
    }
    regex::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| ToolError::invalid(format!("{what} {re:?} is not a valid regular expression: {e}")))
}

// ------------------------------------------------------------------------------------------ schemas

/// Makes an input schema smaller (it is sent with every `tools/list`) without changing what it accepts
/// in practice: optional fields are advertised as their type (no `null`), `anyOf [T, null]` becomes `T`,
/// enums of documented variants become plain `enum` lists, integer formats, defaults, trailing periods
/// and the struct's own description are dropped.
pub fn compact_schema(schema: &mut schemars::Schema) {
    if let Some(map) = schema.as_object_mut() {
        map.remove("description");
        let mut v = Value::Object(std::mem::take(map));
        compact(&mut v);
        if let Value::Object(m) = v {
            *map = m;
        }
    }
}

fn compact(v: &mut Value) {
    let Value::Object(map) = v else { return };
    if let Some(Value::Array(any)) = map.get("anyOf") {
        let non_null: Vec<Value> =
            any.iter().filter(|s| s.get("type").and_then(Value::as_str) != Some("null")).cloned().collect();
        if non_null.len() == 1 {
            map.remove("anyOf");
            if let Value::Object(inner) = &non_null[0] {
                for (k, x) in inner {
                    map.entry(k.clone()).or_insert_with(|| x.clone());
                }
            }
        }
    }
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types[0].clone();
            map.insert("type".into(), t);
        }
    }
    if let Some(Value::Array(variants)) = map.get("oneOf") {
        let consts: Option<Vec<Value>> = variants.iter().map(|v| v.get("const").cloned()).collect();
        if let Some(consts) = consts {
            map.remove("oneOf");
            map.insert("type".into(), json!("string"));
            map.insert("enum".into(), Value::Array(consts));
        }
    }
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|x| !x.is_null());
    }
    map.remove("format");
    map.remove("default");
    if map.get("minimum").and_then(Value::as_i64) == Some(0) {
        map.remove("minimum");
    }
    if let Some(Value::String(d)) = map.get_mut("description")
        && d.ends_with('.')
        && !d.ends_with("..")
    {
        d.pop();
    }
    for key in ["properties", "items", "additionalProperties"] {
        match map.get_mut(key) {
            Some(Value::Object(props)) if key == "properties" => props.values_mut().for_each(compact),
            Some(x @ Value::Object(_)) => compact(x),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_column_names() {
        assert_eq!(camel("Up-to-date"), "upToDate");
        assert_eq!(camel("Nominated Node"), "nominatedNode");
        assert_eq!(camel("IP"), "ip");
        assert_eq!(camel("Internal-IP"), "internalIp");
        assert_eq!(camel("Port(s)"), "ports");
        assert_eq!(camel("VolumeAttributesClass"), "volumeAttributesClass");
    }

    #[test]
    fn schemas_are_compacted() {
        let mut s = schemars::json_schema!({"type": "object", "properties": {
            "a": {"type": ["string", "null"], "description": "x"},
            "b": {"type": ["integer", "null"], "format": "uint32", "minimum": 0},
            "c": {"anyOf": [{"type": "string", "enum": ["x", "y"]}, {"type": "null"}], "description": "c"}}});
        compact_schema(&mut s);
        let v = s.to_value();
        assert_eq!(v["properties"]["a"], json!({"type": "string", "description": "x"}));
        assert_eq!(v["properties"]["b"], json!({"type": "integer"}));
        assert_eq!(v["properties"]["c"], json!({"type": "string", "enum": ["x", "y"], "description": "c"}));
        let mut e = schemars::json_schema!({"description": "Arguments.", "type": "object", "properties": {
            "p": {"description": "Which.", "oneOf": [{"const": "A", "type": "string", "description": "a"}, {"const": "B", "type": "string"}]},
            "f": {"type": "boolean", "default": false}}});
        compact_schema(&mut e);
        let v = e.to_value();
        assert!(v.get("description").is_none());
        assert_eq!(v["properties"]["p"], json!({"description": "Which", "type": "string", "enum": ["A", "B"]}));
        assert_eq!(v["properties"]["f"], json!({"type": "boolean"}));
    }

    #[test]
    fn tails_fit() {
        let mut lines: Vec<String> = (0..100).map(|i| format!("line {i:03}")).collect();
        let dropped = keep_tail(&mut lines, 120);
        assert!(dropped > 80);
        assert_eq!(lines.last().map(String::as_str), Some("line 099"));
    }
}
