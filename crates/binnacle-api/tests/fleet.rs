//! The fleet API end to end, on SQLite and on PostgreSQL: three simulated clusters served over loopback
//! from one kubeconfig (`sim-1` healthy, `sim-2` slowed, `sim-3` stopped), the engine's API with the fleet,
//! and an HTTP client reading JSON and SSE like the browser does. Assertions are on the order of events and
//! on what they say; the one time bound is far above any plausible run and far below the slow cluster's
//! delay.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use binnacle_api::{ApiConfig, AppState};
use binnacle_engine::{Engine, EngineConfig, ToolBox};
use binnacle_fleet::{Category, Fleet, FleetConfig};
use binnacle_sim::kubeconfig::{Entry, render};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::{Catalog, ClusterSet, ToolContext};
use common::{ADMIN_PASSWORD, Db, JWT_SECRET};
use futures::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Env {
    sims: Vec<SimCluster>,
    kubeconfig: std::path::PathBuf,
    base: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    _tmp: tempfile::TempDir,
    _pg: Option<binnacle_testkit::postgres::TestDatabase>,
}

/// Waits until the demo's controllers have made its pods.
async fn settle(sim: &SimCluster) {
    let client = kube::Client::new(sim.router(), "default");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let req = http::Request::get("/api/v1/pods").body(Vec::new()).unwrap();
        let pods: Value = client.request(req).await.unwrap();
        if pods["items"].as_array().map_or(0, Vec::len) >= 20 {
            return;
        }
        assert!(Instant::now() < deadline, "the demo's pods never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Env {
    /// Three demo clusters (sim-2 slowed by `slow`, sim-3 stopped) and the API with a fleet over them.
    async fn start(db: Db, slow: Duration, fleet_config: FleetConfig) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let mut sims = Vec::new();
        let mut entries = Vec::new();
        for i in 1..=3 {
            let sim = SimCluster::start(SimOptions {
                name: format!("sim-{i}"),
                scenario: Scenario::Demo,
                speed: 20.0,
                seed: 42 + i,
                ..SimOptions::default()
            })
            .await
            .unwrap();
            settle(&sim).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = sim.serve(listener).unwrap();
            entries.push(Entry { name: format!("sim-{i}"), server: format!("http://{addr}") });
            sims.push(sim);
        }
        let kubeconfig = tmp.path().join("fleet.kubeconfig");
        std::fs::write(&kubeconfig, render(&entries)).unwrap();
        sims[1].set_latency(slow);
        sims[2].shutdown().unwrap();

        let (db_url, pg) = match db {
            Db::Sqlite => (format!("sqlite://{}", tmp.path().join("engine.db").display()), None),
            Db::Postgres => {
                let d = binnacle_testkit::postgres::postgres_database().await.unwrap();
                (d.url().to_string(), Some(d))
            }
        };
        let store = binnacle_store::Store::connect(&db_url).await.unwrap();
        let kube = kube::Client::new(sims[0].router(), "default");
        let ctx = ToolContext::new(Arc::new(ClusterSet::from_client("sim-1", kube)), Arc::default());
        let tools = ToolBox::new(&Catalog::builtin(), ctx);
        let config =
            EngineConfig { replica_id: format!("fleet-{}", uuid::Uuid::new_v4().simple()), ..EngineConfig::default() };
        let provider = Arc::new(binnacle_engine::offline::OfflineAssistant::new());
        let engine = Engine::start(store.clone(), provider, tools, config).await.unwrap();
        let fleet = Fleet::start(FleetConfig { kubeconfigs: vec![kubeconfig.clone()], ..fleet_config }).await.unwrap();
        let api_config = ApiConfig { secure_cookies: false, heartbeat: Duration::from_secs(1), ..ApiConfig::default() };
        let state = AppState::new(engine, api_config, Some(JWT_SECRET)).await.unwrap().with_fleet(fleet);
        binnacle_api::auth::ensure_admin(&store, Some(ADMIN_PASSWORD)).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = binnacle_api::router(state);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Env {
            sims,
            kubeconfig,
            base: format!("http://{addr}"),
            http: reqwest::Client::builder().timeout(Duration::from_secs(300)).build().unwrap(),
            _stop: stop,
            _tmp: tmp,
            _pg: pg,
        }
    }

    async fn login(&self, user: &str, password: &str) -> String {
        let res = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["accessToken"].as_str().unwrap().to_string()
    }

    async fn user(&self, admin: &str, name: &str, role: &str) -> String {
        let password = format!("{name}-password-1");
        let (s, b) = self
            .send(
                "POST",
                "/api/v1/users",
                Some(admin),
                Some(json!({"username": name, "password": password, "role": role})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        self.login(name, &password).await
    }

    async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Reads an SSE response to its end: (event name, data) in order, heartbeats left out.
    async fn stream(&self, path: &str, token: &str) -> Vec<(String, Value)> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let mut body = res.bytes_stream();
        let mut buf = String::new();
        let mut out = Vec::new();
        while let Some(chunk) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()).replace("\r\n", "\n"));
            while let Some(i) = buf.find("\n\n") {
                let block: String = buf.drain(..i + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if !name.is_empty() {
                    out.push((name, serde_json::from_str(&data).unwrap_or(Value::String(data))));
                }
            }
        }
        out
    }
}

