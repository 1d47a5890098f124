//! The Streamable HTTP front door: rmcp's HTTP client against the router on a socket (initialize, list,
//! call), and the guard through `oneshot` (Origin, body size, malformed JSON-RPC, health).

mod common;

use axum::body::Body;
use binnacle_mcp::{HttpOptions, ServerOptions};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use tower::ServiceExt as _;

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn post_body(body: impl Into<Body>) -> Request<Body> {
    Request::post("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.into())
        .expect("request")
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#;

#[tokio::test]
async fn rmcp_client_over_streamable_http() {
    let f = common::fixture().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = HttpOptions::default();
    let cancel = options.cancel.clone();
    let server = f.server(ServerOptions::default());
    let serving =
        tokio::spawn(binnacle_mcp::serve_http(
            listener,
            server,
            options,
            async move { std::future::pending::<()>().await },
        ));

    let transport = StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
    let client = ().serve(transport).await.expect("initialize");
    assert_eq!(client.peer_info().and_then(|i| i.server_info.clone()).map(|i| i.name), Some("binnacle".to_string()));
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "cluster_info"));
    let result = client.call_tool(CallToolRequestParams::new("cluster_info")).await.expect("tools/call");
    assert_eq!(result.is_error, Some(false));
    assert_eq!(result.structured_content.as_ref().map(|s| s["version"].clone()), Some(json!("v1.32.5-binnacle-sim")));
    let _ = client.cancel().await;
    cancel.cancel();
    serving.abort();
}

#[tokio::test]
async fn guard_refuses_foreign_origins_big_bodies_and_malformed_messages() {
    let f = common::fixture().await;
    let app = binnacle_mcp::router(
        f.server(ServerOptions::default()),
        HttpOptions { max_body_bytes: 64 * 1024, ..Default::default() },
    );

    let (status, body) = send(&app, Request::get("/healthz").body(Body::empty()).expect("request")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));

    for origin in ["http://evil.example", "null", "http://localhost.evil.example:80", "garbage"] {
        let mut req = post_body(INITIALIZE);
        req.headers_mut().insert("origin", origin.parse().expect("header"));
        let (status, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}: {body}");
        let json: Value = serde_json::from_str(&body).expect("JSON refusal");
        assert_eq!(json["error"], "forbidden_origin");
        assert!(json["message"].as_str().is_some_and(|m| m.contains("--allowed-origins")), "{body}");
    }
    let mut req = post_body(INITIALIZE);
    req.headers_mut().insert("origin", "http://localhost:5173".parse().expect("header"));
    let (status, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"serverInfo\""), "{body}");

    let (status, body) = send(&app, post_body(vec![b' '; 100 * 1024])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    for (raw, code) in
        [("not json{", -32700), ("[1, 2]", -32600), ("42", -32600), (r#"{"jsonrpc":"2.0","id":9,"method":5}"#, -32600)]
    {
        let (status, body) = send(&app, post_body(raw)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw}: {body}");
        let json: Value = serde_json::from_str(&body).expect("JSON-RPC error");
        assert_eq!(json["jsonrpc"], "2.0");
        assert_eq!(json["error"]["code"], code, "{raw}: {body}");
    }
    let (_, body) = send(&app, post_body(r#"{"jsonrpc":"2.0","id":9,"method":5}"#)).await;
    assert_eq!(serde_json::from_str::<Value>(&body).expect("json")["id"], 9);

    // DNS rebinding: a foreign Host is refused by rmcp's own check.
    let mut req = post_body(INITIALIZE);
    req.headers_mut().insert("host", "evil.example".parse().expect("header"));
    assert_eq!(send(&app, req).await.0, StatusCode::FORBIDDEN);

    // Still serving.
    let (status, _) = send(&app, post_body(INITIALIZE)).await;
    assert_eq!(status, StatusCode::OK);
}
