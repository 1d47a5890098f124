//! The Anthropic Messages API: `POST {base_url}/v1/messages` with `stream: true`.

use crate::retry::Http;
use crate::sse::{self, Call, Decoder, parse_arguments};
use crate::{
    ChatMessage, ChatRequest, LlmError, LlmEvent, LlmProvider, ProviderConfig, ProviderInfo, StopReason,
    ToolCallRequest, Usage,
};
use futures::stream::BoxStream;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The API version sent in `anthropic-version`.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `max_tokens` when the request sets none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// A client for the Anthropic Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Arc<Http>,
    url: String,
    headers: HeaderMap,
    model: String,
}

impl AnthropicProvider {
    /// A client for `config` (its `kind` is not checked). The base URL is the host
    /// (`https://api.anthropic.com`); one that already ends in `/v1` is accepted too. Fails when the HTTP
    /// client cannot be built or the API key cannot be sent as a header.
    pub fn new(config: ProviderConfig) -> Result<Self, LlmError> {
        let http = Arc::new(Http::new(&config)?);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        headers.insert("anthropic-version", HeaderValue::from_static(ANTHROPIC_VERSION));
        if let Some(key) = config.api_key.as_deref().filter(|k| !k.is_empty()) {
            let mut value = HeaderValue::from_str(key).map_err(|_| {
                LlmError::Config("the API key contains characters that cannot be sent in an HTTP header".into())
            })?;
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        let base = config.base_url.trim_end_matches('/');
        let url = if base.ends_with("/v1") { format!("{base}/messages") } else { format!("{base}/v1/messages") };
        Ok(AnthropicProvider { inner: Arc::new(Inner { http, url, headers, model: config.model }) })
    }

    /// The endpoint requests go to (`{base_url}/v1/messages`).
    pub fn url(&self) -> &str {
        &self.inner.url
    }
}

impl LlmProvider for AnthropicProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo { provider: "anthropic".into(), model: self.inner.model.clone(), offline: false }
    }

    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, LlmError>> {
        let body = request_body(&self.inner.model, &request);
        let call = Call {
            url: self.inner.url.clone(),
            headers: self.inner.headers.clone(),
            body: serde_json::to_vec(&body).unwrap_or_default(),
        };
        sse::run(self.inner.http.clone(), call, AnthropicDecoder::default())
    }
}

/// The JSON body of a streaming Messages request.
pub(crate) fn request_body(model: &str, request: &ChatRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    if !request.system.is_empty() {
        body.insert("system".into(), request.system.clone().into());
    }
    body.insert("messages".into(), messages(&request.messages).into());
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.input_schema}))
            .collect();
        body.insert("tools".into(), tools.into());
    }
    body.insert("max_tokens".into(), request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS).into());
    body.insert("stream".into(), true.into());
    Value::Object(body)
}

/// Maps the conversation to Anthropic messages. Roles must alternate, so consecutive messages of the same
/// role (tool results are the user's) are merged into one message with several content blocks; a user
/// message that is a single text block is sent as a plain string.
fn messages(conversation: &[ChatMessage]) -> Vec<Value> {
    let mut merged: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in conversation {
        let (role, blocks) = match message {
            ChatMessage::User { content } => ("user", vec![json!({"type": "text", "text": content})]),
            ChatMessage::Assistant { content, tool_calls } => {
                let mut blocks = Vec::with_capacity(tool_calls.len() + 1);
                if !content.is_empty() {
                    blocks.push(json!({"type": "text", "text": content}));
                }
                for call in tool_calls {
                    let input = if call.arguments.is_object() { call.arguments.clone() } else { json!({}) };
                    blocks.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
                }
                ("assistant", blocks)
            }
            ChatMessage::Tool { call_id, content, is_error, .. } => (
                "user",
                vec![json!({"type": "tool_result", "tool_use_id": call_id, "content": content, "is_error": is_error})],
            ),
        };
        if blocks.is_empty() {
            // An assistant turn with neither text nor calls: the API rejects empty content.
            continue;
        }
        match merged.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => merged.push((role, blocks)),
        }
    }
    merged
        .into_iter()
        .map(|(role, mut blocks)| {
            let plain =
                role == "user" && blocks.len() == 1 && blocks[0].get("type").and_then(Value::as_str) == Some("text");
            match blocks.pop() {
                Some(Value::Object(mut block)) if plain => {
                    json!({"role": role, "content": block.remove("text").unwrap_or_default()})
                }
                Some(last) => {
                    blocks.push(last);
                    json!({"role": role, "content": blocks})
                }
                None => json!({"role": role, "content": blocks}),
            }
        })
        .collect()
}

/// A content block being streamed.
#[derive(Debug)]
enum Block {
    ToolUse { id: String, name: String, json: String, initial: Value },
    Other,
}

/// Decodes the Messages streaming events.
#[derive(Debug, Default)]
struct AnthropicDecoder {
    blocks: HashMap<u64, Block>,
    input_tokens: u64,
    output_tokens: u64,
    stop: Option<StopReason>,
    tool_calls: usize,
    stopped: bool,
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_string()),
    }
}

impl AnthropicDecoder {
    fn read_usage(&mut self, usage: Option<&Value>) {
        let Some(usage) = usage else { return };
        if let Some(n) = usage.get("input_tokens").and_then(Value::as_u64) {
            self.input_tokens = n;
        }
        if let Some(n) = usage.get("output_tokens").and_then(Value::as_u64) {
            self.output_tokens = n;
        }
    }

