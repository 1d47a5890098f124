//! The tools a run may call: the in-process catalog plus the tools of extra MCP servers (`--mcp URL`,
//! Streamable HTTP, for example the gateway).
//!
//! A remote tool keeps its MCP annotations; one without annotations (or without `readOnlyHint: true`) is
//! treated as mutating, so it always stops at the approval gate.

use crate::EngineError;
use crate::tool_text::{render_tool_error, render_tool_result};
use binnacle_llm::ToolDef;
use binnacle_tools::context::ProgressSink;
use binnacle_tools::{Catalog, DynTool, ToolContext};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// What the gate needs to know of a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hints {
    /// Changes nothing: runs without approval.
    pub read_only: bool,
    /// May destroy or disrupt.
    pub destructive: bool,
    /// Repeating it has no further effect.
    pub idempotent: bool,
    /// Reaches outside the cluster.
    pub open_world: bool,
}

/// Where a tool runs.
#[derive(Clone)]
enum Source {
    Local(Arc<dyn DynTool>),
    Remote { server: Arc<RemoteServer>, name: String },
}

/// One tool a run may call.
#[derive(Clone)]
pub struct ToolEntry {
    /// The name the model sees.
    pub name: String,
    /// Human title.
    pub title: String,
    /// Description for the model.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_schema: Value,
    /// The annotations that drive the gate.
    pub hints: Hints,
    /// `catalog` or the MCP server's URL.
    pub origin: String,
    source: Source,
}

impl std::fmt::Debug for ToolEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolEntry").field("name", &self.name).field("origin", &self.origin).finish()
    }
}

impl ToolEntry {
    /// True when the tool takes a `dryRun` argument (its dry run is the approval preview).
    pub fn has_dry_run(&self) -> bool {
        self.input_schema.pointer("/properties/dryRun").is_some()
    }
}

/// A tool call's successful result.
#[derive(Debug, Clone)]
pub struct ToolSuccess {
    /// Short text.
    pub summary: String,
    /// Structured content.
    pub structured: Value,
}

impl ToolSuccess {
    /// As written into the conversation.
    pub fn render(&self) -> String {
        render_tool_result(&self.summary, &self.structured)
    }
}

/// A tool call's failure, as text the model can read.
#[derive(Debug, Clone)]
pub struct ToolFailure(pub String);

impl ToolFailure {
    /// As written into the conversation.
    pub fn render(&self) -> String {
        render_tool_error(&self.0)
    }
}

struct RemoteServer {
    url: String,
    client: RunningService<RoleClient, ()>,
}

/// The tools of a run, with the context they run in.
#[derive(Clone)]
pub struct ToolBox {
    entries: Arc<Vec<ToolEntry>>,
    ctx: ToolContext,
    call_timeout: Duration,
}

impl std::fmt::Debug for ToolBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolBox").field("tools", &self.entries.len()).finish()
    }
}

impl ToolBox {
    /// The catalog's tools, run with `ctx`.
    pub fn new(catalog: &Catalog, ctx: ToolContext) -> Self {
        let entries = catalog
            .tools()
            .iter()
            .map(|t| {
                let spec = t.spec();
                ToolEntry {
                    name: spec.name.to_string(),
                    title: spec.title.to_string(),
                    description: spec.description.to_string(),
                    input_schema: spec.input_schema.clone(),
                    hints: Hints {
                        read_only: spec.annotations.read_only,
                        destructive: spec.annotations.destructive,
                        idempotent: spec.annotations.idempotent,
                        open_world: spec.annotations.open_world,
                    },
                    origin: "catalog".into(),
                    source: Source::Local(t.clone()),
                }
            })
            .collect();
        Self { entries: Arc::new(entries), ctx, call_timeout: Duration::from_secs(120) }
    }

