//! Workload changes: `workload_set_image` (one container's image) and `workload_scale` (the scale
//! subresource, so it works for any scalable kind, CRDs included).

use super::common::{self, FIELD_MANAGER, Kube, Raw, Shared, arr, check_ns, compact_schema, display, s};
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
use serde_json::json;

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
    /// Image now.
    pub image: String,
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
        let out = SetImageOutput {
            object: object.clone(),
            container: container.clone(),
            previous_image: previous.clone(),
            image: input.image.clone(),
        };
        if previous == input.image {
            return Ok(Reply::new(
                format!("{object} container {container} already runs {previous}; nothing changed."),
                out,
            ));
        }
        let entry = json!([{"name": container, "image": input.image}]);
        let patch = if info.kind == "Pod" {
            json!({"spec": {field: entry}})
        } else {
            json!({"metadata": {"annotations": {CHANGE_CAUSE: format!("binnacle: set image {container}={}", input.image)}}, "spec": {"template": {"spec": {field: entry}}}})
        };
        let pp = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        raw.patch(&input.name, &pp, &Patch::Strategic(patch)).await?;
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
        let out = ScaleOutput { object: object.clone(), previous, replicas: input.replicas };
        if previous == input.replicas {
            return Ok(Reply::new(format!("{object} already has {previous} replicas; nothing changed."), out));
        }
        let pp = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
        raw.patch_sub("scale", &input.name, &pp, &json!({"spec": {"replicas": input.replicas}})).await?;
        let mut summary = format!("Scaled {object} from {previous} to {} replicas.", input.replicas);
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
        Ok(Reply::new(summary, out))
    }
}
