//! Client authentication (`auth.mode` of the Gateway): API keys from a Secret, or HS256 access tokens issued
//! by the engine (`binnacle serve`), verified with the signing secret from a Secret.
//!
//! [`run`] reads the Secret named by the spec when the config changes and every `refresh` after that, so a
//! rotated or revoked key takes effect within `refresh`. [`Authenticator::check`] looks at one request's
//! headers (`Authorization: Bearer <key or token>`, or `X-API-Key: <key>`) and answers the [`Caller`].

use crate::config::{AuthConfig, GatewayConfig, SpecProblem};
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The key of the Secret that holds the engine's JWT signing secret (`BINNACLE_JWT_SECRET` of `binnacle serve`).
pub const JWT_SECRET_KEY: &str = "jwt-secret";
/// The issuer of the engine's access tokens.
pub const ENGINE_ISSUER: &str = "binnacle";

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The API key's name (its data key in the Secret), the token's subject (`name (sub)`), or `anonymous`.
    pub name: String,
    /// Only tools marked `readOnlyHint: true` (the engine's `viewer` role).
    pub read_only: bool,
}

impl Caller {
    /// The caller of a gateway without authentication.
    pub fn anonymous() -> Caller {
        Caller { name: "anonymous".into(), read_only: false }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials were sent.
    #[error("{0}")]
    Missing(String),
    /// The credentials are wrong, expired or not accepted.
    #[error("{0}")]
    Invalid(String),
    /// The gateway cannot check credentials (its Secret is missing or unusable): nobody is let in.
    #[error("{0}")]
    Unavailable(String),
}

/// What the credentials are checked against.
enum State {
    Open,
    /// (name, SHA-256 of the key).
    ApiKeys(Vec<(String, [u8; 32])>),
    Jwt(DecodingKey),
    Unavailable(String),
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            State::Open => f.write_str("Open"),
            State::ApiKeys(keys) => write!(f, "ApiKeys({} keys)", keys.len()),
            State::Jwt(_) => f.write_str("Jwt(<secret>)"),
            State::Unavailable(m) => write!(f, "Unavailable({m})"),
        }
    }
}

/// Checks requests against the current keys or signing secret. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Authenticator {
    state: watch::Receiver<Arc<State>>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::open()
    }
}

/// The engine's access-token claims the gateway reads (see `binnacle-api`'s `auth::tokens::Claims`).
#[derive(Debug, Deserialize)]
struct EngineClaims {
    sub: String,
    #[serde(default)]
    name: String,
    role: String,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compares two digests in constant time.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const HOW: &str = "send `Authorization: Bearer <key>` (or `X-API-Key: <key>`) with a key from the Gateway's \
                   auth Secret";
const HOW_JWT: &str = "send `Authorization: Bearer <accessToken>` with an access token of the Binnacle engine \
                       (POST /api/v1/auth/login on the engine answers one)";

impl Authenticator {
    /// Lets everybody in (`auth.mode: none`).
    pub fn open() -> Authenticator {
        let (_tx, rx) = watch::channel(Arc::new(State::Open));
        Authenticator { state: rx }
    }

    /// Checks a request's headers.
    pub fn check(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        let state = self.state.borrow().clone();
        let bearer = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim);
        match state.as_ref() {
            State::Open => Ok(Caller::anonymous()),
            State::Unavailable(message) => Err(AuthError::Unavailable(message.clone())),
            State::ApiKeys(keys) => {
                let Some(sent) = bearer.or(api_key).filter(|k| !k.is_empty()) else {
                    return Err(AuthError::Missing(format!("this gateway requires an API key: {HOW}")));
                };
                let sent = digest(sent.as_bytes());
                // Every key is compared, so the time taken does not say which one (nearly) matched.
                let mut found: Option<&str> = None;
                for (name, key) in keys {
                    if same(key, &sent) && found.is_none() {
                        found = Some(name);
                    }
                }
                match found {
                    Some(name) => Ok(Caller { name: name.to_string(), read_only: false }),
                    None => Err(AuthError::Invalid(format!("the API key is not accepted (unknown or revoked): {HOW}"))),
                }
            }
            State::Jwt(key) => {
                let Some(token) = bearer.filter(|t| !t.is_empty()) else {
                    return Err(AuthError::Missing(format!("this gateway requires an engine access token: {HOW_JWT}")));
                };
                let mut validation = Validation::new(Algorithm::HS256);
                validation.leeway = 0;
                validation.set_issuer(&[ENGINE_ISSUER]);
                validation.set_required_spec_claims(&["exp", "sub", "iss"]);
                let claims = jsonwebtoken::decode::<EngineClaims>(token, key, &validation).map_err(|e| {
                    let why = match e.kind() {
                        jsonwebtoken::errors::ErrorKind::ExpiredSignature => "it has expired".to_string(),
                        jsonwebtoken::errors::ErrorKind::InvalidIssuer => "it was not issued by the engine".to_string(),
                        jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                            "its signature does not match the gateway's jwt-secret".to_string()
                        }
                        other => format!("it is not a valid engine token ({other:?})"),
                    };
                    AuthError::Invalid(format!("the access token is refused: {why}; {HOW_JWT}"))
                })?;
                let read_only = match claims.claims.role.as_str() {
                    "viewer" => true,
                    "operator" | "admin" => false,
                    other => {
                        return Err(AuthError::Invalid(format!(
                            "the access token's role {other:?} is not one the gateway knows (viewer, operator, admin)"
                        )));
                    }
                };
                let c = claims.claims;
                let name = if c.name.is_empty() { c.sub } else { format!("{} ({})", c.name, c.sub) };
                Ok(Caller { name, read_only })
            }
        }
    }
}

