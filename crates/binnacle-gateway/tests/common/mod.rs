//! Shared fixtures: a simulated cluster with the Gateway CRD, upstream MCP servers on loopback (a
//! hand-written rmcp server standing in for a third party, `binnacle mcp` over the simulated cluster, and a
//! rogue one that answers badly), Services and EndpointSlices pointing at them, the gateway itself, and an
//! MCP client that records what the gateway tells it.

#![allow(dead_code, clippy::unwrap_used)]

use binnacle_gateway::crd::Gateway as GatewayCr;
use binnacle_gateway::{Gateway, GatewayOptions, HttpOptions, UpstreamOptions};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, ClusterSet, ToolContext};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, CustomResourceExt};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ClientConfig, ContentBlock,
    Implementation, JsonObject, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProtocolVersion,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ClientHandler, ErrorData, RoleClient, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Upstream options for tests: fast probes and retries.
pub fn fast() -> UpstreamOptions {
    UpstreamOptions {
        probe_interval: Duration::from_millis(200),
        refresh_interval: Duration::from_secs(30),
        request_timeout: Duration::from_secs(2),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
        max_response_bytes: 1024 * 1024,
    }
}

/// Polls `f` until it returns `Some`, failing the test with `what` after `secs` seconds.
pub async fn eventually<T>(secs: u64, what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------- third party

/// What the third-party server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Calls of `slow` that were cancelled before their end.
    pub cancelled: AtomicUsize,
    /// Extra tools added by `grow`.
    pub extra: Mutex<Vec<String>>,
}

/// A third-party MCP server written against rmcp by hand: an annotated read-only tool, a tool without
/// annotations, a slow tool with progress, a tool that fails with a JSON-RPC error, and `grow`, which adds
/// a tool and says so with `list_changed`.
#[derive(Clone)]
pub struct ThirdParty(pub Arc<Seen>);

fn schema(v: Value) -> Arc<JsonObject> {
    Arc::new(v.as_object().cloned().unwrap_or_default())
}

impl ServerHandler for ThirdParty {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let target = schema(json!({"type": "object", "properties": {"target": {"type": "string"}}}));
        let mut tools = vec![
            Tool::new("inventory_read", "Reads the inventory", target.clone())
                .with_annotations(ToolAnnotations::from_raw(None, Some(true), Some(false), Some(true), Some(false))),
            Tool::new("inventory_purge", "Does something unannotated", target.clone()),
            Tool::new(
                "slow",
                "Sleeps, reporting progress",
                schema(json!({"type": "object", "properties": {"millis": {"type": "integer"}}})),
            )
            .with_annotations(ToolAnnotations::from_raw(None, Some(true), None, None, None)),
            Tool::new("fail_rpc", "Fails with invalid params", target.clone()),
            Tool::new("grow", "Adds a tool", target),
        ];
        for name in self.0.extra.lock().unwrap().iter() {
            tools.push(Tool::new(name.clone(), "An added tool", schema(json!({"type": "object"}))));
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.clone().unwrap_or_default();
        let target = args.get("target").and_then(Value::as_str).unwrap_or("?").to_string();
        let result = match request.name.as_ref() {
            "inventory_read" => {
                let mut r = CallToolResult::success(vec![ContentBlock::text(format!("3 items in {target}"))]);
                r.structured_content = Some(json!({"items": 3, "target": target}));
                r
            }
            "slow" => {
                let millis = args.get("millis").and_then(Value::as_u64).unwrap_or(400);
                let token = context.meta.get_progress_token();
                for step in 1..=4u32 {
                    tokio::select! {
                        _ = context.ct.cancelled() => {
                            self.0.cancelled.fetch_add(1, Ordering::SeqCst);
                            return Err(ErrorData::internal_error("cancelled", None));
                        }
                        _ = tokio::time::sleep(Duration::from_millis(millis / 4)) => {}
                    }
                    if let Some(token) = &token {
                        let mut p = ProgressNotificationParam::new(token.clone(), f64::from(step));
                        p.total = Some(4.0);
                        p.message = Some(format!("step {step} of 4"));
                        let _ = context.peer.notify_progress(p).await;
                    }
                }
                CallToolResult::success(vec![ContentBlock::text("slept")])
            }
            "fail_rpc" => return Err(ErrorData::invalid_params(format!("target {target:?} is not a shelf"), None)),
            "grow" => {
                let name = {
                    let mut extra = self.0.extra.lock().unwrap();
                    let name = format!("extra_{}", extra.len() + 1);
                    extra.push(name.clone());
                    name
                };
                let _ = context.peer.notify_tool_list_changed().await;
                CallToolResult::success(vec![ContentBlock::text(format!("added {name}"))])
            }
            name if name.starts_with("extra_") => CallToolResult::success(vec![ContentBlock::text(name.to_string())]),
            _ => CallToolResult::error(vec![ContentBlock::text(format!("refused to purge {target}"))]),
        };
        Ok(result.into())
    }
}

