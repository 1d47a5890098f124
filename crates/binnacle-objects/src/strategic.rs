//! Strategic merge patch (`application/strategic-merge-patch+json`), as kube-apiserver applies it.
//!
//! A strategic merge patch is a JSON merge patch that knows how the lists of built-in kinds merge:
//! some lists are keyed (containers merge by `name`), some are sets of primitives (`finalizers`), and
//! the rest are replaced whole. The patch may also carry directives (`$patch`, `$retainKeys`,
//! `$setElementOrder/<field>`, `$deleteFromPrimitiveList/<field>`), which kubectl generates and which
//! never appear in the result.
//!
//! The merge keys are data: `LIST_FIELDS` lists the merging list fields of a few schema types and
//! `KIND_PLACEMENTS` says where those types sit in each built-in kind.

use serde_json::{Map, Value};

/// How a list field merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// The patch's list replaces the whole list.
    Atomic,
    /// Elements are objects identified by the named key field: matching elements merge, new ones are appended.
    MergeByKey(&'static str),
    /// Elements are primitive values kept as an ordered set: the patch's values are added when missing.
    PrimitiveSet,
}

/// Why a strategic merge patch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patch body is not a JSON object.
    #[error("strategic merge patch must be a JSON object")]
    PatchNotAnObject,
    /// The object being patched is not a JSON object.
    #[error("the object to patch is not a JSON object")]
    OriginalNotAnObject,
    /// A `$patch` directive has a value other than `replace` or `delete`.
    #[error("invalid $patch directive {value} at {path}: expected \"replace\" or \"delete\"")]
    BadDirective {
        /// Dotted path of the map or list holding the directive.
        path: String,
        /// The directive's value, as JSON.
        value: String,
    },
    /// A `$retainKeys`, `$setElementOrder/...` or `$deleteFromPrimitiveList/...` value has the wrong shape.
    #[error("invalid {directive} at {path}: {expected}")]
    BadDirectiveValue {
        /// The directive key as written in the patch.
        directive: String,
        /// Dotted path of the map holding the directive.
        path: String,
        /// What the directive should have been.
        expected: &'static str,
    },
    /// An element of a keyed list is not an object carrying the list's merge key.
    #[error("list {path} merges by key \"{key}\": every element must be an object with a \"{key}\" field")]
    MissingMergeKey {
        /// Dotted path of the list.
        path: String,
        /// The list's merge key.
        key: &'static str,
    },
}

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// API groups whose kinds are all built in, hence support strategic merge patch.
const STRATEGIC_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "networking.k8s.io",
    "policy",
    "autoscaling",
    "rbac.authorization.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "apiextensions.k8s.io",
];

/// Kinds whose pod template sits at `spec.template`.
const POD_TEMPLATE_OWNERS: &[&str] =
    &["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"];

/// A schema type and where it sits: `(dotted path from the object root, type)`; `""` is the root.
type Placement = (&'static str, &'static str);

/// Where schema types sit in each built-in kind. Every kind also has [`COMMON_PLACEMENTS`], consulted
/// after its own.
const KIND_PLACEMENTS: &[(&[&str], &[Placement])] = &[
    (&["Pod"], &[("spec", "PodSpec"), ("status", "PodStatus")]),
    (POD_TEMPLATE_OWNERS, &[("spec.template.metadata", "ObjectMeta"), ("spec.template.spec", "PodSpec")]),
    (&["PodTemplate"], &[("template.metadata", "ObjectMeta"), ("template.spec", "PodSpec")]),
    (
        &["CronJob"],
        &[
            ("spec.jobTemplate.metadata", "ObjectMeta"),
            ("spec.jobTemplate.spec.template.metadata", "ObjectMeta"),
            ("spec.jobTemplate.spec.template.spec", "PodSpec"),
        ],
    ),
    (&["Service"], &[("spec", "ServiceSpec")]),
    (&["Node"], &[("spec", "NodeSpec"), ("status", "NodeStatus")]),
    (&["ServiceAccount"], &[("", "ServiceAccount")]),
    (&["Endpoints"], &[("", "Endpoints")]),
];

/// Placements shared by every kind, built-in or not.
const COMMON_PLACEMENTS: &[Placement] = &[("metadata", "ObjectMeta"), ("status", "Status")];

