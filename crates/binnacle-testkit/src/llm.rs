//! A scripted LLM server speaking both wire protocols Binnacle uses, with streaming answers: OpenAI Chat
//! Completions (`POST /v1/chat/completions` and `POST /chat/completions`) and Anthropic Messages
//! (`POST /v1/messages`). See the crate docs for how a [`Script`] is played.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// The text answered when a conversation has no turn left.
pub const SCRIPT_EXHAUSTED: &str = "(script exhausted)";
/// The text answered when no conversation matches and there is no fallback.
pub const NO_MATCHING_CONVERSATION: &str = "(no scripted conversation matches)";

/// What the server answers: a list of conversations, each chosen by the first user message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The conversations, tried in order; the first whose [`ScriptedConversation::when_user_says`] occurs
    /// in the request's first user message is played, else the first without one (the fallback).
    #[serde(default)]
    pub conversations: Vec<ScriptedConversation>,
}

impl Script {
    /// A script of these conversations.
    pub fn new(conversations: Vec<ScriptedConversation>) -> Script {
        Script { conversations }
    }

    /// A script with a single fallback conversation of these turns (answers every request).
    pub fn turns(turns: Vec<Turn>) -> Script {
        Script { conversations: vec![ScriptedConversation::fallback(turns)] }
    }

    /// Reads a script from a JSON file.
    pub fn from_json_file(path: &std::path::Path) -> anyhow::Result<Script> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the script {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("the script {} is not valid: {e}", path.display()))
    }
}

/// One scripted conversation: the model's turns in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedConversation {
    /// A substring of the first user message that selects this conversation; `None` makes it the fallback.
    #[serde(default)]
    pub when_user_says: Option<String>,
    /// The answers: turn N answers a request that already holds N assistant messages.
    #[serde(default)]
    pub turns: Vec<Turn>,
}

impl ScriptedConversation {
    /// A conversation played when the first user message contains `text`.
    pub fn when(text: impl Into<String>, turns: Vec<Turn>) -> ScriptedConversation {
        ScriptedConversation { when_user_says: Some(text.into()), turns }
    }

    /// A conversation played when no other matches.
    pub fn fallback(turns: Vec<Turn>) -> ScriptedConversation {
        ScriptedConversation { when_user_says: None, turns }
    }
}

/// One answer of the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Turn {
    /// Text deltas, sent one per chunk, in order.
    pub text: Vec<String>,
    /// Thinking deltas (OpenAI `reasoning_content`, Anthropic thinking block), sent before the text.
    pub thinking: Vec<String>,
    /// Tool calls, sent after the text, each with its arguments split into 2–3 fragments.
    pub tool_calls: Vec<ScriptedToolCall>,
    /// Token usage reported: (prompt, completion).
    pub usage: (u64, u64),
    /// Pause between two chunks, in milliseconds.
    pub delay_ms_between_chunks: u64,
    /// HTTP statuses answered (one per request) before this turn succeeds, e.g. `[429, 500]`. Counted per
    /// conversation and turn for the server's lifetime.
    pub fail_first: Vec<u16>,
    /// `Retry-After` (seconds; fractions allowed) sent with the [`Turn::fail_first`] answers.
    pub retry_after_secs: Option<f64>,
    /// Keep the stream open after the thinking and text, never finishing (for stop/cancel tests).
    pub hang: bool,
    /// Send this error inside the stream (OpenAI: a chunk with `error`; Anthropic: an `error` event) after
    /// the thinking and text, then close it.
    pub stream_error: Option<String>,
    /// The stop reason sent (OpenAI `finish_reason`, Anthropic `stop_reason`); default: the tool-use one
    /// when there are tool calls, else the end-of-turn one.
    pub stop_reason: Option<String>,
}

impl Turn {
    /// A text answer, streamed a word at a time (the deltas join to `text`).
    pub fn text_of(text: &str) -> Turn {
        Turn { text: split_words(text), ..Turn::default() }
    }

