//! The Binnacle controller: for each `Binnacle` it installs the engine (`binnacle serve`, with its embedded
//! UI), the MCP server (`binnacle mcp --transport http`) and optionally a `Gateway`, as owned Deployments,
//! Services, a ConfigMap, a ServiceAccount, an Ingress, and a ClusterRoleBinding to the shared ClusterRole
//! `binnacle-read` (or `binnacle-write`), which it creates when missing. The binding is cluster-scoped, so
//! a finalizer removes it; everything else goes with the owner references.

pub mod crd;

use crate::apply::{self, Reporting};
use crate::{Error, OperatorOptions};
use binnacle_gateway::crd::Gateway;
use crd::{Binnacle, BinnacleSpec, BinnacleStatus, LlmProvider, ToolsMode};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::{Controller, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// The finalizer that removes the cluster-scoped ClusterRoleBinding.
pub const FINALIZER: &str = "binnacle.dev/binnacle-cleanup";
/// The read-only ClusterRole (the default).
pub const READ_ROLE: &str = "binnacle-read";
/// The write ClusterRole (`tools: readWrite`).
pub const WRITE_ROLE: &str = "binnacle-write";
/// The pod template annotation whose change rolls the Deployments.
pub const CONFIG_HASH: &str = "binnacle.dev/config-hash";
/// The engine's port.
pub const ENGINE_PORT: u16 = 8080;
/// The MCP server's port.
pub const MCP_PORT: u16 = 8090;

/// The name of the ClusterRoleBinding of Binnacle `namespace/name`.
pub fn binding_name(namespace: &str, name: &str) -> String {
    format!("binnacle:{namespace}:{name}")
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["get", "list", "watch", "create", "update", "patch", "delete"];

/// The rules of `binnacle-read`: what the read-only tools read. No Secrets: their tools that reveal a
/// Secret need the write role.
pub fn read_rules() -> Value {
    json!([
        {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "endpoints", "events", "configmaps",
            "namespaces", "nodes", "persistentvolumeclaims", "persistentvolumes", "replicationcontrollers",
            "serviceaccounts", "resourcequotas", "limitranges"], "verbs": READ},
        {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets", "controllerrevisions"], "verbs": READ},
        {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": READ},
        {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": READ},
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingressclasses", "networkpolicies"], "verbs": READ},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": READ},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": READ},
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"], "verbs": READ},
        {"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"], "verbs": READ},
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": READ},
        {"apiGroups": ["argoproj.io"], "resources": ["rollouts", "applications"], "verbs": READ},
        {"apiGroups": ["binnacle.dev"], "resources": ["gateways"], "verbs": READ},
        {"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"], "verbs": READ},
    ])
}

/// The rules of `binnacle-write`: the read rules plus the changes the write tools make (each still passes
/// the engine's approval gate).
pub fn write_rules() -> Value {
    let mut rules = read_rules();
    if let Some(list) = rules.as_array_mut() {
        list.extend([
            json!({"apiGroups": [""], "resources": ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims"], "verbs": WRITE}),
            json!({"apiGroups": [""], "resources": ["nodes"], "verbs": ["patch", "update"]}),
            json!({"apiGroups": [""], "resources": ["pods/eviction", "pods/exec"], "verbs": ["create"]}),
            json!({"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets", "deployments/scale", "statefulsets/scale"], "verbs": WRITE}),
            json!({"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": WRITE}),
            json!({"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": WRITE}),
            json!({"apiGroups": ["argoproj.io"], "resources": ["rollouts", "applications"], "verbs": WRITE}),
        ]);
    }
    rules
}

/// Why a spec cannot be installed as written (Ready=False, reason InvalidSpec).
pub fn check(spec: &BinnacleSpec) -> Result<(), String> {
    let replicas = spec.replicas();
    if !(1..=10).contains(&replicas) {
        return Err(format!("replicas {replicas} is out of range: use 1 to 10"));
    }
    let has_db = spec.database.as_ref().and_then(|d| d.url_secret_ref.as_ref()).is_some();
    if !has_db && replicas > 1 {
        return Err(format!(
            "replicas {replicas} needs a shared database: without database.urlSecretRef the engine keeps SQLite on \
             an emptyDir, so set replicas: 1 or point database.urlSecretRef at a Secret key with a postgres:// URL"
        ));
    }
    for (field, r) in [
        ("database.urlSecretRef", spec.database.as_ref().and_then(|d| d.url_secret_ref.as_ref())),
        ("llm.secretRef", spec.llm.as_ref().and_then(|l| l.secret_ref.as_ref())),
    ] {
        if let Some(r) = r
            && (r.name.trim().is_empty() || r.key.trim().is_empty())
        {
            return Err(format!("{field} needs both name and key (a Secret in this namespace and its key)"));
        }
    }
    if let Some(llm) = &spec.llm
        && llm.provider != LlmProvider::Offline
        && llm.model.as_deref().is_none_or(|m| m.trim().is_empty())
    {
        return Err(format!(
            "llm.provider {} needs llm.model (e.g. gpt-4o-mini or claude-sonnet-4-5)",
            llm.provider.as_str()
        ));
    }
    if let Some(ing) = &spec.ingress
        && ing.host.trim().is_empty()
    {
        return Err("ingress.host is empty: give the host name to serve the UI on, or remove ingress".into());
    }
    if let Some(image) = &spec.image
        && image.trim().is_empty()
    {
        return Err("image is empty: name an image (e.g. ghcr.io/binnacle-dev/binnacle:0.1.0) or remove it".into());
    }
    Ok(())
}

/// The tag (or digest) of an image reference.
pub fn image_version(image: &str) -> String {
    if let Some((_, digest)) = image.split_once('@') {
        return digest.to_string();
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, t)| t.to_string()).unwrap_or_else(|| "latest".into())
}

fn labels(name: &str, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "binnacle",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": apply::MANAGER,
    })
}