/// The list fields of each schema type: `(type, field, strategy, element type)`.
/// Lists not named here are atomic; the explicit `Atomic` rows document deliberate choices.
const LIST_FIELDS: &[(&str, &str, ListStrategy, Option<&str>)] = {
    use ListStrategy::{Atomic, MergeByKey, PrimitiveSet};
    &[
        ("ObjectMeta", "ownerReferences", MergeByKey("uid"), None),
        ("ObjectMeta", "finalizers", PrimitiveSet, None),
        ("Status", "conditions", MergeByKey("type"), None),
        ("PodSpec", "containers", MergeByKey("name"), Some("Container")),
        ("PodSpec", "initContainers", MergeByKey("name"), Some("Container")),
        ("PodSpec", "ephemeralContainers", MergeByKey("name"), Some("Container")),
        ("PodSpec", "imagePullSecrets", MergeByKey("name"), None),
        ("PodSpec", "volumes", MergeByKey("name"), None),
        ("PodSpec", "hostAliases", MergeByKey("ip"), None),
        ("PodSpec", "topologySpreadConstraints", MergeByKey("topologyKey"), None),
        ("PodSpec", "schedulingGates", MergeByKey("name"), None),
        ("PodSpec", "resourceClaims", MergeByKey("name"), None),
        ("PodSpec", "tolerations", Atomic, None),
        ("Container", "env", MergeByKey("name"), None),
        ("Container", "ports", MergeByKey("containerPort"), None),
        ("Container", "volumeMounts", MergeByKey("mountPath"), None),
        ("Container", "volumeDevices", MergeByKey("devicePath"), None),
        ("Container", "envFrom", Atomic, None),
        ("PodStatus", "podIPs", MergeByKey("ip"), None),
        ("PodStatus", "hostIPs", MergeByKey("ip"), None),
        ("NodeSpec", "podCIDRs", PrimitiveSet, None),
        ("NodeSpec", "taints", MergeByKey("key"), None),
        ("NodeStatus", "addresses", MergeByKey("type"), None),
        ("ServiceSpec", "ports", MergeByKey("port"), None),
        ("ServiceAccount", "secrets", MergeByKey("name"), None),
        ("ServiceAccount", "imagePullSecrets", MergeByKey("name"), None),
        ("Endpoints", "subsets", Atomic, None),
    ]
};

/// Whether strategic merge patch is supported for this kind (built-in kinds only; custom resources get 415).
///
/// Every kind served in the built-in groups is itself built in, so the group alone decides.
pub fn supports_strategic(group: &str, _kind: &str) -> bool {
    STRATEGIC_GROUPS.contains(&group)
}

/// The strategy of the list at `path` (field names from the object root, e.g.
/// `["spec","template","spec","containers"]`) for a kind. List elements add no segment to the path.
pub fn list_strategy(kind: &str, path: &[&str]) -> ListStrategy {
    placements(kind)
        .find_map(|(at, ty)| strip_dotted_prefix(path, at).and_then(|rest| strategy_in_type(ty, rest)))
        .unwrap_or(ListStrategy::Atomic)
}

/// The placements of a kind: its own first, then the common ones.
fn placements(kind: &str) -> impl Iterator<Item = Placement> + '_ {
    KIND_PLACEMENTS
        .iter()
        .filter(move |(kinds, _)| kinds.contains(&kind))
        .flat_map(|(_, at)| at.iter().copied())
        .chain(COMMON_PLACEMENTS.iter().copied())
}

/// `path` without the leading segments spelled by `dotted`, or `None` when it does not start with them.
fn strip_dotted_prefix<'p, 's>(path: &'p [&'s str], dotted: &str) -> Option<&'p [&'s str]> {
    let mut rest = path;
    for segment in dotted.split('.').filter(|s| !s.is_empty()) {
        let (first, tail) = rest.split_first()?;
        if *first != segment {
            return None;
        }
        rest = tail;
    }
    Some(rest)
}

/// The strategy of the list at `rest` inside schema type `ty`, descending through list element types.
fn strategy_in_type(ty: &str, rest: &[&str]) -> Option<ListStrategy> {
    let (field, tail) = rest.split_first()?;
    let (_, _, strategy, element) = LIST_FIELDS.iter().find(|(t, f, _, _)| *t == ty && f == field)?;
    if tail.is_empty() { Some(*strategy) } else { strategy_in_type((*element)?, tail) }
}

