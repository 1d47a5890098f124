//! The MCP server clients talk to: every upstream's tools in one list (`/mcp`), or one upstream's alone
//! (`/mcp/<namespace>/<service>`), each call routed to its upstream with progress, cancellation and errors
//! passed through.
//!
//! Failure channels follow the MCP adapter's rules: an unknown tool or one the tool policy refuses is a
//! JSON-RPC `invalid_params` error; an upstream's own JSON-RPC errors pass through as they are; an upstream
//! that is unavailable, times out or misbehaves gives a result with `isError: true` that says which service
//! failed and why.

use crate::audit::{Audit, AuditRecord};
use crate::auth::Caller;
use crate::discovery::ServiceKey;
use crate::metrics::{Metrics, ServiceLabels};
use crate::registry::{Route, Snapshot};
use crate::upstream::CallError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities, ServerConfig, SubscriptionFilter, Tool,
};
use rmcp::service::{NotificationContext, Peer, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Which tools a session sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Every upstream's, prefixed (`/mcp`).
    All,
    /// One upstream's, under their own names (`/mcp/<namespace>/<service>`).
    One(ServiceKey),
}

struct Core {
    snapshot: watch::Receiver<Arc<Snapshot>>,
    metrics: Metrics,
    audit: Audit,
}

/// The gateway's MCP handler (one clone per session). Cheap to clone.
#[derive(Clone)]
pub struct GatewayServer {
    core: Arc<Core>,
    view: View,
}

impl std::fmt::Debug for GatewayServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayServer").field("view", &self.view).finish()
    }
}

/// How a tool name resolved.
enum Resolved {
    Route(Route, ServiceKey),
    /// JSON-RPC invalid params (unknown or refused).
    Invalid(String),
    /// A tool result with isError (its service is unavailable).
    Unavailable(String, ServiceKey),
}

impl GatewayServer {
    /// A server of the registry's snapshots, showing every upstream.
    pub fn new(snapshot: watch::Receiver<Arc<Snapshot>>, metrics: Metrics) -> Self {
        Self { core: Arc::new(Core { snapshot, metrics, audit: Audit::default() }), view: View::All }
    }

    /// The same server, recording every `tools/call` to `audit`.
    pub fn with_audit(&self, audit: Audit) -> Self {
        let core = Core { snapshot: self.core.snapshot.clone(), metrics: self.core.metrics.clone(), audit };
        Self { core: Arc::new(core), view: self.view.clone() }
    }

    /// The audit writer.
    pub fn audit(&self) -> &Audit {
        &self.core.audit
    }

    /// The same server, showing one upstream only.
    pub fn for_service(&self, key: ServiceKey) -> Self {
        Self { core: self.core.clone(), view: View::One(key) }
    }

    /// The view.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Whether discovery finished its first pass (readiness).
    pub fn synced(&self) -> bool {
        self.core.snapshot.borrow().synced
    }

    /// Whether the service is discovered (served alone at `/mcp/<namespace>/<service>`).
    pub fn serves(&self, key: &ServiceKey) -> bool {
        self.core.snapshot.borrow().services.contains_key(key)
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.core.metrics
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.core.snapshot.borrow().clone()
    }

    /// The tools this view serves now.
    pub fn tools(&self) -> Arc<Vec<Tool>> {
        let snapshot = self.snapshot();
        match &self.view {
            View::All => snapshot.tools.clone(),
            View::One(key) => snapshot.services.get(key).map(|s| s.tools.clone()).unwrap_or_default(),
        }
    }

    fn version(view: &View, snapshot: &Snapshot) -> u64 {
        match view {
            View::All => snapshot.version,
            View::One(key) => snapshot.services.get(key).map_or(0, |s| s.version),
        }
    }

