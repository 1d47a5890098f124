//! Requests that are not plain CRUD: access reviews, `whoami`, service-account tokens, the scale
//! subresource, pod evictions and bindings, and the metrics API.

use super::request::{self, Query, ResourceRequest};
use crate::behavior;
use crate::cluster::{Cluster, DeleteOptions, Part, PatchType, WriteOptions};
use crate::error::{ApiError, ApiResult, Reason};
use crate::registry::ResourceType;
use crate::store::ObjectKey;
use binnacle_objects::selector::LabelSelector;
use binnacle_objects::time::format_timestamp;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

/// The identity every request to the simulated cluster runs as.
pub const USERNAME: &str = "sim-admin";

/// Answers SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview.
pub fn review(cluster: &Cluster, rt: &ResourceType, mut obj: Value) -> ApiResult<Value> {
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    if obj.get("metadata").is_none_or(Value::is_null) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]["creationTimestamp"] = json!(cluster.now_string());
    match rt.kind.as_str() {
        "SelfSubjectAccessReview" => {
            let attrs = obj.pointer("/spec/resourceAttributes").or_else(|| obj.pointer("/spec/nonResourceAttributes"));
            if attrs.is_none() {
                return Err(ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    "",
                    vec![crate::error::invalid_field(
                        "spec.resourceAttributes",
                        "Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    )],
                ));
            }
            obj["status"] =
                json!({"allowed": true, "reason": "the simulated cluster grants its admin user every permission"});
        }
        "SelfSubjectRulesReview" => {
            obj["status"] = json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false
            });
        }
        "SelfSubjectReview" => {
            obj["status"] =
                json!({"userInfo": {"username": USERNAME, "groups": ["system:masters", "system:authenticated"]}});
        }
        other => return Err(ApiError::new(Reason::MethodNotAllowed, format!("{other} cannot be created"))),
    }
    Ok(obj)
}

/// `serviceaccounts/{name}/token`: a TokenRequest answered with a simulated token.
pub fn token(cluster: &Cluster, namespace: &str, name: &str, mut request: Value) -> ApiResult<Value> {
    let sas = cluster.resource("", "v1", "serviceaccounts")?;
    cluster.get_raw(&sas, namespace, name)?;
    let seconds = request.pointer("/spec/expirationSeconds").and_then(Value::as_i64).unwrap_or(3600);
    let expires = cluster.clock().now() + jiff::SignedDuration::from_secs(seconds);
    request["apiVersion"] = json!("authentication.k8s.io/v1");
    request["kind"] = json!("TokenRequest");
    request["metadata"] = json!({"name": name, "namespace": namespace, "creationTimestamp": cluster.now_string()});
    request["status"] = json!({
        "token": format!("sim-token.{namespace}.{name}.{}", cluster.random_suffix(24)),
        "expirationTimestamp": format_timestamp(expires)
    });
    Ok(request)
}

fn json_path_pointer(path: &str) -> String {
    path.trim_start_matches('.').split('.').fold(String::new(), |acc, p| format!("{acc}/{p}"))
}

fn scale_paths(rt: &ResourceType) -> (String, String, Option<String>) {
    match &rt.scale {
        Some(s) => (
            json_path_pointer(&s.spec_replicas),
            json_path_pointer(&s.status_replicas),
            s.label_selector.as_deref().map(json_path_pointer),
        ),
        None => ("/spec/replicas".into(), "/status/replicas".into(), None),
    }
}

fn to_scale(rt: &ResourceType, obj: &Value) -> Value {
    let (spec_p, status_p, selector_p) = scale_paths(rt);
    let selector = match selector_p {
        Some(p) => obj.pointer(&p).and_then(Value::as_str).unwrap_or_default().to_string(),
        None => obj
            .pointer("/spec/selector")
            .map(|s| LabelSelector::from_object(s).map(|l| l.to_selector_string()).unwrap_or_default())
            .unwrap_or_default(),
    };
    let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"), "namespace": meta.get("namespace"), "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"), "creationTimestamp": meta.get("creationTimestamp")
        },
        "spec": {"replicas": obj.pointer(&spec_p).and_then(Value::as_i64).unwrap_or(0)},
        "status": {"replicas": obj.pointer(&status_p).and_then(Value::as_i64).unwrap_or(0), "selector": selector}
    })
}

