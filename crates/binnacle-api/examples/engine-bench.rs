//! The engine under load: N concurrent conversations, each one tool call and then an answer streamed as
//! D deltas by an OpenAI-compatible stand-in that stamps every delta with the time it sent it. The bench
//! follows every run over SSE like a browser and reports the latency from the model's token leaving the
//! stand-in to the SSE client reading it (p50/p99/max), the run duration, and the process's resident
//! memory (everything runs in this one process: the simulated cluster, the stand-in, the engine on SQLite
//! and the clients, so the figure is an upper bound for the engine).
//!
//! `cargo run --release -p binnacle-api --example engine-bench [-- CONVERSATIONS DELTAS DELTA_MS]`
//! (defaults: 100 200 5).

#![allow(clippy::unwrap_used, missing_docs)]

use axum::Json;
use axum::response::sse::{Event as SseEvent, Sse};
use binnacle_api::{ApiConfig, AppState};
use binnacle_engine::{Engine, EngineConfig, ToolBox};
use binnacle_llm::{ProviderConfig, ProviderKind};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::{Catalog, ClusterSet, ToolContext};
use futures::StreamExt;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn micros() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

#[derive(Clone, Copy)]
struct Shape {
    deltas: usize,
    delta_ms: u64,
}

/// The stand-in: first turn a tool call, second turn `deltas` stamped deltas.
async fn chat(
    axum::extract::State(shape): axum::extract::State<Shape>,
    Json(body): Json<Value>,
) -> impl axum::response::IntoResponse {
    let turn = body["messages"].as_array().map(|m| m.iter().filter(|m| m["role"] == "assistant").count()).unwrap_or(0);
    let stream = async_stream(turn, shape);
    Sse::new(stream)
}

fn chunk(delta: Value, finish: Option<&str>) -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default().data(json!({"id": "c", "object": "chat.completion.chunk", "model": "bench", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).to_string()))
}

