//! One upstream MCP server: an rmcp Streamable HTTP client to one of its ready endpoints, its tools, and its
//! health.
//!
//! Each upstream has its own task ([`Upstream::spawn`]) that connects, lists tools, pings on an interval
//! and re-lists when the server sends `notifications/tools/list_changed` (and every refresh interval). Any
//! failure (refused connection, timeout, malformed or oversized answer) marks it Unavailable and it retries
//! with exponential back-off; calls to it fail fast meanwhile. Every request has its own time limit, so a
//! dead or slow upstream never holds up another.

use crate::crd::ServiceState;
use crate::discovery::{ServiceKey, UpstreamSpec};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult, CancelledNotificationParam,
    ClientCapabilities, ClientConfig, ClientRequest, Implementation, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, RequestMetaObject, ResultType, ServerResult, Tool,
};
use rmcp::service::{
    ClientInitializeError, NotificationContext, Peer, PeerRequestOptions, RunningService, ServiceError,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

/// How upstreams are watched over.
#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    /// Time between health probes (`ping`) of a connected upstream.
    pub probe_interval: Duration,
    /// Time between two `tools/list` of a connected upstream (besides those on `list_changed`).
    pub refresh_interval: Duration,
    /// Time limit of connecting, probing and listing.
    pub request_timeout: Duration,
    /// First retry delay after a failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Largest JSON response or SSE event accepted from an upstream.
    pub max_response_bytes: usize,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        Self {
            probe_interval: Duration::from_secs(10),
            refresh_interval: Duration::from_secs(60),
            request_timeout: Duration::from_secs(5),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_response_bytes: 8 * 1024 * 1024,
        }
    }
}

/// What the gateway knows of an upstream now.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamState {
    /// Served or not.
    pub status: ServiceState,
    /// The URL connected to (or last tried).
    pub endpoint: Option<String>,
    /// Its tools as it lists them (empty while unavailable).
    pub tools: Arc<Vec<Tool>>,
    /// Why it is unavailable.
    pub message: Option<String>,
    /// When `status` (or `message`) last changed.
    pub since: jiff::Timestamp,
    /// Bumped whenever `tools` changes.
    pub tools_version: u64,
}

impl UpstreamState {
    fn unavailable(message: impl Into<String>, endpoint: Option<String>) -> Self {
        Self {
            status: ServiceState::Unavailable,
            endpoint,
            tools: Arc::new(Vec::new()),
            message: Some(message.into()),
            since: jiff::Timestamp::now(),
            tools_version: 0,
        }
    }
}

/// Why a forwarded call failed before the upstream answered it.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Not connected.
    #[error("service {service} is unavailable: {reason}")]
    Unavailable {
        /// The service.
        service: ServiceKey,
        /// Why.
        reason: String,
    },
    /// No answer within the time limit (the upstream was told to cancel).
    #[error("service {service} did not answer within {} s; the call was cancelled there", .timeout.as_secs())]
    Timeout {
        /// The service.
        service: ServiceKey,
        /// The limit.
        timeout: Duration,
    },
    /// The client cancelled (the upstream was told).
    #[error("the call was cancelled")]
    Cancelled,
    /// The upstream answered with a JSON-RPC error: passed through as is.
    #[error("{0}")]
    Rpc(ErrorData),
    /// The exchange failed: unreachable, malformed or oversized answer, closed session.
    #[error("service {service} failed the call: {reason}")]
    Failed {
        /// The service.
        service: ServiceKey,
        /// What went wrong.
        reason: String,
    },
}

type ProgressRoutes = Arc<Mutex<HashMap<ProgressToken, mpsc::UnboundedSender<ProgressNotificationParam>>>>;

/// The rmcp client handler of an upstream connection: routes progress to the call that asked for it, and
/// turns `list_changed` into a refresh.
#[derive(Clone)]
struct Listener {
    progress: ProgressRoutes,
    refresh: Arc<Notify>,
}

