//! Ingresses whose backend Service, IngressClass or TLS Secret is missing.

use super::{Analyzer, describe};
use crate::At;
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of, ns_of};
use binnacle_objects::pointer::get_str;
use serde_json::Value;

/// `(host, path, backend)` for the default backend and every rule path.
fn backends(ing: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    if let Some(b) = ing.at("/spec/defaultBackend") {
        out.push(("*".to_string(), "(default backend)".to_string(), b));
    }
    for rule in ing.at("/spec/rules").and_then(Value::as_array).into_iter().flatten() {
        let host = get_str(rule, "/host").unwrap_or("*").to_string();
        for path in rule.at("/http/paths").and_then(Value::as_array).into_iter().flatten() {
            if let Some(b) = path.get("backend") {
                out.push((host.clone(), get_str(path, "/path").unwrap_or("/").to_string(), b));
            }
        }
    }
    out
}

/// Reports Ingresses whose backend Service (or its port) does not exist, whose IngressClass does not exist
/// (or that name no class while none is the default), or whose TLS Secret does not exist.
pub struct IngressProblems;

impl Analyzer for IngressProblems {
    fn name(&self) -> &'static str {
        "ingress"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        snap.list("ingresses")
            .iter()
            .filter_map(|ing| {
                let (ns, name) = (ns_of(ing), name_of(ing));
                let mut problems: Vec<(Severity, String)> = Vec::new();
                let classes_read = snap.is_served("ingressclasses");
                match get_str(ing, "/spec/ingressClassName") {
                    Some(class) if classes_read && snap.get("ingressclasses", "", class).is_none() => {
                        problems.push((
                            Severity::Critical,
                            format!("IngressClass {class} does not exist: no controller serves this Ingress"),
                        ));
                    }
                    None if classes_read
                        && ing.at("/metadata/annotations/kubernetes.io~1ingress.class").is_none()
                        && !snap.list("ingressclasses").iter().any(|c| {
                            get_str(c, "/metadata/annotations/ingressclass.kubernetes.io~1is-default-class")
                                == Some("true")
                        }) =>
                    {
                        problems.push((
                            Severity::Warning,
                            "no ingressClassName and no default IngressClass: no controller may serve it".into(),
                        ));
                    }
                    _ => {}
                }
                let mut seen = std::collections::HashSet::new();
                for (host, path, backend) in backends(ing) {
                    let Some(svc_name) = get_str(backend, "/service/name") else { continue };
                    let port = backend.at("/service/port/number").and_then(Value::as_i64);
                    let port_name = get_str(backend, "/service/port/name");
                    if !seen.insert((svc_name.to_string(), port, port_name.map(str::to_string))) {
                        continue;
                    }
                    match snap.get("services", ns, svc_name) {
                        None => problems.push((
                            Severity::Critical,
                            format!("backend Service {svc_name} (host {host}, path {path}) does not exist"),
                        )),
                        Some(svc) => {
                            let ports = svc.at("/spec/ports").and_then(Value::as_array);
                            let has = ports.into_iter().flatten().any(|p| match (port, port_name) {
                                (Some(n), _) => p.get("port").and_then(Value::as_i64) == Some(n),
                                (None, Some(pn)) => get_str(p, "/name") == Some(pn),
                                (None, None) => true,
                            });
                            if !has {
                                let wanted = port.map_or(port_name.unwrap_or_default().to_string(), |n| n.to_string());
                                problems.push((
                                    Severity::Critical,
                                    format!("backend Service {svc_name} has no port {wanted} (host {host}, path {path})"),
                                ));
                            }
                        }
                    }
                }
                if snap.is_served("secrets") {
                    for tls in ing.at("/spec/tls").and_then(Value::as_array).into_iter().flatten() {
                        let Some(secret) = get_str(tls, "/secretName") else { continue };
                        if snap.get("secrets", ns, secret).is_none() {
                            let hosts: Vec<&str> = tls
                                .get("hosts")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .collect();
                            problems.push((
                                Severity::Warning,
                                format!(
                                    "TLS Secret {secret} (hosts {}) does not exist: the controller serves its default certificate",
                                    hosts.join(", ")
                                ),
                            ));
                        }
                    }
                }
                let severity = problems.iter().map(|p| p.0).min()?;
                let texts: Vec<String> = problems.into_iter().map(|p| p.1).collect();
                Some(Finding {
                    severity,
                    kind: "Ingress".into(),
                    namespace: ns.into(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: if texts.len() == 1 {
                        format!("ingress {ns}/{name}: {}", texts[0])
                    } else {
                        format!("ingress {ns}/{name}: {} (and {} more)", texts[0], texts.len() - 1)
                    },
                    evidence: Evidence { conditions: texts.clone(), events: snap.events_for("Ingress", ns, name), logs: Vec::new() },
                    likely_cause: texts.join("; "),
                    next_step: describe("Ingress", ns, name),
                })
            })
            .collect()
    }
}
