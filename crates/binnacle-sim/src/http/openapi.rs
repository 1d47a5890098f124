//! A small synthetic OpenAPI v3: an index and one document per group-version whose PATCH operations
//! carry `x-kubernetes-group-version-kind` and the `fieldValidation` parameter. That is what kubectl needs
//! to let the server validate `apply` and `create -f` (it then sends `fieldValidation=Strict`).

use crate::registry::Registry;
use serde_json::{Map, Value, json};

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

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

/// `/openapi/v3/{api/v1 | apis/g/v}`; `None` for a group-version that is not served.
pub fn document(registry: &Registry, path: &str) -> Option<Value> {
    let (group, version) = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => (String::new(), v.to_string()),
        ["apis", g, v] => (g.to_string(), v.to_string()),
        _ => return None,
    };
    let types = registry.group_version(&group, &version);
    if types.is_empty() {
        return None;
    }
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
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.5"},
        "paths": paths,
        "components": {"schemas": {}}
    }))
}