fn names(events: &[(String, Value)]) -> Vec<String> {
    events.iter().map(|(n, d)| format!("{n}:{}", d["cluster"].as_str().unwrap_or(""))).collect()
}

on_both_databases!(the_stream_sends_each_cluster_as_it_answers_then_a_summary, |db| async move {
    let config = FleetConfig { timeout: Duration::from_secs(30), watch_interval: None, ..FleetConfig::default() }
        .with_ttl(Category::Pods, Duration::from_millis(300));
    let env = Env::start(db, Duration::from_secs(3), config).await;
    let admin = env.login("admin", ADMIN_PASSWORD).await;
    let viewer = env.user(&admin, "victor", "viewer").await;

    let events = env.stream("/api/v1/fleet/pods/stream?limit=5", &viewer).await;
    let order = names(&events);
    assert_eq!(events.len(), 4, "three clusters and a summary: {order:?}");
    assert!(events[..3].iter().all(|(n, _)| n == "cluster"), "{order:?}");
    // The slowed cluster comes after the healthy one and the stopped one's failure; the summary ends it.
    assert_eq!(events[2].1["cluster"], "sim-2", "{order:?}");
    assert_eq!(events[3].0, "summary");
    let by = |c: &str| &events.iter().find(|(_, d)| d["cluster"] == c).unwrap().1;
    assert_eq!(by("sim-1")["status"], "ok");
    assert_eq!(by("sim-1")["stale"], false);
    assert_eq!(by("sim-1")["items"].as_array().unwrap().len(), 5);
    assert_eq!(by("sim-1")["truncated"], true);
    assert_eq!(by("sim-2")["status"], "ok");
    assert_eq!(by("sim-3")["status"], "error");
    let summary = &events[3].1;
    assert_eq!(summary["clusters"], 3);
    assert_eq!(summary["answered"], 2);
    let failed = summary["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{summary}");
    assert_eq!(failed[0]["cluster"], "sim-3");
    assert_eq!(failed[0]["reason"], "error");
    assert!(failed[0]["message"].as_str().unwrap().contains("cannot reach the cluster"), "{summary}");

    // Past the pods TTL the cached answers come back at once, marked stale with their age.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (s, body) = env.send("GET", "/api/v1/fleet/pods?clusters=sim-1,sim-2", Some(&viewer), None).await;
    assert_eq!(s, 200, "{body}");
    let clusters = body["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    for c in clusters {
        assert_eq!(c["stale"], true, "{c}");
        assert_eq!(c["status"], "stale");
        assert!(c["ageMs"].as_u64().unwrap() >= 300);
    }
    assert_eq!(body["summary"]["stale"], json!(["sim-1", "sim-2"]));
    assert!(body["errors"].as_array().unwrap().is_empty());

    // The cluster list: health per cluster.
    let (s, body) = env.send("GET", "/api/v1/fleet/clusters", Some(&viewer), None).await;
    assert_eq!(s, 200, "{body}");
    let list = body["clusters"].as_array().unwrap();
    assert_eq!(list.iter().map(|c| c["name"].as_str().unwrap()).collect::<Vec<_>>(), ["sim-1", "sim-2", "sim-3"]);
    assert_eq!(list[0]["reachable"], true);
    assert!(list[0]["version"].as_str().unwrap().starts_with("v1.32"));
    assert!(list[0]["pods"].as_u64().unwrap() >= 20);
    assert_eq!(list[2]["reachable"], false);
    assert!(list[2]["lastError"].as_str().unwrap().contains("cannot reach the cluster"));
    assert_eq!(body["categories"].as_array().unwrap().len(), 8);

    // A context removed from the kubeconfig goes on reload (operators and admins only).
    let entries: Vec<Entry> = vec![Entry {
        name: "sim-1".into(),
        server: env.send("GET", "/api/v1/fleet/clusters", Some(&viewer), None).await.1["clusters"][0]["server"]
            .as_str()
            .unwrap()
            .to_string(),
    }];
    std::fs::write(&env.kubeconfig, render(&entries)).unwrap();
    let (s, body) = env.send("POST", "/api/v1/fleet/clusters/reload", Some(&viewer), None).await;
    assert_eq!(s, 403, "{body}");
    let operator = env.user(&admin, "olivia", "operator").await;
    let (s, body) = env.send("POST", "/api/v1/fleet/clusters/reload", Some(&operator), None).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["removed"], json!(["sim-2", "sim-3"]));
    assert_eq!(body["clusters"], json!(["sim-1"]));
    let (s, body) = env.send("GET", "/api/v1/fleet/nodes?clusters=sim-2", Some(&viewer), None).await;
    assert_eq!(s, 400, "{body}");
    drop(env.sims);
});

