//! Simulated controllers. One loop runs every controller's `reconcile` whenever the store changes or a
//! controller's timer is due; each pass reads the current state and writes what should change through
//! the same API semantics clients use, so writes bump resourceVersions and reach watches.

mod deployment;
mod endpoints;
mod events;
mod gc;
mod kubelet;
mod namespace;
mod nodes;
mod quota;
mod replicaset;
mod scheduler;
mod workloads;

pub use events::EventRecorder;

use crate::cluster::{Cluster, DeleteOptions, Propagation};
use crate::registry::ResourceType;
use crate::store::ObjectKey;
use jiff::Timestamp;
use serde_json::Value;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Resource types already looked up in a pass, by (group, plural).
type TypeCache = HashMap<(String, String), Option<Arc<ResourceType>>>;

/// What a controller pass can see and do.
pub struct Ctx<'a> {
    /// The cluster.
    pub cluster: &'a Cluster,
    /// The time of this pass.
    pub now: Timestamp,
    events: &'a EventRecorder,
    backoff: &'a CreateBackoff,
    wake: Cell<Option<Timestamp>>,
    types: std::cell::RefCell<TypeCache>,
}

impl<'a> Ctx<'a> {
    /// A context for one pass.
    pub fn new(cluster: &'a Cluster, events: &'a EventRecorder, backoff: &'a CreateBackoff) -> Self {
        Self { cluster, now: cluster.clock().now(), events, backoff, wake: Cell::new(None), types: Default::default() }
    }

    /// The preferred resource type for `(group, plural)`, if served.
    pub fn rt(&self, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types
            .borrow_mut()
            .entry((group.to_string(), plural.to_string()))
            .or_insert_with(|| self.cluster.registry().preferred(group, plural))
            .clone()
    }

    /// Every object of a resource (stored form), optionally in one namespace.
    pub fn list(&self, group: &str, plural: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        match self.rt(group, plural) {
            Some(rt) => self.cluster.list_all(&rt.storage, namespace),
            None => Vec::new(),
        }
    }

    /// One object.
    pub fn get(&self, group: &str, plural: &str, namespace: &str, name: &str) -> Option<Arc<Value>> {
        let rt = self.rt(group, plural)?;
        self.cluster.store().get(&rt.storage, &ObjectKey::new(if rt.namespaced { namespace } else { "" }, name))
    }

    /// Asks for another pass no later than `at`.
    pub fn wake_at(&self, at: Timestamp) {
        let at = at.max(self.now);
        match self.wake.get() {
            Some(current) if current <= at => {}
            _ => self.wake.set(Some(at)),
        }
    }

    /// Asks for another pass after `secs` seconds of simulated time.
    pub fn wake_in(&self, secs: f64) {
        self.wake_at(self.now + jiff::SignedDuration::from_secs_f64(secs.max(0.0)));
    }

    /// Creates an object (keeping its status); failures are logged, not fatal.
    pub fn create(&self, group: &str, plural: &str, namespace: &str, obj: Value, manager: &str) -> Option<Arc<Value>> {
        let rt = self.rt(group, plural)?;
        match self.cluster.create_with_status(&rt, namespace, obj, manager) {
            Ok(o) => Some(o),
            Err(e) => {
                tracing::debug!(error = %e, %plural, %namespace, "controller create failed");
                None
            }
        }
    }

    /// Whether `owner` may try to create objects now: not while it waits out the back-off after a refused
    /// create (the real controllers' rate-limited work queues); asks for a pass when the wait ends.
    pub fn may_create(&self, owner: &Value) -> bool {
        match self.backoff.until(util::uid(owner)) {
            Some(until) if until > self.now => {
                self.wake_at(until);
                false
            }
            _ => true,
        }
    }

    /// Creates an object for `owner` through admission, as a controller does: a refusal (a quota, a limit
    /// range, validation) is returned and starts or doubles `owner`'s back-off (5 s up to 5 minutes); a
    /// success ends it.
    pub fn create_for(
        &self,
        owner: &Value,
        plural: &str,
        namespace: &str,
        obj: Value,
        manager: &str,
    ) -> Result<Arc<Value>, crate::error::ApiError> {
        let rt = self
            .rt("", plural)
            .ok_or_else(|| crate::error::ApiError::internal(format!("the server has no resource {plural}")))?;
        let owner_uid = util::uid(owner);
        match self.cluster.create_with_status(&rt, namespace, obj, manager) {
            Ok(created) => {
                self.backoff.clear(owner_uid);
                Ok(created)
            }
            Err(e) => {
                let until = self.backoff.fail(owner_uid, self.now);
                self.wake_at(until);
                tracing::debug!(error = %e, %plural, %namespace, "controller create refused");
                Err(e)
            }
        }
    }