    /// With a time limit per call.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Connects to an MCP server over Streamable HTTP and adds its tools. A tool whose name is already
    /// taken is skipped with a warning. Returns how many tools were added.
    pub async fn add_mcp_server(&mut self, url: &str) -> Result<usize, EngineError> {
        let transport = StreamableHttpClientTransport::from_uri(url.to_string());
        let client = ().serve(transport).await.map_err(|e| {
            EngineError::Config(format!(
                "cannot connect to the MCP server at {url}: {e}; check --mcp and that the server is up"
            ))
        })?;
        let tools = client
            .list_all_tools()
            .await
            .map_err(|e| EngineError::Config(format!("cannot list the tools of the MCP server at {url}: {e}")))?;
        let server = Arc::new(RemoteServer { url: url.to_string(), client });
        let mut entries: Vec<ToolEntry> = self.entries.as_ref().clone();
        let mut added = 0;
        for tool in tools {
            let name = tool.name.to_string();
            if entries.iter().any(|e| e.name == name) {
                tracing::warn!(tool = %name, server = %url, "an MCP server's tool has the name of a tool already offered; skipped");
                continue;
            }
            let a = tool.annotations.clone().unwrap_or_default();
            let hints = Hints {
                // No annotation means we cannot know: treat as mutating.
                read_only: a.read_only_hint.unwrap_or(false),
                destructive: a.destructive_hint.unwrap_or(true),
                idempotent: a.idempotent_hint.unwrap_or(false),
                open_world: a.open_world_hint.unwrap_or(true),
            };
            entries.push(ToolEntry {
                title: tool.title.clone().or_else(|| a.title.clone()).unwrap_or_else(|| name.clone()),
                description: tool.description.as_deref().unwrap_or("").to_string(),
                input_schema: Value::Object((*tool.input_schema).clone()),
                hints,
                origin: url.to_string(),
                source: Source::Remote { server: server.clone(), name: name.clone() },
                name,
            });
            added += 1;
        }
        self.entries = Arc::new(entries);
        Ok(added)
    }

    /// Every tool.
    pub fn entries(&self) -> &[ToolEntry] {
        &self.entries
    }

    /// A tool by name.
    pub fn get(&self, name: &str) -> Option<&ToolEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The tools offered to the model (`read_only_only`: only those that change nothing, for viewers).
    pub fn definitions(&self, read_only_only: bool) -> Vec<ToolDef> {
        self.entries
            .iter()
            .filter(|e| !read_only_only || e.hints.read_only)
            .map(|e| ToolDef {
                name: e.name.clone(),
                description: e.description.clone(),
                input_schema: e.input_schema.clone(),
            })
            .collect()
    }

    /// The kubeconfig contexts tools can reach.
    pub fn contexts(&self) -> Vec<String> {
        self.ctx.clusters().contexts()
    }

    /// The default context.
    pub fn default_context(&self) -> Option<String> {
        self.ctx.clusters().default_context().map(str::to_string)
    }

    /// Calls a tool.
    pub async fn call(
        &self,
        entry: &ToolEntry,
        args: Value,
        progress: Option<ProgressSink>,
    ) -> Result<ToolSuccess, ToolFailure> {
        let fut = async {
            match &entry.source {
                Source::Local(tool) => {
                    let ctx = match progress {
                        Some(p) => self.ctx.clone().with_progress(p),
                        None => self.ctx.clone(),
                    };
                    tool.call(&ctx, args)
                        .await
                        .map(|out| ToolSuccess { summary: out.summary, structured: out.structured })
                        .map_err(|e| ToolFailure(e.to_string()))
                }
                Source::Remote { server, name } => call_remote(server, name, args).await,
            }
        };
        match tokio::time::timeout(self.call_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(ToolFailure(format!(
                "timed out after {} s; the operation may still complete — check its state before retrying",
                self.call_timeout.as_secs()
            ))),
        }
    }
}

async fn call_remote(server: &RemoteServer, name: &str, args: Value) -> Result<ToolSuccess, ToolFailure> {
    let arguments = match args {
        Value::Object(m) => Some(m),
        Value::Null => None,
        _ => return Err(ToolFailure("arguments must be a JSON object".into())),
    };
    let mut params = CallToolRequestParams::new(name.to_string());
    params.arguments = arguments;
    let result = server
        .client
        .call_tool(params)
        .await
        .map_err(|e| ToolFailure(format!("the MCP server at {} failed the call: {e}", server.url)))?;
    let text: Vec<String> = result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect();
    let summary = text.first().cloned().unwrap_or_default();
    if result.is_error == Some(true) {
        return Err(ToolFailure(text.join("\n")));
    }
    let structured = result.structured_content.clone().unwrap_or(Value::Null);
    Ok(ToolSuccess { summary, structured })
}
