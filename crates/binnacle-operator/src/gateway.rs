//! The Gateway controller: for each `Gateway` it creates and owns the data plane (ServiceAccount, Role +
//! RoleBinding, a discovery ClusterRole with its bindings, Deployment, Service), and runs the gateway's
//! discovery and registry in process so that the Gateway's status and Events have exactly one writer: the
//! leading operator. The gateway pods run with `--status-writer none`.

use crate::apply::{self, Reporting};
use crate::{Error, OperatorOptions};
use binnacle_gateway::config::GatewayConfig;
use binnacle_gateway::crd::{DEFAULT_MCP_PORT, Gateway};
use binnacle_gateway::{GatewayOptions, UpstreamOptions};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::{Controller, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The finalizer that removes what owner references cannot (cluster-scoped RBAC, bindings in other
/// namespaces) and stops the in-process registry.
pub const FINALIZER: &str = "binnacle.dev/gateway-cleanup";
/// Label naming the Gateway's namespace on what the operator creates for it.
pub const LABEL_GATEWAY_NAMESPACE: &str = "binnacle.dev/gateway-namespace";
/// Label naming the Gateway on what the operator creates for it.
pub const LABEL_GATEWAY_NAME: &str = "binnacle.dev/gateway-name";
/// Label on the gateway's own Service: never an MCP server to discover.
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";

/// The name of the Deployment, Service, ServiceAccount, Role and RoleBinding of Gateway `name`.
pub fn data_plane_name(name: &str) -> String {
    format!("{name}-gateway")
}

/// The name of the discovery ClusterRole (and ClusterRoleBinding) of Gateway `namespace/name`.
pub fn discovery_role_name(namespace: &str, name: &str) -> String {
    format!("binnacle-gateway:{namespace}:{name}")
}

/// The MCP address the operator writes to the status: the gateway Service's cluster DNS name.
pub fn address(namespace: &str, name: &str, port: u16) -> String {
    format!("http://{}.{namespace}.svc:{port}/mcp", data_plane_name(name))
}

/// A Gateway's in-process registry (the status writer).
struct Runner {
    address: String,
    gateway: binnacle_gateway::Gateway,
}

/// Shared state of the Gateway controller.
pub struct Ctx {
    client: Client,
    options: OperatorOptions,
    recorder: Recorder,
    runners: Mutex<HashMap<(String, String), Runner>>,
}

impl Ctx {
    /// Runs the in-process registry of `ns/name` with `address`; a running one with another address is
    /// shut down first (awaited, so its last status write cannot land after the new one's).
    async fn start_runner(&self, ns: &str, name: &str, address: String) {
        let key = (ns.to_string(), name.to_string());
        let old = {
            let mut runners = self.runners.lock().unwrap_or_else(|e| e.into_inner());
            if runners.get(&key).is_some_and(|r| r.address == address) {
                return;
            }
            runners.remove(&key)
        };
        if let Some(old) = old {
            old.gateway.shutdown().await;
        }
        tracing::info!(gateway = %format!("{ns}/{name}"), %address, "running the gateway's registry and status");
        let options = GatewayOptions {
            upstream: self.options.upstream.clone(),
            address: Some(address.clone()),
            instance: Some(self.options.identity.clone()),
            write_status: true,
            ..GatewayOptions::default()
        };
        let gateway = binnacle_gateway::Gateway::start(self.client.clone(), ns, name, options);
        let mut runners = self.runners.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = runners.insert(key, Runner { address, gateway }) {
            old.gateway.stop();
        }
    }

    async fn stop_runner(&self, ns: &str, name: &str) {
        let old = self.runners.lock().unwrap_or_else(|e| e.into_inner()).remove(&(ns.to_string(), name.to_string()));
        if let Some(r) = old {
            r.gateway.shutdown().await;
        }
    }
    /// Stops every in-process registry (on losing the lease).
    fn stop_all(&self) {
        let mut runners = self.runners.lock().unwrap_or_else(|e| e.into_inner());
        for (_, r) in runners.drain() {
            r.gateway.stop();
        }
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn labels(name: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "binnacle-gateway",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": apply::MANAGER,
        LABEL_COMPONENT: "mcp-gateway",
    })
}

fn cluster_labels(ns: &str, name: &str) -> Value {
    let mut l = labels(name);
    l[LABEL_GATEWAY_NAMESPACE] = json!(ns);
    l[LABEL_GATEWAY_NAME] = json!(name);
    l
}

fn owner(gw: &Gateway) -> Value {
    json!([{
        "apiVersion": Gateway::api_version(&()),
        "kind": Gateway::kind(&()),
        "name": gw.name_any(),
        "uid": gw.metadata.uid.clone().unwrap_or_default(),
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

fn typed<K: serde::de::DeserializeOwned>(v: Value) -> Result<K, Error> {
    serde_json::from_value(v).map_err(|e| Error::Build(e.to_string()))
}

/// Everything the operator creates for one Gateway.
pub struct DataPlane {
    /// The pods' identity.
    pub service_account: ServiceAccount,
    /// Rights in the Gateway's namespace: its own Gateway, its Secrets, Events.
    pub role: Role,
    /// Binds `role` to the ServiceAccount.
    pub role_binding: RoleBinding,
    /// Discovery rights (Services, EndpointSlices, and Namespaces with a namespaceSelector).
    pub discovery_role: ClusterRole,
    /// Cluster-wide binding of `discovery_role` (no `namespaces` list, or a namespaceSelector).
    pub discovery_cluster_binding: Option<ClusterRoleBinding>,
    /// Per-namespace bindings of `discovery_role` (with a `namespaces` list).
    pub discovery_bindings: Vec<RoleBinding>,
    /// Runs `binnacle gateway`.
    pub deployment: Deployment,
    /// Exposes it on `mcpPort`.
    pub service: Service,
}

/// Builds the data plane of a valid Gateway.
pub fn data_plane(gw: &Gateway, config: &GatewayConfig, image: &str) -> Result<DataPlane, Error> {
    let ns = gw.namespace().unwrap_or_default();
    let name = gw.name_any();
    let dp = data_plane_name(&name);
    let port = config.mcp_port;
    let owners = owner(gw);
    let meta = |n: &str| json!({"name": n, "namespace": ns, "labels": labels(&name), "ownerReferences": owners});
    let service_account = typed(json!({
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(&dp),
        "automountServiceAccountToken": true,
    }))?;
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    if let Some(s) = &config.tls_secret {
        secrets.insert(s.clone());
    }
    if let Some(s) = gw.spec.auth.as_ref().and_then(|a| a.secret_ref.as_ref()) {
        secrets.insert(s.name.clone());
    }
    let mut rules = vec![
        json!({"apiGroups": ["binnacle.dev"], "resources": ["gateways"], "resourceNames": [name], "verbs": ["get", "list", "watch"]}),
        json!({"apiGroups": ["binnacle.dev"], "resources": ["gateways/status"], "resourceNames": [name], "verbs": ["get", "patch"]}),
        json!({"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]}),
    ];
    if !secrets.is_empty() {
        rules.push(json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": secrets, "verbs": ["get"]}));
    }
    let role = typed(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(&dp), "rules": rules}),
    )?;
    let subject = json!([{"kind": "ServiceAccount", "name": dp, "namespace": ns}]);
    let role_binding = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(&dp),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": dp},
        "subjects": subject,
    }))?;
    let discovery = discovery_role_name(&ns, &name);
    let mut discovery_rules = vec![
        json!({"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]}),
        json!({"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]}),
    ];
    if config.namespace_selector.is_some() {
        discovery_rules
            .push(json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}));
    }
    let discovery_role = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": discovery, "labels": cluster_labels(&ns, &name)},
        "rules": discovery_rules,
    }))?;
    let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": discovery});
    let (discovery_cluster_binding, discovery_bindings) = match &config.namespaces {
        Some(list) if config.namespace_selector.is_none() => {
            let mut bindings = Vec::new();
            for target in list {
                let mut m = json!({"name": discovery, "namespace": target, "labels": cluster_labels(&ns, &name)});
                if *target == ns {
                    m["ownerReferences"] = owners.clone();
                }
                bindings.push(typed(json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": m,
                    "roleRef": role_ref, "subjects": subject,
                }))?);
            }
            (None, bindings)
        }
        _ => {
            let binding = typed(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": discovery, "labels": cluster_labels(&ns, &name)},
                "roleRef": role_ref, "subjects": subject,
            }))?;
            (Some(binding), Vec::new())
        }
    };
    let selector = json!({"app.kubernetes.io/name": "binnacle-gateway", "app.kubernetes.io/instance": name});
    let deployment = typed(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(&dp),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels(&name)},
                "spec": {
                    "serviceAccountName": dp,
                    "securityContext": {
                        "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [{
                        "name": "gateway",
                        "image": image,
                        "args": [
                            "gateway", "--gateway", format!("{ns}/{name}"),
                            "--listen", format!("0.0.0.0:{port}"),
                            "--address", address(&ns, &name, port),
                            "--status-writer", "none",
                        ],
                        "env": [
                            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        ],
                        "ports": [{"name": "mcp", "containerPort": port, "protocol": "TCP"}],
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "mcp"}, "periodSeconds": 5},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "mcp"}, "periodSeconds": 10, "failureThreshold": 3},
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"cpu": "1", "memory": "256Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }],
                },
            },
        },
    }))?;
    let service = typed(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": meta(&dp),
        "spec": {
            "selector": selector,
            "ports": [{"name": "mcp", "port": port, "targetPort": "mcp", "protocol": "TCP"}],
        },
    }))?;
    Ok(DataPlane {
        service_account,
        role,
        role_binding,
        discovery_role,
        discovery_cluster_binding,
        discovery_bindings,
        deployment,
        service,
    })
}