/// The scale subresource: GET, PUT and PATCH of an `autoscaling/v1 Scale`.
#[allow(clippy::too_many_arguments)]
pub fn scale(
    cluster: &Cluster,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    method: &Method,
    content_type: &str,
    body: Bytes,
    query: &Query,
    headers: &HeaderMap,
) -> ApiResult<(StatusCode, Value)> {
    if !rt.has_subresource("scale") {
        return Err(ApiError::new(
            Reason::NotFound,
            format!("the server could not find the requested resource ({}/scale)", rt.plural),
        ));
    }
    let live = cluster.get(rt, namespace, name)?;
    let current = to_scale(rt, &live);
    let desired = match *method {
        Method::GET => return Ok((StatusCode::OK, current)),
        Method::PUT => request::decode_body(content_type, &body)?,
        Method::PATCH => {
            let patch_type = request::patch_type(content_type)?;
            let patch = request::decode_body("application/json", &body)?;
            let mut target = current.clone();
            match patch_type {
                PatchType::Merge | PatchType::Strategic | PatchType::Apply => json_patch::merge(&mut target, &patch),
                PatchType::Json => crate::jsonpatch::apply(&mut target, &patch)?,
            }
            target
        }
        _ => return Err(ApiError::new(Reason::MethodNotAllowed, "scale supports GET, PUT and PATCH")),
    };
    let replicas = desired.pointer("/spec/replicas").and_then(Value::as_i64).ok_or_else(|| {
        ApiError::invalid("autoscaling", "Scale", name, vec![crate::error::required_field("spec.replicas")])
    })?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![crate::error::invalid_field(
                "spec.replicas",
                format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            )],
        ));
    }
    let (spec_p, _, _) = scale_paths(rt);
    let mut updated = live.clone();
    let parent = spec_p.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    if updated.pointer(parent).is_none() {
        updated["spec"] = json!({});
    }
    if let Some(slot) = updated.pointer_mut(&spec_p) {
        *slot = json!(replicas);
    } else if let Some(obj) = updated.pointer_mut(parent).and_then(Value::as_object_mut) {
        obj.insert(spec_p.rsplit('/').next().unwrap_or("replicas").to_string(), json!(replicas));
    }
    let mut opts = WriteOptions { dry_run: query.dry_run()?, ..Default::default() };
    opts.manager = query.get("fieldManager").map(str::to_string).unwrap_or_else(|| {
        headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .and_then(|a| a.split('/').next())
            .unwrap_or("unknown")
            .to_string()
    });
    if let Some(m) = updated.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    let stored = cluster.update(rt, namespace, name, updated, Part::Main, &opts)?;
    Ok((StatusCode::OK, to_scale(rt, &stored)))
}

