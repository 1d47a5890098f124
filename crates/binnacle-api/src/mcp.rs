//! The engine as an MCP agent: `/mcp` (Streamable HTTP, stateful sessions, same listener as the API) with
//! two tools, so that an MCP gateway (or any MCP client) can delegate tasks to Binnacle.
//!
//! * `ask` starts a run of the agent loop as the authenticated user, streams it as MCP progress
//!   notifications (when the request carries a progress token) and answers the final text. A run that stops
//!   at the approval gate is **not** approved: `ask` answers `status: awaiting_approval` with the pending
//!   call(s), their preview and where to decide (Command Center and REST), and the run stays at the gate as
//!   it would from the UI. `notifications/cancelled` stops the run.
//! * `run_status` answers where a run is (running, awaiting_approval, completed with its answer, failed with
//!   its error, stopped, interrupted), so a client can pick up after a person decided.
//!
//! Every request needs `Authorization: Bearer <access token>` (the API's JWT); the user is read on every
//! request as in the REST API, so roles and disabled accounts apply at once. The `Origin` and `Host` checks
//! and the body limit are those of `binnacle mcp` (`binnacle-mcp`'s HTTP server).

use crate::AppState;
use crate::auth::AuthUser;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use binnacle_engine::{Actor, EngineError, events::names};
use binnacle_store::{ApprovalStatus, Run, RunStatus};
use futures::StreamExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, InitializeRequestParams,
    InitializeResult, JsonObject, ListToolsResult, MetaObject, PaginatedRequestParams, ProgressNotificationParam,
    ProgressToken, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Where the agent endpoint is served.
pub const MCP_PATH: &str = "/mcp";
/// The `ask` tool.
pub const ASK: &str = "ask";
/// The `run_status` tool.
pub const RUN_STATUS: &str = "run_status";
/// The `_meta` key listing a tool's tags (as `binnacle mcp` does).
pub const META_TAGS: &str = binnacle_mcp::META_TAGS;

/// How `/mcp` is exposed: the same checks as `binnacle mcp`'s HTTP server.
#[derive(Debug, Clone)]
pub struct McpEndpointConfig {
    /// Browser origins allowed (`scheme://host[:port|:*]`); requests with another `Origin` get 403. Requests
    /// without `Origin` (non-browser clients, gateways) are not affected.
    pub allowed_origins: Vec<binnacle_mcp::OriginRule>,
    /// Allowed `Host` header values against DNS rebinding; `None` turns the check off (behind a Service the
    /// names are not known in advance; the bearer token is required either way).
    pub allowed_hosts: Option<Vec<String>>,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
}

