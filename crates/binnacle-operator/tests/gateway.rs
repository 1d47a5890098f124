//! The Gateway controller against a simulated cluster, driven with the real kubectl (1.32): the CRD and
//! Gateways applied with kubectl; the operator creates and owns the data plane (asserted field by field,
//! security context included), a second reconcile changes nothing, a new mcpPort rolls the Deployment and
//! the Service, a namespace list swaps the ClusterRoleBinding for RoleBindings, an invalid Gateway gets
//! Ready=False without breaking the other, and deleting the Gateway removes everything.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../binnacle-sim/tests/kubectl/harness.rs"]
mod harness;

mod common;

use binnacle_gateway::config::GatewayConfig;
use binnacle_gateway::crd::Gateway;
use binnacle_operator::apply::{self, Change, Reporting};
use binnacle_operator::gateway::{FINALIZER, data_plane};
use common::{Replica, events, eventually, namespace, options};
use harness::Sim;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::runtime::events::{Recorder, Reporter};
use kube::{Api, Client, Resource};
use serde_json::{Value, json};

const MAIN: &str = "apiVersion: binnacle.dev/v1alpha1
kind: Gateway
metadata: {name: main, namespace: mcp}
spec:
  mcpPort: 9090
";

const BAD: &str = "apiVersion: binnacle.dev/v1alpha1
kind: Gateway
metadata: {name: bad, namespace: mcp}
spec:
  mcpPort: 70000
";

async fn ready(api: &Api<Gateway>, name: &str) -> Option<(String, String, Option<String>)> {
    let gw = api.get_opt(name).await.unwrap()?;
    let status = gw.status?;
    let c = status.conditions.iter().find(|c| c.type_ == "Ready")?;
    Some((c.status.clone(), c.reason.clone(), status.address))
}

