//! Two operator replicas with different identities against one simulated cluster: exactly one holds the
//! Lease and writes (every Event the operator records names it); when it stops, the other takes over and
//! writes; a leader whose Lease is taken from it stops leading at once and campaigns again.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use binnacle_gateway::crd::Gateway;
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use common::{LEASE_NS, Replica, events, eventually, holder, namespace, options};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, CustomResourceExt};
use serde_json::json;

fn port_of(d: &Deployment) -> Option<i32> {
    d.spec.as_ref()?.template.spec.as_ref()?.containers.first()?.ports.as_ref()?.first().map(|p| p.container_port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_writes_and_the_other_takes_over() {
    common::logs();
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, ..SimOptions::default() }).await.unwrap();
    let client = Client::new(sim.router(), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &Gateway::crd()).await.unwrap();
    for ns in [LEASE_NS, "mcp"] {
        namespace(&client, ns).await;
    }
    let gateways: Api<Gateway> = Api::namespaced(client.clone(), "mcp");
    eventually(10, "the Gateway CRD is served", async || gateways.list(&Default::default()).await.ok()).await;

    let mut a = Replica::start(client.clone(), options("op-a"));
    a.wait_leading(true, 20).await;
    let mut b = Replica::start(client.clone(), options("op-b"));
    // b campaigns (several retries) but a renews: b never leads while a runs.
    let gw: Gateway = serde_json::from_value(json!({
        "apiVersion": "binnacle.dev/v1alpha1", "kind": "Gateway",
        "metadata": {"name": "g1"}, "spec": {"mcpPort": 8081}
    }))
    .unwrap();
    gateways.create(&PostParams::default(), &gw).await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "mcp");
    eventually(30, "the Deployment", async || deployments.get_opt("g1-gateway").await.unwrap()).await;
    eventually(30, "the status address", async || {
        gateways.get("g1").await.unwrap().status?.address.filter(|a| a == "http://g1-gateway.mcp.svc:8081/mcp")
    })
    .await;
    assert_eq!(holder(&client).await.as_deref(), Some("op-a"));
    assert!(!*b.leading.borrow(), "op-b must not lead while op-a holds the Lease");
    let evs = events(&client, "mcp", "Gateway").await;
    assert!(evs.iter().any(|e| e.0 == "Created"), "{evs:?}");
    assert!(evs.iter().all(|e| e.3 == "op-a"), "only the leader records Events: {evs:?}");

    // The leader stops: it releases the Lease, op-b takes over and writes.
    a.stop().await;
    b.wait_leading(true, 20).await;
    assert_eq!(holder(&client).await.as_deref(), Some("op-b"));
    gateways.patch("g1", &PatchParams::default(), &Patch::Merge(&json!({"spec": {"mcpPort": 8082}}))).await.unwrap();
    eventually(30, "op-b rolls the Deployment", async || {
        deployments.get("g1-gateway").await.ok().filter(|d| port_of(d) == Some(8082))
    })
    .await;
    eventually(30, "op-b writes the status", async || {
        gateways.get("g1").await.unwrap().status?.address.filter(|a| a == "http://g1-gateway.mcp.svc:8082/mcp")
    })
    .await;
    let evs = events(&client, "mcp", "Gateway").await;
    assert!(
        evs.iter().any(|e| e.1 == "Updated Deployment mcp/g1-gateway" && e.2 == "binnacle-operator" && e.3 == "op-b"),
        "{evs:?}"
    );

    // Someone else takes the Lease: op-b stops leading at once, then (the intruder never renews) takes it back.
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NS);
    eventually(10, "the intruder takes the Lease", async || {
        // op-b renews concurrently: a 409 means try again with the newer version.
        let mut lease = leases.get(binnacle_operator::LEASE_NAME).await.unwrap();
        let spec = lease.spec.as_mut().unwrap();
        spec.holder_identity = Some("intruder".into());
        spec.renew_time = Some(MicroTime(jiff::Timestamp::now()));
        lease.metadata.managed_fields = None;
        leases.replace(binnacle_operator::LEASE_NAME, &PostParams::default(), &lease).await.ok()
    })
    .await;
    b.wait_leading(false, 10).await;
    b.wait_leading(true, 20).await;
    assert_eq!(holder(&client).await.as_deref(), Some("op-b"));
    let transitions = leases.get(binnacle_operator::LEASE_NAME).await.unwrap().spec.unwrap().lease_transitions;
    assert!(transitions >= Some(2), "{transitions:?}");
    b.stop().await;
    assert_eq!(holder(&client).await, None, "a stopping leader releases the Lease");
}