impl Default for McpEndpointConfig {
    fn default() -> Self {
        Self {
            allowed_origins: binnacle_mcp::OriginRule::loopback(),
            allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            max_body_bytes: binnacle_mcp::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// `/mcp` as an axum service: authentication in front, rmcp's Streamable HTTP service behind. Sessions end
/// when the engine shuts down.
pub(crate) fn service(state: AppState) -> axum::Router<AppState> {
    let options = state.config().mcp.clone();
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(state.engine().shutdown_token())
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_sse_keep_alive(Some(Duration::from_secs(15)))
        .with_allowed_origins(options.allowed_origins.iter().map(ToString::to_string))
        .enforce_origin_validation();
    config = match &options.allowed_hosts {
        Some(hosts) => config.with_allowed_hosts(hosts.clone()),
        None => config.disable_allowed_hosts(),
    };
    let agent = AgentServer { state: state.clone() };
    let mcp = StreamableHttpService::new(move || Ok(agent.clone()), Arc::new(LocalSessionManager::default()), config);
    axum::Router::new()
        .route_service(MCP_PATH, mcp)
        .layer(axum::middleware::from_fn_with_state(state, authenticate))
        // The API's 64 KiB limit does not apply here: rmcp enforces `max_body_bytes` while reading.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Every `/mcp` request (POST, GET stream, DELETE) must carry a valid bearer token of an enabled user; the
/// caller is put into the request's extensions, where the tools find it.
async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match AuthUser::from_request_parts(&mut parts, &state).await {
        Ok(user) => {
            parts.extensions.insert(user);
            let delete = parts.method == http::Method::DELETE;
            let mut resp = next.run(Request::from_parts(parts, body)).await;
            // As `binnacle mcp`: rmcp ends a session with 202; clients (the Python SDK) expect 200 or 204.
            if delete && resp.status() == http::StatusCode::ACCEPTED {
                *resp.status_mut() = http::StatusCode::NO_CONTENT;
                *resp.body_mut() = axum::body::Body::empty();
            }
            resp
        }
        Err(e) => {
            tracing::info!(path = MCP_PATH, "refused an MCP request without a valid token");
            let mut resp = e.into_response();
            resp.headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer realm=\"binnacle\""));
            resp
        }
    }
}

/// The MCP handler: `ask` and `run_status` over the engine. One per session; cheap to clone.
#[derive(Clone)]
struct AgentServer {
    state: AppState,
}

fn tools() -> Vec<Tool> {
    let schema = |v: Value| Arc::new(v.as_object().cloned().unwrap_or_default());
    let meta = |tags: &[&str]| {
        let mut m = MetaObject::new();
        m.insert(META_TAGS.into(), json!(tags));
        m
    };
    let ask = Tool::new(
        ASK,
        "Delegate a Kubernetes operations task to Binnacle's agent: it investigates with its own tools (read-only \
         ones run at once) and answers. Changes to a cluster are never made without a person: when the agent wants \
         to change something the result has status `awaiting_approval` with the pending call, its preview (a \
         server-side dry-run diff) and where a person approves it; call `run_status` with the runId afterwards. \
         Pass `conversationId` to continue a conversation (follow-up questions keep their context).",
        schema(json!({
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "minLength": 1, "maxLength": binnacle_engine::MAX_MESSAGE_BYTES,
                           "description": "What to find out or do, in plain language."},
                "conversationId": {"type": "string",
                                   "description": "Continue this conversation (from an earlier result)."},
                "cluster": {"type": "string",
                            "description": "The kubeconfig context to work in; default: the engine's default."}
            },
            "required": ["prompt"],
            "additionalProperties": false
        })),
    )
    .with_title("Ask Binnacle")
    .with_annotations(ToolAnnotations::from_raw(None, Some(false), Some(false), Some(false), Some(true)))
    .with_meta(meta(&["agent", "kubernetes"]));
    let status = Tool::new(
        RUN_STATUS,
        "Where a run started by `ask` is: running; awaiting_approval with the pending calls and their previews; \
         completed with the answer; failed with the error; stopped; interrupted.",
        schema(json!({
            "type": "object",
            "properties": {"runId": {"type": "string", "description": "The runId from an `ask` result."}},
            "required": ["runId"],
            "additionalProperties": false
        })),
    )
    .with_title("Binnacle run status")
    .with_annotations(ToolAnnotations::from_raw(None, Some(true), Some(false), Some(true), Some(false)))
    .with_meta(meta(&["agent"]));
    vec![ask, status]
}

const INSTRUCTIONS: &str = "Binnacle's agent: an AI operator for Kubernetes clusters. `ask` hands it a task in plain \
language (\"why is checkout failing in namespace shop?\", \"scale cart to 3\"); it inspects the clusters with its \
own typed tools (pods, logs, events, rollouts, Helm, Argo Rollouts) and answers. It never changes a cluster on its \
own: any change stops at Binnacle's approval gate with a dry-run preview, and `ask` then returns status \
`awaiting_approval` with the pending call, its diff and where a person with the operator or admin role approves it \
(the Command Center or `POST /api/v1/approvals/{id}`). Poll `run_status` with the runId to get the answer once it \
is decided. Runs belong to the user of the bearer token; viewers get read-only tools. Progress notifications carry \
the answer text and tool calls as the run streams when the request has a progress token; cancelling the request \
stops the run.";

/// The caller that `authenticate` put into the HTTP request.
fn actor(context: &RequestContext<RoleServer>) -> Result<Actor, ErrorData> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<AuthUser>())
        .map(|u| u.0.clone())
        .ok_or_else(|| ErrorData::invalid_request("no authenticated user on this request; send a bearer token", None))
}

/// `http(s)://host` as the client reached us, for links to the Command Center and the API.
fn base_url(context: &RequestContext<RoleServer>) -> String {
    let parts = context.extensions.get::<http::request::Parts>();
    let header = |name: &str| {
        parts.and_then(|p| p.headers.get(name)).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string())
    };
    let host = header("x-forwarded-host").or_else(|| header("host")).unwrap_or_else(|| "localhost".into());
    let scheme = header("x-forwarded-proto").filter(|s| s == "https").unwrap_or_else(|| "http".into());
    format!("{scheme}://{host}")
}