/// Reads the auth Secret: the state to check requests against, or why it cannot be used.
async fn load(client: &Client, namespace: &str, auth: &AuthConfig) -> Result<State, SpecProblem> {
    let (secret, jwt) = match auth {
        AuthConfig::None => return Ok(State::Open),
        AuthConfig::ApiKeys { secret } => (secret, false),
        AuthConfig::Jwt { secret } => (secret, true),
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let found = api.get_opt(secret).await.map_err(|e| SpecProblem {
        reason: "AuthSecretUnreadable",
        message: format!("cannot read Secret {namespace}/{secret} (auth.secretRef): {e}; check the gateway's RBAC"),
    })?;
    let Some(found) = found else {
        let create = if jwt {
            format!(
                "kubectl create secret generic {secret} -n {namespace} --from-literal={JWT_SECRET_KEY}=<the engine's BINNACLE_JWT_SECRET>"
            )
        } else {
            format!("kubectl create secret generic {secret} -n {namespace} --from-literal=<key-name>=<key>")
        };
        return Err(SpecProblem {
            reason: "AuthSecretMissing",
            message: format!(
                "Secret {namespace}/{secret} (auth.secretRef) does not exist, so every client is refused: create it \
                 with `{create}`"
            ),
        });
    };
    let data = found.data.unwrap_or_default();
    if jwt {
        match data.get(JWT_SECRET_KEY).map(|v| v.0.as_slice()).filter(|v| v.len() >= 32) {
            Some(bytes) => Ok(State::Jwt(DecodingKey::from_secret(bytes))),
            None => Err(SpecProblem {
                reason: "AuthSecretInvalid",
                message: format!(
                    "Secret {namespace}/{secret} (auth.secretRef) lacks a {JWT_SECRET_KEY} of at least 32 bytes: put \
                     the engine's BINNACLE_JWT_SECRET there, so every client is refused until then"
                ),
            }),
        }
    } else {
        let keys: Vec<(String, [u8; 32])> = data
            .iter()
            .filter_map(|(name, value)| {
                let text = std::str::from_utf8(&value.0).ok()?.trim();
                (!text.is_empty()).then(|| (name.clone(), digest(text.as_bytes())))
            })
            .collect();
        if keys.is_empty() {
            return Err(SpecProblem {
                reason: "AuthSecretInvalid",
                message: format!(
                    "Secret {namespace}/{secret} (auth.secretRef) holds no API key, so every client is refused: add \
                     one with `kubectl patch secret {secret} -n {namespace} --type merge -p \
                     '{{\"stringData\":{{\"<key-name>\":\"<key>\"}}}}'`"
                ),
            });
        }
        Ok(State::ApiKeys(keys))
    }
}

/// Checks the auth Secret of a config (for the `Ready` condition): `None` when it is usable.
pub async fn check_secret(client: &Client, namespace: &str, auth: &AuthConfig) -> Option<SpecProblem> {
    load(client, namespace, auth).await.err()
}

/// Starts following the auth Secret of the configs in `config`. Until the first config arrives everybody is
/// refused (fail closed).
pub fn spawn(
    client: Client,
    namespace: String,
    config: watch::Receiver<Option<Arc<GatewayConfig>>>,
    refresh: Duration,
    shutdown: CancellationToken,
) -> Authenticator {
    let (tx, rx) =
        watch::channel(Arc::new(State::Unavailable("the gateway has not read its Gateway spec yet; retry".into())));
    tokio::spawn(run(client, namespace, config, tx, refresh, shutdown));
    Authenticator { state: rx }
}

async fn run(
    client: Client,
    namespace: String,
    mut config: watch::Receiver<Option<Arc<GatewayConfig>>>,
    tx: watch::Sender<Arc<State>>,
    refresh: Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(refresh);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let current = config.borrow_and_update().clone();
        if let Some(current) = current {
            let state = match load(&client, &namespace, &current.auth).await {
                Ok(state) => state,
                Err(problem) => {
                    tracing::warn!(reason = problem.reason, message = %problem.message, "clients are refused");
                    State::Unavailable(format!("the gateway cannot authenticate clients: {}", problem.message))
                }
            };
            tx.send_replace(Arc::new(state));
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = config.changed() => if r.is_err() { return },
            _ = tick.tick() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(state: State) -> Authenticator {
        let (_tx, rx) = watch::channel(Arc::new(state));
        Authenticator { state: rx }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn api_keys() {
        let auth = with(State::ApiKeys(vec![("ci".into(), digest(b"k1")), ("alice".into(), digest(b"k2"))]));
        assert!(matches!(auth.check(&headers(&[])), Err(AuthError::Missing(_))));
        assert!(matches!(auth.check(&headers(&[("authorization", "Bearer nope")])), Err(AuthError::Invalid(_))));
        assert_eq!(auth.check(&headers(&[("authorization", "Bearer k2")])).expect("ok").name, "alice");
        assert_eq!(auth.check(&headers(&[("x-api-key", "k1")])).expect("ok").name, "ci");
        let closed = with(State::Unavailable("no Secret".into()));
        assert!(matches!(closed.check(&headers(&[("x-api-key", "k1")])), Err(AuthError::Unavailable(_))));
    }
}
