//! Turning an HTTP request into what it addresses: a discovery document, an OpenAPI document, or a
//! resource (collection, object, subresource), plus its query parameters and negotiated formats.

use crate::cluster::{Cluster, PatchType};
use crate::error::{ApiError, ApiResult, Reason};
use crate::registry::ResourceType;
use std::sync::Arc;

/// What a request path addresses.
#[derive(Debug)]
pub enum Target {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz` and their sub-checks.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion(String, String),
    /// `/openapi/v3`.
    OpenApiIndex,
    /// `/openapi/v3/{api/v1 | apis/g/v}`.
    OpenApiDoc(String),
    /// `/openapi/v2` (not served).
    OpenApiV2,
    /// A resource collection, object or subresource.
    Resource(ResourceRequest),
}

/// A request for a resource.
#[derive(Debug)]
pub struct ResourceRequest {
    /// The resource type.
    pub rt: Arc<ResourceType>,
    /// Namespace from the path (`None` for all namespaces or cluster-scoped).
    pub namespace: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`status`, `scale`, `log`, ...).
    pub subresource: Option<String>,
}

/// Parses a path against the cluster's registry.
pub fn parse_path(cluster: &Cluster, path: &str) -> ApiResult<Target> {
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| urlencoding::decode(s).map(|c| c.into_owned()).unwrap_or_else(|_| s.to_string()))
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["version"] => Ok(Target::Version),
        [h, ..] if matches!(*h, "healthz" | "livez" | "readyz") => Ok(Target::Health),
        ["api"] => Ok(Target::CoreVersions),
        ["apis"] => Ok(Target::Groups),
        ["openapi", "v3"] => Ok(Target::OpenApiIndex),
        ["openapi", "v3", rest @ ..] => Ok(Target::OpenApiDoc(rest.join("/"))),
        ["openapi", "v2"] | ["swagger.json"] => Ok(Target::OpenApiV2),
        ["api", "v1"] => Ok(Target::GroupVersion(String::new(), "v1".into())),
        ["api", "v1", rest @ ..] => resource_target(cluster, "", "v1", rest),
        ["apis", group] => Ok(Target::Group(group.to_string())),
        ["apis", group, version] => {
            if cluster.registry().group_version(group, version).is_empty() {
                return Err(not_found());
            }
            Ok(Target::GroupVersion(group.to_string(), version.to_string()))
        }
        ["apis", group, version, rest @ ..] => resource_target(cluster, group, version, rest),
        _ => Err(not_found()),
    }
}

fn not_found() -> ApiError {
    ApiError::new(Reason::NotFound, "the server could not find the requested resource")
}

fn resource_target(cluster: &Cluster, group: &str, version: &str, rest: &[&str]) -> ApiResult<Target> {
    let lookup = |plural: &str| cluster.registry().get(group, version, plural).ok_or_else(not_found);
    // /namespaces/{ns}/{plural}[/{name}[/{sub}]] for namespaced resources.
    if rest.len() >= 3
        && rest[0] == "namespaces"
        && let Some(rt) = cluster.registry().get(group, version, rest[2]).filter(|rt| rt.namespaced)
    {
        if rest.len() > 5 {
            return Err(not_found());
        }
        return Ok(Target::Resource(ResourceRequest {
            rt,
            namespace: Some(rest[1].to_string()),
            name: rest.get(3).map(|s| s.to_string()),
            subresource: rest.get(4).map(|s| s.to_string()),
        }));
    }
    match rest {
        [plural] => Ok(Target::Resource(ResourceRequest {
            rt: lookup(plural)?,
            namespace: None,
            name: None,
            subresource: None,
        })),
        [plural, name] => {
            let rt = lookup(plural)?;
            if rt.namespaced {
                return Err(not_found());
            }
            Ok(Target::Resource(ResourceRequest {
                rt,
                namespace: None,
                name: Some(name.to_string()),
                subresource: None,
            }))
        }
        [plural, name, sub] => {
            let rt = lookup(plural)?;
            if rt.namespaced {
                return Err(not_found());
            }
            Ok(Target::Resource(ResourceRequest {
                rt,
                namespace: None,
                name: Some(name.to_string()),
                subresource: Some(sub.to_string()),
            }))
        }
        _ => Err(not_found()),
    }
}

/// Query parameters, decoded, in order (the last value wins for single-valued lookups).
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let mut pairs = Vec::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                urlencoding::decode(&s.replace('+', " ")).map(|c| c.into_owned()).unwrap_or_else(|_| s.to_string())
            };
            pairs.push((decode(k), decode(v)));
        }
        Self(pairs)
    }

    /// A parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter, in order (`command=ls&command=-l`).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// A boolean parameter (`true`/`1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    /// An integer parameter; a malformed one is a 400.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value for query parameter {key}: {s:?} is not an integer"))
            }),
        }
    }

    /// Whether `dryRun=All` was asked for; other values are a 400.
    pub fn dry_run(&self) -> ApiResult<bool> {
        match self.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "invalid dryRun value {other:?}: the only supported value is \"All\""
            ))),
        }
    }
}

