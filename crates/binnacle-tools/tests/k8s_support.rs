//! Helpers for the Kubernetes tool tests (included by the `k8s_*` test files with `#[path]`): simulated
//! clusters in process or over TCP with a kubeconfig, tool calls, waiting, and reading outputs.

#![allow(dead_code, missing_docs)]

use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::{Progress, Settings};
use binnacle_tools::{Catalog, ClusterSet, ToolContext, ToolError, ToolOutput};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A simulated cluster with a tool context over it.
pub struct Env {
    pub sim: SimCluster,
    pub ctx: ToolContext,
    pub catalog: Catalog,
    pub progress: Arc<Mutex<Vec<Progress>>>,
    _dir: Option<tempfile::TempDir>,
}

/// The demo scenario, sped up 10×.
pub fn demo() -> SimOptions {
    SimOptions { scenario: Scenario::Demo, speed: 10.0, ..SimOptions::default() }
}

/// A cluster that does not change by itself (no controllers).
pub fn still(scenario: Scenario) -> SimOptions {
    SimOptions { scenario, controllers: false, ..SimOptions::default() }
}

fn with_progress(ctx: ToolContext) -> (ToolContext, Arc<Mutex<Vec<Progress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (ctx.with_progress(Arc::new(move |p| sink.lock().expect("progress lock").push(p))), seen)
}

impl Env {
    /// In process: kube-rs over the simulator's tower service.
    pub async fn in_process(opts: SimOptions) -> Env {
        let sim = SimCluster::start(opts).await.expect("sim starts");
        let client = kube::Client::new(sim.router(), "default");
        let ctx = ToolContext::new(Arc::new(ClusterSet::from_client("sim", client)), Arc::new(Settings::default()));
        let (ctx, progress) = with_progress(ctx);
        Env { sim, ctx, catalog: Catalog::builtin(), progress, _dir: None }
    }

    /// Over TCP on 127.0.0.1 with a kubeconfig file, as against a real cluster (needed for exec).
    pub async fn over_tcp(opts: SimOptions) -> Env {
        let sim = SimCluster::start(opts).await.expect("sim starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = sim.serve(listener).expect("serve");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kubeconfig");
        let entries = [binnacle_sim::kubeconfig::Entry { name: "sim-1".into(), server: format!("http://{addr}") }];
        std::fs::write(&path, binnacle_sim::kubeconfig::render(&entries)).expect("write kubeconfig");
        let clusters = ClusterSet::from_kubeconfig(Some(&path), None).expect("kubeconfig");
        let ctx = ToolContext::new(Arc::new(clusters), Arc::new(Settings::default()));
        let (ctx, progress) = with_progress(ctx);
        Env { sim, ctx, catalog: Catalog::builtin(), progress, _dir: Some(dir) }
    }

    /// Calls a tool.
    pub async fn call(&self, tool: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let t = self.catalog.get(tool).unwrap_or_else(|| panic!("tool {tool} exists"));
        t.call(&self.ctx, args).await
    }

    /// Calls a tool that must succeed.
    pub async fn ok(&self, tool: &str, args: Value) -> ToolOutput {
        match self.call(tool, args.clone()).await {
            Ok(out) => out,
            Err(e) => panic!("{tool} {args}: {e:?}"),
        }
    }

    /// The store's resourceVersion (changes with every write).
    pub fn rv(&self) -> u64 {
        self.sim.cluster().store().current_rv()
    }

    /// Creates an object directly in the store (through the simulator's API semantics).
    pub fn create(&self, obj: Value) {
        let api_version = obj["apiVersion"].as_str().expect("apiVersion");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = obj["kind"].as_str().expect("kind");
        let cluster = self.sim.cluster();
        let rt = cluster.resource_for_kind(group, kind).expect("kind known");
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("").to_string();
        let _ = version;
        cluster.create(&rt, &ns, obj, &binnacle_sim::cluster::WriteOptions::default()).expect("create");
    }
}

/// Waits until `check` holds (20 s at most).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Everything a client sees of an output: summary and structured content.
pub fn text(out: &ToolOutput) -> String {
    format!("{}\n{}", out.summary, out.structured)
}

/// The name of the first item of a list output whose name starts with `prefix`.
pub fn item_named(out: &ToolOutput, prefix: &str) -> Option<String> {
    out.structured["items"]
        .as_array()?
        .iter()
        .filter_map(|i| i["name"].as_str().or(i.pointer("/metadata/name").and_then(Value::as_str)))
        .find(|n| n.starts_with(prefix))
        .map(str::to_string)
}

/// Asserts a result is `InvalidArguments`.
pub fn assert_invalid(r: Result<ToolOutput, ToolError>, what: &str) {
    match r {
        Err(ToolError::InvalidArguments(_)) => {}
        Err(other) => panic!("{what}: expected InvalidArguments, got {other:?}"),
        Ok(out) => panic!("{what}: expected InvalidArguments, got success: {}", out.summary),
    }
}
