//! Benchmarks of the MCP adapter, printed as a table:
//!
//! - p50/p95 latency of each read tool called over Streamable HTTP with rmcp's client (a simulated cluster
//!   with the demo scenario served on TCP, the MCP HTTP server in process, one session);
//! - the same listing done by a `kubectl get pods -A -o json` process against the same cluster (20 runs;
//!   kubectl from `$KUBECTL`, else the `kubectl.1.32` next to the `kubectl` on PATH, else `kubectl`);
//! - the size of `tools/list` per toolset, in tokens estimated as JSON bytes / 4.
//!
//! Targets: listing pods over MCP at least 20× faster than the kubectl process; the k8s toolset's
//! `tools/list` under 4,000 tokens.
//!
//! Run: `cargo run --release -p binnacle-mcp --example mcp-bench`.

use binnacle_mcp::{HttpOptions, McpServer, ServerOptions, mcp_tool};
use binnacle_sim::kubeconfig::{Entry, render};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, ClusterSet, ToolContext, Toolset};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WARMUP: usize = 5;
const SAMPLES: usize = 50;
const KUBECTL_RUNS: usize = 20;
const SPEEDUP_TARGET: f64 = 20.0;
const K8S_TOKENS_TARGET: usize = 4_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Arguments of the read tools measured, for the demo scenario. Read tools of the catalog that are not
/// here are listed as not measured.
fn read_calls(pod: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("cluster_info", json!({})),
        ("api_resources_list", json!({"group": "apps"})),
        ("resources_list", json!({"kind": "pods", "allNamespaces": true})),
        ("resource_get", json!({"kind": "Deployment", "name": "frontend", "namespace": "shop"})),
        ("resource_describe", json!({"kind": "Deployment", "name": "payments-api", "namespace": "payments"})),
        ("events_list", json!({"allNamespaces": true})),
        ("pod_logs", json!({"name": pod, "namespace": "payments", "tailLines": 100})),
        ("rollout_status", json!({"name": "frontend", "namespace": "shop"})),
        ("rollout_history", json!({"name": "frontend", "namespace": "shop"})),
        ("pods_top", json!({"allNamespaces": true})),
        ("nodes_top", json!({})),
        (
            "resource_wait",
            json!({"kind": "Deployment", "name": "frontend", "namespace": "shop", "jsonPath": "{.metadata.name}=frontend"}),
        ),
        (
            "resource_diff",
            json!({"namespace": "shop", "manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench}\ndata: {a: b}\n"}),
        ),
        ("helm_releases_list", json!({})),
        ("helm_release_status", json!({"release": "podinfo", "namespace": "apps"})),
        ("helm_release_history", json!({"release": "podinfo", "namespace": "apps"})),
        ("helm_release_values", json!({"release": "podinfo", "namespace": "apps"})),
        ("helm_release_manifest", json!({"release": "podinfo", "namespace": "apps"})),
        ("argo_rollouts_list", json!({"namespace": "rollouts"})),
        ("argo_rollout_status", json!({"name": "checkout", "namespace": "rollouts"})),
        ("argo_rollout_describe", json!({"name": "checkout", "namespace": "rollouts"})),
        ("argo_rollout_history", json!({"name": "checkout", "namespace": "rollouts"})),
        ("argo_experiments_list", json!({"namespace": "rollouts"})),
        ("argo_analysis_runs_list", json!({"namespace": "rollouts"})),
    ]
}

fn kubectl_binary() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("KUBECTL").filter(|k| !k.is_empty()) {
        return Some(PathBuf::from(k));
    }
    let on_path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&on_path).map(|d| d.join("kubectl")).find(|p| p.is_file())?;
    let real = std::fs::canonicalize(&found).unwrap_or(found.clone());
    let pinned = real.parent().map(|d| d.join("kubectl.1.32")).filter(|p| p.is_file());
    Some(pinned.unwrap_or(found))
}

