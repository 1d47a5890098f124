//! `binnacle mcp`: serve the tool catalog over MCP (stdio or Streamable HTTP), and `binnacle tools`: print
//! the catalog.

use anyhow::{Context, bail};
use binnacle_mcp::{HttpOptions, McpServer, OriginRule, ServerOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, CatalogFilter, ClusterSet, ToolContext, Toolset};
use clap::{Args, ValueEnum};
use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the MCP server talks to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// JSON-RPC over standard input and output (the client launches `binnacle mcp`).
    Stdio,
    /// Streamable HTTP at http://ADDR/mcp.
    Http,
}

/// Options of `binnacle mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Transport: `stdio` (the client starts this process) or `http` (Streamable HTTP at /mcp).
    #[arg(long, value_enum, default_value = "stdio")]
    pub transport: Transport,
    /// Address to serve HTTP on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The clusters and external systems the tools reach.
    #[command(flatten)]
    pub targets: ToolTargets,
    /// List and call only read-only tools; any other tool is refused even when called by name.
    #[arg(long)]
    pub read_only: bool,
    /// Toolsets to serve, comma-separated: k8s, k8s-admin (node cordon/uncordon/drain, exec, secret reveal), helm, argo, jenkins, findings (default: all).
    #[arg(long, value_delimiter = ',', value_name = "TOOLSETS")]
    pub toolsets: Vec<Toolset>,
    /// Serve only these tools (comma-separated names; `binnacle tools` lists them).
    #[arg(long, value_delimiter = ',', value_name = "TOOLS")]
    pub allow_tools: Vec<String>,
    /// Never serve these tools (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "TOOLS")]
    pub deny_tools: Vec<String>,
    /// Browser origins allowed over HTTP, comma-separated (scheme://host[:port|:*]); default: http://localhost,
    /// http://127.0.0.1 and http://[::1] on any port. Requests with another Origin header get 403.
    #[arg(long, value_delimiter = ',', value_name = "URLS")]
    pub allowed_origins: Vec<OriginRule>,
    /// Host header values accepted over HTTP (against DNS rebinding), comma-separated; default: localhost,
    /// 127.0.0.1 and ::1 when listening on loopback, any host otherwise.
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub allowed_hosts: Vec<String>,
    /// Publish each tool's output schema in tools/list (larger listing; results carry structuredContent
    /// either way).
    #[arg(long)]
    pub output_schemas: bool,
    /// Time limit of one tool call, e.g. 60s, 5m.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub call_timeout: Duration,
}

/// What the tools reach, shared by `binnacle mcp` and `binnacle serve`: the kubeconfig (its contexts are the
/// clusters), the default context, Jenkins defaults and the helm binary.
#[derive(Debug, Clone, Default, Args)]
pub struct ToolTargets {
    /// Kubeconfig to use (default: KUBECONFIG, then ~/.kube/config); its contexts are the clusters. Without
    /// one the server still starts; tool calls then say that no cluster is configured.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Default kubeconfig context (default: the kubeconfig's current context). Tools take `context` per call.
    #[arg(long)]
    pub context: Option<String>,
    /// Default Jenkins URL for the Jenkins tools.
    #[arg(long, value_name = "URL")]
    pub jenkins_url: Option<String>,
    /// Default Jenkins credentials: a Secret `namespace/name` with `username` and `token` keys.
    #[arg(long, value_name = "NS/NAME")]
    pub jenkins_secret: Option<String>,
    /// The helm binary for Helm writes (default: helm on PATH).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let secs = binnacle_tools::validate::duration_secs(s).map_err(|e| e.to_string())?;
    if secs == 0 {
        return Err("must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

pub(crate) fn filter(toolsets: &[Toolset], read_only: bool, allow: &[String], deny: &[String]) -> CatalogFilter {
    let names =
        |v: &[String]| v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<BTreeSet<_>>();
    CatalogFilter { toolsets: toolsets.iter().copied().collect(), read_only, allow: names(allow), deny: names(deny) }
}

/// A cluster set whose every call fails, saying why no cluster is configured: the server keeps serving
/// (tools/list works; calls return an error the model can relay).
fn no_clusters(reason: &str) -> ClusterSet {
    let message = format!("no cluster is configured: {reason}; start `binnacle mcp` with --kubeconfig FILE");
    let service = tower::service_fn(move |_req: http::Request<kube::client::Body>| {
        let message = message.clone();
        async move { Err::<http::Response<kube::client::Body>, _>(std::io::Error::other(message)) }
    });
    ClusterSet::from_client("none", kube::Client::new(service, "default"))
}

/// Reads the kubeconfig. A missing or unreadable one is not fatal (tools fail per call); a `--context` that
/// the kubeconfig does not have is (a typo in the server's own configuration).
fn clusters(args: &McpArgs) -> anyhow::Result<ClusterSet> {
    args.targets.clusters()
}

impl ToolTargets {
    /// Reads the kubeconfig for a server (`binnacle mcp`, `binnacle serve`); see [`clusters`].
    pub(crate) fn clusters(&self) -> anyhow::Result<ClusterSet> {
        load_clusters(self.kubeconfig.as_deref(), self.context.as_deref())
    }

    /// Checks and gathers the tools' server settings.
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        tool_settings(self.jenkins_url.clone(), self.jenkins_secret.clone(), self.helm.clone())
    }
}

fn load_clusters(kubeconfig: Option<&std::path::Path>, context: Option<&str>) -> anyhow::Result<ClusterSet> {
    match ClusterSet::from_kubeconfig(kubeconfig, context) {
        Ok(set) => {
            tracing::info!(contexts = ?set.contexts(), default = ?set.default_context(), "kubeconfig loaded");
            Ok(set)
        }
        Err(e) if e.is_invalid_arguments() => bail!("{e}"),
        Err(e) => {
            tracing::warn!(error = %e, "no usable kubeconfig: serving anyway; tool calls will report it");
            Ok(no_clusters(&e.to_string()))
        }
    }
}

fn settings(args: &McpArgs) -> anyhow::Result<Settings> {
    args.targets.settings()
}

fn tool_settings(
    jenkins_url: Option<String>,
    jenkins_secret: Option<String>,
    helm: Option<PathBuf>,
) -> anyhow::Result<Settings> {
    if let Some(secret) = &jenkins_secret {
        binnacle_tools::validate::secret_ref(secret).map_err(|e| anyhow::anyhow!("--jenkins-secret: {e}"))?;
    }
    if let Some(url) = &jenkins_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!("--jenkins-url must be an http:// or https:// URL, got {url:?}");
    }
    Ok(Settings { jenkins_url, jenkins_secret, helm_binary: helm })
}

fn http_options(args: &McpArgs) -> HttpOptions {
    let mut options = HttpOptions::default();
    if !args.allowed_origins.is_empty() {
        options.allowed_origins = args.allowed_origins.clone();
    }
    if !args.allowed_hosts.is_empty() {
        options.allowed_hosts = Some(args.allowed_hosts.iter().map(|h| h.trim().to_string()).collect());
    } else if !args.listen.ip().is_loopback() {
        tracing::warn!(
            address = %args.listen,
            "serving MCP on a non-loopback address without authentication; the Host check is off (set --allowed-hosts)"
        );
        options.allowed_hosts = None;
    }
    options
}

/// Runs `binnacle mcp` until the client disconnects (stdio) or SIGINT/SIGTERM (both).
pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    serve(args, super::shutdown_signal()).await
}