fn selector_of(ns: &str, name: &str) -> String {
    format!("{LABEL_GATEWAY_NAMESPACE}={ns},{LABEL_GATEWAY_NAME}={name}")
}

async fn apply_gateway(gw: Arc<Gateway>, ctx: &Ctx) -> Result<Action, Error> {
    let ns = gw.namespace().unwrap_or_default();
    let name = gw.name_any();
    let reporting = Reporting { recorder: &ctx.recorder, owner: gw.object_ref(&()), metrics: &ctx.options.metrics };
    let config = match GatewayConfig::from_spec(&gw.spec) {
        Ok(c) => c,
        Err(problem) => {
            // The in-process registry writes Ready=False with the reason; the data plane keeps its last valid
            // shape (or is not created) until the spec is fixed.
            let port = gw.spec.mcp_port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0);
            ctx.start_runner(&ns, &name, address(&ns, &name, port.unwrap_or(DEFAULT_MCP_PORT as u16))).await;
            tracing::warn!(gateway = %format!("{ns}/{name}"), reason = problem.reason, message = %problem.message, "invalid Gateway spec; the data plane is left as it is");
            return Ok(Action::requeue(Duration::from_secs(300)));
        }
    };
    ctx.start_runner(&ns, &name, address(&ns, &name, config.mcp_port)).await;
    if let Err(message) = crate::check_object_name("Gateway", &name, "-gateway") {
        tracing::warn!(gateway = %format!("{ns}/{name}"), %message, "no data plane for this Gateway");
        reporting.warning("InvalidName", "Validate", message).await;
        return Ok(Action::requeue(Duration::from_secs(300)));
    }
    let plane = data_plane(&gw, &config, &ctx.options.image)?;
    let client = &ctx.client;
    apply::apply(&Api::<ServiceAccount>::namespaced(client.clone(), &ns), &plane.service_account, &reporting).await?;
    apply::apply(&Api::<Role>::namespaced(client.clone(), &ns), &plane.role, &reporting).await?;
    apply::apply(&Api::<RoleBinding>::namespaced(client.clone(), &ns), &plane.role_binding, &reporting).await?;
    apply::apply(&Api::<ClusterRole>::all(client.clone()), &plane.discovery_role, &reporting).await?;
    let discovery = discovery_role_name(&ns, &name);
    let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
    match &plane.discovery_cluster_binding {
        Some(b) => {
            apply::apply(&crbs, b, &reporting).await?;
        }
        None => {
            apply::delete(&crbs, &discovery, &reporting).await?;
        }
    }
    let wanted: BTreeSet<String> = plane.discovery_bindings.iter().filter_map(|b| b.namespace()).collect();
    let mut missing = Vec::new();
    for b in &plane.discovery_bindings {
        let target = b.namespace().unwrap_or_default();
        match apply::apply(&Api::<RoleBinding>::namespaced(client.clone(), &target), b, &reporting).await {
            Ok(_) => {}
            // A listed namespace that does not exist (yet): the rest is applied; retried every 30 s.
            Err(Error::Kube { source: kube::Error::Api(e), .. }) if e.code == 404 => missing.push(target),
            Err(e) => return Err(e),
        }
    }
    if !missing.is_empty() {
        let note = format!(
            "namespaces {} listed in spec.namespaces do not exist: nothing is discovered there until they are \
             created (or remove them from the list)",
            missing.join(", ")
        );
        tracing::warn!(gateway = %format!("{ns}/{name}"), %note);
        reporting.warning("NamespaceNotFound", "Bind", note).await;
    }
    // Bindings in namespaces no longer listed.
    let all: Api<RoleBinding> = Api::all(client.clone());
    let existing = all
        .list(&ListParams::default().labels(&selector_of(&ns, &name)))
        .await
        .map_err(|e| Error::kube("list the discovery RoleBindings", e))?;
    for b in existing.items {
        let target = b.namespace().unwrap_or_default();
        if b.name_any() == discovery && !wanted.contains(&target) {
            apply::delete(&Api::<RoleBinding>::namespaced(client.clone(), &target), &discovery, &reporting).await?;
        }
    }
    apply::apply(&Api::<Deployment>::namespaced(client.clone(), &ns), &plane.deployment, &reporting).await?;
    apply::apply(&Api::<Service>::namespaced(client.clone(), &ns), &plane.service, &reporting).await?;
    Ok(Action::requeue(Duration::from_secs(if missing.is_empty() { 300 } else { 30 })))
}

