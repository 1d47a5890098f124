//! Service discovery: Services matching the Gateway's selector (and namespace filters) are MCP servers;
//! their annotations say what kind and at which path, their EndpointSlices say where.
//!
//! [`desired`] is the pure part (objects in, upstreams out); [`run`] keeps it current from kube-runtime
//! reflectors, restarting the watches when the Gateway's selector or namespace list changes.

use crate::config::GatewayConfig;
use crate::crd::McpType;
use binnacle_objects::selector::LabelSelector as Selector;
use futures::stream::{BoxStream, SelectAll};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Annotation: `tool` or `agent`.
pub const ANNOTATION_TYPE: &str = "binnacle.dev/mcp-type";
/// Annotation: the MCP endpoint's path (default `/mcp`).
pub const ANNOTATION_PATH: &str = "binnacle.dev/mcp-path";
/// Annotation: which Service port is MCP (name or number; default the port named `mcp`, else the first).
pub const ANNOTATION_PORT: &str = "binnacle.dev/mcp-port";
/// Annotation: the prefix of the service's tools (default the Service's name).
pub const ANNOTATION_PREFIX: &str = "binnacle.dev/mcp-prefix";
/// Equivalent of [`ANNOTATION_TYPE`] used by existing manifests.
pub const FETCHFY_TYPE: &str = "mcp.fetchfy.ai/type";
/// Equivalent of [`ANNOTATION_PATH`] used by existing manifests.
pub const FETCHFY_ENDPOINT: &str = "mcp.fetchfy.ai/endpoint";
/// The label tying an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The default MCP path.
pub const DEFAULT_PATH: &str = "/mcp";

/// A Service, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceKey {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ServiceKey {
    /// A key.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> ServiceKey {
        ServiceKey { namespace: namespace.into(), name: name.into() }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One discovered MCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSpec {
    /// The Service.
    pub key: ServiceKey,
    /// The Service's uid (for events).
    pub uid: Option<String>,
    /// What kind of MCP server it is.
    pub kind: McpType,
    /// The MCP path.
    pub path: String,
    /// The prefix asked for by annotation, if any.
    pub prefix: Option<String>,
    /// Ready endpoints as URLs (`http://10.0.0.7:8080/mcp`), sorted.
    pub endpoints: Vec<String>,
    /// Why the Service cannot be served as annotated (it is reported Unavailable with this message).
    pub problem: Option<String>,
}

/// What discovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    /// Whether the first full listing is done (the gateway is ready).
    pub synced: bool,
    /// The MCP servers.
    pub upstreams: Arc<BTreeMap<ServiceKey, UpstreamSpec>>,
}

fn annotation<'a>(svc: &'a Service, keys: &[&str]) -> Option<&'a str> {
    let annotations = svc.metadata.annotations.as_ref()?;
    keys.iter().find_map(|k| annotations.get(*k)).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The MCP path from the annotations: a path, or a URL whose path is taken.
fn mcp_path(svc: &Service) -> Result<String, String> {
    let Some(raw) = annotation(svc, &[ANNOTATION_PATH, FETCHFY_ENDPOINT]) else { return Ok(DEFAULT_PATH.into()) };
    let path = match raw.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => raw,
    };
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err(format!("annotation {ANNOTATION_PATH} is {raw:?}: use a path starting with '/', e.g. /mcp"));
    }
    Ok(path.to_string())
}

fn mcp_type(svc: &Service) -> Result<McpType, String> {
    match annotation(svc, &[ANNOTATION_TYPE, FETCHFY_TYPE]) {
        None => Ok(McpType::Tool),
        Some(t) if t.eq_ignore_ascii_case("tool") => Ok(McpType::Tool),
        Some(t) if t.eq_ignore_ascii_case("agent") => Ok(McpType::Agent),
        Some(t) => Err(format!("annotation {ANNOTATION_TYPE} is {t:?}: use tool or agent")),
    }
}

/// The Service port that speaks MCP.
fn mcp_port(svc: &Service) -> Result<&ServicePort, String> {
    let ports: &[ServicePort] = svc.spec.as_ref().and_then(|s| s.ports.as_deref()).unwrap_or_default();
    if let Some(want) = annotation(svc, &[ANNOTATION_PORT]) {
        return ports.iter().find(|p| p.name.as_deref() == Some(want) || p.port.to_string() == want).ok_or_else(|| {
            format!("annotation {ANNOTATION_PORT} names port {want:?}, which the Service does not have")
        });
    }
    ports
        .iter()
        .find(|p| p.name.as_deref() == Some("mcp"))
        .or_else(|| ports.first())
        .ok_or_else(|| "the Service has no ports".to_string())
}

