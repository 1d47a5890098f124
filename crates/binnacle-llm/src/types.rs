//! The provider-neutral conversation and stream types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One turn sent to a model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The system prompt.
    pub system: String,
    /// The conversation so far, oldest first.
    pub messages: Vec<ChatMessage>,
    /// The tools the model may call.
    pub tools: Vec<ToolDef>,
    /// Upper bound on the answer's tokens (`None`: the provider's default; Anthropic requires one, 4096).
    pub max_tokens: Option<u32>,
}

/// A message of the conversation, in the engine's own terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessage {
    /// What a person wrote.
    User {
        /// The text.
        content: String,
    },
    /// What the model answered: text, tool calls, or both.
    Assistant {
        /// The text (may be empty when the model only called tools).
        content: String,
        /// Tool calls the model made in this turn.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCallRequest>,
    },
    /// The result of one tool call, answering the assistant message that made it.
    Tool {
        /// The id of the call this answers.
        call_id: String,
        /// The tool's name.
        name: String,
        /// The result as text (a summary plus structured content, or an error, or a denial).
        content: String,
        /// True when the call failed or was denied.
        #[serde(default)]
        is_error: bool,
    },
}

/// A tool call made by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRequest {
    /// The provider's id for the call (answered by [`ChatMessage::Tool::call_id`]).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, a JSON object (an unparseable argument string from the model arrives as
    /// `{"_invalid_json": "<the text>"}` so the engine can answer with an error the model can read).
    pub arguments: Value,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    /// Its name (`^[a-zA-Z0-9_-]{1,64}$`, as both APIs require).
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its arguments.
    pub input_schema: Value,
}

/// Tokens counted by the provider for one turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read (prompt, input).
    pub prompt_tokens: u64,
    /// Tokens written (completion, output).
    pub completion_tokens: u64,
}

/// Why a turn ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its answer.
    EndTurn,
    /// The model wants tool results.
    ToolUse,
    /// The answer hit the token limit.
    MaxTokens,
    /// Anything else the provider said.
    Other(String),
}

/// One item of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmEvent {
    /// More answer text.
    TextDelta(String),
    /// More reasoning text (Anthropic thinking blocks, OpenAI-compatible `reasoning_content`).
    ThinkingDelta(String),
    /// A complete tool call (emitted once its arguments have fully arrived).
    ToolCall(ToolCallRequest),
    /// Token usage for the turn (may come more than once; later values replace earlier ones).
    Usage(Usage),
    /// The turn is over.
    Finished(StopReason),
}

/// Which provider and model answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// `openai`, `anthropic` or `offline`.
    pub provider: String,
    /// The model name.
    pub model: String,
    /// True for the built-in offline assistant (no LLM involved).
    pub offline: bool,
}
