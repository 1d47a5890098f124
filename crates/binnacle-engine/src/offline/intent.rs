//! What a question asks for: the [`Intent`], parsed by fixed rules from the words of the question.

use super::lexicon;
use super::words::{NamespaceSpec, Words};

/// A kind of workload a question can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// A Pod.
    Pod,
    /// A Deployment.
    Deployment,
    /// A StatefulSet.
    StatefulSet,
    /// A DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// The Kubernetes Kind (`Deployment`).
    pub fn as_kind(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// The plural `resources_list` takes (`deployments`).
    pub fn plural(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "pods",
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
            WorkloadKind::DaemonSet => "daemonsets",
        }
    }
}

/// The object a question is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its name as written.
    pub name: String,
    /// The namespace, when the question gives one.
    pub namespace: Option<String>,
    /// The kind, when the question says (`pod x`, `deploy/x`).
    pub kind: Option<WorkloadKind>,
}

/// A change to a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeAction {
    /// `workload_scale` (`None`: the question gave no replica count).
    Scale {
        /// Replicas asked for.
        replicas: Option<i64>,
    },
    /// `rollout_restart`.
    Restart,
    /// `rollout_undo`.
    Undo {
        /// A revision to go back to (default: the previous one).
        to_revision: Option<i64>,
    },
}

impl ChangeAction {
    /// The tool that makes the change.
    pub fn tool(&self) -> &'static str {
        match self {
            ChangeAction::Scale { .. } => "workload_scale",
            ChangeAction::Restart => "rollout_restart",
            ChangeAction::Undo { .. } => "rollout_undo",
        }
    }
}

/// What the question asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// What is broken (in one namespace, or everywhere).
    Health {
        /// The namespace, if one was given.
        namespace: Option<String>,
    },
    /// Why one pod (or a workload's pods) is failing.
    Diagnose {
        /// The pod or workload.
        target: Target,
    },
    /// A pod's (or a workload's pod's) logs.
    Logs {
        /// The pod or workload.
        target: Target,
        /// The previous (crashed) container instance.
        previous: bool,
        /// How many lines, when the question says.
        tail_lines: Option<i64>,
    },
    /// Scale, restart or roll back a workload.
    Change {
        /// What to do.
        action: ChangeAction,
        /// The workload.
        target: Target,
    },
    /// List objects of one kind.
    List {
        /// The `kind` argument of `resources_list` (`pods`).
        kind: String,
        /// The plural for answers (`pods`).
        plural: String,
        /// Whether the kind is namespaced.
        namespaced: bool,
        /// The namespace, if one was given (else all namespaces).
        namespace: Option<String>,
    },
    /// What the assistant can do; `hint` says what was missing or not understood.
    Help {
        /// Why the question was not answered, if it was not a request for help.
        hint: Option<String>,
    },
}

const NOT_UNDERSTOOD: &str = "I did not understand that question.";

/// Parses a question into an [`Intent`]. Deterministic; case-insensitive.
pub fn parse(question: &str) -> Intent {
    let mut w = Words::new(question);
    if w.is_empty() {
        return Intent::Help { hint: None };
    }
    let scope = w.take_namespace();
    let namespace = match &scope {
        Some(NamespaceSpec::Named(ns)) => Some(ns.clone()),
        Some(NamespaceSpec::All) | None => None,
    };
    if let Some(intent) = change(&mut w, namespace.as_deref()) {
        return intent;
    }
    if w.has_any(lexicon::LOG_WORDS) {
        return logs(&mut w, namespace);
    }
    let trouble = w.unused().any(|(_, word)| lexicon::is_trouble(word));
    let listy = w.has_any(lexicon::LIST_VERBS);
    let asks_help = w.has_any(lexicon::HELP_WORDS);
    let list_kind = w.unused().find_map(|(_, word)| lexicon::list_kind(word));
    let mut probe = w.clone();
    let named = probe.take_name(&[]);
    if let Some(found) = named {
        let looks_like_a_name = found.name.contains(['-', '.']) || found.name.chars().any(|c| c.is_ascii_digit());
        let short = w.unused().count() <= 2;
        if trouble
            || listy
            || found.kind.is_some()
            || found.namespace.is_some()
            || namespace.is_some()
            || looks_like_a_name
            || short
        {
            let target = Target { name: found.name, namespace: found.namespace.or(namespace), kind: found.kind };
            return Intent::Diagnose { target };
        }
        return Intent::Help { hint: Some(NOT_UNDERSTOOD.into()) };
    }
    if let Some(kind) = list_kind
        && (w.has_any(lexicon::STRONG_LIST_VERBS) || !trouble)
    {
        return Intent::List {
            kind: kind.kind.to_string(),
            plural: kind.plural.to_string(),
            namespaced: kind.namespaced,
            namespace,
        };
    }
    if trouble || w.has_any(lexicon::EVERYTHING_WORDS) {
        return Intent::Health { namespace };
    }
    if asks_help || w.has_any(&["you", "yourself"]) {
        return Intent::Help { hint: None };
    }
    Intent::Help { hint: Some(NOT_UNDERSTOOD.into()) }
}

