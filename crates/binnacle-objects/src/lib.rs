//! Pure Kubernetes object semantics, shared by the simulated cluster, the tool catalog and the analyzers.
//!
//! Everything here works on `serde_json::Value` objects in their Kubernetes JSON form and does no I/O:
//!
//! - [`selector`]: label and field selectors (parse, match);
//! - [`quantity`]: resource quantities (`500m`, `1Gi`) as numbers;
//! - [`names`]: validation of object names, label keys and values;
//! - [`pointer`]: allocation-free JSON pointer lookups;
//! - [`time`]: Kubernetes timestamps and kubectl-style human durations (`3m20s`);
//! - [`strategic`]: strategic merge patch with the merge keys of the built-in kinds;
//! - [`apply`]: server-side apply with field managers and conflicts;
//! - [`table`]: the server-side `Table` columns and rows kubectl prints.

pub mod apply;
pub mod names;
pub mod pointer;
pub mod quantity;
pub mod selector;
pub mod strategic;
pub mod table;
pub mod time;
