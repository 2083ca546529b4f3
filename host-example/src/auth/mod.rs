//! Authentication of SCIM clients, per tenant: each tenant accepts any of its configured methods.
//!
//! A rejection never says which part was wrong; it carries one `WWW-Authenticate` challenge per scheme the
//! tenant accepts.

pub mod admin;
pub mod basic;
pub mod bearer;
pub mod jwt;
pub mod oauth;
pub mod throttle;

pub use bearer::BearerToken;

use crate::config::{parse_duration, AuthMethod};
use anyhow::{Context, Result};
use std::time::Duration;

/// How long an OAuth access token lives unless `token_ttl` says otherwise.
pub const DEFAULT_OAUTH_TTL: Duration = Duration::from_secs(3600);

pub enum Method {
    Bearer(BearerToken),
    Basic { username: String, password_hash: String },
    Jwt,
    Oauth2 { client_id: String, secret_hash: String, ttl: Duration },
    Open,
}

pub struct Authenticator {
    realm: String,
    methods: Vec<Method>,
    /// Present when the tenant accepts host-signed tokens (`jwt` or `oauth2`).
    pub signer: Option<jwt::Signer>,
    cache: basic::VerifiedCache,
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
                ttl: token_ttl.as_deref().map(parse_duration).transpose()?.unwrap_or(DEFAULT_OAUTH_TTL),
            },
            AuthMethod::Open => Method::Open,
        })
    }
}

impl Authenticator {
    pub fn new(tenant: &str, methods: Vec<Method>, signer: Option<jwt::Signer>) -> Authenticator {
        Authenticator { realm: format!("scimkit/{tenant}"), methods, signer, cache: Default::default() }
    }

    pub fn is_open(&self) -> bool {
        self.methods.iter().any(|m| matches!(m, Method::Open))
    }

    /// The principal behind an `Authorization` header (`bearer`, `basic:<user>`, `jwt:<subject>`,
    /// `oauth2:<client>`, `anonymous`), or none when it is not accepted.
    pub fn check(&self, authorization: Option<&str>) -> Option<String> {
        if self.is_open() {
            return Some("anonymous".into());
        }
        let (scheme, credential) = authorization?.trim().split_once(' ')?;
        if scheme.eq_ignore_ascii_case("bearer") {
            self.check_bearer(credential.trim())
        } else if scheme.eq_ignore_ascii_case("basic") {
            self.check_basic(authorization)
        } else {
            None
        }
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

    /// The `WWW-Authenticate` challenges of a 401; `presented_bearer` adds RFC 6750's `invalid_token`.
    pub fn challenges(&self, presented_bearer: bool) -> Vec<String> {
        let bearer = self.methods.iter().any(|m| matches!(m, Method::Bearer(_) | Method::Jwt | Method::Oauth2 { .. }));
        let basic = self.methods.iter().any(|m| matches!(m, Method::Basic { .. }));
        let mut out = Vec::new();
        if bearer {
            let error = if presented_bearer { ", error=\"invalid_token\"" } else { "" };
            out.push(format!("Bearer realm=\"{}\"{error}", self.realm));
        }
        if basic {
            out.push(format!("Basic realm=\"{}\", charset=\"UTF-8\"", self.realm));
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
        assert_eq!(auth.check(Some("Bearer tok")).as_deref(), Some("bearer"));
        assert_eq!(auth.check(Some("Basic dTpwdw==")).as_deref(), Some("basic:u")); // u:pw
        assert_eq!(auth.check(Some("Basic dTpweA==")), None); // u:px
        assert_eq!(auth.check(Some("Basic djpwdw==")), None); // v:pw
        assert_eq!(auth.check(Some("Bearer nope")), None);
        assert_eq!(auth.check(None), None);
        let c = auth.challenges(true);
        assert_eq!(
            c,
            vec!["Bearer realm=\"scimkit/t\", error=\"invalid_token\"", "Basic realm=\"scimkit/t\", charset=\"UTF-8\""]
        );
        let open = Authenticator::new("o", vec![Method::Open], None);
        assert_eq!(open.check(None).as_deref(), Some("anonymous"));
    }
}
