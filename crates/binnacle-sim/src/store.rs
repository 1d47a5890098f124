//! The object store: every object by storage key, namespace and name; one global resourceVersion counter;
//! a bounded history of changes that watches replay from; and a broadcast of live changes.
//!
//! The store knows nothing about Kubernetes semantics beyond `metadata.resourceVersion` and
//! `metadata.uid`: validation, defaulting, generations and deletion rules live in [`crate::cluster`].

use crate::registry::StorageKey;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// Namespace (`""` for cluster-scoped objects) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// Builds a key.
    pub fn new(namespace: &str, name: &str) -> Self {
        Self { namespace: namespace.to_string(), name: name.to_string() }
    }

    /// The key of an object, read from its metadata.
    pub fn of(obj: &Value) -> Self {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        Self { namespace: s("/metadata/namespace"), name: s("/metadata/name") }
    }
}

/// The kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Removed.
    Deleted,
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The resourceVersion the change produced.
    pub rv: u64,
    /// What happened.
    pub change: ChangeType,
    /// Which resource.
    pub storage: StorageKey,
    /// The object after the change (for deletions: the last state, stamped with the deletion's rv).
    pub object: Arc<Value>,
    /// The object before the change, for modifications and deletions.
    pub previous: Option<Arc<Value>>,
}

/// Why a store write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// An object with that key exists.
    #[error("object already exists")]
    AlreadyExists,
    /// No object with that key.
    #[error("object not found")]
    NotFound,
    /// The object changed since the caller read it.
    #[error("the object has been modified")]
    Conflict,
}

/// Why a watch cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("too old resource version: {requested} ({oldest})")]
pub struct TooOld {
    /// The version the client asked for.
    pub requested: u64,
    /// The oldest version that can still be replayed.
    pub oldest: u64,
}

/// How many changes are kept for watches to replay.
pub const DEFAULT_HISTORY: usize = 20_000;

#[derive(Debug, Default)]
struct Inner {
    rv: u64,
    tables: HashMap<StorageKey, BTreeMap<ObjectKey, Arc<Value>>>,
    uids: HashMap<String, (StorageKey, ObjectKey)>,
    history: VecDeque<Arc<Change>>,
    /// Versions at or below this were dropped from the history.
    compacted_through: u64,
}

/// The object store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    inner: RwLock<Inner>,
    tx: broadcast::Sender<Arc<Change>>,
    history_cap: usize,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(DEFAULT_HISTORY)
    }
}

fn rv_of(obj: &Value) -> Option<u64> {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|s| s.parse().ok())
}

fn uid_of(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/uid").and_then(Value::as_str).map(str::to_string)
}

/// Rebuilds maps, lists and strings at their exact size. Objects live long in the store, and parsing or
/// patching leaves growth slack everywhere: this cuts resident memory by about a quarter.
pub fn compact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let old = std::mem::take(map);
            let mut exact = serde_json::Map::with_capacity(old.len());
            for (mut k, mut v) in old {
                compact(&mut v);
                k.shrink_to_fit();
                exact.insert(k, v);
            }
            *map = exact;
        }
        Value::Array(list) => {
            list.iter_mut().for_each(compact);
            list.shrink_to_fit();
        }
        Value::String(s) => s.shrink_to_fit(),
        _ => {}
    }
}

/// Compacts an object outside the store lock, with a placeholder resourceVersion so that stamping the
/// real one under the lock does not grow the metadata map again.
fn prepare(obj: &mut Value) {
    stamp(obj, 0);
    compact(obj);
}

fn stamp(obj: &mut Value, rv: u64) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

impl Store {
    /// An empty store keeping `history_cap` changes for watches.
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self { inner: RwLock::new(Inner { rv: 1, ..Default::default() }), tx, history_cap: history_cap.max(16) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The current resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.read().rv
    }

    /// One object.
    pub fn get(&self, storage: &StorageKey, key: &ObjectKey) -> Option<Arc<Value>> {
        self.read().tables.get(storage)?.get(key).cloned()
    }

