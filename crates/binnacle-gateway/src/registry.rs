//! The registry: one [`Upstream`] per discovered MCP server, and the [`Snapshot`] clients are served from
//! (every available upstream's tools, prefixed and filtered by the tool policy, with the route of each).
//!
//! The registry task starts and stops upstreams as discovery changes, and publishes a new snapshot
//! whenever an upstream's state, the discovered set or the config changes. The snapshot's versions only
//! move when a tool list clients see really changed, which is when they get `list_changed`.

use crate::config::GatewayConfig;
use crate::crd::{McpType, ServiceState};
use crate::discovery::{Discovered, ServiceKey, UpstreamSpec};
use crate::policy::{Policy, Refusal};
use crate::upstream::{Upstream, UpstreamOptions, UpstreamState};
use rmcp::model::Tool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

/// `_meta` key on an aggregated tool: the Service it comes from (`namespace/name`).
pub const META_UPSTREAM: &str = "binnacle.dev/upstream";

/// Where a tool call goes.
#[derive(Debug, Clone)]
pub struct Route {
    /// The upstream.
    pub upstream: Arc<Upstream>,
    /// The tool's name there.
    pub tool: String,
}

/// One discovered service as clients are served it.
#[derive(Debug, Clone)]
pub struct ServiceView {
    /// The upstream.
    pub upstream: Arc<Upstream>,
    /// Its spec (from discovery).
    pub spec: UpstreamSpec,
    /// Its state.
    pub state: UpstreamState,
    /// The prefix of its tools in `/mcp`.
    pub prefix: String,
    /// Its tools under their own names, after the tool policy (empty while unavailable).
    pub tools: Arc<Vec<Tool>>,
    /// Its tools the policy refuses (own name → why).
    pub hidden: HashMap<String, Refusal>,
    /// Moves when `tools` changes.
    pub version: u64,
}

/// What the gateway serves right now.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Whether discovery finished its first pass.
    pub synced: bool,
    /// Moves whenever `tools` changes.
    pub version: u64,
    /// Every served tool, prefixed.
    pub tools: Arc<Vec<Tool>>,
    /// Prefixed name → route.
    pub routes: HashMap<String, Route>,
    /// Prefixed name → why the policy refuses it.
    pub hidden: HashMap<String, Refusal>,
    /// Every discovered service.
    pub services: BTreeMap<ServiceKey, ServiceView>,
    /// Between prefix and tool name.
    pub separator: String,
    /// Time limit of a forwarded call.
    pub call_timeout: Duration,
}

impl Snapshot {
    /// The service whose prefix starts `name` (to explain why one of its tools cannot be called).
    pub fn service_for(&self, name: &str) -> Option<&ServiceView> {
        self.services.values().find(|s| {
            name.strip_prefix(s.prefix.as_str()).is_some_and(|rest| rest.starts_with(self.separator.as_str()))
        })
    }

    /// Services available / discovered.
    pub fn counts(&self) -> (usize, usize) {
        let available = self.services.values().filter(|s| s.state.status == ServiceState::Available).count();
        (available, self.services.len())
    }
}

/// A change worth an Event on the Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Connected (again), with its tool count.
    Registered {
        /// The service.
        key: ServiceKey,
        /// Its uid.
        uid: Option<String>,
        /// Agent or tool server.
        kind: McpType,
        /// Where.
        endpoint: Option<String>,
        /// How many tools it lists.
        tools: usize,
    },
    /// Became (or started) unavailable.
    Unavailable {
        /// The service.
        key: ServiceKey,
        /// Its uid.
        uid: Option<String>,
        /// Why.
        message: String,
    },
    /// No longer discovered.
    Removed {
        /// The service.
        key: ServiceKey,
        /// Its uid.
        uid: Option<String>,
    },
}

/// Prefixes: the annotation's or the Service's name; names used by several Services get their namespace in
/// front (`<namespace>_<name>`, unambiguous since names cannot contain `_`).
fn prefixes(specs: &BTreeMap<ServiceKey, UpstreamSpec>) -> BTreeMap<ServiceKey, String> {
    let base = |s: &UpstreamSpec| s.prefix.clone().unwrap_or_else(|| s.key.name.clone());
    let mut count: HashMap<String, usize> = HashMap::new();
    for spec in specs.values() {
        *count.entry(base(spec)).or_default() += 1;
    }
    specs
        .values()
        .map(|spec| {
            let b = base(spec);
            let prefix =
                if count.get(&b).copied().unwrap_or(0) > 1 { format!("{}_{b}", spec.key.namespace) } else { b };
            (spec.key.clone(), prefix)
        })
        .collect()
}