fn host(address: &str) -> String {
    if address.contains(':') && !address.starts_with('[') { format!("[{address}]") } else { address.to_string() }
}

/// Ready endpoint URLs of a Service's port, from its EndpointSlices.
fn endpoint_urls(svc: &Service, port: &ServicePort, path: &str, slices: &[Arc<EndpointSlice>]) -> Vec<String> {
    let ns = svc.namespace().unwrap_or_default();
    let name = svc.name_any();
    let svc_ports = svc.spec.as_ref().and_then(|s| s.ports.as_ref()).map_or(0, Vec::len);
    let mut urls = BTreeSet::new();
    for slice in slices {
        if slice.namespace().as_deref() != Some(ns.as_str()) || slice.labels().get(SERVICE_NAME_LABEL) != Some(&name) {
            continue;
        }
        let slice_ports = slice.ports.as_deref().unwrap_or_default();
        let wanted = port.name.as_deref().unwrap_or("");
        let number = slice_ports
            .iter()
            .find(|p| p.name.as_deref().unwrap_or("") == wanted)
            .or_else(|| (svc_ports == 1 && slice_ports.len() == 1).then(|| &slice_ports[0]))
            .filter(|p| p.protocol.as_deref().is_none_or(|proto| proto == "TCP"))
            .and_then(|p| p.port);
        let Some(number) = number else { continue };
        for endpoint in &slice.endpoints {
            if endpoint.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                continue;
            }
            for address in &endpoint.addresses {
                urls.insert(format!("http://{}:{number}{path}", host(address)));
            }
        }
    }
    urls.into_iter().collect()
}

/// The MCP servers in the given objects: Services that match the config's selector and namespace filters,
/// with their kind, path and ready endpoints. A Service whose annotations make no sense is kept, with the
/// problem (so that status can say what to fix).
pub fn desired(
    config: &GatewayConfig,
    services: &[Arc<Service>],
    slices: &[Arc<EndpointSlice>],
    namespaces: Option<&[Arc<Namespace>]>,
) -> BTreeMap<ServiceKey, UpstreamSpec> {
    let allowed_by_selector = |ns: &str| match (&config.namespace_selector, namespaces) {
        (Some(sel), Some(list)) => list.iter().any(|n| n.name_any() == ns && labels_match(sel, n.labels())),
        _ => true,
    };
    let mut out = BTreeMap::new();
    for svc in services {
        let ns = svc.namespace().unwrap_or_default();
        if !labels_match(&config.service_selector, svc.labels())
            || config.namespaces.as_ref().is_some_and(|list| !list.contains(&ns))
            || !allowed_by_selector(&ns)
            || svc.meta().deletion_timestamp.is_some()
        {
            continue;
        }
        let key = ServiceKey::new(ns, svc.name_any());
        let mut problem = None;
        let kind = mcp_type(svc).unwrap_or_else(|e| {
            problem = Some(e);
            McpType::Tool
        });
        let path = mcp_path(svc).unwrap_or_else(|e| {
            problem.get_or_insert(e);
            DEFAULT_PATH.into()
        });
        let endpoints = match mcp_port(svc) {
            Ok(port) => endpoint_urls(svc, port, &path, slices),
            Err(e) => {
                problem.get_or_insert(e);
                Vec::new()
            }
        };
        let prefix = annotation(svc, &[ANNOTATION_PREFIX]).map(str::to_string);
        out.insert(key.clone(), UpstreamSpec { key, uid: svc.uid(), kind, path, prefix, endpoints, problem });
    }
    out
}

fn labels_match(selector: &Selector, labels: &BTreeMap<String, String>) -> bool {
    let value = serde_json::to_value(labels).unwrap_or_default();
    selector.matches(Some(&value))
}

/// Which watch a trigger came from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Services,
    Slices,
    Namespaces,
}

type Trigger = BoxStream<'static, (usize, Result<bool, watcher::Error>)>;

/// The reflectors of one discovery scope.
struct Watches {
    services: Vec<Store<Service>>,
    slices: Vec<Store<EndpointSlice>>,
    namespaces: Option<Store<Namespace>>,
    streams: SelectAll<Trigger>,
    /// Per stream: has it finished its first listing?
    synced: Vec<bool>,
    sources: Vec<Source>,
}

