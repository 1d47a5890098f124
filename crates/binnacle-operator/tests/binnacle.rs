//! The Binnacle controller against a simulated cluster, driven with the real kubectl (1.32): a `Binnacle`
//! applied with kubectl gets every owned object with the right RBAC (ClusterRoleBinding to `binnacle-read`),
//! its status says Ready with the version and URL; a spec change rolls the Deployments and swaps the
//! binding to `binnacle-write`; an invalid spec gets Ready=False InvalidSpec and changes nothing; deleting
//! the resource removes everything, the cluster-scoped binding and the owned Gateway's data plane included.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../binnacle-sim/tests/kubectl/harness.rs"]
mod harness;

mod common;

use binnacle_gateway::crd::Gateway;
use binnacle_operator::binnacle::crd::Binnacle;
use binnacle_operator::binnacle::{CONFIG_HASH, FINALIZER};
use common::{Replica, events, eventually, namespace, options};
use harness::Sim;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::{Api, Client};
use serde_json::{Value, json};

const BN: &str = "apiVersion: binnacle.dev/v1alpha1
kind: Binnacle
metadata: {name: bn, namespace: team}
spec:
  image: ghcr.io/binnacle-dev/binnacle:0.1.0
  replicas: 2
  database: {urlSecretRef: {name: db, key: url}}
  llm: {provider: openai, secretRef: {name: llm, key: apiKey}, model: gpt-4o-mini}
  ingress: {host: binnacle.example.com, className: nginx, tlsSecretName: bn-tls}
  gateway: {enabled: true}
";

const SOLO: &str = "apiVersion: binnacle.dev/v1alpha1
kind: Binnacle
metadata: {name: solo, namespace: team}
spec:
  replicas: 3
";

fn v<T: serde::Serialize>(x: &T) -> Value {
    serde_json::to_value(x).unwrap()
}

async fn ready(api: &Api<Binnacle>, name: &str) -> Option<(String, String, String)> {
    let b = api.get_opt(name).await.unwrap()?;
    let c = b.status?.conditions.into_iter().find(|c| c.type_ == "Ready")?;
    Some((c.status, c.reason, c.message))
}