fn typed<K: serde::de::DeserializeOwned>(v: Value) -> Result<K, Error> {
    serde_json::from_value(v).map_err(|e| Error::Build(e.to_string()))
}

/// Everything the operator creates for one Binnacle.
pub struct Install {
    /// The pods' identity.
    pub service_account: ServiceAccount,
    /// Binds the ServiceAccount to `binnacle-read` or `binnacle-write`.
    pub cluster_binding: ClusterRoleBinding,
    /// Non-secret settings, as environment.
    pub config: ConfigMap,
    /// `binnacle serve`.
    pub engine: Deployment,
    /// The engine's Service.
    pub engine_service: Service,
    /// `binnacle mcp` (when enabled).
    pub mcp: Option<(Deployment, Service)>,
    /// The Ingress (when asked for).
    pub ingress: Option<Ingress>,
    /// The Gateway (when enabled).
    pub gateway: Option<Gateway>,
    /// The image.
    pub image: String,
}

fn security(image: &str) -> (Value, Value) {
    let _ = image;
    (
        json!({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}}),
        json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}),
    )
}

/// Builds the installation of a valid Binnacle.
pub fn install(b: &Binnacle, default_image: &str) -> Result<Install, Error> {
    let ns = b.namespace().unwrap_or_default();
    let name = b.name_any();
    let spec = &b.spec;
    let image = spec.image.clone().unwrap_or_else(|| default_image.to_string());
    let owners = json!([{
        "apiVersion": Binnacle::api_version(&()), "kind": Binnacle::kind(&()), "name": name,
        "uid": b.metadata.uid.clone().unwrap_or_default(), "controller": true, "blockOwnerDeletion": true,
    }]);
    let meta = |n: &str, component: &str| json!({"name": n, "namespace": ns, "labels": labels(&name, component), "ownerReferences": owners});
    let service_account =
        typed(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(&name, "engine")}))?;
    let role = match spec.tools {
        ToolsMode::ReadOnly => READ_ROLE,
        ToolsMode::ReadWrite => WRITE_ROLE,
    };
    let mut crb_labels = labels(&name, "rbac");
    crb_labels["binnacle.dev/namespace"] = json!(ns);
    let cluster_binding = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": binding_name(&ns, &name), "labels": crb_labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
    }))?;
    let llm = spec.llm.clone().unwrap_or_default();
    let mut data = serde_json::Map::new();
    data.insert("BINNACLE_LISTEN".into(), json!(format!("0.0.0.0:{ENGINE_PORT}")));
    data.insert("BINNACLE_DATA_DIR".into(), json!("/data"));
    data.insert("BINNACLE_LLM_PROVIDER".into(), json!(llm.provider.as_str()));
    if let Some(m) = &llm.model {
        data.insert("BINNACLE_LLM_MODEL".into(), json!(m));
    }
    if let Some(u) = &llm.base_url {
        data.insert("BINNACLE_LLM_BASE_URL".into(), json!(u));
    }
    data.insert(
        "BINNACLE_TOOLS".into(),
        json!(if spec.tools == ToolsMode::ReadOnly { "readOnly" } else { "readWrite" }),
    );
    let config_name = format!("{name}-config");
    let config: ConfigMap = typed(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(&config_name, "engine"), "data": data}),
    )?;
    // Any change of the spec or the settings rolls the pods.
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(spec).unwrap_or_default());
    hasher.update(serde_json::to_vec(&data).unwrap_or_default());
    hasher.update(image.as_bytes());
    let hash: String = hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let (pod_security, container_security) = security(&image);
    let mut env = vec![
        json!({"name": "BINNACLE_REPLICA_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}),
        json!({"name": "HOME", "value": "/tmp"}),
    ];
    if let Some(r) = spec.database.as_ref().and_then(|d| d.url_secret_ref.as_ref()) {
        env.push(
            json!({"name": "BINNACLE_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": r.name, "key": r.key}}}),
        );
    }
    if let Some(r) = &llm.secret_ref {
        env.push(
            json!({"name": "BINNACLE_LLM_API_KEY", "valueFrom": {"secretKeyRef": {"name": r.name, "key": r.key}}}),
        );
    }
    let selector =
        |component: &str| json!({"app.kubernetes.io/instance": name, "app.kubernetes.io/component": component});
    let resources = json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}});
    let engine = typed(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(&name, "engine"),
        "spec": {
            "replicas": spec.replicas(),
            "selector": {"matchLabels": selector("engine")},
            "template": {
                "metadata": {"labels": labels(&name, "engine"), "annotations": {CONFIG_HASH: hash}},
                "spec": {
                    "serviceAccountName": name,
                    "securityContext": pod_security,
                    "containers": [{
                        "name": "engine", "image": image,
                        "args": ["serve"],
                        "envFrom": [{"configMapRef": {"name": config_name}}],
                        "env": env,
                        "ports": [{"name": "http", "containerPort": ENGINE_PORT, "protocol": "TCP"}],
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                        "resources": resources,
                        "securityContext": container_security,
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }))?;
    let engine_service = typed(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": meta(&name, "engine"),
        "spec": {"selector": selector("engine"), "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
    }))?;
    let mcp = if spec.mcp_enabled() {
        let mcp_name = format!("{name}-mcp");
        let mut args = vec![
            json!("mcp"),
            json!("--transport"),
            json!("http"),
            json!("--listen"),
            json!(format!("0.0.0.0:{MCP_PORT}")),
        ];
        if spec.tools == ToolsMode::ReadOnly {
            args.push(json!("--read-only"));
        }
        let deployment = typed(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(&mcp_name, "mcp"),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector("mcp")},
                "template": {
                    "metadata": {"labels": labels(&name, "mcp"), "annotations": {CONFIG_HASH: hash}},
                    "spec": {
                        "serviceAccountName": name,
                        "securityContext": pod_security,
                        "containers": [{
                            "name": "mcp", "image": image, "args": args,
                            "env": [{"name": "HOME", "value": "/tmp"}],
                            "ports": [{"name": "mcp", "containerPort": MCP_PORT, "protocol": "TCP"}],
                            "readinessProbe": {"tcpSocket": {"port": "mcp"}, "periodSeconds": 5},
                            "livenessProbe": {"tcpSocket": {"port": "mcp"}, "periodSeconds": 10},
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                            "securityContext": container_security,
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
            },
        }))?;
        // Labelled and annotated so that a Gateway discovers it.
        let mut m = meta(&mcp_name, "mcp");
        m["labels"]["mcp-enabled"] = json!("true");
        m["annotations"] = json!({"binnacle.dev/mcp-type": "tool", "binnacle.dev/mcp-path": "/mcp"});
        let service = typed(json!({
            "apiVersion": "v1", "kind": "Service", "metadata": m,
            "spec": {"selector": selector("mcp"), "ports": [{"name": "mcp", "port": MCP_PORT, "targetPort": "mcp", "protocol": "TCP"}]},
        }))?;
        Some((deployment, service))
    } else {
        None
    };
    let ingress = match &spec.ingress {
        Some(ing) => {
            let mut s = json!({
                "rules": [{"host": ing.host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": name, "port": {"name": "http"}}}}]}}],
            });
            if let Some(class) = &ing.class_name {
                s["ingressClassName"] = json!(class);
            }
            if let Some(tls) = &ing.tls_secret_name {
                s["tls"] = json!([{"hosts": [ing.host], "secretName": tls}]);
            }
            Some(typed(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(&name, "engine"), "spec": s}),
            )?)
        }
        None => None,
    };
    let gateway = if spec.gateway_enabled() {
        Some(typed(
            json!({"apiVersion": "binnacle.dev/v1alpha1", "kind": "Gateway", "metadata": meta(&name, "gateway"), "spec": {}}),
        )?)
    } else {
        None
    };
    Ok(Install { service_account, cluster_binding, config, engine, engine_service, mcp, ingress, gateway, image })
}

/// The URL of the UI and API.
pub fn url(b: &Binnacle) -> String {
    match &b.spec.ingress {
        Some(i) if i.tls_secret_name.is_some() => format!("https://{}/", i.host),
        Some(i) => format!("http://{}/", i.host),
        None => format!("http://{}.{}.svc/", b.name_any(), b.namespace().unwrap_or_default()),
    }
}

struct Ctx {
    client: Client,
    options: OperatorOptions,
    recorder: Recorder,
}

async fn ensure_cluster_role(
    client: &Client,
    name: &str,
    rules: Value,
    reporting: &Reporting<'_>,
) -> Result<(), Error> {
    let api: Api<ClusterRole> = Api::all(client.clone());
    let role: ClusterRole = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "binnacle", "app.kubernetes.io/part-of": "binnacle"}},
        "rules": rules,
    }))?;
    match api.create(&PostParams { field_manager: Some(apply::MANAGER.into()), ..Default::default() }, &role).await {
        Ok(_) => {
            tracing::info!(clusterrole = name, "created");
            reporting.metrics.changed("ClusterRole", "created");
            reporting.event("Created", "Create", format!("Created ClusterRole {name}"), None).await;
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(Error::kube(format!("create ClusterRole {name}"), e)),
    }
}

