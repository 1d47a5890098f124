//! `binnacle`: the one binary of Binnacle. Each subcommand wires library crates together; the
//! subcommands live in [`commands`].

mod commands;

use clap::{Parser, Subcommand};

/// mimalloc keeps resident memory about 12% lower than the system allocator for the simulated cluster's
/// many small JSON allocations (measured in `crates/binnacle-sim/examples/bench.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Binnacle: an AI operations platform for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "binnacle", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log filter (also RUST_LOG), e.g. `info` or `binnacle_sim=debug`.
    #[arg(long, global = true, env = "BINNACLE_LOG", default_value = "info")]
    log: String,
    /// Log format on stderr: `text` for people, `json` (one object per line) for log pipelines.
    #[arg(long, global = true, env = "BINNACLE_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Try Binnacle with nothing installed: a simulated cluster with the demo scenario.
    Demo(commands::demo::DemoArgs),
    /// Run a Kubernetes-API-compatible simulated cluster that kubectl and kube-rs accept.
    Sim(commands::sim::SimArgs),
    /// Serve Binnacle's tools to AI clients over MCP (stdio or Streamable HTTP).
    Mcp(commands::mcp::McpArgs),
    /// List the tools Binnacle serves, with their MCP annotations.
    Tools(commands::mcp::ToolsArgs),
    /// Run the engine: REST + SSE API, agent loop, approval gate, persistence and auth.
    Serve(commands::serve::ServeArgs),
    /// Find what is broken in a cluster and why (the deterministic analyzers), as a table, JSON or YAML.
    Findings(commands::findings::FindingsArgs),
    /// Serve the MCP gateway of a `Gateway` object: every discovered MCP server's tools behind one endpoint.
    Gateway(commands::gateway::GatewayArgs),
    /// Run the operator: Gateway (and Binnacle) controllers with Lease-based leader election.
    Operator(commands::operator::OperatorArgs),
    /// Print every CustomResourceDefinition of Binnacle as YAML (kubectl apply -f -).
    Crds,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec = std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| cli.log.clone());
    let mut filter =
        tracing_subscriber::EnvFilter::try_new(&spec).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    // rmcp logs whole requests (tool arguments: manifests, Secret data) at debug level: keep it at warn unless
    // asked for by name.
    if !spec.contains("rmcp")
        && let Ok(directive) = "rmcp=warn".parse()
    {
        filter = filter.add_directive(directive);
    }
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => {
            logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).with_target(false).init()
        }
        LogFormat::Json => logs.json().with_current_span(false).init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Sim(args) => commands::sim::run(args).await,
            Command::Mcp(args) => commands::mcp::run(args).await,
            Command::Tools(args) => commands::mcp::tools(args),
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Findings(args) => commands::findings::run(args).await,
            Command::Gateway(args) => commands::gateway::run(args).await,
            Command::Operator(args) => commands::operator::run(args).await,
            Command::Crds => commands::operator::crds(),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
