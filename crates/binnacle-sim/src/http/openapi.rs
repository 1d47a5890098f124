//! OpenAPI v3: an index and one document per group-version, as the API server serves them under
//! `/openapi/v3`.
//!
//! Each document has two halves:
//! - `paths`: for every patchable kind, its item path with PATCH and PUT operations and its collection path
//!   with POST, each carrying `x-kubernetes-group-version-kind` and the `fieldValidation` parameter. That is
//!   what kubectl needs to let the server validate `apply` and `create -f` (it then sends
//!   `fieldValidation=Strict`), and what `kubectl explain` uses to find a resource's kind. The PATCH request
//!   bodies do not list `application/strategic-merge-patch+json`, so client-side `apply` keeps using
//!   kubectl's compiled-in types for built-in kinds and a JSON merge patch for custom resources.
//! - `components.schemas`: the schemas `kubectl explain` prints. Built-in kinds get the schemas of their
//!   k8s-openapi types (generated with `schemars`, named like `io.k8s.api.apps.v1.Deployment`, with every
//!   schema they refer to); custom resources get their CRD's `openAPIV3Schema` for that version, completed
//!   as the API server does (`apiVersion`, `kind`, `metadata` as an `ObjectMeta` reference, and a `<Kind>List`
//!   schema), named like `com.example.v1.Widget`. Each kind's schema carries `x-kubernetes-group-version-kind`.
//!
//! Documents are large (`api/v1` is about 370 KB), so they are built once and shared: a group-version with
//! only built-in kinds never changes and is cached for the process; one with custom resources is cached per
//! cluster and registry generation (every CRD write bumps the generation, and with it the index hash).

use crate::cluster::Cluster;
use crate::registry::{Registry, ResourceType, StorageKey};
use crate::schema::TYPED_KINDS;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{StatusCode, header};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

const SCHEMA_PREFIX: &str = "#/components/schemas/";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const API_VERSION_DESCRIPTION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESCRIPTION: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DESCRIPTION: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DESCRIPTION: &str = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const EMBEDDED_API_VERSION_DESCRIPTION: &str = "apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const EMBEDDED_KIND_DESCRIPTION: &str = "kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

fn doc_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

/// `/openapi/v3`: one entry per group-version; the hash changes when the set of kinds changes.
pub fn index(registry: &Registry) -> Value {
    let hash = format!("{:016X}", registry.generation());
    let mut paths = Map::new();
    let mut gvs: Vec<(String, String)> = vec![(String::new(), "v1".to_string())];
    for (g, vs) in registry.groups() {
        for v in vs {
            gvs.push((g.clone(), v));
        }
    }
    for (g, v) in gvs {
        let path = doc_path(&g, &v);
        paths.insert(path.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}));
    }
    json!({"paths": paths})
}

/// A group-version document, kept JSON-encoded: `api/v1` takes milliseconds to encode, and kubectl fetches
/// the document for every `apply`.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document as JSON.
    pub json: Bytes,
}

impl Document {
    fn new(value: &Value) -> Self {
        Self { json: Bytes::from(serde_json::to_vec(value).unwrap_or_default()) }
    }

    /// The `200 OK` response carrying the document.
    pub fn response(&self) -> Response {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(self.json.clone()))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

/// `/openapi/v3/{api/v1 | apis/g/v}`; `None` for a group-version that is not served.
pub fn document(cluster: &Arc<Cluster>, path: &str) -> Option<Document> {
    let (group, version) = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => (String::new(), v.to_string()),
        ["apis", g, v] => (g.to_string(), v.to_string()),
        _ => return None,
    };
    let registry = cluster.registry();
    // Read the generation before the types: a document built from newer types than its generation says is
    // replaced at the next request, never the other way round.
    let generation = registry.generation();
    let types = registry.group_version(&group, &version);
    if types.is_empty() {
        return None;
    }
    if types.iter().all(|t| !t.custom) {
        return Some(builtin_document(&group, &version, &types));
    }
    Some(custom_document(cluster, &group, &version, generation, &types))
}

