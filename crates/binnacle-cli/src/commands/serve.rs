//! `binnacle serve`: the engine — REST + SSE under `/api/v1`, the agent loop, the approval gate,
//! persistence and auth — and the Command Center (the web UI, `binnacle-web`) at `/`.

use super::mcp::{ToolTargets, filter, parse_duration};
use anyhow::{Context, bail};
use binnacle_api::{ApiConfig, AppState};
use binnacle_engine::{ApprovalPolicy, Engine, EngineConfig, ToolBox};
use binnacle_llm::{LlmProvider, ProviderConfig};
use binnacle_store::Store;
use binnacle_tools::{Catalog, ClusterSet, ToolContext, Toolset};
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// When the refresh cookie is marked `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CookieSecure {
    /// Unless serving plain HTTP on a loopback address (local use and tests).
    Auto,
    /// Always (behind a TLS-terminating proxy).
    Always,
    /// Never (plain HTTP on a trusted network only).
    Never,
}

/// Options of `binnacle serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to serve the API (and UI) on.
    #[arg(long, env = "BINNACLE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database: sqlite://FILE (default: binnacle.db in the data directory) or postgres://USER@HOST/DB.
    #[arg(long, env = "BINNACLE_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Directory for the default SQLite database.
    #[arg(long, env = "BINNACLE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The clusters and external systems the tools reach.
    #[command(flatten)]
    pub targets: ToolTargets,
    /// Extra MCP servers whose tools runs may call (Streamable HTTP URLs, e.g. the gateway); repeatable.
    /// Their tools without annotations are treated as mutating.
    #[arg(long = "mcp", value_name = "URL")]
    pub mcp_servers: Vec<String>,
    /// Toolsets of the built-in catalog, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_name = "TOOLSETS")]
    pub toolsets: Vec<Toolset>,
    /// Built-in tools never offered, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "TOOLS")]
    pub deny_tools: Vec<String>,
    /// Tools approved without asking (use with care), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "TOOLS")]
    pub auto_approve_tools: Vec<String>,
    /// Namespaces where non-destructive changes are approved without asking, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "NAMESPACES")]
    pub auto_approve_namespaces: Vec<String>,
    /// The most model turns in one run.
    #[arg(long, default_value_t = 12)]
    pub max_steps: i64,
    /// Time limit of one tool call, e.g. 60s, 5m.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub call_timeout: Duration,
    /// This replica's stable name (with PostgreSQL and several replicas: e.g. the pod name).
    #[arg(long, env = "BINNACLE_REPLICA_ID")]
    pub replica_id: Option<String>,
    /// When the refresh cookie is `Secure`.
    #[arg(long, value_enum, default_value = "auto")]
    pub cookie_secure: CookieSecure,
    /// How long a fleet query (`/api/v1/fleet/...`) waits for one cluster, e.g. 5s.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub fleet_timeout: Duration,
}

impl ServeArgs {
    /// The defaults, listening on `listen`, with a kubeconfig.
    pub fn for_demo(listen: SocketAddr, database: String, kubeconfig: PathBuf) -> Self {
        Self {
            listen,
            database: Some(database),
            data_dir: None,
            targets: ToolTargets { kubeconfig: Some(kubeconfig), ..ToolTargets::default() },
            mcp_servers: Vec::new(),
            toolsets: Vec::new(),
            deny_tools: Vec::new(),
            auto_approve_tools: Vec::new(),
            auto_approve_namespaces: Vec::new(),
            max_steps: 12,
            call_timeout: Duration::from_secs(120),
            replica_id: None,
            cookie_secure: CookieSecure::Auto,
            fleet_timeout: Duration::from_secs(5),
        }
    }
}

fn default_database(data_dir: Option<&PathBuf>) -> anyhow::Result<String> {
    let dir = match data_dir {
        Some(d) => d.clone(),
        None => match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x).join("binnacle"),
            None => match std::env::var_os("HOME") {
                Some(h) => PathBuf::from(h).join(".local/share/binnacle"),
                None => PathBuf::from(".binnacle"),
            },
        },
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Ok(format!("sqlite://{}", dir.join("binnacle.db").display()))
}

/// Dollars per million input and output tokens, when the provider's prices are configured.
type Pricing = Option<(f64, f64)>;

fn llm_from_env() -> anyhow::Result<(Arc<dyn LlmProvider>, Pricing)> {
    match ProviderConfig::from_env().map_err(|e| anyhow::anyhow!("{e}"))? {
        Some(cfg) => {
            let pricing = cfg.price_input_per_mtok.zip(cfg.price_output_per_mtok);
            tracing::info!(provider = ?cfg.kind, model = %cfg.model, base_url = %cfg.base_url, "LLM provider configured");
            Ok((cfg.build().map_err(|e| anyhow::anyhow!("{e}"))?, pricing))
        }
        None => {
            tracing::info!("no LLM provider configured (BINNACLE_LLM_PROVIDER): the offline assistant answers");
            Ok((Arc::new(binnacle_engine::offline::OfflineAssistant::new()), None))
        }
    }
}

