//! The HTTP front door: Streamable HTTP MCP at `/mcp` (every upstream) and `/mcp/<namespace>/<service>`
//! (one upstream), `/healthz`, `/readyz` and `/metrics`.
//!
//! rmcp checks `Origin` (browser origins other than the allowed ones get 403), `Host` (DNS rebinding) and
//! the body size (413); a guard in front answers bodies that are not one JSON-RPC message with a JSON-RPC
//! parse or invalid-request error, as `binnacle mcp` does.

use crate::audit::{Audit, AuditRecord};
use crate::auth::{AuthError, Authenticator};
use crate::discovery::ServiceKey;
use crate::server::GatewayServer;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use rmcp::model::{ClientJsonRpcMessage, ErrorCode};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// The path of the aggregated MCP endpoint.
pub const MCP_PATH: &str = "/mcp";
/// Largest request body accepted (4 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How the HTTP side is exposed.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Browser origins allowed (`scheme://host:port`, `:*` for any port); others get 403. Requests without
    /// `Origin` (non-browser clients) are not affected.
    pub allowed_origins: Vec<String>,
    /// Allowed `Host` header values, against DNS rebinding; `None` turns the check off (a gateway reached
    /// through a Service name).
    pub allowed_hosts: Option<Vec<String>>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Cancelling it ends every session and stream.
    pub cancel: CancellationToken,
    /// Records `tools/call` requests refused for their credentials (the rest are recorded by the server).
    pub audit: Audit,
    /// Checks every MCP request's credentials ([`crate::Gateway::authenticator`]; default: open).
    pub auth: Authenticator,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            allowed_origins: vec!["http://localhost:*".into(), "http://127.0.0.1:*".into(), "http://[::1]:*".into()],
            allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            cancel: CancellationToken::new(),
            auth: Authenticator::open(),
            audit: Audit::default(),
        }
    }
}

type McpService = StreamableHttpService<GatewayServer, LocalSessionManager>;

#[derive(Clone)]
struct AppState {
    server: GatewayServer,
    config: StreamableHttpServerConfig,
    /// One Streamable HTTP service (with its sessions) per upstream served alone.
    single: Arc<Mutex<HashMap<ServiceKey, McpService>>>,
}

fn service(server: GatewayServer, config: StreamableHttpServerConfig) -> McpService {
    StreamableHttpService::new(move || Ok(server.clone()), Arc::new(LocalSessionManager::default()), config)
}

/// The router: MCP endpoints, health, readiness and metrics.
pub fn router(server: GatewayServer, options: HttpOptions) -> Router {
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(options.cancel.child_token())
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_sse_keep_alive(Some(Duration::from_secs(15)))
        .with_allowed_origins(options.allowed_origins.clone())
        .enforce_origin_validation();
    config = match &options.allowed_hosts {
        Some(hosts) => config.with_allowed_hosts(hosts.clone()),
        None => config.disable_allowed_hosts(),
    };
    let state = AppState { server: server.clone(), config: config.clone(), single: Arc::default() };
    Router::new()
        .route_service(MCP_PATH, service(server, config))
        .route("/mcp/{namespace}/{service}", any(single))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(
            (options.max_body_bytes, options.auth.clone(), options.audit.clone()),
            guard,
        ))
        .with_state(state)
}

/// Serves [`router`] until `shutdown` completes, then ends sessions and streams.
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: GatewayServer,
    options: HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cancel = options.cancel.clone();
    let app = router(server, options);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            cancel.cancel();
        })
        .await
}

async fn single(
    State(state): State<AppState>,
    Path((namespace, name)): Path<(String, String)>,
    request: Request,
) -> Response {
    let key = ServiceKey::new(namespace, name);
    if !state.server.serves(&key) {
        return refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("this gateway serves no MCP service {key}; /mcp lists every service's tools"),
        );
    }
    let svc = {
        let mut map = state.single.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(key.clone()).or_insert_with(|| service(state.server.for_service(key), state.config.clone())).clone()
    };
    match svc.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.server.synced() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "discovering MCP services").into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut resp = state.server.metrics().encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn refusal(status: StatusCode, error: &str, message: String) -> Response {
    json_response(status, json!({"error": error, "message": message}))
}

