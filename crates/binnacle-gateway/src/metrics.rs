//! Prometheus metrics of the gateway (`/metrics`): calls by service and outcome, call latency, services by
//! status, tools served and `list_changed` notifications sent.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Labels of a forwarded call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `namespace/name` of the upstream (`-` when the tool is unknown).
    pub service: String,
    /// `ok`, `tool_error`, `rpc_error`, `refused`, `unknown`, `unavailable`, `timeout`, `cancelled`, `failed`.
    pub outcome: String,
}

/// Labels of a latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    /// `namespace/name` of the upstream.
    pub service: String,
}

/// Labels of the services gauge.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// `Available` or `Unavailable`.
    pub status: String,
}

/// The gateway's metrics, registered in one registry. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Tool calls by service and outcome.
    pub calls: Family<CallLabels, Counter>,
    /// Duration of forwarded calls, seconds.
    pub call_seconds: Family<ServiceLabels, Histogram>,
    /// Discovered services by status.
    pub services: Family<StatusLabels, Gauge>,
    /// Tools served through `/mcp`.
    pub tools: Gauge,
    /// `notifications/tools/list_changed` sent to clients.
    pub list_changed: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("binnacle_gateway");
        let calls = Family::<CallLabels, Counter>::default();
        let call_seconds = Family::<ServiceLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.0005, 2.0, 16))) as fn() -> Histogram,
        );
        let services = Family::<StatusLabels, Gauge>::default();
        let tools = Gauge::default();
        let list_changed = Counter::default();
        registry.register("tool_calls", "Tool calls, by upstream service and outcome", calls.clone());
        registry.register("tool_call_seconds", "Duration of tool calls forwarded to upstreams", call_seconds.clone());
        registry.register("services", "Discovered MCP services, by status", services.clone());
        registry.register("tools", "Tools served through /mcp", tools.clone());
        registry.register("list_changed_notifications", "tools/list_changed notifications sent", list_changed.clone());
        Self { registry: Arc::new(registry), calls, call_seconds, services, tools, list_changed }
    }
}

impl Metrics {
    /// Counts one call.
    pub fn call(&self, service: &str, outcome: &str) {
        self.calls.get_or_create(&CallLabels { service: service.into(), outcome: outcome.into() }).inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "cannot encode metrics");
        }
        out
    }
}