    /// A text answer streamed as exactly these deltas.
    pub fn texts<S: Into<String>>(deltas: impl IntoIterator<Item = S>) -> Turn {
        Turn { text: deltas.into_iter().map(Into::into).collect(), ..Turn::default() }
    }

    /// An answer that calls one tool.
    pub fn tool_call(name: &str, arguments: Value) -> Turn {
        Turn::default().with_tool_call(name, arguments)
    }

    /// Adds text, a word per delta.
    pub fn with_text(mut self, text: &str) -> Turn {
        self.text.extend(split_words(text));
        self
    }

    /// Adds thinking, a word per delta.
    pub fn with_thinking(mut self, thinking: &str) -> Turn {
        self.thinking.extend(split_words(thinking));
        self
    }

    /// Adds a tool call (its id is generated).
    pub fn with_tool_call(mut self, name: &str, arguments: Value) -> Turn {
        self.tool_calls.push(ScriptedToolCall { id: None, name: name.into(), arguments });
        self
    }

    /// Adds a tool call with this id.
    pub fn with_tool_call_id(mut self, id: &str, name: &str, arguments: Value) -> Turn {
        self.tool_calls.push(ScriptedToolCall { id: Some(id.into()), name: name.into(), arguments });
        self
    }

    /// Sets the usage reported.
    pub fn with_usage(mut self, prompt: u64, completion: u64) -> Turn {
        self.usage = (prompt, completion);
        self
    }

    /// Sets the pause between chunks.
    pub fn with_delay_ms(mut self, ms: u64) -> Turn {
        self.delay_ms_between_chunks = ms;
        self
    }

    /// Answers these statuses first (one per request).
    pub fn failing_first(mut self, statuses: impl IntoIterator<Item = u16>) -> Turn {
        self.fail_first = statuses.into_iter().collect();
        self
    }

    /// Sends `Retry-After` with the failures.
    pub fn with_retry_after(mut self, seconds: f64) -> Turn {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// Never finishes the stream.
    pub fn hanging(mut self) -> Turn {
        self.hang = true;
        self
    }

    /// Ends the stream with an in-stream error.
    pub fn with_stream_error(mut self, message: &str) -> Turn {
        self.stream_error = Some(message.into());
        self
    }

    /// Sends this stop reason.
    pub fn with_stop_reason(mut self, reason: &str) -> Turn {
        self.stop_reason = Some(reason.into());
        self
    }
}

/// A tool call the model makes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedToolCall {
    /// The call id; `None` generates one (`call_<turn>_<n>` for OpenAI, `toolu_<turn>_<n>` for Anthropic).
    #[serde(default)]
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The arguments. A JSON string is sent verbatim as the argument text (so `"{\"broken"` streams
    /// invalid JSON); anything else is serialized.
    #[serde(default)]
    pub arguments: Value,
}

/// The wire protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// OpenAI Chat Completions (`openai` in JSON).
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic Messages (`anthropic` in JSON).
    #[serde(rename = "anthropic")]
    Anthropic,
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Which protocol it used.
    pub protocol: Protocol,
    /// The request path.
    pub path: String,
    /// The headers, names lowercased (repeated headers joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`Value::Null` when it was not JSON).
    pub body: Value,
    /// When it arrived.
    pub received_at: Instant,
    /// When it arrived, in milliseconds since the Unix epoch.
    pub received_unix_ms: u64,
    /// The HTTP status answered.
    pub status: u16,
}

impl RecordedRequest {
    fn to_json(&self) -> Value {
        json!({
            "protocol": self.protocol,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "received_unix_ms": self.received_unix_ms,
            "status": self.status,
        })
    }
}

/// A running scripted LLM server. Dropping it stops the server.
#[derive(Debug)]
pub struct ScriptedLlmHandle {
    addr: SocketAddr,
    state: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ScriptedLlmHandle {
    /// The OpenAI-compatible base URL, e.g. `http://127.0.0.1:41234/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The Anthropic base URL, e.g. `http://127.0.0.1:41234`.
    pub fn anthropic_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every model request received so far (including the failed ones), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().requests.clone()
    }

