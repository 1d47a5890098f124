//! Every tools/call through the gateway lands in the engine's hash-chained audit log (SQLite in a temp dir)
//! and in the JSON-lines audit file: allowed, refused by policy, failed upstream, refused by auth.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use binnacle_gateway::audit::{Audit, AuditTarget};
use binnacle_gateway::{Gateway, GatewayOptions, HttpOptions};
use common::*;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

async fn raw_call_without_key(url: &str) -> u16 {
    let uri: http::Uri = url.parse().unwrap();
    let mut stream = tokio::net::TcpStream::connect(uri.authority().unwrap().as_str()).await.unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "inventory.inventory_read", "arguments": {"target": "x", "password": "hunter2"}}})
    .to_string();
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        uri.path(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf).split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_are_audited_in_the_store_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("engine.db").display());
    audited(&db, dir.path()).await;
}

/// The same on PostgreSQL: the server `BINNACLE_TEST_POSTGRES_URL` names, else a throwaway one started by
/// binnacle-testkit (as the engine's tests do).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_are_audited_in_postgres() {
    let database = binnacle_testkit::postgres::postgres_database().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    audited(database.url(), dir.path()).await;
}

async fn audited(db: &str, dir: &std::path::Path) {
    let file = dir.join("audit.jsonl");
    let store = binnacle_store::Store::connect(db).await.unwrap();

    let cluster = Cluster::start().await;
    let inventory = third_party(Arc::new(Seen::default()), loopback()).await;
    cluster.mcp_service("default", "inventory", json!({"mcp-enabled": "true"}), json!({}), inventory.addr).await;
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), "default");
    let secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "keys"}, "stringData": {"ci-bot": "s3cret-key"}})).unwrap();
    secrets.create(&PostParams::default(), &secret).await.unwrap();
    cluster
        .create_gateway(
            "default",
            "gw",
            json!({"auth": {"mode": "apiKeys", "secretRef": {"name": "keys"}},
                   "toolPolicy": {"deny": ["inventory.inventory_purge"]}}),
        )
        .await;

    let audit = Audit::start(vec![AuditTarget::Store(store.clone()), AuditTarget::File(file.clone())]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = GatewayOptions { upstream: fast(), resync: Duration::from_secs(1), ..Default::default() };
    let gateway = Gateway::start(cluster.client.clone(), "default", "gw", options);
    let cancel = CancellationToken::new();
    let http = HttpOptions {
        cancel: cancel.clone(),
        auth: gateway.authenticator(),
        audit: audit.clone(),
        ..Default::default()
    };
    let server = gateway.server().with_audit(audit.clone());
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        let _ = binnacle_gateway::serve(listener, server, http, async move { stop.cancelled().await }).await;
    });
    let url = format!("http://{addr}/mcp");

    let config = StreamableHttpClientTransportConfig::with_uri(url.clone()).auth_header("s3cret-key".to_string());
    let client = eventually(10, "an authenticated session", async || {
        ().serve(StreamableHttpClientTransport::from_config(config.clone())).await.ok()
    })
    .await;
    eventually(10, "tools", async || {
        let tools = client.list_all_tools().await.ok()?;
        tools.iter().any(|t| t.name == "inventory.inventory_read").then_some(())
    })
    .await;
    let ok = client
        .call_tool(
            CallToolRequestParams::new("inventory.inventory_read")
                .with_arguments(args(json!({"target": "a", "apiToken": "tok-123"})).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(text(&ok), "3 items in a");
    let denied = client
        .call_tool(CallToolRequestParams::new("inventory.inventory_purge").with_arguments(args(json!({})).unwrap()))
        .await;
    assert!(denied.is_err());
    let failed = client
        .call_tool(
            CallToolRequestParams::new("inventory.fail_rpc").with_arguments(args(json!({"target": "z"})).unwrap()),
        )
        .await;
    assert!(failed.is_err());
    assert_eq!(raw_call_without_key(&url).await, 401);

    let entries = eventually(10, "4 audit entries", async || {
        let e = store.audit_entries(0, 100).await.ok()?;
        (e.len() == 4).then_some(e)
    })
    .await;
    let summary: Vec<(String, String, String, String)> = entries
        .iter()
        .map(|e| {
            assert_eq!(e.action, "gateway.tool_call");
            let outcome = e.outcome.clone().unwrap_or_default();
            (
                e.actor.clone(),
                e.tool.clone().unwrap_or_default(),
                e.decision.clone().unwrap_or_default(),
                outcome.split(' ').next().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expect = |a: &str, t: &str, d: &str, o: &str| (a.to_string(), t.to_string(), d.to_string(), o.to_string());
    assert_eq!(
        summary,
        vec![
            expect("ci-bot", "inventory.inventory_read", "allowed", "ok"),
            expect("ci-bot", "inventory.inventory_purge", "denied", "refused"),
            expect("ci-bot", "inventory.fail_rpc", "allowed", "rpc_error"),
            expect("unauthenticated", "inventory.inventory_read", "denied", "unauthenticated"),
        ]
    );
    assert_eq!(entries[0].context.as_deref(), Some("default/inventory"));
    assert!(entries[0].outcome.as_deref().unwrap().ends_with(" ms)"), "{:?}", entries[0].outcome);
    // Values are never stored: only the argument names.
    let all = serde_json::to_string(&entries.iter().map(|e| e.arguments.clone()).collect::<Vec<_>>()).unwrap();
    assert!(!all.contains("tok-123") && !all.contains("hunter2"), "{all}");
    assert_eq!(entries[0].arguments, Some(json!({"names": ["apiToken", "target"]})));
    let verify = store.verify_audit().await.unwrap();
    assert!(verify.valid, "{verify:?}");
    assert_eq!(verify.entries, 4);

    let lines = eventually(10, "4 JSON lines", async || {
        let text = std::fs::read_to_string(&file).ok()?;
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines.len() == 4).then_some(lines)
    })
    .await;
    assert_eq!(lines[0]["caller"], "ci-bot");
    assert_eq!(lines[0]["upstream"], "default/inventory");
    assert_eq!(lines[3]["outcome"], "unauthenticated");
    assert!(lines[0]["durationMs"].as_f64().is_some());
    assert_eq!(audit.dropped(), 0);

    let _ = client.cancel().await;
    cancel.cancel();
    task.abort();
    gateway.stop();
}