async fn cleanup_gateway(gw: Arc<Gateway>, ctx: &Ctx) -> Result<Action, Error> {
    let ns = gw.namespace().unwrap_or_default();
    let name = gw.name_any();
    ctx.stop_runner(&ns, &name).await;
    let reporting = Reporting { recorder: &ctx.recorder, owner: gw.object_ref(&()), metrics: &ctx.options.metrics };
    let discovery = discovery_role_name(&ns, &name);
    let client = &ctx.client;
    apply::delete(&Api::<ClusterRoleBinding>::all(client.clone()), &discovery, &reporting).await?;
    apply::delete(&Api::<ClusterRole>::all(client.clone()), &discovery, &reporting).await?;
    let all: Api<RoleBinding> = Api::all(client.clone());
    let existing = all
        .list(&ListParams::default().labels(&selector_of(&ns, &name)))
        .await
        .map_err(|e| Error::kube("list the discovery RoleBindings", e))?;
    for b in existing.items {
        let target = b.namespace().unwrap_or_default();
        apply::delete(&Api::<RoleBinding>::namespaced(client.clone(), &target), &b.name_any(), &reporting).await?;
    }
    tracing::info!(gateway = %format!("{ns}/{name}"), "cleaned up; owner references remove the rest");
    Ok(Action::await_change())
}

