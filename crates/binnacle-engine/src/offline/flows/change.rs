//! "Scale / restart / roll back W": find W's namespace with `resources_list` when the question gives
//! none, then make exactly one call of the mutating tool (the engine holds it at the approval gate), then
//! say what happened — done, denied (and by whom), or failed and why.

use super::{Call, Next, Tools, explain, items, text};
use crate::offline::intent::{ChangeAction, Target, WorkloadKind};
use crate::offline::markdown::{code, code_block, plain};
use crate::offline::transcript::{Observation, Outcome, Transcript};
use serde_json::{Value, json};

/// Replicas `workload_scale` accepts.
const MAX_REPLICAS: i64 = 1000;

/// The next step.
pub(super) fn next(action: &ChangeAction, target: &Target, t: &Transcript, tools: &Tools) -> Next {
    if let ChangeAction::Scale { replicas } = action {
        match replicas {
            None => {
                return Next::Answer(format!(
                    "How many replicas? Say e.g. {}.\n",
                    code(&format!("scale {} to 3", target.name))
                ));
            }
            Some(n) if !(0..=MAX_REPLICAS).contains(n) => {
                return Next::Answer(format!(
                    "I cannot scale to {n} replicas: the count must be from 0 to {MAX_REPLICAS}. Nothing was changed.\n"
                ));
            }
            Some(_) => {}
        }
    }
    let tool = action.tool();
    if let Err(e) = tools.require(&[tool]) {
        return Next::Answer(explain(&e));
    }
    if let Some(write) = t.last(tool) {
        return Next::Answer(result(action, write));
    }
    let (namespace, kind) = match &target.namespace {
        Some(ns) => (ns.clone(), target.kind),
        None if tools.has("resources_list") => {
            let lookups: Vec<&Observation> = t.all("resources_list").collect();
            if lookups.is_empty() {
                return Next::Calls(lookup_calls(action, target));
            }
            match located(&lookups) {
                Ok(found) => match found.as_slice() {
                    [] => return Next::Answer(not_found(action, target)),
                    [(kind, ns)] => (ns.clone(), Some(*kind)),
                    many => return Next::Answer(ambiguous(action, target, many)),
                },
                Err(answer) => return Next::Answer(answer),
            }
        }
        None => ("default".to_string(), target.kind),
    };
    let mut args = json!({"name": target.name, "namespace": namespace});
    if let Some(kind) = kind {
        args["kind"] = json!(kind.as_kind());
    }
    match action {
        ChangeAction::Scale { replicas: Some(n) } => args["replicas"] = json!(n),
        ChangeAction::Undo { to_revision: Some(r) } => args["toRevision"] = json!(r),
        _ => {}
    }
    Next::Calls(vec![Call::new(tool, args)])
}

/// The kinds a change can apply to.
fn kinds(action: &ChangeAction, target: &Target) -> Vec<WorkloadKind> {
    match (target.kind, action) {
        (Some(kind), _) => vec![kind],
        (None, ChangeAction::Scale { .. }) => vec![WorkloadKind::Deployment, WorkloadKind::StatefulSet],
        (None, _) => vec![WorkloadKind::Deployment, WorkloadKind::StatefulSet, WorkloadKind::DaemonSet],
    }
}

/// One `resources_list` per kind, across namespaces, by name.
fn lookup_calls(action: &ChangeAction, target: &Target) -> Vec<Call> {
    kinds(action, target)
        .into_iter()
        .map(|k| {
            Call::new(
                "resources_list",
                json!({
                    "kind": k.plural(),
                    "allNamespaces": true,
                    "fieldSelector": format!("metadata.name={}", target.name),
                }),
            )
        })
        .collect()
}

/// The (kind, namespace) pairs the lookups found, or the answer when every lookup failed.
fn located(lookups: &[&Observation]) -> Result<Vec<(WorkloadKind, String)>, String> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for o in lookups {
        let kind = match o.arg("kind") {
            Some("deployments") => WorkloadKind::Deployment,
            Some("statefulsets") => WorkloadKind::StatefulSet,
            Some("daemonsets") => WorkloadKind::DaemonSet,
            _ => continue,
        };
        match &o.outcome {
            Outcome::Done { data: Some(data), .. } => {
                for row in items(data, "items") {
                    let ns = text(row, "namespace");
                    if !ns.is_empty() {
                        found.push((kind, ns.to_string()));
                    }
                }
            }
            Outcome::Failed { message } => errors.push(message.clone()),
            _ => {}
        }
    }
    if found.is_empty() && !errors.is_empty() && errors.len() == lookups.len() {
        return Err(format!(
            "I could not look the workload up, so I changed nothing. `resources_list` answered:\n\n{}",
            code_block(&errors)
        ));
    }
    found.sort_by(|a, b| (a.1.as_str(), a.0.as_kind()).cmp(&(b.1.as_str(), b.0.as_kind())));
    found.dedup();
    Ok(found)
}