    /// Edits an object in place (spec, metadata or status), retrying on conflicts.
    pub fn modify(&self, group: &str, plural: &str, obj: &Value, change: impl Fn(&mut Value)) -> Option<Arc<Value>> {
        let rt = self.rt(group, plural)?;
        self.cluster.modify(&rt, &ObjectKey::of(obj), change)
    }

    /// Deletes an object with a propagation policy, as a controller would.
    pub fn delete(&self, group: &str, plural: &str, obj: &Value, propagation: Propagation) {
        let Some(rt) = self.rt(group, plural) else { return };
        let key = ObjectKey::of(obj);
        let opts = DeleteOptions { propagation: Some(propagation), ..Default::default() };
        if let Err(e) = self.cluster.delete(&rt, &key.namespace, &key.name, &opts) {
            tracing::debug!(error = %e, %plural, name = %key.name, "controller delete failed");
        }
    }

    /// Records an event about `obj` (repeats are aggregated with a count).
    pub fn event(&self, obj: &Value, warning: bool, reason: &str, message: &str, component: &str) {
        self.events.record(self, obj, None, warning, reason, message, component, None);
    }

    /// Records an event about a container of a pod (`fieldPath spec.containers{name}`), from a node's kubelet.
    pub fn container_event(
        &self,
        pod: &Value,
        container: &str,
        warning: bool,
        reason: &str,
        message: &str,
        host: &str,
    ) {
        let field_path = format!("spec.containers{{{container}}}");
        self.events.record(self, pod, Some(&field_path), warning, reason, message, "kubelet", Some(host));
    }
}

/// Per-owner back-off after refused creates, kept across passes: 5 s, doubling up to 5 minutes.
#[derive(Debug, Default)]
pub struct CreateBackoff {
    owners: std::sync::Mutex<HashMap<String, (Timestamp, u32)>>,
}

impl CreateBackoff {
    fn until(&self, owner: &str) -> Option<Timestamp> {
        self.owners.lock().unwrap_or_else(|e| e.into_inner()).get(owner).map(|b| b.0)
    }

    fn fail(&self, owner: &str, now: Timestamp) -> Timestamp {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        let failures = owners.get(owner).map_or(0, |b| b.1);
        let until = now + jiff::SignedDuration::from_secs((5i64 << failures.min(6)).min(300));
        owners.insert(owner.to_string(), (until, failures + 1));
        if owners.len() > 50_000 {
            owners.retain(|_, b| b.0 > now);
        }
        until
    }

    fn clear(&self, owner: &str) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        if !owners.is_empty() {
            owners.remove(owner);
        }
    }
}

/// One simulated controller.
pub trait Controller: Send {
    /// Name for logs.
    fn name(&self) -> &'static str;
    /// One pass over the current state.
    fn reconcile(&mut self, ctx: &Ctx<'_>);
}

fn all_controllers() -> Vec<Box<dyn Controller>> {
    vec![
        Box::new(namespace::NamespaceController::default()),
        Box::new(nodes::NodeController),
        Box::new(gc::GarbageCollector),
        Box::new(deployment::DeploymentController),
        Box::new(replicaset::ReplicaSetController),
        Box::new(workloads::WorkloadControllers::default()),
        Box::new(quota::QuotaController),
        Box::new(scheduler::Scheduler),
        Box::new(kubelet::Kubelet::default()),
        Box::new(endpoints::EndpointsController),
    ]
}

/// The longest a pass is put off when nothing happens.
const IDLE_RESYNC: Duration = Duration::from_secs(5);
/// Changes arriving within this window are handled in one pass.
const DEBOUNCE: Duration = Duration::from_millis(25);

fn pass(
    cluster: &Cluster,
    recorder: &EventRecorder,
    backoff: &CreateBackoff,
    controllers: &mut [Box<dyn Controller>],
) -> Option<Timestamp> {
    let ctx = Ctx::new(cluster, recorder, backoff);
    for c in controllers.iter_mut() {
        c.reconcile(&ctx);
    }
    ctx.wake.get()
}

/// Runs the controllers until shutdown.
pub async fn run(cluster: Arc<Cluster>, mut shutdown: watch::Receiver<bool>) {
    let mut changes = cluster.store().subscribe();
    let recorder = EventRecorder::default();
    let backoff = CreateBackoff::default();
    let mut controllers = all_controllers();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let started = cluster.clock().now();
        let wake = pass(&cluster, &recorder, &backoff, &mut controllers);
        let sleep = match wake {
            Some(at) => {
                cluster.clock().wall_duration(at.duration_since(started)).clamp(Duration::from_millis(10), IDLE_RESYNC)
            }
            None => IDLE_RESYNC,
        };
        // Our own writes arrive here too; they cost one extra (idle) pass per burst.
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(sleep) => {}
            received = changes.recv() => {
                if let Err(broadcast::error::RecvError::Closed) = received {
                    return;
                }
                tokio::time::sleep(DEBOUNCE).await;
                while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = changes.try_recv() {}
            }
        }
    }
}