    /// The JSON bodies of every model request received so far, oldest first.
    pub fn bodies(&self) -> Vec<Value> {
        self.state.lock().requests.iter().map(|r| r.body.clone()).collect()
    }

    /// How many model requests were received.
    pub fn request_count(&self) -> usize {
        self.state.lock().requests.len()
    }

    /// How many streams the client closed before the server finished sending them (a dropped stream, a
    /// stopped run, a hanging turn abandoned).
    pub fn disconnects(&self) -> u64 {
        self.state.disconnects.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` until [`ScriptedLlmHandle::disconnects`] reaches `n`; true when it did.
    pub async fn wait_for_disconnects(&self, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.disconnects() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the server now.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for ScriptedLlmHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a scripted server on a free loopback port. Must be called inside a Tokio runtime (it panics
/// otherwise, or if no loopback port can be bound: it is meant for tests).
pub fn start_scripted_llm(script: Script) -> ScriptedLlmHandle {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(tokio::net::TcpListener::from_std)
        .unwrap_or_else(|e| panic!("the scripted LLM server cannot bind a loopback port: {e}"));
    serve(listener, script).unwrap_or_else(|e| panic!("the scripted LLM server cannot start: {e}"))
}

/// Starts a scripted server on `listen` (a loopback address; port 0 picks a free port).
pub async fn serve_scripted_llm(listen: SocketAddr, script: Script) -> std::io::Result<ScriptedLlmHandle> {
    if !listen.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the scripted LLM server listens on loopback addresses only, not {listen}"),
        ));
    }
    serve(tokio::net::TcpListener::bind(listen).await?, script)
}

fn serve(listener: tokio::net::TcpListener, script: Script) -> std::io::Result<ScriptedLlmHandle> {
    let addr = listener.local_addr()?;
    let state = Arc::new(Shared {
        script,
        inner: Mutex::new(Recorded::default()),
        disconnects: AtomicU64::new(0),
        next_id: AtomicU64::new(1),
    });
    let router = Router::new()
        .route("/v1/chat/completions", post(openai))
        .route("/chat/completions", post(openai))
        .route("/v1/messages", post(anthropic))
        .route("/_requests", get(list_requests))
        .with_state(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok(ScriptedLlmHandle { addr, state, shutdown: Some(tx), task: Some(task) })
}

#[derive(Debug)]
struct Shared {
    script: Script,
    inner: Mutex<Recorded>,
    disconnects: AtomicU64,
    next_id: AtomicU64,
}

#[derive(Debug, Default)]
struct Recorded {
    requests: Vec<RecordedRequest>,
    /// Failures already answered, per (conversation, turn).
    failures: BTreeMap<(usize, usize), usize>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn list_requests(State(state): State<Arc<Shared>>) -> Response {
    let all: Vec<Value> = state.lock().requests.iter().map(RecordedRequest::to_json).collect();
    axum::Json(Value::Array(all)).into_response()
}

async fn openai(State(state): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    answer(state, Protocol::OpenAi, uri, headers, body)
}

async fn anthropic(State(state): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    answer(state, Protocol::Anthropic, uri, headers, body)
}

/// What a request asks for: the turn to play.
enum Plan {
    Fail { status: u16, retry_after: Option<f64> },
    Play { turn: Turn, turn_index: usize },
}

fn answer(state: Arc<Shared>, protocol: Protocol, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let mut recorded = RecordedRequest {
        protocol,
        path: uri.path().to_string(),
        headers: record_headers(&headers),
        body: parsed.clone().unwrap_or(Value::Null),
        received_at: Instant::now(),
        received_unix_ms: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
        status: 200,
    };
    let Some(request) = parsed.filter(|v| v.get("messages").is_some_and(Value::is_array)) else {
        recorded.status = 400;
        state.lock().requests.push(recorded);
        return error_reply(protocol, 400, "the request body must be JSON with a messages array", None);
    };
    let messages = request.get("messages").and_then(Value::as_array).cloned().unwrap_or_default();
    let first_user = messages
        .iter()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content")))
        .unwrap_or_default();
    let turn_index = messages.iter().filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant")).count();
    let model = request.get("model").and_then(Value::as_str).unwrap_or("scripted").to_string();

    let conversation = state
        .script
        .conversations
        .iter()
        .position(|c| c.when_user_says.as_deref().is_some_and(|s| first_user.contains(s)))
        .or_else(|| state.script.conversations.iter().position(|c| c.when_user_says.is_none()));
    let plan = {
        let mut rec = state.lock();
        let plan = match conversation {
            None => Plan::Play { turn: Turn::text_of(NO_MATCHING_CONVERSATION), turn_index },
            Some(c) => match state.script.conversations[c].turns.get(turn_index) {
                None => Plan::Play { turn: Turn::text_of(SCRIPT_EXHAUSTED), turn_index },
                Some(turn) => {
                    let failed = rec.failures.entry((c, turn_index)).or_insert(0);
                    match turn.fail_first.get(*failed) {
                        Some(&status) => {
                            *failed += 1;
                            Plan::Fail { status, retry_after: turn.retry_after_secs }
                        }
                        None => Plan::Play { turn: turn.clone(), turn_index },
                    }
                }
            },
        };
        if let Plan::Fail { status, .. } = plan {
            recorded.status = status;
        }
        rec.requests.push(recorded);
        plan
    };
    match plan {
        Plan::Fail { status, retry_after } => {
            error_reply(protocol, status, &format!("scripted failure (HTTP {status})"), retry_after)
        }
        Plan::Play { turn, turn_index } => {
            let id = state.next_id.fetch_add(1, Ordering::SeqCst);
            let chunks = match protocol {
                Protocol::OpenAi => openai_chunks(&turn, turn_index, id, &model),
                Protocol::Anthropic => anthropic_chunks(&turn, turn_index, id, &model),
            };
            stream_reply(state, chunks, Duration::from_millis(turn.delay_ms_between_chunks))
        }
    }
}

fn record_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_string())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

/// The text of a message's content: a string, or the text parts/blocks joined.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n")
        }
        _ => String::new(),
    }
}

fn error_reply(protocol: Protocol, status: u16, message: &str, retry_after: Option<f64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match protocol {
        Protocol::OpenAi => json!({"error": {"message": message, "type": error_type(status), "code": null}}),
        Protocol::Anthropic => json!({"type": "error", "error": {"type": error_type(status), "message": message}}),
    };
    let mut response = (code, axum::Json(body)).into_response();
    if let Some(seconds) = retry_after
        && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// One piece of a streamed answer.
enum Chunk {
    /// Bytes to send.
    Data(String),
    /// Stop sending but keep the connection open until the client leaves.
    Hang,
}

/// Streams `chunks` with `delay` between them; counts a disconnect when the client leaves early.
fn stream_reply(state: Arc<Shared>, chunks: Vec<Chunk>, delay: Duration) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(1);
    tokio::spawn(async move {
        for (i, chunk) in chunks.into_iter().enumerate() {
            if i > 0 && !delay.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = tx.closed() => {
                        state.disconnects.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
            }
            match chunk {
                Chunk::Data(text) => {
                    if tx.send(Ok(Bytes::from(text))).await.is_err() {
                        state.disconnects.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
                Chunk::Hang => {
                    tx.closed().await;
                    state.disconnects.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Splits text into deltas of one word each, the spaces kept, so that the deltas join to `text`.
fn split_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if ch.is_whitespace() && !current.trim().is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(ch);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The argument text of a call: a JSON string verbatim, anything else serialized.
fn argument_text(arguments: &Value) -> String {
    match arguments {
        Value::String(s) => s.clone(),
        Value::Null => "{}".into(),
        other => other.to_string(),
    }
}

/// Splits `text` into 3 pieces (2 when short, 1 when tiny) on character boundaries.
fn fragments(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let pieces = match chars.len() {
        0 => return vec![String::new()],
        1 => 1,
        2..=5 => 2,
        _ => 3,
    };
    let size = chars.len().div_ceil(pieces);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

fn sse_data(v: &Value) -> Chunk {
    Chunk::Data(format!("data: {v}\n\n"))
}

fn sse_event(name: &str, v: &Value) -> Chunk {
    Chunk::Data(format!("event: {name}\ndata: {v}\n\n"))
}

fn openai_chunks(turn: &Turn, turn_index: usize, id: u64, model: &str) -> Vec<Chunk> {
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let chunk_id = format!("chatcmpl-scripted-{id}");
    let chunk = |delta: Value, finish: Option<&str>| {
        sse_data(&json!({
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }))
    };
    let mut out = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    for t in &turn.thinking {
        out.push(chunk(json!({"reasoning_content": t}), None));
    }
    for t in &turn.text {
        out.push(chunk(json!({"content": t}), None));
    }
    if let Some(message) = &turn.stream_error {
        out.push(sse_data(&json!({"error": {"message": message, "type": "server_error"}})));
        return out;
    }
    if turn.hang {
        out.push(Chunk::Hang);
        return out;
    }
    for (i, call) in turn.tool_calls.iter().enumerate() {
        let call_id = call.id.clone().unwrap_or_else(|| format!("call_{turn_index}_{i}"));
        out.push(chunk(
            json!({"tool_calls": [{
                "index": i, "id": call_id, "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }]}),
            None,
        ));
        for fragment in fragments(&argument_text(&call.arguments)) {
            out.push(chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]}), None));
        }
    }
    let finish = turn
        .stop_reason
        .clone()
        .unwrap_or_else(|| if turn.tool_calls.is_empty() { "stop".into() } else { "tool_calls".into() });
    out.push(chunk(json!({}), Some(&finish)));
    let (prompt, completion) = turn.usage;
    out.push(sse_data(&json!({
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    })));
    out.push(Chunk::Data("data: [DONE]\n\n".into()));
    out
}

fn anthropic_chunks(turn: &Turn, turn_index: usize, id: u64, model: &str) -> Vec<Chunk> {
    let (prompt, completion) = turn.usage;
    let mut out = vec![sse_event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": format!("msg_scripted_{id}"), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": prompt, "output_tokens": 1},
        }}),
    )];
    out.push(sse_event("ping", &json!({"type": "ping"})));
    let mut index = 0usize;
    if !turn.thinking.is_empty() {
        out.push(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ));
        for t in &turn.thinking {
            out.push(sse_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "thinking_delta", "thinking": t}}),
            ));
        }
        out.push(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "signature_delta", "signature": "c2NyaXB0ZWQ="}}),
        ));
        out.push(sse_event("content_block_stop", &json!({"type": "content_block_stop", "index": index})));
        index += 1;
    }
    if !turn.text.is_empty() {
        out.push(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
        ));
        for t in &turn.text {
            out.push(sse_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": t}}),
            ));
        }
        if turn.hang || turn.stream_error.is_some() {
            // Leave the text block open: the answer is cut in the middle.
        } else {
            out.push(sse_event("content_block_stop", &json!({"type": "content_block_stop", "index": index})));
            index += 1;
        }
    }
    if let Some(message) = &turn.stream_error {
        out.push(sse_event(
            "error",
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": message}}),
        ));
        return out;
    }
    if turn.hang {
        out.push(Chunk::Hang);
        return out;
    }
    for (i, call) in turn.tool_calls.iter().enumerate() {
        let call_id = call.id.clone().unwrap_or_else(|| format!("toolu_{turn_index}_{i}"));
        out.push(sse_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": call_id, "name": call.name, "input": {}}}),
        ));
        for fragment in fragments(&argument_text(&call.arguments)) {
            out.push(sse_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": fragment}}),
            ));
        }
        out.push(sse_event("content_block_stop", &json!({"type": "content_block_stop", "index": index})));
        index += 1;
    }
    let stop = turn
        .stop_reason
        .clone()
        .unwrap_or_else(|| if turn.tool_calls.is_empty() { "end_turn".into() } else { "tool_use".into() });
    out.push(sse_event(
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"output_tokens": completion}}),
    ));
    out.push(sse_event("message_stop", &json!({"type": "message_stop"})));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_fragments_join_back() {
        assert_eq!(split_words("Hello big world"), vec!["Hello", " big", " world"]);
        assert_eq!(split_words("").len(), 0);
        assert_eq!(split_words("  two  words ").concat(), "  two  words ");
        let text = r#"{"namespace":"default","name":"web-7f9c"}"#;
        let parts = fragments(text);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), text);
        assert_eq!(fragments("{}"), vec!["{", "}"]);
        assert_eq!(fragments("ünï").concat(), "ünï");
    }

    #[test]
    fn scripts_read_from_json() {
        let script: Script = serde_json::from_value(json!({"conversations": [
            {"when_user_says": "pods", "turns": [
                {"tool_calls": [{"name": "list_pods", "arguments": {"namespace": "default"}}], "usage": [10, 5]},
                {"text": ["All ", "good."]}
            ]},
            {"turns": [{"text": ["Hi."], "fail_first": [429]}]}
        ]}))
        .expect("parses");
        assert_eq!(script.conversations.len(), 2);
        assert_eq!(script.conversations[0].turns[0].usage, (10, 5));
        assert_eq!(script.conversations[1].turns[0].fail_first, vec![429]);
        assert_eq!(script.conversations[1].when_user_says, None);
        let typo = serde_json::from_value::<Script>(json!({"conversations": [{"turns": [{"txt": ["x"]}]}]}));
        assert!(typo.is_err(), "unknown fields are rejected");
    }

    #[tokio::test]
    async fn plays_turns_by_assistant_count_and_records_requests() {
        let llm = start_scripted_llm(Script::new(vec![
            ScriptedConversation::when("pods", vec![Turn::tool_call("list_pods", json!({})), Turn::text_of("done")]),
            ScriptedConversation::fallback(vec![Turn::text_of("hello there").failing_first([503])]),
        ]));
        let client = reqwest::Client::new();
        let post = |path: String, body: Value| {
            let client = client.clone();
            async move {
                let r = client.post(path).json(&body).send().await.expect("answers");
                (r.status().as_u16(), r.text().await.expect("body"))
            }
        };
        let (status, _) = post(
            format!("{}/chat/completions", llm.url()),
            json!({"messages": [
            {"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(status, 503);
        let (status, text) = post(
            format!("{}/chat/completions", llm.url()),
            json!({"messages": [
            {"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(status, 200);
        assert!(text.contains(r#""content":"hello""#) && text.ends_with("data: [DONE]\n\n"), "{text}");
        let (_, text) = post(
            format!("{}/v1/messages", llm.anthropic_url()),
            json!({"messages": [
            {"role": "user", "content": "list pods"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "list_pods", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "[]"}]}]}),
        )
        .await;
        assert!(text.contains(r#""text":"done""#) && text.contains("event: message_stop"), "{text}");
        let (_, text) = post(
            format!("{}/v1/messages", llm.anthropic_url()),
            json!({"messages": [
            {"role": "user", "content": "list pods"}, {"role": "assistant", "content": "a"},
            {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}]}),
        )
        .await;
        assert!(text.contains(SCRIPT_EXHAUSTED.split(' ').next().unwrap_or_default()), "{text}");
        assert_eq!(llm.request_count(), 4);
        let reqs = llm.requests();
        assert_eq!(reqs[0].status, 503);
        assert_eq!(reqs[2].protocol, Protocol::Anthropic);
        let listed: Value = client
            .get(format!("{}/_requests", llm.anthropic_url()))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("json");
        assert_eq!(listed.as_array().map(Vec::len), Some(4));
        assert_eq!(listed[1]["protocol"], "openai");
    }
}