/// "scale", "restart", "roll back".
fn verb(action: &ChangeAction) -> &'static str {
    match action {
        ChangeAction::Scale { .. } => "scale",
        ChangeAction::Restart => "restart",
        ChangeAction::Undo { .. } => "roll back",
    }
}

fn not_found(action: &ChangeAction, target: &Target) -> String {
    let kinds: Vec<&str> = kinds(action, target).iter().map(|k| k.as_kind()).collect();
    format!(
        "**Not found:** there is no {} named {} in any namespace, so I changed nothing. Ask `list deployments` to \
         see what there is.\n",
        kinds.join(" or "),
        code(&target.name)
    )
}

fn ambiguous(action: &ChangeAction, target: &Target, found: &[(WorkloadKind, String)]) -> String {
    let mut out =
        format!("{} exists in more than one place, so I changed nothing. Say which one, e.g.:\n\n", code(&target.name));
    let tail = match action {
        ChangeAction::Scale { replicas: Some(n) } => format!(" to {n}"),
        _ => String::new(),
    };
    for (kind, ns) in found {
        out.push_str(&format!(
            "- {}\n",
            code(&format!("{} {} {} in {ns}{tail}", verb(action), kind.as_kind().to_lowercase(), target.name))
        ));
    }
    out
}

/// What the change was, from the call's arguments: `Deployment payments/api to 3 replicas`.
fn described(action: &ChangeAction, call: &Observation) -> String {
    let kind = call.arg("kind").unwrap_or("Deployment");
    let object = format!(
        "{kind} {}",
        code(&format!("{}/{}", call.arg("namespace").unwrap_or("default"), call.arg("name").unwrap_or("?")))
    );
    match action {
        ChangeAction::Scale { .. } => {
            let n = call.arguments.get("replicas").and_then(Value::as_i64).map(|n| n.to_string()).unwrap_or("?".into());
            format!("scale {object} to {n} replicas")
        }
        ChangeAction::Restart => format!("restart {object}"),
        ChangeAction::Undo { .. } => match call.arguments.get("toRevision").and_then(Value::as_i64) {
            Some(r) => format!("roll {object} back to revision {r}"),
            None => format!("roll {object} back to its previous revision"),
        },
    }
}

/// The answer once the change's result is back.
fn result(action: &ChangeAction, call: &Observation) -> String {
    let what = described(action, call);
    match &call.outcome {
        Outcome::Done { summary, .. } => {
            let mut out = format!("**Done.** I asked to {what}, and the cluster answered:\n\n");
            for line in summary.lines().filter(|l| !l.trim().is_empty()) {
                out.push_str(&format!("> {}\n", plain(line)));
            }
            let ns = call.arg("namespace").unwrap_or("default");
            out.push_str(&match action {
                ChangeAction::Scale { .. } => {
                    format!("\nAsk {} to watch the pods.\n", code(&format!("list pods in {ns}")))
                }
                _ => format!(
                    "\nThe pods are replaced by a rolling update; ask {} to watch them, or {} if they do not \
                     come up.\n",
                    code(&format!("list pods in {ns}")),
                    code(&format!("why is {} failing in {ns}", call.arg("name").unwrap_or("?")))
                ),
            });
            out
        }
        failed @ Outcome::Failed { message } => match failed.denied_by() {
            Some(user) => format!(
                "**Not changed.** The request to {what} was **denied by {}** at the approval gate, so nothing was \
                 changed in the cluster.\n\nThe denial as recorded:\n\n{}",
                plain(&user),
                code_block(&[message])
            ),
            None if message.to_lowercase().contains("denied") => format!(
                "**Not changed.** The request to {what} was denied at the approval gate, so nothing was changed in \
                 the cluster.\n\n{}",
                code_block(&[message])
            ),
            None => {
                let mut out = format!("**The change failed:** I asked to {what}, and `{}` answered:\n\n", call.name);
                out.push_str(&code_block(&[message]));
                out.push_str(&format!("\n{}\n", why_failed(message, call)));
                out
            }
        },
        Outcome::Missing => format!(
            "No result came back for the request to {what}; I cannot tell whether it was made. Ask {} to check.\n",
            code(&format!("list pods in {}", call.arg("namespace").unwrap_or("default")))
        ),
    }
}

