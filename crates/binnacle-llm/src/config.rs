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

impl ProviderKind {
    /// The name used in `BINNACLE_LLM_PROVIDER` and [`crate::ProviderInfo::provider`]: `openai` or `anthropic`.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
        }
    }
}

/// The OpenAI base URL used when `BINNACLE_LLM_BASE_URL` is unset.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The Anthropic base URL used when `BINNACLE_LLM_BASE_URL` is unset.
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// Retries when `BINNACLE_LLM_MAX_RETRIES` is unset.
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// The first backoff between retries.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// How long one attempt may wait for the response headers.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

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
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ProviderConfig::from_env`] with the variables read through `lookup` (so tests need not touch the
    /// process environment). Empty values count as unset.
    ///
    /// * `BINNACLE_LLM_PROVIDER`: `openai` (also `openai-compatible`) or `anthropic`; `offline` or `none`
    ///   mean no provider. Unset while a base URL or model is set: `openai`.
    /// * `BINNACLE_LLM_BASE_URL`: defaults to [`DEFAULT_OPENAI_BASE_URL`] or [`DEFAULT_ANTHROPIC_BASE_URL`];
    ///   a trailing slash is ignored.
    /// * `BINNACLE_LLM_API_KEY`: optional (local servers need none).
    /// * `BINNACLE_LLM_MODEL`: required once a provider is chosen.
    /// * `BINNACLE_LLM_PRICE_INPUT` / `BINNACLE_LLM_PRICE_OUTPUT`: USD per million tokens, optional.
    /// * `BINNACLE_LLM_MAX_RETRIES`: default 4.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<ProviderConfig>, LlmError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let provider = get("BINNACLE_LLM_PROVIDER");
        let base_url = get("BINNACLE_LLM_BASE_URL");
        let model = get("BINNACLE_LLM_MODEL");
        let api_key = get("BINNACLE_LLM_API_KEY");
        let kind = match provider.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("openai") | Some("openai-compatible") | Some("openai_compatible") => ProviderKind::OpenAi,
            Some("anthropic") => ProviderKind::Anthropic,
            Some("offline") | Some("none") => return Ok(None),
            Some(other) => {
                return Err(LlmError::Config(format!(
                    "BINNACLE_LLM_PROVIDER={other} is not a provider Binnacle knows; use openai (any \
                     OpenAI-compatible Chat Completions API, also spelled openai-compatible), anthropic, or offline"
                )));
            }
            None if base_url.is_none() && model.is_none() => {
                if api_key.is_some() {
                    return Err(LlmError::Config(
                        "BINNACLE_LLM_API_KEY is set but no provider is: set BINNACLE_LLM_PROVIDER (openai or \
                         anthropic) and BINNACLE_LLM_MODEL too, or unset the key to use the offline assistant"
                            .into(),
                    ));
                }
                return Ok(None);
            }
            None => ProviderKind::OpenAi,
        };
        let Some(model) = model else {
            let example = match kind {
                ProviderKind::OpenAi => "gpt-4o-mini",
                ProviderKind::Anthropic => "claude-sonnet-4-5",
            };
            return Err(LlmError::Config(format!(
                "BINNACLE_LLM_MODEL is required with the {} provider (e.g. BINNACLE_LLM_MODEL={example})",
                kind.name()
            )));
        };
        let base_url = base_url
            .unwrap_or_else(|| match kind {
                ProviderKind::OpenAi => DEFAULT_OPENAI_BASE_URL.to_string(),
                ProviderKind::Anthropic => DEFAULT_ANTHROPIC_BASE_URL.to_string(),
            })
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(LlmError::Config(format!(
                "BINNACLE_LLM_BASE_URL={base_url} is not an http:// or https:// URL"
            )));
        }
        let price = |name: &str| -> Result<Option<f64>, LlmError> {
            match get(name) {
                None => Ok(None),
                Some(text) => match text.parse::<f64>() {
                    Ok(p) if p.is_finite() && p >= 0.0 => Ok(Some(p)),
                    _ => Err(LlmError::Config(format!(
                        "{name}={text} is not a price: give USD per million tokens as a number, e.g. 2.5"
                    ))),
                },
            }
        };
        let price_input_per_mtok = price("BINNACLE_LLM_PRICE_INPUT")?;
        let price_output_per_mtok = price("BINNACLE_LLM_PRICE_OUTPUT")?;
        let max_retries = match get("BINNACLE_LLM_MAX_RETRIES") {
            None => DEFAULT_MAX_RETRIES,
            Some(text) => text.parse::<u32>().map_err(|_| {
                LlmError::Config(format!("BINNACLE_LLM_MAX_RETRIES={text} is not a whole number of retries"))
            })?,
        };
        Ok(Some(ProviderConfig {
            kind,
            base_url,
            api_key,
            model,
            max_retries,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            price_input_per_mtok,
            price_output_per_mtok,
        }))
    }

    /// A configuration with the defaults (4 retries, 500 ms first backoff, 60 s request timeout, no key,
    /// no prices), e.g. for tests against a local server.
    pub fn new(kind: ProviderKind, base_url: impl Into<String>, model: impl Into<String>) -> ProviderConfig {
        ProviderConfig {
            kind,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: None,
            model: model.into(),
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            price_input_per_mtok: None,
            price_output_per_mtok: None,
        }
    }

    /// Builds the provider.
    pub fn build(self) -> Result<Arc<dyn LlmProvider>, LlmError> {
        Ok(match self.kind {
            ProviderKind::OpenAi => Arc::new(crate::openai::OpenAiProvider::new(self)?),
            ProviderKind::Anthropic => Arc::new(crate::anthropic::AnthropicProvider::new(self)?),
        })
    }

    /// The cost in USD of a turn, when prices are known.
    pub fn cost(&self, usage: crate::Usage) -> Option<f64> {
        Some(
            usage.prompt_tokens as f64 * self.price_input_per_mtok? / 1e6
                + usage.completion_tokens as f64 * self.price_output_per_mtok? / 1e6,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Option<ProviderConfig>, LlmError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ProviderConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_is_offline() {
        assert!(read(&[]).expect("ok").is_none());
        assert!(read(&[("BINNACLE_LLM_PROVIDER", "")]).expect("ok").is_none());
        assert!(read(&[("BINNACLE_LLM_PROVIDER", "offline"), ("BINNACLE_LLM_MODEL", "m")]).expect("ok").is_none());
    }

    #[test]
    fn providers_get_their_defaults() {
        let c = read(&[("BINNACLE_LLM_PROVIDER", "openai"), ("BINNACLE_LLM_MODEL", "gpt-4o-mini")])
            .expect("ok")
            .expect("some");
        assert_eq!(c.kind, ProviderKind::OpenAi);
        assert_eq!(c.base_url, DEFAULT_OPENAI_BASE_URL);
        assert_eq!(c.max_retries, 4);
        assert_eq!(c.initial_backoff, Duration::from_millis(500));
        assert_eq!(c.request_timeout, Duration::from_secs(60));
        assert_eq!(c.api_key, None);
        let c = read(&[
            ("BINNACLE_LLM_PROVIDER", "Anthropic"),
            ("BINNACLE_LLM_MODEL", "claude"),
            ("BINNACLE_LLM_API_KEY", "sk-ant"),
            ("BINNACLE_LLM_PRICE_INPUT", "3"),
            ("BINNACLE_LLM_PRICE_OUTPUT", "15.5"),
            ("BINNACLE_LLM_MAX_RETRIES", "0"),
        ])
        .expect("ok")
        .expect("some");
        assert_eq!(c.kind, ProviderKind::Anthropic);
        assert_eq!(c.base_url, DEFAULT_ANTHROPIC_BASE_URL);
        assert_eq!(c.api_key.as_deref(), Some("sk-ant"));
        assert_eq!((c.price_input_per_mtok, c.price_output_per_mtok), (Some(3.0), Some(15.5)));
        assert_eq!(c.max_retries, 0);
        assert_eq!(c.cost(crate::Usage { prompt_tokens: 1_000_000, completion_tokens: 2_000_000 }), Some(34.0));
        assert!(!format!("{c:?}").contains("sk-ant"));
    }

    #[test]
    fn a_base_url_or_model_alone_means_openai() {
        let c = read(&[("BINNACLE_LLM_BASE_URL", "http://localhost:11434/v1/"), ("BINNACLE_LLM_MODEL", "llama3")])
            .expect("ok")
            .expect("some");
        assert_eq!(c.kind, ProviderKind::OpenAi);
        assert_eq!(c.base_url, "http://localhost:11434/v1");
        let c = read(&[("BINNACLE_LLM_PROVIDER", "openai-compatible"), ("BINNACLE_LLM_MODEL", "m")])
            .expect("ok")
            .expect("some");
        assert_eq!(c.kind, ProviderKind::OpenAi);
        assert_eq!(read(&[("BINNACLE_LLM_MODEL", "m")]).expect("ok").expect("some").kind, ProviderKind::OpenAi);
    }

    #[test]
    fn bad_settings_are_explained() {
        let e = read(&[("BINNACLE_LLM_PROVIDER", "gemini"), ("BINNACLE_LLM_MODEL", "m")]).expect_err("unknown");
        assert!(e.to_string().contains("openai") && e.to_string().contains("anthropic"), "{e}");
        let e = read(&[("BINNACLE_LLM_PROVIDER", "anthropic")]).expect_err("no model");
        assert!(e.to_string().contains("BINNACLE_LLM_MODEL"), "{e}");
        let e = read(&[("BINNACLE_LLM_BASE_URL", "http://x/v1")]).expect_err("no model");
        assert!(e.to_string().contains("BINNACLE_LLM_MODEL"), "{e}");
        let e = read(&[("BINNACLE_LLM_MODEL", "m"), ("BINNACLE_LLM_PRICE_INPUT", "cheap")]).expect_err("price");
        assert!(e.to_string().contains("BINNACLE_LLM_PRICE_INPUT"), "{e}");
        let e = read(&[("BINNACLE_LLM_MODEL", "m"), ("BINNACLE_LLM_MAX_RETRIES", "-1")]).expect_err("retries");
        assert!(e.to_string().contains("BINNACLE_LLM_MAX_RETRIES"), "{e}");
        let e = read(&[("BINNACLE_LLM_MODEL", "m"), ("BINNACLE_LLM_BASE_URL", "localhost:8000")]).expect_err("url");
        assert!(e.to_string().contains("BINNACLE_LLM_BASE_URL"), "{e}");
        let e = read(&[("BINNACLE_LLM_API_KEY", "sk-x")]).expect_err("key alone");
        assert!(e.to_string().contains("BINNACLE_LLM_PROVIDER") && !e.to_string().contains("sk-x"), "{e}");
    }

    #[test]
    fn build_picks_the_protocol() {
        let p = ProviderConfig::new(ProviderKind::Anthropic, "http://127.0.0.1:1/", "claude").build().expect("builds");
        assert_eq!(
            p.info(),
            crate::ProviderInfo { provider: "anthropic".into(), model: "claude".into(), offline: false }
        );
        let p = ProviderConfig::new(ProviderKind::OpenAi, "http://127.0.0.1:1/v1", "gpt").build().expect("builds");
        assert_eq!(p.info().provider, "openai");
    }
}