/// An HTTP server on loopback that stops by itself when dropped.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Serves `app` on `addr` (port 0: any) until stopped.
    pub async fn start(app: axum::Router, addr: SocketAddr, cancel: CancellationToken) -> Running {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
        });
        Running { addr, cancel, task: Some(task) }
    }

    /// Stops serving: sessions end, the listener closes; returns once the port is free.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The third-party server on `addr`.
pub async fn third_party(seen: Arc<Seen>, addr: SocketAddr) -> Running {
    let cancel = CancellationToken::new();
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_cancellation_token(cancel.child_token());
    let service = StreamableHttpService::new(
        move || Ok(ThirdParty(seen.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Running::start(axum::Router::new().route_service("/mcp", service), addr, cancel).await
}

/// `binnacle mcp` (the built-in catalog over `client`) on loopback.
pub async fn binnacle_mcp(client: Client) -> Running {
    let ctx = ToolContext::new(Arc::new(ClusterSet::from_client("sim", client)), Arc::new(Settings::default()));
    let server = binnacle_mcp::McpServer::new(Catalog::builtin(), ctx, binnacle_mcp::ServerOptions::default()).unwrap();
    let cancel = CancellationToken::new();
    let options = binnacle_mcp::HttpOptions { cancel: cancel.clone(), ..Default::default() };
    let app = binnacle_mcp::router(server, options);
    Running::start(app, "127.0.0.1:0".parse().unwrap(), cancel).await
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

// ---------------------------------------------------------------------------------------- the cluster

/// A simulated cluster with the Gateway CRD installed.
pub struct Cluster {
    pub sim: SimCluster,
    pub client: Client,
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn logs() {
    if let Ok(filter) = std::env::var("RUST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}

impl Cluster {
    pub async fn start() -> Cluster {
        logs();
        let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, ..SimOptions::default() }).await.unwrap();
        let client = Client::new(sim.router(), "default");
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(&PostParams::default(), &GatewayCr::crd()).await.unwrap();
        let cluster = Cluster { sim, client };
        eventually(10, "the Gateway CRD is served", async || {
            let api: Api<GatewayCr> = Api::namespaced(cluster.client.clone(), "default");
            api.list(&Default::default()).await.ok()
        })
        .await;
        cluster
    }

    pub async fn namespace(&self, name: &str, labels: Value) {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap();
        api.create(&PostParams::default(), &ns).await.unwrap();
    }

    pub fn gateways(&self, ns: &str) -> Api<GatewayCr> {
        Api::namespaced(self.client.clone(), ns)
    }

    pub async fn create_gateway(&self, ns: &str, name: &str, spec: Value) {
        let gw: GatewayCr = serde_json::from_value(
            json!({"apiVersion": "binnacle.dev/v1alpha1", "kind": "Gateway", "metadata": {"name": name}, "spec": spec}),
        )
        .unwrap();
        self.gateways(ns).create(&PostParams::default(), &gw).await.unwrap();
    }

    pub async fn patch_gateway(&self, ns: &str, name: &str, spec: Value) {
        self.gateways(ns).patch(name, &PatchParams::default(), &Patch::Merge(&json!({"spec": spec}))).await.unwrap();
    }

    pub async fn gateway(&self, ns: &str, name: &str) -> GatewayCr {
        self.gateways(ns).get(name).await.unwrap()
    }

    /// A selector-less Service for an MCP server at `addr`, with one EndpointSlice (ready) pointing there.
    pub async fn mcp_service(&self, ns: &str, name: &str, labels: Value, annotations: Value, addr: SocketAddr) {
        let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
        let svc: Service = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels, "annotations": annotations},
            "spec": {"ports": [{"name": "mcp", "port": 80, "targetPort": addr.port()}]}
        }))
        .unwrap();
        services.create(&PostParams::default(), &svc).await.unwrap();
        self.endpoints(ns, name, addr, true).await;
    }

    /// Creates or replaces the Service's EndpointSlice.
    pub async fn endpoints(&self, ns: &str, name: &str, addr: SocketAddr, ready: bool) {
        let slices: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": format!("{name}-1"), "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "ports": [{"name": "mcp", "port": addr.port(), "protocol": "TCP"}],
            "endpoints": [{"addresses": [addr.ip().to_string()], "conditions": {"ready": ready}}]
        });
        slices.patch(&format!("{name}-1"), &PatchParams::apply("test").force(), &Patch::Apply(&slice)).await.unwrap();
    }

    pub async fn delete_service(&self, ns: &str, name: &str) {
        let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
        services.delete(name, &DeleteParams::default()).await.unwrap();
    }

    /// Events on the Gateway (reason, note).
    pub async fn events(&self, ns: &str) -> Vec<(String, String)> {
        let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(self.client.clone(), ns);
        let list = api.list(&Default::default()).await.unwrap();
        list.items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("Gateway"))
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------- the gateway