fn prefixed(tool: &Tool, name: String, key: &ServiceKey) -> Tool {
    let mut out = tool.clone();
    out.name = name.into();
    let mut meta = out.meta.take().unwrap_or_default();
    meta.insert(META_UPSTREAM.into(), serde_json::Value::String(key.to_string()));
    out.meta = Some(meta);
    out
}

/// Builds the snapshot of the upstreams' current states under the config.
pub fn build(
    previous: &Snapshot,
    synced: bool,
    upstreams: &BTreeMap<ServiceKey, Arc<Upstream>>,
    config: Option<&GatewayConfig>,
) -> Snapshot {
    let separator = config.map_or_else(|| crate::crd::DEFAULT_TOOL_SEPARATOR.to_string(), |c| c.separator.clone());
    let default_policy = Policy::default();
    let policy = config.map_or(&default_policy, |c| &c.policy);
    let specs: BTreeMap<ServiceKey, UpstreamSpec> = upstreams.iter().map(|(k, u)| (k.clone(), u.spec())).collect();
    let prefixes = prefixes(&specs);
    let mut snapshot = Snapshot {
        synced,
        version: previous.version,
        separator: separator.clone(),
        call_timeout: config.map_or(Duration::from_secs(60), |c| c.call_timeout),
        ..Snapshot::default()
    };
    let mut tools = Vec::new();
    for (key, upstream) in upstreams {
        let state = upstream.state();
        let prefix = prefixes.get(key).cloned().unwrap_or_else(|| key.name.clone());
        let mut own = Vec::new();
        let mut hidden = HashMap::new();
        if state.status == ServiceState::Available {
            for tool in state.tools.iter() {
                let name = format!("{prefix}{separator}{}", tool.name);
                match policy.check(&name, tool) {
                    Ok(()) => {
                        tools.push(prefixed(tool, name.clone(), key));
                        snapshot.routes.insert(name, Route { upstream: upstream.clone(), tool: tool.name.to_string() });
                        own.push(tool.clone());
                    }
                    Err(refusal) => {
                        hidden.insert(tool.name.to_string(), refusal.clone());
                        snapshot.hidden.insert(name, refusal);
                    }
                }
            }
        }
        let own = Arc::new(own);
        let version = match previous.services.get(key) {
            Some(before) if before.tools == own => before.version,
            Some(before) => before.version + 1,
            None => 1,
        };
        let spec = specs.get(key).cloned().unwrap_or_else(|| upstream.spec());
        snapshot.services.insert(
            key.clone(),
            ServiceView { upstream: upstream.clone(), spec, state, prefix, tools: own, hidden, version },
        );
    }
    let tools = Arc::new(tools);
    if tools != previous.tools {
        snapshot.version = previous.version + 1;
    }
    snapshot.tools = tools;
    snapshot
}

fn transitions(before: &Snapshot, after: &Snapshot) -> Vec<Transition> {
    let mut out = Vec::new();
    for (key, view) in &after.services {
        let was = before.services.get(key).map(|v| (v.state.status, v.state.message.clone()));
        let now = (view.state.status, view.state.message.clone());
        if was.as_ref() == Some(&now) {
            continue;
        }
        let uid = view.spec.uid.clone();
        match view.state.status {
            ServiceState::Available => {
                if was.as_ref().map(|w| w.0) != Some(ServiceState::Available) {
                    out.push(Transition::Registered {
                        key: key.clone(),
                        uid,
                        kind: view.spec.kind,
                        endpoint: view.state.endpoint.clone(),
                        tools: view.state.tools.len(),
                    });
                }
            }
            ServiceState::Unavailable => {
                let message = view.state.message.clone().unwrap_or_default();
                // News: it was available, or it has just been tried for the first time ("connecting" is the
                // state of a brand-new upstream). A new reason while it stays down is not.
                let first_try = was.as_ref().is_none_or(|w| w.1.as_deref() == Some("connecting"));
                let went_down = was.as_ref().is_some_and(|w| w.0 == ServiceState::Available);
                if message != "connecting" && (first_try || went_down) {
                    out.push(Transition::Unavailable { key: key.clone(), uid, message });
                }
            }
        }
    }
    for (key, view) in &before.services {
        if !after.services.contains_key(key) {
            out.push(Transition::Removed { key: key.clone(), uid: view.spec.uid.clone() });
        }
    }
    out
}