    fn resolve(&self, snapshot: &Snapshot, name: &str) -> Resolved {
        match &self.view {
            View::All => {
                if let Some(route) = snapshot.routes.get(name) {
                    return Resolved::Route(route.clone(), route.upstream.key().clone());
                }
                if let Some(refusal) = snapshot.hidden.get(name) {
                    return Resolved::Invalid(refusal.message(name));
                }
                match snapshot.service_for(name) {
                    Some(s) if s.state.status != crate::crd::ServiceState::Available => Resolved::Unavailable(
                        format!(
                            "tool {name:?} belongs to service {}, which is unavailable: {}; its tools are back \
                             once it is healthy (the gateway retries on its own)",
                            s.spec.key,
                            s.state.message.as_deref().unwrap_or("not connected")
                        ),
                        s.spec.key.clone(),
                    ),
                    Some(s) => Resolved::Invalid(format!(
                        "unknown tool {name:?}: service {} has no such tool; call tools/list for the current list",
                        s.spec.key
                    )),
                    None => Resolved::Invalid(format!(
                        "unknown tool {name:?}: tools are named <service>{}<tool>; call tools/list for the current list",
                        snapshot.separator
                    )),
                }
            }
            View::One(key) => {
                let Some(service) = snapshot.services.get(key) else {
                    return Resolved::Invalid(format!("service {key} is no longer served by this gateway"));
                };
                if service.tools.iter().any(|t| t.name == name) {
                    return Resolved::Route(
                        Route { upstream: service.upstream.clone(), tool: name.to_string() },
                        key.clone(),
                    );
                }
                if let Some(refusal) = service.hidden.get(name) {
                    return Resolved::Invalid(
                        refusal.message(&format!("{}{}{name}", service.prefix, snapshot.separator)),
                    );
                }
                if service.state.status != crate::crd::ServiceState::Available {
                    return Resolved::Unavailable(
                        format!(
                            "service {key} is unavailable: {}",
                            service.state.message.as_deref().unwrap_or("not connected")
                        ),
                        key.clone(),
                    );
                }
                Resolved::Invalid(format!("unknown tool {name:?}: service {key} has no such tool"))
            }
        }
    }

    fn instructions(&self) -> String {
        match &self.view {
            View::All => {
                let sep = self.snapshot().separator.clone();
                format!(
                    "Binnacle MCP gateway: the tools of every MCP server discovered in the cluster, named \
                     <service>{sep}<tool>. The list changes as servers come and go (notifications/tools/list_changed). \
                     Each tool keeps its server's annotations; a tool without readOnlyHint: true may change things, \
                     so ask the user before calling it. A result with isError explains which server failed and why."
                )
            }
            View::One(key) => format!(
                "Binnacle MCP gateway: the tools of the MCP server {key}, under their own names. A tool without \
                 readOnlyHint: true may change things, so ask the user before calling it."
            ),
        }
    }
}

/// Sends `list_changed` to a stateful session when its view's tools change, until the session ends.
async fn notify_changes(peer: Peer<RoleServer>, mut rx: watch::Receiver<Arc<Snapshot>>, view: View, metrics: Metrics) {
    let mut seen = GatewayServer::version(&view, &rx.borrow_and_update());
    let mut check = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            r = rx.changed() => {
                if r.is_err() {
                    return;
                }
                let now = GatewayServer::version(&view, &rx.borrow_and_update());
                if now != seen {
                    seen = now;
                    if peer.notify_tool_list_changed().await.is_err() {
                        return;
                    }
                    metrics.list_changed.inc();
                }
            }
            _ = check.tick() => {
                if peer.is_transport_closed() {
                    return;
                }
            }
        }
    }
}

/// The caller the HTTP layer authenticated (anonymous outside HTTP).
fn caller(extensions: &rmcp::model::Extensions) -> Caller {
    extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Caller>())
        .cloned()
        .unwrap_or_else(Caller::anonymous)
}

fn read_only_tool(tool: &Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)
}

