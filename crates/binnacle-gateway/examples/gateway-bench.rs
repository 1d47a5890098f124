//! Latency of a tool call through the gateway against the same call made directly to the upstream, with one
//! upstream registered and with 50.
//!
//! Everything runs in this process over loopback: a simulated cluster with the Gateway CRD, 50 small rmcp
//! servers (one `echo` tool each) behind Services and EndpointSlices, the gateway, and rmcp Streamable HTTP
//! clients calling sequentially.
//!
//! ```sh
//! cargo run --release -p binnacle-gateway --example gateway-bench [-- CALLS]
//! ```

#![allow(clippy::unwrap_used)]

use binnacle_gateway::crd::Gateway as GatewayCr;
use binnacle_gateway::{Gateway, GatewayOptions, HttpOptions};
use binnacle_sim::{SimCluster, SimOptions};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::PostParams;
use kube::{Api, Client, CustomResourceExt};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpClientTransport, StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleClient, RoleServer, ServerHandler, ServiceExt};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const UPSTREAMS: usize = 50;

#[derive(Clone)]
struct Echo;

impl ServerHandler for Echo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object", "properties": {"text": {"type": "string"}}});
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "echo",
            "Echoes its text",
            Arc::new(schema.as_object().cloned().unwrap_or_default()),
        )]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let text = request.arguments.as_ref().and_then(|a| a.get("text")).and_then(|t| t.as_str()).unwrap_or("");
        Ok(CallToolResult::success(vec![ContentBlock::text(text.to_string())]).into())
    }
}

async fn upstream() -> SocketAddr {
    let config = StreamableHttpServerConfig::default().disable_allowed_hosts().disable_allowed_origins();
    let service = StreamableHttpService::new(|| Ok(Echo), Arc::new(LocalSessionManager::default()), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route_service("/mcp", service)).await });
    addr
}

async fn register(client: &Client, index: usize, addr: SocketAddr) {
    let name = format!("echo-{index}");
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let svc = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"mcp-enabled": "true"}},
        "spec": {"ports": [{"name": "mcp", "port": 80}]}
    }))
    .unwrap();
    services.create(&PostParams::default(), &svc).await.unwrap();
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    let slice = serde_json::from_value(json!({
        "metadata": {"name": format!("{name}-1"), "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4",
        "ports": [{"name": "mcp", "port": addr.port(), "protocol": "TCP"}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}]
    }))
    .unwrap();
    slices.create(&PostParams::default(), &slice).await.unwrap();
}

async fn connect(url: &str) -> RunningService<RoleClient, ()> {
    ().serve(StreamableHttpClientTransport::from_uri(url.to_string())).await.unwrap()
}

/// Calls `tool` `n` times in a row (after a warm-up); returns the latencies, sorted.
async fn measure(client: &RunningService<RoleClient, ()>, tool: &str, n: usize) -> Vec<Duration> {
    let call = || {
        let params = CallToolRequestParams::new(tool.to_string())
            .with_arguments(json!({"text": "ping"}).as_object().cloned().unwrap_or_default());
        client.call_tool(params)
    };
    for _ in 0..n / 10 {
        call().await.unwrap();
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let r = call().await.unwrap();
        out.push(started.elapsed());
        assert_eq!(r.is_error, Some(false));
    }
    out.sort();
    out
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn row(label: &str, sorted: &[Duration]) {
    println!("{label:<48} p50 {:>10}   p99 {:>10}", ms(pct(sorted, 0.5)), ms(pct(sorted, 0.99)));
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let sim = SimCluster::start(SimOptions::default()).await.unwrap();
    let client = Client::new(sim.router(), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &GatewayCr::crd()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let gateways: Api<GatewayCr> = Api::namespaced(client.clone(), "default");
    let gw = serde_json::from_value(json!({"metadata": {"name": "bench"}, "spec": {}})).unwrap();
    gateways.create(&PostParams::default(), &gw).await.unwrap();

    let mut addrs = Vec::new();
    for _ in 0..UPSTREAMS {
        addrs.push(upstream().await);
    }
    register(&client, 0, addrs[0]).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw_addr = listener.local_addr().unwrap();
    let gateway = Gateway::start(client.clone(), "default", "bench", GatewayOptions::default());
    let server = gateway.server();
    tokio::spawn(binnacle_gateway::serve(listener, server, HttpOptions::default(), std::future::pending()));
    let wait = |n: usize| {
        let gateway = &gateway;
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while gateway.snapshot().routes.len() < n {
                assert!(Instant::now() < deadline, "the gateway did not register {n} upstreams");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait(1).await;

    println!("{calls} sequential tools/call over Streamable HTTP on loopback (after {} warm-up calls)\n", calls / 10);
    let direct = connect(&format!("http://{}/mcp", addrs[0])).await;
    let through = connect(&format!("http://{gw_addr}/mcp")).await;
    let d1 = measure(&direct, "echo", calls).await;
    let g1 = measure(&through, "echo-0.echo", calls).await;
    row("direct to the upstream", &d1);
    row("through the gateway, 1 upstream registered", &g1);

    for (i, addr) in addrs.iter().enumerate().skip(1) {
        register(&client, i, *addr).await;
    }
    wait(UPSTREAMS).await;
    let tools = through.list_all_tools().await.unwrap().len();
    let d50 = measure(&direct, "echo", calls).await;
    let g50 = measure(&through, "echo-0.echo", calls).await;
    let g50_last = measure(&through, &format!("echo-{}.echo", UPSTREAMS - 1), calls).await;
    row("direct to the upstream (again)", &d50);
    row(&format!("through the gateway, {UPSTREAMS} registered ({tools} tools)"), &g50);
    row(&format!("  same, calling the last upstream (echo-{})", UPSTREAMS - 1), &g50_last);
    let added = |g: &[Duration], d: &[Duration]| pct(g, 0.5).saturating_sub(pct(d, 0.5));
    println!(
        "\nadded latency p50: {} with 1 upstream, {} with {UPSTREAMS} (target < 1 ms)",
        ms(added(&g1, &d1)),
        ms(added(&g50, &d50))
    );
    let _ = direct.cancel().await;
    let _ = through.cancel().await;
    gateway.stop();
}
