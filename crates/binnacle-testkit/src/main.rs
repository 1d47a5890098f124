//! `binnacle-testkit`: runs the stand-ins from the command line, for tests written in other languages.
//!
//! `binnacle-testkit jenkins --listen 127.0.0.1:0` starts the Jenkins stand-in, prints its base URL on
//! the first line of standard output (then the user and API token it accepts, one per line) and serves
//! until it is interrupted or killed.
//!
//! `binnacle-testkit postgres` starts a throwaway PostgreSQL server on loopback (a port chosen at run
//! time), prints its URL (`postgres://postgres@127.0.0.1:PORT/postgres`, trust authentication) on one
//! line of standard output and runs until it is interrupted or killed (or, with `--until-stdin-eof`, until
//! its standard input closes); then the server is stopped and its files removed. Export the URL as
//! `BINNACLE_TEST_POSTGRES_URL` to have every test process make its databases on that one server.
//!
//! `binnacle-testkit llm --script FILE.json` serves a scripted LLM (see `binnacle_testkit::llm`): it prints
//! the OpenAI-compatible base URL (`http://127.0.0.1:PORT/v1`) on the first line, then
//! `anthropic=http://127.0.0.1:PORT`; recorded requests are listed at `GET /_requests`.

use anyhow::Context;
use binnacle_testkit::{JenkinsOptions, start_jenkins};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::net::SocketAddr;

#[derive(Parser)]
#[command(name = "binnacle-testkit", about = "Stand-ins for the external systems Binnacle's tools talk to, for tests")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A Jenkins JSON API stand-in with in-memory jobs and builds.
    Jenkins {
        /// Loopback address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// The user it accepts.
        #[arg(long)]
        user: Option<String>,
        /// The API token it accepts.
        #[arg(long)]
        token: Option<String>,
        /// Seconds a triggered build runs.
        #[arg(long, default_value_t = 3.0)]
        build_seconds: f64,
    },
    /// A scripted LLM speaking the OpenAI Chat Completions and Anthropic Messages protocols.
    Llm {
        /// Loopback address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// The script, a JSON file (`{"conversations": [{"when_user_says": ..., "turns": [...]}]}`).
        #[arg(long)]
        script: std::path::PathBuf,
    },
    /// A static file server for a directory (a Helm chart repository in tests).
    Files {
        /// Loopback address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// The directory to serve.
        #[arg(long)]
        dir: std::path::PathBuf,
    },
    /// A throwaway PostgreSQL server (initdb + pg_ctl) on loopback; prints its URL.
    Postgres {
        /// Also stop when standard input closes (for a parent that holds a pipe to it).
        #[arg(long)]
        until_stdin_eof: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Jenkins { listen, user, token, build_seconds } => {
            let mut opts = JenkinsOptions::default();
            if let Some(u) = user {
                opts.user = u;
            }
            if let Some(t) = token {
                opts.token = t;
            }
            opts.build_duration = std::time::Duration::from_secs_f64(build_seconds.clamp(0.0, 3600.0));
            let (user, token) = (opts.user.clone(), opts.token.clone());
            let (_addr, handle) = start_jenkins(listen, opts).await.context("starting the Jenkins stand-in")?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", handle.url())?;
            writeln!(out, "user={user}")?;
            writeln!(out, "token={token}")?;
            out.flush()?;
            drop(out);
            wait_for_stop().await;
            drop(handle);
            Ok(())
        }
        Command::Llm { listen, script } => {
            let script = binnacle_testkit::Script::from_json_file(&script)?;
            let handle = binnacle_testkit::serve_scripted_llm(listen, script)
                .await
                .context("starting the scripted LLM server")?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", handle.url())?;
            writeln!(out, "anthropic={}", handle.anthropic_url())?;
            out.flush()?;
            drop(out);
            wait_for_stop().await;
            drop(handle);
            Ok(())
        }
        Command::Files { listen, dir } => {
            let (addr, handle) = binnacle_testkit::serve_dir(listen, dir).await.context("starting the file server")?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "http://{addr}")?;
            out.flush()?;
            drop(out);
            wait_for_stop().await;
            drop(handle);
            Ok(())
        }
        Command::Postgres { until_stdin_eof } => {
            let server = tokio::task::spawn_blocking(binnacle_testkit::PostgresServer::start)
                .await?
                .context("starting PostgreSQL")?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", server.url())?;
            out.flush()?;
            drop(out);
            if until_stdin_eof {
                // A plain thread, not a blocking task: the runtime would wait for that one at exit.
                let (closed_tx, stdin_closed) = tokio::sync::oneshot::channel::<()>();
                std::thread::spawn(move || {
                    let mut sink = [0u8; 1024];
                    let mut stdin = std::io::stdin().lock();
                    while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
                    let _ = closed_tx.send(());
                });
                tokio::select! {
                    _ = wait_for_stop() => {}
                    _ = stdin_closed => {}
                }
            } else {
                wait_for_stop().await;
            }
            tokio::task::spawn_blocking(move || drop(server)).await?;
            Ok(())
        }
    }
}

/// Waits for Ctrl-C or SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
