//! `binnacle demo`: everything at once with no cluster and no API key: a simulated cluster with the demo
//! scenario and a kubeconfig for it, the MCP tools over HTTP, and the engine (API, SQLite, the offline
//! assistant unless an LLM is configured) serving the Command Center at its URL, with an `admin` login
//! printed at start.

use super::mcp::McpArgs;
use super::sim::{self, SimArgs};
use anyhow::Context;
use binnacle_sim::Scenario;
use clap::{Args, Parser};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `binnacle demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address of the simulated cluster's Kubernetes API.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub kube_listen: SocketAddr,
    /// Where to write the demo kubeconfig.
    #[arg(long, value_name = "FILE", default_value = ".binnacle/demo-kubeconfig")]
    pub kubeconfig_out: PathBuf,
    /// Address of the MCP server (Streamable HTTP at /mcp).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub mcp_listen: SocketAddr,
    /// Address of the engine (API and UI).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The demo's database (conversations survive restarts of the demo).
    #[arg(long, default_value = "sqlite://.binnacle/demo.db")]
    pub database: String,
    /// How many simulated clusters (contexts sim-1 … sim-N; the fleet at /api/v1/fleet shows them all).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub clusters: u16,
    /// Slow one simulated cluster down, e.g. `sim-2=3s` (see `binnacle sim --slow-cluster`); repeatable.
    #[arg(long = "slow-cluster", value_name = "NAME=DURATION", value_parser = sim::parse_slow_cluster)]
    pub slow_clusters: Vec<(String, std::time::Duration)>,
}

/// `binnacle mcp`'s options, parsed exactly as on the command line so the demo shares their defaults.
#[derive(Debug, Parser)]
struct McpCommandLine {
    #[command(flatten)]
    args: McpArgs,
}

/// Runs the demo until SIGINT/SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let sim_args = SimArgs {
        listen: args.kube_listen,
        kubeconfig_out: Some(args.kubeconfig_out.clone()),
        scenario: Scenario::Demo,
        clusters: args.clusters,
        state: None,
        speed: 1.0,
        slow_clusters: args.slow_clusters.clone(),
    };
    let running = sim::start(&sim_args).await?;
    sim::write_kubeconfig(&args.kubeconfig_out, &running.entries)?;
    let server = running.entries.first().map(|e| e.server.clone()).unwrap_or_default();
    let kc = args.kubeconfig_out.display().to_string();
    // The MCP server over the demo cluster, on a port of its own.
    let probe = tokio::net::TcpListener::bind(args.mcp_listen)
        .await
        .with_context(|| format!("cannot listen on {}: is the port free?", args.mcp_listen))?;
    let mcp_addr = probe.local_addr()?;
    drop(probe);
    let mcp_args = McpCommandLine::try_parse_from([
        "mcp",
        "--transport",
        "http",
        "--listen",
        &mcp_addr.to_string(),
        "--kubeconfig",
        &kc,
    ])
    .map_err(|e| anyhow::anyhow!("demo MCP options: {e}"))?
    .args;
    let (stop_mcp, stopped) = tokio::sync::oneshot::channel::<()>();
    let mcp = tokio::spawn(super::mcp::serve(mcp_args, async move {
        let _ = stopped.await;
    }));
    let (stop_engine, engine_stopped) = tokio::sync::oneshot::channel::<()>();
    let serve_args = super::serve::ServeArgs::for_demo(args.listen, args.database.clone(), args.kubeconfig_out.clone());
    let engine = super::serve::start(serve_args, None, async move {
        let _ = engine_stopped.await;
    })
    .await?;
    let password = demo_admin_password(engine.engine.store()).await?;
    let provider = engine.engine.provider();
    println!("Binnacle demo is running.");
    println!();
    println!("  Command Center:     http://{}/  (log in as admin / {password})", engine.addr);
    super::serve::print_ui_note(22);
    println!("  Engine (API):       http://{}/api/v1  (OpenAPI: /api/v1/openapi.json)", engine.addr);
    if provider.offline {
        println!("  Model:              offline assistant (no API key needed; set BINNACLE_LLM_* to use an LLM)");
    } else {
        println!("  Model:              {} ({})", provider.model, provider.provider);
    }
    println!();
    println!("  Simulated cluster:  {server}  (scenario: demo — healthy apps plus planted faults)");
    if running.entries.len() > 1 {
        println!(
            "                      and {} more: contexts {}",
            running.entries.len() - 1,
            running.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    println!("  Fleet:              http://{}/api/v1/fleet/clusters  (and /api/v1/fleet/pods/stream ...)", engine.addr);
    println!("  Kubeconfig:         {kc}");
    println!("  MCP tools:          http://{mcp_addr}/mcp  (Streamable HTTP; `binnacle tools` lists them)");
    println!();
    println!("Point kubectl at it:");
    println!("  export KUBECONFIG={kc}");
    println!("  kubectl get pods -A");
    println!("  kubectl describe pod -n payments -l app=payments-api");
    println!("  kubectl logs -n payments deploy/payments-api --previous");
    println!();
    println!("Ask the engine (with the access token from POST /api/v1/auth/login; see the README):");
    println!(
        "  \"what is broken in namespace payments?\"   \"why is payments-api failing?\"   \"scale deployment cart in shop to 3\""
    );
    println!();
    println!("Press Ctrl-C to stop.");
    super::shutdown_signal().await;
    let _ = stop_engine.send(());
    if let Ok(Err(e)) = engine.task.await {
        eprintln!("engine: {e:#}");
    }
    let _ = stop_mcp.send(());
    if let Ok(Err(e)) = mcp.await {
        eprintln!("MCP server: {e:#}");
    }
    for c in &running.clusters {
        c.shutdown()?;
    }
    Ok(())
}

/// The demo's `admin` password: `BINNACLE_ADMIN_PASSWORD`, else a new one each start (printed), so the demo
/// never locks anyone out of its own database.
async fn demo_admin_password(store: &binnacle_store::Store) -> anyhow::Result<String> {
    let password = match std::env::var("BINNACLE_ADMIN_PASSWORD").ok().filter(|s| !s.is_empty()) {
        Some(p) => p,
        None => binnacle_api::auth::tokens::random_secret()[..16].to_string(),
    };
    let hash = binnacle_api::auth::passwords::hash(&password).await.map_err(|e| anyhow::anyhow!(e))?;
    match store.user_by_username("admin").await? {
        Some((user, _)) => store.set_password(&user.id, &hash).await?,
        None => {
            store.create_user("admin", &hash, binnacle_store::Role::Admin).await?;
        }
    }
    Ok(password)
}
