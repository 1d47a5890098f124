//! Streamable HTTP: rmcp's `StreamableHttpService` at `/mcp` (stateful sessions), `/healthz`, and a guard in
//! front of both that refuses foreign browser origins, oversized bodies and malformed JSON-RPC.

use crate::handler::McpServer;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use rmcp::model::{ClientJsonRpcMessage, ErrorCode};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The path MCP is served at.
pub const MCP_PATH: &str = "/mcp";
/// Largest request body accepted (4 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// An allowed browser origin: `scheme://host`, `scheme://host:port` or `scheme://host:*` (any port). Without
/// a port, the scheme's default port (80 for http, 443 for https).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRule {
    scheme: String,
    host: String,
    /// `None`: any port.
    port: Option<u16>,
}

impl OriginRule {
    /// The rules used when none are configured: `http://localhost`, `http://127.0.0.1` and `http://[::1]`,
    /// on any port. `null` (sandboxed pages, `file:` URLs) is not allowed.
    pub fn loopback() -> Vec<OriginRule> {
        ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(|host| OriginRule { scheme: "http".into(), host: host.into(), port: None })
            .collect()
    }

    fn admits(&self, origin: &Origin) -> bool {
        self.scheme == origin.scheme && self.host == origin.host && self.port.is_none_or(|p| p == origin.port)
    }
}

impl std::fmt::Display for OriginRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}://{}:{p}", self.scheme, self.host),
            None => write!(f, "{}://{}:*", self.scheme, self.host),
        }
    }
}

impl FromStr for OriginRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "origin {s:?} is not valid: use scheme://host[:port|:*], e.g. http://localhost:3000 or https://ops.example.com"
            )
        };
        let trimmed = s.trim().trim_end_matches('/');
        let (scheme, rest) = trimmed.split_once("://").ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = default_port(&scheme).ok_or_else(bad)?;
        let (host, port) = split_authority(rest).ok_or_else(bad)?;
        let port = match port {
            None => Some(default_port),
            Some("*") => None,
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
        };
        Ok(OriginRule { scheme, host, port })
    }
}

/// A parsed `Origin` header.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Splits `host[:port]` (IPv6 in brackets); lower-cases the host. Refuses paths, user info and empty hosts.
fn split_authority(authority: &str) -> Option<(String, Option<&str>)> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &authority[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || port.is_some_and(str::is_empty) {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

fn parse_origin(value: &str) -> Option<Origin> {
    let (scheme, rest) = value.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default = default_port(&scheme)?;
    let (host, port) = split_authority(rest)?;
    let port = match port {
        None => default,
        Some(p) => p.parse().ok()?,
    };
    Some(Origin { scheme, host, port })
}

/// How the HTTP transport is exposed.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Browser origins allowed to call the server; requests with any other `Origin` header get 403.
    /// Requests without `Origin` (non-browser clients) are not affected.
    pub allowed_origins: Vec<OriginRule>,
    /// Allowed `Host` header values (hostnames or `host:port`), against DNS rebinding; `None` turns the check
    /// off (for a server reached through names it cannot know, e.g. behind a Service).
    pub allowed_hosts: Option<Vec<String>>,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Cancelling it ends every session and stream (graceful shutdown).
    pub cancel: CancellationToken,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            allowed_origins: OriginRule::loopback(),
            allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            cancel: CancellationToken::new(),
        }
    }
}

#[derive(Clone)]
struct Guard {
    origins: Arc<Vec<OriginRule>>,
    max_body_bytes: usize,
}

