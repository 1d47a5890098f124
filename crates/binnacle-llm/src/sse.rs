//! The streaming half shared by both providers: send the request (with retries), then read the
//! server-sent events and turn each into [`LlmEvent`]s with a protocol-specific [`Decoder`].
//!
//! The returned stream owns everything it needs (`'static`) and holds the HTTP response: dropping the
//! stream drops the response, which closes the connection and so cancels the request at once.

use crate::retry::{Http, describe};
use crate::{LlmError, LlmEvent};
use eventsource_stream::Eventsource;
use futures::stream::{BoxStream, StreamExt};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// A stream that stays silent this long is considered dead. Generous: reasoning models may think for
/// minutes before the next chunk (Anthropic sends pings meanwhile; OpenAI-compatible servers may not).
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Turns one protocol's server-sent events into [`LlmEvent`]s.
pub(crate) trait Decoder: Send + 'static {
    /// Handles one event (`event` is the SSE event name, `message` when none was given). Pushes what it
    /// produces onto `out`. Returns `Ok(true)` when the stream is complete and nothing more will be read.
    fn on_event(&mut self, event: &str, data: &str, out: &mut VecDeque<LlmEvent>) -> Result<bool, LlmError>;

    /// Called once after the last event (whether the decoder said it was complete or the server closed the
    /// stream): pushes the final events, ending with [`LlmEvent::Finished`], or fails when the stream broke
    /// off before the answer was complete.
    fn end(&mut self, out: &mut VecDeque<LlmEvent>) -> Result<(), LlmError>;
}

/// One request: where, with which headers, and the JSON body.
pub(crate) struct Call {
    pub(crate) url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

type Events = BoxStream<'static, Result<eventsource_stream::Event, String>>;

enum State<D> {
    Connect { http: Arc<Http>, call: Call, decoder: D },
    Reading { events: Option<Events>, decoder: D, out: VecDeque<LlmEvent>, error: Option<LlmError> },
    Done,
}

/// Sends `call` through `http` and decodes its event stream with `decoder`.
pub(crate) fn run<D: Decoder>(
    http: Arc<Http>,
    call: Call,
    decoder: D,
) -> BoxStream<'static, Result<LlmEvent, LlmError>> {
    futures::stream::unfold(State::Connect { http, call, decoder }, |state| async move {
        let mut state = state;
        loop {
            state = match state {
                State::Done => return None,
                State::Connect { http, call, decoder } => match http.post(&call.url, &call.headers, &call.body).await {
                    Err(e) => return Some((Err(e), State::Done)),
                    Ok(response) => {
                        let events: Events = response
                            .bytes_stream()
                            .eventsource()
                            .map(|r| {
                                r.map_err(|e| match e {
                                    eventsource_stream::EventStreamError::Transport(e) => describe(&e),
                                    other => other.to_string(),
                                })
                            })
                            .boxed();
                        State::Reading { events: Some(events), decoder, out: VecDeque::new(), error: None }
                    }
                },
                State::Reading { events, mut decoder, mut out, error } => {
                    if let Some(event) = out.pop_front() {
                        return Some((Ok(event), State::Reading { events, decoder, out, error }));
                    }
                    if let Some(e) = error {
                        return Some((Err(e), State::Done));
                    }
                    let mut stream = events?;
                    let next = match tokio::time::timeout(IDLE_TIMEOUT, stream.next()).await {
                        Err(_) => {
                            return Some((
                                Err(LlmError::Stream(format!(
                                    "no data from the provider for {} s",
                                    IDLE_TIMEOUT.as_secs()
                                ))),
                                State::Done,
                            ));
                        }
                        Ok(next) => next,
                    };
                    match next {
                        None => {
                            let error = decoder.end(&mut out).err();
                            State::Reading { events: None, decoder, out, error }
                        }
                        Some(Err(e)) => {
                            return Some((Err(LlmError::Stream(format!("reading the stream: {e}"))), State::Done));
                        }
                        Some(Ok(event)) => match decoder.on_event(&event.event, &event.data, &mut out) {
                            Err(e) => State::Reading { events: None, decoder, out, error: Some(e) },
                            Ok(true) => {
                                // Complete: close the connection now rather than wait for the server to.
                                drop(stream);
                                let error = decoder.end(&mut out).err();
                                State::Reading { events: None, decoder, out, error }
                            }
                            Ok(false) => State::Reading { events: Some(stream), decoder, out, error: None },
                        },
                    }
                }
            };
        }
    })
    .boxed()
}

/// Parses a tool call's accumulated argument text: empty (or `null`) is `{}`, an object is itself, anything
/// else becomes `{"_invalid_json": "<text>"}` so the engine can answer with an error the model can read.
pub(crate) fn parse_arguments(text: &str) -> Value {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Value::Object(Default::default());
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(v @ Value::Object(_)) => v,
        Ok(Value::Null) => Value::Object(Default::default()),
        _ => serde_json::json!({ "_invalid_json": text }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arguments_are_parsed_leniently() {
        assert_eq!(parse_arguments(""), json!({}));
        assert_eq!(parse_arguments("  "), json!({}));
        assert_eq!(parse_arguments("null"), json!({}));
        assert_eq!(parse_arguments(r#"{"a": 1}"#), json!({"a": 1}));
        assert_eq!(parse_arguments(r#"{"a": "#), json!({"_invalid_json": r#"{"a": "#}));
        assert_eq!(parse_arguments("[1]"), json!({"_invalid_json": "[1]"}));
    }
}
