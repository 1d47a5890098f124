//! Binnacle's operator (`binnacle operator`): kube-runtime controllers that keep Binnacle's custom resources
//! in their declared state, with Lease-based leader election so that only one replica reconciles and writes.
//!
//! - [`gateway`]: for each `Gateway`, the data plane (ServiceAccount, RBAC, Deployment running
//!   `binnacle gateway --status-writer none`, Service) and, in process, the gateway's discovery and registry,
//!   which write the Gateway's status and Events.
//! - [`binnacle`]: for each `Binnacle`, the engine, the MCP server, RBAC, an optional Ingress and Gateway.
//! - [`leader`]: the election over a `coordination.k8s.io/v1` Lease.
//!
//! See `docs/operator.md`.

pub mod apply;
pub mod binnacle;
pub mod gateway;
pub mod leader;
pub mod metrics;

use binnacle_gateway::UpstreamOptions;
use kube::Client;
pub use leader::{LeaderElector, LeaseOptions};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The default name of the Lease the replicas compete for.
pub const LEASE_NAME: &str = "binnacle-operator";
/// The default namespace of the Lease when the operator's own namespace is unknown.
pub const DEFAULT_LEASE_NAMESPACE: &str = "binnacle-system";

/// The default image of the pods the operator runs: this build's version.
pub fn default_image() -> String {
    format!("ghcr.io/binnacle-dev/binnacle:{}", env!("CARGO_PKG_VERSION"))
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the API server failed.
    #[error("cannot {what}: {source}")]
    Kube {
        /// What the operator was doing.
        what: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// An object could not be built (a bug: the message says which).
    #[error("cannot build an object: {0}")]
    Build(String),
    /// The operator cannot start as configured (the message says what to change).
    #[error("{0}")]
    Setup(String),
    /// The finalizer machinery failed.
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
}

/// The finalizer helper's result, with one benign case made success: removing the finalizer of an object
/// that is already gone (a second queued cleanup of the same object after the first one finished).
pub(crate) fn finalized(
    result: Result<kube::runtime::controller::Action, kube::runtime::finalizer::Error<Error>>,
) -> Result<kube::runtime::controller::Action, Error> {
    match result {
        Ok(action) => Ok(action),
        Err(kube::runtime::finalizer::Error::RemoveFinalizer(kube::Error::Api(e))) if e.code == 404 => {
            Ok(kube::runtime::controller::Action::await_change())
        }
        Err(e) => Err(Error::Finalizer(Box::new(e))),
    }
}

impl Error {
    /// A client error while doing `what`.
    pub fn kube(what: impl Into<String>, source: kube::Error) -> Error {
        Error::Kube { what: what.into(), source }
    }
}

/// How the operator runs.
#[derive(Debug, Clone)]
pub struct OperatorOptions {
    /// Only resources in this namespace (default: every namespace).
    pub namespace: Option<String>,
    /// The image of the pods it runs.
    pub image: String,
    /// This replica's identity (the Lease holder and the Events' reporting instance).
    pub identity: String,
    /// Where the Lease lives.
    pub lease_namespace: String,
    /// The Lease's name.
    pub lease_name: String,
    /// Election timing.
    pub lease: LeaseOptions,
    /// Probing of upstreams by the in-process registries.
    pub upstream: UpstreamOptions,
    /// Where leadership, reconciles and changes are counted (`/metrics`).
    pub metrics: metrics::Metrics,
}

impl OperatorOptions {
    /// Options with defaults for `identity`.
    pub fn new(identity: impl Into<String>) -> OperatorOptions {
        OperatorOptions {
            namespace: None,
            image: default_image(),
            identity: identity.into(),
            lease_namespace: DEFAULT_LEASE_NAMESPACE.into(),
            lease_name: LEASE_NAME.into(),
            lease: LeaseOptions::default(),
            upstream: UpstreamOptions::default(),
            metrics: metrics::Metrics::default(),
        }
    }
}

/// Runs the controllers while this replica leads, until `shutdown`. Reports leadership on `leading`.
/// A replica that loses the Lease drops its controllers and in-process registries at once.
pub async fn run(client: Client, options: OperatorOptions, leading: watch::Sender<bool>, shutdown: CancellationToken) {
    let elector = LeaderElector::new(
        client.clone(),
        &options.lease_namespace,
        &options.lease_name,
        &options.identity,
        options.lease.clone(),
    );
    let mut state = leading.subscribe();
    let election = tokio::spawn(elector.clone().run(leading, shutdown.child_token()));
    // Every way out: the controllers are dropped first, then the campaign ends, then the Lease is released.
    let finish = async move |election: tokio::task::JoinHandle<()>| {
        let _ = election.await;
        elector.release().await;
    };
    loop {
        // Wait to lead.
        loop {
            if *state.borrow_and_update() {
                break;
            }
            tokio::select! {
                _ = shutdown.cancelled() => { finish(election).await; return; }
                r = state.changed() => if r.is_err() { finish(election).await; return },
            }
        }
        tracing::info!(identity = %options.identity, "leading: starting the controllers");
        options.metrics.leader.set(1);
        // Whatever ends this term, the gauge goes back to 0 when the term's scope ends.
        let _term = Term(&options.metrics);
        // Boxed so that dropping it (on shutdown or losing the lease) really stops the controllers at once.
        let mut controllers = Box::pin(controllers(client.clone(), options.clone()));
        let mut lost = Box::pin(async {
            loop {
                if !*state.borrow_and_update() {
                    return;
                }
                if state.changed().await.is_err() {
                    return;
                }
            }
        });
        let mut ended = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    drop(controllers);
                    finish(election).await;
                    return;
                }
                _ = &mut lost => {
                    tracing::warn!(identity = %options.identity, "no longer leading: stopped the controllers");
                    break;
                }
                // Ends only when no CRD is installed (or every watch ended): keep the Lease, restart on the next term.
                _ = &mut controllers, if !ended => {
                    tracing::warn!("the controllers ended; they start again when this replica next leads");
                    ended = true;
                }
            }
        }
    }
}