async fn reconcile(gw: Arc<Gateway>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = gw.namespace().unwrap_or_default();
    let api: Api<Gateway> = Api::namespaced(ctx.client.clone(), &ns);
    if crate::apply::add_finalizer(&api, gw.as_ref(), FINALIZER).await? {
        return Ok(Action::await_change());
    }
    let result = finalizer(&api, FINALIZER, gw, |event| async {
        match event {
            Finalizer::Apply(gw) => apply_gateway(gw, &ctx).await,
            Finalizer::Cleanup(gw) => cleanup_gateway(gw, &ctx).await,
        }
    })
    .await;
    crate::finalized(result)
}

fn error_policy(gw: Arc<Gateway>, error: &Error, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(gateway = %format!("{}/{}", gw.namespace().unwrap_or_default(), gw.name_any()), error = %error, "reconciling the Gateway failed; retrying");
    Action::requeue(Duration::from_secs(5))
}

/// Runs the Gateway controller until the future is dropped (on losing the lease) or the watch ends.
pub async fn run(client: Client, options: OperatorOptions) {
    let recorder = Recorder::new(
        client.clone(),
        Reporter { controller: apply::MANAGER.into(), instance: Some(options.identity.clone()) },
    );
    let scoped = |c: &Client| -> (Api<Gateway>, Option<String>) {
        match &options.namespace {
            Some(ns) => (Api::namespaced(c.clone(), ns), Some(ns.clone())),
            None => (Api::all(c.clone()), None),
        }
    };
    let (gateways, ns) = scoped(&client);
    let owned_cfg = watcher::Config::default()
        .labels("app.kubernetes.io/managed-by=binnacle-operator,app.kubernetes.io/name=binnacle-gateway");
    macro_rules! api {
        ($t:ty) => {
            match &ns {
                Some(ns) => Api::<$t>::namespaced(client.clone(), ns),
                None => Api::<$t>::all(client.clone()),
            }
        };
    }
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        options: options.clone(),
        recorder,
        runners: Mutex::new(HashMap::new()),
    });
    let metrics = &options.metrics;
    Controller::new(gateways, watcher::Config::default())
        .owns(api!(Deployment), owned_cfg.clone())
        .owns(api!(Service), owned_cfg.clone())
        .owns(api!(ServiceAccount), owned_cfg.clone())
        .owns(api!(Role), owned_cfg.clone())
        .owns(api!(RoleBinding), owned_cfg)
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|res| async move {
            metrics.reconciled("gateway", res.is_ok());
            match res {
                Ok((obj, _)) => tracing::debug!(gateway = %obj, "reconciled"),
                Err(e) => tracing::debug!(error = %e, "controller event"),
            }
        })
        .await;
    ctx.stop_all();
}

