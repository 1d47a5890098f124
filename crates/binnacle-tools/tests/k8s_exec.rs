//! `pod_exec` over a real connection: the simulated cluster served on 127.0.0.1 with a kubeconfig, so
//! kube-rs upgrades `pods/exec` to a WebSocket (v5/v4 channel protocol) as against a real API server.

#[path = "k8s_support.rs"]
mod support;

use binnacle_tools::ToolError;
use serde_json::json;
use support::{Env, demo, eventually};

async fn running_pod(e: &Env, ns: &str, selector: &str) -> String {
    let find = || async {
        let pods = e.ok("resources_list", json!({"kind": "pods", "namespace": ns, "labelSelector": selector})).await;
        pods.structured["items"].as_array().and_then(|i| {
            i.iter().find(|p| p["status"] == "Running").and_then(|p| p["name"].as_str().map(str::to_string))
        })
    };
    eventually("a running pod", || async { find().await.is_some() }).await;
    find().await.expect("running pod")
}

#[tokio::test]
async fn exec_captures_stdout_stderr_and_exit_code() {
    let e = Env::over_tcp(demo()).await;
    let pod = running_pod(&e, "shop", "app=frontend").await;
    let out = e.ok("pod_exec", json!({"name": pod, "namespace": "shop", "command": ["hostname"]})).await;
    assert_eq!(out.structured["exitCode"], 0, "{}", out.structured);
    assert_eq!(out.structured["stdout"], format!("{pod}\n"));
    assert_eq!(out.structured["container"], "nginx");
    assert!(out.untrusted);
    let sh = e
        .ok(
            "pod_exec",
            json!({"name": pod, "namespace": "shop", "command": ["sh", "-c", "echo hi; cat /nope"], "timeout": "10s"}),
        )
        .await;
    assert_eq!(sh.structured["stdout"], "hi\n");
    assert!(sh.structured["stderr"].as_str().is_some_and(|s| s.contains("No such file")), "{}", sh.structured);
    assert_eq!(sh.structured["exitCode"], 1, "{}", sh.structured);
    let missing = e.ok("pod_exec", json!({"name": pod, "namespace": "shop", "command": ["frobnicate"]})).await;
    assert_eq!(missing.structured["exitCode"], 127);
    // Literal env values are shown as the container sees them, with credentials redacted.
    let cart = running_pod(&e, "shop", "app=cart").await;
    let env = e
        .ok(
            "pod_exec",
            json!({"name": cart, "namespace": "shop", "container": "cart", "command": ["printenv", "REDIS_URL"]}),
        )
        .await;
    assert_eq!(env.structured["stdout"], "redis://redis.shop.svc:6379\n");
    // A container that is not running is refused before any connection.
    let crashing =
        e.ok("resources_list", json!({"kind": "pods", "namespace": "web", "labelSelector": "app=storefront"})).await;
    let bad = crashing.structured["items"][0]["name"].as_str().expect("storefront pod").to_string();
    let err =
        e.call("pod_exec", json!({"name": bad, "namespace": "web", "command": ["ls"]})).await.expect_err("not running");
    assert!(matches!(&err, ToolError::Conflict(m) if m.contains("not running")), "{err:?}");
}

#[tokio::test]
async fn exec_without_a_websocket_capable_connection_says_so() {
    // The in-process tower service cannot upgrade connections.
    let e = Env::in_process(demo()).await;
    let pod = running_pod(&e, "shop", "app=frontend").await;
    let err = e
        .call("pod_exec", json!({"name": pod, "namespace": "shop", "command": ["hostname"]}))
        .await
        .expect_err("no upgrade");
    assert!(matches!(&err, ToolError::Unavailable(m) if m.contains("WebSocket")), "{err:?}");
}

#[tokio::test]
async fn the_other_tools_work_over_tcp_too() {
    let e = Env::over_tcp(demo()).await;
    let info = e.ok("cluster_info", json!({})).await;
    assert_eq!(info.structured["context"], "sim-1");
    assert!(info.structured["server"].as_str().is_some_and(|s| s.starts_with("http://127.0.0.1:")));
    let pod = running_pod(&e, "shop", "app=frontend").await;
    let logs = e.ok("pod_logs", json!({"name": pod, "namespace": "shop", "tailLines": 5})).await;
    assert!(logs.structured["lines"].as_array().is_some_and(|l| !l.is_empty()));
    let waited = e.ok("resource_wait", json!({"kind": "deploy", "name": "frontend", "namespace": "shop", "condition": "Available", "timeout": "20s"})).await;
    assert_eq!(waited.structured["met"], true);
}
