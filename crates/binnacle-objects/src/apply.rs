//! Server-side apply (`application/apply-patch+yaml`) with field managers, as kube-apiserver does it.
//!
//! Every object carries `metadata.managedFields`: one entry per (manager, operation) naming the fields
//! that manager owns, encoded as a FieldsV1 trie (`{"f:spec":{"f:replicas":{}}}`). An apply merges the
//! applied configuration into the live object, removes the fields the manager applied before but no
//! longer does (unless someone else owns them), and fails with conflicts when it would change a field
//! another manager owns, unless forced. Plain writes (create, update, patch) go through
//! [`record_update`], which gives the writer the fields it changed.
//!
//! Internally a field set is a sorted set of paths; a path is a list of `Segment`s. Lists follow the
//! strategies of [`crate::strategic::list_strategy`]: keyed lists own items by key, primitive sets own
//! items by value, atomic lists are owned whole.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use serde_json::{Map, Value};

use crate::strategic::{ListStrategy, list_strategy};

/// The request parameters of a server-side apply.
#[derive(Debug, Clone, Copy)]
pub struct ApplyParams<'a> {
    /// Kind of the object (`Deployment`).
    pub kind: &'a str,
    /// API version the configuration was applied in (`apps/v1`), recorded in the managedFields entry.
    pub api_version: &'a str,
    /// The field manager (`kubectl`, `?fieldManager=`).
    pub manager: &'a str,
    /// Whether to take ownership of conflicting fields (`--force-conflicts`).
    pub force: bool,
    /// The current time as a Kubernetes timestamp, recorded in the managedFields entry.
    pub now: &'a str,
}

/// A field the applied configuration would change although another manager owns it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldConflict {
    /// The manager owning the field.
    pub manager: String,
    /// The field, dotted (`.spec.replicas`, `.spec.template.spec.containers[name="app"].image`).
    pub field: String,
}

/// Why a server-side apply failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The apply would change fields owned by other managers (HTTP 409).
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<FieldConflict>),
    /// The applied configuration or the live object is malformed (HTTP 400 or 422).
    #[error("invalid apply configuration: {0}")]
    Invalid(String),
}

/// The Display text of [`ApplyError::Conflicts`], in the apiserver's words.
fn conflicts_message(conflicts: &[FieldConflict]) -> String {
    let count = conflicts.len();
    let noun = if count == 1 { "conflict" } else { "conflicts" };
    let lines: Vec<String> =
        conflicts.iter().map(|c| format!("conflict with \"{}\": {}", c.manager, c.field)).collect();
    format!("Apply failed with {count} {noun}: {}", lines.join("\n"))
}

const APPLY: &str = "Apply";
const UPDATE: &str = "Update";

/// Top-level fields that no manager owns.
const UNOWNED_ROOT_FIELDS: &[&str] = &["apiVersion", "kind"];
/// `metadata` fields that no manager owns.
const UNOWNED_METADATA_FIELDS: &[&str] =
    &["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"];
/// `metadata` fields the server sets; an applied configuration cannot change them.
const SERVER_METADATA_FIELDS: &[&str] = &["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"];

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    /// A map field, by name (`f:name`).
    Field(String),
    /// A keyed list item, by its key fields as compact JSON with sorted keys (`k:{"name":"app"}`).
    Key(String),
    /// A primitive set item, by its value as compact JSON (`v:"example.com/finalizer"`).
    Value(String),
}

/// A path from the object root to a field or list item.
type FieldPath = Vec<Segment>;
/// A set of owned fields.
type FieldSet = BTreeSet<FieldPath>;

impl Segment {
    /// The FieldsV1 key of this segment.
    fn encode(&self) -> String {
        match self {
            Segment::Field(name) => format!("f:{name}"),
            Segment::Key(key) => format!("k:{key}"),
            Segment::Value(value) => format!("v:{value}"),
        }
    }

    /// The segment of a FieldsV1 key, `None` for `.` and unknown prefixes.
    fn decode(key: &str) -> Option<Segment> {
        if let Some(name) = key.strip_prefix("f:") {
            return Some(Segment::Field(name.to_string()));
        }
        if let Some(json) = key.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(json).ok()?;
            return Some(Segment::Key(canonical_json(&parsed)));
        }
        let json = key.strip_prefix("v:")?;
        let parsed: Value = serde_json::from_str(json).ok()?;
        Some(Segment::Value(canonical_json(&parsed)))
    }

    /// The segment as it appears in a conflict message (`.image`, `[name="app"]`, `[="x"]`).
    fn display(&self) -> String {
        match self {
            Segment::Field(name) => format!(".{name}"),
            Segment::Key(key) => {
                let fields = parse_key(key).unwrap_or_default();
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", parts.join(","))
            }
            Segment::Value(value) => format!("[={value}]"),
        }
    }
}

