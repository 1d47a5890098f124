//! Lease-based leader election (`coordination.k8s.io/v1` Lease), with the semantics of client-go's
//! `leaderelection`: a candidate takes the Lease when it is free or when its holder has not renewed it
//! within `leaseDurationSeconds` (measured on the candidate's own clock, from the moment it last saw the
//! Lease change, so clock skew between replicas does not matter); the leader renews every `retry` and
//! steps down at once when a renewal shows someone else holds the Lease, or when it could not renew for
//! `renew_deadline`. Every write is a `replace` carrying the resourceVersion it read, so two candidates
//! can never both believe they won.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Timing of the election.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// The Lease's `leaseDurationSeconds`: how long a candidate waits without seeing a renewal before it
    /// takes over (default 15 s).
    pub lease_duration: Duration,
    /// A leader that could not renew for this long steps down (default 10 s; shorter than the duration).
    pub renew_deadline: Duration,
    /// How often the leader renews and a candidate retries (default 2 s).
    pub retry: Duration,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry: Duration::from_secs(2),
        }
    }
}

/// One candidate for the Lease `namespace/name`.
#[derive(Debug, Clone)]
pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    options: LeaseOptions,
}

/// What one attempt found.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// We hold the Lease (just acquired or renewed).
    Held,
    /// Someone else holds it and it has not expired.
    Taken(String),
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

impl LeaderElector {
    /// A candidate named `identity` for the Lease `namespace/name`.
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str, options: LeaseOptions) -> LeaderElector {
        LeaderElector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            options,
        }
    }

    /// This candidate's identity (the Lease's `holderIdentity` while it leads).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    fn duration_secs(&self) -> i32 {
        i32::try_from(self.options.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX)
    }

    /// One try to acquire or renew. `observed` is (resourceVersion, when we first saw it) of the Lease as
    /// another holder last left it: expiry is judged on our clock.
    async fn try_acquire_or_renew(&self, observed: &mut Option<(String, Instant)>) -> Result<Attempt, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(self.name.clone()), ..Default::default() },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(self.duration_secs()),
                    acquire_time: Some(now()),
                    renew_time: Some(now()),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Held),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(Attempt::Taken(String::new())),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let rv = lease.metadata.resource_version.clone().unwrap_or_default();
        match holder {
            Some(h) if h == self.identity => {}
            Some(h) => {
                // Someone else: has it been renewed since we last looked?
                let duration = spec
                    .lease_duration_seconds
                    .and_then(|s| u64::try_from(s).ok())
                    .map(Duration::from_secs)
                    .unwrap_or(self.options.lease_duration);
                let seen_at = match observed {
                    Some((seen_rv, at)) if *seen_rv == rv => *at,
                    _ => {
                        *observed = Some((rv.clone(), Instant::now()));
                        return Ok(Attempt::Taken(h));
                    }
                };
                if seen_at.elapsed() < duration {
                    return Ok(Attempt::Taken(h));
                }
                tracing::info!(lease = %self.name, previous = %h, "the leader did not renew the Lease in time; taking over");
            }
            None => {}
        }
        let spec = lease.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            spec.acquire_time = Some(now());
            spec.holder_identity = Some(self.identity.clone());
        }
        spec.lease_duration_seconds = Some(self.duration_secs());
        spec.renew_time = Some(now());
        lease.metadata.managed_fields = None;
        // replace carries metadata.resourceVersion: a concurrent writer makes this a 409.
        match self.api.replace(&self.name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(Attempt::Held),
            Err(kube::Error::Api(e)) if e.code == 409 => {
                *observed = None;
                Ok(Attempt::Taken(String::new()))
            }
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up (if we hold it) so another candidate takes over without waiting for expiry.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.name).await else { return };
        let Some(spec) = lease.spec.as_mut() else { return };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.renew_time = Some(now());
        // A released Lease expires at once for everyone (client-go sets the duration to 1 s).
        spec.lease_duration_seconds = Some(1);
        lease.metadata.managed_fields = None;
        match self.api.replace(&self.name, &PostParams::default(), &lease).await {
            Ok(_) => tracing::info!(lease = %self.name, identity = %self.identity, "released the Lease"),
            Err(e) => tracing::warn!(lease = %self.name, error = %e, "cannot release the Lease; it expires by itself"),
        }
    }

    /// Campaigns until `shutdown`: `leading` is true exactly while this candidate holds the Lease. On
    /// shutdown `leading` turns false; the caller then stops its writers and calls [`LeaderElector::release`],
    /// so that a successor cannot start while this one still writes.
    pub async fn run(self, leading: watch::Sender<bool>, shutdown: CancellationToken) {
        let mut observed: Option<(String, Instant)> = None;
        let mut last_renew: Option<Instant> = None;
        let mut last_holder = String::new();
        loop {
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = self.try_acquire_or_renew(&mut observed) => a,
            };
            let is_leader = *leading.borrow();
            match attempt {
                Ok(Attempt::Held) => {
                    last_renew = Some(Instant::now());
                    if !is_leader {
                        tracing::info!(lease = %self.name, identity = %self.identity, "became the leader");
                        leading.send_replace(true);
                    }
                }
                Ok(Attempt::Taken(holder)) => {
                    if is_leader {
                        tracing::warn!(lease = %self.name, identity = %self.identity, holder = %holder, "lost the Lease; stopping at once");
                        leading.send_replace(false);
                    }
                    if holder != last_holder && !holder.is_empty() {
                        tracing::info!(lease = %self.name, leader = %holder, "another replica leads; waiting");
                        last_holder = holder;
                    }
                    last_renew = None;
                }
                Err(e) => {
                    tracing::warn!(lease = %self.name, error = %e, "cannot read or write the Lease; retrying");
                    if is_leader && last_renew.is_none_or(|t| t.elapsed() >= self.options.renew_deadline) {
                        tracing::warn!(lease = %self.name, "could not renew the Lease within the renew deadline; stepping down");
                        leading.send_replace(false);
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.options.retry) => {}
            }
        }
        // The caller releases the Lease (see [`LeaderElector::release`]) once it has stopped writing.
        leading.send_replace(false);
    }
}
