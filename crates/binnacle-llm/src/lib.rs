//! Streaming LLM clients for Binnacle's agent loop.
//!
//! The engine speaks to every model through [`LlmProvider`]: it sends a [`ChatRequest`] (a system prompt,
//! the conversation as [`ChatMessage`]s, and the tools the model may call) and reads back a stream of
//! [`LlmEvent`]s: text and thinking deltas as they arrive, each tool call once it is complete, token usage,
//! and how the turn finished. Two wire protocols are implemented:
//!
//! * [`openai::OpenAiProvider`]: any OpenAI-compatible Chat Completions API (`POST {base}/chat/completions`
//!   with `stream: true`);
//! * [`anthropic::AnthropicProvider`]: the Anthropic Messages API (`POST {base}/v1/messages`, streaming).
//!
//! Both retry 429 and 5xx answers (and connection failures) with exponential backoff before the first byte
//! of a stream, honouring `Retry-After`; once a stream has started, a failure ends it with an error.
//! [`ProviderConfig::from_env`] reads `BINNACLE_LLM_PROVIDER`, `BINNACLE_LLM_BASE_URL`,
//! `BINNACLE_LLM_API_KEY` and `BINNACLE_LLM_MODEL`.

pub mod anthropic;
pub mod config;
pub mod error;
pub mod openai;
mod retry;
mod sse;
pub mod types;

pub use config::{ProviderConfig, ProviderKind};
pub use error::LlmError;
pub use types::{ChatMessage, ChatRequest, LlmEvent, ProviderInfo, StopReason, ToolCallRequest, ToolDef, Usage};

use futures::stream::BoxStream;

/// A model the agent loop can talk to.
pub trait LlmProvider: Send + Sync {
    /// Which provider and model this is (shown to users and stored with each run).
    fn info(&self) -> ProviderInfo;

    /// Sends one turn and streams the answer. The stream ends after [`LlmEvent::Finished`] or an error.
    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, LlmError>>;
}
