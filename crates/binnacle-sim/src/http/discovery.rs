//! API discovery, both legacy (`/api`, `/apis`, one document per group-version) and aggregated
//! (`apidiscovery.k8s.io/v2`, recognised by kubectl through its Content-Type).

use crate::registry::{Registry, ResourceType};
use serde_json::{Value, json};

/// The Content-Type that marks an aggregated discovery document.
pub const AGGREGATED_CONTENT_TYPE: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/version`: minor 32 so that the kubectl dispatcher picks kubectl 1.32.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.5-binnacle-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api` (legacy).
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(json!({}))})
}

/// `/apis` (legacy).
pub fn groups(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry.groups().iter().map(|(g, vs)| group_entry(g, vs)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}` (legacy); `None` for an unknown group.
pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let (g, vs) = registry.groups().into_iter().find(|(g, _)| g == name)?;
    let mut entry = group_entry(&g, &vs);
    entry["kind"] = json!("APIGroup");
    entry["apiVersion"] = json!("v1");
    Some(entry)
}

/// `(kind group, version, kind, verbs)` of a subresource.
fn subresource_info(rt: &ResourceType, sub: &str) -> (String, String, String, Vec<&'static str>) {
    let own = || (rt.group.clone(), rt.version.clone(), rt.kind.clone());
    let (g, v, k) = match sub {
        "scale" => ("autoscaling".into(), "v1".into(), "Scale".into()),
        "eviction" => ("policy".into(), "v1".into(), "Eviction".into()),
        "exec" => (String::new(), "v1".into(), "PodExecOptions".into()),
        "binding" => (String::new(), "v1".into(), "Binding".into()),
        "token" => ("authentication.k8s.io".into(), "v1".into(), "TokenRequest".into()),
        "proxy" => (String::new(), "v1".into(), "NodeProxyOptions".into()),
        _ => own(),
    };
    let verbs = match sub {
        "status" | "scale" | "ephemeralcontainers" => vec!["get", "patch", "update"],
        "log" => vec!["get"],
        "eviction" | "binding" | "token" => vec!["create"],
        "exec" => vec!["create", "get"],
        "finalize" => vec!["update"],
        _ => vec!["get"],
    };
    (g, v, k, verbs)
}

/// `/api/v1` or `/apis/{g}/{v}` (legacy `APIResourceList`).
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for rt in registry.group_version(group, version) {
        let mut r = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs,
        });
        if !rt.short_names.is_empty() {
            r["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            r["categories"] = json!(rt.categories);
        }
        resources.push(r);
        for sub in &rt.subresources {
            let (g, v, k, verbs) = subresource_info(&rt, sub);
            let mut s = json!({"name": format!("{}/{sub}", rt.plural), "singularName": "", "namespaced": rt.namespaced, "kind": k, "verbs": verbs});
            if g != rt.group || v != rt.version {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

fn aggregated_resource(rt: &ResourceType) -> Value {
    let mut r = json!({
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": rt.singular,
        "verbs": rt.verbs,
    });
    if !rt.short_names.is_empty() {
        r["shortNames"] = json!(rt.short_names);
    }
    if !rt.categories.is_empty() {
        r["categories"] = json!(rt.categories);
    }
    let subs: Vec<Value> = rt
        .subresources
        .iter()
        .map(|sub| {
            let (g, v, k, verbs) = subresource_info(rt, sub);
            json!({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": k}, "verbs": verbs})
        })
        .collect();
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

fn aggregated_group(registry: &Registry, group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> =
                registry.group_version(group, v).iter().map(|rt| aggregated_resource(rt)).collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

/// `/api` with aggregated discovery.
pub fn aggregated_core(registry: &Registry) -> Value {
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [aggregated_group(registry, "", &["v1".to_string()])]
    })
}

/// `/apis` with aggregated discovery.
pub fn aggregated_groups(registry: &Registry) -> Value {
    let items: Vec<Value> = registry.groups().iter().map(|(g, vs)| aggregated_group(registry, g, vs)).collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
