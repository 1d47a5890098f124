//! The engine end to end: a simulated cluster, a scripted LLM (or the offline assistant), a real database
//! (SQLite file or a PostgreSQL database from the testkit), the API on a loopback port, and an HTTP client
//! that logs in and reads SSE like a browser would.

#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use binnacle_api::{ApiConfig, AppState};
use binnacle_engine::{ApprovalPolicy, Engine, EngineConfig, ToolBox};
use binnacle_llm::{LlmProvider, ProviderConfig, ProviderKind};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_testkit::llm::{Script, ScriptedLlmHandle, start_scripted_llm};
use binnacle_tools::{Catalog, ClusterSet, ToolContext};
use futures::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const JWT_SECRET: &str = "a-test-jwt-secret-of-at-least-32-bytes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub enum Model {
    OpenAi(Script),
    Anthropic(Script),
    Offline,
    /// An OpenAI-compatible URL where nothing listens.
    Down,
}

pub struct Harness {
    pub sim: SimCluster,
    pub llm: Option<ScriptedLlmHandle>,
    pub db_url: String,
    pub base: String,
    pub http: reqwest::Client,
    pub engine: Engine,
    pub kube: kube::Client,
    provider: Arc<dyn LlmProvider>,
    replica: String,
    api_config: ApiConfig,
    policy: ApprovalPolicy,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _tmp: tempfile::TempDir,
    _pg: Option<binnacle_testkit::postgres::TestDatabase>,
}

fn provider_for(kind: ProviderKind, base_url: String) -> Arc<dyn LlmProvider> {
    ProviderConfig {
        kind,
        base_url,
        api_key: Some("test-key".into()),
        model: "scripted".into(),
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        request_timeout: Duration::from_secs(10),
        price_input_per_mtok: Some(3.0),
        price_output_per_mtok: Some(15.0),
    }
    .build()
    .unwrap()
}

impl Harness {
    pub async fn start(db: Db, model: Model) -> Harness {
        Self::start_with(db, model, ApiConfig { secure_cookies: false, ..ApiConfig::default() }).await
    }

    pub async fn start_with(db: Db, model: Model, api_config: ApiConfig) -> Harness {
        Self::start_full(db, model, api_config, ApprovalPolicy::default()).await
    }