/// The HTTP front door: MCP over Streamable HTTP at `/mcp` with stateful sessions, and `/healthz`.
pub fn router(server: McpServer, options: HttpOptions) -> Router {
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(options.cancel.child_token())
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_sse_keep_alive(Some(Duration::from_secs(15)))
        // Origins are checked by the guard below, which answers in JSON.
        .disable_allowed_origins();
    config = match &options.allowed_hosts {
        Some(hosts) => config.with_allowed_hosts(hosts.clone()),
        None => config.disable_allowed_hosts(),
    };
    let mcp = StreamableHttpService::new(move || Ok(server.clone()), Arc::new(LocalSessionManager::default()), config);
    let guard = Guard { origins: Arc::new(options.allowed_origins), max_body_bytes: options.max_body_bytes };
    Router::new()
        .route_service(MCP_PATH, mcp)
        .route("/healthz", get(|| async { "ok" }))
        .layer(middleware::from_fn_with_state(guard, check))
}

/// Serves [`router`] on a listener until `shutdown` completes, then ends sessions and streams.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    server: McpServer,
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

async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let text = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        let allowed = parse_origin(&text).is_some_and(|o| guard.origins.iter().any(|r| r.admits(&o)));
        if !allowed {
            tracing::warn!(origin = %text, path = %request.uri().path(), "refused a request from a foreign origin");
            let list = guard.origins.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            return refusal(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!(
                    "Origin {text:?} is not allowed to use this server; allowed origins: {list} (see --allowed-origins)"
                ),
            );
        }
    }
    if request.uri().path() != MCP_PATH {
        return next.run(request).await;
    }
    if request.method() == Method::DELETE {
        // rmcp ends the session with 202 Accepted; clients (the Python SDK) expect 200 or 204 and warn
        // otherwise. The session is gone either way, so say so with 204.
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
            format!("the request body is larger than {} bytes", guard.max_body_bytes),
        )
    };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > guard.max_body_bytes as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match Limited::new(body, guard.max_body_bytes).collect().await {
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
            let hint = match (obj.get("jsonrpc").and_then(Value::as_str), obj.get("method")) {
                (Some("2.0"), Some(Value::String(_))) => "its params do not match the method",
                (Some("2.0"), Some(_)) => "\"method\" must be a string",
                (Some("2.0"), None) => "it has no \"method\" (and is no valid response)",
                _ => "\"jsonrpc\" must be \"2.0\"",
            };
            jsonrpc_error(
                id,
                ErrorCode::INVALID_REQUEST,
                format!("Invalid Request: not a valid MCP JSON-RPC message: {hint}"),
            )
        }
        Ok(_) => jsonrpc_error(
            Value::Null,
            ErrorCode::INVALID_REQUEST,
            "Invalid Request: a JSON-RPC message must be a JSON object".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules() {
        let loopback = OriginRule::loopback();
        let ok = |o: &str| parse_origin(o).is_some_and(|o| loopback.iter().any(|r| r.admits(&o)));
        assert!(ok("http://localhost:3000"));
        assert!(ok("http://127.0.0.1"));
        assert!(ok("http://[::1]:8080"));
        assert!(ok("HTTP://LOCALHOST:1"));
        assert!(!ok("null"));
        assert!(!ok("http://evil.example"));
        assert!(!ok("http://localhost.evil.example"));
        assert!(!ok("https://localhost"));
        assert!(!ok("http://127.0.0.1.nip.io"));

        let rule: OriginRule = "https://ops.example.com".parse().expect("rule");
        assert!(rule.admits(&parse_origin("https://ops.example.com").expect("origin")));
        assert!(rule.admits(&parse_origin("https://ops.example.com:443").expect("origin")));
        assert!(!rule.admits(&parse_origin("https://ops.example.com:8443").expect("origin")));
        let any: OriginRule = "http://dev.local:*".parse().expect("rule");
        assert!(any.admits(&parse_origin("http://dev.local:5173").expect("origin")));
        assert_eq!(
            "http://localhost:3000/".parse::<OriginRule>().map(|r| r.to_string()).ok().as_deref(),
            Some("http://localhost:3000")
        );
        for bad in ["localhost", "ftp://x", "http://", "http://a:b", "http://a/b", "http://u@a", "null"] {
            assert!(bad.parse::<OriginRule>().is_err(), "{bad}");
        }
    }
}
