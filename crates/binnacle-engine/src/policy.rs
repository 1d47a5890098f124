//! Which mutating calls are approved without asking a person.

use crate::toolbox::ToolEntry;
use serde_json::Value;
use std::collections::BTreeSet;

/// The auto-approval policy. Empty by default: every mutating call waits for a person.
#[derive(Debug, Clone, Default)]
pub struct ApprovalPolicy {
    /// Tools approved whatever their arguments (`--auto-approve-tool workload_scale`).
    pub tools: BTreeSet<String>,
    /// Namespaces in which non-destructive calls are approved (`--auto-approve-namespace dev`). A
    /// destructive call (delete, drain, uninstall, abort, undo) always asks, unless its tool is listed.
    pub namespaces: BTreeSet<String>,
}

impl ApprovalPolicy {
    /// Why the policy approves this call, or `None` when a person must decide.
    pub fn auto_approves(&self, entry: &ToolEntry, args: &Value) -> Option<String> {
        if self.tools.contains(&entry.name) {
            return Some(format!("tool {} is auto-approved by policy", entry.name));
        }
        if entry.hints.destructive {
            return None;
        }
        let ns = args.get("namespace").and_then(Value::as_str)?;
        self.namespaces.contains(ns).then(|| format!("namespace {ns} is auto-approved by policy"))
    }
}