// ------------------------------------------------------------------------------------------ caches

type GroupVersion = (String, String);
type Schemas = Map<String, Value>;

/// Documents of group-versions with only built-in kinds: the same for every cluster, built once.
fn builtin_document(group: &str, version: &str, types: &[Arc<ResourceType>]) -> Document {
    static CACHE: OnceLock<Mutex<HashMap<GroupVersion, Document>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (group.to_string(), version.to_string());
    if let Some(doc) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return doc.clone();
    }
    let doc = Document::new(&build_document(None, group, version, types));
    cache.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(doc).clone()
}

struct CustomDocument {
    /// The cluster the document describes. A `Weak` keeps the allocation, so the address is not reused by
    /// another cluster while the entry exists; dropped clusters' entries are pruned.
    cluster: Weak<Cluster>,
    group: String,
    version: String,
    generation: u64,
    doc: Document,
}

/// Documents of group-versions with custom resources, per cluster and registry generation.
fn custom_document(
    cluster: &Arc<Cluster>,
    group: &str,
    version: &str,
    generation: u64,
    types: &[Arc<ResourceType>],
) -> Document {
    static CACHE: Mutex<Vec<CustomDocument>> = Mutex::new(Vec::new());
    let same_cluster = |e: &CustomDocument| std::ptr::eq(e.cluster.as_ptr(), Arc::as_ptr(cluster));
    {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|e| {
            e.cluster.strong_count() > 0
                && !(same_cluster(e) && e.group == group && e.version == version && e.generation < generation)
        });
        if let Some(e) = cache
            .iter()
            .find(|e| same_cluster(e) && e.group == group && e.version == version && e.generation == generation)
        {
            return e.doc.clone();
        }
    }
    let doc = Document::new(&build_document(Some(cluster), group, version, types));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.push(CustomDocument {
        cluster: Arc::downgrade(cluster),
        group: group.to_string(),
        version: version.to_string(),
        generation,
        doc: doc.clone(),
    });
    doc
}

/// The component schemas of the built-in kinds served at a group-version, built once per process.
fn builtin_schemas(group: &str, version: &str) -> Arc<Schemas> {
    static CACHE: OnceLock<Mutex<HashMap<GroupVersion, Arc<Schemas>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (group.to_string(), version.to_string());
    if let Some(schemas) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return schemas.clone();
    }
    let schemas = Arc::new(generate_builtin_schemas(group, version));
    cache.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(schemas).clone()
}

/// `ObjectMeta`, `ListMeta` and what they refer to, for custom resources' documents.
fn meta_schemas() -> &'static Map<String, Value> {
    static META: OnceLock<Map<String, Value>> = OnceLock::new();
    META.get_or_init(|| {
        let mut generator = SchemaSettings::openapi3().into_generator();
        generator.subschema_for::<ObjectMeta>();
        generator.subschema_for::<ListMeta>();
        generator.take_definitions(true)
    })
}

// ------------------------------------------------------------------------------------------ building

