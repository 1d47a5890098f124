//! Response representations: `meta.k8s.io/v1 Table` (what `kubectl get` prints) and
//! `PartialObjectMetadata` (kube-rs metadata-only calls).

use crate::registry::{Printer, ResourceType};
use binnacle_objects::table;
use jiff::Timestamp;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Borrow;

/// What each Table row carries in `object` (the `includeObject` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default): kubectl reads namespace and labels from it.
    Metadata,
    /// The whole object (`--sort-by` asks for it).
    Object,
}

impl IncludeObject {
    /// Parses the query parameter.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// The `PartialObjectMetadata` of an object.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))
    })
}

/// Row metadata for Tables: the object's metadata without managedFields (kubectl never prints them).
fn row_metadata(obj: &Value) -> Value {
    let mut metadata = serde_json::Map::new();
    if let Some(meta) = obj.get("metadata").and_then(Value::as_object) {
        for (k, v) in meta {
            if k != "managedFields" {
                metadata.insert(k.clone(), v.clone());
            }
        }
    }
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata})
}

/// A `PartialObjectMetadataList`.
pub fn partial_metadata_list<V: Borrow<Value>>(
    items: &[V],
    resource_version: u64,
    continue_token: Option<&str>,
) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "items": items.iter().map(|i| partial_metadata(i.borrow())).collect::<Vec<_>>()
    })
}

fn columns(rt: &ResourceType) -> Vec<table::ColumnDefinition> {
    match &rt.printer {
        Printer::Builtin => table::columns(&rt.group, &rt.kind),
        Printer::Custom(cols) => table::custom_columns(cols),
    }
}

fn row(rt: &ResourceType, obj: &Value, include: IncludeObject, now: Timestamp) -> Value {
    let cells = match &rt.printer {
        Printer::Builtin => table::row_cells(&rt.group, &rt.kind, obj, now),
        Printer::Custom(cols) => table::custom_row_cells(cols, obj, now),
    };
    let mut row = json!({"cells": cells});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => row["object"] = row_metadata(obj),
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    if let Some(conditions) = table::row_conditions(&rt.group, &rt.kind, obj) {
        row["conditions"] = json!(conditions);
    }
    row
}

/// A Table of objects (already in served form).
pub fn table<V: Borrow<Value>>(
    rt: &ResourceType,
    objects: &[V],
    include: IncludeObject,
    now: Timestamp,
    resource_version: u64,
    continue_token: Option<&str>,
) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(rt),
        "rows": objects.iter().map(|o| row(rt, o.borrow(), include, now)).collect::<Vec<_>>()
    })
}

/// Metadata of an object without managedFields, serialised without copying.
struct RowMetadata<'a>(&'a Value);

impl Serialize for RowMetadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let meta = self.0.get("metadata").and_then(Value::as_object);
        let mut map = serializer.serialize_map(None)?;
        for (k, v) in meta.into_iter().flatten() {
            if k != "managedFields" {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

struct RowObject<'a>(&'a Value, IncludeObject);

impl Serialize for RowObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            IncludeObject::Object => self.0.serialize(serializer),
            _ => {
                let mut s = serializer.serialize_struct("PartialObjectMetadata", 3)?;
                s.serialize_field("kind", "PartialObjectMetadata")?;
                s.serialize_field("apiVersion", "meta.k8s.io/v1")?;
                s.serialize_field("metadata", &RowMetadata(self.0))?;
                s.end()
            }
        }
    }
}

struct Row<'a> {
    rt: &'a ResourceType,
    obj: &'a Value,
    include: IncludeObject,
    now: Timestamp,
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cells = match &self.rt.printer {
            Printer::Builtin => table::row_cells(&self.rt.group, &self.rt.kind, self.obj, self.now),
            Printer::Custom(cols) => table::custom_row_cells(cols, self.obj, self.now),
        };
        let conditions = table::row_conditions(&self.rt.group, &self.rt.kind, self.obj);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("cells", &cells)?;
        if self.include != IncludeObject::None {
            map.serialize_entry("object", &RowObject(self.obj, self.include))?;
        }
        if let Some(c) = conditions {
            map.serialize_entry("conditions", &c)?;
        }
        map.end()
    }
}

/// Writes a Table of objects (served form) straight to JSON bytes, without building it as a value first.
pub fn table_bytes<V: Borrow<Value>>(
    rt: &ResourceType,
    objects: &[V],
    include: IncludeObject,
    now: Timestamp,
    resource_version: u64,
    continue_token: Option<&str>,
) -> Result<Vec<u8>, serde_json::Error> {
    struct Rows<'a, V>(&'a ResourceType, &'a [V], IncludeObject, Timestamp);
    impl<V: Borrow<Value>> Serialize for Rows<'_, V> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.1.iter().map(|o| Row {
                rt: self.0,
                obj: o.borrow(),
                include: self.2,
                now: self.3,
            }))
        }
    }
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    let mut out = Vec::with_capacity(256 + objects.len() * 400);
    let mut ser = serde_json::Serializer::new(&mut out);
    let mut map = ser.serialize_map(None)?;
    map.serialize_entry("kind", "Table")?;
    map.serialize_entry("apiVersion", "meta.k8s.io/v1")?;
    map.serialize_entry("metadata", &metadata)?;
    map.serialize_entry("columnDefinitions", &columns(rt))?;
    map.serialize_entry("rows", &Rows(rt, objects, include, now))?;
    SerializeMap::end(map)?;
    Ok(out)
}
