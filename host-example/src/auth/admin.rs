//! The admin page's credential: HTTP Basic as `admin` with the password whose argon2 hash the configuration
//! holds (`scimkit admin set-password`), or the token in `SCIMKIT_ADMIN_TOKEN` (as a bearer token or the
//! Basic password).

use crate::auth::basic::{parse_basic, VerifiedCache};
use crate::auth::{throttle, BearerToken};
use axum::http::HeaderMap;
use std::net::IpAddr;
use std::time::Duration;

pub const USER: &str = "admin";

#[derive(Default)]
pub struct Admin {
    password_hash: Option<String>,
    token: Option<BearerToken>,
    cache: VerifiedCache,
}

impl Admin {
    pub fn new(password_hash: Option<String>, token: Option<&str>) -> Admin {
        Admin {
            password_hash,
            token: token.filter(|t| !t.is_empty()).map(BearerToken::from_secret),
            cache: Default::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.password_hash.is_some() || self.token.is_some()
    }

    /// Whether `headers` carry the credential. A Basic password costs a hash: it is checked only while
    /// `client` has attempts left ([`throttle`]); otherwise, how long the client must wait.
    pub fn accepts_from(&self, client: IpAddr, headers: &HeaderMap) -> Result<bool, Duration> {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if parse_basic(auth).is_none() {
            return Ok(self.accepts(headers));
        }
        let attempt = throttle::attempt(client)?;
        let ok = self.accepts(headers);
        if ok {
            attempt.succeeded();
        }
        Ok(ok)
    }

    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if let (Some(token), Some((scheme, value))) = (&self.token, auth.and_then(|a| a.trim().split_once(' '))) {
            if scheme.eq_ignore_ascii_case("bearer") && token.matches(value.trim()) {
                return true;
            }
        }
        let Some((user, password)) = parse_basic(auth) else { return false };
        self.accepts_password(&user, &password)
    }

    /// The admin's user name and password (or token), as the OAuth consent page takes them.
    pub fn accepts_password(&self, user: &str, password: &str) -> bool {
        let by_token = self.token.as_ref().is_some_and(|t| t.matches(password));
        let by_password = self.password_hash.as_deref().is_some_and(|h| self.cache.verify(user, password, h));
        user == USER && (by_token || by_password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials() {
        let hash = crate::auth::basic::hash_password("pw").unwrap();
        let admin = Admin::new(Some(hash), Some("tok"));
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert("authorization", HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(admin.accepts(&h("Basic YWRtaW46cHc="))); // admin:pw
        assert!(admin.accepts(&h("Basic YWRtaW46dG9r"))); // admin:tok
        assert!(admin.accepts(&h("Bearer tok")));
        assert!(!admin.accepts(&h("Basic YWRtaW46cHg="))); // admin:px
        assert!(!admin.accepts(&h("Basic dXNlcjpwdw=="))); // user:pw
        assert!(!admin.accepts(&HeaderMap::new()));
        assert!(!Admin::default().enabled());
    }

    #[test]
    fn basic_passwords_are_throttled_per_address_and_bearer_tokens_are_not() {
        let admin = Admin::new(Some(crate::auth::basic::hash_password("pw").unwrap()), Some("tok"));
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert("authorization", HeaderValue::from_str(v).unwrap());
            m
        };
        let ip: IpAddr = "192.0.2.91".parse().unwrap();
        assert_eq!(admin.accepts_from(ip, &h("Basic YWRtaW46cHg=")), Ok(false)); // admin:px
        while throttle::attempt(ip).is_ok() {}
        assert!(admin.accepts_from(ip, &h("Basic YWRtaW46cHc=")).is_err(), "out of attempts, even the right one");
        assert_eq!(admin.accepts_from(ip, &h("Bearer tok")), Ok(true), "a token costs no hash");
        assert_eq!(admin.accepts_from("192.0.2.92".parse().unwrap(), &h("Basic YWRtaW46cHc=")), Ok(true));
    }
}
