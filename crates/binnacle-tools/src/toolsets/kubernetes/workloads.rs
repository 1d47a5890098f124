//! Workload changes: `workload_set_image` (one container's image) and `workload_scale` (the scale
//! subresource, so it works for any scalable kind, CRDs included).

use super::common::{self, FIELD_MANAGER, Kube, Raw, Shared, arr, check_ns, compact_schema, display, s};
use super::preview::{self, DRY_RUN};
use super::resolve::ResourceInfo;
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use kube::Client;
use kube::api::{ListParams, Patch, PatchParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The annotation kubectl and the Deployment controller use to record why a revision exists.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// Resolves a workload kind (default Deployment) and checks it is one of `allowed` (`group/Kind`).
pub async fn workload(
    kube: &Kube,
    ctx: &ToolContext,
    kind: Option<&str>,
    allowed: &[&str],
) -> Result<(Client, ResourceInfo), ToolError> {
    let (client, info) = kube.resolve(ctx, kind.unwrap_or("deployments.apps"), None).await?;
    let gk = format!("{}/{}", info.group, info.kind);
    if !allowed.contains(&gk.as_str()) {
        let names: Vec<&str> = allowed.iter().map(|a| a.rsplit('/').next().unwrap_or(a)).collect();
        return Err(ToolError::invalid(format!(
            "{} is not supported here; use one of: {}",
            info.kind,
            names.join(", ")
        )));
    }
    Ok((client, info))
}

/// The JSON pointer of the pod spec in a workload (`/spec/template/spec`, or `/spec` for a Pod).
pub fn pod_spec_path(kind: &str) -> &'static str {
    if kind == "Pod" { "/spec" } else { "/spec/template/spec" }
}

// ----------------------------------------------------------------------------- workload_set_image

/// Arguments of `workload_set_image`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct SetImageInput {
    /// Default Deployment
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    /// Optional if only one
    pub container: Option<String>,
    /// e.g. nginx:1.27
    pub image: String,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// What `workload_set_image` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetImageOutput {
    /// Kind namespace/name.
    pub object: String,
    /// Container changed.
    pub container: String,
    /// Image before.
    pub previous_image: String,
    /// Image now (with dryRun: would be).
    pub image: String,
    /// With dryRun: unified diff of the workload (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// `workload_set_image`.
pub struct WorkloadSetImage(pub Shared);