/// A gateway for `ns/name` served on loopback.
pub struct Served {
    pub gateway: Gateway,
    pub addr: SocketAddr,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.task.abort();
        self.gateway.stop();
    }
}

pub async fn serve_gateway(client: Client, ns: &str, name: &str, upstream: UpstreamOptions) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = GatewayOptions {
        upstream,
        address: Some(format!("http://{addr}/mcp")),
        resync: Duration::from_secs(1),
        ..Default::default()
    };
    let gateway = Gateway::start(client, ns, name, options);
    let cancel = CancellationToken::new();
    let http = HttpOptions { cancel: cancel.clone(), auth: gateway.authenticator(), ..Default::default() };
    let server = gateway.server();
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        let _ = binnacle_gateway::serve(listener, server, http, async move { stop.cancelled().await }).await;
    });
    Served { gateway, addr, cancel, task }
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until the gateway serves `n` tools whose names all satisfy `pred`... or simply until `pred`
    /// holds for the snapshot's tool names.
    pub async fn wait_tools(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        eventually(15, what, async || {
            let names: Vec<String> = self.gateway.snapshot().tools.iter().map(|t| t.name.to_string()).collect();
            pred(&names).then_some(names)
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------- the client

/// What a client heard from the gateway.
#[derive(Debug, Default)]
pub struct Heard {
    pub list_changed: AtomicUsize,
    pub changed: Notify,
    pub progress: Mutex<Vec<(f64, Option<String>)>>,
}

/// An MCP client that records notifications.
#[derive(Clone)]
pub struct Recorder(pub Arc<Heard>);

impl ClientHandler for Recorder {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::default(), Implementation::new("gateway-test", "1"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.0.list_changed.fetch_add(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }

    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.0.progress.lock().unwrap().push((params.progress, params.message));
    }
}

/// Connects a recording client to `url`.
pub async fn connect(url: &str) -> (RunningService<RoleClient, Recorder>, Arc<Heard>) {
    let heard = Arc::new(Heard::default());
    let client = Recorder(heard.clone()).serve(StreamableHttpClientTransport::from_uri(url.to_string())).await.unwrap();
    (client, heard)
}

pub fn args(v: Value) -> Option<JsonObject> {
    v.as_object().cloned()
}

pub fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}
