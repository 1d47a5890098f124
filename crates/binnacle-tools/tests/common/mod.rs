//! Shared fixtures: an in-process simulated cluster and a tool context over it.

#![allow(dead_code)]

use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, ClusterSet, ToolContext, ToolOutput};
use serde_json::Value;
use std::sync::Arc;

/// A running simulated cluster with a tool context whose default context is `sim`.
pub struct Fixture {
    /// The simulated cluster (kept alive for the test).
    pub sim: SimCluster,
    /// A context over it.
    pub ctx: ToolContext,
    /// Every built-in tool.
    pub catalog: Catalog,
}

/// Starts a simulated cluster with a scenario, sped up 10×.
pub async fn fixture(scenario: Scenario) -> Fixture {
    let sim =
        SimCluster::start(SimOptions { scenario, speed: 10.0, ..SimOptions::default() }).await.expect("sim starts");
    let client = kube::Client::new(sim.router(), "default");
    let clusters = Arc::new(ClusterSet::from_client("sim", client));
    let ctx = ToolContext::new(clusters, Arc::new(Settings::default()));
    Fixture { sim, ctx, catalog: Catalog::builtin() }
}

impl Fixture {
    /// Calls a tool by name.
    pub async fn call(&self, tool: &str, args: Value) -> Result<ToolOutput, binnacle_tools::ToolError> {
        let tool = self.catalog.get(tool).unwrap_or_else(|| panic!("tool {tool} exists"));
        tool.call(&self.ctx, args).await
    }
}
