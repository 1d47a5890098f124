//! The engine as an MCP agent (`/mcp` on the API's listener), driven by rmcp's Streamable HTTP client:
//! `ask` answered directly, `ask` stopping at the approval gate (nothing approved, the approval still
//! pending in the REST API, approve there, `run_status` completes), authentication, roles and cancellation —
//! on SQLite and on PostgreSQL, with the scripted model.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use binnacle_testkit::llm::{Script, ScriptedConversation, Turn};
use common::*;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ClientRequest,
    Implementation, ProgressNotificationParam,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A client that keeps the progress messages it hears.
#[derive(Clone, Default)]
struct Listener(Arc<Mutex<Vec<String>>>);

impl ClientHandler for Listener {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::default(), Implementation::new("mcp-agent-test", "1"))
    }

    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.0.lock().unwrap().push(params.message.unwrap_or_default());
    }
}

async fn connect(h: &Harness, token: &str) -> (RunningService<RoleClient, Listener>, Listener) {
    let config = StreamableHttpClientTransportConfig::with_uri(h.url("/mcp")).auth_header(token.to_string());
    let listener = Listener::default();
    let client = listener.clone().serve(StreamableHttpClientTransport::from_config(config)).await.unwrap();
    (client, listener)
}

fn call(name: &str, args: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name.to_string()).with_arguments(args.as_object().cloned().unwrap())
}

fn text(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

fn structured(r: &CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

fn scale_script() -> Script {
    Script::new(vec![
        ScriptedConversation::when(
            "scale cart",
            vec![
                Turn::tool_call("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": 4}))
                    .with_text("I will scale cart."),
                Turn::texts(["cart now ", "runs 4 replicas."]),
            ],
        ),
        ScriptedConversation::when("hang", vec![Turn::texts(["looking"]).hanging()]),
        ScriptedConversation::fallback(vec![
            Turn::texts(["The shop namespace ", "is healthy."]),
            Turn::texts(["Still healthy."]),
        ]),
    ])
}

on_both_databases!(ask_answers_and_continues_a_conversation, |db| async move {
    let h = Harness::start(db, Model::OpenAi(scale_script())).await;
    let admin = h.admin().await;
    let (client, heard) = connect(&h, &admin).await;

    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "binnacle-agent");
    assert!(info.instructions.as_deref().unwrap_or_default().contains("approval gate"));
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["ask", "run_status"]);
    let ask = &tools[0];
    let a = ask.annotations.clone().unwrap();
    assert_eq!((a.read_only_hint, a.destructive_hint, a.open_world_hint), (Some(false), Some(false), Some(true)));
    assert_eq!(tools[1].annotations.clone().unwrap().read_only_hint, Some(true));
    assert!(ask.title.is_some() && ask.meta.as_ref().unwrap().get("binnacle.dev/tags").is_some());

    let r = client.call_tool(call("ask", json!({"prompt": "how is shop?"}))).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(text(&r), "The shop namespace is healthy.");
    let s = structured(&r);
    assert_eq!(s["status"], "completed");
    assert_eq!(s["answer"], "The shop namespace is healthy.");
    let conversation = s["conversationId"].as_str().unwrap().to_string();
    // rmcp's client sends a progress token with every request: the deltas came as progress.
    let progress = heard.0.lock().unwrap().clone();
    assert!(progress.contains(&"The shop namespace ".to_string()), "{progress:?}");

    // The run is an ordinary run of the REST API, owned by the token's user.
    let (st, body) = h.send("GET", &format!("/api/v1/conversations/{conversation}"), Some(&admin), None).await;
    assert_eq!(st, 200, "{body}");

    let r2 =
        client.call_tool(call("ask", json!({"prompt": "and now?", "conversationId": conversation}))).await.unwrap();
    assert_eq!(text(&r2), "Still healthy.");
    assert_eq!(structured(&r2)["conversationId"], conversation.as_str());

    // Bad input: a JSON-RPC error that names the problem; nothing is started.
    let e = client.call_tool(call("ask", json!({"prompt": 3}))).await.unwrap_err();
    assert!(e.to_string().contains("`prompt` must be a string"), "{e}");
    let e = client.call_tool(call("ask", json!({"prompt": "x", "cluster": "nowhere"}))).await.unwrap_err();
    assert!(e.to_string().contains("unknown cluster context"), "{e}");
    let e = client.call_tool(call("run_status", json!({"runId": "no-such-run"}))).await.unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
    let _ = client.cancel().await;
});