/// Checks that `name` + the longest suffix the operator appends is a Service name (an RFC 1035 label: at
/// most 63 lowercase letters, digits and `-`, starting with a letter, ending with a letter or digit).
pub fn check_object_name(kind: &str, name: &str, longest_suffix: &str) -> Result<(), String> {
    let full = format!("{name}{longest_suffix}");
    let ok = full.len() <= 63
        && full.starts_with(|c: char| c.is_ascii_lowercase())
        && full.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the {kind} name {name:?} cannot name its Services ({full:?} is not a DNS label): use a name that starts \
             with a letter and is at most {} characters long",
            63usize.saturating_sub(longest_suffix.len())
        ))
    }
}

/// Sets the leader gauge back to 0 when dropped.
struct Term<'a>(&'a metrics::Metrics);

impl Drop for Term<'_> {
    fn drop(&mut self) {
        self.0.leader.set(0);
    }
}

/// Checks that the Lease's namespace exists, with an error that says how to fix it.
pub async fn check_lease_namespace(client: &Client, namespace: &str) -> Result<(), Error> {
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
    match api.get_opt(namespace).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(Error::Setup(format!(
            "the leader-election namespace {namespace:?} does not exist: create it (kubectl create namespace \
             {namespace}) or pass --leader-election-namespace"
        ))),
        Err(e) => Err(Error::kube(format!("read the leader-election namespace {namespace:?}"), e)),
    }
}

/// Every CustomResourceDefinition of Binnacle (Gateway, Binnacle) as one YAML stream.
pub fn crds_yaml() -> String {
    format!("{}---\n{}", binnacle_gateway::crd_yaml(), binnacle::crd::crd_yaml())
}

/// Whether the API server serves the custom resource `K` (its CRD is installed).
async fn served<K>(client: &Client) -> bool
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let api: kube::Api<K> = kube::Api::all(client.clone());
    match api.list(&kube::api::ListParams::default().limit(1)).await {
        Ok(_) => true,
        Err(kube::Error::Api(e)) if e.code == 404 => {
            tracing::warn!(
                kind = %K::kind(&()),
                "the {} CustomResourceDefinition is not installed: its controller does not run (install it with `binnacle crds | kubectl apply -f -` and restart the operator)",
                K::kind(&())
            );
            false
        }
        Err(e) => {
            tracing::warn!(kind = %K::kind(&()), error = %e, "cannot check whether the CRD is installed; starting its controller anyway");
            true
        }
    }
}

/// Every controller whose CRD is installed, until dropped.
async fn controllers(client: Client, options: OperatorOptions) {
    let gateways = async {
        if served::<binnacle_gateway::GatewayResource>(&client).await {
            gateway::run(client.clone(), options.clone()).await;
        }
    };
    let binnacles = async {
        if served::<binnacle::crd::Binnacle>(&client).await {
            binnacle::run(client.clone(), options.clone()).await;
        }
    };
    futures::join!(gateways, binnacles);
}