impl ClientHandler for Listener {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("binnacle-gateway", env!("CARGO_PKG_VERSION")),
        )
        // Stateful sessions: server-sent notifications (list_changed) arrive on the session's stream.
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        let route = self.progress.lock().unwrap_or_else(PoisonError::into_inner).get(&params.progress_token).cloned();
        if let Some(tx) = route {
            let _ = tx.send(params);
        }
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.refresh.notify_one();
    }
}

/// One upstream: its spec (from discovery), its state, and the live connection calls use.
pub struct Upstream {
    key: ServiceKey,
    spec: watch::Sender<UpstreamSpec>,
    state: watch::Sender<UpstreamState>,
    peer: RwLock<Option<Peer<RoleClient>>>,
    progress: ProgressRoutes,
    refresh: Arc<Notify>,
    /// Something looked wrong in a call: probe now.
    suspect: Notify,
    shutdown: CancellationToken,
    options: UpstreamOptions,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").field("key", &self.key).field("status", &self.state.borrow().status).finish()
    }
}

/// Cancels the upstream request if the call is dropped before its answer (client cancelled, or timed out).
struct CancelGuard {
    peer: Peer<RoleClient>,
    request: Option<rmcp::model::RequestId>,
    token: ProgressToken,
    routes: ProgressRoutes,
    reason: &'static str,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.token);
        if let Some(id) = self.request.take() {
            let peer = self.peer.clone();
            let reason = self.reason;
            tokio::spawn(async move {
                let param = CancelledNotificationParam::new(Some(id), Some(reason.into()));
                let _ = peer.notify_cancelled(param).await;
            });
        }
    }
}

/// Shortens an error text for status and logs (rmcp errors can quote a whole message).
pub(crate) fn brief(text: impl std::fmt::Display) -> String {
    const MAX: usize = 300;
    let text = text.to_string();
    if text.len() <= MAX {
        return text;
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An error and its causes in one line, without rmcp's transport type names and without the repetition of
/// errors that print their source.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    let strip = |s: &str| -> String {
        let mut s = s.to_string();
        while let Some(start) = s.find("Transport [")
            && let Some(len) = s[start..].find("] error: ")
        {
            s.replace_range(start..start + len + "] error: ".len(), "");
        }
        s.replace("Client error: ", "")
    };
    let parts: Vec<String> = parts.iter().map(|p| strip(p)).collect();
    let mut out: Vec<String> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let mut text = part.as_str();
        // Drop the source's text when this error repeats it.
        if let Some(next) = parts.get(i + 1)
            && let Some(head) = text.strip_suffix(next.as_str())
        {
            text = head.trim_end_matches([':', ' ']);
        }
        if !text.is_empty() && !out.iter().any(|o| o.contains(text)) {
            out.push(text.to_string());
        }
    }
    out.join(": ")
}

fn describe(e: &ServiceError) -> String {
    match e {
        ServiceError::TransportSend(err) => brief(chain(err)),
        ServiceError::TransportClosed => "the connection to it closed (it may have stopped, or sent a message \
                                          that is not valid JSON-RPC)"
            .into(),
        ServiceError::UnexpectedResponse => "it answered with a message that is not a valid response".into(),
        other => brief(other),
    }
}

impl Upstream {
    /// Starts watching over an upstream; its task runs until [`Upstream::stop`].
    pub fn spawn(spec: UpstreamSpec, options: UpstreamOptions) -> Arc<Upstream> {
        let (spec_tx, _) = watch::channel(spec.clone());
        let initial = UpstreamState::unavailable("connecting", spec.endpoints.first().cloned());
        let (state, _) = watch::channel(initial);
        let upstream = Arc::new(Upstream {
            key: spec.key.clone(),
            spec: spec_tx,
            state,
            peer: RwLock::new(None),
            progress: Arc::default(),
            refresh: Arc::new(Notify::new()),
            suspect: Notify::new(),
            shutdown: CancellationToken::new(),
            options,
        });
        tokio::spawn(upstream.clone().run());
        upstream
    }

