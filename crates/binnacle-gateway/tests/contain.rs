//! Bad upstreams are contained: one that never answers, one that answers malformed JSON-RPC, oversized or
//! wrongly shaped results, or hangs in a call, gives clear errors for its own tools only, while a healthy
//! upstream next to it keeps being served.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use binnacle_gateway::crd::ServiceState;
use common::*;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Speaks MCP, but some tools answer badly.
    Rogue,
    /// Accepts connections and never answers.
    Mute,
    /// Lists a tool list larger than the gateway accepts.
    HugeList,
}

fn json_reply(body: String, session: bool) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
    if session {
        resp.headers_mut().insert("mcp-session-id", "rogue-1".parse().unwrap());
    }
    resp
}

async fn rogue(mode: Mode, _headers: HeaderMap, body: Bytes) -> Response {
    if mode == Mode::Mute {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else { return StatusCode::BAD_REQUEST.into_response() };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let method = msg.get("method").and_then(Value::as_str).unwrap_or_default();
    let ok = |result: Value| json_reply(json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(), false);
    match method {
        "initialize" => {
            let version = msg.pointer("/params/protocolVersion").cloned().unwrap_or(json!("2025-06-18"));
            let result = json!({"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": {"name": "rogue", "version": "1"}});
            json_reply(json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(), true)
        }
        m if m.starts_with("notifications/") => StatusCode::ACCEPTED.into_response(),
        "ping" => ok(json!({})),
        "tools/list" => {
            let schema = json!({"type": "object"});
            let mut tools: Vec<Value> = ["ok", "big", "garbage", "wrongshape", "hang"]
                .iter()
                .map(|n| json!({"name": n, "description": "rogue tool", "inputSchema": schema}))
                .collect();
            if mode == Mode::HugeList {
                tools.push(json!({"name": "huge", "description": "x".repeat(2 * 1024 * 1024), "inputSchema": schema}));
            }
            ok(json!({"tools": tools}))
        }
        "tools/call" => match msg.pointer("/params/name").and_then(Value::as_str).unwrap_or_default() {
            "ok" => ok(json!({"content": [{"type": "text", "text": "fine"}]})),
            "big" => ok(json!({"content": [{"type": "text", "text": "y".repeat(3 * 1024 * 1024)}]})),
            "garbage" => json_reply(format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[{{"#), false),
            "wrongshape" => ok(json!({"content": "not a list", "isError": "maybe"})),
            _ => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                ok(json!({}))
            }
        },
        _ => json_reply(
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no such method"}}).to_string(),
            false,
        ),
    }
}

async fn rogue_server(mode: Mode) -> Running {
    let app = axum::Router::new().route(
        "/mcp",
        post(move |h: HeaderMap, b: Bytes| rogue(mode, h, b))
            .get(|| async { StatusCode::METHOD_NOT_ALLOWED })
            .delete(|| async { StatusCode::OK }),
    );
    Running::start(app, loopback(), CancellationToken::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_upstreams_are_contained() {
    let cluster = Cluster::start().await;
    cluster.create_gateway("default", "gw", json!({"callTimeoutSeconds": 1})).await;
    let healthy = third_party(Arc::new(Seen::default()), loopback()).await;
    let rogue = rogue_server(Mode::Rogue).await;
    let mute = rogue_server(Mode::Mute).await;
    let huge = rogue_server(Mode::HugeList).await;
    let on = json!({"mcp-enabled": "true"});
    cluster.mcp_service("default", "mute", on.clone(), json!({}), mute.addr).await;
    cluster.mcp_service("default", "huge", on.clone(), json!({}), huge.addr).await;
    cluster.mcp_service("default", "rogue", on.clone(), json!({}), rogue.addr).await;
    cluster.mcp_service("default", "inventory", on, json!({}), healthy.addr).await;

    let started = Instant::now();
    // A mute upstream takes the whole request timeout to be declared unavailable.
    let options = binnacle_gateway::UpstreamOptions { request_timeout: Duration::from_secs(5), ..fast() };
    let gw = serve_gateway(cluster.client.clone(), "default", "gw", options).await;
    gw.wait_tools("the healthy and the rogue upstream", |n| {
        n.iter().any(|t| t == "inventory.inventory_read") && n.iter().any(|t| t == "rogue.ok")
    })
    .await;
    // The mute upstream (5 s request timeout) did not hold the others up.
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());

    let snapshot = eventually(15, "mute and huge are unavailable with reasons", async || {
        let s = gw.gateway.snapshot();
        let mute = &s.services.get(&binnacle_gateway::ServiceKey::new("default", "mute"))?.state;
        let huge = &s.services.get(&binnacle_gateway::ServiceKey::new("default", "huge"))?.state;
        (mute.message.as_deref()?.contains("within") && huge.message.as_deref() != Some("connecting")).then_some(s)
    })
    .await;
    let mute_state = &snapshot.services[&binnacle_gateway::ServiceKey::new("default", "mute")].state;
    assert_eq!(mute_state.status, ServiceState::Unavailable);
    assert!(mute_state.message.as_deref().unwrap().contains("no answer to initialize"), "{mute_state:?}");
    let huge_state = &snapshot.services[&binnacle_gateway::ServiceKey::new("default", "huge")].state;
    assert_eq!(huge_state.status, ServiceState::Unavailable);
    let huge_message = huge_state.message.clone().unwrap();
    assert!(huge_message.contains("tools/list failed"), "{huge_message}");
    assert!(huge_message.contains("maximum size of 1048576 bytes"), "{huge_message}");

    let (client, _) = connect(&gw.url("/mcp")).await;
    let call = async |name: &str| client.call_tool(CallToolRequestParams::new(name.to_string())).await;

    let r = call("rogue.ok").await.unwrap();
    assert_eq!(text(&r), "fine");

    // Oversized result: a clear error, the healthy upstream is unaffected.
    let r = call("rogue.big").await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let message = text(&r);
    assert!(message.starts_with("service default/rogue failed the call"), "{message}");
    assert!(message.contains("maximum size of 1048576 bytes"), "{message}");
    assert_eq!(text(&call("inventory.inventory_read").await.unwrap()), "3 items in ?");

    // Malformed JSON and a result of the wrong shape.
    for tool in ["rogue.garbage", "rogue.wrongshape"] {
        let r = call(tool).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{tool}: {r:?}");
        assert!(text(&r).starts_with("service default/rogue failed the call"), "{tool}: {}", text(&r));
        assert_eq!(text(&call("inventory.inventory_read").await.unwrap()), "3 items in ?");
    }

    // A call that hangs times out (callTimeoutSeconds: 1) while others go through.
    let (hung, other) = tokio::join!(call("rogue.hang"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = Instant::now();
        let r = call("inventory.inventory_read").await.unwrap();
        (text(&r), t.elapsed())
    });
    let hung = hung.unwrap();
    assert_eq!(hung.is_error, Some(true));
    assert_eq!(text(&hung), "service default/rogue did not answer within 1 s; the call was cancelled there");
    assert_eq!(other.0, "3 items in ?");
    assert!(other.1 < Duration::from_millis(800), "the healthy call waited {:?}", other.1);

    // The rogue upstream is reconnected after its misbehaviour and serves again.
    eventually(10, "rogue serves again", async || {
        let r = call("rogue.ok").await.ok()?;
        (text(&r) == "fine").then_some(())
    })
    .await;

    let _ = client.cancel().await;
    healthy.stop().await;
}
