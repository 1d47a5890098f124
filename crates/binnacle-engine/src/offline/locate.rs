//! Finding the pod a question is about in `resources_list` rows: the pod of that name, or the pods a
//! workload of that name created (`name-<hash>-<id>`, `name-0`), most troubled first.

use super::intent::Target;
use serde_json::{Value, json};

/// The `resources_list` call that finds pods for a target (its namespace, else every namespace).
pub(crate) fn pods_call(target: &Target) -> Value {
    match &target.namespace {
        Some(ns) => json!({"kind": "pods", "namespace": ns, "limit": 500}),
        None => json!({"kind": "pods", "allNamespaces": true, "limit": 500}),
    }
}

/// One pod row of `resources_list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodRow {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Ready containers, `1/2`.
    pub ready: String,
    /// kubectl's STATUS column.
    pub status: String,
    /// Restarts as shown (`3 (20s ago)`).
    pub restarts_text: String,
    /// Restarts as a number.
    pub restarts: i64,
}

impl PodRow {
    /// Reads a row; `None` when it has no name.
    fn from_row(row: &Value, namespace: Option<&str>) -> Option<Self> {
        let text = |key: &str| match row.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let name = text("name");
        if name.is_empty() {
            return None;
        }
        let mut ns = text("namespace");
        if ns.is_empty() {
            ns = namespace.unwrap_or_default().to_string();
        }
        let restarts_text = text("restarts");
        let restarts = restarts_text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        Some(Self { name, namespace: ns, ready: text("ready"), status: text("status"), restarts_text, restarts })
    }

    /// 0 = failing, 1 = running but not ready, 2 = restarted, 3 = fine. Lower sorts first.
    pub(crate) fn trouble_rank(&self) -> u8 {
        let ready_all = self.ready.split_once('/').is_some_and(|(a, b)| a == b);
        match self.status.as_str() {
            "Running" if !ready_all => 1,
            "Running" if self.restarts > 0 => 2,
            "Running" | "Completed" | "Succeeded" => 3,
            _ => 0,
        }
    }

    /// `namespace/name`.
    pub(crate) fn path(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Located {
    /// The pod to look at, and the other pods that matched (most troubled first).
    Found {
        /// The chosen pod.
        pod: PodRow,
        /// Whether it matched as a workload's pod rather than by its own name.
        via_workload: bool,
        /// Other matching pods.
        others: Vec<PodRow>,
    },
    /// Nothing matched.
    NotFound {
        /// Names that look close.
        suggestions: Vec<String>,
        /// Whether the list was cut (more pods exist than were read).
        partial: bool,
    },
}

/// Whether `pod` is a pod a workload called `workload` would create: `workload-<ordinal>`,
/// `workload-<5 characters>` or `workload-<hash>-<5 characters>`.
fn created_by(pod: &str, workload: &str) -> bool {
    let Some(rest) = pod.strip_prefix(workload).and_then(|r| r.strip_prefix('-')) else { return false };
    let alnum = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    match rest.split('-').collect::<Vec<_>>().as_slice() {
        // StatefulSet ordinals, or the random suffix of a Job's or DaemonSet's pod.
        [id] => id.chars().all(|c| c.is_ascii_digit()) || (id.len() == 5 && alnum(id)),
        // ReplicaSet (pod-template-hash) or CronJob (schedule time) pods.
        [hash, id] => hash.len() <= 10 && alnum(hash) && id.len() == 5 && alnum(id),
        _ => false,
    }
}

/// Finds the target's pod in the `resources_list` structured output.
pub(crate) fn find_pod(list: &Value, target: &Target) -> Located {
    let namespace = list.get("namespace").and_then(Value::as_str);
    let rows: Vec<PodRow> = list
        .get("items")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|r| PodRow::from_row(r, namespace)).collect())
        .unwrap_or_default();
    let partial = list.get("continue").is_some_and(|c| !c.is_null());
    let in_scope = |p: &&PodRow| target.namespace.as_deref().is_none_or(|ns| p.namespace == ns);
    let sort = |mut v: Vec<PodRow>| {
        v.sort_by(|a, b| (a.trouble_rank(), &a.namespace, &a.name).cmp(&(b.trouble_rank(), &b.namespace, &b.name)));
        v
    };
    let exact = sort(rows.iter().filter(in_scope).filter(|p| p.name == target.name).cloned().collect());
    let (mut matches, via_workload) = if exact.is_empty() {
        (sort(rows.iter().filter(in_scope).filter(|p| created_by(&p.name, &target.name)).cloned().collect()), true)
    } else {
        (exact, false)
    };
    if matches.is_empty() {
        let mut suggestions: Vec<String> = rows
            .iter()
            .filter(in_scope)
            .filter(|p| p.name.contains(&target.name) || (target.name.len() >= 4 && target.name.contains(&p.name)))
            .map(PodRow::path)
            .collect();
        suggestions.sort();
        suggestions.dedup();
        suggestions.truncate(5);
        return Located::NotFound { suggestions, partial };
    }
    let pod = matches.remove(0);
    Located::Found { pod, via_workload, others: matches }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, namespace: Option<&str>) -> Target {
        Target { name: name.into(), namespace: namespace.map(str::to_string), kind: None }
    }

    #[test]
    fn finds_workload_pods_most_troubled_first() {
        let list = json!({"items": [
            {"name": "api-7d9f-aaaaa", "namespace": "pay", "ready": "1/1", "status": "Running", "restarts": "0"},
            {"name": "api-7d9f-bbbbb", "namespace": "pay", "ready": "0/1", "status": "CrashLoopBackOff",
             "restarts": "4 (10s ago)"},
            {"name": "api-gateway-1", "namespace": "pay", "ready": "1/1", "status": "Running", "restarts": "0"},
            {"name": "redis-0", "namespace": "shop", "ready": "1/1", "status": "Running", "restarts": "0"},
        ]});
        match find_pod(&list, &target("api", None)) {
            Located::Found { pod, via_workload, others } => {
                assert_eq!(pod.name, "api-7d9f-bbbbb");
                assert_eq!(pod.restarts, 4);
                assert!(via_workload);
                assert_eq!(others.len(), 1, "api-gateway-1 is another workload's pod: {others:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(find_pod(&list, &target("redis", None)), Located::Found { pod, .. } if pod.name == "redis-0"));
        assert!(matches!(find_pod(&list, &target("redis-0", Some("pay"))), Located::NotFound { .. }));
        assert_eq!(
            find_pod(&list, &target("gateway", None)),
            Located::NotFound { suggestions: vec!["pay/api-gateway-1".into()], partial: false }
        );
    }
}
