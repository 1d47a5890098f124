//! The endpoints controllers: for every Service with a selector, an `Endpoints` object and an
//! `EndpointSlice` listing the matching pods' addresses (ready ones as ready, others as not ready), with
//! named target ports resolved against each pod's container ports. Services without a selector are left
//! alone: their endpoints are managed by hand (as the gateway's tests do).

use super::util::{deleting, owner_ref, pod_ready, s};
use super::{Controller, Ctx};
use crate::store::ObjectKey;
use binnacle_objects::selector::LabelSelector;
use serde_json::{Value, json};
use std::collections::HashSet;

/// See the module docs.
pub struct EndpointsController;

const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
const TRIGGER: &str = "endpoints.kubernetes.io/last-change-trigger-time";

fn resolve_port(target: Option<&Value>, pod: &Value, port: &Value) -> Option<i64> {
    match target {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(name)) => pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)?
            .iter()
            .flat_map(|c| c.get("ports").and_then(Value::as_array).cloned().unwrap_or_default())
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
            .and_then(|p| p.get("containerPort").and_then(Value::as_i64))
            .or_else(|| name.parse().ok()),
        _ => port.get("port").and_then(Value::as_i64),
    }
}

impl Controller for EndpointsController {
    fn name(&self) -> &'static str {
        "endpoint-controller"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let services = ctx.list("", "services", None);
        let pods = ctx.list("", "pods", None);
        let mut wanted: HashSet<(String, String)> = HashSet::new();
        for svc in &services {
            let ns = s(svc, "/metadata/namespace");
            let name = s(svc, "/metadata/name");
            let Some(selector) = svc.pointer("/spec/selector").filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
            else {
                continue;
            };
            if deleting(svc) {
                continue;
            }
            let Ok(selector) = LabelSelector::from_object(selector) else { continue };
            wanted.insert((ns.to_string(), name.to_string()));
            let ports: Vec<Value> = svc.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
            let members: Vec<&std::sync::Arc<Value>> = pods
                .iter()
                .filter(|p| {
                    s(p, "/metadata/namespace") == ns && selector.matches_object(p) && !s(p, "/status/podIP").is_empty()
                })
                .filter(|p| !matches!(s(p, "/status/phase"), "Succeeded" | "Failed"))
                .collect();
            let address = |p: &Value| {
                json!({"ip": s(p, "/status/podIP"), "nodeName": s(p, "/spec/nodeName"),
                       "targetRef": {"kind": "Pod", "namespace": ns, "name": s(p, "/metadata/name"), "uid": s(p, "/metadata/uid")}})
            };
            let ready: Vec<Value> = members.iter().filter(|p| pod_ready(p)).map(|p| address(p)).collect();
            let not_ready: Vec<Value> = members.iter().filter(|p| !pod_ready(p)).map(|p| address(p)).collect();
            let sample = members.first().map(|p| p.as_ref()).unwrap_or(&Value::Null);
            let ep_ports: Vec<Value> = ports
                .iter()
                .map(|p| {
                    let mut out = json!({"port": resolve_port(p.get("targetPort"), sample, p).unwrap_or(0), "protocol": p.get("protocol").cloned().unwrap_or(json!("TCP"))});
                    if let Some(n) = p.get("name").filter(|n| n.as_str().is_some_and(|s| !s.is_empty())) {
                        out["name"] = n.clone();
                    }
                    out
                })
                .collect();
            let mut subset = json!({});
            if !ready.is_empty() {
                subset["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = json!(not_ready);
            }
            let subsets = if members.is_empty() {
                json!(null)
            } else {
                subset["ports"] = json!(ep_ports);
                json!([subset])
            };
            let existing = ctx.get("", "endpoints", ns, name);
            let labels = svc.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
            match existing {
                None => {
                    let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints",
                        "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": {TRIGGER: binnacle_objects::time::format_timestamp(ctx.now)}}});
                    if !subsets.is_null() {
                        ep["subsets"] = subsets.clone();
                    }
                    ctx.create("", "endpoints", ns, ep, "endpoint-controller");
                }
                Some(ep) => {
                    if ep.get("subsets").cloned().unwrap_or(Value::Null) != subsets {
                        let now = binnacle_objects::time::format_timestamp(ctx.now);
                        ctx.modify("", "endpoints", &ep, |e| {
                            match &subsets {
                                Value::Null => {
                                    if let Some(m) = e.as_object_mut() {
                                        m.remove("subsets");
                                    }
                                }
                                v => e["subsets"] = v.clone(),
                            }
                            e["metadata"]["annotations"][TRIGGER] = json!(now);
                        });
                    }
                }
            }
            // The EndpointSlice.
            let slice_endpoints: Vec<Value> = members
                .iter()
                .map(|p| {
                    let ready = pod_ready(p);
                    json!({"addresses": [s(p, "/status/podIP")],
                           "conditions": {"ready": ready, "serving": ready, "terminating": false},
                           "nodeName": s(p, "/spec/nodeName"),
                           "targetRef": {"kind": "Pod", "namespace": ns, "name": s(p, "/metadata/name"), "uid": s(p, "/metadata/uid")}})
                })
                .collect();
            let slice_name = format!("{name}-{}", &super::util::template_hash(&json!([ns, name]))[..5]);
            let slice = ctx.get("discovery.k8s.io", "endpointslices", ns, &slice_name);
            // The real controller always sets a (possibly empty) name on slice ports; kubectl's describe needs it.
            let slice_ports: Vec<Value> = ep_ports
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    if p.get("name").is_none() {
                        p["name"] = json!("");
                    }
                    p
                })
                .collect();
            match slice {
                None => {
                    let obj = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                        "metadata": {"name": slice_name, "namespace": ns, "ownerReferences": [owner_ref(svc)],
                            "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY},
                            "generateName": format!("{name}-")},
                        "addressType": "IPv4", "endpoints": slice_endpoints, "ports": slice_ports});
                    ctx.create("discovery.k8s.io", "endpointslices", ns, obj, "endpointslice-controller");
                }
                Some(existing) => {
                    if existing.get("endpoints") != Some(&json!(slice_endpoints))
                        || existing.get("ports") != Some(&json!(slice_ports))
                    {
                        ctx.modify("discovery.k8s.io", "endpointslices", &existing, |e| {
                            e["endpoints"] = json!(slice_endpoints);
                            e["ports"] = json!(slice_ports);
                        });
                    }
                }
            }
        }
        // Endpoints this controller made for Services that are gone or lost their selector.
        if let Some(rt) = ctx.rt("", "endpoints") {
            for ep in ctx.list("", "endpoints", None) {
                let managed = ep.pointer("/metadata/annotations").and_then(|a| a.get(TRIGGER)).is_some();
                let key = (s(&ep, "/metadata/namespace").to_string(), s(&ep, "/metadata/name").to_string());
                if managed && !wanted.contains(&key) {
                    ctx.cluster.remove_now(&rt, &ObjectKey::of(&ep));
                }
            }
        }
        if let Some(rt) = ctx.rt("discovery.k8s.io", "endpointslices") {
            for slice in ctx.list("discovery.k8s.io", "endpointslices", None) {
                let managed =
                    slice.pointer("/metadata/labels/endpointslice.kubernetes.io~1managed-by").and_then(Value::as_str)
                        == Some(MANAGED_BY);
                let key = (
                    s(&slice, "/metadata/namespace").to_string(),
                    slice
                        .pointer("/metadata/labels/kubernetes.io~1service-name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                );
                if managed && !wanted.contains(&key) {
                    ctx.cluster.remove_now(&rt, &ObjectKey::of(&slice));
                }
            }
        }
    }
}
