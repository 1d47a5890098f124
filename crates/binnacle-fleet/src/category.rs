//! The categories a fleet query asks every cluster about, and how long each stays fresh in the cache.

use serde::Serialize;
use std::time::Duration;

/// What a fleet query reads from each cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Pods with a problem summary (phase, restarts, waiting reasons), problems first.
    Pods,
    /// Deployments, StatefulSets, DaemonSets and Argo Rollouts (when the CRD exists), unhealthy first.
    Workloads,
    /// Nodes: capacity, allocatable, conditions.
    Nodes,
    /// Events, warnings first, newest first.
    Events,
    /// Helm releases decoded from their release Secrets (latest revision of each).
    HelmReleases,
    /// CustomResourceDefinitions grouped by API group, with the Deployment that likely runs each operator.
    Operators,
    /// Nodes with `nvidia.com/gpu` or `amd.com/gpu` capacity.
    GpuNodes,
    /// Findings of the deterministic analyzers (`binnacle-findings`), most severe first.
    Findings,
}

impl Category {
    /// Every category, in the order the API lists them.
    pub const ALL: [Category; 8] = [
        Category::Pods,
        Category::Workloads,
        Category::Nodes,
        Category::Events,
        Category::HelmReleases,
        Category::Operators,
        Category::GpuNodes,
        Category::Findings,
    ];

    /// The name used in URLs (`helm-releases`).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pods => "pods",
            Category::Workloads => "workloads",
            Category::Nodes => "nodes",
            Category::Events => "events",
            Category::HelmReleases => "helm-releases",
            Category::Operators => "operators",
            Category::GpuNodes => "gpu-nodes",
            Category::Findings => "findings",
        }
    }

    /// The category named `name`, if any.
    pub fn parse(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Every category's URL name.
    pub fn names() -> Vec<&'static str> {
        Category::ALL.iter().map(|c| c.as_str()).collect()
    }

    /// How long a cached answer stays fresh by default.
    pub fn default_ttl(self) -> Duration {
        Duration::from_secs(match self {
            Category::Pods => 10,
            Category::Workloads => 15,
            Category::Nodes => 30,
            Category::Events => 10,
            Category::HelmReleases => 120,
            Category::Operators => 300,
            Category::GpuNodes => 45,
            Category::Findings => 60,
        })
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = crate::FleetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::parse(s).ok_or_else(|| crate::FleetError::UnknownCategory(s.to_string()))
    }
}

/// What the cache stores per cluster: a category's answer or the cluster's health probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Topic {
    /// `/version`, node and pod counts.
    Health,
    /// A category.
    Category(Category),
}