    /// Objects of a resource, in one namespace or all (`None`), in key order, with the store's version.
    pub fn list(&self, storage: &StorageKey, namespace: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let inner = self.read();
        let items = match inner.tables.get(storage) {
            None => Vec::new(),
            Some(table) => match namespace {
                None => table.values().cloned().collect(),
                Some(ns) => {
                    let start = ObjectKey::new(ns, "");
                    table.range(start..).take_while(|(k, _)| k.namespace == ns).map(|(_, v)| v.clone()).collect()
                }
            },
        };
        (items, inner.rv)
    }

    /// Counts all objects.
    pub fn len(&self) -> usize {
        self.read().tables.values().map(BTreeMap::len).sum()
    }

    /// True when the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the object with this uid lives, if it exists.
    pub fn locate_uid(&self, uid: &str) -> Option<(StorageKey, ObjectKey)> {
        self.read().uids.get(uid).cloned()
    }

    /// Every storage key that holds objects.
    pub fn storage_keys(&self) -> Vec<StorageKey> {
        self.read().tables.iter().filter(|(_, t)| !t.is_empty()).map(|(k, _)| k.clone()).collect()
    }

    fn record(&self, inner: &mut Inner, change: Change) -> Arc<Change> {
        let change = Arc::new(change);
        inner.history.push_back(change.clone());
        while inner.history.len() > self.history_cap {
            if let Some(old) = inner.history.pop_front() {
                inner.compacted_through = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(change.clone());
        change
    }

    /// Stores a new object, stamping its resourceVersion.
    pub fn create(&self, storage: &StorageKey, mut obj: Value) -> Result<Arc<Value>, StoreError> {
        prepare(&mut obj);
        let key = ObjectKey::of(&obj);
        let mut inner = self.write();
        if inner.tables.get(storage).is_some_and(|t| t.contains_key(&key)) {
            return Err(StoreError::AlreadyExists);
        }
        inner.rv += 1;
        let rv = inner.rv;
        stamp(&mut obj, rv);
        let obj = Arc::new(obj);
        if let Some(uid) = uid_of(&obj) {
            inner.uids.insert(uid, (storage.clone(), key.clone()));
        }
        inner.tables.entry(storage.clone()).or_default().insert(key, obj.clone());
        self.record(
            &mut inner,
            Change { rv, change: ChangeType::Added, storage: storage.clone(), object: obj.clone(), previous: None },
        );
        Ok(obj)
    }

    /// Replaces an object. With `expected_rv`, fails with `Conflict` when the stored version differs.
    pub fn update(
        &self,
        storage: &StorageKey,
        mut obj: Value,
        expected_rv: Option<u64>,
    ) -> Result<Arc<Value>, StoreError> {
        let key = ObjectKey::of(&obj);
        let mut inner = self.write();
        let previous = inner.tables.get(storage).and_then(|t| t.get(&key)).cloned().ok_or(StoreError::NotFound)?;
        if let Some(expected) = expected_rv
            && rv_of(&previous) != Some(expected)
        {
            return Err(StoreError::Conflict);
        }
        inner.rv += 1;
        let rv = inner.rv;
        stamp(&mut obj, rv);
        let obj = Arc::new(obj);
        inner.tables.entry(storage.clone()).or_default().insert(key, obj.clone());
        self.record(
            &mut inner,
            Change {
                rv,
                change: ChangeType::Modified,
                storage: storage.clone(),
                object: obj.clone(),
                previous: Some(previous),
            },
        );
        Ok(obj)
    }

    /// Removes an object. With `expected_rv`, fails with `Conflict` when the stored version differs.
    pub fn delete(
        &self,
        storage: &StorageKey,
        key: &ObjectKey,
        expected_rv: Option<u64>,
    ) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.write();
        let previous = inner.tables.get(storage).and_then(|t| t.get(key)).cloned().ok_or(StoreError::NotFound)?;
        if let Some(expected) = expected_rv
            && rv_of(&previous) != Some(expected)
        {
            return Err(StoreError::Conflict);
        }
        if let Some(table) = inner.tables.get_mut(storage) {
            table.remove(key);
        }
        if let Some(uid) = uid_of(&previous) {
            inner.uids.remove(&uid);
        }
        inner.rv += 1;
        let rv = inner.rv;
        let mut last = (*previous).clone();
        stamp(&mut last, rv);
        let last = Arc::new(last);
        self.record(
            &mut inner,
            Change {
                rv,
                change: ChangeType::Deleted,
                storage: storage.clone(),
                object: last.clone(),
                previous: Some(previous),
            },
        );
        Ok(last)
    }

    /// Changes after `rv` still in the history, and a receiver for what comes next, taken atomically so
    /// nothing is missed or seen twice. Fails when `rv` is older than the retained history.
    #[allow(clippy::type_complexity)]
    pub fn watch_from(&self, rv: u64) -> Result<(Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>), TooOld> {
        let inner = self.read();
        if rv < inner.compacted_through {
            return Err(TooOld { requested: rv, oldest: inner.compacted_through + 1 });
        }
        let rx = self.tx.subscribe();
        let replay = inner.history.iter().filter(|c| c.rv > rv).cloned().collect();
        Ok((replay, rx))
    }

    /// A receiver of every future change (for controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Every object, for snapshots: `(storage key, object)`.
    pub fn snapshot(&self) -> (u64, Vec<(StorageKey, Arc<Value>)>) {
        let inner = self.read();
        let mut out = Vec::new();
        for (sk, table) in &inner.tables {
            for obj in table.values() {
                out.push((sk.clone(), obj.clone()));
            }
        }
        (inner.rv, out)
    }

    /// Loads objects from a snapshot into an empty store, keeping their resourceVersions, and moves the
    /// counter past all of them.
    pub fn restore(&self, rv: u64, objects: Vec<(StorageKey, Value)>) {
        let mut inner = self.write();
        let mut max_rv = rv;
        for (sk, obj) in objects {
            max_rv = max_rv.max(rv_of(&obj).unwrap_or(0));
            let key = ObjectKey::of(&obj);
            if let Some(uid) = uid_of(&obj) {
                inner.uids.insert(uid, (sk.clone(), key.clone()));
            }
            inner.tables.entry(sk).or_default().insert(key, Arc::new(obj));
        }
        inner.rv = inner.rv.max(max_rv);
        inner.compacted_through = inner.rv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str) -> Value {
        json!({"metadata": {"namespace": "default", "name": name, "uid": format!("uid-{name}")}})
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn versions_conflicts_and_history() {
        let store = Store::new(16);
        let sk = StorageKey::new("", "pods");
        let a = store.create(&sk, pod("a")).expect("create");
        let rv_a = rv_of(&a).expect("rv");
        assert_eq!(store.create(&sk, pod("a")).unwrap_err(), StoreError::AlreadyExists);
        let mut changed = (*a).clone();
        changed["spec"] = json!({"x": 1});
        store.update(&sk, changed.clone(), Some(rv_a)).expect("update");
        assert_eq!(store.update(&sk, changed, Some(rv_a)).unwrap_err(), StoreError::Conflict);
        let (replay, _rx) = store.watch_from(rv_a).expect("watch");
        assert_eq!(replay.len(), 1);
        assert_eq!(replay[0].change, ChangeType::Modified);
        store.delete(&sk, &ObjectKey::new("default", "a"), None).expect("delete");
        assert!(store.locate_uid("uid-a").is_none());
        assert!(store.get(&sk, &ObjectKey::new("default", "a")).is_none());
    }

    #[test]
    fn watch_too_old_after_compaction() {
        let store = Store::new(16);
        let sk = StorageKey::new("", "pods");
        for i in 0..40 {
            store.create(&sk, pod(&format!("p{i}"))).expect("create");
        }
        assert!(store.watch_from(2).is_err());
        assert!(store.watch_from(store.current_rv()).is_ok());
    }

    #[test]
    fn list_by_namespace() {
        let store = Store::default();
        let sk = StorageKey::new("", "pods");
        store.create(&sk, pod("a")).expect("create");
        store.create(&sk, json!({"metadata": {"namespace": "other", "name": "b"}})).expect("create");
        assert_eq!(store.list(&sk, Some("default")).0.len(), 1);
        assert_eq!(store.list(&sk, None).0.len(), 2);
    }
}