fn v<T: serde::Serialize>(x: &T) -> Value {
    serde_json::to_value(x).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_data_plane_follows_the_gateway() {
    common::logs();
    let k = Sim::empty().await;
    let client = Client::new(k.sim.router(), "default");
    let crd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds/gateway.yaml");
    k.ok(&["apply", "-f", &crd.to_string_lossy()]).await;
    k.ok(&["wait", "--for=condition=Established", "crd/gateways.binnacle.dev", "--timeout=10s"]).await;
    for ns in ["binnacle-system", "mcp", "team-a"] {
        namespace(&client, ns).await;
    }
    let mut op = Replica::start(client.clone(), options("op-a"));
    op.wait_leading(true, 20).await;
    let path = k.file("main.yaml", MAIN);
    assert_eq!(k.ok(&["apply", "-f", &path]).await.trim(), "gateway.binnacle.dev/main created");

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "mcp");
    let services: Api<Service> = Api::namespaced(client.clone(), "mcp");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "mcp");
    let roles: Api<Role> = Api::namespaced(client.clone(), "mcp");
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), "mcp");
    let cluster_roles: Api<ClusterRole> = Api::all(client.clone());
    let cluster_bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    let gateways: Api<Gateway> = Api::namespaced(client.clone(), "mcp");

    let svc = eventually(30, "the gateway Service", async || services.get_opt("main-gateway").await.unwrap()).await;
    let deploy = deployments.get("main-gateway").await.unwrap();
    let gw = gateways.get("main").await.unwrap();
    let uid = gw.metadata.uid.clone().unwrap();
    assert!(gw.metadata.finalizers.clone().unwrap_or_default().contains(&FINALIZER.to_string()));

    // Owner references (controller=true) on every namespaced object.
    let sa = accounts.get("main-gateway").await.unwrap();
    let role = roles.get("main-gateway").await.unwrap();
    let binding = bindings.get("main-gateway").await.unwrap();
    for meta in [&deploy.metadata, &svc.metadata, &sa.metadata, &role.metadata, &binding.metadata] {
        let owners = meta.owner_references.clone().unwrap_or_default();
        assert_eq!(owners.len(), 1, "{meta:?}");
        assert_eq!((owners[0].kind.as_str(), owners[0].name.as_str()), ("Gateway", "main"));
        assert_eq!(owners[0].uid, uid);
        assert_eq!(owners[0].controller, Some(true));
        let labels = meta.labels.clone().unwrap_or_default();
        assert_eq!(labels.get("app.kubernetes.io/managed-by").map(String::as_str), Some("binnacle-operator"));
        assert!(!labels.contains_key("mcp-enabled"), "the gateway must not discover itself: {labels:?}");
    }
    let managers: Vec<String> = deploy
        .metadata
        .managed_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.operation.as_deref() == Some("Apply"))
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(managers, ["binnacle-operator"]);

    // The pod: binnacle gateway, restricted security, probes, resources.
    let d = v(&deploy);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "main-gateway");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "ghcr.io/binnacle-dev/binnacle:test");
    assert_eq!(
        c["args"],
        json!([
            "gateway",
            "--gateway",
            "mcp/main",
            "--listen",
            "0.0.0.0:9090",
            "--address",
            "http://main-gateway.mcp.svc:9090/mcp",
            "--status-writer",
            "none"
        ])
    );
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["ports"][0]["containerPort"], 9090);
    assert!(c["resources"]["limits"]["memory"].is_string(), "{c:#}");
    let s = v(&svc);
    assert_eq!(s["spec"]["ports"][0]["port"], 9090);
    assert_eq!(s["spec"]["selector"]["app.kubernetes.io/instance"], "main");

    // Least privilege: its own Gateway, its status, Events; discovery cluster-wide (no namespace list).
    let r = v(&role);
    assert_eq!(r["rules"][0]["resources"], json!(["gateways"]));
    assert_eq!(r["rules"][0]["resourceNames"], json!(["main"]));
    assert_eq!(r["rules"][1]["resources"], json!(["gateways/status"]));
    assert_eq!(r["rules"][2]["resources"], json!(["events"]));
    assert_eq!(r["rules"].as_array().unwrap().len(), 3, "no Secret access without a TLS/auth Secret: {r:#}");
    let cr = v(&cluster_roles.get("binnacle-gateway:mcp:main").await.unwrap());
    assert_eq!(cr["rules"][0]["resources"], json!(["services"]));
    assert_eq!(cr["rules"][0]["verbs"], json!(["get", "list", "watch"]));
    assert_eq!(cr["rules"][1]["resources"], json!(["endpointslices"]));
    assert_eq!(cr["rules"].as_array().unwrap().len(), 2, "no namespaces without a namespaceSelector");
    let crb = v(&cluster_bindings.get("binnacle-gateway:mcp:main").await.unwrap());
    assert_eq!(crb["subjects"], json!([{"kind": "ServiceAccount", "name": "main-gateway", "namespace": "mcp"}]));

    // Status from the operator's in-process registry.
    let (status, reason, address) =
        eventually(30, "Ready=True", async || ready(&gateways, "main").await.filter(|(s, _, _)| s == "True")).await;
    assert_eq!((status.as_str(), reason.as_str()), ("True", "NoServicesFound"));
    assert_eq!(address.as_deref(), Some("http://main-gateway.mcp.svc:9090/mcp"));
    let evs = events(&client, "mcp", "Gateway").await;
    for want in
        ["Created Deployment mcp/main-gateway", "Created Service mcp/main-gateway", "Created Role mcp/main-gateway"]
    {
        assert!(evs.iter().any(|e| e.0 == "Created" && e.1 == want), "no event {want:?}: {evs:?}");
    }
    assert!(evs.iter().all(|e| e.3 == "op-a"), "{evs:?}");

    // Idempotent: applying the same data plane again changes nothing.
    let recorder = Recorder::new(client.clone(), Reporter { controller: "test".into(), instance: None });
    let gw = gateways.get("main").await.unwrap();
    let config = GatewayConfig::from_spec(&gw.spec).unwrap();
    let plane = data_plane(&gw, &config, "ghcr.io/binnacle-dev/binnacle:test").unwrap();
    let metrics = binnacle_operator::metrics::Metrics::default();
    let reporting = Reporting { recorder: &recorder, owner: gw.object_ref(&()), metrics: &metrics };
    // (The simulated Deployment controller writes status meanwhile: compare the spec's generation.)
    let generation = deployments.get("main-gateway").await.unwrap().metadata.generation;
    assert_eq!(apply::apply(&deployments, &plane.deployment, &reporting).await.unwrap(), Change::Unchanged);
    assert_eq!(apply::apply(&services, &plane.service, &reporting).await.unwrap(), Change::Unchanged);
    assert_eq!(apply::apply(&roles, &plane.role, &reporting).await.unwrap(), Change::Unchanged);
    assert_eq!(apply::apply(&cluster_roles, &plane.discovery_role, &reporting).await.unwrap(), Change::Unchanged);
    assert_eq!(deployments.get("main-gateway").await.unwrap().metadata.generation, generation);

    // An invalid Gateway: Ready=False with the reason, no data plane, the other one untouched.
    let path = k.file("bad.yaml", BAD);
    k.ok(&["apply", "-f", &path]).await;
    let (status, reason, _) =
        eventually(30, "bad: Ready=False", async || ready(&gateways, "bad").await.filter(|(s, _, _)| s == "False"))
            .await;
    assert_eq!((status.as_str(), reason.as_str()), ("False", "InvalidPort"));
    assert!(deployments.get_opt("bad-gateway").await.unwrap().is_none());
    let wide = k.ok(&["get", "gateways", "-n", "mcp", "-o", "wide"]).await;
    assert!(
        harness::rows(&wide).iter().any(|r| r[0] == "bad" && r[1] == "False" && r.contains(&"InvalidPort".into())),
        "{wide}"
    );

    // A new port and a namespace list: the Deployment and Service roll, the ClusterRoleBinding gives way
    // to RoleBindings in the listed namespaces.
    k.ok(&[
        "patch",
        "gateway",
        "main",
        "-n",
        "mcp",
        "--type=merge",
        "-p",
        r#"{"spec":{"mcpPort":9191,"namespaces":["mcp","team-a","ghost"]}}"#,
    ])
    .await;
    let s = eventually(30, "the Service on 9191", async || {
        services.get("main-gateway").await.ok().filter(|s| v(s)["spec"]["ports"][0]["port"] == 9191)
    })
    .await;
    assert_eq!(v(&s)["spec"]["ports"][0]["targetPort"], "mcp");
    let d = v(&deployments.get("main-gateway").await.unwrap());
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["args"][4], "0.0.0.0:9191");
    assert_eq!(c["ports"][0]["containerPort"], 9191);
    eventually(30, "the ClusterRoleBinding is replaced", async || {
        cluster_bindings.get_opt("binnacle-gateway:mcp:main").await.unwrap().is_none().then_some(())
    })
    .await;
    let team: Api<RoleBinding> = Api::namespaced(client.clone(), "team-a");
    let tb = team.get("binnacle-gateway:mcp:main").await.unwrap();
    assert!(tb.metadata.owner_references.is_none(), "no cross-namespace owner references");
    assert!(bindings.get_opt("binnacle-gateway:mcp:main").await.unwrap().is_some());
    eventually(30, "status.address on 9191", async || {
        ready(&gateways, "main").await.filter(|(_, _, a)| a.as_deref() == Some("http://main-gateway.mcp.svc:9191/mcp"))
    })
    .await;
    // A listed namespace that does not exist is reported; the rest was applied.
    let evs = eventually(30, "a NamespaceNotFound Event", async || {
        let evs = events(&client, "mcp", "Gateway").await;
        evs.iter().any(|e| e.0 == "NamespaceNotFound" && e.1.starts_with("namespaces ghost listed")).then_some(evs)
    })
    .await;
    for want in [
        "Updated Deployment mcp/main-gateway",
        "Updated Service mcp/main-gateway",
        "Deleted ClusterRoleBinding binnacle-gateway:mcp:main",
    ] {
        assert!(evs.iter().any(|e| e.1 == want), "no event {want:?}: {evs:?}");
    }

    // Delete: everything goes (owner references and the finalizer).
    k.ok(&["delete", "gateway", "main", "-n", "mcp", "--timeout=30s"]).await;
    eventually(30, "the data plane is gone", async || {
        let gone = deployments.get_opt("main-gateway").await.unwrap().is_none()
            && services.get_opt("main-gateway").await.unwrap().is_none()
            && accounts.get_opt("main-gateway").await.unwrap().is_none()
            && roles.get_opt("main-gateway").await.unwrap().is_none()
            && bindings.get_opt("main-gateway").await.unwrap().is_none()
            && bindings.get_opt("binnacle-gateway:mcp:main").await.unwrap().is_none()
            && team.get_opt("binnacle-gateway:mcp:main").await.unwrap().is_none()
            && cluster_roles.get_opt("binnacle-gateway:mcp:main").await.unwrap().is_none();
        gone.then_some(())
    })
    .await;
    assert!(gateways.get_opt("main").await.unwrap().is_none());
    // The invalid one is still there and still says why.
    assert_eq!(ready(&gateways, "bad").await.unwrap().1, "InvalidPort");
    op.stop().await;
}
