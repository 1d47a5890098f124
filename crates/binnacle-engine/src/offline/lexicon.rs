//! The words the offline assistant knows: kinds, verbs, question words, and the filler it skips when it
//! looks for a Kubernetes name in a question.

use super::intent::WorkloadKind;

/// A kind the user can ask to list: the words that name it, what `resources_list` is called with, and the
/// plural shown in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListKind {
    /// Words (singular, plural, short names) that name the kind.
    pub words: &'static [&'static str],
    /// The `kind` argument of `resources_list`.
    pub kind: &'static str,
    /// Plural for answers.
    pub plural: &'static str,
    /// Whether objects of the kind live in namespaces.
    pub namespaced: bool,
}

/// Every kind the list intent understands.
pub(crate) const LIST_KINDS: &[ListKind] = &[
    ListKind { words: &["pod", "pods", "po"], kind: "pods", plural: "pods", namespaced: true },
    ListKind {
        words: &["deployment", "deployments", "deploy", "deploys"],
        kind: "deployments",
        plural: "deployments",
        namespaced: true,
    },
    ListKind {
        words: &["statefulset", "statefulsets", "sts"],
        kind: "statefulsets",
        plural: "statefulsets",
        namespaced: true,
    },
    ListKind { words: &["daemonset", "daemonsets", "ds"], kind: "daemonsets", plural: "daemonsets", namespaced: true },
    ListKind {
        words: &["replicaset", "replicasets", "rs"],
        kind: "replicasets",
        plural: "replicasets",
        namespaced: true,
    },
    ListKind { words: &["service", "services", "svc"], kind: "services", plural: "services", namespaced: true },
    ListKind { words: &["job", "jobs"], kind: "jobs", plural: "jobs", namespaced: true },
    ListKind { words: &["cronjob", "cronjobs", "cj"], kind: "cronjobs", plural: "cronjobs", namespaced: true },
    ListKind { words: &["configmap", "configmaps", "cm"], kind: "configmaps", plural: "configmaps", namespaced: true },
    ListKind { words: &["secret", "secrets"], kind: "secrets", plural: "secrets", namespaced: true },
    ListKind { words: &["ingress", "ingresses", "ing"], kind: "ingresses", plural: "ingresses", namespaced: true },
    ListKind {
        words: &["pvc", "pvcs", "persistentvolumeclaim", "persistentvolumeclaims"],
        kind: "persistentvolumeclaims",
        plural: "persistent volume claims",
        namespaced: true,
    },
    ListKind {
        words: &["pv", "pvs", "persistentvolume", "persistentvolumes"],
        kind: "persistentvolumes",
        plural: "persistent volumes",
        namespaced: false,
    },
    ListKind {
        words: &["hpa", "hpas", "horizontalpodautoscaler", "horizontalpodautoscalers", "autoscalers"],
        kind: "horizontalpodautoscalers",
        plural: "horizontal pod autoscalers",
        namespaced: true,
    },
    ListKind {
        words: &["pdb", "pdbs", "poddisruptionbudget", "poddisruptionbudgets"],
        kind: "poddisruptionbudgets",
        plural: "pod disruption budgets",
        namespaced: true,
    },
    ListKind { words: &["node", "nodes"], kind: "nodes", plural: "nodes", namespaced: false },
    ListKind { words: &["namespace", "namespaces", "ns"], kind: "namespaces", plural: "namespaces", namespaced: false },
    ListKind { words: &["event", "events", "ev"], kind: "events", plural: "events", namespaced: true },
    ListKind {
        words: &["serviceaccount", "serviceaccounts", "sa"],
        kind: "serviceaccounts",
        plural: "service accounts",
        namespaced: true,
    },
    ListKind {
        words: &["storageclass", "storageclasses", "sc"],
        kind: "storageclasses",
        plural: "storage classes",
        namespaced: false,
    },
    ListKind { words: &["rollout", "rollouts", "ro"], kind: "rollouts", plural: "Argo Rollouts", namespaced: true },
];

/// The list kind a word names.
pub(crate) fn list_kind(word: &str) -> Option<&'static ListKind> {
    LIST_KINDS.iter().find(|k| k.words.contains(&word))
}

/// The workload kind a word names (`pod`, `deploy`, `sts`, ...).
pub(crate) fn workload_kind(word: &str) -> Option<WorkloadKind> {
    match word {
        "pod" | "pods" | "po" => Some(WorkloadKind::Pod),
        "deployment" | "deployments" | "deploy" | "deploys" | "deployment.apps" | "deployments.apps" => {
            Some(WorkloadKind::Deployment)
        }
        "statefulset" | "statefulsets" | "sts" | "statefulset.apps" | "statefulsets.apps" => {
            Some(WorkloadKind::StatefulSet)
        }
        "daemonset" | "daemonsets" | "ds" | "daemonset.apps" | "daemonsets.apps" => Some(WorkloadKind::DaemonSet),
        _ => None,
    }
}