impl Watches {
    fn new(client: &Client, config: &GatewayConfig) -> Watches {
        let mut w = Watches {
            services: Vec::new(),
            slices: Vec::new(),
            namespaces: None,
            streams: SelectAll::new(),
            synced: Vec::new(),
            sources: Vec::new(),
        };
        let (labels, namespaces) = config.scope();
        let scopes: Vec<Option<String>> = match namespaces {
            Some(list) => list.into_iter().map(Some).collect(),
            None => vec![None],
        };
        for ns in &scopes {
            let services: Api<Service> = match ns {
                Some(ns) => Api::namespaced(client.clone(), ns),
                None => Api::all(client.clone()),
            };
            let (reader, writer) = reflector::store();
            w.services.push(reader);
            let stream =
                watcher(services, watcher::Config::default().labels(&labels)).default_backoff().reflect(writer);
            w.push(Source::Services, stream);
            let slices: Api<EndpointSlice> = match ns {
                Some(ns) => Api::namespaced(client.clone(), ns),
                None => Api::all(client.clone()),
            };
            let (reader, writer) = reflector::store();
            w.slices.push(reader);
            let stream = watcher(slices, watcher::Config::default().labels(SERVICE_NAME_LABEL))
                .default_backoff()
                .reflect(writer);
            w.push(Source::Slices, stream);
        }
        if let Some(sel) = &config.namespace_selector {
            let api: Api<Namespace> = Api::all(client.clone());
            let (reader, writer) = reflector::store();
            w.namespaces = Some(reader);
            let cfg = watcher::Config::default().labels(&sel.to_selector_string());
            w.push(Source::Namespaces, watcher(api, cfg).default_backoff().reflect(writer));
        }
        w
    }

    fn push<K, S>(&mut self, source: Source, stream: S)
    where
        S: futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static,
    {
        let index = self.synced.len();
        self.synced.push(false);
        self.sources.push(source);
        let tagged = stream.map_ok(|e| matches!(e, watcher::Event::InitDone)).map(move |r| (index, r)).boxed();
        self.streams.push(tagged);
    }

    fn all_synced(&self) -> bool {
        self.synced.iter().all(|s| *s)
    }

    fn desired(&self, config: &GatewayConfig) -> BTreeMap<ServiceKey, UpstreamSpec> {
        let services: Vec<_> = self.services.iter().flat_map(Store::state).collect();
        let slices: Vec<_> = self.slices.iter().flat_map(Store::state).collect();
        let namespaces = self.namespaces.as_ref().map(Store::state);
        desired(config, &services, &slices, namespaces.as_deref())
    }
}

/// How long discovery waits after a change for more changes before it publishes (batches bursts).
const SETTLE: Duration = Duration::from_millis(25);

