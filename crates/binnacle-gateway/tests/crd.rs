//! The committed CustomResourceDefinition (`deploy/crds/gateway.yaml`) is the one generated from the Rust
//! types. Regenerate it with `cargo run -- gateway crd > deploy/crds/gateway.yaml`, or run this test with
//! `BINNACLE_UPDATE_CRDS=1`.

#![allow(missing_docs)]

use std::path::PathBuf;

#[test]
fn committed_crd_matches_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds/gateway.yaml");
    let generated = binnacle_gateway::crd_yaml();
    if std::env::var_os("BINNACLE_UPDATE_CRDS").is_some() {
        std::fs::write(&path, &generated).expect("write deploy/crds/gateway.yaml");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "deploy/crds/gateway.yaml is not the CRD generated from crates/binnacle-gateway/src/crd.rs.\n\
         Regenerate it with:\n    cargo run -- gateway crd > deploy/crds/gateway.yaml\n\
         or:\n    BINNACLE_UPDATE_CRDS=1 cargo test -p binnacle-gateway --test crd\n\
         --- generated ---\n{generated}"
    );
}

#[test]
fn crd_names_columns_and_status_subresource() {
    let crd: serde_json::Value =
        serde_norway::from_str(&binnacle_gateway::crd_yaml()).expect("the generated CRD is YAML");
    assert_eq!(crd["metadata"]["name"], "gateways.binnacle.dev");
    assert_eq!(crd["spec"]["scope"], "Namespaced");
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["name"], "v1alpha1");
    assert!(version["subresources"]["status"].is_object(), "{version:#}");
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(columns, ["Ready", "Services", "Tools", "Address", "Reason", "Age"]);
    let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
    for field in [
        "mcpPort",
        "serviceSelector",
        "namespaceSelector",
        "namespaces",
        "enableTls",
        "tlsSecretRef",
        "auth",
        "toolPolicy",
        "toolSeparator",
        "callTimeoutSeconds",
    ] {
        assert!(spec[field].is_object(), "spec.{field} missing from the schema");
    }
}