fn build_document(cluster: Option<&Arc<Cluster>>, group: &str, version: &str, types: &[Arc<ResourceType>]) -> Value {
    let mut schemas = Map::new();
    if types.iter().any(|t| !t.custom) {
        schemas.extend(builtin_schemas(group, version).iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if let Some(cluster) = cluster.filter(|_| types.iter().any(|t| t.custom)) {
        for (name, schema) in meta_schemas() {
            schemas.entry(name.clone()).or_insert_with(|| schema.clone());
        }
        let crds = cluster.list_all(&StorageKey::new("apiextensions.k8s.io", "customresourcedefinitions"), None);
        for rt in types.iter().filter(|t| t.custom) {
            let crd = crds.iter().find(|crd| {
                crd.pointer("/spec/group").and_then(Value::as_str) == Some(group)
                    && crd.pointer("/spec/names/plural").and_then(Value::as_str) == Some(rt.plural.as_str())
            });
            if let Some(crd) = crd {
                custom_schemas(crd, rt, &mut schemas);
            }
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.5"},
        "paths": paths(group, version, types),
        "components": {"schemas": schemas}
    })
}

fn gvk_extension(group: &str, version: &str, kind: &str) -> Value {
    json!([{"group": group, "kind": kind, "version": version}])
}

/// Schemas of the built-in kinds at a group-version from their k8s-openapi types, `$ref`s pointing at
/// `#/components/schemas/<name>` and references with siblings wrapped in `allOf`, as the API server has them.
fn generate_builtin_schemas(group: &str, version: &str) -> Map<String, Value> {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let kinds: Vec<_> = TYPED_KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| (k, k.add_schema(&mut generator)))
        .collect();
    let mut schemas = generator.take_definitions(true);
    for (k, name) in kinds {
        let Some(Value::Object(schema)) = schemas.get_mut(&name) else { continue };
        schema.insert("x-kubernetes-group-version-kind".into(), gvk_extension(k.group, k.version, k.kind));
        // k8s-openapi makes `metadata` required (its field is not optional); the API server does not.
        if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|r| r != "metadata");
            if required.is_empty() {
                schema.remove("required");
            }
        }
    }
    schemas
}

/// `example.com`, `v1`, `Widget` -> `com.example.v1.Widget` (the API server's REST-friendly name).
fn custom_schema_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("{SCHEMA_PREFIX}{name}")})
}

fn ref_with_description(name: &str, description: &str) -> Value {
    json!({"description": description, "allOf": [schema_ref(name)]})
}

/// Adds a custom resource's schema and its list's schema for one served version of its CRD.
fn custom_schemas(crd: &Value, rt: &ResourceType, schemas: &mut Map<String, Value>) {
    let version = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| vs.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(rt.version.as_str())));
    let declared = version.and_then(|v| v.pointer("/schema/openAPIV3Schema")).and_then(Value::as_object);
    let mut schema = match declared {
        Some(s) if !s.is_empty() => {
            let mut s = s.clone();
            let properties = s.entry("properties").or_insert_with(|| json!({}));
            if let Value::Object(properties) = properties {
                properties.insert("metadata".into(), ref_with_description(OBJECT_META, METADATA_DESCRIPTION));
                properties
                    .insert("apiVersion".into(), json!({"description": API_VERSION_DESCRIPTION, "type": "string"}));
                properties.insert("kind".into(), json!({"description": KIND_DESCRIPTION, "type": "string"}));
            }
            let mut s = Value::Object(s);
            add_embedded_properties(&mut s);
            s
        }
        // No schema: an object of any shape.
        _ => json!({"type": "object"}),
    };
    schema["x-kubernetes-group-version-kind"] = gvk_extension(&rt.group, &rt.version, &rt.kind);
    let name = custom_schema_name(&rt.group, &rt.version, &rt.kind);

    let list_kind = crd.pointer("/spec/names/listKind").and_then(Value::as_str).map(str::to_string);
    let list_kind = list_kind.unwrap_or_else(|| rt.list_kind());
    let list = json!({
        "description": format!("{list_kind} is a list of {}", rt.kind),
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": API_VERSION_DESCRIPTION, "type": "string"},
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", rt.plural),
                "type": "array",
                "items": schema_ref(&name),
            },
            "kind": {"description": KIND_DESCRIPTION, "type": "string"},
            "metadata": ref_with_description(LIST_META, LIST_METADATA_DESCRIPTION),
        },
        "x-kubernetes-group-version-kind": gvk_extension(&rt.group, &rt.version, &list_kind),
    });
    schemas.insert(custom_schema_name(&rt.group, &rt.version, &list_kind), list);
    schemas.insert(name, schema);
}