on_both_databases!(ask_stops_at_the_gate_and_run_status_picks_up, |db| async move {
    let h = Harness::start(db, Model::OpenAi(scale_script())).await;
    let admin = h.admin().await;
    let before = h.replicas_of("shop", "cart").await;
    let viewer = h.create_user(&admin, "vera", "viewer").await;
    let operator = h.create_user(&admin, "otto", "operator").await;
    let (client, _) = connect(&h, &operator).await;

    let r = client.call_tool(call("ask", json!({"prompt": "scale cart to 4"}))).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let s = structured(&r);
    assert_eq!(s["status"], "awaiting_approval", "{s}");
    let run = s["runId"].as_str().unwrap().to_string();
    let conversation = s["conversationId"].as_str().unwrap();
    assert_eq!(s["commandCenterUrl"], format!("{}/conversations/{conversation}", h.base));
    let pending = s["pendingApprovals"].as_array().unwrap();
    assert_eq!(pending.len(), 1);
    let p = &pending[0];
    assert_eq!(p["tool"], "workload_scale");
    assert!(p["preview"].to_string().contains("replicas"), "the preview carries the diff: {}", p["preview"]);
    assert_eq!(p["approve"]["url"], format!("{}/api/v1/approvals/{}", h.base, p["approvalId"].as_str().unwrap()));
    assert!(text(&r).contains("waiting for a person to approve"), "{}", text(&r));
    // Nothing changed, and the approval waits in the REST API exactly as from the UI.
    assert_eq!(h.replicas_of("shop", "cart").await, before);
    let (_, list) = h.send("GET", "/api/v1/approvals?status=pending", Some(&admin), None).await;
    let items = list["items"].as_array().unwrap();
    assert!(items.iter().any(|a| a["id"] == p["approvalId"] && a["runId"] == run.as_str()), "{list}");
    let st = client.call_tool(call("run_status", json!({"runId": run}))).await.unwrap();
    assert_eq!(structured(&st)["status"], "awaiting_approval");

    // A viewer cannot approve (and cannot see another user's run).
    let decision = json!({"decision": "approve", "toolCallId": p["toolCallId"], "previewHash": p["previewHash"]});
    let path = format!("/api/v1/approvals/{}", p["approvalId"].as_str().unwrap());
    let (code, body) = h.send("POST", &path, Some(&viewer), Some(decision.clone())).await;
    assert_eq!(code, 403, "{body}");
    let (vclient, _) = connect(&h, &viewer).await;
    let e = vclient.call_tool(call("run_status", json!({"runId": run}))).await.unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
    // The body the result suggests approves it.
    let (code, body) = h.send("POST", &path, Some(&admin), Some(p["approve"]["body"].clone())).await;
    assert_eq!(code, 200, "{body}");

    let mut done = None;
    for _ in 0..100 {
        let st = client.call_tool(call("run_status", json!({"runId": run}))).await.unwrap();
        if structured(&st)["status"] == "completed" {
            done = Some(st);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = done.expect("the run completes after approval");
    assert_eq!(structured(&done)["answer"], "cart now runs 4 replicas.");
    assert_eq!(h.replicas_of("shop", "cart").await, 4);

    // A viewer may ask; its runs get read-only tools and so never reach the gate.
    let r = vclient.call_tool(call("ask", json!({"prompt": "how is shop?"}))).await.unwrap();
    assert_eq!(structured(&r)["status"], "completed");
    let _ = client.cancel().await;
    let _ = vclient.cancel().await;
});

on_both_databases!(cancelling_the_request_stops_the_run, |db| async move {
    let h = Harness::start(db, Model::OpenAi(scale_script())).await;
    let admin = h.admin().await;
    let (client, heard) = connect(&h, &admin).await;
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(call("ask", json!({"prompt": "hang on"}))));
    let handle = client.peer().send_cancellable_request(request, PeerRequestOptions::no_options()).await.unwrap();
    // Wait until the run streams (its first delta arrives as progress), then cancel.
    let mut streaming = false;
    for _ in 0..200 {
        if heard.0.lock().unwrap().iter().any(|m| m == "looking") {
            streaming = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(streaming, "no progress from the run: {:?}", heard.0.lock().unwrap());
    handle.cancel(Some("never mind".into())).await.unwrap();

    let mut status = Value::Null;
    for _ in 0..100 {
        let (_, list) = h.send("GET", "/api/v1/conversations", Some(&admin), None).await;
        let conv = list["items"][0]["id"].as_str().unwrap_or_default().to_string();
        let (_, c) = h.send("GET", &format!("/api/v1/conversations/{conv}"), Some(&admin), None).await;
        status = c["runs"][0]["status"].clone();
        if status == "stopped" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "stopped");
    assert!(
        h.llm.as_ref().unwrap().wait_for_disconnects(1, Duration::from_secs(5)).await,
        "the model stream was dropped"
    );
    let _ = client.cancel().await;
});

on_both_databases!(mcp_needs_a_valid_token, |db| async move {
    let h = Harness::start(db, Model::OpenAi(scale_script())).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |token: Option<&str>| {
        let mut req = h
            .http
            .post(h.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(init.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let res = post(None).await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("bearer token"), "{body}");
    let res = post(Some("not-a-jwt")).await.unwrap();
    assert_eq!(res.status(), 401);
    // rmcp's client gets the 401 too.
    let config = StreamableHttpClientTransportConfig::with_uri(h.url("/mcp"));
    assert!(Listener::default().serve(StreamableHttpClientTransport::from_config(config)).await.is_err());
    // A valid token opens a session; a foreign browser origin is refused.
    let admin = h.admin().await;
    let res = post(Some(&admin)).await.unwrap();
    assert_eq!(res.status(), 200);
    // Ending the session answers 204 (as `binnacle mcp` does), not rmcp's 202.
    let session = res.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let res = h.http.delete(h.url("/mcp")).bearer_auth(&admin).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = h
        .http
        .post(h.url("/mcp"))
        .bearer_auth(&admin)
        .header("origin", "http://evil.example")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
});

on_both_databases!(api_tokens_for_a_gateway, |db| async move {
    let h = Harness::start(db, Model::OpenAi(scale_script())).await;
    let admin = h.admin().await;
    let operator = h.create_user(&admin, "gw-bot", "operator").await;

    // Only admins create tokens; bad input is refused and creates nothing.
    let (s, body) = h.send("POST", "/api/v1/tokens", Some(&operator), Some(json!({"name": "gateway"}))).await;
    assert_eq!(s, 403, "{body}");
    for (bad, says) in [
        (json!({"name": "gateway", "expiresInDays": 0}), "expiresInDays"),
        (json!({"name": "gateway", "expiresInDays": 400}), "expiresInDays"),
        (json!({"name": ""}), "name"),
        (json!({"name": "gateway", "username": "nobody"}), "no user"),
    ] {
        let (s, body) = h.send("POST", "/api/v1/tokens", Some(&admin), Some(bad)).await;
        assert_eq!(s, 400, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(says), "{body}");
    }
    let (_, list) = h.send("GET", "/api/v1/tokens", Some(&admin), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");

    let (s, created) = h
        .send(
            "POST",
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"name": "gateway", "username": "gw-bot", "expiresInDays": 30})),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("bnl_") && created["username"] == "gw-bot", "{created}");
    let (_, list) = h.send("GET", "/api/v1/tokens", Some(&admin), None).await;
    assert_eq!(list["items"][0]["name"], "gateway");
    assert!(!list.to_string().contains(&token) && list["items"][0].get("tokenHash").is_none(), "{list}");

    // The token acts as gw-bot on /mcp (and on the REST API).
    let (client, _) = connect(&h, &token).await;
    let r = client.call_tool(call("ask", json!({"prompt": "how is shop?"}))).await.unwrap();
    assert_eq!(structured(&r)["status"], "completed");
    let (s, me) = h.send("GET", "/api/v1/auth/me", Some(&token), None).await;
    assert_eq!((s, me["username"].as_str()), (200, Some("gw-bot")), "{me}");
    let _ = client.cancel().await;

    // Revoked: refused at once, with a message that says what to do.
    let id = created["id"].as_str().unwrap();
    let (s, _) = h.send("DELETE", &format!("/api/v1/tokens/{id}"), Some(&admin), None).await;
    assert_eq!(s, 204);
    let (s, body) = h.send("GET", "/api/v1/conversations", Some(&token), None).await;
    assert_eq!(s, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("revoked"), "{body}");
    let config = StreamableHttpClientTransportConfig::with_uri(h.url("/mcp")).auth_header(token.clone());
    assert!(Listener::default().serve(StreamableHttpClientTransport::from_config(config)).await.is_err());
    let (s, _) = h.send("DELETE", "/api/v1/tokens/nope", Some(&admin), None).await;
    assert_eq!(s, 404);
    let (_, audit) = h.send("GET", "/api/v1/audit", Some(&admin), None).await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"token.created") && actions.contains(&"token.revoked"), "{actions:?}");
});
