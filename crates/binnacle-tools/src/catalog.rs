//! Tool specifications and the catalog that holds and filters them.

use crate::tool::DynTool;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A group of tools that can be enabled as a whole (`--toolsets k8s,helm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Toolset {
    /// Kubernetes, everyday work (`k8s`).
    #[serde(rename = "k8s")]
    Kubernetes,
    /// Kubernetes, privileged operations: node cordon/uncordon/drain, exec, secret reveal (`k8s-admin`).
    /// A separate toolset so that teams can leave them out, and so that the everyday listing stays small.
    #[serde(rename = "k8s-admin")]
    KubernetesAdmin,
    /// Helm (`helm`).
    Helm,
    /// Argo Rollouts (`argo`).
    Argo,
    /// Jenkins (`jenkins`).
    Jenkins,
    /// Deterministic analyzers of what is broken (`findings`).
    Findings,
}

impl Toolset {
    /// Every toolset.
    pub const ALL: [Toolset; 6] = [
        Toolset::Kubernetes,
        Toolset::KubernetesAdmin,
        Toolset::Helm,
        Toolset::Argo,
        Toolset::Jenkins,
        Toolset::Findings,
    ];

    /// The short name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Toolset::Kubernetes => "k8s",
            Toolset::KubernetesAdmin => "k8s-admin",
            Toolset::Helm => "helm",
            Toolset::Argo => "argo",
            Toolset::Jenkins => "jenkins",
            Toolset::Findings => "findings",
        }
    }
}

impl std::str::FromStr for Toolset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "k8s" | "kubernetes" => Ok(Toolset::Kubernetes),
            "k8s-admin" | "kubernetes-admin" => Ok(Toolset::KubernetesAdmin),
            "helm" => Ok(Toolset::Helm),
            "argo" | "rollouts" => Ok(Toolset::Argo),
            "jenkins" => Ok(Toolset::Jenkins),
            "findings" => Ok(Toolset::Findings),
            other => {
                Err(format!("unknown toolset {other:?}: choose from k8s, k8s-admin, helm, argo, jenkins, findings"))
            }
        }
    }
}

/// MCP tool annotations. They drive the approval gate: anything not read-only needs approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Does not change anything.
    #[serde(rename = "readOnlyHint")]
    pub read_only: bool,
    /// May destroy or disrupt (delete, drain, uninstall, abort, reveal secrets).
    #[serde(rename = "destructiveHint")]
    pub destructive: bool,
    /// Calling twice with the same arguments has no further effect.
    #[serde(rename = "idempotentHint")]
    pub idempotent: bool,
    /// Talks to systems outside the cluster's API (e.g. Jenkins, chart repositories).
    #[serde(rename = "openWorldHint")]
    pub open_world: bool,
}

impl Annotations {
    /// A read-only tool against the cluster.
    pub const READ: Annotations =
        Annotations { read_only: true, destructive: false, idempotent: true, open_world: false };
    /// A write that converges (apply, scale, set image, cordon).
    pub const WRITE_IDEMPOTENT: Annotations =
        Annotations { read_only: false, destructive: false, idempotent: true, open_world: false };
    /// A write that does something new each time (restart, trigger a build).
    pub const WRITE: Annotations =
        Annotations { read_only: false, destructive: false, idempotent: false, open_world: false };
    /// A destructive write (delete, drain, uninstall, abort).
    pub const DESTRUCTIVE: Annotations =
        Annotations { read_only: false, destructive: true, idempotent: true, open_world: false };

    /// The same annotations with `openWorldHint` set.
    pub const fn open_world(self) -> Annotations {
        Annotations { open_world: true, ..self }
    }
}

/// Everything a client sees of a tool before calling it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSpec {
    /// Unique name, `noun_verb` style (`pods_list`, `helm_release_install`).
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// The toolset it belongs to.
    pub toolset: Toolset,
    /// Free-form tags (`pods`, `read`, `workloads`, ...).
    pub tags: &'static [&'static str],
    /// MCP annotations.
    pub annotations: Annotations,
    /// JSON Schema of the arguments.
    pub input_schema: Value,
    /// JSON Schema of the structured output.
    pub output_schema: Value,
}

/// Which tools a server exposes.
#[derive(Debug, Clone, Default)]
pub struct CatalogFilter {
    /// Only these toolsets (empty: all).
    pub toolsets: BTreeSet<Toolset>,
    /// Hide every tool that is not read-only.
    pub read_only: bool,
    /// Only these tools (empty: all).
    pub allow: BTreeSet<String>,
    /// Never these tools.
    pub deny: BTreeSet<String>,
}

impl CatalogFilter {
    /// Whether a tool passes the filter.
    pub fn admits(&self, spec: &ToolSpec) -> bool {
        (self.toolsets.is_empty() || self.toolsets.contains(&spec.toolset))
            && (!self.read_only || spec.annotations.read_only)
            && (self.allow.is_empty() || self.allow.contains(spec.name))
            && !self.deny.contains(spec.name)
    }
}

/// The set of tools a server offers.
#[derive(Clone, Default)]
pub struct Catalog {
    tools: Vec<Arc<dyn DynTool>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("tools", &self.tools.iter().map(|t| t.spec().name).collect::<Vec<_>>()).finish()
    }
}

impl Catalog {
    /// Every built-in tool of every toolset.
    pub fn builtin() -> Self {
        Self { tools: crate::toolsets::all() }
    }

    /// A catalog of the given tools.
    pub fn from_tools(tools: Vec<Arc<dyn DynTool>>) -> Self {
        Self { tools }
    }

    /// Checks that names in a filter's allow and deny lists exist, so typos fail at start-up.
    pub fn check_filter(&self, filter: &CatalogFilter) -> Result<(), String> {
        let known: BTreeSet<&str> = self.tools.iter().map(|t| t.spec().name).collect();
        let unknown: Vec<&String> =
            filter.allow.iter().chain(filter.deny.iter()).filter(|n| !known.contains(n.as_str())).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!("unknown tool name(s) in the allow/deny lists: {unknown:?}; `binnacle tools` lists every tool"))
        }
    }

    /// The tools that pass a filter.
    pub fn filtered(&self, filter: &CatalogFilter) -> Catalog {
        Catalog { tools: self.tools.iter().filter(|t| filter.admits(t.spec())).cloned().collect() }
    }

    /// Every tool, in catalog order.
    pub fn tools(&self) -> &[Arc<dyn DynTool>] {
        &self.tools
    }

    /// A tool by name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn DynTool>> {
        self.tools.iter().find(|t| t.spec().name == name)
    }

    /// The number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// True when the catalog has no tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}