    fn emit_tool_call(&mut self, block: Block, out: &mut VecDeque<LlmEvent>) {
        if let Block::ToolUse { id, name, json, initial } = block {
            let arguments = if json.trim().is_empty() && initial.as_object().is_some_and(|o| !o.is_empty()) {
                initial
            } else {
                parse_arguments(&json)
            };
            out.push_back(LlmEvent::ToolCall(ToolCallRequest { id, name, arguments }));
            self.tool_calls += 1;
        }
    }
}

impl Decoder for AnthropicDecoder {
    fn on_event(&mut self, event: &str, data: &str, out: &mut VecDeque<LlmEvent>) -> Result<bool, LlmError> {
        if data.trim().is_empty() {
            return Ok(false);
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            LlmError::Stream(format!("unreadable event {event} ({e}): {}", crate::retry::truncate(data, 500)))
        })?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message_start" => self.read_usage(v.get("message").and_then(|m| m.get("usage"))),
            "content_block_start" => {
                let block = v.get("content_block").cloned().unwrap_or_default();
                let text = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
                let state = match block.get("type").and_then(Value::as_str) {
                    Some("tool_use") => Block::ToolUse {
                        id: text("id"),
                        name: text("name"),
                        json: String::new(),
                        initial: block.get("input").cloned().unwrap_or_default(),
                    },
                    Some("text") => {
                        let t = text("text");
                        if !t.is_empty() {
                            out.push_back(LlmEvent::TextDelta(t));
                        }
                        Block::Other
                    }
                    Some("thinking") => {
                        let t = text("thinking");
                        if !t.is_empty() {
                            out.push_back(LlmEvent::ThinkingDelta(t));
                        }
                        Block::Other
                    }
                    _ => Block::Other,
                };
                self.blocks.insert(index, state);
            }
            "content_block_delta" => {
                let delta = v.get("delta").cloned().unwrap_or_default();
                let text = |key: &str| delta.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let t = text("text");
                        if !t.is_empty() {
                            out.push_back(LlmEvent::TextDelta(t));
                        }
                    }
                    Some("thinking_delta") => {
                        let t = text("thinking");
                        if !t.is_empty() {
                            out.push_back(LlmEvent::ThinkingDelta(t));
                        }
                    }
                    Some("input_json_delta") => {
                        if let Some(Block::ToolUse { json, .. }) = self.blocks.get_mut(&index) {
                            json.push_str(&text("partial_json"));
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(block) = self.blocks.remove(&index) {
                    self.emit_tool_call(block, out);
                }
            }
            "message_delta" => {
                if let Some(reason) = v.get("delta").and_then(|d| d.get("stop_reason")).and_then(Value::as_str) {
                    self.stop = Some(stop_reason(reason));
                }
                self.read_usage(v.get("usage"));
            }
            "message_stop" => {
                self.stopped = true;
                return Ok(true);
            }
            "error" => {
                let error = v.get("error");
                let message = error
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| data.to_string());
                let kind = error.and_then(|e| e.get("type")).and_then(Value::as_str);
                return Err(LlmError::Stream(match kind {
                    Some(kind) => format!("the provider reported an error ({kind}): {message}"),
                    None => format!("the provider reported an error: {message}"),
                }));
            }
            _ => {}
        }
        Ok(false)
    }

    fn end(&mut self, out: &mut VecDeque<LlmEvent>) -> Result<(), LlmError> {
        if !self.stopped && self.stop.is_none() {
            return Err(LlmError::Stream("the stream ended before the answer was complete".into()));
        }
        let mut open: Vec<(u64, Block)> = self.blocks.drain().collect();
        open.sort_by_key(|(i, _)| *i);
        for (_, block) in open {
            self.emit_tool_call(block, out);
        }
        out.push_back(LlmEvent::Usage(Usage {
            prompt_tokens: self.input_tokens,
            completion_tokens: self.output_tokens,
        }));
        let stop =
            self.stop.take().unwrap_or(if self.tool_calls > 0 { StopReason::ToolUse } else { StopReason::EndTurn });
        out.push_back(LlmEvent::Finished(stop));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_alternate_and_tool_results_merge() {
        let conversation = vec![
            ChatMessage::User { content: "a".into() },
            ChatMessage::User { content: "b".into() },
            ChatMessage::Assistant { content: String::new(), tool_calls: vec![] },
            ChatMessage::Assistant {
                content: String::new(),
                tool_calls: vec![ToolCallRequest { id: "t1".into(), name: "x".into(), arguments: json!({"k": 1}) }],
            },
            ChatMessage::Tool { call_id: "t1".into(), name: "x".into(), content: "ok".into(), is_error: false },
            ChatMessage::User { content: "and now?".into() },
        ];
        let m = messages(&conversation);
        assert_eq!(
            Value::Array(m),
            json!([
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "x", "input": {"k": 1}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "ok", "is_error": false},
                    {"type": "text", "text": "and now?"},
                ]},
            ])
        );
    }

    #[test]
    fn stop_reasons_map() {
        assert_eq!(stop_reason("end_turn"), StopReason::EndTurn);
        assert_eq!(stop_reason("tool_use"), StopReason::ToolUse);
        assert_eq!(stop_reason("max_tokens"), StopReason::MaxTokens);
        assert_eq!(stop_reason("stop_sequence"), StopReason::Other("stop_sequence".into()));
    }
}
