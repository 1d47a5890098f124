//! Response representations: `meta.k8s.io/v1 Table` (what `kubectl get` prints) and
//! `PartialObjectMetadata` (kube-rs metadata-only calls).

use crate::registry::{Printer, ResourceType};
use binnacle_objects::table;
use jiff::Timestamp;
use serde_json::{Value, json};

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

/// A `PartialObjectMetadataList`.
pub fn partial_metadata_list(items: &[Value], resource_version: u64, continue_token: Option<&str>) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "items": items.iter().map(partial_metadata).collect::<Vec<_>>()
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
        IncludeObject::Metadata => row["object"] = partial_metadata(obj),
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    if let Some(conditions) = table::row_conditions(&rt.group, &rt.kind, obj) {
        row["conditions"] = json!(conditions);
    }
    row
}

/// A Table of objects (already in served form).
pub fn table(
    rt: &ResourceType,
    objects: &[Value],
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
        "rows": objects.iter().map(|o| row(rt, o, include, now)).collect::<Vec<_>>()
    })
}
