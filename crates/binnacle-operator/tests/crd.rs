//! The committed CustomResourceDefinition of `Binnacle` (`deploy/crds/binnacle.yaml`) is the one generated
//! from the Rust types; `binnacle crds` prints every CRD. Regenerate with
//! `BINNACLE_UPDATE_CRDS=1 cargo test -p binnacle-operator --test crd`.

#![allow(missing_docs)]

use std::path::PathBuf;

#[test]
fn committed_binnacle_crd_matches_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds/binnacle.yaml");
    let generated = binnacle_operator::binnacle::crd::crd_yaml();
    if std::env::var_os("BINNACLE_UPDATE_CRDS").is_some() {
        std::fs::write(&path, &generated).expect("write deploy/crds/binnacle.yaml");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "deploy/crds/binnacle.yaml is not the CRD generated from crates/binnacle-operator/src/binnacle/crd.rs.\n\
         Regenerate it with:\n    BINNACLE_UPDATE_CRDS=1 cargo test -p binnacle-operator --test crd\n\
         --- generated ---\n{generated}"
    );
}

#[test]
fn binnacle_crd_fields_agreed_with_the_helm_chart() {
    let crd: serde_json::Value =
        serde_norway::from_str(&binnacle_operator::binnacle::crd::crd_yaml()).expect("the generated CRD is YAML");
    assert_eq!(crd["metadata"]["name"], "binnacles.binnacle.dev");
    assert_eq!(crd["spec"]["scope"], "Namespaced");
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["name"], "v1alpha1");
    assert!(version["subresources"]["status"].is_object(), "{version:#}");
    let schema = &version["schema"]["openAPIV3Schema"]["properties"];
    let spec = &schema["spec"]["properties"];
    for field in ["image", "replicas", "database", "llm", "tools", "ingress", "mcp", "gateway"] {
        assert!(spec[field].is_object(), "spec.{field} missing from the schema");
    }
    assert_eq!(spec["replicas"]["minimum"].as_f64(), Some(1.0));
    assert_eq!(spec["replicas"]["maximum"].as_f64(), Some(10.0));
    assert!(spec["database"]["properties"]["urlSecretRef"]["properties"]["key"].is_object());
    for field in ["provider", "secretRef", "model", "baseUrl"] {
        assert!(spec["llm"]["properties"][field].is_object(), "spec.llm.{field}");
    }
    assert_eq!(spec["llm"]["properties"]["provider"]["enum"], serde_json::json!(["offline", "openai", "anthropic"]));
    assert_eq!(spec["tools"]["enum"], serde_json::json!(["readOnly", "readWrite"]));
    for field in ["host", "className", "tlsSecretName"] {
        assert!(spec["ingress"]["properties"][field].is_object(), "spec.ingress.{field}");
    }
    assert!(spec["mcp"]["properties"]["enabled"].is_object());
    assert!(spec["gateway"]["properties"]["enabled"].is_object());
    let status = &schema["status"]["properties"];
    for field in ["conditions", "observedGeneration", "observedVersion", "url"] {
        assert!(status[field].is_object(), "status.{field}");
    }
    // `binnacle crds` prints both.
    let all = binnacle_operator::crds_yaml();
    assert!(all.contains("name: gateways.binnacle.dev") && all.contains("name: binnacles.binnacle.dev"));
}
