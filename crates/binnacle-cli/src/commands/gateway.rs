//! `binnacle gateway`: serve the MCP gateway for one `Gateway` object (discovery, registry, aggregated
//! Streamable HTTP at `/mcp`), and `binnacle gateway crd`: print the Gateway CustomResourceDefinition.

use anyhow::{Context, bail};
use binnacle_gateway::{Gateway, GatewayOptions, HttpOptions, UpstreamOptions};
use clap::{Args, Subcommand};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Options of `binnacle gateway`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GatewayArgs {
    #[command(subcommand)]
    pub command: Option<GatewayCommand>,
    /// The Gateway object to serve, as NAMESPACE/NAME.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub gateway: Option<String>,
    /// Kubeconfig to use (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Address to serve MCP on (default: 0.0.0.0 on the Gateway's mcpPort).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// URL written to the Gateway's status.address (default: http://LISTEN/mcp, with $POD_IP when
    /// listening on all interfaces).
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
    /// Browser origins allowed, comma-separated (scheme://host:port, :* for any port); default: localhost,
    /// 127.0.0.1 and [::1] on any port.
    #[arg(long, value_delimiter = ',', value_name = "URLS")]
    pub allowed_origins: Vec<String>,
    /// Host header values accepted (against DNS rebinding), comma-separated; default: loopback names when
    /// listening on loopback, any host otherwise.
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub allowed_hosts: Vec<String>,
    /// Time between health probes of a connected upstream, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = super::mcp::parse_duration)]
    pub probe_interval: Duration,
    /// Time limit of connecting to, probing and listing an upstream, e.g. 5s.
    #[arg(long, default_value = "5s", value_parser = super::mcp::parse_duration)]
    pub upstream_timeout: Duration,
    /// Largest response accepted from an upstream, in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024, value_name = "BYTES")]
    pub max_response_bytes: usize,
    /// Who writes the Gateway's status and Events: `self` (this process, the default) or `none` (the
    /// operator does; its gateway pods run with `none` so there is one writer).
    #[arg(long, value_enum, default_value = "self")]
    pub status_writer: StatusWriter,
    /// The engine's database (sqlite://FILE or postgres://…): every tools/call is appended to its
    /// hash-chained audit log (GET /api/v1/audit, /api/v1/audit/verify on the engine).
    #[arg(long, env = "BINNACLE_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Also write every tools/call as a JSON line to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE|-")]
    pub audit_log: Option<String>,
}

/// Who writes the Gateway's status and Events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusWriter {
    /// This gateway process.
    #[value(name = "self")]
    This,
    /// Nobody here (the operator writes them).
    None,
}

/// Subcommands of `binnacle gateway`.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Print the Gateway CustomResourceDefinition as YAML (kubectl apply -f -).
    Crd,
}

async fn client(args: &GatewayArgs) -> anyhow::Result<kube::Client> {
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

/// Runs `binnacle gateway`.
pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    if let Some(GatewayCommand::Crd) = args.command {
        print!("{}", binnacle_gateway::crd_yaml());
        return Ok(());
    }
    let Some(target) = args.gateway.as_deref() else {
        bail!("--gateway NAMESPACE/NAME is required (or `binnacle gateway crd` to print the CRD)");
    };
    let Some((namespace, name)) = target.split_once('/').filter(|(ns, n)| !ns.is_empty() && !n.is_empty()) else {
        bail!("--gateway must be NAMESPACE/NAME, e.g. --gateway mcp/main (got {target:?})");
    };
    let client = client(&args).await?;
    let api: kube::Api<binnacle_gateway::GatewayResource> = kube::Api::namespaced(client.clone(), namespace);
    let listen = match args.listen {
        Some(addr) => addr,
        None => {
            let spec = api.get_opt(name).await.with_context(|| format!("cannot read Gateway {target}"))?;
            let port = spec
                .and_then(|gw| gw.spec.mcp_port)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .unwrap_or(8080);
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)
        }
    };
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr().context("no local address")?;
    let address = args.address.clone().unwrap_or_else(|| {
        let host = if local.ip().is_unspecified() {
            std::env::var("POD_IP").unwrap_or_else(|_| "127.0.0.1".into())
        } else {
            local.ip().to_string()
        };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        format!("http://{host}:{}/mcp", local.port())
    });
    let mut http = HttpOptions::default();
    if !args.allowed_origins.is_empty() {
        http.allowed_origins = args.allowed_origins.clone();
    }
    http.allowed_hosts = if !args.allowed_hosts.is_empty() {
        Some(args.allowed_hosts.clone())
    } else if local.ip().is_loopback() {
        http.allowed_hosts
    } else {
        None
    };
    let options = GatewayOptions {
        upstream: UpstreamOptions {
            probe_interval: args.probe_interval,
            request_timeout: args.upstream_timeout,
            max_response_bytes: args.max_response_bytes,
            ..UpstreamOptions::default()
        },
        address: Some(address.clone()),
        instance: std::env::var("POD_NAME").ok(),
        write_status: args.status_writer == StatusWriter::This,
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start(client, namespace, name, options);
    http.auth = gateway.authenticator();
    let mut targets = Vec::new();
    if let Some(url) = &args.database_url {
        let store = binnacle_store::Store::connect(url)
            .await
            .with_context(|| format!("cannot open the audit database {url} (--database-url)"))?;
        targets.push(binnacle_gateway::audit::AuditTarget::Store(store));
    }
    match args.audit_log.as_deref() {
        Some("-") => targets.push(binnacle_gateway::audit::AuditTarget::Stdout),
        Some(path) => {
            // Opened here once so that a bad path is refused before serving.
            std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| {
                format!("cannot open the audit log {path} (--audit-log): give a writable file or -")
            })?;
            targets.push(binnacle_gateway::audit::AuditTarget::File(path.into()));
        }
        None => {}
    }
    let audit = binnacle_gateway::audit::Audit::start(targets);
    http.audit = audit.clone();
    println!("MCP gateway for Gateway {target} listening on http://{local}/mcp (status.address: {address})");
    binnacle_gateway::serve(listener, gateway.server().with_audit(audit), http, super::shutdown_signal())
        .await
        .context("the gateway's HTTP server failed")?;
    gateway.stop();
    Ok(())
}