/// Keeps `out` current with the MCP servers of the cluster under the config in `config` (none yet: nothing
/// is watched), until `shutdown`.
pub async fn run(
    client: Client,
    mut config: watch::Receiver<Option<Arc<GatewayConfig>>>,
    out: watch::Sender<Discovered>,
    shutdown: CancellationToken,
) {
    loop {
        let current = config.borrow_and_update().clone();
        let Some(current) = current else {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = config.changed() => if r.is_err() { return } else { continue },
            }
        };
        let scope = current.scope();
        let mut watches = Watches::new(&client, &current);
        let mut active = current;
        let mut dirty = false;
        tracing::info!(selector = %scope.0, namespaces = ?scope.1, "discovering MCP services");
        loop {
            let settle = async { if dirty { tokio::time::sleep(SETTLE).await } else { std::future::pending().await } };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = config.changed() => {
                    if r.is_err() {
                        return;
                    }
                    let next = config.borrow().clone();
                    match next {
                        Some(next) if next.scope() == scope && next.namespace_selector == active.namespace_selector => {
                            active = next;
                            dirty = true;
                        }
                        // A new scope: restart the watches (the loop above re-reads the config).
                        _ => break,
                    }
                }
                Some((index, event)) = watches.streams.next() => {
                    match event {
                        Ok(init_done) => {
                            if init_done && let Some(s) = watches.synced.get_mut(index) {
                                *s = true;
                            }
                            dirty = true;
                        }
                        Err(e) => {
                            let source = watches.sources.get(index).copied();
                            tracing::warn!(error = %e, ?source, "a discovery watch failed; retrying with back-off");
                        }
                    }
                }
                () = settle => {
                    dirty = false;
                    if watches.all_synced() {
                        let upstreams = Arc::new(watches.desired(&active));
                        out.send_if_modified(|d| {
                            let changed = !d.synced || d.upstreams != upstreams;
                            if changed {
                                *d = Discovered { synced: true, upstreams: upstreams.clone() };
                            }
                            changed
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::GatewaySpec;
    use serde_json::json;

    fn svc(
        ns: &str,
        name: &str,
        labels: serde_json::Value,
        annotations: serde_json::Value,
        ports: serde_json::Value,
    ) -> Arc<Service> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"namespace": ns, "name": name, "labels": labels, "annotations": annotations, "uid": format!("uid-{name}")},
                "spec": {"ports": ports}
            }))
            .expect("service"),
        )
    }

    fn slice(ns: &str, svc: &str, ports: serde_json::Value, endpoints: serde_json::Value) -> Arc<EndpointSlice> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"namespace": ns, "name": format!("{svc}-abc"), "labels": {SERVICE_NAME_LABEL: svc}},
                "addressType": "IPv4", "ports": ports, "endpoints": endpoints
            }))
            .expect("slice"),
        )
    }

    #[test]
    fn services_annotations_and_endpoints() {
        let config = GatewayConfig::from_spec(&GatewaySpec::default()).expect("config");
        let on = json!({"mcp-enabled": "true"});
        let services = vec![
            svc(
                "a",
                "tools",
                on.clone(),
                json!({}),
                json!([{"name": "http", "port": 80}, {"name": "mcp", "port": 8080}]),
            ),
            svc(
                "a",
                "agent",
                on.clone(),
                json!({FETCHFY_TYPE: "agent", FETCHFY_ENDPOINT: "http://x/agent/mcp"}),
                json!([{"port": 9000}]),
            ),
            svc("b", "weird", on.clone(), json!({ANNOTATION_TYPE: "robot"}), json!([{"port": 1}])),
            svc("b", "off", json!({"mcp-enabled": "false"}), json!({}), json!([{"port": 1}])),
            svc("b", "noport", on, json!({ANNOTATION_PORT: "grpc"}), json!([{"port": 1}])),
        ];
        let slices = vec![
            slice(
                "a",
                "tools",
                json!([{"name": "http", "port": 8000}, {"name": "mcp", "port": 9090}]),
                json!([
                    {"addresses": ["10.0.0.2"], "conditions": {"ready": true}},
                    {"addresses": ["10.0.0.1"]},
                    {"addresses": ["10.0.0.3"], "conditions": {"ready": false}}
                ]),
            ),
            slice("a", "agent", json!([{"port": 9001}]), json!([{"addresses": ["fd00::1"]}])),
            // A slice of another Service is ignored.
            slice("b", "tools", json!([{"name": "mcp", "port": 1}]), json!([{"addresses": ["10.9.9.9"]}])),
        ];
        let found = desired(&config, &services, &slices, None);
        assert_eq!(
            found.keys().map(ToString::to_string).collect::<Vec<_>>(),
            ["a/agent", "a/tools", "b/noport", "b/weird"]
        );
        let tools = &found[&ServiceKey::new("a", "tools")];
        assert_eq!(tools.kind, McpType::Tool);
        assert_eq!(tools.endpoints, ["http://10.0.0.1:9090/mcp", "http://10.0.0.2:9090/mcp"]);
        assert_eq!(tools.problem, None);
        assert_eq!(tools.uid.as_deref(), Some("uid-tools"));
        let agent = &found[&ServiceKey::new("a", "agent")];
        assert_eq!((agent.kind, agent.path.as_str()), (McpType::Agent, "/agent/mcp"));
        assert_eq!(agent.endpoints, ["http://[fd00::1]:9001/agent/mcp"]);
        let weird = &found[&ServiceKey::new("b", "weird")];
        assert!(weird.problem.as_deref().is_some_and(|p| p.contains("use tool or agent")), "{weird:?}");
        let noport = &found[&ServiceKey::new("b", "noport")];
        assert!(noport.problem.as_deref().is_some_and(|p| p.contains("does not have")), "{noport:?}");

        let only_b = GatewayConfig::from_spec(&GatewaySpec { namespaces: vec!["b".into()], ..Default::default() })
            .expect("config");
        assert_eq!(desired(&only_b, &services, &slices, None).len(), 2);
        let by_label: GatewaySpec =
            serde_json::from_value(json!({"namespaceSelector": {"matchLabels": {"team": "x"}}})).expect("spec");
        let by_label = GatewayConfig::from_spec(&by_label).expect("config");
        let ns: Vec<Arc<Namespace>> = vec![Arc::new(
            serde_json::from_value(json!({"metadata": {"name": "a", "labels": {"team": "x"}}})).expect("ns"),
        )];
        assert_eq!(
            desired(&by_label, &services, &slices, Some(&ns)).keys().map(ToString::to_string).collect::<Vec<_>>(),
            ["a/agent", "a/tools"]
        );
    }
}
