//! The admin page's credential: HTTP Basic as `admin` with the password whose argon2 hash the configuration
//! holds (`scimkit admin set-password`), or the token in `SCIMKIT_ADMIN_TOKEN` (as a bearer token or the
//! Basic password).

use crate::auth::basic::{parse_basic, VerifiedCache};
use crate::auth::BearerToken;
use axum::http::HeaderMap;

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
}
