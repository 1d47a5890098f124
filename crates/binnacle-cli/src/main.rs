//! `binnacle`: the one binary of Binnacle. Each subcommand wires library crates together; the
//! subcommands live in [`commands`].

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Binnacle: an AI operations platform for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "binnacle", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log filter (also RUST_LOG), e.g. `info` or `binnacle_sim=debug`.
    #[arg(long, global = true, env = "BINNACLE_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Try Binnacle with nothing installed: a simulated cluster with the demo scenario.
    Demo(commands::demo::DemoArgs),
    /// Run a Kubernetes-API-compatible simulated cluster that kubectl and kube-rs accept.
    Sim(commands::sim::SimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
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
