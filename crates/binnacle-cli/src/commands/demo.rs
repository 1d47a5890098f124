//! `binnacle demo`: everything at once with no cluster and no API key. For now: a simulated cluster with
//! the demo scenario and a kubeconfig for it.

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
        clusters: 1,
        state: None,
        speed: 1.0,
    };
    let running = sim::start(&sim_args).await?;
    sim::write_kubeconfig(&args.kubeconfig_out, &running.entries)?;
    let server = running.entries.first().map(|e| e.server.clone()).unwrap_or_default();
    let kc = args.kubeconfig_out.display().to_string();
    // The MCP server over the demo cluster, on a port of its own.
    let probe = tokio::net::TcpListener::bind(args.mcp_listen).await.with_context(|| format!("cannot listen on {}: is the port free?", args.mcp_listen))?;
    let mcp_addr = probe.local_addr()?;
    drop(probe);
    let mcp_args = McpCommandLine::try_parse_from(["mcp", "--transport", "http", "--listen", &mcp_addr.to_string(), "--kubeconfig", &kc])
        .map_err(|e| anyhow::anyhow!("demo MCP options: {e}"))?
        .args;
    let (stop_mcp, stopped) = tokio::sync::oneshot::channel::<()>();
    let mcp = tokio::spawn(super::mcp::serve(mcp_args, async move {
        let _ = stopped.await;
    }));
    println!("Binnacle demo is running.");
    println!();
    println!("  Simulated cluster:  {server}  (scenario: demo — healthy apps plus planted faults)");
    println!("  Kubeconfig:         {kc}");
    println!("  MCP tools:          http://{mcp_addr}/mcp  (Streamable HTTP; `binnacle tools` lists them)");
    println!();
    println!("Point kubectl at it:");
    println!("  export KUBECONFIG={kc}");
    println!("  kubectl get pods -A");
    println!("  kubectl describe pod -n payments -l app=payments-api");
    println!("  kubectl logs -n payments deploy/payments-api --previous");
    println!();
    println!("Press Ctrl-C to stop.");
    super::shutdown_signal().await;
    let _ = stop_mcp.send(());
    if let Ok(Err(e)) = mcp.await {
        eprintln!("MCP server: {e:#}");
    }
    for c in &running.clusters {
        c.shutdown()?;
    }
    Ok(())
}
