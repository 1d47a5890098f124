//! Networking tables: Ingress, IngressClass, NetworkPolicy (networking.k8s.io) and EndpointSlice
//! (discovery.k8s.io).

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::util::{
    AGE, NAME, age_cell, arr_at, as_int, cell, col, format_label_selector, load_balancer_addresses, name, opt_str,
    present, str_at,
};

/// A list capped at three entries, with `+ N more...` for the rest.
fn list_with_more(list: &[String], total: usize, max: usize) -> String {
    let text = list.join(",");
    if total > max { format!("{text} + {} more...", total - max) } else { text }
}

/// The Ingress printer.
pub(crate) static INGRESS: Printer = Printer {
    columns: &[
        NAME,
        col("Class", "string", "The IngressClass handling this ingress."),
        col("Hosts", "string", "Hosts the rules match, or * for any."),
        col("Address", "string", "Addresses of the load balancer serving the ingress."),
        col("Ports", "string", "Ports served: 80, plus 443 when TLS is configured."),
        AGE,
    ],
    row: ingress_row,
};

/// The HOSTS text of an ingress: up to three rule hosts, `*` when none.
fn ingress_hosts(obj: &Value) -> String {
    const MAX: usize = 3;
    let rules = arr_at(obj, "/spec/rules");
    let mut hosts: Vec<String> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
            break;
        }
        let host = str_at(rule, "/host");
        if !host.is_empty() {
            hosts.push(host.to_string());
        }
    }
    if hosts.is_empty() {
        return "*".to_string();
    }
    let text = hosts.join(",");
    // kubectl counts the remaining rules against all rules, hosts or not.
    if more { format!("{text} + {} more...", rules.len().saturating_sub(MAX)) } else { text }
}

/// Cells of one Ingress.
fn ingress_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let ports = if arr_at(obj, "/spec/tls").is_empty() { "80" } else { "80, 443" };
    vec![
        cell(name(obj)),
        cell(opt_str(obj, "/spec/ingressClassName").unwrap_or("<none>")),
        cell(ingress_hosts(obj)),
        cell(load_balancer_addresses(crate::pointer::get(obj, "/status/loadBalancer"))),
        cell(ports),
        age_cell(obj, now),
    ]
}

/// The IngressClass printer.
pub(crate) static INGRESS_CLASS: Printer = Printer {
    columns: &[
        NAME,
        col("Controller", "string", "The controller implementing this class."),
        col("Parameters", "string", "The resource holding the class parameters."),
        AGE,
    ],
    row: ingress_class_row,
};

/// Cells of one IngressClass.
fn ingress_class_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let parameters = if present(obj, "/spec/parameters") {
        let mut text = str_at(obj, "/spec/parameters/kind").to_string();
        if let Some(group) = opt_str(obj, "/spec/parameters/apiGroup") {
            text = format!("{text}.{group}");
        }
        format!("{text}/{}", str_at(obj, "/spec/parameters/name"))
    } else {
        "<none>".to_string()
    };
    vec![cell(name(obj)), cell(str_at(obj, "/spec/controller")), cell(parameters), age_cell(obj, now)]
}

/// The NetworkPolicy printer.
pub(crate) static NETWORK_POLICY: Printer = Printer {
    columns: &[NAME, col("Pod-Selector", "string", "Label selector of the pods the policy applies to."), AGE],
    row: network_policy_row,
};

/// Cells of one NetworkPolicy.
fn network_policy_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        cell(name(obj)),
        cell(format_label_selector(crate::pointer::get(obj, "/spec/podSelector"))),
        age_cell(obj, now),
    ]
}

/// The EndpointSlice printer.
pub(crate) static ENDPOINT_SLICE: Printer = Printer {
    columns: &[
        NAME,
        col("AddressType", "string", "Type of the addresses: IPv4, IPv6 or FQDN."),
        col("Ports", "string", "Ports exposed by the endpoints."),
        col("Endpoints", "string", "Endpoint addresses, the first few."),
        AGE,
    ],
    row: endpoint_slice_row,
};

/// Up to three entries then `+ N more...`; `<unset>` when empty.
fn capped(items: Vec<String>) -> String {
    const MAX: usize = 3;
    let total = items.len();
    let shown: Vec<String> = items.into_iter().take(MAX).collect();
    let text = list_with_more(&shown, total, MAX);
    if text.is_empty() { "<unset>".to_string() } else { text }
}

/// Cells of one EndpointSlice.
fn endpoint_slice_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let ports = arr_at(obj, "/ports")
        .iter()
        .map(|p| match p.get("port").and_then(as_int) {
            Some(port) => port.to_string(),
            None => opt_str(p, "/name").unwrap_or("*").to_string(),
        })
        .collect();
    let addresses = arr_at(obj, "/endpoints")
        .iter()
        .flat_map(|e| arr_at(e, "/addresses").iter().map(|a| a.as_str().unwrap_or("").to_string()))
        .collect();
    vec![
        cell(name(obj)),
        cell(str_at(obj, "/addressType")),
        cell(capped(ports)),
        cell(capped(addresses)),
        age_cell(obj, now),
    ]
}
