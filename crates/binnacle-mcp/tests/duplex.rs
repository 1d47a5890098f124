//! The MCP adapter end to end over an in-memory byte stream, with rmcp's own client: initialize, tools/list,
//! tools/call (success, tool errors, protocol errors), read-only and deny filters, progress, cancellation and
//! the call timeout.

mod common;

use binnacle_mcp::{McpServer, ServerOptions};
use binnacle_tools::CatalogFilter;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientRequest, ErrorCode, JsonObject,
    ProgressNotificationParam,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService, ServiceError};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A client that records progress notifications.
#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.progress.lock().expect("lock").push(params);
    }
}

async fn connect(server: McpServer) -> (RunningService<RoleClient, Recorder>, Recorder) {
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let recorder = Recorder::default();
    let client = recorder.clone().serve(client_io).await.expect("client connects");
    (client, recorder)
}

fn args(v: Value) -> JsonObject {
    v.as_object().cloned().expect("object")
}

async fn call(
    client: &RunningService<RoleClient, Recorder>,
    name: &str,
    arguments: Value,
) -> Result<CallToolResult, ServiceError> {
    client.call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(args(arguments))).await
}

fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

fn invalid_params(result: Result<CallToolResult, ServiceError>) -> String {
    match result {
        Err(ServiceError::McpError(e)) => {
            assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e:?}");
            e.message.to_string()
        }
        other => panic!("expected invalid_params, got {other:?}"),
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn initialize_and_list_tools() {
    let f = common::fixture().await;
    let (client, _) = connect(f.server(ServerOptions { output_schemas: true, ..Default::default() })).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().map(|i| i.name.as_str()), Some("binnacle"));
    let instructions = info.instructions.clone().unwrap_or_default();
    for needle in ["context", "budgetTokens", "readOnlyHint", "destructiveHint"] {
        assert!(instructions.contains(needle), "instructions lack {needle}: {instructions}");
    }
    let tools = client.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), f.catalog.len());
    for tool in &tools {
        let wire = serde_json::to_value(tool).expect("serialises");
        for hint in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
            assert!(wire["annotations"][hint].is_boolean(), "{} lacks {hint}: {wire}", tool.name);
        }
        assert!(wire["title"].is_string() && wire["annotations"].get("title").is_none(), "{wire}");
        assert_eq!(wire["inputSchema"]["type"], "object", "{wire}");
        assert!(wire["inputSchema"]["properties"]["context"].is_object(), "{wire}");
        assert!(wire["outputSchema"].is_object(), "{wire}");
        assert!(wire["_meta"]["binnacle.dev/tags"].is_array(), "{wire}");
        assert!(
            ["k8s", "k8s-admin", "helm", "argo", "jenkins", "findings"]
                .iter()
                .any(|t| wire["_meta"]["binnacle.dev/tags"][0] == *t),
            "toolset first among the tags: {wire}"
        );
    }
    // By default the listing leaves output schemas out (token cost); results still carry structuredContent.
    let (lean, _) = connect(f.server(ServerOptions::default())).await;
    let lean_tools = lean.list_all_tools().await.expect("tools/list");
    assert!(lean_tools.iter().all(|t| serde_json::to_value(t).is_ok_and(|w| w.get("outputSchema").is_none())));
    let write = tools.iter().find(|t| t.name == "test_write").expect("test_write listed");
    let wire = serde_json::to_value(write).expect("serialises");
    assert_eq!(wire["annotations"]["readOnlyHint"], false);
    assert_eq!(wire["annotations"]["destructiveHint"], true);
    assert_eq!(wire["_meta"]["binnacle.dev/tags"][0], "helm");
}