/// Apply a strategic merge patch to `original` (a full object of `kind`), returning the new object.
pub fn strategic_merge(kind: &str, original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let patch = patch.as_object().ok_or(PatchError::PatchNotAnObject)?;
    let original = original.as_object().ok_or(PatchError::OriginalNotAnObject)?;
    let merged = Merger { kind }.merge_map(original.clone(), patch, &[])?;
    Ok(Value::Object(merged.unwrap_or_default()))
}

/// A `$patch` directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Replace,
    Delete,
}

/// Merges patches into objects of one kind.
struct Merger<'k> {
    kind: &'k str,
}

impl Merger<'_> {
    /// Merges `patch` into the map `target` at schema `path`; `None` when the patch deletes the map.
    fn merge_map(
        &self,
        mut target: Map<String, Value>,
        patch: &Map<String, Value>,
        path: &[&str],
    ) -> Result<Option<Map<String, Value>>, PatchError> {
        match directive(patch, path)? {
            Some(Directive::Delete) => return Ok(None),
            Some(Directive::Replace) => target.clear(),
            None => {}
        }
        for (key, value) in patch.iter().filter(|(key, _)| !is_directive(key)) {
            self.merge_field(&mut target, key, value, patch, path)?;
        }
        for field in directive_only_lists(patch) {
            self.merge_list_field(&mut target, field, None, patch, path)?;
        }
        retain_keys(&mut target, patch, path)?;
        Ok(Some(target))
    }

    /// Merges one patch field into `target`; `siblings` is the patch map holding it (for list directives).
    fn merge_field(
        &self,
        target: &mut Map<String, Value>,
        key: &str,
        value: &Value,
        siblings: &Map<String, Value>,
        path: &[&str],
    ) -> Result<(), PatchError> {
        match value {
            Value::Null => {
                target.shift_remove(key);
            }
            Value::Object(sub) => {
                let current = target.get_mut(key).map(Value::take).and_then(into_object).unwrap_or_default();
                match self.merge_map(current, sub, &child(path, key))? {
                    Some(merged) => {
                        target.insert(key.to_string(), Value::Object(merged));
                    }
                    None => {
                        target.shift_remove(key);
                    }
                }
            }
            Value::Array(items) => self.merge_list_field(target, key, Some(items), siblings, path)?,
            scalar => {
                target.insert(key.to_string(), scalar.clone());
            }
        }
        Ok(())
    }

    /// Updates the list `key` of `target` from the patch's list (if any) and the sibling list directives.
    fn merge_list_field(
        &self,
        target: &mut Map<String, Value>,
        key: &str,
        items: Option<&Vec<Value>>,
        siblings: &Map<String, Value>,
        path: &[&str],
    ) -> Result<(), PatchError> {
        let list_path = child(path, key);
        let existing = target.get_mut(key).and_then(Value::as_array_mut).map(std::mem::take);
        if existing.is_none() && items.is_none() {
            return Ok(());
        }
        let strategy = list_strategy(self.kind, &list_path);
        let mut list = existing.unwrap_or_default();
        if let Some(unwanted) = list_directive(siblings, DELETE_FROM_PRIMITIVE_LIST, key, path)? {
            list.retain(|value| !unwanted.contains(value));
        }
        if let Some(items) = items {
            list = self.merge_list(list, items, strategy, &list_path)?;
        }
        if let Some(order) = list_directive(siblings, SET_ELEMENT_ORDER, key, path)? {
            list = reorder(list, order, strategy).ok_or_else(|| PatchError::BadDirectiveValue {
                directive: format!("{SET_ELEMENT_ORDER}{key}"),
                path: dotted(path),
                expected: "every entry must carry the list's merge key",
            })?;
        }
        target.insert(key.to_string(), Value::Array(list));
        Ok(())
    }

    /// Merges the patch's list `items` into `list` according to `strategy`.
    fn merge_list(
        &self,
        list: Vec<Value>,
        items: &[Value],
        strategy: ListStrategy,
        path: &[&str],
    ) -> Result<Vec<Value>, PatchError> {
        let (list, items) = match without_replace_marker(items) {
            Some(rest) => (Vec::new(), rest),
            None => (list, items.iter().collect()),
        };
        match strategy {
            ListStrategy::Atomic => Ok(items.into_iter().cloned().collect()),
            ListStrategy::PrimitiveSet => Ok(union(list, &items)),
            ListStrategy::MergeByKey(key) => self.merge_keyed(list, &items, key, path),
        }
    }

    /// Merges keyed elements: deletes, merges matches in place, appends the rest.
    fn merge_keyed(
        &self,
        mut list: Vec<Value>,
        items: &[&Value],
        key: &'static str,
        path: &[&str],
    ) -> Result<Vec<Value>, PatchError> {
        for item in items {
            let missing_key = || PatchError::MissingMergeKey { path: dotted(path), key };
            let element = item.as_object().ok_or_else(missing_key)?;
            let id = element.get(key).filter(|id| !id.is_null()).ok_or_else(missing_key)?;
            let position = list.iter().position(|existing| existing.get(key) == Some(id));
            if directive(element, path)? == Some(Directive::Delete) {
                list.retain(|existing| existing.get(key) != Some(id));
                continue;
            }
            let current = position.and_then(|i| into_object(list[i].take())).unwrap_or_default();
            let merged = Value::Object(self.merge_map(current, element, path)?.unwrap_or_default());
            match position {
                Some(i) => list[i] = merged,
                None => list.push(merged),
            }
        }
        Ok(list)
    }
}

