//! The gateway end to end, in process: a simulated cluster with the Gateway CRD, upstream MCP servers on
//! loopback (`binnacle mcp` over the cluster and a hand-written third-party rmcp server) behind Services
//! and EndpointSlices, the gateway serving `/mcp`, and an rmcp client.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use binnacle_gateway::crd::ServiceState;
use common::*;
use rmcp::model::{CallToolRequestParams, ClientRequest, ErrorCode};
use rmcp::service::{PeerRequestOptions, ServiceError};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aggregates_routes_and_follows_the_cluster() {
    let cluster = Cluster::start().await;
    cluster.namespace("shop", json!({"team": "shop"})).await;
    cluster.create_gateway("default", "gw", json!({})).await;

    let k8s = binnacle_mcp(cluster.client.clone()).await;
    let seen = Arc::new(Seen::default());
    let inventory = third_party(seen.clone(), loopback()).await;
    let inventory_addr = inventory.addr;
    cluster
        .mcp_service(
            "default",
            "k8s-tools",
            json!({"mcp-enabled": "true", "team": "platform"}),
            json!({"binnacle.dev/mcp-type": "tool", "binnacle.dev/mcp-path": "/mcp"}),
            k8s.addr,
        )
        .await;
    // Annotated the way existing manifests are.
    cluster
        .mcp_service(
            "shop",
            "inventory",
            json!({"mcp-enabled": "true"}),
            json!({"mcp.fetchfy.ai/type": "tool", "mcp.fetchfy.ai/endpoint": "/mcp"}),
            inventory.addr,
        )
        .await;
    // Not an MCP server: no label.
    cluster.mcp_service("default", "web", json!({"app": "web"}), json!({}), k8s.addr).await;

    let gw = serve_gateway(cluster.client.clone(), "default", "gw", fast()).await;
    let names = gw
        .wait_tools("both upstreams' tools", |n| {
            n.iter().any(|t| t == "k8s-tools.cluster_info") && n.iter().any(|t| t == "inventory.inventory_read")
        })
        .await;
    assert!(names.iter().all(|n| n.starts_with("k8s-tools.") || n.starts_with("inventory.")), "{names:?}");
    let ready = reqwest_get(&gw.url("/readyz")).await;
    assert_eq!(ready, (200, "ready".to_string()));
    assert_eq!(reqwest_get(&gw.url("/healthz")).await.0, 200);

    // An MCP client sees every tool, prefixed, with the upstream's annotations.
    let (client, heard) = connect(&gw.url("/mcp")).await;
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().map(|i| i.name.as_str()), Some("binnacle-gateway"));
    assert!(info.capabilities.tools.as_ref().and_then(|t| t.list_changed).unwrap_or(false));
    let tools = client.list_all_tools().await.unwrap();
    let read = tools.iter().find(|t| t.name == "inventory.inventory_read").unwrap();
    assert_eq!(read.annotations.as_ref().and_then(|a| a.read_only_hint), Some(true));
    let purge = tools.iter().find(|t| t.name == "inventory.inventory_purge").unwrap();
    assert!(purge.annotations.is_none(), "missing annotations are not invented");
    assert_eq!(
        read.meta.as_ref().and_then(|m| m.get("binnacle.dev/upstream")).and_then(|v| v.as_str()),
        Some("shop/inventory")
    );
    let cluster_info = tools.iter().find(|t| t.name == "k8s-tools.cluster_info").unwrap();
    assert_eq!(cluster_info.annotations.as_ref().and_then(|a| a.read_only_hint), Some(true));

    // One call to each upstream.
    let r = client.call_tool(CallToolRequestParams::new("k8s-tools.cluster_info")).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(r.structured_content.as_ref().map(|s| s["version"].clone()), Some(json!("v1.32.5-binnacle-sim")));
    let r = client
        .call_tool(
            CallToolRequestParams::new("inventory.inventory_read")
                .with_arguments(args(json!({"target": "shelf"})).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(text(&r), "3 items in shelf");
    assert_eq!(r.structured_content, Some(json!({"items": 3, "target": "shelf"})));

    // Errors pass through: a tool error stays a result, a JSON-RPC error stays an error.
    let r = client
        .call_tool(
            CallToolRequestParams::new("inventory.inventory_purge")
                .with_arguments(args(json!({"target": "all"})).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!((r.is_error, text(&r).as_str()), (Some(true), "refused to purge all"));
    let e = client
        .call_tool(
            CallToolRequestParams::new("inventory.fail_rpc").with_arguments(args(json!({"target": "x"})).unwrap()),
        )
        .await
        .unwrap_err();
    match e {
        ServiceError::McpError(e) => {
            assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
            assert_eq!(e.message, "target \"x\" is not a shelf");
        }
        other => panic!("expected the upstream's JSON-RPC error, got {other:?}"),
    }
    let e = client.call_tool(CallToolRequestParams::new("nope.tool")).await.unwrap_err();
    assert!(
        matches!(&e, ServiceError::McpError(d) if d.code == ErrorCode::INVALID_PARAMS && d.message.contains("unknown tool")),
        "{e:?}"
    );

    // Progress passes through.
    let r = client
        .call_tool(CallToolRequestParams::new("inventory.slow").with_arguments(args(json!({"millis": 200})).unwrap()))
        .await
        .unwrap();
    assert_eq!(text(&r), "slept");
    let progress = eventually(5, "progress notifications", async || {
        let p = heard.progress.lock().unwrap().clone();
        (p.len() >= 4).then_some(p)
    })
    .await;
    assert_eq!(progress.iter().map(|p| p.0).collect::<Vec<_>>(), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(progress[0].1.as_deref(), Some("step 1 of 4"));

    // Cancellation passes through.
    let request = ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(
        CallToolRequestParams::new("inventory.slow").with_arguments(args(json!({"millis": 4000})).unwrap()),
    ));
    let handle = client.peer().send_cancellable_request(request, PeerRequestOptions::no_options()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.cancel(Some("changed my mind".into())).await.unwrap();
    eventually(5, "the upstream sees the cancellation", async || {
        (seen.cancelled.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;

    // One upstream alone.
    let (single, _) = connect(&gw.url("/mcp/shop/inventory")).await;
    let own = single.list_all_tools().await.unwrap();
    assert!(own.iter().any(|t| t.name == "inventory_read") && own.iter().all(|t| !t.name.contains('.')), "{own:?}");
    let r = single
        .call_tool(CallToolRequestParams::new("inventory_read").with_arguments(args(json!({"target": "bin"})).unwrap()))
        .await
        .unwrap();
    assert_eq!(text(&r), "3 items in bin");
    assert_eq!(reqwest_get(&gw.url("/mcp/shop/nothing")).await.0, 404);

    // The Gateway's status tells the truth.
    let status = eventually(10, "status with two available services", async || {
        let s = cluster.gateway("default", "gw").await.status?;
        (s.services_available.as_deref() == Some("2/2")).then_some(s)
    })
    .await;
    assert_eq!(status.address.as_deref(), Some(gw.url("/mcp").as_str()));
    let ready = &status.conditions[0];
    assert_eq!((ready.type_.as_str(), ready.status.as_str(), ready.reason.as_str()), ("Ready", "True", "Serving"));
    assert_eq!(status.observed_generation, Some(1));
    let inv = status.mcp_services.iter().find(|s| s.name == "inventory").unwrap();
    assert_eq!((inv.namespace.as_str(), inv.status, inv.tools), ("shop", ServiceState::Available, 5));
    assert_eq!(inv.endpoint.as_deref(), Some(format!("http://{inventory_addr}/mcp").as_str()));
    eventually(10, "ServiceRegistered events", async || {
        let events = cluster.events("default").await;
        (events.iter().filter(|e| e.0 == "ServiceRegistered").count() >= 2).then_some(())
    })
    .await;

    // The upstream adds a tool and says so: the gateway relists and tells its clients.
    let before = heard.list_changed.load(Ordering::SeqCst);
    client.call_tool(CallToolRequestParams::new("inventory.grow")).await.unwrap();
    gw.wait_tools("the added tool", |n| n.iter().any(|t| t == "inventory.extra_1")).await;
    eventually(5, "list_changed after the upstream grew", async || {
        (heard.list_changed.load(Ordering::SeqCst) > before).then_some(())
    })
    .await;
    let r = client.call_tool(CallToolRequestParams::new("inventory.extra_1")).await.unwrap();
    assert_eq!(text(&r), "extra_1");

    // Kill the third-party server: its tools go, clients are told, status says Unavailable.
    let before = heard.list_changed.load(Ordering::SeqCst);
    inventory.stop().await;
    gw.wait_tools("inventory's tools gone", |n| !n.iter().any(|t| t.starts_with("inventory."))).await;
    eventually(5, "list_changed after the upstream died", async || {
        (heard.list_changed.load(Ordering::SeqCst) > before).then_some(())
    })
    .await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        tools.iter().all(|t| !t.name.starts_with("inventory."))
            && tools.iter().any(|t| t.name == "k8s-tools.cluster_info")
    );
    let r = client.call_tool(CallToolRequestParams::new("inventory.inventory_read")).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("service shop/inventory, which is unavailable"), "{}", text(&r));
    // The other upstream still answers.
    let r = client.call_tool(CallToolRequestParams::new("k8s-tools.cluster_info")).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    let status = eventually(10, "status with inventory unavailable", async || {
        let s = cluster.gateway("default", "gw").await.status?;
        (s.services_available.as_deref() == Some("1/2")).then_some(s)
    })
    .await;
    let inv = status.mcp_services.iter().find(|s| s.name == "inventory").unwrap();
    assert_eq!(inv.status, ServiceState::Unavailable);
    assert!(inv.message.is_some(), "{inv:?}");
    assert!(status.conditions[0].message.contains("unavailable: shop/inventory"), "{:?}", status.conditions);
    eventually(10, "a ServiceUnavailable event", async || {
        cluster.events("default").await.iter().any(|e| e.0 == "ServiceUnavailable").then_some(())
    })
    .await;

    // Bring it back on the same address: its tools return.
    let before = heard.list_changed.load(Ordering::SeqCst);
    let inventory = third_party(seen.clone(), inventory_addr).await;
    gw.wait_tools("inventory's tools back", |n| n.iter().any(|t| t == "inventory.inventory_read")).await;
    eventually(5, "list_changed after the upstream came back", async || {
        (heard.list_changed.load(Ordering::SeqCst) > before).then_some(())
    })
    .await;
    let r = client
        .call_tool(
            CallToolRequestParams::new("inventory.inventory_read")
                .with_arguments(args(json!({"target": "back"})).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(text(&r), "3 items in back");

    // An endpoint that is not ready is not used.
    cluster.endpoints("shop", "inventory", inventory.addr, false).await;
    gw.wait_tools("inventory's tools gone (not ready)", |n| !n.iter().any(|t| t.starts_with("inventory."))).await;
    cluster.endpoints("shop", "inventory", inventory.addr, true).await;
    gw.wait_tools("inventory's tools back (ready)", |n| n.iter().any(|t| t.starts_with("inventory."))).await;

    // Delete its Service: gone from the list and from status.
    cluster.delete_service("shop", "inventory").await;
    gw.wait_tools("inventory removed", |n| !n.iter().any(|t| t.starts_with("inventory."))).await;
    eventually(10, "status without inventory", async || {
        let s = cluster.gateway("default", "gw").await.status?;
        (s.mcp_services.len() == 1 && s.services_available.as_deref() == Some("1/1")).then_some(())
    })
    .await;
    eventually(10, "a ServiceRemoved event", async || {
        cluster.events("default").await.iter().any(|e| e.0 == "ServiceRemoved").then_some(())
    })
    .await;

    // Change the selector: only team=platform Services.
    cluster.mcp_service("shop", "inventory", json!({"mcp-enabled": "true"}), json!({}), inventory.addr).await;
    gw.wait_tools("inventory rediscovered", |n| n.iter().any(|t| t.starts_with("inventory."))).await;
    cluster.patch_gateway("default", "gw", json!({"serviceSelector": {"matchLabels": {"team": "platform"}}})).await;
    gw.wait_tools("only team=platform", |n| {
        !n.iter().any(|t| t.starts_with("inventory.")) && n.iter().any(|t| t.starts_with("k8s-tools."))
    })
    .await;
    eventually(10, "status for generation 2", async || {
        let s = cluster.gateway("default", "gw").await.status?;
        (s.observed_generation == Some(2) && s.mcp_services.len() == 1).then_some(())
    })
    .await;

    // Policy: deny a tool; read-only hides the writers.
    cluster
        .patch_gateway("default", "gw", json!({"toolPolicy": {"deny": ["k8s-tools.cluster_info"], "readOnly": true}}))
        .await;
    let names = gw.wait_tools("policy applied", |n| !n.iter().any(|t| t == "k8s-tools.cluster_info")).await;
    let all = gw.gateway.snapshot();
    let k8s_view = all.services.values().find(|s| s.prefix == "k8s-tools").unwrap();
    assert!(k8s_view.state.tools.len() > names.len(), "read-only hides the writing tools");
    assert!(all.tools.iter().all(binnacle_gateway::policy::is_read_only));
    let e = client.call_tool(CallToolRequestParams::new("k8s-tools.cluster_info")).await.unwrap_err();
    match e {
        ServiceError::McpError(e) => {
            assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
            assert!(e.message.contains("denied by this gateway's tool policy"), "{}", e.message);
        }
        other => panic!("expected invalid params, got {other:?}"),
    }
    let writer = k8s_view.state.tools.iter().find(|t| !binnacle_gateway::policy::is_read_only(t)).unwrap();
    let e = client.call_tool(CallToolRequestParams::new(format!("k8s-tools.{}", writer.name))).await.unwrap_err();
    assert!(matches!(&e, ServiceError::McpError(d) if d.message.contains("read-only")), "{e:?}");

    // An invalid spec: Ready=False says what to fix; the last valid spec keeps being served.
    cluster.patch_gateway("default", "gw", json!({"mcpPort": 70000})).await;
    let status = eventually(10, "Ready=False for the port", async || {
        let s = cluster.gateway("default", "gw").await.status?;
        (s.conditions.first()?.status == "False").then_some(s)
    })
    .await;
    let ready = &status.conditions[0];
    assert_eq!(ready.reason, "InvalidPort");
    assert!(ready.message.contains("mcpPort 70000 is out of range: use a port from 1 to 65535"), "{}", ready.message);
    assert!(ready.message.contains("keeps serving its last valid spec"), "{}", ready.message);
    assert_eq!(ready.observed_generation, Some(4));
    let r = client.call_tool(CallToolRequestParams::new("k8s-tools.pods_list")).await;
    assert!(r.is_ok() || matches!(r, Err(ServiceError::McpError(_))), "still serving: {r:?}");
    assert!(!gw.gateway.snapshot().tools.is_empty());

    // Metrics.
    let (code, body) = reqwest_get(&gw.url("/metrics")).await;
    assert_eq!(code, 200);
    assert!(body.contains("binnacle_gateway_tool_calls_total{service=\"shop/inventory\",outcome=\"ok\"}"), "{body}");
    assert!(body.contains("binnacle_gateway_list_changed_notifications_total"), "{body}");

    let _ = client.cancel().await;
    let _ = single.cancel().await;
    inventory.stop().await;
    k8s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_specs_say_what_to_fix() {
    let cluster = Cluster::start().await;
    cluster
        .create_gateway("default", "bad", json!({"serviceSelector": {"matchExpressions": [{"key": "tier", "operator": "Equals", "values": ["mcp"]}]}}))
        .await;
    cluster.create_gateway("default", "tls", json!({"enableTls": true, "tlsSecretRef": {"name": "gw-tls"}})).await;
    let seen = Arc::new(Seen::default());
    let upstream = third_party(seen, loopback()).await;
    cluster.mcp_service("default", "inventory", json!({"mcp-enabled": "true"}), json!({}), upstream.addr).await;
    let bad = serve_gateway(cluster.client.clone(), "default", "bad", fast()).await;
    let tls = serve_gateway(cluster.client.clone(), "default", "tls", fast()).await;

    let condition = |ns: &'static str, name: &'static str, reason: &'static str| {
        let cluster = &cluster;
        async move {
            eventually(10, reason, async || {
                let s = cluster.gateway(ns, name).await.status?;
                let c = s.conditions.into_iter().next()?;
                (c.reason == reason).then_some(c)
            })
            .await
        }
    };
    let c = condition("default", "bad", "InvalidServiceSelector").await;
    assert_eq!(c.status, "False");
    assert!(c.message.contains("operator \"Equals\": use In, NotIn, Exists or DoesNotExist"), "{}", c.message);
    assert!(c.message.contains("serves no tools until the spec is fixed"), "{}", c.message);
    assert!(bad.gateway.snapshot().tools.is_empty());
    eventually(10, "an InvalidSpec event", async || {
        cluster.events("default").await.iter().any(|e| e.0 == "InvalidSpec").then_some(())
    })
    .await;

    let c = condition("default", "tls", "TLSSecretMissing").await;
    assert!(c.message.contains("Secret default/gw-tls (tlsSecretRef) does not exist"), "{}", c.message);
    // The Secret appears: the check is repeated; TLS termination itself is not built yet and says so.
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(cluster.client.clone(), "default");
    let secret = serde_json::from_value(json!({
        "metadata": {"name": "gw-tls"}, "type": "kubernetes.io/tls",
        "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
    }))
    .unwrap();
    secrets.create(&Default::default(), &secret).await.unwrap();
    let c = condition("default", "tls", "TLSNotImplemented").await;
    assert!(c.message.contains("does not terminate TLS yet"), "{}", c.message);
    // The rest of its spec is served.
    tls.wait_tools("the TLS gateway serves tools", |n| n.iter().any(|t| t == "inventory.inventory_read")).await;

    // Fixing the selector makes it ready.
    cluster
        .patch_gateway(
            "default",
            "bad",
            json!({"serviceSelector": {"matchLabels": {"mcp-enabled": "true"}, "matchExpressions": null}}),
        )
        .await;
    let c = condition("default", "bad", "Serving").await;
    assert_eq!(c.status, "True");
    bad.wait_tools("the fixed gateway serves tools", |n| n.iter().any(|t| t == "inventory.inventory_read")).await;
    upstream.stop().await;
}

async fn reqwest_get(url: &str) -> (u16, String) {
    let uri: http::Uri = url.parse().unwrap();
    let authority = uri.authority().unwrap().to_string();
    let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let request = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", uri.path());
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = stream;
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, dechunk(&body))
}

/// Removes chunked transfer framing when present.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else { return body.to_string() };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return body.to_string() };
        if n == 0 {
            return out;
        }
        if after.len() < n {
            return body.to_string();
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
}

/// A client on the stateless protocol (2026-07-28, no session) lists and calls through the gateway and gets
/// `list_changed` on a `subscriptions/listen` stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_clients_listen_for_list_changed() {
    use rmcp::model::{ProtocolVersion, ServerNotification, SubscriptionFilter};
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    use rmcp::transport::StreamableHttpClientTransport;

    let cluster = Cluster::start().await;
    cluster.create_gateway("default", "gw", json!({})).await;
    let upstream = third_party(Arc::new(Seen::default()), loopback()).await;
    cluster.mcp_service("default", "inventory", json!({"mcp-enabled": "true"}), json!({}), upstream.addr).await;
    let gw = serve_gateway(cluster.client.clone(), "default", "gw", fast()).await;
    gw.wait_tools("inventory's tools", |n| n.iter().any(|t| t == "inventory.inventory_read")).await;

    let transport = StreamableHttpClientTransport::from_uri(gw.url("/mcp"));
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = ().serve_with_lifecycle(transport, lifecycle).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "inventory.inventory_read"));
    let r = client.call_tool(CallToolRequestParams::new("inventory.inventory_read")).await.unwrap();
    assert_eq!(text(&r), "3 items in ?");

    let mut subscription =
        client.peer().listen(SubscriptionFilter::builder().tools_list_changed().build()).await.unwrap();
    assert_eq!(subscription.acknowledged().tools_list_changed, Some(true));
    // A second upstream appears: the list changes.
    let other = third_party(Arc::new(Seen::default()), loopback()).await;
    cluster.mcp_service("default", "other", json!({"mcp-enabled": "true"}), json!({}), other.addr).await;
    let notification = tokio::time::timeout(Duration::from_secs(10), subscription.next()).await.unwrap().unwrap();
    assert!(matches!(notification, Some(ServerNotification::ToolListChangedNotification(_))), "{notification:?}");
    let _ = subscription.cancel().await;
    let _ = client.cancel().await;
    other.stop().await;
    upstream.stop().await;
}
