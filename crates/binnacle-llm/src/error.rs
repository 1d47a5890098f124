//! Errors talking to a model.

/// Why a turn could not be streamed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The provider could not be reached or kept failing (after retries).
    #[error(
        "the LLM provider at {url} is unavailable: {reason}; check BINNACLE_LLM_BASE_URL and that the provider is up"
    )]
    Unavailable {
        /// The endpoint that was called.
        url: String,
        /// What went wrong last.
        reason: String,
    },
    /// The provider refused the request (4xx other than 429): bad key, unknown model, bad request.
    #[error("the LLM provider rejected the request with HTTP {status}: {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The stream broke off or carried something that could not be understood.
    #[error("the LLM stream failed: {0}")]
    Stream(String),
    /// The provider configuration is incomplete or wrong.
    #[error("LLM configuration: {0}")]
    Config(String),
}
