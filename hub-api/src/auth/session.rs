//! Operator sessions: a signed JWT naming a session row, in an HttpOnly cookie, and the CSRF token
//! derived from the session id with a keyed hash (so every replica can check it). Both keys are
//! derived from the session secret and the operator's password hash, so changing
//! `auth.password_hash` ends every session made with the old one.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const COOKIE_NAME: &str = "felhom_session";
/// Sessions last seven days.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// The pseudo session id whose CSRF token guards a hub that runs without a password.
pub const OPEN_SESSION: &str = "open";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sid: String,
    iat: i64,
    exp: i64,
}

/// Keys derived from the session secret. `Debug` never shows them.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    csrf: Vec<u8>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}

impl SessionKeys {
    /// The keys of sessions signed with `secret` for the operator password whose bcrypt hash is
    /// `password_hash` (empty when the hub runs without one).
    pub fn new(secret: &[u8], password_hash: &str) -> Self {
        let derive = |label: &[u8]| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
            mac.update(label);
            mac.update(&[0]);
            mac.update(password_hash.as_bytes());
            mac.finalize().into_bytes().to_vec()
        };
        let sign = derive(b"felhom-hub session signing");
        Self {
            encoding: EncodingKey::from_secret(&sign),
            decoding: DecodingKey::from_secret(&sign),
            csrf: derive(b"felhom-hub csrf"),
        }
    }

    /// A signed token for session `sid` issued at `now` (ms) and valid until `exp` (ms).
    pub fn issue(&self, sid: &str, now: i64, exp: i64) -> String {
        let claims = Claims { sid: sid.to_string(), iat: now / 1000, exp: exp / 1000 };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of a small claim set cannot fail")
    }

    /// The session id of a valid, unexpired token at `now` (ms).
    pub fn verify(&self, token: &str, now: i64) -> Option<String> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the caller's `now`, so tests control time.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp".to_string()].into_iter().collect();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.exp * 1000 > now).then_some(data.claims.sid)
    }

    pub fn csrf_token(&self, sid: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.csrf).expect("HMAC takes keys of any length");
        mac.update(sid.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire() {
        let keys = SessionKeys::new(b"secret", "$2b$04$hash");
        let token = keys.issue("abc", 1_000_000, 2_000_000);
        assert_eq!(keys.verify(&token, 1_500_000).as_deref(), Some("abc"));
        assert_eq!(keys.verify(&token, 2_000_000), None);
        assert_eq!(SessionKeys::new(b"other", "$2b$04$hash").verify(&token, 1_500_000), None);
        assert_eq!(SessionKeys::new(b"secret", "$2b$04$other").verify(&token, 1_500_000), None, "a new password");
        assert_eq!(keys.verify("garbage", 1_500_000), None);
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_key() {
        let keys = SessionKeys::new(b"secret", "");
        assert_ne!(keys.csrf_token("a"), keys.csrf_token("b"));
        assert_ne!(keys.csrf_token("a"), SessionKeys::new(b"other", "").csrf_token("a"));
        assert_ne!(keys.csrf_token("a"), SessionKeys::new(b"secret", "$2b$04$hash").csrf_token("a"));
        assert_eq!(keys.csrf_token("a"), keys.csrf_token("a"));
    }
}
