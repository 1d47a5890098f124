//! Client authentication at the gateway: API keys from a Secret (missing Secret, no key, wrong key, right
//! key, rotation) and engine-issued JWTs (operator, viewer limited to read-only tools, expired, tampered,
//! wrong issuer), against the simulated cluster with an rmcp client.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw `initialize` POST with the given extra header lines: (status, headers+body text).
async fn post_initialize(url: &str, extra: &str) -> (u16, String) {
    let uri: http::Uri = url.parse().unwrap();
    let mut stream = tokio::net::TcpStream::connect(uri.authority().unwrap().as_str()).await.unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
    .to_string();
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        uri.path(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    (text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), text)
}

async fn client_with(url: &str, bearer: &str) -> Result<rmcp::service::RunningService<rmcp::RoleClient, ()>, String> {
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(bearer.to_string());
    ().serve(StreamableHttpClientTransport::from_config(config)).await.map_err(|e| e.to_string())
}

async fn put_secret(cluster: &Cluster, name: &str, data: Value) {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), "default");
    let secret: Secret = serde_json::from_value(json!({"metadata": {"name": name}, "stringData": data})).unwrap();
    if api.get_opt(name).await.unwrap().is_some() {
        api.replace(name, &PostParams::default(), &secret).await.unwrap();
    } else {
        api.create(&PostParams::default(), &secret).await.unwrap();
    }
}

async fn ready_reason(cluster: &Cluster) -> (String, String, String) {
    let gw = cluster.gateway("default", "gw").await;
    let c = gw.status.and_then(|s| s.conditions.into_iter().next());
    c.map(|c| (c.status, c.reason, c.message)).unwrap_or_default()
}