/// Compact JSON with the top-level object keys sorted, so equal keys encode equally.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            serde_json::to_string(&sorted).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

/// The key fields of a [`Segment::Key`].
fn parse_key(key: &str) -> Option<Map<String, Value>> {
    serde_json::from_str(key).ok()
}

/// A field path in dotted form, as conflict messages show it.
fn display_path(path: &[Segment]) -> String {
    path.iter().map(Segment::display).collect()
}

/// Builds the FieldsV1 set (`{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{...}}`) of an object.
pub fn fields_v1(kind: &str, obj: &Value) -> Value {
    encode_set(&field_set(kind, obj))
}

// ---------------------------------------------------------------------------------------------------
// Field sets of objects

/// The fields an object sets (nulls are not fields).
fn field_set(kind: &str, obj: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    if let Some(map) = obj.as_object() {
        collect_map(kind, map, &[], &[], &mut out);
    }
    out
}

/// Adds the fields of a map at schema path `schema` and field path `at`.
fn collect_map(kind: &str, map: &Map<String, Value>, schema: &[&str], at: &[Segment], out: &mut FieldSet) {
    for (name, value) in map {
        if value.is_null() || is_unowned(schema, name) {
            continue;
        }
        let field_at = extend(at, Segment::Field(name.clone()));
        collect_value(kind, value, &child(schema, name), field_at, out);
    }
}

/// Adds the fields of one value: maps recurse, lists follow their strategy, anything else is a leaf.
fn collect_value(kind: &str, value: &Value, schema: &[&str], at: FieldPath, out: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => collect_map(kind, map, schema, &at, out),
        Value::Array(items) if !items.is_empty() => collect_list(kind, items, schema, at, out),
        _ => {
            out.insert(at);
        }
    }
}

/// Adds the items of a non-empty list; an atomic list (or a keyed one with unkeyed items) is one leaf.
fn collect_list(kind: &str, items: &[Value], schema: &[&str], at: FieldPath, out: &mut FieldSet) {
    match list_strategy(kind, schema) {
        ListStrategy::MergeByKey(key) if items.iter().all(|item| item_key(item, key).is_some()) => {
            for item in items {
                let Some((segment, fields)) = item_key(item, key).zip(item.as_object()) else {
                    continue;
                };
                let item_at = extend(&at, segment);
                collect_map(kind, fields, schema, &item_at, out);
                out.insert(item_at);
            }
        }
        ListStrategy::PrimitiveSet => {
            out.extend(items.iter().map(|item| extend(&at, Segment::Value(canonical_json(item)))));
        }
        _ => {
            out.insert(at);
        }
    }
}

/// The key segment of a keyed list item, `None` when it is not an object carrying the key.
fn item_key(item: &Value, key: &str) -> Option<Segment> {
    let id = item.as_object()?.get(key).filter(|id| !id.is_null())?;
    let mut fields = Map::new();
    fields.insert(key.to_string(), id.clone());
    Some(Segment::Key(canonical_json(&Value::Object(fields))))
}

/// Whether the field `name` at schema path `schema` is never owned (type and identity metadata).
fn is_unowned(schema: &[&str], name: &str) -> bool {
    match schema {
        [] => UNOWNED_ROOT_FIELDS.contains(&name),
        ["metadata"] => UNOWNED_METADATA_FIELDS.contains(&name),
        _ => false,
    }
}

/// `path` extended by one segment.
fn extend(path: &[Segment], segment: Segment) -> FieldPath {
    let mut out = path.to_vec();
    out.push(segment);
    out
}

/// A schema path extended by one field name.
fn child<'a>(path: &[&'a str], name: &'a str) -> Vec<&'a str> {
    let mut out = path.to_vec();
    out.push(name);
    out
}

// ---------------------------------------------------------------------------------------------------
// FieldsV1 encoding

/// A node of the FieldsV1 trie.
#[derive(Default)]
struct Node {
    /// Whether the path ending here is itself in the set.
    member: bool,
    children: BTreeMap<Segment, Node>,
}

