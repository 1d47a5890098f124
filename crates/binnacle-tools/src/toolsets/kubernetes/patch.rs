//! `resource_patch`: a merge, JSON (RFC 6902) or strategic merge patch of any object, optionally as a dry
//! run; answers with the diff of the cleaned object before and after.

use super::common::{self, FIELD_MANAGER, Raw, Shared, check_target, compact_schema};
use super::preview::{self, DRY_RUN};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use kube::api::{Patch, PatchParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest patch accepted.
const MAX_PATCH_BYTES: usize = 256 * 1024;

/// The patch format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum PatchType {
    /// JSON merge patch (RFC 7386).
    Merge,
    /// JSON patch operations (RFC 6902).
    Json,
    /// Strategic merge patch (built-in kinds).
    Strategic,
}

/// Arguments of `resource_patch`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourcePatchInput {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// Object, or ops array for json
    pub patch: Value,
    /// Default strategic (merge for CRDs)
    #[serde(rename = "type")]
    pub type_: Option<PatchType>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// What `resource_patch` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResourcePatchOutput {
    /// Kind namespace/name.
    pub object: String,
    /// Whether the object changed.
    pub changed: bool,
    /// Unified diff of the object (YAML), secrets redacted; always there for a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// `resource_patch`.
pub struct ResourcePatch(pub Shared);

/// The patch as a JSON value (a string holding JSON or YAML is parsed).
fn patch_value(patch: &Value) -> Result<Value, ToolError> {
    match patch {
        Value::String(text) => serde_norway::from_str::<Value>(text)
            .map_err(|e| ToolError::invalid(format!("patch is not valid JSON or YAML: {e}"))),
        other => Ok(other.clone()),
    }
}

fn check_patch(patch: &Value, type_: Option<PatchType>) -> Result<(), ToolError> {
    if common::json_len(patch) > MAX_PATCH_BYTES {
        return Err(ToolError::invalid(format!("patch is larger than {MAX_PATCH_BYTES} bytes")));
    }
    match (type_, patch) {
        (Some(PatchType::Json), Value::Array(ops)) => {
            if ops.is_empty() {
                return Err(ToolError::invalid("a json patch needs at least one operation"));
            }
            for (i, op) in ops.iter().enumerate() {
                let name = op.get("op").and_then(Value::as_str).unwrap_or("");
                if !matches!(name, "add" | "remove" | "replace" | "move" | "copy" | "test") {
                    return Err(ToolError::invalid(format!(
                        "operation {i}: op must be add, remove, replace, move, copy or test, got {:?}",
                        op.get("op")
                    )));
                }
                let path = op.get("path").and_then(Value::as_str).unwrap_or("-");
                if !path.starts_with('/') && !path.is_empty() {
                    return Err(ToolError::invalid(format!(
                        "operation {i}: path must be a JSON pointer such as /spec/replicas"
                    )));
                }
                if matches!(name, "add" | "replace" | "test") && op.get("value").is_none() {
                    return Err(ToolError::invalid(format!("operation {i}: {name} needs a value")));
                }
                if matches!(name, "move" | "copy")
                    && !op.get("from").and_then(Value::as_str).is_some_and(|f| f.starts_with('/'))
                {
                    return Err(ToolError::invalid(format!("operation {i}: {name} needs from, a JSON pointer")));
                }
            }
            Ok(())
        }
        (Some(PatchType::Json), _) => Err(ToolError::invalid(
            "a json patch is an array of operations, e.g. [{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]",
        )),
        (_, Value::Object(m)) if !m.is_empty() => Ok(()),
        (_, Value::Array(_)) => Err(ToolError::invalid("an array patch needs type json")),
        _ => Err(ToolError::invalid(
            "a merge or strategic patch is a non-empty object, e.g. {\"spec\":{\"replicas\":3}}",
        )),
    }
}

impl Tool for ResourcePatch {
    type Input = ResourcePatchInput;
    type Output = ResourcePatchOutput;
    const NAME: &'static str = "resource_patch";
    const TITLE: &'static str = "Patch resource";
    const DESCRIPTION: &'static str = "Patch one object (merge, json or strategic); returns the diff.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &ResourcePatchInput) -> Result<(), ToolError> {
        check_target(&input.kind, &input.name, input.namespace.as_ref(), None)?;
        check_patch(&patch_value(&input.patch)?, input.type_)
    }

    async fn run(&self, ctx: &ToolContext, input: ResourcePatchInput) -> Result<Reply<ResourcePatchOutput>, ToolError> {
        let (client, info) = self.0.resolve(ctx, &input.kind, None).await?;
        let patch = patch_value(&input.patch)?;
        let type_ = input.type_.unwrap_or(if info.is_builtin() { PatchType::Strategic } else { PatchType::Merge });
        if type_ == PatchType::Strategic && !info.is_builtin() {
            return Err(ToolError::invalid(format!(
                "{} is a custom resource: strategic merge patches do not apply to it; use type merge or json",
                info.qualified()
            )));
        }
        let namespace = common::namespace_for(&client, &info, input.namespace.as_deref());
        let raw = Raw::new(&client, &info, namespace.as_deref());
        let before = raw.get(&input.name).await?;
        let pp =
            PatchParams { dry_run: input.dry_run, field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        let after = match type_ {
            PatchType::Merge => raw.patch(&input.name, &pp, &Patch::Merge(patch)).await?,
            PatchType::Strategic => raw.patch(&input.name, &pp, &Patch::Strategic(patch)).await?,
            PatchType::Json => raw.json_patch(&input.name, &pp, &patch).await?,
        };
        let before = if input.dry_run {
            preview::matching_before(before, &after, || raw.get(&input.name)).await?
        } else {
            before
        };
        let diff = preview::object_diff(Some(&before), Some(&after));
        let object = common::display(&info.kind, namespace.as_deref(), &input.name);
        let changed = !diff.is_empty();
        let summary = match (changed, input.dry_run) {
            (true, true) => format!("{DRY_RUN}the patch would change {object} (see diff)."),
            (false, true) => format!("{DRY_RUN}the patch would leave {object} unchanged."),
            (true, false) => format!("Patched {object}."),
            (false, false) => format!("The patch leaves {object} unchanged."),
        };
        let diff = (changed || input.dry_run).then_some(diff);
        Ok(Reply::new(summary, ResourcePatchOutput { object, changed, diff }).untrusted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_are_checked() {
        assert!(check_patch(&json!({"spec": {"replicas": 2}}), None).is_ok());
        assert!(
            check_patch(&json!([{"op": "replace", "path": "/spec/replicas", "value": 2}]), Some(PatchType::Json))
                .is_ok()
        );
        assert!(check_patch(&json!([{"op": "frob", "path": "/x"}]), Some(PatchType::Json)).is_err());
        assert!(check_patch(&json!([{"op": "add", "path": "/x"}]), Some(PatchType::Json)).is_err());
        assert!(check_patch(&json!({}), Some(PatchType::Merge)).is_err());
        assert!(check_patch(&json!([1]), None).is_err());
        assert_eq!(patch_value(&json!("spec: {replicas: 2}")).ok(), Some(json!({"spec": {"replicas": 2}})));
    }
}