#[tokio::test]
async fn calls_succeed_fail_or_are_refused() {
    let f = common::fixture().await;
    let (client, _) = connect(f.server(ServerOptions::default())).await;

    let ok = call(&client, "cluster_info", json!({})).await.expect("cluster_info");
    assert_eq!(ok.is_error, Some(false));
    assert_eq!(ok.structured_content.as_ref().map(|s| s["version"].clone()), Some(json!("v1.32.5-binnacle-sim")));
    assert!(text(&ok).contains("v1.32.5"), "{}", text(&ok));

    let failed = call(&client, "test_fails", json!({})).await.expect("a tool error is a result");
    assert_eq!(failed.is_error, Some(true));
    assert!(text(&failed).contains("backend is down"), "{}", text(&failed));

    let unknown = invalid_params(call(&client, "no_such_tool", json!({})).await);
    assert!(unknown.contains("no_such_tool"), "{unknown}");

    let bad = invalid_params(call(&client, "cluster_info", json!({"bogus": 1})).await);
    assert!(bad.contains("bogus"), "{bad}");
    let bad = invalid_params(call(&client, "cluster_info", json!({"context": "elsewhere"})).await);
    assert!(bad.contains("elsewhere"), "{bad}");

    // The session survives all of that.
    assert_eq!(call(&client, "cluster_info", json!({})).await.expect("still serving").is_error, Some(false));
}

#[tokio::test]
async fn read_only_and_deny_lists_hide_and_refuse_tools() {
    let f = common::fixture().await;
    let filter = CatalogFilter { read_only: true, deny: ["test_fails".to_string()].into(), ..Default::default() };
    let (client, _) = connect(f.server(ServerOptions { filter, ..Default::default() })).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.iter().all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)));
    assert!(tools.iter().all(|t| t.name != "test_write" && t.name != "test_fails"));
    assert!(tools.iter().any(|t| t.name == "cluster_info"));

    let refused = invalid_params(call(&client, "test_write", json!({})).await);
    assert!(refused.contains("read-only"), "{refused}");
    assert!(!f.wrote.load(Ordering::SeqCst), "the write tool ran in read-only mode");
    let refused = invalid_params(call(&client, "test_fails", json!({})).await);
    assert!(refused.contains("deny"), "{refused}");
}

#[test]
fn unknown_names_in_filters_fail_at_start_up() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let f = rt.block_on(common::fixture());
    let filter = CatalogFilter { allow: ["cluster_inf".to_string()].into(), ..Default::default() };
    let err = McpServer::new(f.catalog.clone(), f.ctx.clone(), ServerOptions { filter, ..Default::default() })
        .expect_err("typo refused");
    assert!(err.contains("cluster_inf"), "{err}");
}

#[tokio::test]
async fn progress_is_reported_with_the_request_token() {
    let f = common::fixture().await;
    let (client, recorder) = connect(f.server(ServerOptions::default())).await;
    let result = call(&client, "test_slow", json!({"millis": 200})).await.expect("test_slow");
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    eventually("three progress notifications arrived", || recorder.progress.lock().expect("lock").len() >= 3).await;
    let progress = recorder.progress.lock().expect("lock").clone();
    assert_eq!(progress.iter().map(|p| p.progress).collect::<Vec<_>>(), vec![1.0, 2.0, 3.0]);
    assert_eq!(progress[0].total, Some(3.0));
    assert_eq!(progress[2].message.as_deref(), Some("step 3 of 3"));
    assert!(progress.windows(2).all(|w| w[0].progress_token == w[1].progress_token));
}

#[tokio::test]
async fn cancellation_aborts_the_call() {
    let f = common::fixture().await;
    let (client, _) = connect(f.server(ServerOptions::default())).await;
    let params = CallToolRequestParams::new("test_slow").with_arguments(args(json!({"millis": 20_000})));
    let handle = client
        .send_request_with_option(
            ClientRequest::CallToolRequest(CallToolRequest::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("sent");
    eventually("the call started", || f.slow.started.load(Ordering::SeqCst) == 1).await;
    handle.cancel(Some("changed my mind".into())).await.expect("cancel sent");
    eventually("the call was aborted", || f.slow.aborted.load(Ordering::SeqCst) == 1).await;
    assert_eq!(f.slow.finished.load(Ordering::SeqCst), 0);
    // The session goes on.
    assert_eq!(call(&client, "cluster_info", json!({})).await.expect("still serving").is_error, Some(false));
}

#[tokio::test]
async fn slow_calls_time_out_as_tool_errors() {
    let f = common::fixture().await;
    let options = ServerOptions { call_timeout: Duration::from_millis(150), ..Default::default() };
    let (client, _) = connect(f.server(options)).await;
    let result = call(&client, "test_slow", json!({"millis": 20_000})).await.expect("a timeout is a result");
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("timed out"), "{}", text(&result));
    eventually("the call was aborted", || f.slow.aborted.load(Ordering::SeqCst) == 1).await;
}
