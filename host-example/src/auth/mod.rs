//! Authentication of SCIM clients, per tenant: each tenant accepts any of its configured methods.
//!
//! A rejection never says which part was wrong; it carries one `WWW-Authenticate` challenge per scheme the
//! tenant accepts.

pub mod admin;
pub mod basic;
pub mod bearer;
pub mod code;
pub mod digest;
pub mod jwt;
pub mod oauth;
pub mod throttle;

pub use bearer::BearerToken;

use crate::config::{
    bounded_duration, AuthMethod, DigestAlgorithm, MAX_NONCE_TTL, MAX_REFRESH_TOKEN_TTL, MAX_TOKEN_TTL,
};
use anyhow::{Context, Result};
use std::time::Duration;

/// How long an OAuth access token lives unless `token_ttl` says otherwise.
pub const DEFAULT_OAUTH_TTL: Duration = Duration::from_secs(3600);

pub enum Method {
    Bearer(BearerToken),
    Basic { username: String, password_hash: String },
    Jwt,
    Oauth2 { client_id: String, secret_hash: String, ttl: Duration },
    Digest(digest::Account),
    Oauth2Code(code::Client),
    Open,
}

pub struct Authenticator {
    realm: String,
    methods: Vec<Method>,
    /// Present when the tenant accepts host-signed tokens (`jwt`, `oauth2` or `oauth2-code`).
    pub signer: Option<jwt::Signer>,
    cache: basic::VerifiedCache,
    nonces: digest::Nonces,
    /// Authorization codes waiting for their exchange.
    pub codes: code::Codes,
}

/// A refused credential: whether a Digest client should retry with a fresh nonce (`stale=true`).
#[derive(Debug, Default)]
pub struct Refused {
    pub stale: bool,
}

/// Whether a credential is a password, checked only while the client address has attempts left.
pub fn is_password(authorization: Option<&str>) -> bool {
    let scheme = authorization.and_then(|a| a.trim_start().split_once(' ')).map(|(s, _)| s);
    scheme.is_some_and(|s| s.eq_ignore_ascii_case("basic") || s.eq_ignore_ascii_case("digest"))
}

impl Method {
    pub fn from_config(m: &AuthMethod) -> Result<Method> {
        Ok(match m {
            AuthMethod::Bearer { token_sha256 } => {
                Method::Bearer(BearerToken::from_hash_hex(token_sha256).context("token_sha256")?)
            }
            AuthMethod::Basic { username, password_hash } => {
                Method::Basic { username: username.clone(), password_hash: password_hash.clone() }
            }
            AuthMethod::Jwt => Method::Jwt,
            AuthMethod::Oauth2 { client_id, client_secret_hash, token_ttl } => Method::Oauth2 {
                client_id: client_id.clone(),
                secret_hash: client_secret_hash.clone(),
                ttl: ttl(token_ttl, MAX_TOKEN_TTL, "token_ttl")?.unwrap_or(DEFAULT_OAUTH_TTL),
            },
            AuthMethod::Oauth2Code { client_id, client_secret_hash, redirect_uris, token_ttl, refresh_token_ttl } => {
                Method::Oauth2Code(code::Client {
                    client_id: client_id.clone(),
                    secret_hash: client_secret_hash.clone(),
                    redirect_uris: redirect_uris.clone(),
                    ttl: ttl(token_ttl, MAX_TOKEN_TTL, "token_ttl")?.unwrap_or(DEFAULT_OAUTH_TTL),
                    refresh_ttl: ttl(refresh_token_ttl, MAX_REFRESH_TOKEN_TTL, "refresh_token_ttl")?
                        .unwrap_or(code::DEFAULT_REFRESH_TTL),
                })
            }
            AuthMethod::Digest { username, algorithms, ha1_sha256, ha1_sha512_256, ha1_md5, nonce_ttl } => {
                let hashes = algorithms
                    .iter()
                    .map(|a| {
                        let h = match a {
                            DigestAlgorithm::Sha256 => ha1_sha256,
                            DigestAlgorithm::Sha512_256 => ha1_sha512_256,
                            DigestAlgorithm::Md5 => ha1_md5,
                        };
                        let h = h.as_deref().with_context(|| format!("no hash for {}", a.name()))?;
                        Ok((*a, h.to_ascii_lowercase()))
                    })
                    .collect::<Result<_>>()?;
                Method::Digest(digest::Account {
                    username: username.clone(),
                    hashes,
                    nonce_ttl: ttl(nonce_ttl, MAX_NONCE_TTL, "nonce_ttl")?.unwrap_or(digest::DEFAULT_NONCE_TTL),
                })
            }
            AuthMethod::Open => Method::Open,
        })
    }
}

fn ttl(text: &Option<String>, ceiling: Duration, key: &str) -> Result<Option<Duration>> {
    text.as_deref().map(|t| bounded_duration(t, ceiling, key)).transpose()
}

