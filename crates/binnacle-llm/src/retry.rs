//! Sending a request with retries: connection failures, 429 and 5xx answers are retried with exponential
//! backoff (doubling, with jitter, capped at 10 s) or after the `Retry-After` the provider asked for
//! (capped at 30 s). Retries happen only before a response starts streaming.

use crate::LlmError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::hash::BuildHasher;
use std::time::Duration;

/// The longest computed backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// How much of an error body is kept in a message.
const MAX_MESSAGE_CHARS: usize = 2000;

/// An HTTP client with the retry policy of one provider.
#[derive(Debug)]
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) max_retries: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) request_timeout: Duration,
}

impl Http {
    /// A client for `config` (rustls, no overall timeout: a stream may run for minutes).
    pub(crate) fn new(config: &crate::ProviderConfig) -> Result<Self, LlmError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.request_timeout)
            .user_agent(concat!("binnacle/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Config(format!("cannot build the HTTP client: {}", describe(&e))))?;
        Ok(Http {
            client,
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
            request_timeout: config.request_timeout,
        })
    }

    /// POSTs `body` (JSON) to `url` until a 2xx answer arrives, the provider rejects the request (4xx other
    /// than 408 and 429), or the retries are used up.
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<reqwest::Response, LlmError> {
        let mut attempt: u32 = 0;
        loop {
            let request = self.client.post(url).headers(headers.clone()).body(body.to_vec());
            let (reason, retry_after) = match tokio::time::timeout(self.request_timeout, request.send()).await {
                Err(_) => (format!("no response within {} s", self.request_timeout.as_secs_f64()), None),
                Ok(Err(e)) => (describe(&e), None),
                Ok(Ok(response)) => {
                    let status = response.status();
                    if status.is_success() {
                        return Ok(response);
                    }
                    let retry_after = retry_after(response.headers());
                    let text = match tokio::time::timeout(self.request_timeout, response.text()).await {
                        Ok(Ok(text)) => text,
                        _ => String::new(),
                    };
                    let message = error_message(status, &text);
                    if !retryable(status) {
                        return Err(LlmError::Rejected { status: status.as_u16(), message });
                    }
                    (format!("HTTP {}: {message}", status.as_u16()), retry_after)
                }
            };
            if attempt >= self.max_retries {
                return Err(LlmError::Unavailable {
                    url: url.to_string(),
                    reason: if self.max_retries == 0 {
                        reason
                    } else {
                        format!("{reason} (after {} retries)", self.max_retries)
                    },
                });
            }
            let delay = retry_after.unwrap_or_else(|| backoff(self.initial_backoff, attempt));
            attempt += 1;
            tracing::warn!(
                url,
                attempt,
                max_retries = self.max_retries,
                delay_ms = delay.as_millis() as u64,
                reason = %reason,
                "LLM request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }
}

/// Whether an answer with this status is worth another attempt.
fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT || status.is_server_error()
}

/// The backoff before retry number `attempt + 1`: `initial * 2^attempt`, jittered by ±20 %, at most 10 s.
pub(crate) fn backoff(initial: Duration, attempt: u32) -> Duration {
    let base = initial.saturating_mul(2u32.saturating_pow(attempt.min(30))).min(MAX_BACKOFF);
    // A random number without a dependency: std's randomly keyed hasher.
    let r = std::collections::hash_map::RandomState::new().hash_one(attempt);
    let factor = 0.8 + 0.4 * (r as f64 / u64::MAX as f64);
    base.mul_f64(factor).min(MAX_BACKOFF)
}

/// `Retry-After` in seconds (fractions accepted), or OpenAI's `retry-after-ms`; at most 30 s.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let seconds = value("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .or_else(|| value("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).map(|ms| ms / 1000.0))?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(seconds.min(MAX_RETRY_AFTER.as_secs_f64())))
}

/// The provider's explanation: `error.message` of a JSON body (both APIs use it), else the body's text,
/// else the status's reason phrase.
fn error_message(status: StatusCode, body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| {
        let error = v.get("error")?;
        match error {
            serde_json::Value::String(s) => Some(s.clone()),
            _ => error.get("message").and_then(|m| m.as_str()).map(str::to_string),
        }
    });
    let text = match from_json {
        Some(m) => m,
        None if !body.trim().is_empty() => body.trim().to_string(),
        None => status.canonical_reason().unwrap_or("no message").to_string(),
    };
    truncate(&text, MAX_MESSAGE_CHARS)
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// An error with its causes (`reqwest` keeps "connection refused" in the source chain).
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let initial = Duration::from_millis(100);
        for attempt in 0..4 {
            let d = backoff(initial, attempt);
            let base = 100.0 * f64::from(2u32.pow(attempt));
            let ms = d.as_secs_f64() * 1000.0;
            assert!(ms >= base * 0.79 && ms <= base * 1.21, "attempt {attempt}: {ms} ms");
        }
        assert!(backoff(initial, 20) <= MAX_BACKOFF);
        assert!(backoff(Duration::from_secs(3600), 0) <= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_is_read_and_capped() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", HeaderValue::from_static("0.25"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        h.insert("retry-after", HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
    }

    #[test]
    fn error_messages_come_from_the_body() {
        let s = StatusCode::UNAUTHORIZED;
        assert_eq!(error_message(s, r#"{"error":{"message":"Incorrect API key","type":"x"}}"#), "Incorrect API key");
        assert_eq!(
            error_message(
                s,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#
            ),
            "invalid x-api-key"
        );
        assert_eq!(error_message(s, "  nope \n"), "nope");
        assert_eq!(error_message(s, ""), "Unauthorized");
        assert!(error_message(s, &"x".repeat(5000)).chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