async fn write_status(
    api: &Api<Binnacle>,
    b: &Binnacle,
    ready: bool,
    reason: &str,
    message: String,
    version: Option<String>,
) -> Result<(), Error> {
    let status = if ready { "True" } else { "False" };
    let previous = b.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
    let transition = match previous {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Time(jiff::Timestamp::now()),
    };
    let next = BinnacleStatus {
        conditions: vec![Condition {
            type_: "Ready".into(),
            status: status.into(),
            reason: reason.into(),
            message,
            last_transition_time: transition,
            observed_generation: b.metadata.generation,
        }],
        observed_generation: b.metadata.generation,
        observed_version: version.or_else(|| b.status.as_ref().and_then(|s| s.observed_version.clone())),
        url: Some(url(b)),
    };
    if b.status.as_ref() == Some(&next) {
        return Ok(());
    }
    api.patch_status(&b.name_any(), &PatchParams::default(), &Patch::Merge(&json!({"status": next})))
        .await
        .map_err(|e| Error::kube(format!("write the status of Binnacle {}", b.name_any()), e))?;
    Ok(())
}

async fn secret_problem(client: &Client, ns: &str, spec: &BinnacleSpec) -> Option<String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    for (field, r) in [
        ("database.urlSecretRef", spec.database.as_ref().and_then(|d| d.url_secret_ref.as_ref())),
        ("llm.secretRef", spec.llm.as_ref().and_then(|l| l.secret_ref.as_ref())),
    ] {
        let Some(r) = r else { continue };
        match api.get_opt(&r.name).await {
            Ok(Some(s)) => {
                let has = s.data.as_ref().is_some_and(|d| d.contains_key(&r.key))
                    || s.string_data.as_ref().is_some_and(|d| d.contains_key(&r.key));
                if !has {
                    return Some(format!(
                        "{field}: Secret {ns}/{} has no key {:?}; add it (kubectl edit secret {})",
                        r.name, r.key, r.name
                    ));
                }
            }
            Ok(None) => {
                return Some(format!(
                    "{field}: Secret {ns}/{} does not exist; create it: kubectl create secret generic {} -n {ns} --from-literal={}=...",
                    r.name, r.name, r.key
                ));
            }
            Err(e) => return Some(format!("{field}: cannot read Secret {ns}/{}: {e}", r.name)),
        }
    }
    None
}

