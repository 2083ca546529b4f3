//! The OAuth 2 authorization code grant (RFC 6749 §4.1) with PKCE S256 (RFC 7636): codes the administrator's
//! approval creates, short-lived and single-use, and their exchange at the token endpoint for an access token
//! and a refresh token (rotated on use; a reused one revokes its family, RFC 9700 §4.14.2).
//!
//! Codes live in this process's memory for [`CODE_TTL`]: a restart only asks the client to start again.

use super::jwt::{self, Signer};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long a code may wait for its exchange.
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a redeemed code is remembered, so that its reuse revokes what it gave.
const REDEEMED_KEPT: Duration = Duration::from_secs(600);
/// Codes held at most; each needs the administrator's approval.
const MAX_CODES: usize = 10_000;
/// How long a refresh token lives unless `refresh_token_ttl` says otherwise.
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 86_400);

/// A registered client of the grant.
pub struct Client {
    pub client_id: String,
    pub secret_hash: String,
    pub redirect_uris: Vec<String>,
    pub ttl: Duration,
    pub refresh_ttl: Duration,
}

impl Client {
    /// The redirect URI of an authorization request: the one given when it is registered exactly, else the
    /// only one registered when none is given.
    pub fn redirect_uri(&self, given: Option<&str>) -> Option<String> {
        match given {
            Some(uri) => self.redirect_uris.iter().find(|r| *r == uri).cloned(),
            None if self.redirect_uris.len() == 1 => Some(self.redirect_uris[0].clone()),
            None => None,
        }
    }
}

/// What an approval was for.
pub struct Approval {
    pub client_id: String,
    pub redirect_uri: String,
    /// The request named its redirect URI, so the exchange must name it too (RFC 6749 §4.1.3).
    pub redirect_given: bool,
    pub challenge: String,
}

struct Pending {
    approval: Approval,
    issued: Instant,
    /// Once redeemed: the access token's id and the refresh token family it gave.
    redeemed: Option<(String, String)>,
}

