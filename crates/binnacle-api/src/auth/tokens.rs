//! Access tokens (HS256 JWTs, short-lived) and refresh tokens (random, stored hashed, rotated).

use base64::Engine as _;
use binnacle_store::{Role, User};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Username.
    pub name: String,
    /// Role at issue time (the user's current role is read on every request).
    pub role: Role,
    /// Issued at, seconds.
    pub iat: u64,
    /// Expires at, seconds.
    pub exp: u64,
    /// Issuer.
    pub iss: String,
}

/// The signing key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(<secret>)")
    }
}

const ISSUER: &str = "binnacle";

impl JwtKeys {
    /// From a shared secret (at least 32 bytes).
    pub fn from_secret(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    /// Issues an access token valid for `ttl_secs`.
    pub fn issue(&self, user: &User, ttl_secs: u64) -> Result<String, String> {
        let now = now_secs();
        let claims = Claims {
            sub: user.id.clone(),
            name: user.username.clone(),
            role: user.role,
            iat: now,
            exp: now + ttl_secs,
            iss: ISSUER.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Checks a token's signature, algorithm, issuer and expiry (no leeway).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenProblem> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map(|d| d.claims).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenProblem::Expired,
                _ => TokenProblem::Invalid,
            }
        })
    }
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// It expired: refresh.
    Expired,
    /// Bad signature, algorithm, issuer, or not a JWT.
    Invalid,
}

/// A new refresh token (to hand out) and its hash (to store).
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// The stored form of a refresh token.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random secret for signing, hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User { id: "u1".into(), username: "alice".into(), role: Role::Operator, disabled: false, created_at: 0 }
    }

    #[test]
    fn issue_verify_tamper_expire() {
        let keys = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let t = keys.issue(&user(), 60).expect("issue");
        assert_eq!(keys.verify(&t).expect("valid").name, "alice");
        let other = JwtKeys::from_secret(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&t), Err(TokenProblem::Invalid));
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"u1","name":"alice","role":"admin","iat":1,"exp":99999999999,"iss":"binnacle"}"#);
        assert_eq!(keys.verify(&parts.join(".")), Err(TokenProblem::Invalid));
        let expired = keys.issue(&user(), 0).expect("issue");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(keys.verify(&expired), Err(TokenProblem::Expired));
        assert_eq!(keys.verify("not a jwt"), Err(TokenProblem::Invalid));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a), ha);
        assert!(a.len() >= 43);
    }
}
