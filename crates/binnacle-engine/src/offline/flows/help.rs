//! What the offline assistant can do, with example questions.

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
    out.push_str(
        "| I can | Ask for example |\n\
         |---|---|\n\
         | Find what is broken, with evidence, likely cause and next step (`find_issues`) | `what is broken in namespace payments`, `any problems?` |\n\
         | Explain why a pod (or a Deployment's pods) fails: status, reason, events, last log lines, fix | `why is pod payments-api failing`, `what's wrong with ledger` |\n\
         | Show a pod's or Deployment's logs | `show logs of ledger in payments`, `previous logs of payments-api` |\n\
         | List objects of a kind | `list pods in web`, `show deployments` |\n\
         | Scale a Deployment or StatefulSet (you approve it first) | `scale deployment frontend in shop to 3` |\n\
         | Restart a workload (you approve it first) | `restart cart in shop` |\n\
         | Roll a workload back (you approve it first) | `roll back storefront in web` |\n",
    );
    out.push_str(
        "\nChanges are only proposed: the engine holds each one at the approval gate until someone approves \
         it. For anything else, configure an LLM.\n",
    );
    out
}
