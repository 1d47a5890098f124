//! The Kubernetes toolset's catalog contract: names, annotations and the token cost of `tools/list`.

use binnacle_tools::{Annotations, Catalog, Toolset};
use serde_json::json;

fn k8s_tools(catalog: &Catalog) -> Vec<&binnacle_tools::ToolSpec> {
    catalog.tools().iter().map(|t| t.spec()).filter(|s| s.toolset == Toolset::Kubernetes).collect()
}

/// What `tools/list` sends for one tool (name, title, description, input schema).
fn listing(spec: &binnacle_tools::ToolSpec) -> serde_json::Value {
    json!({"name": spec.name, "title": spec.title, "description": spec.description, "inputSchema": spec.input_schema})
}

#[test]
fn tools_list_for_the_k8s_toolset_stays_under_4000_tokens() {
    let catalog = Catalog::builtin();
    let mut total = 0;
    for spec in k8s_tools(&catalog) {
        let bytes = serde_json::to_vec(&listing(spec)).expect("serialises").len();
        println!("{:>6}  {}", bytes, spec.name);
        total += bytes;
    }
    println!("{total:>6}  total");
    assert!(total < 16_000, "tools/list for k8s is {total} bytes (≈{} tokens)", total / 4);
}

#[test]
fn show() {
    let catalog = Catalog::builtin();
    for spec in k8s_tools(&catalog) {
        let mut l = listing(spec);
        l["inputSchema"]["properties"].as_object_mut().unwrap().remove("context");
        l["inputSchema"]["properties"].as_object_mut().unwrap().remove("budgetTokens");
        println!("{}", serde_json::to_string(&l).unwrap());
    }
}
