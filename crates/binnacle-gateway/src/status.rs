//! The gateway's side of its `Gateway` object: it watches the spec (checking it into a config, or into a
//! `Ready=False` problem), writes the status through the status subresource, and records Events
//! (ServiceRegistered, ServiceUnavailable, ServiceRemoved, InvalidSpec) on the Gateway.
//!
//! An invalid spec never stops the gateway: it keeps serving the last valid spec (if it had one) and says
//! in the condition what to fix.

use crate::config::{GatewayConfig, SpecProblem};
use crate::crd::{Gateway, GatewayStatus, McpServiceStatus, ServiceState};
use crate::metrics::{Metrics, StatusLabels};
use crate::registry::{Snapshot, Transition};
use crate::upstream::brief;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ObjectReference, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The controller name on Events.
pub const REPORTER: &str = "binnacle-gateway";

/// What the gateway last saw of its Gateway object.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// `metadata.generation` of the spec.
    pub generation: Option<i64>,
    /// Why the spec cannot be served as written (it is then not applied, except for TLS, see below).
    pub problem: Option<SpecProblem>,
    /// Whether a valid spec was ever applied (the gateway keeps serving it while the current one is invalid).
    pub serving_previous: bool,
    /// The object, for Events.
    pub reference: ObjectReference,
}

/// The TLS Secret: present with a certificate and key, or the problem.
async fn check_tls(client: &Client, namespace: &str, name: &str) -> SpecProblem {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(None) => SpecProblem {
            reason: "TLSSecretMissing",
            message: format!(
                "enableTls is true but Secret {namespace}/{name} (tlsSecretRef) does not exist: create it \
                 (kubectl create secret tls {name} -n {namespace} --cert=FILE --key=FILE) or set enableTls: false"
            ),
        },
        Ok(Some(secret)) => {
            let data = secret.data.unwrap_or_default();
            let missing: Vec<&str> = ["tls.crt", "tls.key"].into_iter().filter(|k| !data.contains_key(*k)).collect();
            if missing.is_empty() {
                SpecProblem {
                    reason: "TLSNotImplemented",
                    message: format!(
                        "Secret {namespace}/{name} is valid, but this gateway version does not terminate TLS yet and \
                         serves plain HTTP: terminate TLS in front of it (Ingress, service mesh) or set enableTls: false"
                    ),
                }
            } else {
                SpecProblem {
                    reason: "TLSSecretInvalid",
                    message: format!(
                        "Secret {namespace}/{name} (tlsSecretRef) lacks {}: use a kubernetes.io/tls Secret with \
                         tls.crt and tls.key",
                        missing.join(" and ")
                    ),
                }
            }
        }
        Err(e) => SpecProblem {
            reason: "TLSSecretUnreadable",
            message: format!("cannot read Secret {namespace}/{name} (tlsSecretRef): {e}; check the gateway's RBAC"),
        },
    }
}

/// Problems reported while the spec is applied (not keeping the last valid one).
fn applied_anyway(reason: &str) -> bool {
    matches!(reason, "TLSNotImplemented" | "AuthSecretMissing" | "AuthSecretInvalid" | "AuthSecretUnreadable")
}

/// Checks one version of the Gateway: the config to apply (if any) and the problem to report (if any).
async fn evaluate(client: &Client, gw: &Gateway) -> (Option<GatewayConfig>, Option<SpecProblem>) {
    match GatewayConfig::from_spec(&gw.spec) {
        Err(problem) => (None, Some(problem)),
        Ok(config) => {
            let problem = match &config.tls_secret {
                Some(secret) => {
                    let namespace = gw.metadata.namespace.clone().unwrap_or_default();
                    Some(check_tls(client, &namespace, secret).await)
                }
                None => None,
            };
            let problem = match problem {
                Some(p) if p.reason != "TLSNotImplemented" => Some(p),
                tls => {
                    let namespace = gw.metadata.namespace.clone().unwrap_or_default();
                    crate::auth::check_secret(client, &namespace, &config.auth).await.or(tls)
                }
            };
            // Serving plain HTTP when TLS was asked for is reported, not refused: the rest of the spec applies.
            // An unusable auth Secret is applied too: the gateway then refuses every client (fails closed).
            let apply = problem.as_ref().is_none_or(|p| applied_anyway(p.reason));
            (apply.then_some(config), problem)
        }
    }
}

