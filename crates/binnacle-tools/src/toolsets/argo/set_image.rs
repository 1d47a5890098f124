//! `argo_rollout_set_image`: changes a container image in a Rollout's pod template, which starts a new
//! canary (or blue-green preview).

use super::common::{Kind, Preview, RolloutChange, change_reply, get, namespace_of, patch_spec, record};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use kube::api::Patch;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Arguments of `argo_rollout_set_image`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetImageInput {
    /// The Rollout's name.
    pub name: String,
    /// Its namespace; default: the context's namespace.
    pub namespace: Option<String>,
    /// Container (or init container) name; `*` for every container; may be left out when the template
    /// has exactly one container.
    pub container: Option<String>,
    /// The new image, e.g. `ghcr.io/acme/checkout:1.6.0`.
    pub image: String,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// See the module docs.
pub struct RolloutSetImage;

/// A merge patch that sets `image` on the matching containers. Custom resources take no strategic
/// merge, so the patch carries the whole container lists, with the object's `resourceVersion` so that
/// a concurrent change fails (409) instead of being overwritten. `None` when nothing changes.
pub fn image_patch(ro: &Value, container: Option<&str>, image: &str) -> Result<Option<Value>, ToolError> {
    let Some(spec) = ro.pointer("/spec/template/spec") else {
        return Err(ToolError::invalid(
            "this Rollout has no pod template (it may use workloadRef): set the image on the referenced Deployment instead",
        ));
    };
    let mut lists: Vec<(&str, Vec<Value>)> = ["containers", "initContainers"]
        .iter()
        .map(|f| (*f, spec.get(*f).and_then(Value::as_array).cloned().unwrap_or_default()))
        .collect();
    let names: Vec<String> = lists
        .iter()
        .flat_map(|(_, l)| l.iter().map(|c| c.get("name").and_then(Value::as_str).unwrap_or("").to_string()))
        .collect();
    let regular = lists[0].1.len();
    let target: Option<&str> = match container {
        Some("*") => None,
        Some(name) => Some(name),
        None if regular == 1 => None,
        None => {
            return Err(ToolError::invalid(format!(
                "the template has {regular} containers ({names:?}): say which with `container`"
            )));
        }
    };
    let mut matched = 0;
    let mut changed = false;
    for (field, list) in lists.iter_mut() {
        for c in list.iter_mut() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let hit = match target {
                Some(t) => name == t,
                None => *field == "containers",
            };
            if hit {
                matched += 1;
                if c.get("image").and_then(Value::as_str) != Some(image) {
                    c["image"] = json!(image);
                    changed = true;
                }
            }
        }
    }
    if matched == 0 {
        return Err(ToolError::invalid(format!(
            "no container {:?} in the Rollout's template; containers: {names:?}",
            container.unwrap_or_default()
        )));
    }
    if !changed {
        return Ok(None);
    }
    let mut template_spec = serde_json::Map::new();
    for (field, list) in lists {
        if !list.is_empty() {
            template_spec.insert(field.to_string(), Value::Array(list));
        }
    }
    Ok(Some(json!({
        "metadata": {"resourceVersion": ro.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)},
        "spec": {"template": {"spec": template_spec}}
    })))
}

impl Tool for RolloutSetImage {
    type Input = SetImageInput;
    type Output = RolloutChange;
    const NAME: &'static str = "argo_rollout_set_image";
    const TITLE: &'static str = "Argo Rollouts: set image";
    const DESCRIPTION: &'static str = "Set a container image in an Argo Rollout's pod template. This starts a new canary (or blue-green preview) that follows the Rollout's steps; watch it with argo_rollout_status.";
    const TOOLSET: Toolset = Toolset::Argo;
    const TAGS: &'static [&'static str] = &["argo", "rollouts", "write", "images"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &SetImageInput) -> Result<(), ToolError> {
        super::common::check_target(input.namespace.as_deref(), &input.name)?;
        if let Some(c) = input.container.as_deref().filter(|c| *c != "*") {
            validate::object_name(c)?;
        }
        validate::image(&input.image)
    }

    async fn run(&self, ctx: &ToolContext, input: SetImageInput) -> Result<Reply<RolloutChange>, ToolError> {
        let client = ctx.kube().await?;
        let ns = namespace_of(&client, input.namespace.as_deref());
        let ro = get(ctx, &client, Kind::Rollout, &ns, &input.name).await?;
        let mut patches = Vec::new();
        let mut preview = input.dry_run.then(|| Preview::new(&ro));
        if let Some(patch) = image_patch(&ro, input.container.as_deref(), &input.image)? {
            patches.push(format!("spec {}", patch["spec"]));
            let answer = patch_spec(ctx, &client, &ns, &input.name, &Patch::Merge(patch), input.dry_run).await?;
            record(&mut preview, answer, false);
        }
        change_reply(
            ctx,
            &client,
            &ns,
            &input.name,
            "set-image",
            patches,
            format!("Set image {} on {ns}/{}.", input.image, input.name),
            preview,
        )
        .await
    }
}