fn async_stream(turn: usize, shape: Shape) -> impl futures::Stream<Item = Result<SseEvent, Infallible>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        if turn == 0 {
            let call = json!({"tool_calls": [{"index": 0, "id": "call-1", "type": "function", "function": {"name": "cluster_info", "arguments": "{}"}}]});
            let _ = tx.send(chunk(call, None)).await;
            let _ = tx.send(chunk(json!({}), Some("tool_calls"))).await;
        } else {
            let mut tick = tokio::time::interval(Duration::from_millis(shape.delta_ms.max(1)));
            for _ in 0..shape.deltas {
                tick.tick().await;
                if tx.send(chunk(json!({"content": format!("{} ", micros())}), None)).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(chunk(json!({}), Some("stop"))).await;
        }
        let usage = json!({"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": shape.deltas}});
        let _ = tx.send(Ok(SseEvent::default().data(usage.to_string()))).await;
        let _ = tx.send(Ok(SseEvent::default().data("[DONE]"))).await;
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let conversations: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(100);
    let deltas: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let delta_ms: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    micros();

    let llm_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let llm_addr = llm_listener.local_addr().unwrap();
    let llm_app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat))
        .with_state(Shape { deltas, delta_ms });
    tokio::spawn(async move { axum::serve(llm_listener, llm_app).await });

    let sim = SimCluster::start(SimOptions { scenario: Scenario::Demo, ..SimOptions::default() }).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store =
        binnacle_store::Store::connect(&format!("sqlite://{}", tmp.path().join("bench.db").display())).await.unwrap();
    let ctx = ToolContext::new(
        Arc::new(ClusterSet::from_client("sim", kube::Client::new(sim.router(), "default"))),
        Arc::default(),
    );
    let tools = ToolBox::new(&Catalog::builtin(), ctx);
    let provider = ProviderConfig {
        kind: ProviderKind::OpenAi,
        base_url: format!("http://{llm_addr}/v1"),
        api_key: None,
        model: "bench".into(),
        max_retries: 0,
        initial_backoff: Duration::from_millis(10),
        request_timeout: Duration::from_secs(30),
        price_input_per_mtok: None,
        price_output_per_mtok: None,
    }
    .build()
    .unwrap();
    let engine = Engine::start(store.clone(), provider, tools, EngineConfig::default()).await.unwrap();
    let state = AppState::new(engine, ApiConfig { secure_cookies: false, ..ApiConfig::default() }, None).await.unwrap();
    binnacle_api::auth::ensure_admin(&store, Some("bench-admin-password")).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, binnacle_api::router(state).into_make_service_with_connect_info::<SocketAddr>()).await
    });

    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "bench-admin-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["accessToken"].as_str().unwrap().to_string();
    let rss_before = rss_mib();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..conversations {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let res: Value = http
                .post(format!("{base}/api/v1/conversations"))
                .bearer_auth(&token)
                .json(&json!({"message": format!("bench conversation {i}")}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let run = res["run"]["id"].as_str().unwrap().to_string();
            let res = http.get(format!("{base}/api/v1/runs/{run}/events")).bearer_auth(&token).send().await.unwrap();
            let mut body = res.bytes_stream();
            let mut buf = String::new();
            let mut latencies = Vec::with_capacity(deltas);
            let mut status = String::new();
            let mut tool_results = 0;
            'read: while let Some(chunk) = body.next().await {
                let now = micros();
                buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                while let Some(i) = buf.find("\n\n") {
                    let block: String = buf.drain(..i + 2).collect();
                    let event = block.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim).unwrap_or("");
                    let data = block.lines().find_map(|l| l.strip_prefix("data:")).map(str::trim).unwrap_or("");
                    match event {
                        "message.delta" => {
                            let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
                            for stamp in v["delta"].as_str().unwrap_or("").split_whitespace() {
                                if let Ok(sent) = stamp.parse::<u64>() {
                                    latencies.push(now.saturating_sub(sent));
                                }
                            }
                        }
                        "tool.result" => tool_results += 1,
                        "run.finished" => {
                            let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
                            status = v["status"].as_str().unwrap_or("").to_string();
                            break 'read;
                        }
                        _ => {}
                    }
                }
            }
            (latencies, status, tool_results, t0.elapsed())
        }));
    }
    let mut all = Vec::new();
    let mut durations = Vec::new();
    let mut failed = 0;
    let mut tool_results = 0;
    for t in tasks {
        let (lat, status, tools, d) = t.await.unwrap();
        if status != "completed" {
            failed += 1;
        }
        tool_results += tools;
        all.extend(lat);
        durations.push(d.as_millis() as u64 * 1000);
    }
    let wall = started.elapsed();
    all.sort_unstable();
    durations.sort_unstable();
    println!(
        "engine-bench: {conversations} concurrent conversations × ({deltas} deltas every {delta_ms} ms + 1 tool call), SQLite, SSE over loopback HTTP"
    );
    println!();
    println!("| measure                                   | value |");
    println!("|-------------------------------------------|-------|");
    println!("| runs completed / failed                   | {} / {failed} |", conversations - failed);
    println!("| tool calls answered                       | {tool_results} |");
    println!("| deltas received                           | {} of {} |", all.len(), conversations * deltas);
    println!("| delta latency, model → SSE client, p50    | {:.2} ms |", pct(&all, 0.50));
    println!("| delta latency, p99                        | {:.2} ms |", pct(&all, 0.99));
    println!("| delta latency, max                        | {:.2} ms |", pct(&all, 1.0));
    println!(
        "| run duration p50 / p99                    | {:.0} / {:.0} ms |",
        pct(&durations, 0.5),
        pct(&durations, 0.99)
    );
    println!("| wall time                                 | {:.2} s |", wall.as_secs_f64());
    println!("| peak RSS (whole process) before / after   | {rss_before:.1} / {:.1} MiB |", rss_mib());
    println!();
    println!("target: p99 < 50 ms");
    sim.shutdown().ok();
}