impl Node {
    /// Adds a path below this node.
    fn insert(&mut self, path: &[Segment]) {
        match path.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// The FieldsV1 JSON of this node: `{}` for a leaf, `"."` first for a member with children.
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".to_string(), Value::Object(Map::new()));
        }
        for (segment, node) in &self.children {
            map.insert(segment.encode(), node.to_json());
        }
        Value::Object(map)
    }
}

/// Encodes a field set as FieldsV1.
fn encode_set(set: &FieldSet) -> Value {
    let mut root = Node::default();
    for path in set {
        root.insert(path);
    }
    root.to_json()
}

/// Decodes FieldsV1; unknown keys are skipped.
fn decode_set(fields: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    decode_into(fields, &mut Vec::new(), &mut out);
    out
}

/// Adds the paths of one FieldsV1 node found at `at`.
fn decode_into(node: &Value, at: &mut FieldPath, out: &mut FieldSet) {
    let Some(map) = node.as_object() else { return };
    if !at.is_empty() && (map.is_empty() || map.contains_key(".")) {
        out.insert(at.clone());
    }
    for (key, child) in map {
        let Some(segment) = Segment::decode(key) else {
            continue;
        };
        at.push(segment);
        decode_into(child, at, out);
        at.pop();
    }
}

// ---------------------------------------------------------------------------------------------------
// Values at field paths

/// The value at a field path, if present.
fn value_at<'v>(root: &'v Value, path: &[Segment]) -> Option<&'v Value> {
    path.iter().try_fold(root, |current, segment| match segment {
        Segment::Field(name) => current.as_object()?.get(name),
        item => {
            let items = current.as_array()?;
            items.get(item_index(items, item)?)
        }
    })
}

/// The value at a field path, mutably.
fn value_at_mut<'v>(root: &'v mut Value, path: &[Segment]) -> Option<&'v mut Value> {
    path.iter().try_fold(root, |current, segment| match segment {
        Segment::Field(name) => current.as_object_mut()?.get_mut(name),
        item => {
            let items = current.as_array_mut()?;
            let index = item_index(items, item)?;
            items.get_mut(index)
        }
    })
}