fn available(d: Option<&Deployment>) -> (i32, i32) {
    let Some(d) = d else { return (0, 0) };
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let have = d.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0);
    (have, want)
}

async fn apply_binnacle(b: Arc<Binnacle>, ctx: &Ctx) -> Result<Action, Error> {
    let ns = b.namespace().unwrap_or_default();
    let name = b.name_any();
    let client = &ctx.client;
    let api: Api<Binnacle> = Api::namespaced(client.clone(), &ns);
    let reporting = Reporting { recorder: &ctx.recorder, owner: b.object_ref(&()), metrics: &ctx.options.metrics };
    let checked = crate::check_object_name("Binnacle", &name, "-config").and_then(|()| check(&b.spec));
    if let Err(message) = checked {
        tracing::warn!(binnacle = %format!("{ns}/{name}"), %message, "invalid Binnacle spec; nothing changed");
        if b.status
            .as_ref()
            .and_then(|s| s.conditions.first())
            .is_none_or(|c| c.reason != "InvalidSpec" || c.message != message)
        {
            reporting.warning("InvalidSpec", "Validate", message.clone()).await;
        }
        write_status(&api, &b, false, "InvalidSpec", message, None).await?;
        return Ok(Action::requeue(Duration::from_secs(300)));
    }
    let plan = install(&b, &ctx.options.image)?;
    ensure_cluster_role(client, READ_ROLE, read_rules(), &reporting).await?;
    ensure_cluster_role(client, WRITE_ROLE, write_rules(), &reporting).await?;
    apply::apply(&Api::<ServiceAccount>::namespaced(client.clone(), &ns), &plan.service_account, &reporting).await?;
    // roleRef is immutable: switching between read and write replaces the binding.
    let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
    let crb_name = binding_name(&ns, &name);
    if let Some(existing) = crbs.get_opt(&crb_name).await.map_err(|e| Error::kube("read the ClusterRoleBinding", e))?
        && existing.role_ref.name != plan.cluster_binding.role_ref.name
    {
        apply::delete(&crbs, &crb_name, &reporting).await?;
    }
    apply::apply(&crbs, &plan.cluster_binding, &reporting).await?;
    apply::apply(&Api::<ConfigMap>::namespaced(client.clone(), &ns), &plan.config, &reporting).await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    apply::apply(&deployments, &plan.engine, &reporting).await?;
    apply::apply(&services, &plan.engine_service, &reporting).await?;
    let mcp_name = format!("{name}-mcp");
    match &plan.mcp {
        Some((d, s)) => {
            apply::apply(&deployments, d, &reporting).await?;
            apply::apply(&services, s, &reporting).await?;
        }
        None => {
            apply::delete(&deployments, &mcp_name, &reporting).await?;
            apply::delete(&services, &mcp_name, &reporting).await?;
        }
    }
    let ingresses: Api<Ingress> = Api::namespaced(client.clone(), &ns);
    match &plan.ingress {
        Some(i) => {
            apply::apply(&ingresses, i, &reporting).await?;
        }
        None => {
            apply::delete(&ingresses, &name, &reporting).await?;
        }
    }
    let gateways: Api<Gateway> = Api::namespaced(client.clone(), &ns);
    match &plan.gateway {
        Some(g) => {
            apply::apply(&gateways, g, &reporting).await?;
        }
        None => {
            // Only a Gateway this Binnacle owns.
            if let Some(g) = gateways.get_opt(&name).await.map_err(|e| Error::kube("read the Gateway", e))?
                && g.owner_references().iter().any(|o| Some(&o.uid) == b.metadata.uid.as_ref())
            {
                apply::delete(&gateways, &name, &reporting).await?;
            }
        }
    }
    // Status: secrets first (pods cannot start without them), then availability.
    let version = Some(crate::binnacle::image_version(&plan.image));
    if let Some(problem) = secret_problem(client, &ns, &b.spec).await {
        write_status(&api, &b, false, "SecretMissing", problem, version).await?;
        return Ok(Action::requeue(Duration::from_secs(10)));
    }
    let engine = deployments.get_opt(&name).await.map_err(|e| Error::kube("read the engine Deployment", e))?;
    let (have, want) = available(engine.as_ref());
    let (mcp_have, mcp_want) = if plan.mcp.is_some() {
        available(deployments.get_opt(&mcp_name).await.map_err(|e| Error::kube("read the MCP Deployment", e))?.as_ref())
    } else {
        (0, 0)
    };
    let mut message = format!("engine {have}/{want} available");
    if plan.mcp.is_some() {
        message.push_str(&format!(", MCP server {mcp_have}/{mcp_want} available"));
    }
    let ready = have >= want && mcp_have >= mcp_want;
    let reason = if ready { "Available" } else { "Progressing" };
    write_status(&api, &b, ready, reason, message, version).await?;
    Ok(Action::requeue(Duration::from_secs(if ready { 300 } else { 10 })))
}