/// A running engine.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The engine.
    pub engine: Engine,
    /// The one-time admin password, when one was generated.
    pub admin_password: Option<String>,
    /// The server task.
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Starts the engine and its API; the server runs until `shutdown` completes.
pub async fn start(
    args: ServeArgs,
    clusters: Option<ClusterSet>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let database = match &args.database {
        Some(d) => d.clone(),
        None => default_database(args.data_dir.as_ref())?,
    };
    let store = Store::connect(&database).await.with_context(|| format!("cannot open the database {database}"))?;
    tracing::info!(database = %store.display_url(), "database ready");

    let clusters = match clusters {
        Some(c) => c,
        None => args.targets.clusters()?,
    };
    let settings = args.targets.settings()?;
    let catalog = Catalog::builtin();
    let f = filter(&args.toolsets, false, &[], &args.deny_tools);
    catalog.check_filter(&f).map_err(|e| anyhow::anyhow!("--deny-tools: {e}"))?;
    let ctx = ToolContext::new(Arc::new(clusters), Arc::new(settings));
    let mut tools = ToolBox::new(&catalog.filtered(&f), ctx).with_call_timeout(args.call_timeout);
    for url in &args.mcp_servers {
        let n = tools.add_mcp_server(url).await?;
        tracing::info!(server = %url, tools = n, "MCP server added");
    }
    for t in &args.auto_approve_tools {
        if tools.get(t).is_none() {
            bail!("--auto-approve-tools: unknown tool {t:?}; `binnacle tools` lists them");
        }
    }
    let (llm, pricing) = llm_from_env()?;
    let mut config = EngineConfig {
        max_steps: args.max_steps.clamp(1, 100),
        policy: ApprovalPolicy {
            tools: args.auto_approve_tools.iter().cloned().collect(),
            namespaces: args.auto_approve_namespaces.iter().cloned().collect(),
        },
        pricing,
        ..EngineConfig::default()
    };
    if let Some(id) = &args.replica_id {
        config.replica_id = id.clone();
    }
    let engine = Engine::start(store.clone(), llm, tools, config).await?;

    let secure_cookies = match args.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => !args.listen.ip().is_loopback(),
    };
    let mut api_config = ApiConfig { secure_cookies, ..ApiConfig::default() };
    if !args.listen.ip().is_loopback() {
        // Reached through a Service or an ingress under names not known here; `/mcp` needs a token anyway.
        api_config.mcp.allowed_hosts = None;
    }
    let jwt_secret = std::env::var("BINNACLE_JWT_SECRET").ok().filter(|s| !s.is_empty());
    let state = AppState::new(engine.clone(), api_config, jwt_secret.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?
        .with_fleet(start_fleet(&args).await?);
    let admin_env = std::env::var("BINNACLE_ADMIN_PASSWORD").ok().filter(|s| !s.is_empty());
    let admin_password = binnacle_api::auth::ensure_admin(&store, admin_env.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}: is the port free?", args.listen))?;
    let addr = listener.local_addr()?;
    // The Command Center answers everything the API does not (`/`, its assets, deep links).
    let app = binnacle_api::router(state).fallback_service(binnacle_web::router());
    let engine_for_stop = engine.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                shutdown.await;
                engine_for_stop.shutdown();
            })
            .await
            .context("the API server failed")
    });
    Ok(Running { addr, engine, admin_password, task })
}

/// The fleet (`/api/v1/fleet/...`): every context of the kubeconfig (`--kubeconfig`, else the `KUBECONFIG`
/// list, else `~/.kube/config`), re-read when the files change.
async fn start_fleet(args: &ServeArgs) -> anyhow::Result<binnacle_fleet::Fleet> {
    let kubeconfigs = match &args.targets.kubeconfig {
        Some(path) => vec![path.clone()],
        None => binnacle_tools::kubeconfig::default_paths(),
    };
    let config = binnacle_fleet::FleetConfig { kubeconfigs, timeout: args.fleet_timeout, ..Default::default() };
    let fleet = binnacle_fleet::Fleet::start(config).await.map_err(|e| anyhow::anyhow!("--fleet-timeout: {e}"))?;
    tracing::info!(clusters = ?fleet.names(), "fleet ready");
    Ok(fleet)
}

/// Under the UI's URL, indented by `indent`: a line saying so when this binary has no Command Center
/// (it then serves a page that says how to build it).
pub fn print_ui_note(indent: usize) {
    if let Some(reason) = binnacle_web::not_built_reason() {
        println!("{:indent$}(not built into this binary: {reason}; the page says how to build it)", "");
    }
}

/// Runs `binnacle serve` until SIGINT/SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let running = start(args, None, super::shutdown_signal()).await?;
    let p = running.engine.provider();
    println!("Binnacle engine listening on http://{}", running.addr);
    println!("  UI:       http://{}/  (the Command Center)", running.addr);
    print_ui_note(12);
    println!("  API:      http://{}/api/v1  (OpenAPI: /api/v1/openapi.json)", running.addr);
    println!("  Metrics:  http://{}/metrics", running.addr);
    println!("  MCP:      http://{}/mcp  (agent: ask, run_status; Authorization: Bearer <token>)", running.addr);
    println!("  Fleet:    http://{}/api/v1/fleet/clusters  (every kubeconfig context)", running.addr);
    if p.offline {
        println!(
            "  Model:    offline assistant (set BINNACLE_LLM_PROVIDER, BINNACLE_LLM_MODEL, BINNACLE_LLM_API_KEY for an LLM)"
        );
    } else {
        println!("  Model:    {} ({})", p.model, p.provider);
    }
    if let Some(pw) = &running.admin_password {
        println!();
        println!("  First start: created user `admin` with the one-time password  {pw}");
        println!("  (it is not stored anywhere in clear; change it after logging in, or set BINNACLE_ADMIN_PASSWORD)");
    }
    running.task.await.context("the server task panicked")?
}
