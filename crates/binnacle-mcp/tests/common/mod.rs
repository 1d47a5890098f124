//! Shared fixtures: a simulated cluster, a context over it, and small tools with controlled behaviour
//! (slow with progress, failing, writing).

#![allow(dead_code)]

use binnacle_mcp::{McpServer, ServerOptions};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::tool::erase;
use binnacle_tools::{Annotations, Catalog, ClusterSet, Reply, Tool, ToolContext, ToolError, Toolset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Arguments of the slow test tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowInput {
    /// How long to run, in milliseconds.
    pub millis: u64,
}

/// Output of the test tools.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Done {
    /// Always true.
    pub done: bool,
}

/// What the slow tool observed.
#[derive(Debug, Default)]
pub struct Observed {
    /// Calls started.
    pub started: AtomicUsize,
    /// Calls that ran to the end.
    pub finished: AtomicUsize,
    /// Calls whose future was dropped before the end (cancelled or timed out).
    pub aborted: AtomicUsize,
}

/// Sleeps in four steps, reporting progress after each of the first three.
pub struct Slow(pub Arc<Observed>);

struct AbortGuard(Arc<Observed>, bool);

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if !self.1 {
            self.0.aborted.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Tool for Slow {
    type Input = SlowInput;
    type Output = Done;
    const NAME: &'static str = "test_slow";
    const TITLE: &'static str = "Slow test tool";
    const DESCRIPTION: &'static str = "Sleeps for the given time and reports progress along the way (tests only).";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["test", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    async fn run(&self, ctx: &ToolContext, input: SlowInput) -> Result<Reply<Done>, ToolError> {
        self.0.started.fetch_add(1, Ordering::SeqCst);
        let mut guard = AbortGuard(self.0.clone(), false);
        for step in 1..=4u32 {
            tokio::time::sleep(Duration::from_millis(input.millis / 4)).await;
            if step < 4 {
                ctx.progress(f64::from(step), Some(3.0), format!("step {step} of 3"));
            }
        }
        guard.1 = true;
        self.0.finished.fetch_add(1, Ordering::SeqCst);
        Ok(Reply::new("done", Done { done: true }))
    }
}

/// Arguments of the argument-less test tools.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

/// Always fails as if the cluster were down.
pub struct Fails;

impl Tool for Fails {
    type Input = NoInput;
    type Output = Done;
    const NAME: &'static str = "test_fails";
    const TITLE: &'static str = "Failing test tool";
    const DESCRIPTION: &'static str = "Always fails with an unavailable error (tests only).";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["test", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    async fn run(&self, _ctx: &ToolContext, _input: NoInput) -> Result<Reply<Done>, ToolError> {
        Err(ToolError::Unavailable("the test backend is down; try again later".into()))
    }
}

/// Pretends to change something.
pub struct Writes(pub Arc<AtomicBool>);

impl Tool for Writes {
    type Input = NoInput;
    type Output = Done;
    const NAME: &'static str = "test_write";
    const TITLE: &'static str = "Writing test tool";
    const DESCRIPTION: &'static str = "Records that it ran, standing in for a write (tests only).";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["test", "write"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    async fn run(&self, _ctx: &ToolContext, _input: NoInput) -> Result<Reply<Done>, ToolError> {
        self.0.store(true, Ordering::SeqCst);
        Ok(Reply::new("wrote", Done { done: true }))
    }
}

/// A simulated cluster, the built-in tools plus the test tools, and what the test tools saw.
pub struct Fixture {
    /// Kept alive for the test.
    pub sim: SimCluster,
    /// A context over the simulated cluster (default context `sim`).
    pub ctx: ToolContext,
    /// Built-in and test tools.
    pub catalog: Catalog,
    /// What the slow tool saw.
    pub slow: Arc<Observed>,
    /// Whether the write tool ran.
    pub wrote: Arc<AtomicBool>,
}

/// Starts the fixture over an empty simulated cluster.
pub async fn fixture() -> Fixture {
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, speed: 10.0, ..SimOptions::default() })
        .await
        .expect("sim starts");
    let client = kube::Client::new(sim.router(), "default");
    let ctx = ToolContext::new(Arc::new(ClusterSet::from_client("sim", client)), Arc::new(Settings::default()));
    let slow = Arc::new(Observed::default());
    let wrote = Arc::new(AtomicBool::new(false));
    let mut tools = Catalog::builtin().tools().to_vec();
    tools.extend([erase(Slow(slow.clone())), erase(Fails), erase(Writes(wrote.clone()))]);
    Fixture { sim, ctx, catalog: Catalog::from_tools(tools), slow, wrote }
}

impl Fixture {
    /// A server over the fixture's catalog.
    pub fn server(&self, options: ServerOptions) -> McpServer {
        McpServer::new(self.catalog.clone(), self.ctx.clone(), options).expect("server")
    }
}
