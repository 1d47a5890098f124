//! Any OpenAI-compatible Chat Completions API (OpenAI, Azure-style proxies, vLLM, Ollama, LiteLLM,
//! DeepSeek, OpenRouter, …): `POST {base_url}/chat/completions` with `stream: true`.

use crate::retry::Http;
use crate::sse::{self, Call, Decoder, parse_arguments};
use crate::{
    ChatMessage, ChatRequest, LlmError, LlmEvent, LlmProvider, ProviderConfig, ProviderInfo, StopReason,
    ToolCallRequest, Usage,
};
use futures::stream::BoxStream;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// A client for an OpenAI-compatible Chat Completions API.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Arc<Http>,
    url: String,
    headers: HeaderMap,
    model: String,
}

impl OpenAiProvider {
    /// A client for `config` (its `kind` is not checked). Fails when the HTTP client cannot be built or
    /// the API key cannot be sent as a header.
    pub fn new(config: ProviderConfig) -> Result<Self, LlmError> {
        let http = Arc::new(Http::new(&config)?);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        if let Some(key) = config.api_key.as_deref().filter(|k| !k.is_empty()) {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                LlmError::Config("the API key contains characters that cannot be sent in an HTTP header".into())
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(OpenAiProvider { inner: Arc::new(Inner { http, url, headers, model: config.model }) })
    }

    /// The endpoint requests go to (`{base_url}/chat/completions`).
    pub fn url(&self) -> &str {
        &self.inner.url
    }
}

impl LlmProvider for OpenAiProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo { provider: "openai".into(), model: self.inner.model.clone(), offline: false }
    }

    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, LlmError>> {
        let body = request_body(&self.inner.model, &request);
        let call = Call {
            url: self.inner.url.clone(),
            headers: self.inner.headers.clone(),
            body: serde_json::to_vec(&body).unwrap_or_default(),
        };
        sse::run(self.inner.http.clone(), call, OpenAiDecoder::default())
    }
}

/// The JSON body of a streaming Chat Completions request.
pub(crate) fn request_body(model: &str, request: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for message in &request.messages {
        messages.push(match message {
            ChatMessage::User { content } => json!({"role": "user", "content": content}),
            ChatMessage::Assistant { content, tool_calls } => {
                let mut m = Map::new();
                m.insert("role".into(), "assistant".into());
                m.insert(
                    "content".into(),
                    if content.is_empty() && !tool_calls.is_empty() { Value::Null } else { content.clone().into() },
                );
                if !tool_calls.is_empty() {
                    let calls: Vec<Value> = tool_calls
                        .iter()
                        .map(|c| {
                            json!({
                                "id": c.id,
                                "type": "function",
                                "function": {"name": c.name, "arguments": c.arguments.to_string()},
                            })
                        })
                        .collect();
                    m.insert("tool_calls".into(), calls.into());
                }
                Value::Object(m)
            }
            ChatMessage::Tool { call_id, content, .. } => {
                json!({"role": "tool", "tool_call_id": call_id, "content": content})
            }
        });
    }
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("messages".into(), messages.into());
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
                })
            })
            .collect();
        body.insert("tools".into(), tools.into());
    }
    body.insert("stream".into(), true.into());
    body.insert("stream_options".into(), json!({"include_usage": true}));
    if let Some(max) = request.max_tokens {
        body.insert("max_tokens".into(), max.into());
    }
    Value::Object(body)
}

/// A tool call whose parts are still arriving.
#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Decodes `chat.completion.chunk`s.
#[derive(Debug, Default)]
struct OpenAiDecoder {
    /// Calls being assembled, by their `index`.
    calls: BTreeMap<u64, PartialCall>,
    /// How many calls have been emitted (for the stop reason when the server gives none).
    emitted_calls: usize,
    stop: Option<StopReason>,
    done: bool,
}

impl OpenAiDecoder {
    fn flush_calls(&mut self, out: &mut VecDeque<LlmEvent>) {
        for (index, call) in std::mem::take(&mut self.calls) {
            let id = if call.id.is_empty() { format!("call_{index}") } else { call.id };
            out.push_back(LlmEvent::ToolCall(ToolCallRequest {
                id,
                name: call.name,
                arguments: parse_arguments(&call.arguments),
            }));
            self.emitted_calls += 1;
        }
    }

    fn add_tool_call_delta(&mut self, position: usize, delta: &Value) {
        let id = delta.get("id").and_then(Value::as_str).filter(|s| !s.is_empty());
        let index = match delta.get("index").and_then(Value::as_u64) {
            Some(i) => i,
            // Some servers leave `index` out: a new id starts a new call, otherwise it continues the last.
            None => match (id, self.calls.iter().next_back()) {
                (Some(id), Some((&last, call))) if call.id != id => last + 1,
                (_, Some((&last, _))) => last,
                (_, None) => position as u64,
            },
        };
        let call = self.calls.entry(index).or_default();
        if let Some(id) = id {
            call.id = id.to_string();
        }
        let Some(function) = delta.get("function") else { return };
        if let Some(name) = function.get("name").and_then(Value::as_str) {
            call.name.push_str(name);
        }
        match function.get("arguments") {
            Some(Value::String(fragment)) => call.arguments.push_str(fragment),
            // A few servers send the arguments as an object in one piece.
            Some(v @ Value::Object(_)) => call.arguments = v.to_string(),
            _ => {}
        }
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" => StopReason::EndTurn,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "length" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_string()),
    }
}