fn kubectl_runs(kubectl: &Path, kubeconfig: &Path) -> Result<(Vec<Duration>, usize), String> {
    let mut samples = Vec::new();
    let mut size = 0;
    for _ in 0..KUBECTL_RUNS {
        let start = Instant::now();
        let out = Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["get", "pods", "-A", "-o", "json"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", kubectl.display()))?;
        samples.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("{} failed: {}", kubectl.display(), String::from_utf8_lossy(&out.stderr)));
        }
        size = out.stdout.len();
    }
    samples.sort();
    Ok((samples, size))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The simulated cluster on TCP, and a kubeconfig for it that the MCP server and kubectl both use.
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Demo, ..SimOptions::default() }).await?;
    let sim_addr = sim.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
    let kubeconfig = std::env::temp_dir().join(format!("binnacle-mcp-bench-{}.kubeconfig", std::process::id()));
    std::fs::write(&kubeconfig, render(&[Entry { name: "sim".into(), server: format!("http://{sim_addr}") }]))?;
    // Let the controllers schedule and start the demo's pods.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let clusters = ClusterSet::from_kubeconfig(Some(&kubeconfig), None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ctx = ToolContext::new(Arc::new(clusters), Arc::new(Settings::default()));
    let catalog = Catalog::builtin();
    let server = McpServer::new(catalog.clone(), ctx, ServerOptions::default()).map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mcp_addr = listener.local_addr()?;
    let options = HttpOptions::default();
    let cancel = options.cancel.clone();
    let serving = tokio::spawn(binnacle_mcp::serve_http(listener, server, options, std::future::pending()));

    let client = ().serve(StreamableHttpClientTransport::from_uri(format!("http://{mcp_addr}/mcp"))).await?;
    let pods =
        client
            .call_tool(CallToolRequestParams::new("resources_list").with_arguments(obj(
                json!({"kind": "pods", "namespace": "payments", "labelSelector": "app=payments-api"}),
            )))
            .await?;
    let pod = pods.structured_content.as_ref().and_then(find_name).unwrap_or_else(|| "payments-api".to_string());

    println!(
        "Binnacle MCP benchmark — demo scenario, Streamable HTTP on loopback, one session, {SAMPLES} calls per tool after {WARMUP} warm-up calls"
    );
    println!();
    println!("| call | p50 | p95 | result size | notes |");
    println!("|---|---:|---:|---:|---|");
    let mut pods_p50 = None;
    let measured: Vec<(&str, Value)> =
        read_calls(&pod).into_iter().filter(|(name, _)| catalog.get(name).is_some()).collect();
    for (name, args) in &measured {
        let params = CallToolRequestParams::new(name.to_string()).with_arguments(obj(args.clone()));
        let mut samples = Vec::with_capacity(SAMPLES);
        let mut size = 0;
        let mut note = String::new();
        for i in 0..WARMUP + SAMPLES {
            let start = Instant::now();
            let result = client.call_tool(params.clone()).await?;
            let elapsed = start.elapsed();
            if result.is_error == Some(true) {
                note = format!(
                    "isError: {}",
                    result.content.first().and_then(|c| c.as_text()).map(|t| t.text.as_str()).unwrap_or("")
                );
            }
            size = serde_json::to_vec(&result).map(|v| v.len()).unwrap_or(0);
            if i >= WARMUP {
                samples.push(elapsed);
            }
        }
        samples.sort();
        let p50 = percentile(&samples, 0.5);
        if *name == "resources_list" {
            pods_p50 = Some(p50);
            note = format!("pods in every namespace {note}");
        }
        println!("| {name} | {} | {} | {} B | {} |", ms(p50), ms(percentile(&samples, 0.95)), size, note.trim());
    }
    let not_measured: Vec<&str> = catalog
        .tools()
        .iter()
        .map(|t| t.spec())
        .filter(|s| s.annotations.read_only && !measured.iter().any(|(n, _)| *n == s.name))
        .map(|s| s.name)
        .collect();

    match kubectl_binary() {
        Some(kubectl) => match kubectl_runs(&kubectl, &kubeconfig) {
            Ok((samples, size)) => {
                let p50 = percentile(&samples, 0.5);
                println!(
                    "| kubectl get pods -A -o json (process) | {} | {} | {size} B | {KUBECTL_RUNS} runs of {} |",
                    ms(p50),
                    ms(percentile(&samples, 0.95)),
                    kubectl.display()
                );
                if let Some(mcp) = pods_p50 {
                    let speedup = p50.as_secs_f64() / mcp.as_secs_f64();
                    let verdict = if speedup >= SPEEDUP_TARGET { "met" } else { "NOT met" };
                    println!();
                    println!(
                        "Pods list over MCP vs the kubectl process (p50): {speedup:.1}× faster — target ≥ {SPEEDUP_TARGET:.0}×: {verdict}"
                    );
                }
            }
            Err(e) => println!("| kubectl get pods -A -o json (process) | – | – | – | {e} |"),
        },
        None => println!("| kubectl get pods -A -o json (process) | – | – | – | kubectl not found (set KUBECTL) |"),
    }
    if !not_measured.is_empty() {
        println!(
            "Read tools not measured (they need systems outside the simulated cluster, or have no arguments here yet): {}",
            not_measured.join(", ")
        );
    }

    println!();
    println!("tools/list size per toolset (estimate: bytes of the JSON tools array / 4), as served by default and");
    println!("with --output-schemas");
    println!();
    println!("| toolset | tools | bytes | ≈ tokens | with output schemas: bytes | ≈ tokens | target |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let (mut all, mut all_full) = (Vec::new(), Vec::new());
    for toolset in Toolset::ALL {
        let specs: Vec<_> = catalog.tools().iter().map(|t| t.spec()).filter(|s| s.toolset == toolset).collect();
        let tools: Vec<_> = specs.iter().map(|s| mcp_tool(s, false)).collect();
        let full: Vec<_> = specs.iter().map(|s| mcp_tool(s, true)).collect();
        let bytes = serde_json::to_vec(&tools)?.len();
        let full_bytes = serde_json::to_vec(&full)?.len();
        let tokens = bytes / 4;
        let target = if toolset == Toolset::Kubernetes {
            format!(
                "< {K8S_TOKENS_TARGET} (default listing): {}",
                if tokens < K8S_TOKENS_TARGET { "met" } else { "NOT met" }
            )
        } else {
            String::new()
        };
        println!(
            "| {} | {} | {bytes} | {tokens} | {full_bytes} | {} | {target} |",
            toolset.as_str(),
            tools.len(),
            full_bytes / 4
        );
        all.extend(tools);
        all_full.extend(full);
    }
    let bytes = serde_json::to_vec(&all)?.len();
    let full_bytes = serde_json::to_vec(&all_full)?.len();
    println!("| all | {} | {bytes} | {} | {full_bytes} | {} | |", all.len(), bytes / 4, full_bytes / 4);

    let _ = client.cancel().await;
    cancel.cancel();
    serving.abort();
    sim.shutdown()?;
    let _ = std::fs::remove_file(&kubeconfig);
    Ok(())
}

fn obj(v: Value) -> JsonObject {
    v.as_object().cloned().unwrap_or_default()
}

/// The first `name` found in a resources_list result (rows or objects).
fn find_name(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(n)) = m.get("name") {
                return Some(n.clone());
            }
            if let Some(Value::String(n)) = m.get("metadata").and_then(|md| md.get("name")) {
                return Some(n.clone());
            }
            m.values().find_map(find_name)
        }
        Value::Array(a) => a.iter().find_map(find_name),
        _ => None,
    }
}