fn string_arg<'a>(args: &'a JsonObject, name: &str, required: bool) -> Result<Option<&'a str>, ErrorData> {
    match args.get(name) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => {
            Err(ErrorData::invalid_params(format!("`{name}` is required: a string"), Some(json!({"argument": name}))))
        }
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(ErrorData::invalid_params(
            format!("`{name}` must be a string, not {other}"),
            Some(json!({"argument": name})),
        )),
    }
}

fn check_known(args: &JsonObject, known: &[&str]) -> Result<(), ErrorData> {
    match args.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ErrorData::invalid_params(
            format!("unknown argument `{k}`; this tool takes {}", known.join(", ")),
            Some(json!({"argument": k})),
        )),
        None => Ok(()),
    }
}

/// An engine error as MCP: bad input is `invalid_params`; anything else a result with `isError` the caller
/// can read.
fn engine_error(e: EngineError) -> Result<CallToolResult, ErrorData> {
    match e {
        EngineError::Invalid(m) => Err(ErrorData::invalid_params(m, None)),
        EngineError::NotFound(what) => Err(ErrorData::invalid_params(
            format!("{what} not found (or not yours); check the id, or start a new conversation without it"),
            None,
        )),
        EngineError::Store(e) => {
            tracing::error!(error = %e, "MCP agent call failed in the store");
            Ok(CallToolResult::error(vec![ContentBlock::text(
                "the engine's database failed; try again later (the server log has details)",
            )]))
        }
        other => Ok(CallToolResult::error(vec![ContentBlock::text(other.to_string())])),
    }
}

/// The MCP name of a run's status.
fn status_name(s: RunStatus) -> &'static str {
    match s {
        RunStatus::WaitingApproval => "awaiting_approval",
        other => other.as_str(),
    }
}

impl AgentServer {
    /// A run's state as a tool result (`run_status`, and the end of `ask`).
    async fn describe(&self, run: &Run, base: &str) -> Result<CallToolResult, ErrorData> {
        let store = self.state.store();
        let internal = |e: binnacle_store::StoreError| {
            tracing::error!(error = %e, run = %run.id, "cannot read a run for MCP");
            ErrorData::internal_error("cannot read the run from the engine's database; try again", None)
        };
        let mut out = json!({
            "status": status_name(run.status),
            "runId": run.id,
            "conversationId": run.conversation_id,
            "commandCenterUrl": format!("{base}/conversations/{}", run.conversation_id),
        });
        let text = match run.status {
            RunStatus::Completed => {
                let answer = store
                    .messages(&run.conversation_id)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .filter(|m| m.role == "assistant" && m.run_id.as_deref() == Some(run.id.as_str()))
                    .filter_map(|m| m.data.get("content").and_then(Value::as_str).map(str::to_string))
                    .rfind(|c| !c.trim().is_empty())
                    .unwrap_or_default();
                out["answer"] = Value::String(answer.clone());
                answer
            }
            RunStatus::WaitingApproval => {
                let pending: Vec<Value> = store
                    .approvals_for_run(&run.id)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .filter(|a| a.status == ApprovalStatus::Pending)
                    .map(|a| {
                        json!({
                            "approvalId": a.id, "toolCallId": a.tool_call_id, "tool": a.tool, "context": a.context,
                            "arguments": binnacle_engine::redact::redact_arguments(&a.arguments),
                            "preview": a.preview, "previewHash": a.preview_hash,
                            "approve": {
                                "method": "POST",
                                "url": format!("{base}/api/v1/approvals/{}", a.id),
                                "body": {"decision": "approve", "toolCallId": a.tool_call_id, "previewHash": a.preview_hash},
                                "role": "operator or admin",
                            },
                        })
                    })
                    .collect();
                let tools: Vec<&str> = pending.iter().filter_map(|p| p["tool"].as_str()).collect();
                let text = format!(
                    "The agent wants to run {} and is waiting for a person to approve it (nothing was changed). \
                     An operator or admin approves or denies it in the Command Center at {} or with POST \
                     /api/v1/approvals/<approvalId>; then call run_status with runId {} for the answer.",
                    if tools.is_empty() { "a tool".to_string() } else { tools.join(", ") },
                    out["commandCenterUrl"].as_str().unwrap_or_default(),
                    run.id
                );
                out["pendingApprovals"] = Value::Array(pending);
                text
            }
            RunStatus::Running => format!("The run is still working; call run_status with runId {} again.", run.id),
            RunStatus::Failed => {
                let e = run.error.clone().unwrap_or_else(|| "the run failed".into());
                out["error"] = Value::String(e.clone());
                format!("The run failed: {e}")
            }
            RunStatus::Stopped => "The run was stopped before it finished.".to_string(),
            RunStatus::Interrupted => {
                "The run was interrupted by an engine restart mid-step; ask again to continue.".to_string()
            }
        };
        let failed = matches!(run.status, RunStatus::Failed | RunStatus::Stopped | RunStatus::Interrupted);
        let mut result = if failed {
            CallToolResult::error(vec![ContentBlock::text(text)])
        } else {
            CallToolResult::success(vec![ContentBlock::text(text)])
        };
        result.structured_content = Some(out);
        Ok(result)
    }