/// Helpers shared by controllers.
pub mod util {
    use serde_json::{Value, json};

    /// A string field by JSON pointer.
    pub fn s<'v>(obj: &'v Value, pointer: &str) -> &'v str {
        obj.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
    }

    /// An integer field by JSON pointer.
    pub fn i(obj: &Value, pointer: &str) -> i64 {
        obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
    }

    /// The object's uid.
    pub fn uid(obj: &Value) -> &str {
        s(obj, "/metadata/uid")
    }

    /// Whether the object has a controller ownerReference to `owner_uid`.
    pub fn controlled_by(obj: &Value, owner_uid: &str) -> bool {
        obj.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|refs| {
            refs.iter().any(|r| {
                r.get("uid").and_then(Value::as_str) == Some(owner_uid)
                    && r.get("controller").and_then(Value::as_bool) == Some(true)
            })
        })
    }

    /// The controller ownerReference's (kind, name), if any.
    pub fn controller_of(obj: &Value) -> Option<(&str, &str)> {
        obj.pointer("/metadata/ownerReferences")?.as_array()?.iter().find_map(|r| {
            if r.get("controller").and_then(Value::as_bool) == Some(true) {
                Some((r.get("kind")?.as_str()?, r.get("name")?.as_str()?))
            } else {
                None
            }
        })
    }

    /// A controller ownerReference to `owner`.
    pub fn owner_ref(owner: &Value) -> Value {
        json!({
            "apiVersion": owner.get("apiVersion").cloned().unwrap_or(json!("v1")),
            "kind": owner.get("kind").cloned().unwrap_or(json!("")),
            "name": owner.pointer("/metadata/name").cloned().unwrap_or(json!("")),
            "uid": owner.pointer("/metadata/uid").cloned().unwrap_or(json!("")),
            "controller": true,
            "blockOwnerDeletion": true
        })
    }

    /// Whether the object is being deleted.
    pub fn deleting(obj: &Value) -> bool {
        obj.pointer("/metadata/deletionTimestamp").is_some()
    }

    /// Sets a condition in `status.conditions` (by type), keeping `lastTransitionTime` when the status
    /// does not change.
    pub fn set_condition(
        obj: &mut Value,
        ty: &str,
        status: &str,
        reason: &str,
        message: &str,
        now: &str,
        with_update_time: bool,
    ) {
        if obj.get("status").is_none_or(|s| !s.is_object()) {
            obj["status"] = json!({});
        }
        let conditions = obj["status"].as_object_mut().map(|s| s.entry("conditions").or_insert(json!([])));
        let Some(Value::Array(list)) = conditions else { return };
        let existing = list.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some(ty));
        let transition = match &existing {
            Some(c) if c.get("status").and_then(Value::as_str) == Some(status) => {
                c.get("lastTransitionTime").cloned().unwrap_or(json!(now))
            }
            _ => json!(now),
        };
        let mut cond = json!({"type": ty, "status": status, "lastTransitionTime": transition, "reason": reason, "message": message});
        if with_update_time {
            let update = match &existing {
                Some(c)
                    if c.get("status").and_then(Value::as_str) == Some(status)
                        && c.get("reason").and_then(Value::as_str) == Some(reason)
                        && c.get("message").and_then(Value::as_str) == Some(message) =>
                {
                    c.get("lastUpdateTime").cloned().unwrap_or(json!(now))
                }
                _ => json!(now),
            };
            cond["lastUpdateTime"] = update;
        }
        match existing {
            Some(c) => *c = cond,
            None => list.push(cond),
        }
    }

    /// Reads a condition's status.
    pub fn condition_status<'v>(obj: &'v Value, ty: &str) -> Option<&'v str> {
        obj.pointer("/status/conditions")?
            .as_array()?
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))?
            .get("status")?
            .as_str()
    }

    /// A stable 10-character hash of a value (pod-template-hash style).
    pub fn template_hash(v: &Value) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut h: u64 = 1469598103934665603;
        for b in v.to_string().bytes() {
            h = (h ^ b as u64).wrapping_mul(1099511628211);
        }
        let mut out = String::new();
        for _ in 0..10 {
            out.push(ALPHABET[(h % ALPHABET.len() as u64) as usize] as char);
            h /= ALPHABET.len() as u64;
            if h == 0 {
                h = 0x9e3779b97f4a7c15;
            }
        }
        out
    }

    /// Whether a pod counts as ready (Ready condition True) and is not being deleted.
    pub fn pod_ready(pod: &Value) -> bool {
        !deleting(pod) && condition_status(pod, "Ready") == Some("True")
    }

    /// Whether a pod is active (not terminal, not being deleted).
    pub fn pod_active(pod: &Value) -> bool {
        let phase = s(pod, "/status/phase");
        !deleting(pod) && phase != "Succeeded" && phase != "Failed"
    }
}