/// Words that ask for a list.
pub(crate) const LIST_VERBS: &[&str] = &["list", "show", "get", "display", "print", "which", "what", "enumerate", "ls"];

/// List verbs that win over trouble words ("show failing pods" lists pods; "which pods are failing" is a
/// health question).
pub(crate) const STRONG_LIST_VERBS: &[&str] = &["list", "show", "get", "display", "print", "enumerate", "ls"];

/// Words that ask for logs.
pub(crate) const LOG_WORDS: &[&str] = &["log", "logs", "logging"];

/// Words that ask for the previous (crashed) container's logs.
pub(crate) const PREVIOUS_WORDS: &[&str] = &["previous", "prev", "--previous", "-p", "--previous=true", "crashed"];

/// Words that ask for help.
pub(crate) const HELP_WORDS: &[&str] = &["help", "usage", "commands", "examples", "capabilities", "--help", "-h"];

/// Words that ask whether something is wrong (space-separated).
const TROUBLE_WORDS: &str = "why wrong broken broke failing fail fails failed failure failures crash crashes \
     crashing crashed crashloop crashloops crashlooping crashloopbackoff pending stuck unready ready healthy unhealthy \
     health healthcheck problem problems issue issues error errors erroring down dead restarting oom \
     oomkilled diagnose diagnosis debug troubleshoot investigate inspect explain describe status \
     check happening ok okay fine matter alright triage";

/// Words that mean "everything" in a health question ("is everything ok?").
pub(crate) const EVERYTHING_WORDS: &[&str] = &["everything", "anything", "cluster", "all", "overall"];

/// Words a namespace never is when it follows "in" ("in the cluster", "stuck in pending"; space-separated).
const NOT_NAMESPACES: &str = "the a an all any every each my our your this that these those cluster clusters namespace \
     namespaces ns it there here k8s kubernetes pending crashloop crashloopbackoff crash crashing \
     error errors state status loop loops containercreating imagepullbackoff errimagepull terminating \
     running progress place general total order detail details short brief summary last previous past \
     trouble use";

/// Words that are never a Kubernetes name in a question, so that `why is pod x failing` finds `x`
/// (space-separated).
const FILLER: &str = "a an the is are was were be been being am do does did doing done have has had i me my we our us \
     you your it its this that these those there here what whats which who whom whose where when why \
     how hows can could would should will shall may might must please pls plz kindly thanks thank hey \
     hi hello just now currently right also then so and or but if of for to from with without about \
     into onto on at by in out up over under again still yet any anything everything something \
     nothing all every each some many much more most less few show list get give tell display print \
     see view find fetch look looking check describe explain help them him her they he she going \
     happened state keeps keep running run runs work working works doesnt dont isnt arent wont cant \
     cannot never starting start started scheduled scheduling schedule logs log tail lines line last \
     previous prev container containers output scale scaled scaling replicas replica rollback roll \
     rolled undo revert restart restarts restarted revision namespace namespaces ns cluster clusters \
     lets let want need go ahead back backoff off not no yes than after before since minutes minute \
     hours hour seconds second ago today yesterday time times image images pull pulling memory killed \
     loop looping like seems seem looks anymore quickly current recent latest new old overall okay ok \
     fine k8s kubernetes app application service services wrong bit lot very really mine down set \
     make change count number instances instance rollout rollouts crashed fix fixed repair deal \
     kubectl k -o wide yaml json -w --watch";

/// Whether `word` is one of the space-separated words of `list`.
fn in_list(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// Whether a word asks whether something is wrong (`why`, `broken`, `pending`, ...).
pub(crate) fn is_trouble(word: &str) -> bool {
    in_list(TROUBLE_WORDS, word)
}

/// Whether a word is never a namespace after "in" (`the`, `cluster`, `pending`, ...).
pub(crate) fn is_not_namespace(word: &str) -> bool {
    in_list(NOT_NAMESPACES, word)
}

/// Whether a word is filler, a question or trouble word, or a kind word: never taken as a name unless it
/// follows a kind (`pod status`).
pub(crate) fn is_vocabulary(word: &str) -> bool {
    in_list(FILLER, word)
        || is_trouble(word)
        || LIST_VERBS.contains(&word)
        || LOG_WORDS.contains(&word)
        || HELP_WORDS.contains(&word)
        || EVERYTHING_WORDS.contains(&word)
        || list_kind(word).is_some()
        || workload_kind(word).is_some()
}