/// Objects embedded in a custom resource (`x-kubernetes-embedded-resource`) get `apiVersion`, `kind` and
/// `metadata` too, the first two required.
fn add_embedded_properties(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else { return };
    if let Some(Value::Object(properties)) = obj.get_mut("properties") {
        properties.values_mut().for_each(add_embedded_properties);
    }
    if let Some(items) = obj.get_mut("items") {
        add_embedded_properties(items);
    }
    if let Some(additional) = obj.get_mut("additionalProperties").filter(|a| a.is_object()) {
        add_embedded_properties(additional);
    }
    if obj.get("x-kubernetes-embedded-resource") != Some(&Value::Bool(true)) {
        return;
    }
    let properties = obj.entry("properties").or_insert_with(|| json!({}));
    if let Value::Object(properties) = properties {
        properties
            .insert("apiVersion".into(), json!({"description": EMBEDDED_API_VERSION_DESCRIPTION, "type": "string"}));
        properties.insert("kind".into(), json!({"description": EMBEDDED_KIND_DESCRIPTION, "type": "string"}));
        properties.insert("metadata".into(), ref_with_description(OBJECT_META, METADATA_DESCRIPTION));
    }
    let required = obj.entry("required").or_insert_with(|| json!([]));
    if let Value::Array(required) = required {
        for field in ["kind", "apiVersion"] {
            if !required.iter().any(|r| r == field) {
                required.push(json!(field));
            }
        }
    }
}