async fn cleanup_binnacle(b: Arc<Binnacle>, ctx: &Ctx) -> Result<Action, Error> {
    let ns = b.namespace().unwrap_or_default();
    let reporting = Reporting { recorder: &ctx.recorder, owner: b.object_ref(&()), metrics: &ctx.options.metrics };
    let crbs: Api<ClusterRoleBinding> = Api::all(ctx.client.clone());
    apply::delete(&crbs, &binding_name(&ns, &b.name_any()), &reporting).await?;
    Ok(Action::await_change())
}

async fn reconcile(b: Arc<Binnacle>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = b.namespace().unwrap_or_default();
    let api: Api<Binnacle> = Api::namespaced(ctx.client.clone(), &ns);
    if apply::add_finalizer(&api, b.as_ref(), FINALIZER).await? {
        return Ok(Action::await_change());
    }
    let result = finalizer(&api, FINALIZER, b, |event| async {
        match event {
            Finalizer::Apply(b) => apply_binnacle(b, &ctx).await,
            Finalizer::Cleanup(b) => cleanup_binnacle(b, &ctx).await,
        }
    })
    .await;
    crate::finalized(result)
}

fn error_policy(b: Arc<Binnacle>, error: &Error, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(binnacle = %format!("{}/{}", b.namespace().unwrap_or_default(), b.name_any()), error = %error, "reconciling the Binnacle failed; retrying");
    Action::requeue(Duration::from_secs(5))
}

