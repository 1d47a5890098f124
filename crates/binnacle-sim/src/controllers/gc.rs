//! The garbage collector: deletes objects whose owners are gone (background propagation), deletes
//! dependents before their owner (foreground), and releases dependents of orphaning deletes.

use super::util::{deleting, uid};
use super::{Controller, Ctx};
use crate::cluster::Propagation;
use crate::registry::{ResourceType, StorageKey};
use crate::store::ObjectKey;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// See the module docs.
pub struct GarbageCollector;

fn has_finalizer(obj: &Value, name: &str) -> bool {
    obj.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| f.iter().any(|x| x == name))
}

fn remove_finalizer(obj: &mut Value, name: &str) {
    if let Some(list) = obj.pointer_mut("/metadata/finalizers").and_then(Value::as_array_mut) {
        list.retain(|f| f != name);
    }
}

impl Controller for GarbageCollector {
    fn name(&self) -> &'static str {
        "garbage-collector"
    }

    #[allow(clippy::type_complexity)]
    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let store = ctx.cluster.store();
        let types: BTreeMap<StorageKey, Arc<ResourceType>> =
            ctx.cluster.registry().all().into_iter().filter(|r| !r.read_only).map(|r| (r.storage.clone(), r)).collect();
        let mut dependents: HashMap<String, Vec<(Arc<ResourceType>, Arc<Value>)>> = HashMap::new();
        let mut owners_deleting: Vec<(Arc<ResourceType>, Arc<Value>)> = Vec::new();
        for (storage, rt) in &types {
            if rt.kind == "Event" {
                continue;
            }
            for obj in ctx.cluster.list_all(storage, None) {
                if deleting(&obj) && (has_finalizer(&obj, "foregroundDeletion") || has_finalizer(&obj, "orphan")) {
                    owners_deleting.push((rt.clone(), obj.clone()));
                }
                let Some(refs) = obj.pointer("/metadata/ownerReferences").and_then(Value::as_array) else { continue };
                if refs.is_empty() {
                    continue;
                }
                let missing: Vec<String> = refs
                    .iter()
                    .filter_map(|r| r.get("uid").and_then(Value::as_str))
                    .filter(|u| store.locate_uid(u).is_none())
                    .map(str::to_string)
                    .collect();
                for r in refs {
                    if let Some(u) = r.get("uid").and_then(Value::as_str) {
                        dependents.entry(u.to_string()).or_default().push((rt.clone(), obj.clone()));
                    }
                }
                if missing.is_empty() || deleting(&obj) {
                    continue;
                }
                if missing.len() == refs.len() {
                    ctx.delete(&rt.group, &rt.plural, &obj, Propagation::Background);
                } else {
                    ctx.cluster.modify(rt, &ObjectKey::of(&obj), |o| {
                        if let Some(list) = o.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                            list.retain(|r| {
                                !r.get("uid").and_then(Value::as_str).is_some_and(|u| missing.iter().any(|m| m == u))
                            });
                        }
                    });
                }
            }
        }
        for (rt, owner) in owners_deleting {
            let owner_uid = uid(&owner).to_string();
            let deps = dependents.remove(&owner_uid).unwrap_or_default();
            if has_finalizer(&owner, "orphan") {
                for (drt, dep) in &deps {
                    ctx.cluster.modify(drt, &ObjectKey::of(dep), |o| {
                        if let Some(list) = o.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                            list.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid.as_str()));
                        }
                        if o.pointer("/metadata/ownerReferences")
                            .and_then(Value::as_array)
                            .is_some_and(|l| l.is_empty())
                            && let Some(m) = o["metadata"].as_object_mut()
                        {
                            m.remove("ownerReferences");
                        }
                    });
                }
                ctx.cluster.modify(&rt, &ObjectKey::of(&owner), |o| remove_finalizer(o, "orphan"));
                continue;
            }
            // Foreground: wait until the blocking dependents are gone.
            let blocking: Vec<_> = deps
                .iter()
                .filter(|(_, d)| {
                    d.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|refs| {
                        refs.iter().any(|r| {
                            r.get("uid").and_then(Value::as_str) == Some(owner_uid.as_str())
                                && r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true)
                        })
                    })
                })
                .collect();
            if blocking.is_empty() {
                ctx.cluster.modify(&rt, &ObjectKey::of(&owner), |o| remove_finalizer(o, "foregroundDeletion"));
            } else {
                for (drt, dep) in blocking {
                    if !deleting(dep) {
                        ctx.delete(&drt.group, &drt.plural, dep, Propagation::Foreground);
                    }
                }
                ctx.wake_in(0.5);
            }
        }
    }
}