/// A plain explanation of a failed change.
fn why_failed(message: &str, call: &Observation) -> String {
    let lower = message.to_lowercase();
    let ns = call.arg("namespace").unwrap_or("default");
    if lower.contains("not found") || lower.contains("no revision") {
        if lower.contains("revision") {
            return "There is no revision to go back to: the workload has only one revision (or not the one asked \
                    for). Nothing was changed."
                .into();
        }
        return format!(
            "The workload does not exist under that name in namespace {}. Nothing was changed; ask {} to see \
             what there is.",
            code(ns),
            code(&format!("list deployments in {ns}"))
        );
    }
    if lower.contains("forbidden") {
        return "The cluster refused it: the credentials Binnacle uses are not allowed to do this (RBAC). Nothing \
                was changed."
            .into();
    }
    if lower.contains("paused") {
        return "The Deployment is paused; resume it first. Nothing was changed.".into();
    }
    if lower.contains("conflict") {
        return "The object changed while the request was made; ask again. Nothing was changed.".into();
    }
    if lower.contains("timed out") {
        return format!(
            "The call timed out; the change may still happen. Ask {} to check before trying again.",
            code(&format!("list pods in {ns}"))
        );
    }
    if lower.contains("invalid arguments") || lower.contains("not supported") || lower.contains("cannot be scaled") {
        return "The request was not valid for this workload (see the message). Nothing was changed.".into();
    }
    "Nothing was changed, as far as the error says.".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::flows::Call;

    fn call(outcome: Outcome) -> Observation {
        Observation {
            name: "workload_scale".into(),
            arguments: json!({"name": "api", "namespace": "pay", "replicas": 3, "kind": "Deployment"}),
            outcome,
        }
    }

    #[test]
    fn a_workload_in_two_namespaces_is_not_guessed() {
        let lookup = |kind: &str, items: Value| Observation {
            name: "resources_list".into(),
            arguments: json!({"kind": kind, "allNamespaces": true}),
            outcome: Outcome::Done { summary: String::new(), data: Some(json!({"items": items})) },
        };
        let t = Transcript {
            question: "restart checkout".into(),
            turns: 1,
            calls: vec![
                lookup("deployments", json!([{"name": "checkout", "namespace": "web"}])),
                lookup("statefulsets", json!([{"name": "checkout", "namespace": "shop"}])),
                lookup("daemonsets", json!([])),
            ],
            calls_in_conversation: 3,
        };
        let target = Target { name: "checkout".into(), namespace: None, kind: None };
        let tools = Tools::new(["resources_list", "rollout_restart"]);
        match next(&ChangeAction::Restart, &target, &t, &tools) {
            Next::Answer(text) => {
                assert!(text.contains("`restart deployment checkout in web`"), "{text}");
                assert!(text.contains("`restart statefulset checkout in shop`"), "{text}");
                assert!(text.contains("changed nothing"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        let none = Transcript { calls: vec![lookup("deployments", json!([]))], ..t.clone() };
        assert!(
            matches!(next(&ChangeAction::Restart, &target, &none, &tools), Next::Answer(a) if a.contains("Not found"))
        );
        let one =
            Transcript { calls: vec![lookup("deployments", json!([{"name": "checkout", "namespace": "web"}]))], ..t };
        assert_eq!(
            next(&ChangeAction::Restart, &target, &one, &tools),
            Next::Calls(vec![Call::new(
                "rollout_restart",
                json!({"name": "checkout", "namespace": "web", "kind": "Deployment"})
            )])
        );
    }

    #[test]
    fn results_are_explained() {
        let action = ChangeAction::Scale { replicas: Some(3) };
        let denied = result(&action, &call(Outcome::Failed { message: "the call was denied by alice".into() }));
        assert!(denied.contains("**Not changed.**") && denied.contains("denied by alice"), "{denied}");
        assert!(denied.contains("scale Deployment `pay/api` to 3 replicas"), "{denied}");
        let done = result(
            &action,
            &call(Outcome::Done { summary: "Scaled Deployment pay/api from 2 to 3 replicas.".into(), data: None }),
        );
        assert!(done.contains("**Done.**") && done.contains("> Scaled Deployment pay/api from 2 to 3 replicas."));
        let failed = result(&action, &call(Outcome::Failed { message: "deployments.apps \"api\" not found".into() }));
        assert!(failed.contains("does not exist") && failed.contains("Nothing was changed"), "{failed}");
    }
}