/// Runs the Binnacle controller until the future is dropped (on losing the lease) or the watch ends.
pub async fn run(client: Client, options: OperatorOptions) {
    let recorder = Recorder::new(
        client.clone(),
        Reporter { controller: apply::MANAGER.into(), instance: Some(options.identity.clone()) },
    );
    let ns = options.namespace.clone();
    macro_rules! api {
        ($t:ty) => {
            match &ns {
                Some(ns) => Api::<$t>::namespaced(client.clone(), ns),
                None => Api::<$t>::all(client.clone()),
            }
        };
    }
    let owned = watcher::Config::default()
        .labels("app.kubernetes.io/managed-by=binnacle-operator,app.kubernetes.io/name=binnacle");
    let ctx = Arc::new(Ctx { client: client.clone(), options: options.clone(), recorder });
    let metrics = &options.metrics;
    Controller::new(api!(Binnacle), watcher::Config::default())
        .owns(api!(Deployment), owned.clone())
        .owns(api!(Service), owned.clone())
        .owns(api!(ConfigMap), owned.clone())
        .owns(api!(ServiceAccount), owned.clone())
        .owns(api!(Ingress), owned.clone())
        .owns(api!(Gateway), owned)
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            metrics.reconciled("binnacle", res.is_ok());
            match res {
                Ok((obj, _)) => tracing::debug!(binnacle = %obj, "reconciled"),
                Err(e) => tracing::debug!(error = %e, "controller event"),
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crd::{DatabaseSpec, LlmSpec, SecretKeyRef};

    #[test]
    fn names_must_make_service_names() {
        assert_eq!(crate::check_object_name("Binnacle", "bn", "-config"), Ok(()));
        let e = crate::check_object_name("Binnacle", "1bn", "-config").expect_err("invalid");
        assert!(e.contains("starts with a letter and is at most 56 characters"), "{e}");
        assert!(crate::check_object_name("Gateway", &"g".repeat(56), "-gateway").is_err());
        assert!(crate::check_object_name("Gateway", &"g".repeat(55), "-gateway").is_ok());
    }

    #[test]
    fn versions_of_images() {
        assert_eq!(image_version("ghcr.io/binnacle-dev/binnacle:0.1.0"), "0.1.0");
        assert_eq!(image_version("localhost:5000/binnacle"), "latest");
        assert_eq!(image_version("localhost:5000/binnacle:dev"), "dev");
        assert_eq!(image_version("binnacle@sha256:abc"), "sha256:abc");
    }

    #[test]
    fn invalid_specs_say_what_to_fix() {
        assert_eq!(check(&BinnacleSpec::default()), Ok(()));
        let e = check(&BinnacleSpec { replicas: Some(2), ..Default::default() }).expect_err("invalid");
        assert!(e.contains("replicas 2 needs a shared database"), "{e}");
        let db = DatabaseSpec { url_secret_ref: Some(SecretKeyRef { name: "db".into(), key: "url".into() }) };
        assert_eq!(
            check(&BinnacleSpec { replicas: Some(2), database: Some(db.clone()), ..Default::default() }),
            Ok(())
        );
        let e =
            check(&BinnacleSpec { replicas: Some(11), database: Some(db), ..Default::default() }).expect_err("invalid");
        assert!(e.contains("replicas 11 is out of range: use 1 to 10"), "{e}");
        let llm = LlmSpec { provider: LlmProvider::Anthropic, ..Default::default() };
        let e = check(&BinnacleSpec { llm: Some(llm), ..Default::default() }).expect_err("invalid");
        assert!(e.contains("llm.provider anthropic needs llm.model"), "{e}");
        let llm =
            LlmSpec { secret_ref: Some(SecretKeyRef { name: "k".into(), key: " ".into() }), ..Default::default() };
        let e = check(&BinnacleSpec { llm: Some(llm), ..Default::default() }).expect_err("invalid");
        assert!(e.contains("llm.secretRef needs both name and key"), "{e}");
    }

    #[test]
    fn the_read_role_reads_only_and_never_secrets() {
        for rule in read_rules().as_array().into_iter().flatten() {
            assert_eq!(rule["verbs"], json!(["get", "list", "watch"]), "{rule}");
            assert!(!rule["resources"].as_array().into_iter().flatten().any(|r| r == "secrets"), "{rule}");
        }
        assert!(write_rules().as_array().is_some_and(|w| w.len() > read_rules().as_array().map_or(0, Vec::len)));
    }
}