fn audit_record(
    who: &Caller,
    upstream: &str,
    tool: &str,
    arguments: Option<&rmcp::model::JsonObject>,
    outcome: &str,
    started: Instant,
) -> AuditRecord {
    let decision = if matches!(outcome, "refused" | "unknown") { "denied" } else { "allowed" };
    AuditRecord {
        at: jiff::Timestamp::now().as_millisecond(),
        caller: who.name.clone(),
        upstream: upstream.to_string(),
        tool: tool.to_string(),
        arguments: AuditRecord::argument_names(arguments),
        decision: decision.into(),
        outcome: outcome.into(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

fn error_result(text: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(text)]).into()
}

impl ServerHandler for GatewayServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build();
        let mut info = ServerConfig::new(capabilities);
        let mut implementation = Implementation::new("binnacle-gateway", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("Binnacle MCP gateway".into());
        info.server_info = implementation;
        info.with_instructions(self.instructions())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let rx = self.core.snapshot.clone();
        tokio::spawn(notify_changes(context.peer, rx, self.view.clone(), self.core.metrics.clone()));
    }

    fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.tools_list_changed = requested.tools_list_changed;
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let mut rx = self.core.snapshot.clone();
        let mut seen = Self::version(&self.view, &rx.borrow_and_update());
        loop {
            tokio::select! {
                _ = context.cancelled() => return Ok(()),
                r = rx.changed() => {
                    if r.is_err() {
                        return Ok(());
                    }
                    let now = Self::version(&self.view, &rx.borrow_and_update());
                    if now != seen {
                        seen = now;
                        if context.sink().notify_tool_list_changed().await.is_err() {
                            return Ok(());
                        }
                        self.core.metrics.list_changed.inc();
                    }
                }
            }
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self.tools();
        if caller(&context.extensions).read_only {
            return Ok(ListToolsResult::with_all_items(tools.iter().filter(|t| read_only_tool(t)).cloned().collect()));
        }
        Ok(ListToolsResult::with_all_items(tools.as_ref().clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let snapshot = self.snapshot();
        let metrics = &self.core.metrics;
        let audit = &self.core.audit;
        let started = Instant::now();
        let who = caller(&context.extensions);
        let arguments = request.arguments.clone();
        let (route, key) = match self.resolve(&snapshot, &name) {
            Resolved::Route(route, key) => (route, key),
            Resolved::Invalid(message) => {
                let outcome = if message.starts_with("unknown") { "unknown" } else { "refused" };
                metrics.call("-", outcome);
                tracing::info!(tool = %name, caller = %who.name, outcome, "tool call refused");
                audit.record(audit_record(&who, "-", &name, arguments.as_ref(), outcome, started));
                return Err(ErrorData::invalid_params(message, Some(json!({"tool": name}))));
            }
            Resolved::Unavailable(message, key) => {
                metrics.call(&key.to_string(), "unavailable");
                audit.record(audit_record(&who, &key.to_string(), &name, arguments.as_ref(), "unavailable", started));
                return Ok(error_result(message));
            }
        };
        if who.read_only && !self.tools().iter().any(|t| t.name == name && read_only_tool(t)) {
            metrics.call(&key.to_string(), "refused");
            audit.record(audit_record(&who, &key.to_string(), &name, arguments.as_ref(), "refused", started));
            tracing::info!(tool = %name, caller = %who.name, outcome = "refused", "tool call refused: read-only caller");
            return Err(ErrorData::invalid_params(
                format!(
                    "tool {name:?} is not read-only (readOnlyHint is not true) and {} may call only read-only tools \
                     (the engine role viewer); ask for an operator or admin token",
                    who.name
                ),
                Some(json!({"tool": name})),
            ));
        }
        let service = key.to_string();
        let mut params = request;
        params.name = route.tool.clone().into();
        let token = context.meta.get_progress_token();
        let (tx, mut rx) = mpsc::unbounded_channel::<ProgressNotificationParam>();
        let progress = token.is_some().then_some(tx);
        let call = route.upstream.call(params, progress, context.ct.clone(), snapshot.call_timeout);
        tokio::pin!(call);
        let forward = |mut p: ProgressNotificationParam| {
            let peer = context.peer.clone();
            let token = token.clone();
            async move {
                if let Some(token) = token {
                    p.progress_token = token;
                    if let Err(e) = peer.notify_progress(p).await {
                        tracing::debug!(error = %e, "cannot forward a progress notification");
                    }
                }
            }
        };
        // Progress is sent from this task so that rmcp ties it to this request's stream.
        let outcome = loop {
            tokio::select! {
                r = &mut call => break r,
                Some(p) = rx.recv() => forward(p).await,
            }
        };
        while let Ok(p) = rx.try_recv() {
            forward(p).await;
        }
        let elapsed = started.elapsed();
        metrics.call_seconds.get_or_create(&ServiceLabels { service: service.clone() }).observe(elapsed.as_secs_f64());
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        // Arguments are never logged: they may hold manifests, Secret data or tokens.
        let (label, result) = match outcome {
            Ok(CallToolResponse::Complete(r)) => {
                (if r.is_error == Some(true) { "tool_error" } else { "ok" }, Ok(CallToolResponse::Complete(r)))
            }
            Ok(other) => ("ok", Ok(other)),
            Err(CallError::Rpc(e)) => ("rpc_error", Err(e)),
            Err(CallError::Cancelled) => ("cancelled", Err(ErrorData::internal_error("the call was cancelled", None))),
            Err(e @ CallError::Timeout { .. }) => ("timeout", Ok(error_result(e.to_string()))),
            Err(e @ CallError::Unavailable { .. }) => ("unavailable", Ok(error_result(e.to_string()))),
            Err(e @ CallError::Failed { .. }) => ("failed", Ok(error_result(e.to_string()))),
        };
        metrics.call(&service, label);
        audit.record(audit_record(&who, &service, &name, arguments.as_ref(), label, started));
        tracing::info!(tool = %name, service = %service, caller = %who.name, elapsed_ms, outcome = label, "tool call");
        result
    }
}
