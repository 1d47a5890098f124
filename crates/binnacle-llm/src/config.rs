//! Choosing a provider from the environment.

use crate::{LlmError, LlmProvider};
use std::sync::Arc;
use std::time::Duration;

/// The wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI-compatible Chat Completions.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

/// Everything needed to build a provider.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The protocol.
    pub kind: ProviderKind,
    /// Base URL: for OpenAI-compatible APIs up to and including `/v1` (e.g. `https://api.openai.com/v1`);
    /// for Anthropic the host (e.g. `https://api.anthropic.com`).
    pub base_url: String,
    /// The API key (`None` for local servers that need none).
    pub api_key: Option<String>,
    /// The model name.
    pub model: String,
    /// How many times a 429/5xx/connection failure is retried before giving up.
    pub max_retries: u32,
    /// The first backoff; doubles each retry (with jitter), capped at 10 s, or `Retry-After` when given.
    pub initial_backoff: Duration,
    /// How long to wait for the response headers of one attempt.
    pub request_timeout: Duration,
    /// Price in USD per million prompt tokens, when known (`BINNACLE_LLM_PRICE_INPUT`).
    pub price_input_per_mtok: Option<f64>,
    /// Price in USD per million completion tokens, when known (`BINNACLE_LLM_PRICE_OUTPUT`).
    pub price_output_per_mtok: Option<f64>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("ProviderConfig")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl ProviderConfig {
    /// Reads `BINNACLE_LLM_PROVIDER` (`openai` | `anthropic`), `BINNACLE_LLM_BASE_URL`, `BINNACLE_LLM_API_KEY`,
    /// `BINNACLE_LLM_MODEL` (and the optional prices). `Ok(None)` when no provider is configured (the
    /// engine then uses its offline assistant); an error when the settings are incomplete or contradictory.
    pub fn from_env() -> Result<Option<ProviderConfig>, LlmError> {
        todo!("helper: implement")
    }

    /// Builds the provider.
    pub fn build(self) -> Result<Arc<dyn LlmProvider>, LlmError> {
        todo!("helper: implement")
    }

    /// The cost in USD of a turn, when prices are known.
    pub fn cost(&self, usage: crate::Usage) -> Option<f64> {
        Some(
            usage.prompt_tokens as f64 * self.price_input_per_mtok? / 1e6
                + usage.completion_tokens as f64 * self.price_output_per_mtok? / 1e6,
        )
    }
}
