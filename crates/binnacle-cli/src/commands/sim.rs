//! `binnacle sim`: serve one or more simulated clusters and write a kubeconfig for them.

use anyhow::{Context, bail};
use binnacle_sim::kubeconfig::{self, Entry};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `binnacle sim`.
#[derive(Debug, Args, Clone)]
pub struct SimArgs {
    /// Address to serve the Kubernetes API on (port 0 picks a free port). With --clusters N, cluster i uses
    /// port PORT+i-1, or a free port each when PORT is 0.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Where to write a kubeconfig that `kubectl --kubeconfig FILE` uses as is.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Objects to start with: `demo`, `empty`, or the path of a multi-document YAML file.
    #[arg(long, default_value = "demo")]
    pub scenario: Scenario,
    /// How many independent clusters to run (contexts sim-1 … sim-N).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub clusters: u16,
    /// Save objects to this file so that they survive a restart (with --clusters N, one file per cluster:
    /// FILE.1, FILE.2, ...).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Simulated clock speed (2 = twice as fast as real time).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Slow one cluster down: every API response of NAME is delayed by DURATION (e.g. `sim-2=3s`, `sim=500ms`);
    /// repeatable. For trying out fleet timeouts.
    #[arg(long = "slow-cluster", value_name = "NAME=DURATION", value_parser = parse_slow_cluster)]
    pub slow_clusters: Vec<(String, std::time::Duration)>,
}

/// Parses `NAME=DURATION` (`ms`, `s` or `m`).
pub(crate) fn parse_slow_cluster(raw: &str) -> Result<(String, std::time::Duration), String> {
    let usage = || format!("expected NAME=DURATION such as sim-2=3s or sim-1=500ms, got {raw:?}");
    let (name, d) = raw.split_once('=').ok_or_else(usage)?;
    let d = d.trim();
    let (number, unit) = d.split_at(d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len()));
    let n: u64 = number.parse().map_err(|_| usage())?;
    let delay = match unit {
        "ms" => std::time::Duration::from_millis(n),
        "s" => std::time::Duration::from_secs(n),
        "m" => std::time::Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(usage()),
    };
    if name.trim().is_empty() {
        return Err(usage());
    }
    Ok((name.trim().to_string(), delay))
}

/// Running simulated clusters with their kubeconfig entries.
pub struct Running {
    /// The clusters (kept alive while they serve).
    pub clusters: Vec<SimCluster>,
    /// One kubeconfig entry per cluster.
    pub entries: Vec<Entry>,
}

/// Starts the clusters described by `args` and writes the kubeconfig.
pub async fn start(args: &SimArgs) -> anyhow::Result<Running> {
    if !args.listen.ip().is_loopback() {
        tracing::warn!(address = %args.listen, "the simulated cluster has no authentication; serving on a non-loopback address exposes it");
    }
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 1000.0) {
        bail!("--speed must be a number greater than 0 and at most 1000, got {}", args.speed);
    }
    let names: Vec<String> = (0..args.clusters)
        .map(|i| if args.clusters == 1 { "sim".to_string() } else { format!("sim-{}", i + 1) })
        .collect();
    for (name, _) in &args.slow_clusters {
        if !names.contains(name) {
            bail!("--slow-cluster: there is no cluster {name:?}; the clusters are {}", names.join(", "));
        }
    }
    let mut clusters = Vec::new();
    let mut entries = Vec::new();
    for (i, name) in (0..args.clusters).zip(names) {
        let latency = args.slow_clusters.iter().rev().find(|(n, _)| *n == name).map(|(_, d)| *d).unwrap_or_default();
        let state_file = args
            .state
            .as_ref()
            .map(|p| if args.clusters == 1 { p.clone() } else { PathBuf::from(format!("{}.{}", p.display(), i + 1)) });
        let opts = SimOptions {
            name: name.clone(),
            scenario: args.scenario.clone(),
            speed: args.speed,
            seed: 42 + i as u64,
            state_file,
            latency,
            ..SimOptions::default()
        };
        let sim = SimCluster::start(opts).await.with_context(|| format!("cannot start simulated cluster {name}"))?;
        let mut addr = args.listen;
        if addr.port() != 0 {
            addr.set_port(addr.port().checked_add(i).context("port out of range for --clusters")?);
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}: is the port free?"))?;
        let bound = sim.serve(listener)?;
        entries.push(Entry { name, server: format!("http://{bound}") });
        clusters.push(sim);
    }
    Ok(Running { clusters, entries })
}

/// Writes the kubeconfig for the running clusters.
pub fn write_kubeconfig(path: &PathBuf, entries: &[Entry]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, kubeconfig::render(entries))
        .with_context(|| format!("cannot write kubeconfig {}", path.display()))
}

/// Runs `binnacle sim` until SIGINT/SIGTERM.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let running = start(&args).await?;
    // The kubeconfig is written before anything is printed: the address lines announce readiness.
    if let Some(path) = &args.kubeconfig_out {
        write_kubeconfig(path, &running.entries)?;
    }
    for (e, c) in running.entries.iter().zip(&running.clusters) {
        let slow =
            if c.latency().is_zero() { String::new() } else { format!(" (slowed: +{:?} per response)", c.latency()) };
        println!("cluster {} serving the Kubernetes API at {}{slow}", e.name, e.server);
    }
    if let Some(path) = &args.kubeconfig_out {
        println!("kubeconfig written to {}", path.display());
        println!("try: kubectl --kubeconfig {} get pods -A", path.display());
    }
    super::shutdown_signal().await;
    for c in &running.clusters {
        c.shutdown()?;
    }
    println!("simulated clusters stopped");
    Ok(())
}
