//! Binnacle's MCP adapter: serves a tool [`Catalog`](binnacle_tools::Catalog) over the Model Context
//! Protocol with the official Rust SDK (rmcp).
//!
//! The catalog is dynamic (toolsets, read-only mode, allow and deny lists), so [`McpServer`] implements
//! rmcp's `ServerHandler` by hand instead of through its macros:
//!
//! - `initialize`: server `binnacle`, with instructions on contexts, output budgets and approval hints;
//! - `tools/list`: the filtered catalog with input and output schemas, all four annotation hints, the title,
//!   and tags and toolset under `_meta` (`binnacle.dev/tags`, `binnacle.dev/toolset`);
//! - `tools/call`: unknown or hidden tools and invalid arguments are JSON-RPC `invalid_params` errors; any
//!   other failure is a result with `isError: true` whose text the model can act on; success is the summary
//!   as text plus `structuredContent`. Calls report progress when the request carries a progress token, stop
//!   on `notifications/cancelled`, and time out (default 60 s). Each call is logged with tool name, duration
//!   and outcome, never with its arguments.
//!
//! Transports: [`serve_stdio`], or [`router`] / [`serve_http`] for Streamable HTTP at `/mcp` with stateful
//! sessions, `/healthz`, an `Origin` check (403), a body size limit (413) and JSON-RPC errors for bodies
//! that are not one valid message.

mod handler;
mod http;

pub use handler::{DEFAULT_CALL_TIMEOUT, META_OMITTED, META_TAGS, META_UNTRUSTED, McpServer, ServerOptions, mcp_tool};
pub use http::{DEFAULT_MAX_BODY_BYTES, HttpOptions, MCP_PATH, OriginRule, router, serve_http};
pub use tokio_util::sync::CancellationToken;

use rmcp::ServiceExt;

/// Serves MCP over standard input and output until the client closes stdin. Nothing else may write to
/// stdout: logs go to stderr.
pub async fn serve_stdio(server: McpServer) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| std::io::Error::other(format!("MCP session over stdio failed to start: {e}")))?;
    let reason =
        running.waiting().await.map_err(|e| std::io::Error::other(format!("MCP session over stdio failed: {e}")))?;
    tracing::info!(?reason, "MCP session over stdio ended");
    Ok(())
}