/// Scale, restart and roll back: only as an imperative (the first meaningful word is the verb), so that
/// "why does x keep restarting" is a diagnosis, not a restart.
fn change(w: &mut Words, namespace: Option<&str>) -> Option<Intent> {
    let (i, verb) = w.first_meaningful()?;
    let next = w.next_free(i).map(|(j, word)| (j, word.to_string()));
    let next_word = next.as_ref().map(|(_, word)| word.as_str());
    let (action, used): (ChangeAction, Vec<usize>) = match (verb, next_word) {
        ("scale", _) => (ChangeAction::Scale { replicas: None }, vec![i]),
        ("restart" | "bounce" | "redeploy", _) => (ChangeAction::Restart, vec![i]),
        ("rollback" | "undo" | "revert", _) => (ChangeAction::Undo { to_revision: None }, vec![i]),
        ("roll", Some("back")) => {
            (ChangeAction::Undo { to_revision: None }, next.iter().map(|n| n.0).chain([i]).collect())
        }
        ("roll", _) if w.has_any(&["back"]) => (ChangeAction::Undo { to_revision: None }, vec![i]),
        ("rollout", Some("restart")) => (ChangeAction::Restart, next.iter().map(|n| n.0).chain([i]).collect()),
        ("rollout", Some("undo")) => {
            (ChangeAction::Undo { to_revision: None }, next.iter().map(|n| n.0).chain([i]).collect())
        }
        _ => return None,
    };
    for j in used {
        w.take(j);
    }
    let action = match action {
        ChangeAction::Scale { .. } => ChangeAction::Scale {
            replicas: w.take_number(
                &["to", "--replicas", "replicas", "=", "x"],
                &["--replicas", "replicas"],
                &["replicas", "replica", "pods", "instances", "copies"],
            ),
        },
        ChangeAction::Undo { .. } => ChangeAction::Undo {
            to_revision: w.take_number(&["revision", "rev", "--to-revision"], &["--to-revision", "revision"], &[]),
        },
        ChangeAction::Restart => ChangeAction::Restart,
    };
    let verb_text = match &action {
        ChangeAction::Scale { .. } => "scale",
        ChangeAction::Restart => "restart",
        ChangeAction::Undo { .. } => "roll back",
    };
    match w.take_name(&[]) {
        Some(found) if found.kind != Some(WorkloadKind::Pod) => {
            let target = Target {
                name: found.name,
                namespace: found.namespace.or(namespace.map(str::to_string)),
                kind: found.kind,
            };
            Some(Intent::Change { action, target })
        }
        Some(found) => Some(Intent::Help {
            hint: Some(format!(
                "I can only {verb_text} workloads (Deployments, StatefulSets, DaemonSets), not the pod `{}` itself.",
                found.name
            )),
        }),
        None => Some(Intent::Help {
            hint: Some(format!(
                "Tell me which workload to {verb_text}, e.g. `{verb_text} deployment frontend in shop{}`.",
                if verb_text == "scale" { " to 3" } else { "" }
            )),
        }),
    }
}

