//! The namespace controller: gives every namespace its `default` ServiceAccount and `kube-root-ca.crt`
//! ConfigMap, and empties a terminating namespace before removing it.

use super::util::{deleting, s};
use super::{Controller, Ctx};
use crate::cluster::Propagation;
use crate::registry::StorageKey;
use crate::store::ObjectKey;
use serde_json::json;
use std::collections::BTreeSet;

/// Root CA bundle placed in every namespace (a placeholder certificate: the simulator serves plain HTTP).
const ROOT_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYmlubmFjbGUtc2ltLXJvb3QtY2EwCgYIKoZIzj0EAwIw\nFTETMBEGA1UEAxMKc2ltLXJvb3QtY2EwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAx\n-----END CERTIFICATE-----\n";

/// See the module docs.
#[derive(Default)]
pub struct NamespaceController {
    provisioned: BTreeSet<String>,
}

impl Controller for NamespaceController {
    fn name(&self) -> &'static str {
        "namespace-controller"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let namespaces = ctx.list("", "namespaces", None);
        let live: BTreeSet<String> = namespaces.iter().map(|n| s(n, "/metadata/uid").to_string()).collect();
        self.provisioned.retain(|uid| live.contains(uid));
        for ns in &namespaces {
            let name = s(ns, "/metadata/name").to_string();
            if deleting(ns) {
                self.empty(ctx, &name, ns);
                continue;
            }
            let uid = s(ns, "/metadata/uid").to_string();
            if self.provisioned.contains(&uid) {
                continue;
            }
            if ctx.get("", "serviceaccounts", &name, "default").is_none() {
                ctx.create("", "serviceaccounts", &name, json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}}), "serviceaccount-controller");
            }
            if ctx.get("", "configmaps", &name, "kube-root-ca.crt").is_none() {
                ctx.create("", "configmaps", &name, json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "kube-root-ca.crt", "namespace": name, "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
                    "data": {"ca.crt": ROOT_CA}
                }), "root-ca-cert-publisher");
            }
            self.provisioned.insert(uid);
        }
    }
}

impl NamespaceController {
    fn empty(&self, ctx: &Ctx<'_>, name: &str, ns: &serde_json::Value) {
        let mut remaining = 0usize;
        let storages: BTreeSet<StorageKey> = ctx
            .cluster
            .registry()
            .all()
            .into_iter()
            .filter(|rt| rt.namespaced && !rt.read_only)
            .map(|rt| rt.storage.clone())
            .collect();
        for storage in storages {
            let Some(rt) = ctx.cluster.registry().all().into_iter().find(|r| r.storage == storage) else { continue };
            for obj in ctx.cluster.list_all(&storage, Some(name)) {
                remaining += 1;
                if deleting(&obj) {
                    // Objects whose finalizers nobody will remove (no controller for them) are forced out.
                    let stuck =
                        obj.pointer("/metadata/finalizers").and_then(|f| f.as_array()).is_some_and(|f| !f.is_empty());
                    if stuck && rt.kind != "Pod" {
                        ctx.cluster.remove_now(&rt, &ObjectKey::of(&obj));
                    }
                    continue;
                }
                if rt.kind == "Event" {
                    ctx.cluster.remove_now(&rt, &ObjectKey::of(&obj));
                    continue;
                }
                ctx.delete(&rt.group, &rt.plural, &obj, Propagation::Background);
            }
        }
        if remaining == 0 {
            if let Some(rt) = ctx.rt("", "namespaces") {
                ctx.cluster.remove_now(&rt, &ObjectKey::of(ns));
            }
        } else {
            ctx.wake_in(1.0);
        }
    }
}