/// The `$patch` directive of a patch map, if any.
fn directive(patch: &Map<String, Value>, path: &[&str]) -> Result<Option<Directive>, PatchError> {
    match patch.get(PATCH) {
        None => Ok(None),
        Some(Value::String(s)) if s == "replace" => Ok(Some(Directive::Replace)),
        Some(Value::String(s)) if s == "delete" => Ok(Some(Directive::Delete)),
        Some(other) => Err(PatchError::BadDirective { path: dotted(path), value: other.to_string() }),
    }
}

/// Whether a patch key is a directive rather than a field (`$ref` in CRD schemas is a field).
fn is_directive(key: &str) -> bool {
    key == PATCH
        || key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// Lists named only by `$setElementOrder/...` or `$deleteFromPrimitiveList/...` keys, not patched themselves.
fn directive_only_lists(patch: &Map<String, Value>) -> Vec<&str> {
    let mut fields: Vec<&str> = Vec::new();
    let named = patch
        .keys()
        .filter_map(|key| key.strip_prefix(SET_ELEMENT_ORDER).or_else(|| key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST)));
    for field in named {
        if !patch.contains_key(field) && !fields.contains(&field) {
            fields.push(field);
        }
    }
    fields
}

/// The list value of the directive `prefix` + `field` in `patch`, if present.
fn list_directive<'p>(
    patch: &'p Map<String, Value>,
    prefix: &str,
    field: &str,
    path: &[&str],
) -> Result<Option<&'p Vec<Value>>, PatchError> {
    let name = format!("{prefix}{field}");
    match patch.get(&name) {
        None => Ok(None),
        Some(Value::Array(values)) => Ok(Some(values)),
        Some(_) => {
            Err(PatchError::BadDirectiveValue { directive: name, path: dotted(path), expected: "expected a list" })
        }
    }
}

/// Applies `$retainKeys`: drops the keys of `target` not listed.
fn retain_keys(target: &mut Map<String, Value>, patch: &Map<String, Value>, path: &[&str]) -> Result<(), PatchError> {
    let Some(value) = patch.get(RETAIN_KEYS) else {
        return Ok(());
    };
    let bad = || PatchError::BadDirectiveValue {
        directive: RETAIN_KEYS.to_string(),
        path: dotted(path),
        expected: "expected a list of field names",
    };
    let keep: Vec<&str> =
        value.as_array().ok_or_else(bad)?.iter().map(Value::as_str).collect::<Option<_>>().ok_or_else(bad)?;
    target.retain(|key, _| keep.contains(&key.as_str()));
    Ok(())
}

/// The list without its `{"$patch":"replace"}` marker, or `None` when it has none.
fn without_replace_marker(items: &[Value]) -> Option<Vec<&Value>> {
    let is_marker = |item: &Value| item.get(PATCH).and_then(Value::as_str) == Some("replace");
    items.iter().any(is_marker).then(|| items.iter().filter(|item| !is_marker(item)).collect())
}

/// Appends the values of `items` missing from `list`.
fn union(mut list: Vec<Value>, items: &[&Value]) -> Vec<Value> {
    for item in items {
        if !list.contains(item) {
            list.push((*item).clone());
        }
    }
    list
}