// ------------------------------------------------------------------------------------------ paths

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn paths(group: &str, version: &str, types: &[Arc<ResourceType>]) -> Map<String, Value> {
    let prefix = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
    let mut paths = Map::new();
    for rt in types.iter().filter(|rt| rt.verbs.iter().any(|v| v == "patch")) {
        let item = if rt.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", rt.plural)
        } else {
            format!("{prefix}/{}/{{name}}", rt.plural)
        };
        let gvk = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
        let body_types =
            ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];
        let content: Map<String, Value> =
            body_types.iter().map(|t| (t.to_string(), json!({"schema": {"type": "object"}}))).collect();
        let operation = json!({
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
            "operationId": format!("patch{}", rt.kind),
            "parameters": [
                query_param("dryRun", "When present, indicates that modifications should not be persisted."),
                query_param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
                query_param("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields."),
                query_param("force", "Force is going to \"force\" Apply requests."),
            ],
            "requestBody": {"content": content, "required": true},
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}
        });
        let mut ops = Map::new();
        ops.insert("patch".into(), operation.clone());
        let mut put = operation;
        put["x-kubernetes-action"] = json!("put");
        put["operationId"] = json!(format!("replace{}", rt.kind));
        ops.insert("put".into(), put);
        paths.insert(item, Value::Object(ops));
        let collection = if rt.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", rt.plural)
        } else {
            format!("{prefix}/{}", rt.plural)
        };
        let post = json!({
            "x-kubernetes-action": "post",
            "x-kubernetes-group-version-kind": gvk,
            "operationId": format!("create{}", rt.kind),
            "parameters": [query_param("dryRun", ""), query_param("fieldManager", ""), query_param("fieldValidation", "")],
            "responses": {"201": {"description": "Created"}}
        });
        paths.insert(collection, json!({"post": post}));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use std::time::Instant;

    fn parse(doc: &Document) -> Value {
        serde_json::from_slice(&doc.json).expect("JSON document")
    }

    fn cluster() -> Arc<Cluster> {
        Arc::new(Cluster::new("t", Arc::new(Clock::new(1.0)), 1))
    }

    #[test]
    fn builtin_documents_carry_kind_schemas() {
        // Generation and encoding costs, uncached (`-- --nocapture` shows them).
        for (g, v) in [("", "v1"), ("apps", "v1")] {
            let started = Instant::now();
            let schemas = generate_builtin_schemas(g, v);
            let generated = started.elapsed();
            let count = schemas.len();
            let value = json!({"components": {"schemas": schemas}});
            let started = Instant::now();
            let encoded = Document::new(&value);
            eprintln!(
                "{}: {count} schemas generated in {generated:?}, {} bytes of schemas encoded in {:?}",
                doc_path(g, v),
                encoded.json.len(),
                started.elapsed()
            );
        }
        let c = cluster();
        let core = document(&c, "api/v1").expect("api/v1");
        let apps = document(&c, "apis/apps/v1").expect("apps/v1");
        eprintln!("served: api/v1 {} bytes, apis/apps/v1 {} bytes", core.json.len(), apps.json.len());
        let started = Instant::now();
        let again = document(&c, "api/v1").expect("api/v1");
        eprintln!("cached lookup {:?}", started.elapsed());
        assert_eq!(core.json.as_ptr(), again.json.as_ptr(), "built once");
        let (core, apps) = (parse(&core), parse(&apps));
        let deployment = &apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            deployment["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert!(deployment.get("required").is_none(), "{deployment}");
        assert_eq!(
            deployment["properties"]["spec"],
            json!({"description": "Specification of the desired behavior of the Deployment.",
                   "allOf": [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}]})
        );
        let spec = &apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"];
        assert_eq!(spec["required"], json!(["selector", "template"]));
        // Every reference resolves within the document.
        for doc in [&core, &apps] {
            let text = doc.to_string();
            for piece in text.split("\"$ref\":\"").skip(1) {
                let target = piece.split('"').next().unwrap_or_default();
                let name = target.strip_prefix(SCHEMA_PREFIX).unwrap_or_else(|| panic!("ref {target}"));
                assert!(doc["components"]["schemas"].get(name).is_some(), "dangling {target}");
            }
        }
        let pod = &core["components"]["schemas"]["io.k8s.api.core.v1.Pod"];
        assert_eq!(pod["x-kubernetes-group-version-kind"][0]["kind"], "Pod");
        assert!(core["components"]["schemas"].get("io.k8s.api.apps.v1.Deployment").is_none());
    }

    #[test]
    fn custom_resources_get_their_crd_schema() {
        let c = cluster();
        let generation = c.registry().generation();
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                    "type": "object", "description": "A widget.",
                    "properties": {"spec": {"type": "object", "description": "What the widget should be.",
                        "properties": {"size": {"type": "integer", "description": "How big."},
                                       "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                                    "x-kubernetes-preserve-unknown-fields": true}}}}}}}]}
        });
        let rt = c.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions").expect("crd type");
        c.create(&rt, "", crd, &Default::default()).expect("create crd");
        assert!(c.registry().generation() > generation);
        let encoded = document(&c, "apis/example.com/v1").expect("example.com/v1");
        let doc = parse(&encoded);
        let schemas = &doc["components"]["schemas"];
        let widget = &schemas["com.example.v1.Widget"];
        assert_eq!(
            widget["x-kubernetes-group-version-kind"],
            json!([{"group": "example.com", "kind": "Widget", "version": "v1"}])
        );
        assert_eq!(widget["description"], "A widget.");
        assert_eq!(widget["properties"]["spec"]["properties"]["size"]["type"], "integer");
        assert_eq!(widget["properties"]["metadata"]["allOf"][0]["$ref"], format!("{SCHEMA_PREFIX}{OBJECT_META}"));
        assert_eq!(widget["properties"]["kind"]["type"], "string");
        let template = &widget["properties"]["spec"]["properties"]["template"];
        assert_eq!(template["required"], json!(["kind", "apiVersion"]));
        assert!(schemas.get(OBJECT_META).is_some() && schemas.get(LIST_META).is_some());
        assert_eq!(schemas["com.example.v1.WidgetList"]["x-kubernetes-group-version-kind"][0]["kind"], "WidgetList");
        assert!(doc["paths"].get("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}").is_some());
        let again = document(&c, "apis/example.com/v1").expect("cached");
        assert_eq!(encoded.json.as_ptr(), again.json.as_ptr());
        // Another cluster with the same generation does not see this one's document.
        let other = cluster();
        assert!(document(&other, "apis/example.com/v1").is_none());
    }
}
