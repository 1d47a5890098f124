//! Signals between replicas over the store's `LISTEN`/`NOTIFY` (PostgreSQL; nothing to do on SQLite).
//!
//! * [`CONTROL_CHANNEL`]: `{"kind":"stop"|"decided","runId":…}` — a stop or an approval decision given to
//!   one replica for a run another replica drives;
//! * [`EVENTS_CHANNEL`]: a run id whose events were just written, so followers on other replicas read them
//!   at once instead of at their next poll.

use crate::{Engine, EngineError};
use serde_json::{Value, json};

/// Stops and decisions.
pub const CONTROL_CHANNEL: &str = "binnacle_control";
/// New stored run events.
pub const EVENTS_CHANNEL: &str = "binnacle_events";

/// A control message.
pub fn control_payload(kind: &str, run_id: &str) -> String {
    json!({"kind": kind, "runId": run_id}).to_string()
}

/// Starts listening (PostgreSQL only).
pub async fn start_listener(engine: &Engine) -> Result<(), EngineError> {
    let Some(mut listener) = engine.0.store.listen(&[CONTROL_CHANNEL, EVENTS_CHANNEL]).await? else {
        return Ok(());
    };
    let weak = std::sync::Arc::downgrade(&engine.0);
    let shutdown = engine.0.shutdown.clone();
    tokio::spawn(async move {
        loop {
            let n = tokio::select! {
                _ = shutdown.cancelled() => break,
                n = listener.recv() => n,
            };
            let Some(n) = n else { break };
            let Some(inner) = weak.upgrade() else { break };
            let engine = Engine(inner);
            if n.channel == EVENTS_CHANNEL {
                let _ = engine.0.stored_events.send(n.payload);
            } else if let Ok(v) = serde_json::from_str::<Value>(&n.payload)
                && let (Some(kind), Some(run)) = (v["kind"].as_str(), v["runId"].as_str())
            {
                engine.on_control(kind, run);
            }
        }
    });
    Ok(())
}
