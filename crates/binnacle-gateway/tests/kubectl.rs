//! The real kubectl (1.32) against a simulated cluster: the committed CRD applies, `kubectl get gateways`
//! prints the printer columns from the status the gateway writes, and shows a dead upstream.
//!
//! kubectl is `$KUBECTL`, or `kubectl.1.32` next to the `kubectl` dispatcher on PATH (see the simulator's
//! kubectl harness, reused here).

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../binnacle-sim/tests/kubectl/harness.rs"]
mod harness;

mod common;

use common::{Seen, serve_gateway, third_party};
use harness::{Sim, secs};
use std::sync::Arc;

const GATEWAY: &str = "apiVersion: binnacle.dev/v1alpha1
kind: Gateway
metadata: {name: gw}
spec:
  toolSeparator: __
";

fn service(port: u16) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: inventory
  labels: {{mcp-enabled: \"true\"}}
  annotations: {{binnacle.dev/mcp-type: tool, binnacle.dev/mcp-path: /mcp}}
spec:
  ports: [{{name: mcp, port: 80, targetPort: {port}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: inventory-1
  labels: {{kubernetes.io/service-name: inventory}}
addressType: IPv4
ports: [{{name: mcp, port: {port}, protocol: TCP}}]
endpoints:
- addresses: [127.0.0.1]
  conditions: {{ready: true}}
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_gateways_prints_the_columns() {
    common::logs();
    let k = Sim::empty().await;
    let crd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds/gateway.yaml");
    let applied = k.ok(&["apply", "-f", &crd.to_string_lossy()]).await;
    assert_eq!(applied.trim(), "customresourcedefinition.apiextensions.k8s.io/gateways.binnacle.dev created");
    k.ok(&["wait", "--for=condition=Established", "crd/gateways.binnacle.dev", "--timeout=10s"]).await;
    let path = k.file("gw.yaml", GATEWAY);
    assert_eq!(k.ok(&["apply", "-f", &path]).await.trim(), "gateway.binnacle.dev/gw created");

    // Before a gateway runs: no status yet.
    let out = k.kubectl(&["get", "gateways"]).await;
    assert_eq!(
        out.rows(),
        [vec!["NAME", "READY", "SERVICES", "TOOLS", "ADDRESS", "AGE"], vec!["gw", "<age>"]],
        "{out}"
    );

    let upstream = third_party(Arc::new(Seen::default()), common::loopback()).await;
    let path = k.file("svc.yaml", &service(upstream.addr.port()));
    k.ok(&["apply", "-f", &path]).await;

    let client = kube::Client::new(k.sim.router(), "default");
    let gw = serve_gateway(client, "default", "gw", common::fast()).await;
    let address = gw.url("/mcp");
    let rows = k
        .wait_rows(&["get", "gateways"], secs(20), |rows| {
            rows.get(1).is_some_and(|r| r.get(1).is_some_and(|c| c == "True"))
        })
        .await;
    assert_eq!(rows[1], ["gw", "True", "1/1", "5", address.as_str(), "<age>"], "{rows:?}");
    let wide = k.ok(&["get", "mcpgw", "-o", "wide"]).await;
    let wide = harness::rows(&wide);
    assert_eq!(wide[0], ["NAME", "READY", "SERVICES", "TOOLS", "ADDRESS", "REASON", "AGE"], "{wide:?}");
    assert_eq!(wide[1][5], "Serving", "{wide:?}");
    assert!(gw.gateway.snapshot().tools.iter().any(|t| t.name == "inventory__inventory_read"), "toolSeparator");

    // The upstream dies: kubectl shows it.
    upstream.stop().await;
    let rows = k
        .wait_rows(&["get", "gateways"], secs(20), |rows| {
            rows.get(1).is_some_and(|r| r.get(2).is_some_and(|c| c == "0/1"))
        })
        .await;
    assert_eq!(rows[1][..4], ["gw", "True", "0/1", "0"], "{rows:?}");
    let services = k
        .ok(&["get", "gateway", "gw", "-o", "jsonpath={.status.mcpServices[0].name} {.status.mcpServices[0].status}"])
        .await;
    assert_eq!(services, "inventory Unavailable");
    let describe = k.ok(&["describe", "gateway", "gw"]).await;
    for want in ["ServiceRegistered", "ServiceUnavailable", "Mcp Services:"] {
        assert!(describe.contains(want), "describe lacks {want:?}:\n{describe}");
    }
}