/// Serves MCP as `args` say until `shutdown` completes (or the stdio client disconnects).
pub async fn serve(
    args: McpArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let catalog = Catalog::builtin();
    let filter = filter(&args.toolsets, args.read_only, &args.allow_tools, &args.deny_tools);
    catalog.check_filter(&filter).map_err(anyhow::Error::msg)?;
    let ctx = ToolContext::new(Arc::new(clusters(&args)?), Arc::new(settings(&args)?));
    let server = McpServer::new(
        catalog,
        ctx,
        ServerOptions { filter, call_timeout: args.call_timeout, output_schemas: args.output_schemas },
    )
    .map_err(anyhow::Error::msg)?;
    tracing::info!(tools = server.tools().len(), read_only = args.read_only, transport = ?args.transport, "MCP server ready");
    match args.transport {
        Transport::Stdio => {
            tokio::select! {
                r = binnacle_mcp::serve_stdio(server) => r.context("MCP over stdio")?,
                _ = shutdown => tracing::info!("stopping"),
            }
        }
        Transport::Http => {
            let options = http_options(&args);
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("cannot listen on {}: is the port free?", args.listen))?;
            let addr = listener.local_addr()?;
            println!("MCP server listening on http://{addr}/mcp");
            std::io::stdout().flush()?;
            binnacle_mcp::serve_http(listener, server, options, shutdown).await.context("MCP over HTTP")?;
            println!("MCP server stopped");
        }
    }
    Ok(())
}

/// Options of `binnacle tools`.
#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// Only these toolsets, comma-separated: k8s, k8s-admin (node cordon/uncordon/drain, exec, secret reveal), helm, argo, jenkins, findings (default: all).
    #[arg(long, value_delimiter = ',', value_name = "TOOLSETS")]
    pub toolsets: Vec<Toolset>,
    /// Only read-only tools.
    #[arg(long)]
    pub read_only: bool,
    /// Print the full specifications (schemas included) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Prints the tool catalog.
pub fn tools(args: ToolsArgs) -> anyhow::Result<()> {
    let catalog = Catalog::builtin().filtered(&filter(&args.toolsets, args.read_only, &[], &[]));
    let mut out = std::io::stdout().lock();
    if args.json {
        let specs: Vec<_> = catalog.tools().iter().map(|t| t.spec()).collect();
        serde_json::to_writer_pretty(&mut out, &specs)?;
        writeln!(out)?;
        return Ok(());
    }
    let width = catalog.tools().iter().map(|t| t.spec().name.len()).max().unwrap_or(4).max(4);
    writeln!(out, "{:<width$}  {:<9}  {:<5}  TITLE", "NAME", "TOOLSET", "HINTS")?;
    for tool in catalog.tools() {
        let spec = tool.spec();
        let a = spec.annotations;
        let hints: String = [(a.read_only, 'R'), (a.destructive, 'D'), (a.idempotent, 'I'), (a.open_world, 'O')]
            .iter()
            .map(|(on, c)| if *on { *c } else { '-' })
            .collect();
        writeln!(out, "{:<width$}  {:<9}  {:<5}  {}", spec.name, spec.toolset.as_str(), hints, spec.title)?;
    }
    writeln!(
        out,
        "\n{} tools. HINTS: R read-only, D destructive, I idempotent, O open world (MCP annotations).",
        catalog.len()
    )?;
    Ok(())
}