/// Puts the elements named by `$setElementOrder` first, in that order; the others follow in their order.
/// `None` when an entry of `order` lacks the list's merge key.
fn reorder(list: Vec<Value>, order: &[Value], strategy: ListStrategy) -> Option<Vec<Value>> {
    let wanted = order.iter().map(|entry| element_id(entry, strategy)).collect::<Option<Vec<Value>>>()?;
    let mut pending: Vec<Option<Value>> = list.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(pending.len());
    for id in &wanted {
        let matches =
            |slot: &&mut Option<Value>| slot.as_ref().and_then(|v| element_id(v, strategy)).as_ref() == Some(id);
        ordered.extend(pending.iter_mut().find(matches).and_then(Option::take));
    }
    ordered.extend(pending.into_iter().flatten());
    Some(ordered)
}

/// What identifies a list element: its merge key in keyed lists, its whole value otherwise.
fn element_id(value: &Value, strategy: ListStrategy) -> Option<Value> {
    match strategy {
        ListStrategy::MergeByKey(key) => value.get(key).cloned(),
        _ => Some(value.clone()),
    }
}

/// The object inside a value, if it is one.
fn into_object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `path` extended by one field name.
fn child<'a>(path: &[&'a str], name: &'a str) -> Vec<&'a str> {
    let mut out = path.to_vec();
    out.push(name);
    out
}

