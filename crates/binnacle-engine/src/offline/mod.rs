//! The offline assistant: a deterministic, rule-based [`LlmProvider`] the engine uses when no LLM is
//! configured, so that the demo works with no API key.
//!
//! Each turn it reads the conversation: the last user message is the question, and the assistant tool
//! calls and tool results after it are what this run has done so far. From those alone it decides the
//! next step — call tools, or write the answer — so the same conversation always gives the same events.
//!
//! - [`intent`] parses the question into an [`Intent`] (what is broken, why is pod Y failing, logs of Z,
//!   scale / restart / roll back W, list a kind, help).
//! - `transcript` reads the run's tool calls and results back (through
//!   [`parse_tool_result`](crate::tool_text::parse_tool_result)).
//! - `flows` decide, per intent, the next tool calls or the answer; every flow ends within
//!   [`MAX_TURNS`] tool turns and calls only the tools offered in the request.
//! - `locate` and `diagnosis` read tool output (pods in a list; a described pod and its logs);
//!   `markdown` keeps cluster text (log lines, event messages, states) in fenced code blocks and escapes
//!   the tools' prose, so nothing from the cluster can format, link or instruct.
//!
//! Every answer starts with [`OFFLINE_NOTE`] and is streamed as several [`LlmEvent::TextDelta`]s of a few
//! words each, then [`LlmEvent::Usage`] (zero) and [`LlmEvent::Finished`] with [`StopReason::EndTurn`].
//! Tool calls are [`LlmEvent::ToolCall`]s with ids `offline-1`, `offline-2`, … (numbered over the whole
//! conversation), then [`LlmEvent::Finished`] with [`StopReason::ToolUse`]. Mutating calls (scale,
//! restart, roll back) are only emitted; the engine's approval gate decides whether they run.

mod diagnosis;
mod error;
mod flows;
pub mod intent;
mod lexicon;
mod locate;
mod markdown;
mod transcript;
mod words;

pub use flows::MAX_TURNS;
pub use intent::{Intent, parse as parse_intent};
pub use markdown::OFFLINE_NOTE;

use binnacle_llm::{ChatRequest, LlmError, LlmEvent, LlmProvider, ProviderInfo, StopReason, ToolCallRequest, Usage};
use flows::{Next, Tools};
use futures::StreamExt;
use futures::stream::BoxStream;
use transcript::Transcript;

/// The provider name the offline assistant reports.
pub const PROVIDER: &str = "offline";
/// The model name the offline assistant reports.
pub const MODEL: &str = "binnacle-offline";
/// Words per streamed text piece.
const WORDS_PER_DELTA: usize = 4;

/// The offline assistant. Stateless: everything it needs is in each request.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineAssistant;

impl OfflineAssistant {
    /// A new offline assistant.
    pub fn new() -> Self {
        Self
    }

    /// The events of one turn, computed at once (what [`LlmProvider::stream`] streams).
    pub fn respond(&self, request: &ChatRequest) -> Vec<LlmEvent> {
        let tools = Tools::new(request.tools.iter().map(|t| t.name.as_str()));
        let transcript = Transcript::read(&request.messages).unwrap_or_default();
        let intent = intent::parse(&transcript.question);
        match flows::next(&intent, &transcript, &tools) {
            Next::Calls(calls) => {
                let mut events: Vec<LlmEvent> = calls
                    .into_iter()
                    .enumerate()
                    .map(|(i, call)| {
                        LlmEvent::ToolCall(ToolCallRequest {
                            id: format!("offline-{}", transcript.calls_in_conversation + i + 1),
                            name: call.tool.to_string(),
                            arguments: call.arguments,
                        })
                    })
                    .collect();
                events.push(LlmEvent::Finished(StopReason::ToolUse));
                events
            }
            Next::Answer(body) => answer_events(&body),
        }
    }
}

/// The events of an answer: the note and the text in pieces, zero usage, end of turn.
fn answer_events(body: &str) -> Vec<LlmEvent> {
    let text = format!("{OFFLINE_NOTE}\n\n{}\n", body.trim_end());
    let mut events: Vec<LlmEvent> =
        markdown::pieces(&text, WORDS_PER_DELTA).into_iter().map(LlmEvent::TextDelta).collect();
    events.push(LlmEvent::Usage(Usage::default()));
    events.push(LlmEvent::Finished(StopReason::EndTurn));
    events
}

