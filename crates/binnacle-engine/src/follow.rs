//! Following a run's events: replay after a given seq, then live until `run.finished`.

use crate::Engine;
use crate::events::Event;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// How often a follower reading from the store looks again when nothing signalled new events.
const POLL: Duration = Duration::from_millis(500);

pub(crate) fn follow(engine: Engine, run_id: String, after: i64) -> BoxStream<'static, Arc<Event>> {
    let (tx, rx) = mpsc::channel::<Arc<Event>>(256);
    tokio::spawn(async move {
        let mut last = after;
        loop {
            if let Some(channel) = engine.live_channel(&run_id) {
                // Live here: the store for what memory no longer has, then memory, then the broadcast.
                let (backlog, mut live, first_in_memory) = channel.subscribe(last);
                if last + 1 < first_in_memory {
                    channel.flush().await;
                    if !send_stored(&engine, &run_id, &mut last, first_in_memory - 1, &tx).await {
                        return;
                    }
                }
                for e in backlog {
                    if e.seq > last {
                        last = e.seq;
                        let fin = e.is_final();
                        if tx.send(e).await.is_err() || fin {
                            return;
                        }
                    }
                }
                loop {
                    match live.recv().await {
                        Ok(e) => {
                            if e.seq <= last {
                                continue;
                            }
                            last = e.seq;
                            let fin = e.is_final();
                            if tx.send(e).await.is_err() || fin {
                                return;
                            }
                        }
                        Err(RecvError::Lagged(_)) => break, // catch up from memory/store on the next pass
                        Err(RecvError::Closed) => break,
                    }
                }
                continue;
            }
            // Driven elsewhere, or finished: read the store; wait for a signal or poll.
            let mut signals = engine.0.stored_events.subscribe();
            let before = last;
            if !send_stored(&engine, &run_id, &mut last, i64::MAX, &tx).await {
                return;
            }
            if last > before {
                continue;
            }
            if finished_without_final_event(&engine, &run_id).await {
                return;
            }
            let wait = async {
                loop {
                    match signals.recv().await {
                        Ok(r) if r == run_id => return,
                        Ok(_) => continue,
                        Err(RecvError::Lagged(_)) => return,
                        Err(RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! {
                _ = wait => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = tx.closed() => return,
            }
        }
    });
    tokio_stream_from(rx)
}

/// Sends stored events with `last < seq <= upto`; false when the follower left or the run finished.
async fn send_stored(engine: &Engine, run_id: &str, last: &mut i64, upto: i64, tx: &mpsc::Sender<Arc<Event>>) -> bool {
    loop {
        let page = match engine.0.store.run_events_after(run_id, *last, 500).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, run = %run_id, "reading run events failed");
                return true;
            }
        };
        let n = page.len();
        for e in page {
            if e.seq > upto {
                return true;
            }
            *last = e.seq;
            let e = Arc::new(Event::from_stored(e));
            let fin = e.is_final();
            if tx.send(e).await.is_err() || fin {
                return false;
            }
        }
        if n < 500 {
            return true;
        }
    }
}

/// A run that ended without a stored `run.finished` (a crash before it was written) must not keep
/// followers forever: true once it is terminal and nothing new arrived for a while.
async fn finished_without_final_event(engine: &Engine, run_id: &str) -> bool {
    match engine.0.store.run(run_id).await {
        Ok(Some(run)) => {
            run.status.is_terminal() && run.finished_at.is_some_and(|f| binnacle_store::now_ms() - f > 10_000)
        }
        Ok(None) => true,
        Err(_) => false,
    }
}

fn tokio_stream_from(mut rx: mpsc::Receiver<Arc<Event>>) -> BoxStream<'static, Arc<Event>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}