/// Watches the Gateway `namespace/name`: checked configs go to `config`, what was seen to `observed`.
/// Re-checks every `resync` (a TLS Secret created later is noticed). `InvalidSpec` Events go to `recorder`
/// (none: not recorded).
#[allow(clippy::too_many_arguments)]
pub async fn watch_spec(
    client: Client,
    namespace: String,
    name: String,
    config: watch::Sender<Option<Arc<GatewayConfig>>>,
    observed: watch::Sender<Option<Observed>>,
    recorder: Option<Recorder>,
    resync: Duration,
    shutdown: CancellationToken,
) {
    let api: Api<Gateway> = Api::namespaced(client.clone(), &namespace);
    let cfg = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = watcher(api, cfg).default_backoff().applied_objects().boxed();
    let mut latest: Option<Gateway> = None;
    let mut tick = tokio::time::interval(resync);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_problem: Option<SpecProblem> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            item = stream.next() => match item {
                Some(Ok(gw)) => latest = Some(gw),
                Some(Err(e)) => {
                    tracing::warn!(gateway = %format!("{namespace}/{name}"), error = %e, "watching the Gateway failed; retrying");
                    continue;
                }
                None => return,
            },
            _ = tick.tick() => {}
        }
        let Some(gw) = &latest else { continue };
        let (next, problem) = evaluate(&client, gw).await;
        let reference = gw.object_ref(&());
        if let Some(next) = next {
            config.send_if_modified(|c| {
                let changed = c.as_deref() != Some(&next);
                if changed {
                    tracing::info!(gateway = %format!("{namespace}/{name}"), generation = ?gw.metadata.generation, "applying the Gateway spec");
                    *c = Some(Arc::new(next));
                }
                changed
            });
        }
        if problem != last_problem {
            if let Some(p) = &problem {
                tracing::warn!(gateway = %format!("{namespace}/{name}"), reason = p.reason, message = %p.message, "the Gateway spec cannot be served as written");
                let event = Event {
                    type_: EventType::Warning,
                    reason: "InvalidSpec".into(),
                    note: Some(brief(format!("{}: {}", p.reason, p.message))),
                    action: "Validate".into(),
                    secondary: None,
                };
                if let Some(recorder) = &recorder
                    && let Err(e) = recorder.publish(&event, &reference).await
                {
                    tracing::debug!(error = %e, "cannot record an Event");
                }
            }
            last_problem = problem.clone();
        }
        let serving_previous = config.borrow().is_some();
        observed.send_if_modified(|o| {
            let next =
                Observed { generation: gw.metadata.generation, problem: problem.clone(), serving_previous, reference };
            let changed = o.as_ref() != Some(&next);
            *o = Some(next);
            changed
        });
    }
}

fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The status to write for what is observed and served.
pub fn compose(
    observed: &Observed,
    snapshot: &Snapshot,
    address: Option<&str>,
    previous: Option<&GatewayStatus>,
) -> GatewayStatus {
    let services: Vec<McpServiceStatus> = snapshot
        .services
        .values()
        .map(|s| McpServiceStatus {
            name: s.spec.key.name.clone(),
            namespace: s.spec.key.namespace.clone(),
            type_: s.spec.kind,
            endpoint: s.state.endpoint.clone().or_else(|| s.spec.endpoints.first().cloned()),
            status: s.state.status,
            tools: i64::try_from(s.state.tools.len()).unwrap_or(i64::MAX),
            prefix: Some(s.prefix.clone()),
            message: s.state.message.as_deref().map(brief),
            last_updated: Some(rfc3339(s.state.since)),
        })
        .collect();
    let (available, total) = snapshot.counts();
    let (status, reason, message) = match (&observed.problem, snapshot.synced) {
        (Some(p), _) if applied_anyway(p.reason) => ("False", p.reason, p.message.clone()),
        (Some(p), _) => {
            let tail = if observed.serving_previous {
                " (the gateway keeps serving its last valid spec meanwhile)"
            } else {
                " (the gateway serves no tools until the spec is fixed)"
            };
            ("False", p.reason, format!("{}{tail}", p.message))
        }
        (None, false) => ("False", "Discovering", "listing MCP Services and their EndpointSlices".to_string()),
        (None, true) if total == 0 => (
            "True",
            "NoServicesFound",
            "no Service matches the serviceSelector: label MCP server Services (default mcp-enabled: \"true\")"
                .to_string(),
        ),
        (None, true) => {
            let down: Vec<String> = snapshot
                .services
                .values()
                .filter(|s| s.state.status != ServiceState::Available)
                .map(|s| s.spec.key.to_string())
                .collect();
            let mut text = format!("serving {} tools from {available} of {total} MCP services", snapshot.tools.len());
            if !down.is_empty() {
                text.push_str(&format!("; unavailable: {}", down.join(", ")));
            }
            ("True", "Serving", text)
        }
    };
    let before = previous.and_then(|p| p.conditions.iter().find(|c| c.type_ == "Ready"));
    let transition = match before {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Time(jiff::Timestamp::now()),
    };
    let ready = Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: reason.into(),
        message,
        last_transition_time: transition,
        observed_generation: observed.generation,
    };
    GatewayStatus {
        address: address.map(str::to_string),
        mcp_services: services,
        services_available: Some(format!("{available}/{total}")),
        tools: Some(i64::try_from(snapshot.tools.len()).unwrap_or(i64::MAX)),
        conditions: vec![ready],
        observed_generation: observed.generation,
    }
}

