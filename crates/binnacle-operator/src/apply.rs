//! Server-side apply of owned objects with the operator's field manager, and an Event on the owner for every
//! object that was really created, changed or deleted.

use crate::Error;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Debug;

/// The field manager of every write the operator makes.
pub const MANAGER: &str = "binnacle-operator";

/// What an apply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The object did not exist.
    Created,
    /// The object existed and differed.
    Updated,
    /// Nothing changed.
    Unchanged,
}

/// The parts of an object the operator decides: everything but status and bookkeeping.
fn essence(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["resourceVersion", "managedFields", "generation"] {
            meta.remove(key);
        }
    }
    v
}

/// Where Events go and who they are about.
#[derive(Clone)]
pub struct Reporting<'a> {
    /// The operator's recorder.
    pub recorder: &'a Recorder,
    /// The owner the Events are about (a Gateway or a Binnacle).
    pub owner: ObjectReference,
    /// Where changes are counted.
    pub metrics: &'a crate::metrics::Metrics,
}

impl Reporting<'_> {
    /// Publishes a Normal Event on the owner; failures are logged only (an Event is not worth a requeue).
    pub async fn event(&self, reason: &str, action: &str, note: String, related: Option<ObjectReference>) {
        let event = Event {
            type_: EventType::Normal,
            reason: reason.into(),
            note: Some(note),
            action: action.into(),
            secondary: related,
        };
        if let Err(e) = self.recorder.publish(&event, &self.owner).await {
            tracing::debug!(error = %e, "cannot record an Event");
        }
    }

    /// Publishes a Warning Event on the owner.
    pub async fn warning(&self, reason: &str, action: &str, note: String) {
        let event = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some(note),
            action: action.into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, &self.owner).await {
            tracing::debug!(error = %e, "cannot record an Event");
        }
    }
}

fn reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    obj.object_ref(&())
}

fn describe<K: Resource<DynamicType = ()>>(obj: &K) -> String {
    match obj.meta().namespace.as_deref() {
        Some(ns) => format!("{} {ns}/{}", K::kind(&()), obj.name_any()),
        None => format!("{} {}", K::kind(&()), obj.name_any()),
    }
}

/// Applies `obj` (server-side, forced, field manager [`MANAGER`]) and tells what changed; records `Created`
/// or `Updated` on the owner.
pub async fn apply<K>(api: &Api<K>, obj: &K, reporting: &Reporting<'_>) -> Result<Change, Error>
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Debug,
{
    let name = obj.name_any();
    let what = describe(obj);
    let before = api.get_opt(&name).await.map_err(|e| Error::kube(format!("read {what}"), e))?;
    let params = PatchParams::apply(MANAGER).force();
    let after =
        api.patch(&name, &params, &Patch::Apply(obj)).await.map_err(|e| Error::kube(format!("apply {what}"), e))?;
    let change = match before {
        None => Change::Created,
        Some(before) => {
            let b = serde_json::to_value(&before).unwrap_or_default();
            let a = serde_json::to_value(&after).unwrap_or_default();
            if essence(b) == essence(a) { Change::Unchanged } else { Change::Updated }
        }
    };
    match change {
        Change::Created => {
            tracing::info!(object = %what, "created");
            reporting.metrics.changed(&K::kind(&()), "created");
            reporting.event("Created", "Create", format!("Created {what}"), Some(reference(&after))).await;
        }
        Change::Updated => {
            tracing::info!(object = %what, "updated");
            reporting.metrics.changed(&K::kind(&()), "updated");
            reporting.event("Updated", "Update", format!("Updated {what}"), Some(reference(&after))).await;
        }
        Change::Unchanged => {}
    }
    Ok(change)
}

/// Deletes `name` if it exists; records `Deleted` on the owner. Returns whether something was deleted.
pub async fn delete<K>(api: &Api<K>, name: &str, reporting: &Reporting<'_>) -> Result<bool, Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let kind = K::kind(&());
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => {
            tracing::info!(kind = %kind, name, "deleted");
            reporting.metrics.changed(&kind, "deleted");
            reporting.event("Deleted", "Delete", format!("Deleted {kind} {name}"), None).await;
            Ok(true)
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(Error::kube(format!("delete {kind} {name}"), e)),
    }
}

/// Adds `finalizer` to an object that is not being deleted and lacks it, with a merge patch conditioned on
/// its resourceVersion (a concurrent change makes it a conflict, retried by the controller). Returns whether
/// it patched; the patch triggers the next reconcile.
///
/// kube-runtime's `finalizer` adds a first finalizer with a JSON patch whose `test` of a missing
/// `/metadata/finalizers` against `null` passes on the API server but fails on the simulated cluster's JSON
/// patch; this step makes both work (the helper then finds the finalizer present).
pub async fn add_finalizer<K>(api: &Api<K>, obj: &K, finalizer: &str) -> Result<bool, Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let meta = obj.meta();
    let mut list = meta.finalizers.clone().unwrap_or_default();
    if meta.deletion_timestamp.is_some() || list.iter().any(|f| f == finalizer) {
        return Ok(false);
    }
    list.push(finalizer.to_string());
    let patch = serde_json::json!({"metadata": {"finalizers": list, "resourceVersion": meta.resource_version}});
    let name = obj.name_any();
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| Error::kube(format!("add the finalizer {finalizer} to {} {name}", K::kind(&())), e))?;
    Ok(true)
}