/// Logs of a pod or workload.
fn logs(w: &mut Words, namespace: Option<String>) -> Intent {
    let previous = w.has_any(lexicon::PREVIOUS_WORDS) || (w.has_any(&["last", "before"]) && w.has_any(&["crash"]));
    let tail_lines = w.take_number(
        &["last", "tail", "--tail", "-n", "latest", "first"],
        &["--tail", "tail", "--tail-lines", "taillines", "lines"],
        &["lines", "line"],
    );
    match w.take_name(&[]) {
        Some(found) => Intent::Logs {
            target: Target { name: found.name, namespace: found.namespace.or(namespace), kind: found.kind },
            previous,
            tail_lines,
        },
        None => Intent::Help {
            hint: Some("Tell me whose logs to show, e.g. `show logs of payments-api in payments`.".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, namespace: Option<&str>, kind: Option<WorkloadKind>) -> Target {
        Target { name: name.into(), namespace: namespace.map(str::to_string), kind }
    }

    #[test]
    fn health_questions() {
        for q in ["What is broken?", "what's wrong", "any problems?", "Health check", "is everything ok?"] {
            assert_eq!(parse(q), Intent::Health { namespace: None }, "{q}");
        }
        for q in [
            "what is broken in namespace payments",
            "What's wrong in payments?",
            "any issues -n payments",
            "health check of the payments namespace",
        ] {
            assert_eq!(parse(q), Intent::Health { namespace: Some("payments".into()) }, "{q}");
        }
    }

    #[test]
    fn diagnosis_questions() {
        assert_eq!(
            parse("Why is pod payments-api-5c9d-x2x4 failing?"),
            Intent::Diagnose { target: target("payments-api-5c9d-x2x4", None, Some(WorkloadKind::Pod)) }
        );
        assert_eq!(parse("what's wrong with ledger"), Intent::Diagnose { target: target("ledger", None, None) });
        assert_eq!(
            parse("why is storefront not ready in web"),
            Intent::Diagnose { target: target("storefront", Some("web"), None) }
        );
        assert_eq!(
            parse("why is web/storefront pending"),
            Intent::Diagnose { target: target("storefront", Some("web"), None) }
        );
        assert_eq!(
            parse("why does deployment cart keep restarting"),
            Intent::Diagnose { target: target("cart", None, Some(WorkloadKind::Deployment)) }
        );
    }

    #[test]
    fn log_questions() {
        assert_eq!(
            parse("show logs of ledger"),
            Intent::Logs { target: target("ledger", None, None), previous: false, tail_lines: None }
        );
        assert_eq!(
            parse("previous logs for pod payments-api-1 -n payments, last 30 lines"),
            Intent::Logs {
                target: target("payments-api-1", Some("payments"), Some(WorkloadKind::Pod)),
                previous: true,
                tail_lines: Some(30)
            }
        );
        assert!(matches!(parse("show logs"), Intent::Help { hint: Some(_) }));
    }

    #[test]
    fn change_requests() {
        assert_eq!(
            parse("scale deployment frontend in shop to 3 replicas"),
            Intent::Change {
                action: ChangeAction::Scale { replicas: Some(3) },
                target: target("frontend", Some("shop"), Some(WorkloadKind::Deployment))
            }
        );
        assert_eq!(
            parse("please restart cart -n shop"),
            Intent::Change { action: ChangeAction::Restart, target: target("cart", Some("shop"), None) }
        );
        assert_eq!(
            parse("roll back storefront in web"),
            Intent::Change {
                action: ChangeAction::Undo { to_revision: None },
                target: target("storefront", Some("web"), None)
            }
        );
        assert_eq!(
            parse("rollout undo deploy/storefront -n web --to-revision=1"),
            Intent::Change {
                action: ChangeAction::Undo { to_revision: Some(1) },
                target: target("storefront", Some("web"), Some(WorkloadKind::Deployment))
            }
        );
        assert_eq!(
            parse("scale statefulset redis to 2"),
            Intent::Change {
                action: ChangeAction::Scale { replicas: Some(2) },
                target: target("redis", None, Some(WorkloadKind::StatefulSet))
            }
        );
        assert!(matches!(parse("restart"), Intent::Help { hint: Some(_) }));
    }

    #[test]
    fn list_and_help() {
        assert_eq!(
            parse("list pods in web"),
            Intent::List {
                kind: "pods".into(),
                plural: "pods".into(),
                namespaced: true,
                namespace: Some("web".into())
            }
        );
        assert!(matches!(parse("show me the deployments"), Intent::List { namespace: None, .. }));
        assert!(matches!(parse("get nodes"), Intent::List { namespaced: false, .. }));
        assert_eq!(parse("help"), Intent::Help { hint: None });
        assert_eq!(parse("what can you do?"), Intent::Help { hint: None });
        assert!(matches!(parse("tell me a joke"), Intent::Help { hint: Some(_) }));
        assert!(matches!(parse("kubectl get pods -n web"), Intent::List { namespace: Some(ns), .. } if ns == "web"));
        assert!(
            matches!(parse("what pods are running in web?"), Intent::List { namespace: Some(ns), .. } if ns == "web")
        );
        assert!(matches!(parse("get pods -A"), Intent::List { namespace: None, .. }));
    }

    #[test]
    fn more_phrasings() {
        assert_eq!(parse("which pods are crashing in data"), Intent::Health { namespace: Some("data".into()) });
        assert_eq!(parse("show me what's broken"), Intent::Health { namespace: None });
        assert_eq!(
            parse("why is the ledger pod OOMKilled?"),
            Intent::Diagnose { target: target("ledger", None, Some(WorkloadKind::Pod)) }
        );
        assert_eq!(
            parse("is payments/payments-api healthy"),
            Intent::Diagnose { target: target("payments-api", Some("payments"), None) }
        );
        assert_eq!(
            parse("kubectl logs -n payments deploy/payments-api --previous"),
            Intent::Logs {
                target: target("payments-api", Some("payments"), Some(WorkloadKind::Deployment)),
                previous: true,
                tail_lines: None
            }
        );
        assert_eq!(
            parse("Can you restart the frontend deployment in shop?"),
            Intent::Change {
                action: ChangeAction::Restart,
                target: target("frontend", Some("shop"), Some(WorkloadKind::Deployment))
            }
        );
        assert_eq!(
            parse("scale payments-api to 0"),
            Intent::Change {
                action: ChangeAction::Scale { replicas: Some(0) },
                target: target("payments-api", None, None)
            }
        );
        assert_eq!(
            parse("scale cart"),
            Intent::Change { action: ChangeAction::Scale { replicas: None }, target: target("cart", None, None) }
        );
        assert!(matches!(parse("restart pod cart-abc"), Intent::Help { hint: Some(h) } if h.contains("not the pod")));
        assert_eq!(parse("why does redis keep restarting"), Intent::Diagnose { target: target("redis", None, None) });
    }
}