impl Decoder for OpenAiDecoder {
    fn on_event(&mut self, _event: &str, data: &str, out: &mut VecDeque<LlmEvent>) -> Result<bool, LlmError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|e| LlmError::Stream(format!("unreadable chunk ({e}): {}", crate::retry::truncate(data, 500))))?;
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| error.as_str().map(str::to_string))
                .unwrap_or_else(|| error.to_string());
            return Err(LlmError::Stream(format!("the provider reported an error: {message}")));
        }
        let choice = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|choices| choices.iter().find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0));
        if let Some(choice) = choice {
            if let Some(delta) = choice.get("delta") {
                for key in ["reasoning_content", "reasoning"] {
                    if let Some(text) = delta.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) {
                        out.push_back(LlmEvent::ThinkingDelta(text.to_string()));
                        break;
                    }
                }
                if let Some(text) = delta.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    out.push_back(LlmEvent::TextDelta(text.to_string()));
                }
                if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                    for (position, call) in calls.iter().enumerate() {
                        self.add_tool_call_delta(position, call);
                    }
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.flush_calls(out);
                self.stop = Some(stop_reason(reason));
            }
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            let count = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
            out.push_back(LlmEvent::Usage(Usage {
                prompt_tokens: count("prompt_tokens"),
                completion_tokens: count("completion_tokens"),
            }));
        }
        Ok(false)
    }

    fn end(&mut self, out: &mut VecDeque<LlmEvent>) -> Result<(), LlmError> {
        if self.stop.is_none() && !self.done {
            return Err(LlmError::Stream("the stream ended before the answer was complete".into()));
        }
        self.flush_calls(out);
        let stop =
            self.stop.take().unwrap_or(if self.emitted_calls > 0 { StopReason::ToolUse } else { StopReason::EndTurn });
        out.push_back(LlmEvent::Finished(stop));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&str]) -> Result<Vec<LlmEvent>, LlmError> {
        let mut d = OpenAiDecoder::default();
        let mut out = VecDeque::new();
        for c in chunks {
            if d.on_event("message", c, &mut out)? {
                break;
            }
        }
        d.end(&mut out)?;
        Ok(out.into_iter().collect())
    }

    #[test]
    fn calls_without_index_are_told_apart_by_id() {
        let events = decode(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"x","arguments":"{\"n\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"y","arguments":{"m":2}}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ])
        .expect("decodes");
        assert_eq!(
            events,
            vec![
                LlmEvent::ToolCall(ToolCallRequest { id: "a".into(), name: "x".into(), arguments: json!({"n": 1}) }),
                LlmEvent::ToolCall(ToolCallRequest { id: "b".into(), name: "y".into(), arguments: json!({"m": 2}) }),
                LlmEvent::Finished(StopReason::ToolUse),
            ]
        );
    }

    #[test]
    fn finish_reasons_map() {
        assert_eq!(stop_reason("stop"), StopReason::EndTurn);
        assert_eq!(stop_reason("tool_calls"), StopReason::ToolUse);
        assert_eq!(stop_reason("length"), StopReason::MaxTokens);
        assert_eq!(stop_reason("content_filter"), StopReason::Other("content_filter".into()));
        let events = decode(&[r#"{"choices":[{"delta":{"content":"hi"},"finish_reason":"length"}]}"#]).expect("ok");
        assert_eq!(events, vec![LlmEvent::TextDelta("hi".into()), LlmEvent::Finished(StopReason::MaxTokens)]);
    }

    #[test]
    fn reasoning_fields_are_thinking() {
        let events = decode(&[
            r#"{"choices":[{"delta":{"reasoning":"hmm"}}]}"#,
            r#"{"choices":[{"delta":{"reasoning_content":"so","content":null}}]}"#,
            r#"{"choices":[{"delta":{"content":"ok"},"finish_reason":null}],"usage":null}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
            "[DONE]",
        ])
        .expect("decodes");
        assert_eq!(
            events,
            vec![
                LlmEvent::ThinkingDelta("hmm".into()),
                LlmEvent::ThinkingDelta("so".into()),
                LlmEvent::TextDelta("ok".into()),
                LlmEvent::Usage(Usage { prompt_tokens: 3, completion_tokens: 4 }),
                LlmEvent::Finished(StopReason::EndTurn),
            ]
        );
    }

    #[test]
    fn a_cut_stream_is_an_error() {
        assert!(matches!(decode(&[r#"{"choices":[{"delta":{"content":"hi"}}]}"#]), Err(LlmError::Stream(_))));
        assert!(matches!(decode(&["not json"]), Err(LlmError::Stream(_))));
        let e = decode(&[r#"{"error":{"message":"overloaded"}}"#]).expect_err("error");
        assert!(e.to_string().contains("overloaded"), "{e}");
    }
}