    pub async fn start_full(db: Db, model: Model, api_config: ApiConfig, policy: ApprovalPolicy) -> Harness {
        let sim = SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 20.0, ..SimOptions::default() })
            .await
            .unwrap();
        let kube = kube::Client::new(sim.router(), "default");
        let tmp = tempfile::tempdir().unwrap();
        let (db_url, pg) = match db {
            Db::Sqlite => (format!("sqlite://{}", tmp.path().join("engine.db").display()), None),
            Db::Postgres => {
                let d = binnacle_testkit::postgres::postgres_database().await.unwrap();
                (d.url().to_string(), Some(d))
            }
        };
        let (llm, provider): (Option<ScriptedLlmHandle>, Arc<dyn LlmProvider>) = match model {
            Model::OpenAi(script) => {
                let h = start_scripted_llm(script);
                let p = provider_for(ProviderKind::OpenAi, h.url());
                (Some(h), p)
            }
            Model::Anthropic(script) => {
                let h = start_scripted_llm(script);
                let p = provider_for(ProviderKind::Anthropic, h.anthropic_url());
                (Some(h), p)
            }
            Model::Offline => (None, Arc::new(binnacle_engine::offline::OfflineAssistant::new())),
            Model::Down => {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let port = l.local_addr().unwrap().port();
                drop(l);
                (None, provider_for(ProviderKind::OpenAi, format!("http://127.0.0.1:{port}/v1")))
            }
        };
        let replica = format!("test-{}", uuid::Uuid::new_v4().simple());
        let (engine, base, stop, server) =
            serve(&db_url, provider.clone(), kube.clone(), &replica, api_config.clone(), policy.clone()).await;
        Harness {
            sim,
            llm,
            db_url,
            base,
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
            engine,
            kube,
            provider,
            replica,
            api_config,
            policy,
            stop: Some(stop),
            server: Some(server),
            _tmp: tmp,
            _pg: pg,
        }
    }

    /// Stops the engine and its server, then starts them again on the same database (same replica id, as a
    /// restarted pod would have).
    pub async fn restart(&mut self) {
        self.shutdown().await;
        let (engine, base, stop, server) = serve(
            &self.db_url,
            self.provider.clone(),
            self.kube.clone(),
            &self.replica,
            self.api_config.clone(),
            self.policy.clone(),
        )
        .await;
        self.engine = engine;
        self.base = base;
        self.stop = Some(stop);
        self.server = Some(server);
    }

    pub async fn shutdown(&mut self) {
        self.engine.shutdown();
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.server.take() {
            t.abort();
            let _ = t.await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// A second replica on the same database.
    pub async fn second_replica(&self, replica: &str) -> Replica {
        let (engine, base, stop, server) = serve(
            &self.db_url,
            self.provider.clone(),
            self.kube.clone(),
            replica,
            self.api_config.clone(),
            self.policy.clone(),
        )
        .await;
        Replica { engine, base, _stop: stop, _server: server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, user: &str, password: &str) -> String {
        let (status, body, _) = self.login_raw(user, password).await;
        assert_eq!(status, 200, "login {user}: {body}");
        body["accessToken"].as_str().unwrap().to_string()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Logs in; answers (status, body, refresh cookie value).
    pub async fn login_raw(&self, user: &str, password: &str) -> (u16, Value, Option<String>) {
        let res = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let cookie = refresh_cookie_of(&res);
        (status, res.json().await.unwrap_or(Value::Null), cookie)
    }

    pub async fn create_user(&self, admin: &str, name: &str, role: &str) -> String {
        let (s, b) = self
            .send(
                "POST",
                "/api/v1/users",
                Some(admin),
                Some(json!({"username": name, "password": format!("{name}-password-1"), "role": role})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        self.login(name, &format!("{name}-password-1")).await
    }

    pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method.parse().unwrap(), self.url(path));
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

    /// Starts a conversation; answers (conversation id, run id).
    pub async fn ask(&self, token: &str, message: &str) -> (String, String) {
        let (s, b) = self.send("POST", "/api/v1/conversations", Some(token), Some(json!({"message": message}))).await;
        assert_eq!(s, 202, "{b}");
        (b["conversation"]["id"].as_str().unwrap().to_string(), b["run"]["id"].as_str().unwrap().to_string())
    }

    pub async fn events(&self, token: &str, run: &str, last_event_id: Option<i64>) -> SseStream {
        SseStream::open(&self.http, &self.base, token, run, last_event_id).await
    }

    /// Reads a run's events to its end.
    pub async fn run_to_end(&self, token: &str, run: &str) -> Vec<SseEvent> {
        let mut s = self.events(token, run, None).await;
        s.until("run.finished", Duration::from_secs(30)).await
    }

    /// Approves or denies the pending approval announced by `required`.
    pub async fn decide(&self, token: &str, required: &SseEvent, decision: &str, reason: Option<&str>) -> (u16, Value) {
        let d = &required.data;
        self.send(
            "POST",
            &format!("/api/v1/approvals/{}", d["approvalId"].as_str().unwrap()),
            Some(token),
            Some(json!({"decision": decision, "toolCallId": d["toolCallId"], "previewHash": d["previewHash"], "reason": reason})),
        )
        .await
    }

    pub async fn replicas_of(&self, ns: &str, name: &str) -> i64 {
        let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> = kube::Api::namespaced(self.kube.clone(), ns);
        api.get(name).await.unwrap().spec.and_then(|s| s.replicas).unwrap_or(1) as i64
    }
}

pub struct Replica {
    pub engine: Engine,
    pub base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
    _server: tokio::task::JoinHandle<()>,
}

async fn serve(
    db_url: &str,
    provider: Arc<dyn LlmProvider>,
    kube: kube::Client,
    replica: &str,
    api_config: ApiConfig,
    policy: ApprovalPolicy,
) -> (Engine, String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let store = binnacle_store::Store::connect(db_url).await.unwrap();
    let ctx = ToolContext::new(Arc::new(ClusterSet::from_client("sim", kube)), Arc::default());
    let tools = ToolBox::new(&Catalog::builtin(), ctx).with_call_timeout(Duration::from_secs(30));
    let config = EngineConfig {
        replica_id: replica.to_string(),
        lease: Duration::from_secs(3),
        pricing: Some((3.0, 15.0)),
        policy,
        ..EngineConfig::default()
    };
    let engine = Engine::start(store.clone(), provider, tools, config).await.unwrap();
    let state = AppState::new(engine.clone(), api_config, Some(JWT_SECRET)).await.unwrap();
    binnacle_api::auth::ensure_admin(&store, Some(ADMIN_PASSWORD)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = binnacle_api::router(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    (engine, format!("http://{addr}"), tx, server)
}

pub fn refresh_cookie_of(res: &reqwest::Response) -> Option<String> {
    res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let first = v.split(';').next()?;
        let (k, val) = first.split_once('=')?;
        (k == "binnacle_refresh").then(|| val.to_string())
    })
}

#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

/// A minimal SSE reader over a streaming response.
pub struct SseStream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
    pub comments: usize,
}

impl SseStream {
    pub async fn open(http: &reqwest::Client, base: &str, token: &str, run: &str, last: Option<i64>) -> SseStream {
        let mut req = http
            .get(format!("{base}/api/v1/runs/{run}/events"))
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(120));
        if let Some(l) = last {
            req = req.header("last-event-id", l.to_string());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "events of {run}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        SseStream { body: res.bytes_stream().boxed(), buf: String::new(), comments: 0 }
    }

    /// The next event, or `None` at the end of the stream or after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..i + 2).collect();
                let mut ev = SseEvent { id: None, event: "message".into(), data: Value::Null };
                let mut data = String::new();
                let mut only_comments = true;
                for line in block.lines() {
                    if line.starts_with(':') {
                        self.comments += 1;
                        continue;
                    }
                    only_comments = false;
                    if let Some(v) = line.strip_prefix("id:") {
                        ev.id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ev.event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if only_comments {
                    continue;
                }
                ev.data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(ev);
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await.ok()??.ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        }
    }

    /// Events up to and including the first named `name`; panics after `timeout`.
    pub async fn until(&mut self, name: &str, timeout: Duration) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(e) = self.next(left).await else {
                panic!(
                    "no {name} event within {timeout:?}; got: {:#?}",
                    out.iter().map(|e: &SseEvent| (&e.event, &e.data)).collect::<Vec<_>>()
                );
            };
            let done = e.event == name;
            out.push(e);
            if done {
                return out;
            }
        }
    }
}

pub fn names(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

pub fn text_of(events: &[SseEvent]) -> String {
    events.iter().filter(|e| e.event == "message.delta").filter_map(|e| e.data["delta"].as_str()).collect()
}

pub fn find<'a>(events: &'a [SseEvent], name: &str) -> &'a SseEvent {
    events.iter().find(|e| e.event == name).unwrap_or_else(|| panic!("no {name} in {:?}", names(events)))
}

/// Runs an async test body against SQLite and PostgreSQL as two tests.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                ($body)(Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                ($body)(Db::Postgres).await
            }
        }
    };
}
