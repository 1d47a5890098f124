//! The answer cache: one slot per (cluster, generation, topic) with stale-while-revalidate and one read in
//! flight per slot (single flight). Reads run in their own tasks, so a query that stops waiting (timeout,
//! client gone) does not cancel them: they fill the cache for the next query. A read holds one of the
//! fleet's `concurrency` permits until it ends or outlasts the per-cluster timeout, whichever comes first.

use crate::Inner;
use crate::category::Topic;
use crate::clusters::ClusterHandle;
use crate::queries::{self, CategoryData};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A good answer and when it was read.
#[derive(Debug)]
pub(crate) struct Cached {
    pub data: CategoryData,
    pub at: Instant,
    pub wall: jiff::Timestamp,
}

type Outcome = Result<Arc<Cached>, String>;

#[derive(Default)]
struct Slot {
    value: Option<Arc<Cached>>,
    /// The error of the latest read, when it failed (cleared by a good read).
    error: Option<String>,
    inflight: Option<watch::Receiver<Option<Outcome>>>,
}

type Key = (String, u64, Topic);

#[derive(Default)]
pub(crate) struct Cache {
    slots: Mutex<HashMap<Key, Slot>>,
}

/// What a query gets for one cluster.
pub(crate) enum Answer {
    /// Within its TTL (or just read).
    Fresh(Arc<Cached>),
    /// Older than its TTL (a revalidation is running), or kept after a failed read (`error`).
    Stale(Arc<Cached>, Option<String>),
    /// No answer, and the read failed.
    Failed(String),
    /// No answer within the wait; the read goes on in the background.
    TimedOut(Duration),
}

impl Cache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops every slot of a cluster (removed or changed context).
    pub fn forget(&self, cluster: &str) {
        self.lock().retain(|k, _| k.0 != cluster);
    }
}

/// Answers one topic for one cluster: from the cache when fresh or stale, else by reading the cluster and
/// waiting at most `wait`.
pub(crate) async fn answer(inner: &Arc<Inner>, handle: &Arc<ClusterHandle>, topic: Topic, wait: Duration) -> Answer {
    let ttl = inner.config.ttl_of(topic);
    let key: Key = (handle.name.clone(), handle.generation, topic);
    let rx = {
        let mut slots = inner.cache.lock();
        let slot = slots.entry(key.clone()).or_default();
        if let Some(v) = slot.value.clone() {
            if v.at.elapsed() < ttl {
                return Answer::Fresh(v);
            }
            let error = slot.error.clone();
            start_read(inner, handle, topic, key, slot);
            return Answer::Stale(v, error);
        }
        start_read(inner, handle, topic, key, slot)
    };
    wait_for(rx, wait).await
}

async fn wait_for(mut rx: watch::Receiver<Option<Outcome>>, wait: Duration) -> Answer {
    match tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await {
        Err(_) => Answer::TimedOut(wait),
        Ok(Err(_)) => Answer::Failed("the read was abandoned".into()),
        Ok(Ok(outcome)) => match outcome.as_ref() {
            Some(Ok(v)) => Answer::Fresh(v.clone()),
            Some(Err(e)) => Answer::Failed(e.clone()),
            None => Answer::Failed("the read was abandoned".into()),
        },
    }
}

/// Starts a read for the slot unless one is running; answers a receiver of its outcome.
fn start_read(
    inner: &Arc<Inner>,
    handle: &Arc<ClusterHandle>,
    topic: Topic,
    key: Key,
    slot: &mut Slot,
) -> watch::Receiver<Option<Outcome>> {
    if let Some(rx) = &slot.inflight {
        return rx.clone();
    }
    let (tx, rx) = watch::channel(None);
    slot.inflight = Some(rx.clone());
    let inner = inner.clone();
    let handle = handle.clone();
    tokio::spawn(async move {
        let outcome = read(&inner, &handle, topic).await;
        match &outcome {
            Ok(_) => handle.record_ok(),
            Err(e) => handle.record_error(e),
        }
        {
            let mut slots = inner.cache.lock();
            // A cluster removed or changed meanwhile: its slots are gone; do not bring them back.
            if inner.clusters.is_current(&handle) {
                let slot = slots.entry(key).or_default();
                slot.inflight = None;
                match &outcome {
                    Ok(v) => {
                        slot.value = Some(v.clone());
                        slot.error = None;
                    }
                    Err(e) => slot.error = Some(e.clone()),
                }
            } else {
                slots.remove(&key);
            }
        }
        let _ = tx.send(Some(outcome));
    });
    rx
}

async fn read(inner: &Arc<Inner>, handle: &Arc<ClusterHandle>, topic: Topic) -> Outcome {
    let client = handle.client.clone()?;
    let Ok(permit) = inner.permits.clone().acquire_owned().await else {
        return Err("the fleet is shutting down".into());
    };
    let limit = inner.config.fetch_timeout;
    let wait = inner.config.timeout;
    let started = Instant::now();
    let query = queries::run(&client, &handle.name, topic, inner.config.max_items);
    let result = tokio::time::timeout(limit, async move {
        tokio::pin!(query);
        tokio::select! {
            done = &mut query => return done,
            _ = tokio::time::sleep(wait) => {}
        }
        // A read that outlasts the per-cluster timeout is waiting on a slow cluster, not working: it stops
        // counting against the concurrency bound, so slow clusters cannot starve the others of permits.
        drop(permit);
        query.await
    })
    .await;
    let ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(Ok(data)) => {
            tracing::debug!(cluster = %handle.name, ?topic, ms, items = data.total, "fleet read");
            Ok(Arc::new(Cached { data, at: Instant::now(), wall: jiff::Timestamp::now() }))
        }
        Ok(Err(e)) => {
            tracing::debug!(cluster = %handle.name, ?topic, ms, error = %e, "fleet read failed");
            Err(e)
        }
        Err(_) => Err(format!("no answer within {} s; the cluster is too slow or unreachable", limit.as_secs())),
    }
}
