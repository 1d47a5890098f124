//! ControllerRevisions, the history of StatefulSet and DaemonSet pod templates: one `<owner>-<hash>`
//! object per distinct template, whose `data` is the strategic-merge patch that restores it (as the
//! real controllers store it, so `kubectl rollout history --revision` and `rollout undo` work) and whose
//! `revision` counts up. Returning to an older template gives that revision the next number.

use super::super::util::{owner_ref, s, template_hash};
use super::{Ctx, add_labels, int_or, owned_by};
use crate::cluster::Propagation;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// The revision data for a pod template: `{"spec": {"template": {..., "$patch": "replace"}}}`.
pub fn revision_data(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The pod template a revision holds.
pub fn revision_template(revision: &Value) -> Value {
    let mut t = revision.pointer("/data/spec/template").cloned().unwrap_or(json!({}));
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    t
}

/// A revision's number.
pub fn revision_number(revision: &Value) -> i64 {
    int_or(revision, "/revision", 0)
}

/// The owner's revisions and the one for its current template.
pub struct History {
    /// The revision of the current template.
    pub update: Arc<Value>,
    /// Every revision the owner controls (including `update`).
    pub all: Vec<Arc<Value>>,
}

/// Finds or creates the revision of `owner`'s current template. `hash_label` is the label that carries
/// the template hash on revisions (`controller.kubernetes.io/hash` for StatefulSets,
/// `controller-revision-hash` for DaemonSets).
pub fn sync(ctx: &Ctx<'_>, owner: &Value, all_revisions: &[Arc<Value>], hash_label: &str) -> Option<History> {
    let ns = s(owner, "/metadata/namespace");
    let template = owner.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let data = revision_data(&template);
    let mut all = owned_by(all_revisions, ns, s(owner, "/metadata/uid"));
    let max = all.iter().map(|r| revision_number(r)).max().unwrap_or(0);
    let existing = all.iter().find(|r| r.get("data") == Some(&data)).cloned();
    let update = match existing {
        Some(rev) if revision_number(&rev) < max => {
            let next = max + 1;
            let bumped = ctx.modify("apps", "controllerrevisions", &rev, |r| r["revision"] = json!(next))?;
            all.retain(|r| s(r, "/metadata/uid") != s(&bumped, "/metadata/uid"));
            all.push(bumped.clone());
            bumped
        }
        Some(rev) => rev,
        None => {
            let created = create(ctx, owner, &template, data, max + 1, hash_label)?;
            all.push(created.clone());
            created
        }
    };
    all.sort_by_key(|r| revision_number(r));
    Some(History { update, all })
}

fn create(
    ctx: &Ctx<'_>,
    owner: &Value,
    template: &Value,
    data: Value,
    number: i64,
    hash_label: &str,
) -> Option<Arc<Value>> {
    let hash = template_hash(template);
    let mut rev = json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": format!("{}-{hash}", s(owner, "/metadata/name")),
            "namespace": s(owner, "/metadata/namespace"),
            "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "ownerReferences": [owner_ref(owner)],
        },
        "data": data,
        "revision": number,
    });
    add_labels(&mut rev, &[(hash_label, &hash)]);
    ctx.create("apps", "controllerrevisions", s(owner, "/metadata/namespace"), rev, "kube-controller-manager")
}

/// Deletes the oldest revisions beyond `spec.revisionHistoryLimit` that no live pod or status uses.
pub fn prune(ctx: &Ctx<'_>, owner: &Value, history: &History, in_use: &HashSet<String>) {
    let limit = int_or(owner, "/spec/revisionHistoryLimit", 10).max(0) as usize;
    let unused: Vec<&Arc<Value>> = history
        .all
        .iter()
        .filter(|r| {
            let name = s(r, "/metadata/name");
            name != s(&history.update, "/metadata/name") && !in_use.contains(name)
        })
        .collect();
    if unused.len() <= limit {
        return;
    }
    for rev in unused.iter().take(unused.len() - limit) {
        ctx.delete("apps", "controllerrevisions", rev, Propagation::Background);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trips_the_template() {
        let template =
            json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        let data = revision_data(&template);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let rev = json!({"data": data, "revision": 3});
        assert_eq!(revision_template(&rev), template);
        assert_eq!(revision_number(&rev), 3);
    }
}