on_both_databases!(a_slow_cluster_times_out_and_bad_requests_get_clear_errors, |db| async move {
    // sim-2 takes two minutes per response; the per-cluster timeout is one second.
    let config = FleetConfig { timeout: Duration::from_secs(1), watch_interval: None, ..FleetConfig::default() };
    let env = Env::start(db, Duration::from_secs(120), config).await;
    let admin = env.login("admin", ADMIN_PASSWORD).await;
    let viewer = env.user(&admin, "victor", "viewer").await;

    let started = Instant::now();
    let events = env.stream("/api/v1/fleet/workloads/stream", &viewer).await;
    let order = names(&events);
    assert_eq!(events.len(), 4, "{order:?}");
    assert_eq!(events[2].1["cluster"], "sim-2", "{order:?}");
    assert_eq!(events[2].1["status"], "timeout");
    let summary = &events[3].1;
    let failed: Vec<(&str, &str)> = summary["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["cluster"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert!(failed.contains(&("sim-2", "timeout")) && failed.contains(&("sim-3", "error")), "{failed:?}");
    let (s, body) = env.send("GET", "/api/v1/fleet/events", Some(&viewer), None).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["clusters"][0]["items"][0]["type"], "Warning");
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{}", body["errors"]);
    // Far below the slow cluster's delay: nothing waited for it.
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());

    // Unknown category: 404 listing the valid ones.
    let (s, body) = env.send("GET", "/api/v1/fleet/deployments", Some(&viewer), None).await;
    assert_eq!(s, 404, "{body}");
    let m = body["error"]["message"].as_str().unwrap();
    assert!(m.contains("\"deployments\"") && m.contains("helm-releases") && m.contains("gpu-nodes"), "{m}");
    let (s, _) = env.send("GET", "/api/v1/fleet/deployments/stream", Some(&viewer), None).await;
    assert_eq!(s, 404);
    // Unknown cluster: 400 naming it.
    let (s, body) = env.send("GET", "/api/v1/fleet/pods/stream?clusters=sim-1,nope", Some(&viewer), None).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("\"nope\""), "{body}");
    // A bad limit.
    let (s, body) = env.send("GET", "/api/v1/fleet/pods?limit=0", Some(&viewer), None).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("limit"));
    // Signed in, any role; anonymous, never.
    for p in [
        "/api/v1/fleet/clusters",
        "/api/v1/fleet/gpu-nodes?clusters=sim-1",
        "/api/v1/fleet/nodes/stream?clusters=sim-1",
    ] {
        assert_eq!(env.send("GET", p, None, None).await.0, 401, "{p}");
        assert_eq!(env.send("GET", p, Some(&viewer), None).await.0, 200, "{p}");
    }
    assert_eq!(env.send("POST", "/api/v1/fleet/clusters/reload", None, None).await.0, 401);
    // The OpenAPI document lists the fleet's routes.
    let (_, doc) = env.send("GET", "/api/v1/openapi.json", None, None).await;
    assert!(doc["paths"]["/api/v1/fleet/{category}/stream"]["get"].is_object());
});
