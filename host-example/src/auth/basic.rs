//! HTTP Basic credentials and argon2 password hashes (also used for OAuth client secrets, the admin password
//! and the passwords clients send with Users).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An argon2id hash in PHC form (`$argon2id$v=19$…`), with a fresh random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash =
        Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a PHC hash; a damaged hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(h) = PasswordHash::new(hash) else { return false };
    super::throttle::one_hash_of_few(|| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// `Authorization: Basic …` decoded to (user, password). Per RFC 6749 §2.3.1 OAuth clients percent-encode
/// both parts; `percent_decoded` undoes that for the token endpoint.
pub fn parse_basic(authorization: Option<&str>) -> Option<(String, String)> {
    let (scheme, value) = authorization?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Clients that authenticate with Basic send the password on every request, and an argon2 check costs tens of
/// milliseconds by design: a success is remembered for a few minutes, keyed by a salted digest (never the
/// password itself), so that only the first request of a burst pays.
pub struct VerifiedCache {
    salt: [u8; 32],
    seen: Mutex<HashMap<[u8; 32], Instant>>,
}

const CACHE_TTL: Duration = Duration::from_secs(300);
const CACHE_MAX: usize = 1024;

impl Default for VerifiedCache {
    fn default() -> Self {
        VerifiedCache { salt: rand::random(), seen: Mutex::new(HashMap::new()) }
    }
}

impl VerifiedCache {
    fn key(&self, hash: &str, user: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        for part in [&self.salt[..], hash.as_bytes(), user.as_bytes(), password.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.finalize().into()
    }

    /// `verify_password`, remembering successes.
    pub fn verify(&self, user: &str, password: &str, hash: &str) -> bool {
        let key = self.key(hash, user, password);
        let now = Instant::now();
        if self.seen.lock().unwrap().get(&key).is_some_and(|t| now.duration_since(*t) < CACHE_TTL) {
            return true;
        }
        let ok = verify_password(password, hash);
        if ok {
            let mut seen = self.seen.lock().unwrap();
            if seen.len() >= CACHE_MAX {
                seen.retain(|_, t| now.duration_since(*t) < CACHE_TTL);
                if seen.len() >= CACHE_MAX {
                    seen.clear();
                }
            }
            seen.insert(key, now);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let h = hash_password("pw").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("pw", &h));
        assert!(!verify_password("pw2", &h));
        assert!(!verify_password("pw", "not a hash"));
        assert_ne!(h, hash_password("pw").unwrap());
        let cache = VerifiedCache::default();
        assert!(cache.verify("u", "pw", &h));
        assert!(cache.verify("u", "pw", &h));
        assert!(!cache.verify("u", "px", &h));
    }

    #[test]
    fn basic_header() {
        assert_eq!(parse_basic(Some("Basic dTpwOnc=")), Some(("u".into(), "p:w".into())));
        assert_eq!(parse_basic(Some("Bearer dTpw")), None);
        assert_eq!(parse_basic(Some("Basic !!")), None);
        assert_eq!(parse_basic(None), None);
    }
}
