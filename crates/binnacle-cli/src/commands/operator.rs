//! `binnacle operator`: the kube-runtime controllers of Binnacle's custom resources, with Lease-based leader
//! election; and `binnacle crds`: print every CustomResourceDefinition.

use anyhow::{Context, bail};
use binnacle_operator::{LeaseOptions, OperatorOptions};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Options of `binnacle operator`.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// Kubeconfig to use (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Only reconcile resources in this namespace (default: every namespace).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Image of the pods the operator runs (default: ghcr.io/binnacle-dev/binnacle:<this version>).
    #[arg(long)]
    pub image: Option<String>,
    /// Namespace of the leader-election Lease (default: the operator's own namespace, else binnacle-system).
    #[arg(long, value_name = "NS")]
    pub leader_election_namespace: Option<String>,
    /// This replica's identity in the Lease (default: $POD_NAME, else the host name and process id).
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// How long a leader that stopped renewing keeps the Lease, e.g. 15s.
    #[arg(long, default_value = "15s", value_parser = super::mcp::parse_duration)]
    pub lease_duration: Duration,
    /// A leader that could not renew for this long steps down, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = super::mcp::parse_duration)]
    pub renew_deadline: Duration,
    /// How often the leader renews and the others retry, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = super::mcp::parse_duration)]
    pub retry_period: Duration,
    /// Serve /healthz, /readyz and /metrics on this address (port 0: any free port; default: off).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

async fn client(args: &OperatorArgs) -> anyhow::Result<kube::Client> {
    use kube::config::{Config, KubeConfigOptions, Kubeconfig};
    let options = KubeConfigOptions { context: args.context.clone(), ..Default::default() };
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options).await.context("cannot use the kubeconfig")?
        }
        None if args.context.is_some() => {
            Config::from_kubeconfig(&options).await.context("cannot use the kubeconfig")?
        }
        None => Config::infer().await.context("no kubeconfig and not running in a cluster; pass --kubeconfig")?,
    };
    kube::Client::try_from(config).context("cannot build a Kubernetes client")
}

/// The operator's own namespace: $POD_NAMESPACE, or the service account's namespace file.
fn own_namespace() -> Option<String> {
    std::env::var("POD_NAMESPACE").ok().filter(|s| !s.is_empty()).or_else(|| {
        std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    })
}

/// Runs `binnacle operator`.
pub async fn run(args: OperatorArgs) -> anyhow::Result<()> {
    if args.renew_deadline >= args.lease_duration {
        bail!(
            "--renew-deadline ({:?}) must be shorter than --lease-duration ({:?}), or two replicas could lead at once",
            args.renew_deadline,
            args.lease_duration
        );
    }
    if args.retry_period.is_zero() || args.retry_period >= args.renew_deadline {
        bail!("--retry-period ({:?}) must be above zero and shorter than --renew-deadline", args.retry_period);
    }
    let client = client(&args).await?;
    let lease_namespace = args
        .leader_election_namespace
        .clone()
        .or_else(own_namespace)
        .unwrap_or_else(|| binnacle_operator::DEFAULT_LEASE_NAMESPACE.to_string());
    binnacle_operator::check_lease_namespace(&client, &lease_namespace).await?;
    let identity = args.identity.clone().or_else(|| std::env::var("POD_NAME").ok()).unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "binnacle-operator".into());
        format!("{host}-{}", std::process::id())
    });
    let mut options = OperatorOptions::new(identity.clone());
    options.namespace = args.namespace.clone();
    if let Some(image) = &args.image {
        options.image = image.clone();
    }
    options.lease_namespace = lease_namespace.clone();
    options.lease = LeaseOptions {
        lease_duration: args.lease_duration,
        renew_deadline: args.renew_deadline,
        retry: args.retry_period,
    };
    println!(
        "binnacle operator {identity}: campaigning for Lease {lease_namespace}/{} (image {})",
        options.lease_name, options.image
    );
    let shutdown = CancellationToken::new();
    if let Some(addr) = args.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (--metrics-listen)"))?;
        let local = listener.local_addr().context("no local address")?;
        let app = binnacle_operator::metrics::router(options.metrics.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await });
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "the metrics server failed");
            }
        });
        println!("binnacle operator metrics on http://{local}/metrics (also /healthz, /readyz)");
    }
    let stop = shutdown.clone();
    tokio::spawn(async move {
        super::shutdown_signal().await;
        stop.cancel();
    });
    let (leading, _) = tokio::sync::watch::channel(false);
    binnacle_operator::run(client, options, leading, shutdown).await;
    Ok(())
}

/// Runs `binnacle crds`: every CustomResourceDefinition, as one YAML stream.
pub fn crds() -> anyhow::Result<()> {
    print!("{}", binnacle_operator::crds_yaml());
    Ok(())
}
