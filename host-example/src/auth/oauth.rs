//! The OAuth 2 token endpoint: a client authenticates with its id and secret, sent as form fields or with HTTP
//! Basic, and gets a short-lived signed bearer token of its tenant for them (client credentials, RFC 6749
//! §4.4), for an authorization code (§4.1.3, with its PKCE verifier) or for a refresh token (§6).

use super::{basic, code, jwt, Authenticator};
use serde_json::json;
use std::time::Duration;

pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    /// The client tried Basic: a 401 must challenge it (RFC 6749 §5.2).
    pub challenge_basic: bool,
    /// A 429's `Retry-After`.
    pub retry_after: Option<Duration>,
}

fn error(status: u16, code: &str, challenge_basic: bool) -> Reply {
    Reply { status, body: json!({ "error": code }), challenge_basic, retry_after: None }
}

/// The answer to a client address out of attempts: 429 with `Retry-After`, before any secret is hashed.
pub fn throttled(wait: Duration) -> Reply {
    Reply {
        status: 429,
        body: json!({ "error": "slow_down", "error_description": "too many failed attempts from this address; retry later" }),
        challenge_basic: false,
        retry_after: Some(wait),
    }
}

/// Answers one token request (`application/x-www-form-urlencoded` body).
pub fn token(auth: &Authenticator, authorization: Option<&str>, body: &[u8]) -> Reply {
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
        return error(400, "invalid_request", false);
    };
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let grant = match field("grant_type") {
        Some(g @ ("client_credentials" | "authorization_code" | "refresh_token")) => g,
        Some(_) => return error(400, "unsupported_grant_type", false),
        None => return error(400, "invalid_request", false),
    };
    let from_header =
        basic::parse_basic(authorization).map(|(id, secret)| (percent_decode(&id), percent_decode(&secret)));
    let challenge_basic = from_header.is_some();
    let (id, secret) = match (from_header, field("client_id"), field("client_secret")) {
        (Some(creds), _, _) => creds,
        (None, Some(id), Some(secret)) => (id.to_string(), secret.to_string()),
        _ => return error(401, "invalid_client", challenge_basic),
    };
    let Some(signer) = auth.signer.as_ref() else { return error(401, "invalid_client", challenge_basic) };
    if grant != "client_credentials" {
        let Some(client) = auth.code_client(&id, &secret) else {
            return error(401, "invalid_client", challenge_basic);
        };
        let tokens = if grant == "authorization_code" {
            let Some(code) = field("code") else { return error(400, "invalid_request", false) };
            auth.codes.exchange(signer, client, code, field("redirect_uri"), field("code_verifier"))
        } else {
            let Some(refresh) = field("refresh_token") else { return error(400, "invalid_request", false) };
            code::refresh(signer, client, refresh)
        };
        return match tokens {
            Ok(t) => Reply {
                status: 200,
                body: json!({ "access_token": t.access_token, "token_type": "Bearer", "expires_in": t.expires_in,
                              "refresh_token": t.refresh_token }),
                challenge_basic,
                retry_after: None,
            },
            Err(code @ "server_error") => error(500, code, false),
            Err(code) => error(400, code, false),
        };
    }
    let Some(ttl) = auth.oauth_client(&id, &secret) else {
        return error(401, "invalid_client", challenge_basic);
    };
    match signer.issue(jwt::Kind::Oauth2, &id, ttl) {
        Ok((token, _)) => Reply {
            status: 200,
            body: json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl.as_secs() }),
            challenge_basic,
            retry_after: None,
        },
        Err(e) => {
            tracing::error!("issuing an access token: {e:#}");
            error(500, "server_error", false)
        }
    }
}

/// `application/x-www-form-urlencoded` decoding of one value, as RFC 6749 §2.3.1 asks of Basic credentials.
fn percent_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={}", s.replace('&', "%26").replace('=', "%3D")))
        .ok()
        .and_then(|mut v| v.pop())
        .map(|(_, v)| v)
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Method;

    #[test]
    fn client_credentials_by_form_or_basic() {
        let dir = std::env::temp_dir().join(format!("scimkit-oauth-{}", scimkit_runtime::storage::new_id()));
        let signer = jwt::Signer::open("t", &dir, &dir.join("db.sqlite3")).unwrap();
        let hash = basic::hash_password("s3c&r=t").unwrap();
        let auth = Authenticator::new(
            "t",
            vec![Method::Oauth2 { client_id: "idp".into(), secret_hash: hash, ttl: Duration::from_secs(60) }],
            Some(signer),
        );
        let ok = token(&auth, None, b"grant_type=client_credentials&client_id=idp&client_secret=s3c%26r%3Dt");
        assert_eq!(ok.status, 200, "{}", ok.body);
        let access = ok.body["access_token"].as_str().unwrap();
        assert_eq!(auth.check(Some(&format!("Bearer {access}")), "GET", "/").ok().as_deref(), Some("oauth2:idp"));
        // id:secret percent-encoded, then base64: "idp:s3c%26r%3Dt"
        let basic = token(&auth, Some("Basic aWRwOnMzYyUyNnIlM0R0"), b"grant_type=client_credentials");
        assert_eq!(basic.status, 200, "{}", basic.body);
        let wrong = token(&auth, None, b"grant_type=client_credentials&client_id=idp&client_secret=x");
        assert_eq!((wrong.status, wrong.body["error"].as_str()), (401, Some("invalid_client")));
        assert_eq!(token(&auth, None, b"grant_type=password").status, 400);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
