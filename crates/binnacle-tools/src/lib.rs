//! Binnacle's tool catalog: typed, schema-validated tools for Kubernetes, Helm, Argo Rollouts and Jenkins.
//!
//! The catalog knows nothing about MCP: the MCP adapter, the engine and the gateway all read it. A tool is a
//! type implementing [`Tool`]: its input and output are Rust types, so their JSON Schemas are derived
//! (schemars) and arguments are validated by deserialising them, then by [`Tool::validate`], before
//! anything runs. [`Catalog`] holds the tools type-erased as [`DynTool`] and filters them (toolsets,
//! read-only, allow and deny lists).
//!
//! Every tool answers within the output contract of [`output`]: a short summary plus structured content
//! matching its output schema, bounded by a token budget, with Secret values redacted and text from the
//! cluster marked as untrusted data.

pub mod catalog;
pub mod context;
pub mod error;
pub mod kubeconfig;
pub mod output;
pub mod tool;
pub mod toolsets;
pub mod validate;

pub use catalog::{Annotations, Catalog, CatalogFilter, ToolSpec, Toolset};
pub use context::{ClusterSet, ToolContext};
pub use error::ToolError;
pub use output::{Reply, ToolOutput};
pub use tool::{DynTool, Tool};
