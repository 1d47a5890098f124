//! `resource_diff`: the preview of an apply. Each document is applied server-side with `dryRun=All`
//! (so defaults, admission and field ownership are the server's), and the cleaned live object is
//! compared with the cleaned result as a unified diff of YAML. Secret values stay redacted; a changed
//! value shows as changed without showing either side.

use super::apply::{about, comparable, parse_manifest, resolve_all};
use super::common::{self, FIELD_MANAGER, Raw, Shared, check_ns, compact_schema, s};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use kube::api::{Patch, PatchParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Arguments of `resource_diff`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourceDiffInput {
    /// YAML/JSON, multi-document
    pub manifest: String,
    /// For documents without one.
    pub namespace: Option<String>,
    /// Take over others' fields
    #[serde(default)]
    pub force: bool,
}

/// One document's preview.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffResult {
    /// Kind namespace/name.
    pub object: String,
    /// create, update, unchanged or unknown.
    pub action: String,
    /// Unified diff of live vs. applied (YAML).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
}

/// What `resource_diff` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResourceDiffOutput {
    /// Per document, in order.
    pub objects: Vec<DiffResult>,
}

/// `resource_diff`.
pub struct ResourceDiff(pub Shared);

/// Cleans an object for the diff: status and write-only metadata dropped, Secret values redacted; on
/// the new side (`other` = the old object) values that differ are marked "changed".
pub fn prepare(obj: &Value, other: Option<&Value>) -> Value {
    let mut o = comparable(obj);
    if let Some(m) = o.as_object_mut() {
        m.remove("status");
    }
    let secret = s(&o, "/kind") == "Secret";
    if secret {
        for field in ["data", "stringData"] {
            if let Some(map) = o.get_mut(field).and_then(Value::as_object_mut) {
                for (k, v) in map.iter_mut() {
                    let changed = other.and_then(|x| x.get(field)).and_then(|d| d.get(k)).is_none_or(|ov| ov != v);
                    let len = v.as_str().map(|t| if field == "data" { t.len() * 3 / 4 } else { t.len() }).unwrap_or(0);
                    *v = json!(format!(
                        "<redacted: {len} bytes{}>",
                        if changed && other.is_some() { ", changed" } else { "" }
                    ));
                }
            }
        }
    }
    if secret {
        // Values are redacted above, with change markers; keep the generic redaction from redoing it.
        o["kind"] = Value::Null;
    }
    super::get::scrub(&mut o);
    if secret {
        o["kind"] = json!("Secret");
    }
    o
}

fn yaml(v: &Value) -> String {
    if v.is_null() { String::new() } else { serde_norway::to_string(v).unwrap_or_default() }
}

/// A unified diff of two objects' YAML (`""` when equal).
pub fn unified(old: &Value, new: &Value, old_name: &str, new_name: &str) -> String {
    let (a, b) = (yaml(old), yaml(new));
    if a == b {
        return String::new();
    }
    similar::TextDiff::from_lines(&a, &b).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

impl Tool for ResourceDiff {
    type Input = ResourceDiffInput;
    type Output = ResourceDiffOutput;
    const NAME: &'static str = "resource_diff";
    const TITLE: &'static str = "Diff manifest";
    const DESCRIPTION: &'static str = "Preview an apply: server dry run and unified diff against live objects.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "read", "preview"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ResourceDiffInput) -> Result<(), ToolError> {
        check_ns(input.namespace.as_ref())?;
        parse_manifest(&input.manifest).map(|_| ())
    }

    async fn run(&self, ctx: &ToolContext, input: ResourceDiffInput) -> Result<Reply<ResourceDiffOutput>, ToolError> {
        let client = ctx.kube().await?;
        let docs = parse_manifest(&input.manifest)?;
        let resolved = resolve_all(&self.0, ctx, &client, docs, input.namespace.as_deref()).await?;
        let pp = PatchParams {
            dry_run: true,
            force: input.force,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let mut objects = Vec::new();
        for (i, r) in resolved.iter().enumerate() {
            let Some(info) = &r.info else {
                objects.push(DiffResult { object: r.display(), action: "unknown".into(), diff: "(its CustomResourceDefinition is created by an earlier document; apply that first to preview this one)".into() });
                continue;
            };
            let what = format!("document {} ({})", i + 1, r.display());
            let name = s(&r.doc, "/metadata/name");
            let raw = Raw::new(&client, info, r.namespace.as_deref());
            let mut live = raw.get_opt(name).await.map_err(|e| about(e, &what))?;
            let dry = raw.patch(name, &pp, &Patch::Apply(r.doc.clone())).await.map_err(|e| about(e, &what))?;
            // A dry run answers from the object as it was then (its resourceVersion says which): when a
            // controller wrote in between, compare with that version rather than show its change.
            for _ in 0..3 {
                match &live {
                    Some(l) if s(l, "/metadata/resourceVersion") != s(&dry, "/metadata/resourceVersion") => {
                        live = raw.get_opt(name).await.map_err(|e| about(e, &what))?;
                    }
                    _ => break,
                }
            }
            let after = prepare(&dry, live.as_ref());
            let before = live.as_ref().map(|l| prepare(l, None)).unwrap_or(Value::Null);
            let diff = unified(&before, &after, if live.is_some() { "live" } else { "/dev/null" }, "applied");
            let action = match (&live, diff.is_empty()) {
                (None, _) => "create",
                (Some(_), true) => "unchanged",
                (Some(_), false) => "update",
            };
            objects.push(DiffResult { object: r.display(), action: action.into(), diff });
        }
        let changing = objects.iter().filter(|o| o.action != "unchanged").count();
        let list = objects
            .iter()
            .filter(|o| o.action != "unchanged")
            .map(|o| format!("{} {}", o.action, o.object))
            .collect::<Vec<_>>()
            .join(", ");
        let summary = format!(
            "{changing} of {} objects would change{}.",
            objects.len(),
            if list.is_empty() { String::new() } else { format!(": {list}") }
        );
        let mut out = ResourceDiffOutput { objects };
        // Long diffs are cut per object rather than dropping objects.
        let budget = common::budget_bytes(ctx);
        let mut notes = Vec::new();
        if common::json_len(&out) > budget {
            let per = budget / out.objects.len().max(1);
            for o in &mut out.objects {
                if o.diff.len() > per {
                    let cut: String = o.diff.chars().take(per).collect();
                    notes.push(format!("diff of {} cut at {per} bytes (output budget)", o.object));
                    o.diff = format!("{cut}\n… [cut]");
                }
            }
        }
        let mut reply = Reply::new(summary, out).untrusted();
        for n in notes {
            reply = reply.omitted(n);
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_redact_secret_values_but_show_changes() {
        let live = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "resourceVersion": "1"}, "data": {"password": "aHVudGVyMg==", "user": "YWRtaW4="}});
        let new = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "resourceVersion": "2"}, "data": {"password": "czNjcjN0IQ==", "user": "YWRtaW4="}});
        let d = unified(&prepare(&live, None), &prepare(&new, Some(&live)), "live", "applied");
        assert!(d.contains("changed") && !d.contains("aHVudGVyMg") && !d.contains("czNjcjN0"), "{d}");
        assert!(!d.contains("resourceVersion"), "{d}");
        assert!(d.contains("--- live") && d.contains("+++ applied"), "{d}");
    }
}
