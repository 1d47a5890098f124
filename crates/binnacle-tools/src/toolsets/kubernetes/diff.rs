//! `resource_diff`: the preview of an apply. Each document is applied server-side with `dryRun=All`
//! (so defaults, admission and field ownership are the server's), and the cleaned live object is
//! compared with the cleaned result as a unified diff of YAML. Secret values stay redacted; a changed
//! value shows as changed without showing either side.

use super::apply::{about, parse_manifest, resolve_all};
use super::common::{self, FIELD_MANAGER, Raw, Shared, check_ns, compact_schema, s};
use super::preview;
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use kube::api::{Patch, PatchParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
            let before = live.as_ref().map(|l| preview::prepare(l, None)).unwrap_or(serde_json::Value::Null);
            let after = preview::align(&preview::prepare(&dry, live.as_ref()), &before);
            let diff = preview::unified(&before, &after, if live.is_some() { "live" } else { "/dev/null" }, "applied");
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
        let notes = preview::cut_diffs(
            out.objects.iter_mut().map(|o| (o.object.as_str(), &mut o.diff)),
            common::budget_bytes(ctx),
        );
        let mut reply = Reply::new(summary, out).untrusted();
        for n in notes {
            reply = reply.omitted(n);
        }
        Ok(reply)
    }
}
