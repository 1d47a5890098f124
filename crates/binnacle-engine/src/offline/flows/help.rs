//! What the offline assistant can do, with example questions.

/// What the assistant can do, with example questions.
const CAPABILITIES: &[(&str, &[&str])] = &[
    (
        "Find what is broken, with evidence, likely cause and next step (`find_issues`)",
        &["what is broken in namespace payments", "any problems?"],
    ),
    (
        "Explain why a pod (or a Deployment's pods) fails: status, reason, events, last log lines, fix",
        &["why is pod payments-api failing", "what's wrong with ledger"],
    ),
    ("Show a pod's or Deployment's logs", &["show logs of ledger in payments", "previous logs of payments-api"]),
    ("List objects of a kind", &["list pods in web", "show deployments"]),
    ("Scale a Deployment or StatefulSet (you approve it first)", &["scale deployment frontend in shop to 3"]),
    ("Restart a workload (you approve it first)", &["restart cart in shop"]),
    ("Roll a workload back (you approve it first)", &["roll back storefront in web"]),
];

/// The help answer; `hint` (when the question was not understood or incomplete) comes first.
pub(super) fn answer(hint: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(hint) = hint {
        // Hints are the assistant's own sentences; only names from the question are in code spans.
        out.push_str(hint);
        out.push_str("\n\n");
    }
    out.push_str(
        "Without a model I understand these questions (names are Kubernetes names; add `in namespace X`, \
         `-n X` or `X/name` to pick a namespace):\n\n",
    );
    out.push_str("| I can | Ask for example |\n|---|---|\n");
    for (what, examples) in CAPABILITIES {
        let examples: Vec<String> = examples.iter().map(|e| format!("`{e}`")).collect();
        out.push_str(&format!("| {what} | {} |\n", examples.join(", ")));
    }
    out.push_str(
        "\nChanges are only proposed: the engine holds each one at the approval gate until someone approves \
         it. For anything else, configure an LLM.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::CAPABILITIES;
    use crate::offline::intent::{Intent, parse};

    #[test]
    fn every_example_is_understood() {
        for (_, examples) in CAPABILITIES {
            for example in *examples {
                assert!(!matches!(parse(example), Intent::Help { .. }), "{example} parses to help");
            }
        }
        // The phrases answers suggest, too.
        for phrase in [
            "restart payments-api in payments",
            "roll back storefront in web",
            "why is fraud-detector failing in payments",
            "show previous logs of payments-api-abc12-x1y2z in payments",
            "list pods in shop",
            "scale cart in shop to 3",
            "list deployments in shop",
            "what is broken in namespace data",
        ] {
            assert!(!matches!(parse(phrase), Intent::Help { .. }), "{phrase} parses to help");
        }
    }
}