fn mint(secret: &[u8], role: &str, exp_offset: i64, iss: &str) -> String {
    let now = jiff::Timestamp::now().as_second();
    // The claims `binnacle serve` puts in its access tokens (binnacle-api auth::tokens::Claims).
    let claims = json!({"sub": "u-1", "name": "alice", "role": role, "iat": now, "exp": now + exp_offset, "iss": iss});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_keys_and_engine_tokens() {
    let cluster = Cluster::start().await;
    let seen = Arc::new(Seen::default());
    let inventory = third_party(seen, loopback()).await;
    cluster.mcp_service("default", "inventory", json!({"mcp-enabled": "true"}), json!({}), inventory.addr).await;
    cluster
        .create_gateway("default", "gw", json!({"auth": {"mode": "apiKeys", "secretRef": {"name": "gw-keys"}}}))
        .await;
    let gw = serve_gateway(cluster.client.clone(), "default", "gw", fast()).await;
    let url = gw.url("/mcp");

    // The Secret is missing: Ready=False says what to create, and every client is refused.
    let (status, _, message) = eventually(10, "AuthSecretMissing", async || {
        let r = ready_reason(&cluster).await;
        (r.1 == "AuthSecretMissing").then_some(r)
    })
    .await;
    assert_eq!(status, "False");
    assert!(message.contains("kubectl create secret generic gw-keys -n default"), "{message}");
    let (code, raw) = post_initialize(&url, "Authorization: Bearer k1\r\n").await;
    assert_eq!(code, 503, "{raw}");

    put_secret(&cluster, "gw-keys", json!({"ci": "k1-secret-value"})).await;
    eventually(10, "the Secret is read", async || {
        (post_initialize(&url, "Authorization: Bearer k1-secret-value\r\n").await.0 == 200).then_some(())
    })
    .await;
    eventually(10, "Ready=True", async || (ready_reason(&cluster).await.1 == "Serving").then_some(())).await;

    // No key, wrong key: 401 with WWW-Authenticate and a JSON-RPC error saying how to authenticate.
    let (code, raw) = post_initialize(&url, "").await;
    assert_eq!(code, 401, "{raw}");
    assert!(raw.to_ascii_lowercase().contains("www-authenticate: bearer"), "{raw}");
    assert!(raw.contains("Authorization: Bearer <key>"), "{raw}");
    assert!(raw.contains("\"jsonrpc\":\"2.0\""), "{raw}");
    let (code, raw) = post_initialize(&url, "Authorization: Bearer wrong\r\n").await;
    assert_eq!(code, 401, "{raw}");
    assert!(raw.contains("not accepted"), "{raw}");
    assert!(client_with(&url, "wrong").await.is_err());
    assert_eq!(post_initialize(&gw.url("/mcp/default/inventory"), "").await.0, 401);
    // X-API-Key works too; health endpoints stay open.
    assert_eq!(post_initialize(&url, "X-API-Key: k1-secret-value\r\n").await.0, 200);
    assert_eq!(post_initialize(&gw.url("/healthz"), "").await.0, 405);

    // The right key lists and calls.
    let client = client_with(&url, "k1-secret-value").await.unwrap();
    let tools = eventually(10, "tools", async || {
        let tools = client.list_all_tools().await.ok()?;
        (!tools.is_empty()).then_some(tools)
    })
    .await;
    assert!(tools.iter().any(|t| t.name == "inventory.inventory_purge"), "{tools:?}");
    let result = client
        .call_tool(
            CallToolRequestParams::new("inventory.inventory_read")
                .with_arguments(args(json!({"target": "a"})).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(text(&result), "3 items in a");
    let _ = client.cancel().await;

    // Rotation: the old key stops working, the new one works.
    put_secret(&cluster, "gw-keys", json!({"ci": "k2-rotated"})).await;
    eventually(10, "the old key is revoked", async || {
        (post_initialize(&url, "Authorization: Bearer k1-secret-value\r\n").await.0 == 401).then_some(())
    })
    .await;
    assert_eq!(post_initialize(&url, "Authorization: Bearer k2-rotated\r\n").await.0, 200);

    // JWT issued by the engine.
    let signing = b"0123456789abcdef0123456789abcdef-engine";
    put_secret(&cluster, "gw-jwt", json!({"jwt-secret": std::str::from_utf8(signing).unwrap()})).await;
    cluster
        .gateways("default")
        .patch(
            "gw",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"auth": {"mode": "jwt", "secretRef": {"name": "gw-jwt"}}}})),
        )
        .await
        .unwrap();
    let operator = mint(signing, "operator", 300, "binnacle");
    eventually(10, "jwt mode", async || {
        (post_initialize(&url, &format!("Authorization: Bearer {operator}\r\n")).await.0 == 200).then_some(())
    })
    .await;
    assert_eq!(post_initialize(&url, "Authorization: Bearer k2-rotated\r\n").await.0, 401);
    let expired = mint(signing, "operator", -10, "binnacle");
    let (code, body) = post_initialize(&url, &format!("Authorization: Bearer {expired}\r\n")).await;
    assert_eq!(code, 401);
    assert!(body.contains("expired"), "{body}");
    // A viewer token whose payload is swapped for an admin one keeps the viewer's signature.
    let viewer_token = mint(signing, "viewer", 300, "binnacle");
    let admin_token = mint(signing, "admin", 300, "binnacle");
    let v: Vec<&str> = viewer_token.split('.').collect();
    let a: Vec<&str> = admin_token.split('.').collect();
    let tampered = format!("{}.{}.{}", v[0], a[1], v[2]);
    assert_eq!(post_initialize(&url, &format!("Authorization: Bearer {tampered}\r\n")).await.0, 401);
    let other_key = mint(b"another-secret-another-secret-another", "admin", 300, "binnacle");
    assert_eq!(post_initialize(&url, &format!("Authorization: Bearer {other_key}\r\n")).await.0, 401);
    let wrong_issuer = mint(signing, "admin", 300, "someone-else");
    let (code, body) = post_initialize(&url, &format!("Authorization: Bearer {wrong_issuer}\r\n")).await;
    assert_eq!(code, 401);
    assert!(body.contains("not issued by the engine"), "{body}");

    // Operator: every tool. Viewer: only read-only tools, and a mutating one cannot be called.
    let op = client_with(&url, &operator).await.unwrap();
    let all = op.list_all_tools().await.unwrap();
    assert!(all.iter().any(|t| t.name == "inventory.inventory_purge"), "{all:?}");
    let viewer = client_with(&url, &mint(signing, "viewer", 300, "binnacle")).await.unwrap();
    let names: Vec<String> = viewer.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    assert!(names.contains(&"inventory.inventory_read".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n == "inventory.inventory_purge" || n == "inventory.grow"), "{names:?}");
    let err = viewer
        .call_tool(
            CallToolRequestParams::new("inventory.inventory_purge")
                .with_arguments(args(json!({"target": "a"})).unwrap()),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("may call only read-only tools"), "{err}");
    let ok = viewer
        .call_tool(
            CallToolRequestParams::new("inventory.inventory_read")
                .with_arguments(args(json!({"target": "b"})).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(text(&ok), "3 items in b");
    let _ = viewer.cancel().await;
    let _ = op.cancel().await;
}