/// `pods/{name}/eviction`: refused with 429 when a PodDisruptionBudget allows no disruption. A dry run
/// (`dryRun=All` on the request, as kube-rs sends it, or in the Eviction's deleteOptions) checks the same
/// and deletes nothing.
pub fn evict(cluster: &Cluster, namespace: &str, name: &str, eviction: &Value, dry_run: bool) -> ApiResult<()> {
    let pods = cluster.resource("", "v1", "pods")?;
    let pod = cluster.get_raw(&pods, namespace, name)?;
    let pdbs = cluster.resource("policy", "v1", "poddisruptionbudgets")?;
    for pdb in cluster.list_all(&pdbs.storage, Some(namespace)) {
        let Some(sel) = pdb.pointer("/spec/selector") else { continue };
        let Ok(sel) = LabelSelector::from_object(sel) else { continue };
        if sel.is_empty() || !sel.matches_object(&pod) {
            continue;
        }
        let allowed = pdb.pointer("/status/disruptionsAllowed").and_then(Value::as_i64).unwrap_or(0);
        if allowed <= 0 {
            let pdb_name = pdb.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
            let mut err = ApiError::new(
                Reason::TooManyRequests,
                "Cannot evict pod as it would violate the pod's disruption budget.",
            );
            err.causes.push(crate::error::Cause {
                reason: "DisruptionBudget".into(),
                message: format!(
                    "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                    pdb.pointer("/status/desiredHealthy").and_then(Value::as_i64).unwrap_or(0),
                    pdb.pointer("/status/currentHealthy").and_then(Value::as_i64).unwrap_or(0)
                ),
                field: String::new(),
            });
            return Err(err);
        }
    }
    let grace = eviction.pointer("/deleteOptions/gracePeriodSeconds").and_then(Value::as_i64);
    let dry_run = dry_run
        || eviction
            .pointer("/deleteOptions/dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x == "All"));
    cluster.delete(&pods, namespace, name, &DeleteOptions { grace_period: grace, dry_run, ..Default::default() })?;
    Ok(())
}

/// `pods/{name}/binding`: assigns a node (with `dry_run`, only checks that it could).
pub fn bind(cluster: &Cluster, namespace: &str, name: &str, binding: &Value, dry_run: bool) -> ApiResult<()> {
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid("", "Binding", name, vec![crate::error::required_field("target.name")]))?;
    let pods = cluster.resource("", "v1", "pods")?;
    let pod = cluster.get_raw(&pods, namespace, name)?;
    if pod.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty()) {
        return Err(ApiError::conflict("", "pods", name, "pod is already assigned to a node"));
    }
    if dry_run {
        return Ok(());
    }
    let node = node.to_string();
    cluster.modify(&pods, &ObjectKey::new(namespace, name), |p| p["spec"]["nodeName"] = json!(node));
    Ok(())
}

/// `metrics.k8s.io/v1beta1` pods and nodes, computed from the running pods.
pub fn metrics(cluster: &Cluster, r: &ResourceRequest, method: &Method, labels: &LabelSelector) -> ApiResult<Value> {
    if method != Method::GET {
        return Err(ApiError::new(Reason::MethodNotAllowed, "the metrics API is read-only"));
    }
    let now = cluster.clock().now();
    let pods_rt = cluster.resource("", "v1", "pods")?;
    let pods =
        cluster.list_all(&pods_rt.storage, if r.rt.kind == "PodMetrics" { r.namespace.as_deref() } else { None });
    if r.rt.kind == "PodMetrics" {
        let mut items: Vec<Value> =
            pods.iter().filter(|p| labels.matches_object(p)).filter_map(|p| behavior::pod_metrics(p, now)).collect();
        if let Some(name) = &r.name {
            return items
                .into_iter()
                .find(|m| m.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
                .ok_or_else(|| ApiError::not_found("metrics.k8s.io", "pods", name));
        }
        items.sort_by_key(|m| {
            (
                m.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string),
                m.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string),
            )
        });
        return Ok(
            json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}),
        );
    }
    let nodes_rt = cluster.resource("", "v1", "nodes")?;
    let nodes = cluster.list_all(&nodes_rt.storage, None);
    let mut items = Vec::new();
    for node in &nodes {
        let node_name = node.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        if r.name.as_deref().is_some_and(|n| n != node_name) || !labels.matches_object(node) {
            continue;
        }
        let on_node: Vec<&Value> = pods
            .iter()
            .filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node_name))
            .map(|p| p.as_ref())
            .collect();
        items.push(behavior::node_metrics(node, &on_node, now));
    }
    if let Some(name) = &r.name {
        return items.into_iter().next().ok_or_else(|| ApiError::not_found("metrics.k8s.io", "nodes", name));
    }
    Ok(json!({"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}))
}