/// A schema path in dotted form (`.spec.template`), `.` for the root.
fn dotted(path: &[&str]) -> String {
    if path.is_empty() { ".".to_string() } else { path.iter().map(|p| format!(".{p}")).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(kind: &str, original: Value, patch: Value) -> Value {
        strategic_merge(kind, &original, &patch).expect("patch applies")
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "frontend"}},
            "spec": {
                "replicas": 2,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "main", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                            {"name": "side", "image": "busybox"}
                        ],
                        "volumes": [{"name": "data", "emptyDir": {}}]
                    }
                }
            }
        })
    }

    #[test]
    fn list_strategies_follow_the_table() {
        let pod_spec = ["spec", "template", "spec"];
        let at = |tail: &[&'static str]| [&pod_spec[..], tail].concat();
        assert_eq!(list_strategy("Deployment", &at(&["containers"])), ListStrategy::MergeByKey("name"));
        assert_eq!(
            list_strategy("Deployment", &at(&["containers", "ports"])),
            ListStrategy::MergeByKey("containerPort")
        );
        assert_eq!(list_strategy("Deployment", &at(&["tolerations"])), ListStrategy::Atomic);
        assert_eq!(list_strategy("Deployment", &at(&["containers", "args"])), ListStrategy::Atomic);
        assert_eq!(
            list_strategy("Pod", &["spec", "initContainers", "volumeMounts"]),
            ListStrategy::MergeByKey("mountPath")
        );
        assert_eq!(list_strategy("Pod", &["spec", "containers"]), ListStrategy::MergeByKey("name"));
        assert_eq!(list_strategy("Pod", &["status", "conditions"]), ListStrategy::MergeByKey("type"));
        assert_eq!(list_strategy("Pod", &["status", "podIPs"]), ListStrategy::MergeByKey("ip"));
        assert_eq!(
            list_strategy("CronJob", &["spec", "jobTemplate", "spec", "template", "spec", "volumes"]),
            ListStrategy::MergeByKey("name")
        );
        assert_eq!(list_strategy("PodTemplate", &["template", "spec", "hostAliases"]), ListStrategy::MergeByKey("ip"));
        assert_eq!(
            list_strategy("StatefulSet", &["spec", "template", "metadata", "finalizers"]),
            ListStrategy::PrimitiveSet
        );
        assert_eq!(list_strategy("Widget", &["metadata", "ownerReferences"]), ListStrategy::MergeByKey("uid"));
        assert_eq!(list_strategy("Widget", &["status", "conditions"]), ListStrategy::MergeByKey("type"));
        assert_eq!(list_strategy("Widget", &["spec", "containers"]), ListStrategy::Atomic);
        assert_eq!(list_strategy("Node", &["spec", "podCIDRs"]), ListStrategy::PrimitiveSet);
        assert_eq!(list_strategy("Node", &["spec", "taints"]), ListStrategy::MergeByKey("key"));
        assert_eq!(list_strategy("Node", &["status", "addresses"]), ListStrategy::MergeByKey("type"));
        assert_eq!(list_strategy("Service", &["spec", "ports"]), ListStrategy::MergeByKey("port"));
        assert_eq!(list_strategy("ServiceAccount", &["secrets"]), ListStrategy::MergeByKey("name"));
        assert_eq!(list_strategy("Endpoints", &["subsets"]), ListStrategy::Atomic);
    }

    #[test]
    fn strategic_support_is_for_built_in_groups() {
        assert!(supports_strategic("", "ConfigMap"));
        assert!(supports_strategic("apps", "Deployment"));
        assert!(supports_strategic("apiextensions.k8s.io", "CustomResourceDefinition"));
        assert!(!supports_strategic("example.com", "Widget"));
        assert!(!supports_strategic("monitoring.coreos.com", "ServiceMonitor"));
    }

    #[test]
    fn kubectl_client_side_apply_drops_label_sidecar_env_and_volumes() {
        let patch = json!({"metadata":{"labels":{"tier":null}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"main"}],"containers":[{"$setElementOrder/env":[{"name":"B"}],"env":[{"$patch":"delete","name":"A"}],"name":"main"},{"$patch":"delete","name":"side"}],"volumes":null}}}});
        let expected = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "main", "image": "nginx:1.25", "env": [{"name": "B", "value": "2"}]}]}
                }
            }
        });
        let result = patched("Deployment", deployment(), patch);
        assert_eq!(result, expected);
        assert_eq!(result.to_string(), expected.to_string(), "key order is preserved");
    }

    #[test]
    fn kubectl_set_image_merges_the_named_container() {
        let original = json!({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.25","ports":[{"containerPort":80}]}]}}}});
        let patch = json!({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"image":"nginx:1.27","name":"app"}]}}}});
        let expected = json!({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}});
        assert_eq!(patched("Deployment", original, patch), expected);
    }

    #[test]
    fn kubectl_rollout_restart_adds_a_template_annotation() {
        let patch = json!({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-02T15:04:05Z"}}}}});
        let result = patched("Deployment", deployment(), patch);
        assert_eq!(
            result["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2026-01-02T15:04:05Z"
        );
        assert_eq!(result["spec"]["template"]["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(result["spec"]["template"]["spec"], deployment()["spec"]["template"]["spec"]);
    }

    #[test]
    fn kubectl_cordon_sets_unschedulable() {
        let node =
            json!({"kind":"Node","metadata":{"name":"n1"},"spec":{"podCIDR":"10.0.0.0/24","podCIDRs":["10.0.0.0/24"]}});
        let result = patched("Node", node, json!({"spec":{"unschedulable":true}}));
        assert_eq!(result["spec"], json!({"podCIDR":"10.0.0.0/24","podCIDRs":["10.0.0.0/24"],"unschedulable":true}));
    }

    #[test]
    fn service_ports_merge_by_port() {
        let service =
            json!({"spec":{"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"https","port":443}]}});
        let patch = json!({"spec":{"ports":[{"port":80,"targetPort":9090},{"name":"metrics","port":9100}]}});
        let expected = json!({"spec":{"ports":[{"name":"http","port":80,"targetPort":9090},{"name":"https","port":443},{"name":"metrics","port":9100}]}});
        assert_eq!(patched("Service", service, patch), expected);
    }

    #[test]
    fn finalizers_are_a_set() {
        let original = json!({"metadata":{"finalizers":["a","b"]}});
        let added = patched("ConfigMap", original.clone(), json!({"metadata":{"finalizers":["b","c"]}}));
        assert_eq!(added["metadata"]["finalizers"], json!(["a", "b", "c"]));
        let removed = patched("ConfigMap", original, json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}));
        assert_eq!(removed, json!({"metadata":{"finalizers":["b"]}}));
    }

    #[test]
    fn primitive_set_order_is_a_list_of_values() {
        let original = json!({"metadata":{"finalizers":["a","b","c"]}});
        let patch =
            json!({"metadata":{"$setElementOrder/finalizers":["c","a"],"$deleteFromPrimitiveList/finalizers":["b"]}});
        assert_eq!(patched("Pod", original, patch), json!({"metadata":{"finalizers":["c","a"]}}));
    }

    #[test]
    fn set_element_order_puts_unnamed_elements_last() {
        let original = json!({"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}});
        let patch = json!({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}]}});
        assert_eq!(
            patched("Pod", original, patch),
            json!({"spec":{"containers":[{"name":"c"},{"name":"a"},{"name":"b"}]}})
        );
    }

    #[test]
    fn patch_replace_in_a_list_replaces_the_list() {
        let original = json!({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}});
        let patch = json!({"spec":{"containers":[{"$patch":"replace"},{"name":"c","image":"z"}]}});
        assert_eq!(patched("Pod", original, patch), json!({"spec":{"containers":[{"name":"c","image":"z"}]}}));
    }

    #[test]
    fn patch_replace_and_delete_in_a_map() {
        let original = json!({"metadata":{"labels":{"a":"1","b":"2"},"annotations":{"x":"y"}}});
        let patch = json!({"metadata":{"labels":{"$patch":"replace","c":"3"},"annotations":{"$patch":"delete"}}});
        assert_eq!(patched("ConfigMap", original, patch), json!({"metadata":{"labels":{"c":"3"}}}));
    }

    #[test]
    fn retain_keys_switches_rolling_update_to_recreate() {
        let patch = json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}});
        let result = patched("Deployment", deployment(), patch);
        assert_eq!(result["spec"]["strategy"], json!({"type":"Recreate"}));
        assert_eq!(result["spec"]["replicas"], 2);
    }

    #[test]
    fn atomic_lists_are_replaced() {
        let original = json!({"spec":{"tolerations":[{"key":"a"}],"containers":[{"name":"c","args":["x","y"]}]}});
        let patch = json!({"spec":{"tolerations":[{"key":"b"}],"containers":[{"name":"c","args":["z"]}]}});
        assert_eq!(
            patched("Pod", original, patch),
            json!({"spec":{"tolerations":[{"key":"b"}],"containers":[{"name":"c","args":["z"]}]}})
        );
    }

    #[test]
    fn custom_kinds_treat_every_list_as_atomic() {
        let original = json!({"spec":{"containers":[{"name":"a"}]}});
        let patch = json!({"spec":{"containers":[{"name":"b"}]}});
        assert_eq!(patched("Widget", original, patch), json!({"spec":{"containers":[{"name":"b"}]}}));
    }

    #[test]
    fn new_fields_lose_nulls_and_directives() {
        let patch = json!({"spec":{"template":{"spec":{"initContainers":[{"name":"init","image":"busybox","env":[{"name":"X","value":null}],"resources":null}]}}}});
        let result = patched("Deployment", deployment(), patch);
        assert_eq!(
            result["spec"]["template"]["spec"]["initContainers"],
            json!([{"name":"init","image":"busybox","env":[{"name":"X"}]}])
        );
    }

    #[test]
    fn status_conditions_merge_by_type() {
        let original =
            json!({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Initialized","status":"True"}]}});
        let patch = json!({"status":{"conditions":[{"type":"Ready","status":"True"}]}});
        let expected =
            json!({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Initialized","status":"True"}]}});
        assert_eq!(patched("Pod", original, patch), expected);
    }

    #[test]
    fn errors_are_reported() {
        let original = deployment();
        assert!(matches!(strategic_merge("Deployment", &original, &json!([1])), Err(PatchError::PatchNotAnObject)));
        let bad_directive = json!({"spec":{"$patch":"explode"}});
        let err = strategic_merge("Deployment", &original, &bad_directive).expect_err("bad directive");
        assert_eq!(
            err.to_string(),
            "invalid $patch directive \"explode\" at .spec: expected \"replace\" or \"delete\""
        );
        let no_key = json!({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}});
        let err = strategic_merge("Deployment", &original, &no_key).expect_err("missing key");
        assert_eq!(
            err.to_string(),
            "list .spec.template.spec.containers merges by key \"name\": every element must be an object with a \"name\" field"
        );
        let bad_order = json!({"spec":{"$setElementOrder/containers":[{"image":"x"}]}});
        let err = strategic_merge("Pod", &json!({"spec":{"containers":[]}}), &bad_order).expect_err("bad order");
        assert_eq!(
            err.to_string(),
            "invalid $setElementOrder/containers at .spec: every entry must carry the list's merge key"
        );
        let bad_retain = json!({"spec":{"$retainKeys":"type"}});
        assert!(matches!(
            strategic_merge("Deployment", &original, &bad_retain),
            Err(PatchError::BadDirectiveValue { .. })
        ));
    }

    #[test]
    fn dollar_fields_that_are_not_directives_are_kept() {
        let original = json!({"spec":{}});
        let patch = json!({"spec":{"schema":{"$ref":"#/definitions/x"}}});
        assert_eq!(patched("CustomResourceDefinition", original, patch.clone()), patch);
    }
}
