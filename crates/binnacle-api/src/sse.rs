//! Run events as Server-Sent Events: `id` is the event's seq, `event` its name, `data` its JSON. A
//! reconnecting client sends `Last-Event-ID` (or `?after=`) and gets what it missed; heartbeats (SSE
//! comments) keep proxies from closing an idle stream. The stream ends after `run.finished`.

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use binnacle_engine::Event;
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// Wraps a run's event stream as an SSE response.
pub fn respond(
    events: impl Stream<Item = Arc<Event>> + Send + 'static,
    heartbeat: Duration,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let stream =
        events.map(|e| Ok(SseEvent::default().id(e.seq.to_string()).event(e.event.clone()).data(e.data.to_string())));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
}
