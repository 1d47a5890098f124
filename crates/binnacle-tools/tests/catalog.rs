//! The catalog contract: specs, schemas, annotations, filters, argument validation.

mod common;

use binnacle_sim::Scenario;
use binnacle_tools::{CatalogFilter, ToolError, Toolset};
use serde_json::json;

#[tokio::test]
async fn cluster_info_answers_from_the_simulated_cluster() {
    let f = common::fixture(Scenario::Empty).await;
    let out = f.call("cluster_info", json!({})).await.expect("cluster_info");
    assert_eq!(out.structured["version"], "v1.32.5-binnacle-sim");
    assert!(out.summary.contains("v1.32.5"));
}

#[tokio::test]
async fn bad_arguments_are_refused_before_anything_runs() {
    let f = common::fixture(Scenario::Empty).await;
    for args in
        [json!({"bogus": 1}), json!([1]), json!({"context": 5}), json!({"budgetTokens": 1}), json!({"context": "nope"})]
    {
        let err = f.call("cluster_info", args.clone()).await.expect_err("invalid");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{args}: {err}");
    }
}

#[test]
fn every_tool_has_a_complete_spec() {
    let catalog = binnacle_tools::Catalog::builtin();
    assert!(!catalog.is_empty());
    let mut names = std::collections::BTreeSet::new();
    for tool in catalog.tools() {
        let spec = tool.spec();
        assert!(names.insert(spec.name), "duplicate tool name {}", spec.name);
        assert!(spec.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", spec.name);
        assert!(!spec.title.is_empty() && spec.description.len() > 20, "{}", spec.name);
        assert_eq!(spec.input_schema["type"], "object", "{}", spec.name);
        assert!(spec.input_schema["properties"]["context"].is_object(), "{}", spec.name);
        assert!(!spec.tags.is_empty(), "{}", spec.name);
        if spec.annotations.read_only {
            assert!(!spec.annotations.destructive, "{} is read-only and destructive", spec.name);
        }
    }
}

#[test]
fn filters_hide_tools() {
    let catalog = binnacle_tools::Catalog::builtin();
    let read_only = catalog.filtered(&CatalogFilter { read_only: true, ..Default::default() });
    assert!(read_only.tools().iter().all(|t| t.spec().annotations.read_only));
    let none = catalog.filtered(&CatalogFilter {
        toolsets: [Toolset::Jenkins].into(),
        deny: ["cluster_info".to_string()].into(),
        ..Default::default()
    });
    assert!(none.get("cluster_info").is_none());
    assert!(
        catalog
            .check_filter(&CatalogFilter { allow: ["no_such_tool".to_string()].into(), ..Default::default() })
            .is_err()
    );
}