/// The realm of a tenant's challenges, and of its Digest password hashes.
pub fn realm(tenant: &str) -> String {
    format!("scimkit/{tenant}")
}

impl Authenticator {
    pub fn new(tenant: &str, methods: Vec<Method>, signer: Option<jwt::Signer>) -> Authenticator {
        let realm = realm(tenant);
        Authenticator {
            nonces: digest::Nonces::new(&realm),
            realm,
            methods,
            signer,
            cache: Default::default(),
            codes: Default::default(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.methods.iter().any(|m| matches!(m, Method::Open))
    }

    /// The principal behind an `Authorization` header (`bearer`, `basic:<user>`, `digest:<user>`,
    /// `jwt:<subject>`, `oauth2:<client>`, `anonymous`) of a request for `method target` (the path and query
    /// the client asked for), or why not.
    pub fn check(&self, authorization: Option<&str>, method: &str, target: &str) -> Result<String, Refused> {
        if self.is_open() {
            return Ok("anonymous".into());
        }
        let (scheme, credential) = authorization.and_then(|a| a.trim().split_once(' ')).ok_or_else(Refused::default)?;
        let found = if scheme.eq_ignore_ascii_case("bearer") {
            self.check_bearer(credential.trim())
        } else if scheme.eq_ignore_ascii_case("basic") {
            self.check_basic(authorization)
        } else if scheme.eq_ignore_ascii_case("digest") {
            let accounts: Vec<&digest::Account> =
                self.methods.iter().filter_map(|m| if let Method::Digest(a) = m { Some(a) } else { None }).collect();
            return match digest::verify(&accounts, &self.nonces, credential, method, target) {
                Ok(user) => Ok(format!("digest:{user}")),
                Err(why) => Err(Refused { stale: why == digest::Refusal::Stale }),
            };
        } else {
            None
        };
        found.ok_or_else(Refused::default)
    }

    fn check_bearer(&self, token: &str) -> Option<String> {
        // Every static token is compared, so that timing does not tell how many there are or which matched.
        let static_match = self.methods.iter().fold(false, |ok, m| match m {
            Method::Bearer(t) => t.matches(token) | ok,
            _ => ok,
        });
        if static_match {
            return Some("bearer".into());
        }
        let claims = self.signer.as_ref()?.verify(token)?;
        let accepted = self.methods.iter().any(|m| match (m, claims.kind) {
            (Method::Jwt, jwt::Kind::Token) => true,
            (Method::Oauth2 { client_id, .. }, jwt::Kind::Oauth2) => *client_id == claims.sub,
            (Method::Oauth2Code(c), jwt::Kind::Oauth2) => c.client_id == claims.sub,
            _ => false,
        });
        accepted.then(|| format!("{}:{}", if claims.kind == jwt::Kind::Token { "jwt" } else { "oauth2" }, claims.sub))
    }

    fn check_basic(&self, authorization: Option<&str>) -> Option<String> {
        let (user, password) = basic::parse_basic(authorization)?;
        let accounts: Vec<(&String, &String)> = self
            .methods
            .iter()
            .filter_map(|m| match m {
                Method::Basic { username, password_hash } => Some((username, password_hash)),
                _ => None,
            })
            .collect();
        let (_, hash) = accounts.iter().find(|(u, _)| **u == user).or(accounts.first())?;
        // An unknown user is checked against another account's hash, and fails: same cost as a wrong password.
        let ok = self.cache.verify(&user, &password, hash) && accounts.iter().any(|(u, h)| **u == user && *h == *hash);
        ok.then(|| format!("basic:{user}"))
    }

    /// The `WWW-Authenticate` challenges of a 401; `presented_bearer` adds RFC 6750's `invalid_token`,
    /// `stale` RFC 7616's `stale=true`. Digest comes first, one challenge per algorithm in the configured
    /// order: some clients read only the first challenge.
    pub fn challenges(&self, presented_bearer: bool, stale: bool) -> Vec<String> {
        let bearer = self
            .methods
            .iter()
            .any(|m| matches!(m, Method::Bearer(_) | Method::Jwt | Method::Oauth2 { .. } | Method::Oauth2Code(_)));
        let basic = self.methods.iter().any(|m| matches!(m, Method::Basic { .. }));
        let mut out = Vec::new();
        let mut algorithms: Vec<DigestAlgorithm> = Vec::new();
        for m in &self.methods {
            if let Method::Digest(a) = m {
                for (alg, _) in &a.hashes {
                    if !algorithms.contains(alg) {
                        algorithms.push(*alg);
                    }
                }
            }
        }
        if !algorithms.is_empty() {
            let nonce = self.nonces.issue();
            let stale = if stale { ", stale=true" } else { "" };
            for a in algorithms {
                out.push(format!(
                    "Digest realm=\"{}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\"{stale}",
                    self.realm,
                    a.name()
                ));
            }
        }
        if bearer {
            let error = if presented_bearer { ", error=\"invalid_token\"" } else { "" };
            out.push(format!("Bearer realm=\"{}\"{error}", self.realm));
        }
        if basic {
            out.push(format!("Basic realm=\"{}\", charset=\"UTF-8\"", self.realm));
        }
        out
    }

    /// The authorization code client with this id, registered or not.
    pub fn code_client_by_id(&self, id: &str) -> Option<&code::Client> {
        self.methods.iter().find_map(|m| match m {
            Method::Oauth2Code(c) if c.client_id == id => Some(c),
            _ => None,
        })
    }

    /// The authorization code client with this id and secret.
    pub fn code_client(&self, id: &str, secret: &str) -> Option<&code::Client> {
        let clients: Vec<&code::Client> =
            self.methods.iter().filter_map(|m| if let Method::Oauth2Code(c) = m { Some(c) } else { None }).collect();
        let client = clients.iter().find(|c| c.client_id == id).or(clients.first())?;
        // An unknown id is checked against another client's hash, and fails: same cost as a wrong secret.
        (basic::verify_password(secret, &client.secret_hash) && client.client_id == id).then_some(*client)
    }

    /// What `/ServiceProviderConfig` advertises: one scheme per kind of credential accepted (RFC 7643 §5).
    pub fn schemes(&self) -> Vec<serde_json::Value> {
        let mut out: Vec<serde_json::Value> = Vec::new();
        for m in &self.methods {
            let (kind, name, description, spec) = match m {
                Method::Bearer(_) | Method::Jwt => (
                    "oauthbearertoken",
                    "OAuth Bearer Token",
                    "A bearer token in the Authorization header.",
                    "https://www.rfc-editor.org/rfc/rfc6750",
                ),
                Method::Basic { .. } => (
                    "httpbasic",
                    "HTTP Basic",
                    "A user name and password with HTTP Basic.",
                    "https://www.rfc-editor.org/rfc/rfc7617",
                ),
                Method::Digest(_) => (
                    "httpdigest",
                    "HTTP Digest",
                    "HTTP Digest (qop=auth) with the algorithms the challenges offer.",
                    "https://www.rfc-editor.org/rfc/rfc7616",
                ),
                Method::Oauth2 { .. } => (
                    "oauth2",
                    "OAuth 2.0 client credentials",
                    "An access token from the token endpoint, for the client's id and secret.",
                    "https://www.rfc-editor.org/rfc/rfc6749#section-4.4",
                ),
                Method::Oauth2Code(_) => (
                    "oauth2",
                    "OAuth 2.0 authorization code",
                    "An access token from the token endpoint, for a code the administrator approved (with PKCE).",
                    "https://www.rfc-editor.org/rfc/rfc6749#section-4.1",
                ),
                Method::Open => continue,
            };
            if !out.iter().any(|s| s["name"] == name) {
                let primary = out.is_empty();
                out.push(serde_json::json!({
                    "type": kind, "name": name, "description": description, "specUri": spec, "primary": primary
                }));
            }
        }
        out
    }

    /// The OAuth client with this id and secret, and its token lifetime.
    pub fn oauth_client(&self, id: &str, secret: &str) -> Option<Duration> {
        let clients: Vec<(&String, &String, Duration)> = self
            .methods
            .iter()
            .filter_map(|m| match m {
                Method::Oauth2 { client_id, secret_hash, ttl } => Some((client_id, secret_hash, *ttl)),
                _ => None,
            })
            .collect();
        let (_, hash, ttl) = clients.iter().find(|(c, _, _)| *c == id).or(clients.first())?;
        (basic::verify_password(secret, hash) && clients.iter().any(|(c, h, _)| *c == id && *h == *hash))
            .then_some(*ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_accepts_its_own_credential_only() {
        let hash = basic::hash_password("pw").unwrap();
        let auth = Authenticator::new(
            "t",
            vec![
                Method::Bearer(BearerToken::from_secret("tok")),
                Method::Basic { username: "u".into(), password_hash: hash },
            ],
            None,
        );
        let check = |a: Option<&str>| auth.check(a, "GET", "/scim/v2/t/Users").ok();
        assert_eq!(check(Some("Bearer tok")).as_deref(), Some("bearer"));
        assert_eq!(check(Some("Basic dTpwdw==")).as_deref(), Some("basic:u")); // u:pw
        assert_eq!(check(Some("Basic dTpweA==")), None); // u:px
        assert_eq!(check(Some("Basic djpwdw==")), None); // v:pw
        assert_eq!(check(Some("Bearer nope")), None);
        assert_eq!(check(None), None);
        let c = auth.challenges(true, false);
        assert_eq!(
            c,
            vec!["Bearer realm=\"scimkit/t\", error=\"invalid_token\"", "Basic realm=\"scimkit/t\", charset=\"UTF-8\""]
        );
        let open = Authenticator::new("o", vec![Method::Open], None);
        assert_eq!(open.check(None, "GET", "/").ok().as_deref(), Some("anonymous"));
    }
}
