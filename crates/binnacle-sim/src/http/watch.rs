//! Watches: newline-delimited JSON events over a chunked response, with resourceVersion semantics
//! (replay from history, `410 Gone` for versions too old), selector transitions, bookmarks,
//! `timeoutSeconds` and `sendInitialEvents`.

use super::request::Representation;
use super::table::{IncludeObject, partial_metadata, table};
use crate::cluster::{Cluster, ListOptions};
use crate::convert;
use crate::error::{ApiError, Reason};
use crate::fields;
use crate::registry::ResourceType;
use crate::store::{Change, ChangeType};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Everything a watch needs to know.
#[derive(Debug)]
pub struct WatchRequest {
    /// The resource.
    pub rt: Arc<ResourceType>,
    /// Namespace, or all.
    pub namespace: Option<String>,
    /// Selectors (paging fields unused).
    pub selectors: ListOptions,
    /// The `resourceVersion` parameter.
    pub resource_version: Option<String>,
    /// `sendInitialEvents=true`.
    pub send_initial_events: bool,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// How long the watch stays open.
    pub timeout: Duration,
    /// Output representation.
    pub representation: Representation,
    /// Table row objects.
    pub include_object: IncludeObject,
}

/// How often bookmarks are sent (wall time).
const BOOKMARK_EVERY: Duration = Duration::from_secs(15);

fn event_line(kind: &str, object: Value) -> Bytes {
    let mut line = json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

struct Renderer {
    rt: Arc<ResourceType>,
    cluster: Arc<Cluster>,
    representation: Representation,
    include_object: IncludeObject,
}

impl Renderer {
    fn render(&self, obj: &Value) -> Value {
        let served = convert::to_served(&self.rt, obj);
        match self.representation {
            Representation::Json => served,
            Representation::Metadata => partial_metadata(&served),
            Representation::Table => {
                let rv = served
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                table(&self.rt, &[served], self.include_object, self.cluster.clock().now(), rv, None)
            }
        }
    }
}

/// Starts a watch; the returned receiver yields the response body chunks and ends when the watch does.
pub fn start(cluster: Arc<Cluster>, req: WatchRequest, mut shutdown: watch::Receiver<bool>) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        let renderer = Renderer {
            rt: req.rt.clone(),
            cluster: cluster.clone(),
            representation: req.representation,
            include_object: req.include_object,
        };
        let matches = |obj: &Value| -> bool {
            if let Some(ns) = &req.namespace
                && req.rt.namespaced
                && obj.pointer("/metadata/namespace").and_then(Value::as_str) != Some(ns.as_str())
            {
                return false;
            }
            req.selectors.labels.matches_object(obj) && req.selectors.fields.matches(|f| fields::value(obj, f))
        };
        let requested: Option<u64> = match req.resource_version.as_deref() {
            None | Some("") | Some("0") => None,
            Some(s) => match s.parse() {
                Ok(n) => Some(n),
                Err(_) => {
                    let status = ApiError::bad_request(format!("invalid resourceVersion {s:?}")).to_status();
                    let _ = tx.send(event_line("ERROR", status)).await;
                    return;
                }
            },
        };
        let initial_events = requested.is_none() || req.send_initial_events;
        // Subscribe before listing so that nothing between the list and the subscription is lost.
        let (replay, mut rx_changes, start_rv) = if initial_events {
            let (replay, rx) = match cluster.store().watch_from(cluster.store().current_rv()) {
                Ok(x) => x,
                Err(_) => return,
            };
            let (items, rv) =
                cluster.store().list(&req.rt.storage, if req.rt.namespaced { req.namespace.as_deref() } else { None });
            for obj in items.iter().filter(|o| matches(o)) {
                if tx.send(event_line("ADDED", renderer.render(obj))).await.is_err() {
                    return;
                }
            }
            if req.send_initial_events {
                let bookmark = json!({"kind": req.rt.kind, "apiVersion": req.rt.api_version(),
                    "metadata": {"resourceVersion": rv.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}});
                if tx.send(event_line("BOOKMARK", bookmark)).await.is_err() {
                    return;
                }
            }
            (replay.into_iter().filter(|c| c.rv > rv).collect::<Vec<_>>(), rx, rv)
        } else {
            let from = requested.unwrap_or(0);
            match cluster.store().watch_from(from) {
                Ok((replay, rx)) => (replay, rx, from),
                Err(too_old) => {
                    let status = ApiError::new(Reason::Expired, too_old.to_string()).to_status();
                    let _ = tx.send(event_line("ERROR", status)).await;
                    return;
                }
            }
        };
        let mut last_rv = start_rv;
        let handle = |change: &Change, last_rv: &mut u64| -> Option<Bytes> {
            if change.rv <= *last_rv || change.storage != req.rt.storage {
                return None;
            }
            *last_rv = change.rv;
            let now_matches = change.change != ChangeType::Deleted && matches(&change.object);
            let was_matching = change.previous.as_deref().is_some_and(&matches);
            let kind = match (change.change, was_matching, now_matches) {
                (ChangeType::Added, _, true) => "ADDED",
                (ChangeType::Modified, true, true) => "MODIFIED",
                (ChangeType::Modified, false, true) => "ADDED",
                (ChangeType::Modified, true, false) => "DELETED",
                (ChangeType::Deleted, true, _) => "DELETED",
                _ => return None,
            };
            Some(event_line(kind, renderer.render(&change.object)))
        };
        for change in &replay {
            if let Some(line) = handle(change, &mut last_rv)
                && tx.send(line).await.is_err()
            {
                return;
            }
        }
        let deadline = tokio::time::sleep(req.timeout);
        tokio::pin!(deadline);
        let mut bookmark_timer = tokio::time::interval(BOOKMARK_EVERY);
        bookmark_timer.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
                _ = bookmark_timer.tick(), if req.bookmarks => {
                    let rv = cluster.store().current_rv().max(last_rv);
                    let bookmark = json!({"kind": req.rt.kind, "apiVersion": req.rt.api_version(), "metadata": {"resourceVersion": rv.to_string()}});
                    if tx.send(event_line("BOOKMARK", bookmark)).await.is_err() {
                        return;
                    }
                }
                change = rx_changes.recv() => match change {
                    Ok(change) => {
                        if let Some(line) = handle(&change, &mut last_rv)
                            && tx.send(line).await.is_err() {
                                return;
                            }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // This watcher fell behind: tell it to re-list, as the API server does.
                        let status = ApiError::new(Reason::Expired, format!("too old resource version: {last_rv}")).to_status();
                        let _ = tx.send(event_line("ERROR", status)).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });
    rx
}
