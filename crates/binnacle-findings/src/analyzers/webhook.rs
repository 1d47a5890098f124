//! Admission webhooks whose Service is missing or has no ready endpoints.

use super::{Analyzer, describe};
use crate::At;
use crate::finding::{Evidence, Finding, Severity};
use crate::snapshot::{Snapshot, name_of};
use binnacle_objects::pointer::get_str;
use serde_json::Value;

/// Reports Validating/MutatingWebhookConfigurations with a webhook whose `clientConfig.service` does not exist
/// or has no ready endpoint: critical with `failurePolicy: Fail` (the API server rejects the requests the
/// webhook matches), warning with `Ignore` (its checks are skipped after a timeout).
pub struct WebhookWithoutEndpoints;

impl Analyzer for WebhookWithoutEndpoints {
    fn name(&self) -> &'static str {
        "webhook-endpoints"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let mut out = Vec::new();
        for (key, kind) in [
            ("validatingwebhooks", "ValidatingWebhookConfiguration"),
            ("mutatingwebhooks", "MutatingWebhookConfiguration"),
        ] {
            for cfg in snap.list(key) {
                let name = name_of(cfg);
                let mut problems = Vec::new();
                let mut failing_closed = false;
                let mut first_service = None;
                for wh in cfg.get("webhooks").and_then(Value::as_array).into_iter().flatten() {
                    let (Some(svc_ns), Some(svc)) =
                        (get_str(wh, "/clientConfig/service/namespace"), get_str(wh, "/clientConfig/service/name"))
                    else {
                        continue;
                    };
                    if !snap.namespace_read(svc_ns) {
                        continue;
                    }
                    let webhook = get_str(wh, "/name").unwrap_or("?");
                    let policy = get_str(wh, "/failurePolicy").unwrap_or("Fail");
                    let problem = if snap.get("services", svc_ns, svc).is_none() {
                        Some(format!("Service {svc_ns}/{svc} does not exist"))
                    } else if !snap.is_served("endpointslices") {
                        None
                    } else {
                        let endpoints: Vec<&Value> = snap
                            .slices_for(svc_ns, svc)
                            .into_iter()
                            .filter_map(|s| s.get("endpoints")?.as_array())
                            .flatten()
                            .collect();
                        let ready = endpoints
                            .iter()
                            .filter(|e| e.at("/conditions/ready").and_then(Value::as_bool) != Some(false))
                            .count();
                        (ready == 0).then(|| {
                            format!("Service {svc_ns}/{svc} has no ready endpoints ({} not ready)", endpoints.len())
                        })
                    };
                    if let Some(problem) = problem {
                        failing_closed |= policy != "Ignore";
                        first_service.get_or_insert((svc_ns.to_string(), svc.to_string()));
                        problems.push(format!("webhook {webhook} (failurePolicy {policy}): {problem}"));
                    }
                }
                let Some((svc_ns, svc)) = first_service else { continue };
                let cause = if failing_closed {
                    "the API server calls the webhook for every request it matches and, with failurePolicy Fail, rejects them while the webhook is down"
                } else {
                    "requests the webhook matches wait for its timeout and then skip it (failurePolicy Ignore): its checks or changes are not applied"
                };
                out.push(Finding {
                    severity: if failing_closed { Severity::Critical } else { Severity::Warning },
                    kind: kind.into(),
                    namespace: String::new(),
                    name: name.into(),
                    analyzer: self.name().into(),
                    summary: format!("{kind} {name}: {}", problems[0]),
                    evidence: Evidence { conditions: problems.into_iter().take(10).collect(), ..Evidence::default() },
                    likely_cause: cause.into(),
                    next_step: describe("Service", &svc_ns, &svc),
                });
            }
        }
        out
    }
}