/// The default upstream options of the in-process registry.
pub fn default_upstream() -> UpstreamOptions {
    UpstreamOptions::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use binnacle_gateway::crd::{GatewaySpec, SecretRef};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn gateway(spec: GatewaySpec) -> Gateway {
        let mut gw = Gateway::new("main", spec);
        gw.metadata.namespace = Some("mcp".into());
        gw.metadata.uid = Some("uid-1".into());
        gw
    }

    fn rules(plane: &DataPlane) -> (Value, Value) {
        (
            serde_json::to_value(&plane.role).unwrap_or_default()["rules"].clone(),
            serde_json::to_value(&plane.discovery_role).unwrap_or_default()["rules"].clone(),
        )
    }

    #[test]
    fn secrets_only_by_name_and_namespaces_only_with_a_selector() {
        let spec = GatewaySpec {
            enable_tls: true,
            tls_secret_ref: Some(SecretRef { name: "gw-tls".into() }),
            namespace_selector: Some(LabelSelector::default()),
            ..Default::default()
        };
        let gw = gateway(spec);
        let config = GatewayConfig::from_spec(&gw.spec).expect("valid");
        let plane = data_plane(&gw, &config, "img").expect("built");
        let (role, discovery) = rules(&plane);
        let secrets: Vec<&Value> =
            role.as_array().into_iter().flatten().filter(|r| r["resources"] == json!(["secrets"])).collect();
        assert_eq!(secrets.len(), 1, "{role}");
        assert_eq!(secrets[0]["resourceNames"], json!(["gw-tls"]));
        assert_eq!(secrets[0]["verbs"], json!(["get"]));
        assert!(
            discovery.as_array().into_iter().flatten().any(|r| r["resources"] == json!(["namespaces"])),
            "{discovery}"
        );
        // A namespaceSelector needs the cluster-wide binding (Namespaces are cluster-scoped).
        assert!(plane.discovery_cluster_binding.is_some());
        assert!(plane.discovery_bindings.is_empty());

        let gw = gateway(GatewaySpec { namespaces: vec!["a".into(), "mcp".into()], ..Default::default() });
        let config = GatewayConfig::from_spec(&gw.spec).expect("valid");
        let plane = data_plane(&gw, &config, "img").expect("built");
        let (role, discovery) = rules(&plane);
        assert!(!role.to_string().contains("secrets"), "{role}");
        assert!(!discovery.to_string().contains("namespaces"), "{discovery}");
        assert!(plane.discovery_cluster_binding.is_none());
        let targets: Vec<Option<String>> =
            plane.discovery_bindings.iter().map(|b| b.metadata.namespace.clone()).collect();
        assert_eq!(targets, [Some("a".to_string()), Some("mcp".to_string())]);
        // Owner references only where the owner lives.
        assert!(plane.discovery_bindings[0].metadata.owner_references.is_none());
        assert!(plane.discovery_bindings[1].metadata.owner_references.is_some());
    }
}
