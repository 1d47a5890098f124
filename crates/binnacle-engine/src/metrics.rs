//! Prometheus metrics of the engine: runs, tool calls by tool and outcome, model latency, tokens.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Labels of a finished run.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    /// Final status.
    pub status: String,
}

/// Labels of a tool call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ToolLabels {
    /// Tool name.
    pub tool: String,
    /// `succeeded`, `failed` or `denied`.
    pub outcome: String,
}

/// Labels of token counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    /// `prompt` or `completion`.
    pub kind: String,
}

/// The engine's metrics, registered in one registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Runs started.
    pub runs_started: Counter,
    /// Runs finished, by status.
    pub runs_finished: Family<RunLabels, Counter>,
    /// Runs in progress on this replica.
    pub runs_active: Gauge,
    /// Tool calls, by tool and outcome.
    pub tool_calls: Family<ToolLabels, Counter>,
    /// Time to the first token of a model turn, seconds.
    pub llm_first_token_seconds: Histogram,
    /// Duration of a whole model turn, seconds.
    pub llm_turn_seconds: Histogram,
    /// Model turns that failed.
    pub llm_errors: Counter,
    /// Tokens, by kind.
    pub tokens: Family<TokenLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("binnacle");
        let runs_started = Counter::default();
        let runs_finished = Family::<RunLabels, Counter>::default();
        let runs_active = Gauge::default();
        let tool_calls = Family::<ToolLabels, Counter>::default();
        let llm_first_token_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 12));
        let llm_turn_seconds = Histogram::new(exponential_buckets(0.05, 2.0, 12));
        let llm_errors = Counter::default();
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register("runs_started", "Agent runs started", runs_started.clone());
        registry.register("runs_finished", "Agent runs finished, by final status", runs_finished.clone());
        registry.register("runs_active", "Agent runs in progress on this replica", runs_active.clone());
        registry.register("tool_calls", "Tool calls, by tool and outcome", tool_calls.clone());
        registry.register(
            "llm_first_token_seconds",
            "Time from sending a model turn to its first token",
            llm_first_token_seconds.clone(),
        );
        registry.register("llm_turn_seconds", "Duration of a model turn", llm_turn_seconds.clone());
        registry.register("llm_errors", "Model turns that failed", llm_errors.clone());
        registry.register("llm_tokens", "Tokens used, by kind", tokens.clone());
        Self {
            registry: Arc::new(registry),
            runs_started,
            runs_finished,
            runs_active,
            tool_calls,
            llm_first_token_seconds,
            llm_turn_seconds,
            llm_errors,
            tokens,
        }
    }
}

impl Metrics {
    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::warn!("encoding metrics failed");
        }
        out
    }

    /// Counts a tool call.
    pub fn tool_call(&self, tool: &str, outcome: &str) {
        self.tool_calls.get_or_create(&ToolLabels { tool: tool.to_string(), outcome: outcome.to_string() }).inc();
    }
}