/// Writes the Gateway's status whenever what it says changes, until `shutdown`.
#[allow(clippy::too_many_arguments)]
pub async fn write_status(
    client: Client,
    namespace: String,
    name: String,
    address: Option<String>,
    mut observed: watch::Receiver<Option<Observed>>,
    mut snapshot: watch::Receiver<Arc<Snapshot>>,
    metrics: Metrics,
    shutdown: CancellationToken,
) {
    let api: Api<Gateway> = Api::namespaced(client, &namespace);
    let mut written: Option<GatewayStatus> = None;
    let mut failed = false;
    loop {
        let current = observed.borrow_and_update().clone();
        let snap = snapshot.borrow_and_update().clone();
        let (available, total) = snap.counts();
        metrics.services.get_or_create(&StatusLabels { status: "Available".into() }).set(available as i64);
        metrics.services.get_or_create(&StatusLabels { status: "Unavailable".into() }).set((total - available) as i64);
        metrics.tools.set(snap.tools.len() as i64);
        if let Some(current) = current {
            let status = compose(&current, &snap, address.as_deref(), written.as_ref());
            if written.as_ref() != Some(&status) {
                let patch = json!({"status": status});
                match api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => {
                        written = Some(status);
                        failed = false;
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => {
                        // The Gateway was deleted: nothing to write to until it is back (the watch tells).
                        tracing::debug!(gateway = %format!("{namespace}/{name}"), "the Gateway is gone; not writing status");
                        written = Some(status);
                        failed = false;
                    }
                    Err(e) => {
                        tracing::warn!(gateway = %format!("{namespace}/{name}"), error = %e, "cannot write the Gateway status; retrying");
                        failed = true;
                    }
                }
            }
        }
        let retry = async {
            if failed { tokio::time::sleep(Duration::from_secs(1)).await } else { std::future::pending().await }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = observed.changed() => if r.is_err() { return },
            r = snapshot.changed() => if r.is_err() { return },
            () = retry => {}
        }
        // Let a burst of changes settle into one write.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn service_ref(key: &crate::discovery::ServiceKey, uid: Option<String>) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Service".into()),
        name: Some(key.name.clone()),
        namespace: Some(key.namespace.clone()),
        uid,
        ..Default::default()
    }
}

/// Records registry transitions as Events on the Gateway (and logs them).
pub async fn record_events(
    recorder: Recorder,
    mut observed: watch::Receiver<Option<Observed>>,
    mut transitions: mpsc::UnboundedReceiver<Transition>,
    shutdown: CancellationToken,
) {
    loop {
        let t = tokio::select! {
            _ = shutdown.cancelled() => return,
            t = transitions.recv() => match t { Some(t) => t, None => return },
        };
        let (event, key) = match &t {
            Transition::Registered { key, uid, kind, endpoint, tools } => {
                tracing::info!(service = %key, tools, endpoint = ?endpoint, "MCP service registered");
                let note = format!(
                    "{} {key} ({}) registered with {tools} tools at {}",
                    "MCP service",
                    kind.as_str(),
                    endpoint.as_deref().unwrap_or("?")
                );
                (
                    Event {
                        type_: EventType::Normal,
                        reason: "ServiceRegistered".into(),
                        note: Some(note),
                        action: "Register".into(),
                        secondary: Some(service_ref(key, uid.clone())),
                    },
                    key,
                )
            }
            Transition::Unavailable { key, uid, message } => {
                tracing::warn!(service = %key, %message, "MCP service unavailable");
                (
                    Event {
                        type_: EventType::Warning,
                        reason: "ServiceUnavailable".into(),
                        note: Some(brief(format!("MCP service {key} is unavailable: {message}"))),
                        action: "Probe".into(),
                        secondary: Some(service_ref(key, uid.clone())),
                    },
                    key,
                )
            }
            Transition::Removed { key, uid } => (
                Event {
                    type_: EventType::Normal,
                    reason: "ServiceRemoved".into(),
                    note: Some(format!("MCP service {key} is no longer discovered; its tools were removed")),
                    action: "Deregister".into(),
                    secondary: Some(service_ref(key, uid.clone())),
                },
                key,
            ),
        };
        // Events need the Gateway's reference (its uid); wait for the first observation.
        let reference = loop {
            if let Some(o) = observed.borrow_and_update().as_ref() {
                break o.reference.clone();
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = observed.changed() => if r.is_err() { return },
            }
        };
        if let Err(e) = recorder.publish(&event, &reference).await {
            tracing::debug!(service = %key, error = %e, "cannot record an Event");
        }
    }
}

/// The Event recorder of a gateway instance.
pub fn recorder(client: Client, instance: Option<String>) -> Recorder {
    Recorder::new(client, Reporter { controller: REPORTER.into(), instance })
}