/// The response representation a client asked for in `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// Plain JSON objects.
    Json,
    /// `meta.k8s.io/v1 Table`.
    Table,
    /// `PartialObjectMetadata` / `PartialObjectMetadataList`.
    Metadata,
}

/// Picks the representation from an Accept header (the first acceptable entry wins).
pub fn representation(accept: &str) -> Representation {
    for entry in accept.split(',') {
        let entry = entry.trim();
        if entry.contains("as=Table") {
            return Representation::Table;
        }
        if entry.contains("as=PartialObjectMetadata") {
            return Representation::Metadata;
        }
        if entry.starts_with("application/json") || entry.starts_with("*/*") || entry.starts_with("application/yaml") {
            return Representation::Json;
        }
    }
    Representation::Json
}

/// Whether the client wants aggregated discovery (`apidiscovery.k8s.io/v2`).
pub fn wants_aggregated_discovery(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| first.contains("g=apidiscovery.k8s.io") && first.contains("v=v2"))
        || (accept.contains("as=APIGroupDiscoveryList")
            && accept.contains("v=v2")
            && !accept.starts_with("application/json,"))
}

/// The patch type from a PATCH Content-Type.
pub fn patch_type(content_type: &str) -> ApiResult<PatchType> {
    let ct = content_type.split(';').next().unwrap_or_default().trim();
    match ct {
        "application/json-patch+json" => Ok(PatchType::Json),
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
        "application/apply-patch+yaml" | "application/apply-patch+json" | "application/apply-patch+cbor" => {
            Ok(PatchType::Apply)
        }
        other => Err(ApiError::new(
            Reason::UnsupportedMediaType,
            format!(
                "the body of the request was in an unknown format ({other:?}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
            ),
        )),
    }
}

/// Decodes a request body (JSON, YAML or Kubernetes protobuf) into JSON.
pub fn decode_body(content_type: &str, body: &[u8]) -> ApiResult<serde_json::Value> {
    if body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty; send the object as JSON or YAML"));
    }
    let ct = content_type.split(';').next().unwrap_or_default().trim();
    if ct == "application/vnd.kubernetes.protobuf" || binnacle_protobuf::is_kubernetes_protobuf(body) {
        return binnacle_protobuf::decode(body).map_err(|e| {
            ApiError::new(
                Reason::UnsupportedMediaType,
                format!("the protobuf body could not be decoded: {e}; send the object as JSON instead"),
            )
        });
    }
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(json_err) => {
            if ct.contains("yaml") {
                serde_norway::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("the YAML body is not valid: {e}")))
            } else {
                Err(ApiError::bad_request(format!("the request body is not valid JSON: {json_err}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[test]
    fn paths() {
        let c = Cluster::new("t", Arc::new(Clock::new(1.0)), 1);
        let t = parse_path(&c, "/api/v1/namespaces/default/pods/web/log").expect("ok");
        match t {
            Target::Resource(r) => {
                assert_eq!(r.rt.plural, "pods");
                assert_eq!(r.namespace.as_deref(), Some("default"));
                assert_eq!(r.name.as_deref(), Some("web"));
                assert_eq!(r.subresource.as_deref(), Some("log"));
            }
            other => panic!("unexpected {other:?}"),
        }
        match parse_path(&c, "/api/v1/namespaces/default").expect("ok") {
            Target::Resource(r) => {
                assert_eq!((r.rt.plural.as_str(), r.name.as_deref()), ("namespaces", Some("default")))
            }
            other => panic!("unexpected {other:?}"),
        }
        match parse_path(&c, "/api/v1/namespaces/demo/status").expect("ok") {
            Target::Resource(r) => assert_eq!(r.subresource.as_deref(), Some("status")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(parse_path(&c, "/apis/nope/v1/things").is_err());
        assert!(matches!(parse_path(&c, "/apis/apps/v1").expect("ok"), Target::GroupVersion(..)));
    }

    #[test]
    fn accept_headers() {
        assert_eq!(
            representation(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            ),
            Representation::Table
        );
        assert_eq!(representation("application/vnd.kubernetes.protobuf,application/json"), Representation::Json);
        assert!(wants_aggregated_discovery(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated_discovery("application/json"));
    }
}