/// Keeps one upstream per discovered service and publishes snapshots until `shutdown`; transitions go to
/// `transitions` (for Events and logs).
pub async fn run(
    mut discovered: watch::Receiver<Discovered>,
    mut config: watch::Receiver<Option<Arc<GatewayConfig>>>,
    snapshot: watch::Sender<Arc<Snapshot>>,
    transitions_tx: mpsc::UnboundedSender<Transition>,
    options: UpstreamOptions,
    shutdown: CancellationToken,
) {
    let mut upstreams: BTreeMap<ServiceKey, Arc<Upstream>> = BTreeMap::new();
    let changed = Arc::new(Notify::new());
    loop {
        let found = discovered.borrow_and_update().clone();
        let current = config.borrow_and_update().clone();
        upstreams.retain(|key, upstream| {
            let keep = found.upstreams.contains_key(key);
            if !keep {
                tracing::info!(service = %key, "MCP service removed");
                upstream.stop();
            }
            keep
        });
        for (key, spec) in found.upstreams.iter() {
            match upstreams.get(key) {
                Some(upstream) => upstream.update(spec.clone()),
                None => {
                    tracing::info!(service = %key, endpoints = ?spec.endpoints, "MCP service discovered");
                    let upstream = Upstream::spawn(spec.clone(), options.clone());
                    let mut rx = upstream.subscribe();
                    let notify = changed.clone();
                    tokio::spawn(async move {
                        while rx.changed().await.is_ok() {
                            notify.notify_one();
                        }
                    });
                    upstreams.insert(key.clone(), upstream);
                }
            }
        }
        let previous = snapshot.borrow().clone();
        let next = build(&previous, found.synced, &upstreams, current.as_deref());
        for t in transitions(&previous, &next) {
            let _ = transitions_tx.send(t);
        }
        snapshot.send_replace(Arc::new(next));
        tokio::select! {
            _ = shutdown.cancelled() => break,
            r = discovered.changed() => if r.is_err() { break },
            r = config.changed() => if r.is_err() { break },
            _ = changed.notified() => {}
        }
    }
    for upstream in upstreams.values() {
        upstream.stop();
    }
}

/// Starts the registry task; returns the snapshot channel and the transitions.
pub fn spawn(
    discovered: watch::Receiver<Discovered>,
    config: watch::Receiver<Option<Arc<GatewayConfig>>>,
    options: UpstreamOptions,
    shutdown: CancellationToken,
) -> (watch::Receiver<Arc<Snapshot>>, mpsc::UnboundedReceiver<Transition>) {
    let (snapshot_tx, snapshot_rx) = watch::channel(Arc::new(Snapshot::default()));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(discovered, config, snapshot_tx, tx, options, shutdown));
    (snapshot_rx, rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ns: &str, name: &str, prefix: Option<&str>) -> UpstreamSpec {
        UpstreamSpec {
            key: ServiceKey::new(ns, name),
            uid: None,
            kind: McpType::Tool,
            path: "/mcp".into(),
            prefix: prefix.map(str::to_string),
            endpoints: vec![],
            problem: None,
        }
    }

    #[test]
    fn prefixes_are_names_unless_they_collide() {
        let specs: BTreeMap<_, _> = [
            spec("a", "inventory", None),
            spec("b", "inventory", None),
            spec("a", "billing", None),
            spec("c", "x", Some("custom")),
        ]
        .into_iter()
        .map(|s| (s.key.clone(), s))
        .collect();
        let p = prefixes(&specs);
        assert_eq!(p[&ServiceKey::new("a", "inventory")], "a_inventory");
        assert_eq!(p[&ServiceKey::new("b", "inventory")], "b_inventory");
        assert_eq!(p[&ServiceKey::new("a", "billing")], "billing");
        assert_eq!(p[&ServiceKey::new("c", "x")], "custom");
    }
}