impl LlmProvider for OfflineAssistant {
    fn info(&self) -> ProviderInfo {
        ProviderInfo { provider: PROVIDER.into(), model: MODEL.into(), offline: true }
    }

    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, LlmError>> {
        futures::stream::iter(self.respond(&request).into_iter().map(Ok)).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use binnacle_llm::{ChatMessage, ToolDef};
    use serde_json::json;

    fn request(question: &str, tools: &[&str]) -> ChatRequest {
        ChatRequest {
            messages: vec![ChatMessage::User { content: question.into() }],
            tools: tools
                .iter()
                .map(|t| ToolDef { name: (*t).into(), description: String::new(), input_schema: json!({}) })
                .collect(),
            ..Default::default()
        }
    }

    fn text(events: &[LlmEvent]) -> String {
        events.iter().filter_map(|e| if let LlmEvent::TextDelta(t) = e { Some(t.as_str()) } else { None }).collect()
    }

    #[test]
    fn info_says_offline() {
        let info = OfflineAssistant::new().info();
        assert_eq!((info.provider.as_str(), info.model.as_str(), info.offline), ("offline", "binnacle-offline", true));
    }

    #[test]
    fn help_is_streamed_in_pieces_after_the_note() {
        let events = OfflineAssistant.respond(&request("help", &[]));
        assert!(events.iter().filter(|e| matches!(e, LlmEvent::TextDelta(_))).count() > 10);
        assert!(text(&events).starts_with(OFFLINE_NOTE));
        assert_eq!(events[events.len() - 2], LlmEvent::Usage(Usage::default()));
        assert_eq!(events.last(), Some(&LlmEvent::Finished(StopReason::EndTurn)));
    }

    #[test]
    fn missing_tools_are_named() {
        let events = OfflineAssistant.respond(&request("what is broken?", &["resources_list"]));
        let answer = text(&events);
        assert!(answer.contains("`find_issues`") && answer.contains("not enabled"), "{answer}");
        assert!(!events.iter().any(|e| matches!(e, LlmEvent::ToolCall(_))));
    }

    #[test]
    fn tool_calls_end_the_turn_with_tool_use() {
        let events = OfflineAssistant.respond(&request("what is broken in namespace payments", &["find_issues"]));
        assert_eq!(
            events,
            vec![
                LlmEvent::ToolCall(ToolCallRequest {
                    id: "offline-1".into(),
                    name: "find_issues".into(),
                    arguments: json!({"namespaces": ["payments"]}),
                }),
                LlmEvent::Finished(StopReason::ToolUse),
            ]
        );
    }

    #[test]
    fn call_ids_continue_over_the_conversation_and_runs_are_bounded() {
        let mut req = request("what is broken", &["find_issues", "resources_list", "resource_describe"]);
        req.messages = vec![
            ChatMessage::User { content: "what is broken".into() },
            ChatMessage::Assistant {
                content: String::new(),
                tool_calls: vec![ToolCallRequest {
                    id: "offline-1".into(),
                    name: "find_issues".into(),
                    arguments: json!({}),
                }],
            },
            ChatMessage::Tool {
                call_id: "offline-1".into(),
                name: "find_issues".into(),
                content: "error: boom".into(),
                is_error: true,
            },
            ChatMessage::Assistant { content: "answer".into(), tool_calls: vec![] },
            ChatMessage::User { content: "why is pod x-1 failing".into() },
        ];
        let events = OfflineAssistant.respond(&req);
        assert!(
            matches!(&events[0], LlmEvent::ToolCall(c) if c.id == "offline-2" && c.name == "resources_list"),
            "{events:?}"
        );
        // A run that somehow went on for MAX_TURNS turns is answered, not continued.
        for _ in 0..MAX_TURNS {
            req.messages.push(ChatMessage::Assistant { content: String::new(), tool_calls: vec![] });
        }
        let events = OfflineAssistant.respond(&req);
        assert!(text(&events).contains("I stopped after"), "{events:?}");
        assert_eq!(events.last(), Some(&LlmEvent::Finished(StopReason::EndTurn)));
    }

    #[test]
    fn no_question_gets_help() {
        let events = OfflineAssistant.respond(&ChatRequest::default());
        assert!(text(&events).contains("I can"));
    }
}