/// Removes the field or list item at a path; whether it was there.
fn remove_at(root: &mut Value, path: &[Segment]) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    match (last, value_at_mut(root, parent_path)) {
        (Segment::Field(name), Some(Value::Object(map))) => map.shift_remove(name).is_some(),
        (item, Some(Value::Array(items))) => match item_index(items, item) {
            Some(index) => {
                items.remove(index);
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// Whether a value is an empty map or list.
fn is_empty_container(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        _ => false,
    }
}

/// The index of the list item a [`Segment::Key`] or [`Segment::Value`] names.
fn item_index(items: &[Value], segment: &Segment) -> Option<usize> {
    match segment {
        Segment::Field(_) => None,
        Segment::Key(key) => {
            let fields = parse_key(key)?;
            items.iter().position(|item| fields.iter().all(|(k, v)| item.get(k) == Some(v)))
        }
        Segment::Value(json) => {
            let wanted: Value = serde_json::from_str(json).ok()?;
            items.iter().position(|item| *item == wanted)
        }
    }
}

/// Whether two objects agree at a path; maps and list items only need to exist on both sides.
fn same_at(old: &Value, new: &Value, path: &[Segment]) -> bool {
    match (value_at(old, path), value_at(new, path)) {
        (Some(Value::Object(_)), Some(Value::Object(_))) => true,
        (a, b) => a == b,
    }
}

// ---------------------------------------------------------------------------------------------------
// Changes between two versions of an object

/// What a write changed.
struct Changes {
    /// Fields added or given a new value.
    changed: FieldSet,
    /// Fields that no longer exist.
    removed: FieldSet,
}

impl Changes {
    /// Compares two versions of an object.
    fn between(kind: &str, old: &Value, new: &Value) -> Changes {
        let before = field_set(kind, old);
        let after = field_set(kind, new);
        let changed =
            after.iter().filter(|path| !before.contains(*path) || !same_at(old, new, path)).cloned().collect();
        let removed = before.difference(&after).cloned().collect();
        Changes { changed, removed }
    }

    fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------------
// managedFields entries

/// One `metadata.managedFields` entry with its field set decoded.
struct ManagedEntry {
    /// The entry as stored, `fieldsV1` included (rewritten on output).
    entry: Map<String, Value>,
    fields: FieldSet,
}

impl ManagedEntry {
    /// A fresh entry with no fields.
    fn new(manager: &str, operation: &str, api_version: &str, now: &str) -> ManagedEntry {
        let mut entry = Map::new();
        entry.insert("manager".to_string(), Value::from(manager));
        entry.insert("operation".to_string(), Value::from(operation));
        entry.insert("apiVersion".to_string(), Value::from(api_version));
        entry.insert("time".to_string(), Value::from(now));
        entry.insert("fieldsType".to_string(), Value::from("FieldsV1"));
        entry.insert("fieldsV1".to_string(), Value::Object(Map::new()));
        ManagedEntry { entry, fields: FieldSet::new() }
    }

    /// Decodes a stored entry; `None` when it is not an object.
    fn parse(value: &Value) -> Option<ManagedEntry> {
        let entry = value.as_object()?.clone();
        let fields = entry.get("fieldsV1").map(decode_set).unwrap_or_default();
        Some(ManagedEntry { entry, fields })
    }

    fn manager(&self) -> &str {
        self.entry.get("manager").and_then(Value::as_str).unwrap_or_default()
    }

    /// Whether this is the main-resource entry of `manager` for `operation`.
    fn is(&self, manager: &str, operation: &str) -> bool {
        self.manager() == manager
            && self.entry.get("operation").and_then(Value::as_str) == Some(operation)
            && !self.entry.contains_key("subresource")
    }

    /// Stamps the entry with the API version and time of a write.
    fn touch(&mut self, api_version: &str, now: &str) {
        self.entry.insert("apiVersion".to_string(), Value::from(api_version));
        self.entry.insert("time".to_string(), Value::from(now));
    }

    fn into_json(mut self) -> Value {
        self.entry.insert("fieldsV1".to_string(), encode_set(&self.fields));
        Value::Object(self.entry)
    }
}

/// The managedFields entries of an object.
fn read_managers(obj: &Value) -> Vec<ManagedEntry> {
    let entries = obj.pointer("/metadata/managedFields").and_then(Value::as_array);
    entries.into_iter().flatten().filter_map(ManagedEntry::parse).collect()
}

/// Writes the entries that still own fields to `metadata.managedFields` (removed when none do).
fn write_managers(obj: &mut Value, managers: Vec<ManagedEntry>) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let metadata = root.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let entries: Vec<Value> =
        managers.into_iter().filter(|m| !m.fields.is_empty()).map(ManagedEntry::into_json).collect();
    if entries.is_empty() {
        metadata.shift_remove("managedFields");
    } else {
        metadata.insert("managedFields".to_string(), Value::Array(entries));
    }
}

/// The index of the entry of `manager` for `operation`, created (empty) when missing.
fn entry_index(
    managers: &mut Vec<ManagedEntry>,
    manager: &str,
    operation: &str,
    api_version: &str,
    now: &str,
) -> usize {
    if let Some(index) = managers.iter().position(|m| m.is(manager, operation)) {
        return index;
    }
    managers.push(ManagedEntry::new(manager, operation, api_version, now));
    managers.len() - 1
}

/// The changed fields owned by managers other than entry `me`, in entry then path order.
fn find_conflicts(managers: &[ManagedEntry], me: usize, changes: &Changes) -> Vec<FieldConflict> {
    let others = managers.iter().enumerate().filter(|(index, _)| *index != me);
    others
        .flat_map(|(_, other)| {
            other
                .fields
                .intersection(&changes.changed)
                .map(|path| FieldConflict { manager: other.manager().to_string(), field: display_path(path) })
        })
        .collect()
}

/// Takes the changed and removed fields away from every entry but `me`.
fn transfer_ownership(managers: &mut [ManagedEntry], me: usize, changes: &Changes) {
    for (_, other) in managers.iter_mut().enumerate().filter(|(index, _)| *index != me) {
        other.fields.retain(|path| !changes.changed.contains(path) && !changes.removed.contains(path));
    }
}

/// Whether any entry owns `path` or a field below it (those sort right after `path`).
fn owned_at_or_below(managers: &[ManagedEntry], path: &[Segment]) -> bool {
    let from = (Bound::Included(path), Bound::Unbounded);
    managers.iter().any(|m| m.fields.range::<[Segment], _>(from).next().is_some_and(|owned| owned.starts_with(path)))
}

// ---------------------------------------------------------------------------------------------------
// Apply

/// Apply `config` (the applied configuration, JSON) over `live` (None when the object does not exist yet).
/// Returns the merged object with `metadata.managedFields` updated; never touches `status` unless config has it.
///
/// Null values in the configuration are ignored, as are the server-set metadata fields (`uid`,
/// `resourceVersion`, `generation`, `creationTimestamp`, `managedFields`); preconditions on them are the
/// caller's business.
pub fn server_side_apply(live: Option<&Value>, config: &Value, p: &ApplyParams) -> Result<Value, ApplyError> {
    validate_config(config, p.kind)?;
    let live = match live {
        Some(obj) if obj.is_object() => obj.clone(),
        Some(_) => {
            return Err(ApplyError::Invalid("the live object is not a JSON object".to_string()));
        }
        None => Value::Object(Map::new()),
    };
    let mut managers = read_managers(&live);
    let me = entry_index(&mut managers, p.manager, APPLY, p.api_version, p.now);
    let applied = field_set(p.kind, config);
    let previous = std::mem::replace(&mut managers[me].fields, applied);
    managers[me].touch(p.api_version, p.now);

    let mut merged = merge_value(p.kind, &live, config, &[]);
    fill_type_meta(&mut merged, p);
    prune(&mut merged, &previous, &managers);

    let changes = Changes::between(p.kind, &live, &merged);
    let conflicts = find_conflicts(&managers, me, &changes);
    if !conflicts.is_empty() && !p.force {
        return Err(ApplyError::Conflicts(conflicts));
    }
    transfer_ownership(&mut managers, me, &changes);
    write_managers(&mut merged, managers);
    Ok(merged)
}

/// Checks that the configuration is an object of the requested kind.
fn validate_config(config: &Value, kind: &str) -> Result<(), ApplyError> {
    let map =
        config.as_object().ok_or_else(|| ApplyError::Invalid("the configuration must be an object".to_string()))?;
    match map.get("kind").and_then(Value::as_str) {
        Some(found) if found != kind => {
            Err(ApplyError::Invalid(format!("the configuration is a {found}, but the request is for a {kind}")))
        }
        _ => Ok(()),
    }
}

/// Sets `apiVersion` and `kind` when the merged object lacks them.
fn fill_type_meta(obj: &mut Value, p: &ApplyParams) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    map.entry("apiVersion").or_insert_with(|| Value::from(p.api_version));
    map.entry("kind").or_insert_with(|| Value::from(p.kind));
}

/// Merges an applied value over a live one at schema path `schema`.
fn merge_value(kind: &str, live: &Value, config: &Value, schema: &[&str]) -> Value {
    match config {
        Value::Object(fields) => Value::Object(merge_map(kind, live.as_object(), fields, schema)),
        Value::Array(items) => Value::Array(merge_list(kind, live.as_array(), items, schema)),
        other => other.clone(),
    }
}

/// Merges applied map fields over live ones; nulls and server-set metadata are skipped.
fn merge_map(
    kind: &str,
    live: Option<&Map<String, Value>>,
    config: &Map<String, Value>,
    schema: &[&str],
) -> Map<String, Value> {
    let mut out = live.cloned().unwrap_or_default();
    for (name, value) in config {
        let server_set = schema == ["metadata"] && SERVER_METADATA_FIELDS.contains(&name.as_str());
        if value.is_null() || server_set {
            continue;
        }
        let merged = merge_value(kind, out.get(name).unwrap_or(&Value::Null), value, &child(schema, name));
        out.insert(name.clone(), merged);
    }
    out
}

/// Merges an applied list over a live one according to the list's strategy.
fn merge_list(kind: &str, live: Option<&Vec<Value>>, items: &[Value], schema: &[&str]) -> Vec<Value> {
    let live = live.map(Vec::as_slice).unwrap_or_default();
    match list_strategy(kind, schema) {
        ListStrategy::MergeByKey(key) if items.iter().all(|item| item_key(item, key).is_some()) => {
            merge_keyed(kind, live, items, key, schema)
        }
        ListStrategy::PrimitiveSet => {
            let mut out = live.to_vec();
            out.extend(items.iter().filter(|item| !live.contains(item)).cloned());
            out
        }
        _ => items.to_vec(),
    }
}

/// Merges applied keyed items into the live list: matches merge in place, new items are appended.
fn merge_keyed(kind: &str, live: &[Value], items: &[Value], key: &str, schema: &[&str]) -> Vec<Value> {
    let mut out = live.to_vec();
    for item in items {
        let id = item.get(key);
        match out.iter().position(|existing| existing.get(key) == id) {
            Some(index) => out[index] = merge_value(kind, &out[index], item, schema),
            None => out.push(merge_value(kind, &Value::Null, item, schema)),
        }
    }
    out
}

/// Removes the fields the manager applied before but no longer does, unless some entry still owns them.
fn prune(obj: &mut Value, previous: &FieldSet, managers: &[ManagedEntry]) {
    for path in previous {
        if !owned_at_or_below(managers, path) && remove_at(obj, path) {
            remove_emptied_parents(obj, path, managers);
        }
    }
}

/// Removes the maps and lists above `path` that its removal left empty and that nobody owns
/// (a dropped last label takes `labels` with it, a dropped last env var takes `env`).
fn remove_emptied_parents(obj: &mut Value, path: &[Segment], managers: &[ManagedEntry]) {
    let mut parent = path;
    while let Some((_, above)) = parent.split_last() {
        parent = above;
        let removable =
            !parent.is_empty() && is_empty_container(value_at(obj, parent)) && !owned_at_or_below(managers, parent);
        if !removable || !remove_at(obj, parent) {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Update

/// Record an `Update` managedFields entry for `manager` covering the fields that changed between old and new
/// (used for create/update/patch that are not apply). Mutates `new.metadata.managedFields`. Also removes those
/// fields from other managers' Apply sets if changed (ownership moves to this manager, as the apiserver does).
///
/// The entries are taken from `new` when it carries `metadata.managedFields`, else from `old`. As in the
/// apiserver, changed fields leave every other entry (Apply and Update alike), and removed fields leave all.
pub fn record_update(kind: &str, api_version: &str, manager: &str, now: &str, old: Option<&Value>, new: &mut Value) {
    let empty = Value::Object(Map::new());
    let old = old.unwrap_or(&empty);
    let carries_entries = new.pointer("/metadata/managedFields").is_some();
    let mut managers = read_managers(if carries_entries { new } else { old });
    let changes = Changes::between(kind, old, new);
    if !changes.is_empty() {
        let me = entry_index(&mut managers, manager, UPDATE, api_version, now);
        transfer_ownership(&mut managers, me, &changes);
        let mine = &mut managers[me];
        mine.fields.extend(changes.changed.iter().cloned());
        mine.fields.retain(|path| !changes.removed.contains(path));
        mine.touch(api_version, now);
    }
    write_managers(new, managers);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T1: &str = "2026-01-02T15:04:05Z";
    const T2: &str = "2026-01-02T15:05:00Z";

    fn params<'a>(kind: &'a str, api_version: &'a str, manager: &'a str, now: &'a str) -> ApplyParams<'a> {
        ApplyParams { kind, api_version, manager, force: false, now }
    }

    fn cm_params<'a>(manager: &'a str, now: &'a str) -> ApplyParams<'a> {
        params("ConfigMap", "v1", manager, now)
    }

    fn configmap(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "default"}, "data": data})
    }

    fn apply(live: Option<&Value>, config: &Value, p: &ApplyParams) -> Value {
        server_side_apply(live, config, p).expect("apply succeeds")
    }

    fn managed(obj: &Value) -> &Vec<Value> {
        obj["metadata"]["managedFields"].as_array().expect("managedFields present")
    }

    fn without_managed(obj: &Value) -> Value {
        let mut copy = obj.clone();
        if let Some(metadata) = copy["metadata"].as_object_mut() {
            metadata.shift_remove("managedFields");
        }
        copy
    }

    fn deployment(containers: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": containers}}}
        })
    }

    #[test]
    fn fields_v1_encodes_maps_keyed_lists_and_sets() {
        let obj = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "uid": "u1", "labels": {"app": "web"}, "finalizers": ["x"]},
            "spec": {"template": {"spec": {
                "containers": [{"name": "app", "image": "nginx", "args": ["-v"], "resources": {}}],
                "tolerations": [{"key": "k"}]
            }}}
        });
        let expected = json!({
            "f:metadata": {"f:finalizers": {"v:\"x\"": {}}, "f:labels": {"f:app": {}}},
            "f:spec": {"f:template": {"f:spec": {
                "f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:args": {}, "f:image": {}, "f:name": {}, "f:resources": {}}},
                "f:tolerations": {}
            }}}
        });
        assert_eq!(fields_v1("Deployment", &obj), expected);
        assert_eq!(encode_set(&decode_set(&expected)), expected, "decoding round-trips");
    }

    #[test]
    fn apply_creates_from_nothing() {
        let config = configmap(json!({"key": "a"}));
        let created = apply(None, &config, &cm_params("kubectl", T1));
        assert_eq!(without_managed(&created), config);
        assert_eq!(
            managed(&created),
            &vec![json!({
                "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T1,
                "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:key": {}}}
            })]
        );
    }

    #[test]
    fn reapplying_the_same_config_only_moves_the_time() {
        let config = configmap(json!({"key": "a", "other": "b"}));
        let created = apply(None, &config, &cm_params("kubectl", T1));
        let again = apply(Some(&created), &config, &cm_params("kubectl", T2));
        assert_eq!(without_managed(&again), without_managed(&created));
        assert_eq!(managed(&again).len(), 1);
        assert_eq!(managed(&again)[0]["time"], T2);
        assert_eq!(managed(&again)[0]["fieldsV1"], managed(&created)[0]["fieldsV1"]);
    }

    #[test]
    fn conflicting_managers_fail_then_force_moves_ownership() {
        let created = apply(None, &configmap(json!({"key": "a"})), &cm_params("kubectl", T1));
        let mut p = cm_params("helm", T2);
        let err = server_side_apply(Some(&created), &configmap(json!({"key": "b"})), &p).expect_err("conflict");
        assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"kubectl\": .data.key");
        assert!(
            matches!(&err, ApplyError::Conflicts(c) if c == &vec![FieldConflict { manager: "kubectl".into(), field: ".data.key".into() }])
        );

        p.force = true;
        let forced = apply(Some(&created), &configmap(json!({"key": "b"})), &p);
        assert_eq!(forced["data"], json!({"key": "b"}));
        let entries = managed(&forced);
        assert_eq!(entries.len(), 1, "kubectl owned nothing else: {entries:?}");
        assert_eq!(entries[0]["manager"], "helm");
        assert_eq!(entries[0]["fieldsV1"], json!({"f:data": {"f:key": {}}}));
    }

    #[test]
    fn equal_values_are_shared_without_conflict() {
        let created = apply(None, &configmap(json!({"key": "a", "mine": "1"})), &cm_params("kubectl", T1));
        let shared = apply(Some(&created), &configmap(json!({"key": "a"})), &cm_params("helm", T2));
        assert_eq!(managed(&shared).len(), 2);
        let dropped = apply(Some(&shared), &configmap(json!({"mine": "1"})), &cm_params("kubectl", T2));
        assert_eq!(dropped["data"], json!({"key": "a", "mine": "1"}), "helm still owns key");
    }

    #[test]
    fn several_conflicts_are_listed_one_per_line() {
        let created = apply(None, &configmap(json!({"a": "1", "b": "2"})), &cm_params("kubectl", T1));
        let err = server_side_apply(Some(&created), &configmap(json!({"a": "x", "b": "y"})), &cm_params("helm", T2))
            .expect_err("conflicts");
        assert_eq!(
            err.to_string(),
            "Apply failed with 2 conflicts: conflict with \"kubectl\": .data.a\nconflict with \"kubectl\": .data.b"
        );
    }

    #[test]
    fn fields_dropped_from_the_config_are_removed() {
        let created = apply(None, &configmap(json!({"key": "a", "old": "x"})), &cm_params("kubectl", T1));
        let trimmed = apply(Some(&created), &configmap(json!({"key": "a"})), &cm_params("kubectl", T2));
        assert_eq!(trimmed["data"], json!({"key": "a"}));
        assert_eq!(managed(&trimmed)[0]["fieldsV1"], json!({"f:data": {"f:key": {}}}));
    }

    #[test]
    fn keyed_containers_merge_and_dropped_ones_go() {
        let p = params("Deployment", "apps/v1", "kubectl", T1);
        let created = apply(
            None,
            &deployment(json!([{"name": "app", "image": "nginx:1.25"}, {"name": "side", "image": "busybox"}])),
            &p,
        );
        let updated = apply(Some(&created), &deployment(json!([{"name": "app", "image": "nginx:1.27"}])), &p);
        assert_eq!(updated["spec"]["template"]["spec"]["containers"], json!([{"name": "app", "image": "nginx:1.27"}]));

        let helm = params("Deployment", "apps/v1", "helm", T2);
        let with_env = apply(
            Some(&updated),
            &deployment(json!([{"name": "app", "env": [{"name": "MODE", "value": "fast"}]}])),
            &helm,
        );
        assert_eq!(
            with_env["spec"]["template"]["spec"]["containers"],
            json!([{"name": "app", "image": "nginx:1.27", "env": [{"name": "MODE", "value": "fast"}]}])
        );
        let err =
            server_side_apply(Some(&with_env), &deployment(json!([{"name": "app", "image": "nginx:1.28"}])), &helm)
                .expect_err("image is kubectl's");
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.template.spec.containers[name=\"app\"].image"
        );
    }

    #[test]
    fn dropping_the_last_entries_removes_their_map_and_list() {
        let p = params("Deployment", "apps/v1", "kubectl", T1);
        let mut first = deployment(json!([{"name": "app", "image": "nginx", "env": [{"name": "A", "value": "1"}]}]));
        first["metadata"]["labels"]["tier"] = json!("web");
        let created = apply(None, &first, &p);
        let mut second = deployment(json!([{"name": "app", "image": "nginx"}]));
        second["metadata"].as_object_mut().expect("metadata").shift_remove("labels");
        let trimmed = apply(Some(&created), &second, &p);
        assert_eq!(without_managed(&trimmed), second);
    }

    #[test]
    fn finalizers_are_owned_by_value() {
        let p = cm_params("kubectl", T1);
        let mut config = configmap(json!({"key": "a"}));
        config["metadata"]["finalizers"] = json!(["example.com/a", "example.com/b"]);
        let created = apply(None, &config, &p);
        assert_eq!(
            managed(&created)[0]["fieldsV1"]["f:metadata"],
            json!({"f:finalizers": {"v:\"example.com/a\"": {}, "v:\"example.com/b\"": {}}})
        );
        config["metadata"]["finalizers"] = json!(["example.com/b"]);
        let trimmed = apply(Some(&created), &config, &p);
        assert_eq!(trimmed["metadata"]["finalizers"], json!(["example.com/b"]));
    }

    #[test]
    fn apply_adopts_an_object_written_by_a_plain_create() {
        let mut created = configmap(json!({"key": "a"}));
        record_update("ConfigMap", "v1", "kubectl-create", T1, None, &mut created);
        let same = apply(Some(&created), &configmap(json!({"key": "a"})), &cm_params("kubectl", T2));
        assert_eq!(managed(&same).len(), 2, "ownership of an unchanged value is shared");
        let err = server_side_apply(Some(&same), &configmap(json!({"key": "b"})), &cm_params("kubectl", T2))
            .expect_err("kubectl-create still owns the value");
        assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"kubectl-create\": .data.key");
    }

    #[test]
    fn status_is_untouched_unless_applied() {
        let mut live = configmap(json!({"key": "a"}));
        live["status"] = json!({"phase": "Ready"});
        let applied = apply(Some(&live), &configmap(json!({"key": "b"})), &cm_params("kubectl", T1));
        assert_eq!(applied["status"], json!({"phase": "Ready"}));
        assert_eq!(managed(&applied)[0]["fieldsV1"], json!({"f:data": {"f:key": {}}}));
    }

    #[test]
    fn record_update_moves_ownership_so_a_later_apply_conflicts() {
        let p = params("Deployment", "apps/v1", "kubectl", T1);
        let config = deployment(json!([{"name": "app", "image": "nginx"}]));
        let created = apply(None, &config, &p);

        let mut scaled = created.clone();
        scaled["spec"]["replicas"] = json!(5);
        record_update("Deployment", "apps/v1", "kubectl-scale", T2, Some(&created), &mut scaled);
        let entries = managed(&scaled);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1]["manager"], "kubectl-scale");
        assert_eq!(entries[1]["operation"], "Update");
        assert_eq!(entries[1]["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
        assert!(entries[0]["fieldsV1"]["f:spec"].get("f:replicas").is_none(), "moved away from kubectl");

        let err = server_side_apply(Some(&scaled), &config, &p).expect_err("replicas now belongs to kubectl-scale");
        assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"kubectl-scale\": .spec.replicas");
    }

    #[test]
    fn record_update_on_create_owns_everything() {
        let mut created = configmap(json!({"key": "a"}));
        record_update("ConfigMap", "v1", "kubectl-create", T1, None, &mut created);
        let entries = managed(&created);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["fieldsV1"], json!({"f:data": {"f:key": {}}}));
        let unchanged = created.clone();
        let mut again = created.clone();
        record_update("ConfigMap", "v1", "other", T2, Some(&unchanged), &mut again);
        assert_eq!(again, unchanged, "a no-op write records nothing");
    }

    #[test]
    fn invalid_configurations_are_rejected() {
        let p = cm_params("kubectl", T1);
        assert!(matches!(server_side_apply(None, &json!("text"), &p), Err(ApplyError::Invalid(_))));
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
        assert!(matches!(server_side_apply(None, &secret, &p), Err(ApplyError::Invalid(_))));
    }
}
