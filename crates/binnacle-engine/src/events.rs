//! Run events: what a run streams to its followers, in order, each with a sequence number.
//!
//! Every event of a run gets the next `seq` (from 1); the SSE id of an event is `seq`, so a client that
//! reconnects with `Last-Event-ID: 41` gets everything from 42 on. A run driven by this replica keeps its
//! events in memory ([`RunChannel`]) and broadcasts them at once; a writer task persists them in batches
//! (whatever queued up while the previous batch was written, at most [`FLUSH_BATCH`]) so that a follower on another replica, or after a
//! restart, reads them from the store.

use binnacle_store::{RunEvent, Store, now_ms};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

/// The most events written in one statement batch.
pub const FLUSH_BATCH: usize = 512;

/// The names of run events.
pub mod names {
    /// The run began (data: run).
    pub const RUN_STARTED: &str = "run.started";
    /// More answer text.
    pub const MESSAGE_DELTA: &str = "message.delta";
    /// More reasoning text.
    pub const THINKING: &str = "thinking";
    /// A tool began.
    pub const TOOL_STARTED: &str = "tool.started";
    /// A tool reported progress.
    pub const TOOL_PROGRESS: &str = "tool.progress";
    /// A tool finished (or was denied).
    pub const TOOL_RESULT: &str = "tool.result";
    /// A call waits for a person.
    pub const APPROVAL_REQUIRED: &str = "approval.required";
    /// A person (or the policy) decided.
    pub const APPROVAL_RESOLVED: &str = "approval.resolved";
    /// Tokens, cost and time to first token of one model turn.
    pub const USAGE: &str = "usage";
    /// One assistant message is complete.
    pub const MESSAGE_COMPLETED: &str = "message.completed";
    /// Something failed (the provider is down, the step limit was reached, ...).
    pub const ERROR: &str = "error";
    /// The run is over (data: its final status). Always the last event.
    pub const RUN_FINISHED: &str = "run.finished";
}

/// One event as streamed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Position in the run's stream.
    pub seq: i64,
    /// Event name (see [`names`]).
    pub event: String,
    /// Payload.
    pub data: Value,
}

impl Event {
    /// From a stored event.
    pub fn from_stored(e: RunEvent) -> Self {
        Self { seq: e.seq, event: e.event, data: e.data }
    }

    /// True for the last event of a run.
    pub fn is_final(&self) -> bool {
        self.event == names::RUN_FINISHED
    }
}

/// The live event stream of a run driven by this replica.
pub struct RunChannel {
    run_id: String,
    state: Mutex<ChannelState>,
    tx: broadcast::Sender<Arc<Event>>,
    writer: EventWriter,
}

struct ChannelState {
    next_seq: i64,
    backlog: Vec<Arc<Event>>,
    first_seq_in_backlog: i64,
}

impl RunChannel {
    /// A channel whose next event gets `next_seq`.
    pub fn new(run_id: &str, next_seq: i64, writer: EventWriter) -> Arc<Self> {
        let (tx, _) = broadcast::channel(4096);
        Arc::new(Self {
            run_id: run_id.to_string(),
            state: Mutex::new(ChannelState { next_seq, backlog: Vec::new(), first_seq_in_backlog: next_seq }),
            tx,
            writer,
        })
    }

    /// The run.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Emits an event: numbers it, keeps it, broadcasts it, queues it for the store.
    pub fn emit(&self, event: &str, data: Value) -> i64 {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let seq = state.next_seq;
        state.next_seq += 1;
        let ev = Arc::new(Event { seq, event: event.to_string(), data });
        state.backlog.push(ev.clone());
        // Sent under the lock so that subscribers see events in order with the backlog snapshot.
        let _ = self.tx.send(ev.clone());
        drop(state);
        self.writer.write(RunEvent {
            run_id: self.run_id.clone(),
            seq,
            event: ev.event.clone(),
            data: ev.data.clone(),
            created_at: now_ms(),
        });
        seq
    }

    /// The events after `after` that are still in memory, a receiver for those to come, and the first seq
    /// held in memory (events before it must be read from the store).
    pub fn subscribe(&self, after: i64) -> (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>, i64) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let rx = self.tx.subscribe();
        let backlog = state.backlog.iter().filter(|e| e.seq > after).cloned().collect();
        (backlog, rx, state.first_seq_in_backlog)
    }

    /// Waits until every event emitted so far is in the store.
    pub async fn flush(&self) {
        self.writer.flush().await;
    }
}

enum WriterMsg {
    Event(RunEvent),
    Flush(oneshot::Sender<()>),
}

/// Persists run events in batches. Cheap to clone.
#[derive(Clone)]
pub struct EventWriter {
    tx: mpsc::UnboundedSender<WriterMsg>,
}

impl EventWriter {
    /// Starts the writer task; `on_written` is called with the run ids of each written batch (the engine
    /// uses it to tell other replicas that new events are in the store).
    pub fn start(store: Store, on_written: Arc<dyn Fn(Vec<String>) + Send + Sync>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<WriterMsg>();
        tokio::spawn(async move {
            // Natural batching: while one batch is being written, the next accumulates.
            while let Some(first) = rx.recv().await {
                let mut batch: Vec<RunEvent> = Vec::new();
                let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
                let take = |m: WriterMsg, batch: &mut Vec<RunEvent>, waiters: &mut Vec<oneshot::Sender<()>>| match m {
                    WriterMsg::Event(e) => batch.push(e),
                    WriterMsg::Flush(w) => waiters.push(w),
                };
                take(first, &mut batch, &mut waiters);
                while batch.len() < FLUSH_BATCH {
                    match rx.try_recv() {
                        Ok(m) => take(m, &mut batch, &mut waiters),
                        Err(_) => break,
                    }
                }
                if !batch.is_empty() {
                    let mut runs: Vec<String> = batch.iter().map(|e| e.run_id.clone()).collect();
                    runs.sort();
                    runs.dedup();
                    let mut attempt = 0;
                    loop {
                        match store.append_run_events(&batch).await {
                            Ok(()) => break,
                            Err(e) if attempt < 5 => {
                                attempt += 1;
                                tracing::warn!(error = %e, attempt, "writing run events failed; retrying");
                                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                            }
                            Err(e) => {
                                tracing::error!(error = %e, events = batch.len(), "run events could not be stored; followers on other replicas miss them");
                                break;
                            }
                        }
                    }
                    on_written(runs);
                }
                for w in waiters {
                    let _ = w.send(());
                }
            }
        });
        Self { tx }
    }

    fn write(&self, event: RunEvent) {
        let _ = self.tx.send(WriterMsg::Event(event));
    }

    /// Waits until everything queued so far is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(WriterMsg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}