fn hash(d: &Deployment) -> String {
    v(d)["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binnacle_installs_rolls_and_cleans_up() {
    common::logs();
    let k = Sim::empty().await;
    let client = Client::new(k.sim.router(), "default");
    let crds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds");
    k.ok(&["apply", "-f", &crds.to_string_lossy()]).await;
    for crd in ["crd/gateways.binnacle.dev", "crd/binnacles.binnacle.dev"] {
        k.ok(&["wait", "--for=condition=Established", crd, "--timeout=10s"]).await;
    }
    for ns in ["binnacle-system", "team"] {
        namespace(&client, ns).await;
    }
    k.ok(&["create", "secret", "generic", "db", "-n", "team", "--from-literal=url=postgres://b@db/b"]).await;
    k.ok(&["create", "secret", "generic", "llm", "-n", "team", "--from-literal=apiKey=sk-test"]).await;
    let mut op = Replica::start(client.clone(), options("op-a"));
    op.wait_leading(true, 20).await;
    let path = k.file("bn.yaml", BN);
    assert_eq!(k.ok(&["apply", "-f", &path]).await.trim(), "binnacle.binnacle.dev/bn created");

    let binnacles: Api<Binnacle> = Api::namespaced(client.clone(), "team");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "team");
    let services: Api<Service> = Api::namespaced(client.clone(), "team");
    let configs: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "team");
    let ingresses: Api<Ingress> = Api::namespaced(client.clone(), "team");
    let gateways: Api<Gateway> = Api::namespaced(client.clone(), "team");
    let cluster_roles: Api<ClusterRole> = Api::all(client.clone());
    let cluster_bindings: Api<ClusterRoleBinding> = Api::all(client.clone());

    // Ready once both Deployments are available in the simulated cluster.
    let (_, reason, message) =
        eventually(60, "bn Ready=True", async || ready(&binnacles, "bn").await.filter(|(s, _, _)| s == "True")).await;
    assert_eq!(reason, "Available");
    assert_eq!(message, "engine 2/2 available, MCP server 1/1 available");
    let b = binnacles.get("bn").await.unwrap();
    assert!(b.metadata.finalizers.clone().unwrap_or_default().contains(&FINALIZER.to_string()));
    let status = b.status.unwrap();
    assert_eq!(status.observed_version.as_deref(), Some("0.1.0"));
    assert_eq!(status.url.as_deref(), Some("https://binnacle.example.com/"));
    assert_eq!(status.observed_generation, b.metadata.generation);
    let uid = b.metadata.uid.clone().unwrap();

    // The engine.
    let engine = deployments.get("bn").await.unwrap();
    let d = v(&engine);
    assert_eq!(d["spec"]["replicas"], 2);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "bn");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "ghcr.io/binnacle-dev/binnacle:0.1.0");
    assert_eq!(c["args"], json!(["serve"]));
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(c["envFrom"][0]["configMapRef"]["name"], "bn-config");
    let env = c["env"].as_array().unwrap();
    let var = |n: &str| env.iter().find(|e| e["name"] == n).cloned().unwrap_or(Value::Null);
    assert_eq!(var("BINNACLE_DATABASE_URL")["valueFrom"]["secretKeyRef"], json!({"name": "db", "key": "url"}));
    assert_eq!(var("BINNACLE_LLM_API_KEY")["valueFrom"]["secretKeyRef"], json!({"name": "llm", "key": "apiKey"}));
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert!(!hash(&engine).is_empty());
    let cm = v(&configs.get("bn-config").await.unwrap());
    assert_eq!(cm["data"]["BINNACLE_LLM_PROVIDER"], "openai");
    assert_eq!(cm["data"]["BINNACLE_LLM_MODEL"], "gpt-4o-mini");
    assert_eq!(cm["data"]["BINNACLE_LISTEN"], "0.0.0.0:8080");
    assert_eq!(v(&services.get("bn").await.unwrap())["spec"]["ports"][0]["port"], 80);

    // The MCP server, read-only, discoverable by a Gateway.
    let mcp = v(&deployments.get("bn-mcp").await.unwrap());
    let args = &mcp["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(*args, json!(["mcp", "--transport", "http", "--listen", "0.0.0.0:8090", "--read-only"]));
    let mcp_svc = v(&services.get("bn-mcp").await.unwrap());
    assert_eq!(mcp_svc["metadata"]["labels"]["mcp-enabled"], "true");
    assert_eq!(mcp_svc["metadata"]["annotations"]["binnacle.dev/mcp-type"], "tool");

    // Ingress and the owned Gateway (whose own data plane the Gateway controller creates).
    let ing = v(&ingresses.get("bn").await.unwrap());
    assert_eq!(ing["spec"]["ingressClassName"], "nginx");
    assert_eq!(ing["spec"]["rules"][0]["host"], "binnacle.example.com");
    assert_eq!(ing["spec"]["tls"][0]["secretName"], "bn-tls");
    let gw = gateways.get("bn").await.unwrap();
    assert_eq!(gw.metadata.owner_references.clone().unwrap()[0].uid, uid);
    eventually(30, "the Gateway's data plane", async || deployments.get_opt("bn-gateway").await.unwrap()).await;

    // Owner references on every namespaced object.
    for meta in [
        v(&engine)["metadata"].clone(),
        mcp["metadata"].clone(),
        mcp_svc["metadata"].clone(),
        cm["metadata"].clone(),
        ing["metadata"].clone(),
        v(&accounts.get("bn").await.unwrap())["metadata"].clone(),
    ] {
        assert_eq!(meta["ownerReferences"][0]["uid"], uid.as_str(), "{meta:#}");
        assert_eq!(meta["ownerReferences"][0]["controller"], true);
    }

    // RBAC: the read-only ClusterRole by default; no Secrets in it.
    let crb = cluster_bindings.get("binnacle:team:bn").await.unwrap();
    assert_eq!(crb.role_ref.name, "binnacle-read");
    assert_eq!(v(&crb)["subjects"], json!([{"kind": "ServiceAccount", "name": "bn", "namespace": "team"}]));
    let read = v(&cluster_roles.get("binnacle-read").await.unwrap());
    let rules = read["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| !r["resources"].as_array().unwrap().contains(&json!("secrets"))), "{read:#}");
    assert!(rules.iter().all(|r| r["verbs"] == json!(["get", "list", "watch"])), "{read:#}");
    let write = v(&cluster_roles.get("binnacle-write").await.unwrap());
    assert!(
        write["rules"].as_array().unwrap().iter().any(|r| r["verbs"].as_array().unwrap().contains(&json!("delete")))
    );

    let evs = events(&client, "team", "Binnacle").await;
    for want in
        ["Created Deployment team/bn", "Created Deployment team/bn-mcp", "Created ClusterRoleBinding binnacle:team:bn"]
    {
        assert!(evs.iter().any(|e| e.1 == want), "no event {want:?}: {evs:?}");
    }
    // (`kubectl get binnacle` is the category of both kinds: plural or short name for this one.)
    let rows = harness::rows(&k.ok(&["get", "binnacles", "-n", "team"]).await);
    assert_eq!(rows[0], ["NAME", "READY", "VERSION", "URL", "AGE"]);
    assert_eq!(rows[1][..4], ["bn", "True", "0.1.0", "https://binnacle.example.com/"], "{rows:?}");

    // An invalid one: replicas 3 on SQLite.
    let path = k.file("solo.yaml", SOLO);
    k.ok(&["apply", "-f", &path]).await;
    let (_, reason, message) =
        eventually(30, "solo Ready=False", async || ready(&binnacles, "solo").await.filter(|(s, _, _)| s == "False"))
            .await;
    assert_eq!(reason, "InvalidSpec");
    assert!(message.contains("replicas 3 needs a shared database"), "{message}");
    assert!(deployments.get_opt("solo").await.unwrap().is_none());

    // A spec change rolls the Deployments and swaps the binding.
    let before = hash(&engine);
    k.ok(&[
        "patch",
        "binnacles",
        "bn",
        "-n",
        "team",
        "--type=merge",
        "-p",
        r#"{"spec":{"tools":"readWrite","llm":{"model":"gpt-4.1"}}}"#,
    ])
    .await;
    let engine =
        eventually(30, "the engine rolls", async || deployments.get("bn").await.ok().filter(|d| hash(d) != before))
            .await;
    let mcp = eventually(30, "the MCP server rolls", async || {
        deployments.get("bn-mcp").await.ok().filter(|d| hash(d) == hash(&engine))
    })
    .await;
    assert!(
        !v(&mcp)["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--read-only"))
    );
    assert_eq!(v(&configs.get("bn-config").await.unwrap())["data"]["BINNACLE_LLM_MODEL"], "gpt-4.1");
    eventually(30, "the binding to binnacle-write", async || {
        cluster_bindings.get_opt("binnacle:team:bn").await.unwrap().filter(|b| b.role_ref.name == "binnacle-write")
    })
    .await;
    let rs: Api<ReplicaSet> = Api::namespaced(client.clone(), "team");
    eventually(30, "a new ReplicaSet for the engine", async || {
        let list = rs.list(&Default::default()).await.unwrap();
        let owned = list
            .items
            .iter()
            .filter(|r| r.metadata.owner_references.iter().flatten().any(|o| o.kind == "Deployment" && o.name == "bn"))
            .count();
        (owned >= 2).then_some(())
    })
    .await;

    // Delete: everything goes, the cluster-scoped binding and the Gateway's data plane included.
    k.ok(&["delete", "bnc", "bn", "-n", "team", "--timeout=30s"]).await;
    eventually(60, "everything is gone", async || {
        let gone = deployments.get_opt("bn").await.unwrap().is_none()
            && deployments.get_opt("bn-mcp").await.unwrap().is_none()
            && deployments.get_opt("bn-gateway").await.unwrap().is_none()
            && services.get_opt("bn").await.unwrap().is_none()
            && services.get_opt("bn-mcp").await.unwrap().is_none()
            && configs.get_opt("bn-config").await.unwrap().is_none()
            && accounts.get_opt("bn").await.unwrap().is_none()
            && ingresses.get_opt("bn").await.unwrap().is_none()
            && gateways.get_opt("bn").await.unwrap().is_none()
            && cluster_bindings.get_opt("binnacle:team:bn").await.unwrap().is_none()
            && cluster_roles.get_opt("binnacle-gateway:team:bn").await.unwrap().is_none();
        gone.then_some(())
    })
    .await;
    // The shared ClusterRoles stay (other installations use them).
    assert!(cluster_roles.get_opt("binnacle-read").await.unwrap().is_some());
    op.stop().await;
}