    async fn run_status(
        &self,
        args: &JsonObject,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        check_known(args, &["runId"])?;
        let run_id = string_arg(args, "runId", true)?.unwrap_or_default();
        let actor = actor(context)?;
        let run = match self.state.engine().run_for(&actor, run_id).await {
            Ok(r) => r,
            Err(e) => return engine_error(e),
        };
        self.describe(&run, &base_url(context)).await
    }

    async fn ask(&self, args: &JsonObject, context: &RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        check_known(args, &["prompt", "conversationId", "cluster"])?;
        let prompt = string_arg(args, "prompt", true)?.unwrap_or_default();
        let conversation = string_arg(args, "conversationId", false)?;
        let cluster = string_arg(args, "cluster", false)?;
        let actor = actor(context)?;
        let engine = self.state.engine();
        let started = match engine.start_run(&actor, conversation, prompt, cluster).await {
            Ok(s) => s,
            Err(e) => return engine_error(e),
        };
        let run_id = started.run.id.clone();
        tracing::info!(run = %run_id, user = %actor.username, "MCP ask started a run");
        let progress = context.meta.get_progress_token();
        let mut events = match engine.follow(&actor, &run_id, 0).await {
            Ok(s) => s,
            Err(e) => return engine_error(e),
        };
        loop {
            let event = tokio::select! {
                biased;
                _ = context.ct.cancelled() => {
                    tracing::info!(run = %run_id, "MCP request cancelled: stopping its run");
                    if let Err(e) = engine.stop(&actor, &run_id).await {
                        tracing::warn!(run = %run_id, error = %e, "cannot stop the run of a cancelled MCP request");
                    }
                    return Err(ErrorData::internal_error("the request was cancelled; the run was stopped", None));
                }
                e = events.next() => e,
            };
            let Some(event) = event else { break };
            if let Some(token) = &progress
                && let Some(message) = progress_message(&event.event, &event.data)
            {
                let mut param = ProgressNotificationParam::new(ProgressToken(token.0.clone()), event.seq as f64);
                param.message = Some(message);
                if let Err(e) = context.peer.notify_progress(param).await {
                    tracing::debug!(error = %e, "cannot send a progress notification");
                }
            }
            if event.event == names::APPROVAL_REQUIRED || event.is_final() {
                break;
            }
        }
        let run = match engine.run_for(&actor, &run_id).await {
            Ok(r) => r,
            Err(e) => return engine_error(e),
        };
        self.describe(&run, &base_url(context)).await
    }
}

/// What a progress notification says about one run event (`None`: nothing worth sending).
fn progress_message(event: &str, data: &Value) -> Option<String> {
    let tool = || data.get("tool").and_then(Value::as_str).unwrap_or("a tool").to_string();
    match event {
        names::MESSAGE_DELTA => data.get("delta").and_then(Value::as_str).map(str::to_string),
        names::TOOL_STARTED => Some(format!("calling {}", tool())),
        names::TOOL_RESULT => Some(format!("{} finished", tool())),
        names::APPROVAL_REQUIRED => Some(format!("{} waits for approval", tool())),
        names::ERROR => data.get("message").and_then(Value::as_str).map(|m| format!("error: {m}")),
        _ => None,
    }
}

impl ServerHandler for AgentServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        let mut implementation = Implementation::new("binnacle-agent", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("Binnacle agent".into());
        implementation.description =
            Some("AI operations for Kubernetes: delegate a task; changes wait for a person's approval".into());
        info.server_info = implementation;
        info.with_instructions(INSTRUCTIONS.to_string())
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        tracing::info!(
            client = %request.client_info.name,
            client_version = %request.client_info.version,
            "MCP agent client connected"
        );
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.clone().unwrap_or_default();
        let result = match request.name.as_ref() {
            ASK => self.ask(&args, &context).await,
            RUN_STATUS => self.run_status(&args, &context).await,
            other => Err(ErrorData::invalid_params(
                format!("unknown tool {other:?}; this server has `ask` and `run_status`"),
                Some(json!({"tool": other})),
            )),
        };
        result.map(Into::into)
    }
}