    /// The Service.
    pub fn key(&self) -> &ServiceKey {
        &self.key
    }

    /// The current spec.
    pub fn spec(&self) -> UpstreamSpec {
        self.spec.borrow().clone()
    }

    /// Replaces the spec (new endpoints, path, annotations); reconnects when the connected endpoint is gone.
    pub fn update(&self, spec: UpstreamSpec) {
        self.spec.send_if_modified(|s| {
            let changed = *s != spec;
            *s = spec;
            changed
        });
    }

    /// The current state.
    pub fn state(&self) -> UpstreamState {
        self.state.borrow().clone()
    }

    /// State changes.
    pub fn subscribe(&self) -> watch::Receiver<UpstreamState> {
        self.state.subscribe()
    }

    /// Stops the task and closes the connection.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    fn set_state(&self, f: impl FnOnce(&UpstreamState) -> UpstreamState) {
        self.state.send_if_modified(|s| {
            let mut next = f(s);
            if next.status == s.status && next.message == s.message {
                next.since = s.since;
            }
            if next.tools != s.tools {
                next.tools_version = s.tools_version + 1;
            } else {
                next.tools_version = s.tools_version;
            }
            let changed = next != *s;
            *s = next;
            changed
        });
    }

    fn mark_unavailable(&self, message: String, endpoint: Option<String>) {
        *self.peer.write().unwrap_or_else(PoisonError::into_inner) = None;
        self.set_state(|_| UpstreamState::unavailable(message, endpoint));
    }

    /// Forwards one `tools/call` (the upstream's own tool name). Progress the upstream reports goes to
    /// `progress`; `cancel` cancels it upstream; it fails after `timeout`.
    pub async fn call(
        &self,
        mut params: CallToolRequestParams,
        progress: Option<mpsc::UnboundedSender<ProgressNotificationParam>>,
        cancel: CancellationToken,
        timeout: Duration,
    ) -> Result<CallToolResponse, CallError> {
        let peer = self.peer.read().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(peer) = peer else {
            let reason = self.state.borrow().message.clone().unwrap_or_else(|| "not connected".into());
            return Err(CallError::Unavailable { service: self.key.clone(), reason });
        };
        // The client's `_meta` belongs to its session with the gateway (progress token, protocol metadata):
        // only trace context goes on. rmcp gives the upstream request its own progress token.
        params.meta = params.meta.take().and_then(|meta| {
            let mut kept = RequestMetaObject::default();
            for key in ["traceparent", "tracestate"] {
                if let Some(v) = meta.0.get(key) {
                    kept.0.insert(key.to_string(), v.clone());
                }
            }
            (!kept.0.is_empty()).then_some(kept)
        });
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let handle = peer
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .map_err(|e| self.failed(&e))?;
        let mut guard = CancelGuard {
            peer: peer.clone(),
            request: Some(handle.id.clone()),
            token: handle.progress_token.clone(),
            routes: self.progress.clone(),
            reason: "cancelled by the gateway's client",
        };
        if let Some(tx) = progress {
            self.progress.lock().unwrap_or_else(PoisonError::into_inner).insert(handle.progress_token.clone(), tx);
        }
        let outcome = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(CallError::Cancelled),
            r = tokio::time::timeout(timeout, handle.await_response()) => r,
        };
        let result = match outcome {
            Err(_) => {
                guard.reason = "timed out at the gateway";
                return Err(CallError::Timeout { service: self.key.clone(), timeout });
            }
            Ok(r) => {
                guard.request = None;
                r
            }
        };
        match result {
            // A legacy upstream's result has no `resultType`; clients on the 2026-07-28 protocol require it
            // (rmcp strips it again for legacy clients).
            Ok(ServerResult::CallToolResult(mut r)) => {
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(CallToolResponse::Complete(r))
            }
            Ok(ServerResult::InputRequiredResult(r)) => Ok(CallToolResponse::InputRequired(r)),
            Ok(ServerResult::EmptyResult(_)) => Ok(CallToolResponse::Complete(CallToolResult::success(Vec::new()))),
            Ok(other) => {
                let kind = match other {
                    ServerResult::CreateTaskResult(_) => "a task (the gateway does not relay tasks yet)",
                    _ => "a result that is not a tool result",
                };
                Err(CallError::Failed { service: self.key.clone(), reason: format!("it answered with {kind}") })
            }
            Err(ServiceError::McpError(e)) => Err(CallError::Rpc(e)),
            Err(e) => Err(self.failed(&e)),
        }
    }

    fn failed(&self, e: &ServiceError) -> CallError {
        // Something broke between us and the upstream: check its health now rather than at the next probe.
        self.suspect.notify_one();
        CallError::Failed { service: self.key.clone(), reason: describe(e) }
    }

    async fn connect(&self, url: &str) -> Result<RunningService<RoleClient, Listener>, String> {
        let config = StreamableHttpClientTransportConfig::with_uri(url.to_string())
            .max_json_response_size(self.options.max_response_bytes)
            .max_sse_event_size(self.options.max_response_bytes);
        let transport = StreamableHttpClientTransport::from_config(config);
        let listener = Listener { progress: self.progress.clone(), refresh: self.refresh.clone() };
        match tokio::time::timeout(self.options.request_timeout, listener.serve(transport)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(ClientInitializeError::TransportError { error, .. })) => {
                Err(brief(format!("cannot initialize an MCP session at {url}: {}", chain(&error))))
            }
            Ok(Err(e)) => Err(brief(format!("cannot initialize an MCP session at {url}: {}", chain(&e)))),
            Err(_) => Err(format!(
                "no answer to initialize from {url} within {} s",
                self.options.request_timeout.as_secs_f64()
            )),
        }
    }

    async fn list(&self, peer: &Peer<RoleClient>) -> Result<Vec<Tool>, String> {
        match tokio::time::timeout(self.options.request_timeout, peer.list_all_tools()).await {
            Ok(Ok(mut tools)) => {
                let mut seen = std::collections::HashSet::new();
                tools.retain(|t| seen.insert(t.name.clone()));
                Ok(tools)
            }
            Ok(Err(e)) => Err(format!("tools/list failed: {}", describe(&e))),
            Err(_) => Err(format!("tools/list got no answer within {} s", self.options.request_timeout.as_secs_f64())),
        }
    }

    async fn probe(&self, peer: &Peer<RoleClient>) -> Result<(), String> {
        let ping = peer.send_request(ClientRequest::PingRequest(Default::default()));
        match tokio::time::timeout(self.options.request_timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            // A server that does not implement ping still answers: it is alive.
            Ok(Err(ServiceError::McpError(_))) => Ok(()),
            Ok(Err(e)) => Err(format!("health probe failed: {}", describe(&e))),
            Err(_) => {
                Err(format!("health probe got no answer within {} s", self.options.request_timeout.as_secs_f64()))
            }
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        self.options.min_backoff.saturating_mul(factor).min(self.options.max_backoff)
    }

    /// Waits `delay`, or less if the spec changes or the upstream is stopped; false when stopped.
    async fn pause(&self, delay: Duration, spec: &mut watch::Receiver<UpstreamSpec>) -> bool {
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
            _ = spec.changed() => true,
        }
    }

    async fn run(self: Arc<Self>) {
        let mut spec_rx = self.spec.subscribe();
        let mut failures: u32 = 0;
        loop {
            if self.shutdown.is_cancelled() {
                break;
            }
            let spec = spec_rx.borrow_and_update().clone();
            if let Some(problem) = &spec.problem {
                self.mark_unavailable(problem.clone(), None);
                if !self.pause(Duration::MAX, &mut spec_rx).await {
                    break;
                }
                continue;
            }
            if spec.endpoints.is_empty() {
                self.mark_unavailable("the Service has no ready endpoints".into(), None);
                if !self.pause(Duration::MAX, &mut spec_rx).await {
                    break;
                }
                continue;
            }
            // Try each ready endpoint in turn.
            let mut connected = None;
            let mut errors = Vec::new();
            for url in &spec.endpoints {
                match self.connect(url).await {
                    Ok(client) => match self.list(client.peer()).await {
                        Ok(tools) => {
                            connected = Some((url.clone(), client, tools));
                            break;
                        }
                        Err(e) => errors.push(format!("{url}: {e}")),
                    },
                    Err(e) => errors.push(e),
                }
            }
            let Some((url, mut client, tools)) = connected else {
                failures += 1;
                let message = errors.join("; ");
                tracing::debug!(service = %self.key, %message, failures, "upstream unavailable");
                self.mark_unavailable(message, spec.endpoints.first().cloned());
                if !self.pause(self.backoff(failures), &mut spec_rx).await {
                    break;
                }
                continue;
            };
            failures = 0;
            *self.peer.write().unwrap_or_else(PoisonError::into_inner) = Some(client.peer().clone());
            self.set_state(|_| UpstreamState {
                status: ServiceState::Available,
                endpoint: Some(url.clone()),
                tools: Arc::new(tools),
                message: None,
                since: jiff::Timestamp::now(),
                tools_version: 0,
            });
            tracing::info!(service = %self.key, endpoint = %url, "upstream connected");
            let reason = self.serve_connected(&url, &client, &mut spec_rx).await;
            let _ = client.close_with_timeout(Duration::from_millis(200)).await;
            match reason {
                Disconnect::Stopped => break,
                Disconnect::Moved => {
                    *self.peer.write().unwrap_or_else(PoisonError::into_inner) = None;
                }
                Disconnect::Failed(message) => {
                    failures = 1;
                    tracing::warn!(service = %self.key, endpoint = %url, %message, "upstream became unavailable");
                    self.mark_unavailable(message, Some(url));
                    if !self.pause(self.backoff(failures), &mut spec_rx).await {
                        break;
                    }
                }
            }
        }
        *self.peer.write().unwrap_or_else(PoisonError::into_inner) = None;
        self.progress.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// Keeps a connected upstream's tools current and checks its health until something breaks.
    async fn serve_connected(
        &self,
        url: &str,
        client: &RunningService<RoleClient, Listener>,
        spec_rx: &mut watch::Receiver<UpstreamSpec>,
    ) -> Disconnect {
        let peer = client.peer().clone();
        let mut probe = tokio::time::interval(self.options.probe_interval);
        probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        probe.reset();
        let mut refresh = tokio::time::interval(self.options.refresh_interval);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        refresh.reset();
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return Disconnect::Stopped,
                r = spec_rx.changed() => {
                    if r.is_err() {
                        return Disconnect::Stopped;
                    }
                    let spec = spec_rx.borrow().clone();
                    if spec.problem.is_some() || !spec.endpoints.iter().any(|e| e == url) {
                        tracing::info!(service = %self.key, endpoint = %url, "endpoint is no longer ready; reconnecting");
                        return Disconnect::Moved;
                    }
                }
                _ = self.refresh.notified() => {
                    if let Err(e) = self.relist(&peer).await {
                        return Disconnect::Failed(e);
                    }
                }
                _ = refresh.tick() => {
                    if let Err(e) = self.relist(&peer).await {
                        return Disconnect::Failed(e);
                    }
                }
                _ = probe.tick() => {
                    if client.is_closed() {
                        return Disconnect::Failed("the MCP session closed".into());
                    }
                    if let Err(e) = self.probe(&peer).await {
                        return Disconnect::Failed(e);
                    }
                }
                _ = self.suspect.notified() => {
                    if let Err(e) = self.probe(&peer).await {
                        return Disconnect::Failed(e);
                    }
                }
            }
        }
    }

    async fn relist(&self, peer: &Peer<RoleClient>) -> Result<(), String> {
        let tools = self.list(peer).await?;
        self.set_state(|s| UpstreamState { tools: Arc::new(tools), ..s.clone() });
        Ok(())
    }
}

enum Disconnect {
    Stopped,
    Moved,
    Failed(String),
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
