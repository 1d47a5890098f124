//! What a tool call runs with: the clusters (one kube client per kubeconfig context), server settings,
//! the call's chosen context and output budget, and a progress sink.

use crate::error::ToolError;
use crate::output::DEFAULT_BUDGET_TOKENS;
use kube::Client;
use kube::config::Kubeconfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long connecting to a cluster may take before the call fails.
pub const CONNECT_TIMEOUT: Duration = crate::kubeconfig::CONNECT_TIMEOUT;

/// The clusters tools can reach: every context of a kubeconfig, plus clients handed in directly (tests,
/// the in-process simulated cluster).
pub struct ClusterSet {
    kubeconfig: Option<Kubeconfig>,
    kubeconfig_path: Option<PathBuf>,
    default_context: Option<String>,
    fixed: HashMap<String, Client>,
    built: Mutex<HashMap<String, Client>>,
}

impl std::fmt::Debug for ClusterSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the kubeconfig: it holds credentials.
        f.debug_struct("ClusterSet")
            .field("contexts", &self.contexts())
            .field("default", &self.default_context)
            .finish()
    }
}

impl ClusterSet {
    /// Reads a kubeconfig (`path`, else `KUBECONFIG`, else `~/.kube/config`); `context` picks the default
    /// context (else the kubeconfig's current context).
    pub fn from_kubeconfig(path: Option<&Path>, context: Option<&str>) -> Result<Self, ToolError> {
        let kubeconfig = match path {
            Some(p) => Kubeconfig::read_from(p)
                .map_err(|e| ToolError::Unavailable(format!("cannot read kubeconfig {}: {e}", p.display())))?,
            None => Kubeconfig::read().map_err(|e| {
                ToolError::Unavailable(format!("cannot read a kubeconfig (KUBECONFIG or ~/.kube/config): {e}"))
            })?,
        };
        let default_context = context.map(str::to_string).or_else(|| kubeconfig.current_context.clone());
        if let Some(ctx) = &default_context
            && !kubeconfig.contexts.iter().any(|c| &c.name == ctx)
        {
            return Err(ToolError::invalid(format!(
                "context {ctx:?} is not in the kubeconfig; contexts: {:?}",
                kubeconfig.contexts.iter().map(|c| &c.name).collect::<Vec<_>>()
            )));
        }
        Ok(Self {
            kubeconfig: Some(kubeconfig),
            kubeconfig_path: path.map(Path::to_path_buf),
            default_context,
            fixed: HashMap::new(),
            built: Mutex::new(HashMap::new()),
        })
    }

    /// A set with one ready client under `name` (the default context).
    pub fn from_client(name: &str, client: Client) -> Self {
        Self {
            kubeconfig: None,
            kubeconfig_path: None,
            default_context: Some(name.to_string()),
            fixed: HashMap::from([(name.to_string(), client)]),
            built: Mutex::new(HashMap::new()),
        }
    }

    /// Adds a ready client under a context name.
    pub fn with_client(mut self, name: &str, client: Client) -> Self {
        self.fixed.insert(name.to_string(), client);
        self
    }

    /// The kubeconfig file given explicitly (`--kubeconfig`); `None` when it came from `KUBECONFIG` or the
    /// default location. External programs (helm) must read the same file to reach the same clusters.
    pub fn kubeconfig_path(&self) -> Option<&Path> {
        self.kubeconfig_path.as_deref()
    }

    /// Every context name.
    pub fn contexts(&self) -> Vec<String> {
        let mut names: Vec<String> = self.fixed.keys().cloned().collect();
        if let Some(kc) = &self.kubeconfig {
            names.extend(kc.contexts.iter().map(|c| c.name.clone()));
        }
        names.sort();
        names.dedup();
        names
    }

    /// The default context's name.
    pub fn default_context(&self) -> Option<&str> {
        self.default_context.as_deref()
    }

    /// The server URL of a context (never credentials).
    pub fn server_of(&self, context: &str) -> Option<String> {
        crate::kubeconfig::server_of(self.kubeconfig.as_ref()?, context)
    }

    /// The client for a context (`None`: the default), built on first use.
    pub async fn client(&self, context: Option<&str>) -> Result<Client, ToolError> {
        let name = context.or(self.default_context.as_deref()).ok_or_else(|| {
            ToolError::invalid("no context given and the kubeconfig has no current context; pass `context`")
        })?;
        if let Some(c) = self.fixed.get(name) {
            return Ok(c.clone());
        }
        let mut built = self.built.lock().await;
        if let Some(c) = built.get(name) {
            return Ok(c.clone());
        }
        let kc = self
            .kubeconfig
            .as_ref()
            .ok_or_else(|| ToolError::invalid(format!("unknown context {name:?}; contexts: {:?}", self.contexts())))?;
        if !kc.contexts.iter().any(|c| c.name == name) {
            return Err(ToolError::invalid(format!("unknown context {name:?}; contexts: {:?}", self.contexts())));
        }
        let client = crate::kubeconfig::client_for(kc, name).await?;
        built.insert(name.to_string(), client.clone());
        Ok(client)
    }
}

/// Server-wide settings tools read.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Default Jenkins URL (tools may override it per call).
    pub jenkins_url: Option<String>,
    /// Default Jenkins credentials Secret, `namespace/name`.
    pub jenkins_secret: Option<String>,
    /// The `helm` binary for Helm writes (`None`: look it up on PATH).
    pub helm_binary: Option<PathBuf>,
}

/// One progress report (MCP `notifications/progress`).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Progress so far.
    pub progress: f64,
    /// Total, when known.
    pub total: Option<f64>,
    /// What is happening.
    pub message: String,
}

/// Where progress reports go.
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// The context of one tool call.
#[derive(Clone)]
pub struct ToolContext {
    clusters: Arc<ClusterSet>,
    settings: Arc<Settings>,
    context: Option<String>,
    budget_tokens: usize,
    progress: Option<ProgressSink>,
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("context", &self.context)
            .field("budget_tokens", &self.budget_tokens)
            .finish()
    }
}

impl ToolContext {
    /// A context over a set of clusters with default settings.
    pub fn new(clusters: Arc<ClusterSet>, settings: Arc<Settings>) -> Self {
        Self { clusters, settings, context: None, budget_tokens: DEFAULT_BUDGET_TOKENS, progress: None }
    }

    /// The same context for one call: kubeconfig context and budget.
    pub fn for_call(&self, context: Option<String>, budget_tokens: Option<usize>) -> Self {
        let mut c = self.clone();
        if context.is_some() {
            c.context = context;
        }
        if let Some(b) = budget_tokens {
            c.budget_tokens = b;
        }
        c
    }

    /// With a progress sink.
    pub fn with_progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// The kube client for this call's context.
    pub async fn kube(&self) -> Result<Client, ToolError> {
        self.clusters.client(self.context.as_deref()).await
    }

    /// The context name this call uses.
    pub fn context_name(&self) -> Option<&str> {
        self.context.as_deref().or(self.clusters.default_context())
    }

    /// The clusters.
    pub fn clusters(&self) -> &Arc<ClusterSet> {
        &self.clusters
    }

    /// Server settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The output budget in tokens.
    pub fn budget_tokens(&self) -> usize {
        self.budget_tokens
    }

    /// Reports progress (a no-op when the client did not ask for it).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: impl Into<String>) {
        if let Some(sink) = &self.progress {
            sink(Progress { progress, total, message: message.into() });
        }
    }
}
