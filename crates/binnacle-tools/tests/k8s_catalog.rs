//! The Kubernetes toolset's catalog contract: the tools, their annotations (which drive the approval
//! gate) and the token cost of `tools/list`.

use binnacle_tools::{Annotations, Catalog, ToolSpec, Toolset};
use serde_json::json;

/// Every Kubernetes tool: the everyday `k8s` toolset and the privileged `k8s-admin` one.
fn k8s_tools(catalog: &Catalog) -> Vec<&ToolSpec> {
    catalog
        .tools()
        .iter()
        .map(|t| t.spec())
        .filter(|s| matches!(s.toolset, Toolset::Kubernetes | Toolset::KubernetesAdmin))
        .collect()
}

/// What `tools/list` sends for one tool by default (binnacle-mcp's `mcp_tool`): name, title, description,
/// input schema, the four hints and the tags.
fn listing(spec: &ToolSpec) -> serde_json::Value {
    let tags: Vec<&str> = std::iter::once(spec.toolset.as_str())
        .chain(spec.tags.iter().copied().filter(|t| *t != spec.toolset.as_str()))
        .collect();
    json!({"name": spec.name, "title": spec.title, "description": spec.description, "inputSchema": spec.input_schema,
           "annotations": spec.annotations, "_meta": {"binnacle.dev/tags": tags}})
}

#[test]
fn tools_list_for_the_k8s_toolset_stays_under_4000_tokens() {
    let catalog = Catalog::builtin();
    let mut total = 0;
    for spec in k8s_tools(&catalog).into_iter().filter(|s| s.toolset == Toolset::Kubernetes) {
        let bytes = serde_json::to_vec(&listing(spec)).expect("serialises").len();
        println!("{bytes:>6}  {}", spec.name);
        total += bytes;
    }
    println!("{total:>6}  total (≈{} tokens)", total / 4);
    assert!(total < 16_000, "tools/list for k8s is {total} bytes (≈{} tokens)", total / 4);
}

#[test]
fn every_k8s_tool_is_there_with_the_right_annotations() {
    const WRITE_DESTRUCTIVE: Annotations = Annotations { destructive: true, ..Annotations::WRITE };
    let expected = [
        ("cluster_info", Annotations::READ),
        ("api_resources_list", Annotations::READ),
        ("resources_list", Annotations::READ),
        ("resource_get", Annotations::READ),
        ("resource_describe", Annotations::READ),
        ("events_list", Annotations::READ),
        ("pod_logs", Annotations::READ),
        ("resources_apply", Annotations::WRITE_IDEMPOTENT),
        ("resource_diff", Annotations::READ),
        ("resource_patch", Annotations::WRITE_IDEMPOTENT),
        ("workload_set_image", Annotations::WRITE_IDEMPOTENT),
        ("workload_scale", Annotations::WRITE_IDEMPOTENT),
        ("rollout_status", Annotations::READ),
        ("rollout_history", Annotations::READ),
        ("rollout_undo", Annotations::DESTRUCTIVE),
        ("rollout_restart", Annotations::WRITE),
        ("resource_delete", Annotations::DESTRUCTIVE),
        ("node_cordon", Annotations::WRITE_IDEMPOTENT),
        ("node_uncordon", Annotations::WRITE_IDEMPOTENT),
        ("node_drain", Annotations::DESTRUCTIVE),
        ("pod_run", Annotations::WRITE),
        ("pod_exec", WRITE_DESTRUCTIVE),
        ("pods_top", Annotations::READ),
        ("nodes_top", Annotations::READ),
        ("resource_wait", Annotations::READ),
        ("secret_reveal", Annotations::DESTRUCTIVE),
    ];
    let catalog = Catalog::builtin();
    let specs = k8s_tools(&catalog);
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    assert_eq!(names, expected.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    for (name, annotations) in expected {
        let spec = catalog.get(name).expect(name).spec();
        assert_eq!(spec.annotations, annotations, "{name}");
        assert!(spec.description.len() <= 120, "{name}: keep descriptions short");
        for (arg, schema) in spec.input_schema["properties"].as_object().expect("properties") {
            assert!(
                arg.chars().all(|c| c.is_ascii_alphanumeric()) && arg.starts_with(|c: char| c.is_ascii_lowercase()),
                "{name}.{arg} is camelCase"
            );
            if let Some(d) = schema["description"].as_str() {
                assert!(d.len() <= 60, "{name}.{arg}: field docs are a few words: {d:?}");
            }
        }
    }
    // Read-only mode hides every write, and only writes.
    let read_only = catalog.filtered(&binnacle_tools::CatalogFilter {
        read_only: true,
        toolsets: [Toolset::Kubernetes, Toolset::KubernetesAdmin].into(),
        ..Default::default()
    });
    assert_eq!(read_only.len(), expected.iter().filter(|(_, a)| a.read_only).count());
}

#[tokio::test]
async fn unknown_arguments_are_still_refused() {
    // The listing leaves out `additionalProperties: false` to save tokens; parsing does not.
    let catalog = Catalog::builtin();
    let sim = binnacle_sim::SimCluster::start(binnacle_sim::SimOptions::default()).await.expect("sim");
    let ctx = binnacle_tools::ToolContext::new(
        std::sync::Arc::new(binnacle_tools::ClusterSet::from_client("sim", kube::Client::new(sim.router(), "default"))),
        std::sync::Arc::new(binnacle_tools::context::Settings::default()),
    );
    for spec in k8s_tools(&catalog) {
        let err = catalog
            .get(spec.name)
            .expect("tool")
            .call(&ctx, json!({"noSuchArgument": 1}))
            .await
            .expect_err("unknown argument");
        assert!(err.to_string().contains("noSuchArgument"), "{}: {err}", spec.name);
    }
}