fn jsonrpc_error(id: Value, code: ErrorCode, message: String) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"jsonrpc": "2.0", "id": id, "error": {"code": code.0, "message": message}}),
    )
}

fn is_mcp(path: &str) -> bool {
    path == MCP_PATH || path.starts_with("/mcp/")
}

/// The answer to a request whose credentials are missing or refused: 401 with `WWW-Authenticate: Bearer`
/// (503 while the gateway cannot check credentials), and a JSON-RPC error saying how to authenticate.
fn unauthorized(error: &AuthError) -> Response {
    let (status, code) = match error {
        AuthError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, -32003),
        _ => (StatusCode::UNAUTHORIZED, -32001),
    };
    let mut resp = json_response(
        status,
        json!({"jsonrpc": "2.0", "id": Value::Null, "error": {"code": code, "message": error.to_string()}}),
    );
    resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"binnacle-gateway\""));
    resp
}

async fn guard(
    State((max_body_bytes, auth, audit)): State<(usize, Authenticator, Audit)>,
    mut request: Request,
    next: Next,
) -> Response {
    if !is_mcp(request.uri().path()) {
        return next.run(request).await;
    }
    match auth.check(request.headers()) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
        }
        Err(e) => {
            tracing::info!(path = %request.uri().path(), error = %e, "request refused by auth");
            if request.method() == Method::POST {
                let started = std::time::Instant::now();
                let body = Limited::new(request.into_body(), max_body_bytes).collect().await;
                if let Ok(body) = body
                    && let Ok(Value::Object(msg)) = serde_json::from_slice::<Value>(&body.to_bytes())
                    && msg.get("method").and_then(Value::as_str) == Some("tools/call")
                {
                    let params = msg.get("params").and_then(Value::as_object);
                    audit.record(AuditRecord {
                        at: jiff::Timestamp::now().as_millisecond(),
                        caller: "unauthenticated".into(),
                        upstream: "-".into(),
                        tool: params.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or("?").to_string(),
                        arguments: AuditRecord::argument_names(
                            params.and_then(|p| p.get("arguments")).and_then(Value::as_object),
                        ),
                        decision: "denied".into(),
                        outcome: "unauthenticated".into(),
                        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                    });
                }
            }
            return unauthorized(&e);
        }
    }
    if request.method() == Method::DELETE {
        // rmcp ends a session with 202; clients (the Python SDK) expect 200 or 204.
        let mut resp = next.run(request).await;
        if resp.status() == StatusCode::ACCEPTED {
            *resp.status_mut() = StatusCode::NO_CONTENT;
            *resp.body_mut() = Body::empty();
        }
        return resp;
    }
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let too_large = || {
        refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {max_body_bytes} bytes"),
        )
    };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body_bytes as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match Limited::new(body, max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return too_large(),
        Err(e) => return refusal(StatusCode::BAD_REQUEST, "bad_request", format!("cannot read the request body: {e}")),
    };
    if serde_json::from_slice::<ClientJsonRpcMessage>(&bytes).is_err() {
        return malformed(&bytes);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The JSON-RPC error for a body that is not one valid client message.
fn malformed(bytes: &[u8]) -> Response {
    match serde_json::from_slice::<Value>(bytes) {
        Err(e) => jsonrpc_error(
            Value::Null,
            ErrorCode::PARSE_ERROR,
            format!("Parse error: the request body is not valid JSON ({e})"),
        ),
        Ok(Value::Array(_)) => jsonrpc_error(
            Value::Null,
            ErrorCode::INVALID_REQUEST,
            "Invalid Request: JSON-RPC batches are not supported; send one message per request".into(),
        ),
        Ok(Value::Object(obj)) => {
            let id = obj.get("id").filter(|id| id.is_string() || id.is_number()).cloned().unwrap_or(Value::Null);
            jsonrpc_error(id, ErrorCode::INVALID_REQUEST, "Invalid Request: not a valid MCP JSON-RPC message".into())
        }
        Ok(_) => jsonrpc_error(
            Value::Null,
            ErrorCode::INVALID_REQUEST,
            "Invalid Request: a JSON-RPC message must be a JSON object".into(),
        ),
    }
}