const IMAGE_KINDS: &[&str] = &["apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "/Pod"];

impl Tool for WorkloadSetImage {
    type Input = SetImageInput;
    type Output = SetImageOutput;
    const NAME: &'static str = "workload_set_image";
    const TITLE: &'static str = "Set image";
    const DESCRIPTION: &'static str = "Set a container's image in a workload (starts a rollout).";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["workloads", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &SetImageInput) -> Result<(), ToolError> {
        if let Some(k) = &input.kind {
            common::check_kind(k)?;
        }
        validate::object_name(&input.name)?;
        check_ns(input.namespace.as_ref())?;
        if let Some(c) = &input.container {
            binnacle_objects::names::check_dns1123_label(c)
                .map_err(|e| ToolError::invalid(format!("container {c:?} is not valid: {e}")))?;
        }
        validate::image(&input.image)
    }

    async fn run(&self, ctx: &ToolContext, input: SetImageInput) -> Result<Reply<SetImageOutput>, ToolError> {
        let (client, info) = workload(&self.0, ctx, input.kind.as_deref(), IMAGE_KINDS).await?;
        let ns = common::namespace_for(&client, &info, input.namespace.as_deref());
        let raw = Raw::new(&client, &info, ns.as_deref());
        let obj = raw.get(&input.name).await?;
        let spec_path = pod_spec_path(&info.kind);
        let mut found = None;
        let mut names = Vec::new();
        for field in ["containers", "initContainers"] {
            for c in arr(&obj, &format!("{spec_path}/{field}")) {
                let name = s(c, "/name");
                names.push(name.to_string());
                let wanted = match &input.container {
                    Some(want) => want == name,
                    None => field == "containers" && arr(&obj, &format!("{spec_path}/containers")).len() == 1,
                };
                if wanted && found.is_none() {
                    found = Some((field, name.to_string(), s(c, "/image").to_string()));
                }
            }
        }
        let object = display(&info.kind, ns.as_deref(), &input.name);
        let Some((field, container, previous)) = found else {
            return Err(ToolError::invalid(match &input.container {
                Some(c) => format!("{object} has no container {c:?}; containers: {}", names.join(", ")),
                None => format!("{object} has several containers ({}); pass container", names.join(", ")),
            }));
        };
        let mut out = SetImageOutput {
            object: object.clone(),
            container: container.clone(),
            previous_image: previous.clone(),
            image: input.image.clone(),
            diff: input.dry_run.then(String::new),
        };
        let dry = if input.dry_run { DRY_RUN } else { "" };
        if previous == input.image {
            return Ok(Reply::new(
                format!("{dry}{object} container {container} already runs {previous}; nothing changed."),
                out,
            ));
        }
        let entry = json!([{"name": container, "image": input.image}]);
        let patch = if info.kind == "Pod" {
            json!({"spec": {field: entry}})
        } else {
            json!({"metadata": {"annotations": {CHANGE_CAUSE: format!("binnacle: set image {container}={}", input.image)}}, "spec": {"template": {"spec": {field: entry}}}})
        };
        let pp =
            PatchParams { dry_run: input.dry_run, field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        let after = raw.patch(&input.name, &pp, &Patch::Strategic(patch)).await?;
        if input.dry_run {
            let before = preview::matching_before(obj, &after, || raw.get(&input.name)).await?;
            out.diff = Some(preview::object_diff(Some(&before), Some(&after)));
            let rollout = if info.kind == "Pod" { "" } else { " and a rollout would start" };
            return Ok(Reply::new(
                format!(
                    "{DRY_RUN}{object} container {container} would change from {previous} to {}{rollout}.",
                    input.image
                ),
                out,
            )
            .untrusted());
        }
        let rollout = if info.kind == "Pod" { "" } else { " A rollout starts; follow it with rollout_status." };
        Ok(Reply::new(format!("{object} container {container}: {previous} → {}.{rollout}", input.image), out))
    }
}

// ---------------------------------------------------------------------------------- workload_scale

/// Arguments of `workload_scale`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ScaleInput {
    /// Default Deployment
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    /// 0-1000.
    pub replicas: i64,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// What `workload_scale` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScaleOutput {
    /// Kind namespace/name.
    pub object: String,
    /// Replicas before.
    pub previous: i64,
    /// Replicas asked for.
    pub replicas: i64,
    /// With dryRun: unified diff of the workload (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// `workload_scale`.
pub struct WorkloadScale(pub Shared);

impl Tool for WorkloadScale {
    type Input = ScaleInput;
    type Output = ScaleOutput;
    const NAME: &'static str = "workload_scale";
    const TITLE: &'static str = "Scale workload";
    const DESCRIPTION: &'static str = "Set the replicas of any scalable workload.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["workloads", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &ScaleInput) -> Result<(), ToolError> {
        if let Some(k) = &input.kind {
            common::check_kind(k)?;
        }
        validate::object_name(&input.name)?;
        check_ns(input.namespace.as_ref())?;
        common::check_range("replicas", input.replicas, 0, 1000)
    }

    async fn run(&self, ctx: &ToolContext, input: ScaleInput) -> Result<Reply<ScaleOutput>, ToolError> {
        let (client, info) = self.0.resolve(ctx, input.kind.as_deref().unwrap_or("deployments.apps"), None).await?;
        if !info.has_subresource("scale") {
            return Err(ToolError::invalid(format!(
                "{} has no scale subresource, so it cannot be scaled",
                info.qualified()
            )));
        }
        let ns = common::namespace_for(&client, &info, input.namespace.as_deref());
        let raw = Raw::new(&client, &info, ns.as_deref());
        let scale = raw.get_sub("scale", &input.name).await?;
        let previous = common::int(&scale, "/spec/replicas");
        let object = display(&info.kind, ns.as_deref(), &input.name);
        let mut out = ScaleOutput {
            object: object.clone(),
            previous,
            replicas: input.replicas,
            diff: input.dry_run.then(String::new),
        };
        let dry = if input.dry_run { DRY_RUN } else { "" };
        if previous == input.replicas {
            return Ok(Reply::new(format!("{dry}{object} already has {previous} replicas; nothing changed."), out));
        }
        let pp =
            PatchParams { dry_run: input.dry_run, field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        let answer = raw.patch_sub("scale", &input.name, &pp, &json!({"spec": {"replicas": input.replicas}})).await?;
        let mut summary = if input.dry_run {
            // The scale subresource answers with a Scale: the workload after it is the workload with the
            // replicas the Scale says, at the path its scale subresource maps them to.
            let before = raw.get(&input.name).await?;
            let pointer = spec_replicas_pointer(&client, &info).await;
            let mut after = before.clone();
            let replicas = answer.pointer("/spec/replicas").cloned().unwrap_or(json!(input.replicas));
            set_pointer(&mut after, &pointer, replicas);
            out.diff = Some(preview::object_diff(Some(&before), Some(&after)));
            format!("{DRY_RUN}{object} would be scaled from {previous} to {} replicas.", input.replicas)
        } else {
            format!("Scaled {object} from {previous} to {} replicas.", input.replicas)
        };
        // An autoscaler would undo a manual scale: say so.
        let hpas = Kube::builtin("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true);
        if let Ok(list) = Raw::new(&client, &hpas, ns.as_deref()).list_all(&ListParams::default(), 500).await
            && let Some(h) = list.iter().find(|h| {
                s(h, "/spec/scaleTargetRef/kind") == info.kind && s(h, "/spec/scaleTargetRef/name") == input.name
            })
        {
            summary.push_str(&format!(
                " Note: HorizontalPodAutoscaler {} manages it ({}..{} replicas) and may change the count back.",
                s(h, "/metadata/name"),
                common::int(h, "/spec/minReplicas").max(1),
                common::int(h, "/spec/maxReplicas")
            ));
        }
        let reply = Reply::new(summary, out);
        Ok(if input.dry_run { reply.untrusted() } else { reply })
    }
}

/// The JSON pointer of the replicas a kind's scale subresource sets: `/spec/replicas`, or for a custom
/// resource its CRD's `specReplicasPath` (`/spec/replicas` when it cannot be read).
async fn spec_replicas_pointer(client: &Client, info: &ResourceInfo) -> String {
    let default = "/spec/replicas".to_string();
    if info.is_builtin() {
        return default;
    }
    let crds =
        Kube::builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false);
    let Ok(Some(crd)) = Raw::new(client, &crds, None).get_opt(&info.qualified()).await else { return default };
    let path = arr(&crd, "/spec/versions")
        .iter()
        .find(|v| s(v, "/name") == info.version)
        .map(|v| s(v, "/subresources/scale/specReplicasPath"))
        .unwrap_or("");
    match path.strip_prefix('.') {
        Some(p) if !p.is_empty() => format!("/{}", p.replace('~', "~0").replace('/', "~1").replace('.', "/")),
        _ => default,
    }
}

/// Sets the value at a JSON pointer, creating the objects on the way.
fn set_pointer(obj: &mut Value, pointer: &str, value: Value) {
    let mut at = obj;
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        let key = part.replace("~1", "/").replace("~0", "~");
        if !at.is_object() {
            *at = json!({});
        }
        let Some(map) = at.as_object_mut() else { return };
        if i + 1 == parts.len() {
            map.insert(key, value);
            return;
        }
        at = map.entry(key).or_insert_with(|| json!({}));
    }
}