#[derive(Default)]
pub struct Codes {
    pending: Mutex<HashMap<[u8; 32], Pending>>,
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A PKCE code challenge as RFC 7636 §4.2 makes it with S256: 43 base64url characters.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge`, the verifier 43 to 128 unreserved characters.
fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed && bool::from(b64(&Sha256::digest(verifier.as_bytes())).as_bytes().ct_eq(challenge.as_bytes()))
}

/// Tokens given to a client.
pub struct Tokens {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

impl Codes {
    /// A new code for an approval; none when too many are waiting.
    pub fn issue(&self, approval: Approval) -> Option<String> {
        let code = b64(&rand::random::<[u8; 32]>());
        let mut pending = self.pending.lock().unwrap();
        if pending.len() >= MAX_CODES {
            pending.retain(|_, p| p.issued.elapsed() < REDEEMED_KEPT);
            if pending.len() >= MAX_CODES {
                return None;
            }
        }
        pending.insert(digest(&code), Pending { approval, issued: Instant::now(), redeemed: None });
        Some(code)
    }

    /// Trades a code for tokens (RFC 6749 §4.1.3); the error code of §5.2 otherwise. A code presented again
    /// revokes the tokens it gave (§4.1.2).
    pub fn exchange(
        &self,
        signer: &Signer,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<Tokens, &'static str> {
        let mut pending = self.pending.lock().unwrap();
        let Some(p) = pending.get_mut(&digest(code)) else { return Err("invalid_grant") };
        if let Some((jti, family)) = &p.redeemed {
            tracing::warn!(client = %client.client_id, "an authorization code was presented twice; its tokens are revoked");
            let revoked = signer.revoke(jti).and_then(|_| signer.revoke_family(family));
            if let Err(e) = revoked {
                tracing::error!("revoking the tokens of a reused code: {e:#}");
            }
            return Err("invalid_grant");
        }
        let a = &p.approval;
        let redirect_ok = match redirect_uri {
            Some(uri) => uri == a.redirect_uri,
            None => !a.redirect_given,
        };
        let fresh = p.issued.elapsed() < CODE_TTL;
        let Some(verifier) = verifier else { return Err("invalid_request") };
        if a.client_id != client.client_id || !redirect_ok || !fresh || !verifier_matches(verifier, &a.challenge) {
            // A failed attempt also spends the code: its holder may be guessing the verifier.
            pending.remove(&digest(code));
            return Err("invalid_grant");
        }
        let tokens = issue(signer, client, None).map_err(|e| {
            tracing::error!("issuing tokens: {e:#}");
            "server_error"
        })?;
        p.redeemed = Some(tokens.1.clone());
        Ok(tokens.0)
    }
}

/// An access token and a refresh token (of `family`, or a new family); with the token's id and the family.
fn issue(signer: &Signer, client: &Client, family: Option<&str>) -> anyhow::Result<(Tokens, (String, String))> {
    let (access_token, claims) = signer.issue(jwt::Kind::Oauth2, &client.client_id, client.ttl)?;
    let (refresh_token, family) = signer.issue_refresh(&client.client_id, family, client.refresh_ttl)?;
    Ok((Tokens { access_token, expires_in: client.ttl.as_secs(), refresh_token }, (claims.jti, family)))
}

/// The refresh token grant (RFC 6749 §6): the token is spent, a new one of its family returned.
pub fn refresh(signer: &Signer, client: &Client, refresh_token: &str) -> Result<Tokens, &'static str> {
    let family = match signer.use_refresh(&client.client_id, refresh_token) {
        Ok(Some(family)) => family,
        Ok(None) => return Err("invalid_grant"),
        Err(e) => {
            tracing::error!("reading refresh tokens: {e:#}");
            return Err("server_error");
        }
    };
    issue(signer, client, Some(&family)).map(|(t, _)| t).map_err(|e| {
        tracing::error!("issuing tokens: {e:#}");
        "server_error"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256() {
        // BASE64URL(SHA-256(verifier)), computed with another implementation.
        let verifier = "dBjftJeZ4CVP-mJ92K1DYX9ppBzWxrBD4LVcvOWHJ0k";
        let challenge = "QJCkfSC-hKdMiehFY0Ah1xvhPLKmZrbxJLV8wFzVQw0";
        assert!(valid_challenge(challenge));
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches("dBjftJeZ4CVP-mJ92K1DYX9ppBzWxrBD4LVcvOWHJ0K", challenge));
        assert!(!verifier_matches("short", challenge));
    }

    fn client(id: &str) -> Client {
        Client {
            client_id: id.into(),
            secret_hash: String::new(),
            redirect_uris: vec!["https://app.example/cb".into()],
            ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(600),
        }
    }

    #[test]
    fn a_code_serves_its_own_client_and_redirect_uri_once() {
        let dir = std::env::temp_dir().join(format!("scimkit-code-{}", scimkit_runtime::storage::new_id()));
        let signer = Signer::open("t", &dir, &dir.join("db.sqlite3")).unwrap();
        let verifier = "dBjftJeZ4CVP-mJ92K1DYX9ppBzWxrBD4LVcvOWHJ0k";
        let challenge = "QJCkfSC-hKdMiehFY0Ah1xvhPLKmZrbxJLV8wFzVQw0".to_string();
        let codes = Codes::default();
        let approval = |given| Approval {
            client_id: "a".into(),
            redirect_uri: "https://app.example/cb".into(),
            redirect_given: given,
            challenge: challenge.clone(),
        };
        let (a, b) = (client("a"), client("b"));
        let code = codes.issue(approval(true)).unwrap();
        assert_eq!(
            codes.exchange(&signer, &b, &code, Some("https://app.example/cb"), Some(verifier)).err(),
            Some("invalid_grant")
        );
        assert!(codes.exchange(&signer, &a, &code, Some("https://app.example/cb"), Some(verifier)).is_err(), "spent");
        let code = codes.issue(approval(true)).unwrap();
        assert_eq!(
            codes.exchange(&signer, &a, &code, None, Some(verifier)).err(),
            Some("invalid_grant"),
            "named, so needed"
        );
        let code = codes.issue(approval(false)).unwrap();
        assert_eq!(codes.exchange(&signer, &a, &code, None, None).err(), Some("invalid_request"), "no verifier");
        let tokens = codes.exchange(&signer, &a, &code, None, Some(verifier)).unwrap();
        assert!(signer.verify(&tokens.access_token).is_some());
        assert_eq!(codes.exchange(&signer, &a, &code, None, Some(verifier)).err(), Some("invalid_grant"));
        assert!(signer.verify(&tokens.access_token).is_none(), "revoked by the code's reuse");
        assert_eq!(refresh(&signer, &a, &tokens.refresh_token).err(), Some("invalid_grant"), "its family too");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
