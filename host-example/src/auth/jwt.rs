//! Signed bearer tokens issued by this host: HS256 with a per-tenant secret kept in the tenant's directory.
//!
//! Long-lived tokens (`scimkit token issue`) are recorded in the tenant's database so that they can be listed
//! and revoked by `jti`; the short-lived ones of the OAuth token endpoint are not recorded, but are revocable
//! the same way, or all of a client's at once. A token is accepted only with the right signature, algorithm,
//! issuer, audience (the tenant) and an unexpired `exp`.
//!
//! The refresh tokens of the authorization code grant are kept here too, as their SHA-256, each in a family
//! that one approval started.

use anyhow::{Context, Result};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

pub const ISSUER: &str = "scimkit";
const KEY_FILE: &str = "jwt.key";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS host_tokens (
    jti TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS host_refresh_tokens (
    hash TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS host_refresh_tokens_family ON host_refresh_tokens (family);
CREATE TABLE IF NOT EXISTS host_client_revocations (
    client_id TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);
";

/// What a token says. `kind` keeps the two uses apart: a tenant may accept one and not the other.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Issued by `scimkit token issue`.
    Token,
    /// Issued by the OAuth token endpoint; `sub` is the client id.
    Oauth2,
}

/// A recorded long-lived token, for `scimkit token list`.
pub struct Issued {
    pub jti: String,
    pub subject: String,
    pub issued_at: u64,
    pub expires_at: u64,
    pub revoked: bool,
}

pub struct Signer {
    audience: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    db: Mutex<Connection>,
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}

impl Signer {
    /// The tenant's signer: its key (created on first use) in `dir`, its token records in the database `db`.
    pub fn open(tenant: &str, dir: &Path, db: &Path) -> Result<Signer> {
        let key = load_or_create_key(dir)?;
        let conn = crate::sqlite::open_connection(db).with_context(|| format!("opening {}", db.display()))?;
        conn.execute_batch(SCHEMA).context("creating the token table")?;
        Ok(Signer {
            audience: tenant.to_string(),
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            db: Mutex::new(conn),
        })
    }

    /// Signs a new token; long-lived ones are recorded.
    pub fn issue(&self, kind: Kind, subject: &str, valid_for: Duration) -> Result<(String, Claims)> {
        let iat = now();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: self.audience.clone(),
            sub: subject.to_string(),
            iat,
            exp: iat.saturating_add(valid_for.as_secs()),
            jti: scimkit_runtime::storage::new_id(),
            kind,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing the token")?;
        if kind == Kind::Token {
            self.db
                .lock()
                .unwrap()
                .execute(
                    "INSERT INTO host_tokens (jti, kind, subject, issued_at, expires_at) VALUES (?1, 'token', ?2, ?3, ?4)",
                    params![claims.jti, claims.sub, claims.iat as i64, claims.exp as i64],
                )
                .context("recording the token")?;
        }
        Ok((token, claims))
    }

    /// The claims of a valid token; none for anything else, whatever the reason.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).ok()?.claims;
        let row: Option<Option<i64>> = self
            .db
            .lock()
            .unwrap()
            .prepare_cached("SELECT revoked_at FROM host_tokens WHERE jti = ?1")
            .and_then(|mut s| s.query_row([&claims.jti], |r| r.get(0)).optional())
            .map_err(|e| tracing::error!("reading token records: {e}"))
            .ok()?;
        let valid = match (claims.kind, row) {
            // Long-lived tokens must be on record, and not revoked.
            (Kind::Token, Some(revoked)) => revoked.is_none(),
            (Kind::Token, None) => false,
            (Kind::Oauth2, row) => row.is_none() && !self.client_revoked(&claims.sub, claims.iat)?,
        };
        valid.then_some(claims)
    }

    /// Revokes a token by `jti`; an OAuth token, not on record, is recorded as revoked. False when it was
    /// already revoked.
    pub fn revoke(&self, jti: &str) -> Result<bool> {
        let db = self.db.lock().unwrap();
        let changed = db.execute(
            "UPDATE host_tokens SET revoked_at = ?2 WHERE jti = ?1 AND revoked_at IS NULL",
            params![jti, now() as i64],
        )?;
        if changed == 0 {
            let known: bool =
                db.query_row("SELECT count(*) FROM host_tokens WHERE jti = ?1", [jti], |r| r.get::<_, i64>(0))? > 0;
            if known {
                return Ok(false);
            }
            db.execute(
                "INSERT INTO host_tokens (jti, kind, subject, issued_at, expires_at, revoked_at) VALUES (?1, 'oauth2', '', 0, 0, ?2)",
                params![jti, now() as i64],
            )?;
        }
        Ok(true)
    }

    /// Whether the OAuth client's tokens issued at `iat` were revoked together (`token revoke --client`).
    fn client_revoked(&self, client_id: &str, iat: u64) -> Option<bool> {
        let at: Option<i64> = self
            .db
            .lock()
            .unwrap()
            .prepare_cached("SELECT revoked_at FROM host_client_revocations WHERE client_id = ?1")
            .and_then(|mut s| s.query_row([client_id], |r| r.get(0)).optional())
            .map_err(|e| tracing::error!("reading token records: {e}"))
            .ok()?;
        Some(at.is_some_and(|at| iat as i64 <= at))
    }

    /// Revokes every access token issued to an OAuth client until now, and its refresh tokens.
    pub fn revoke_client(&self, client_id: &str) -> Result<usize> {
        let db = self.db.lock().unwrap();
        let now = now() as i64;
        db.execute(
            "INSERT INTO host_client_revocations (client_id, revoked_at) VALUES (?1, ?2)
             ON CONFLICT (client_id) DO UPDATE SET revoked_at = excluded.revoked_at",
            params![client_id, now],
        )?;
        Ok(db.execute(
            "UPDATE host_refresh_tokens SET revoked_at = ?2 WHERE client_id = ?1 AND revoked_at IS NULL AND used_at IS NULL",
            params![client_id, now],
        )?)
    }

    /// A new refresh token of `family` (a new family when none), kept as its SHA-256: (token, family).
    pub fn issue_refresh(
        &self,
        client_id: &str,
        family: Option<&str>,
        valid_for: Duration,
    ) -> Result<(String, String)> {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let family = family.map_or_else(scimkit_runtime::storage::new_id, str::to_string);
        self.db.lock().unwrap().execute(
            "INSERT INTO host_refresh_tokens (hash, family, client_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![refresh_hash(&token), family, client_id, now().saturating_add(valid_for.as_secs()) as i64],
        )?;
        Ok((token, family))
    }

    /// Spends a refresh token of `client_id`: its family when it was valid. A token presented a second time
    /// revokes its whole family: either its holder or a thief has the newer one.
    pub fn use_refresh(&self, client_id: &str, token: &str) -> Result<Option<String>> {
        let db = self.db.lock().unwrap();
        let row: Option<RefreshRow> = db
            .query_row(
                "SELECT family, client_id, expires_at, used_at, revoked_at FROM host_refresh_tokens WHERE hash = ?1",
                [refresh_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((family, owner, expires_at, used_at, revoked_at)) = row else { return Ok(None) };
        let now = now() as i64;
        if used_at.is_some() {
            tracing::warn!(client = %client_id, "a refresh token was presented twice; its family is revoked");
            db.execute(
                "UPDATE host_refresh_tokens SET revoked_at = ?2 WHERE family = ?1 AND revoked_at IS NULL",
                params![family, now],
            )?;
            return Ok(None);
        }
        if owner != client_id || revoked_at.is_some() || expires_at <= now {
            return Ok(None);
        }
        db.execute("UPDATE host_refresh_tokens SET used_at = ?2 WHERE hash = ?1", params![refresh_hash(token), now])?;
        Ok(Some(family))
    }

    /// Revokes a family of refresh tokens; false when none was valid.
    pub fn revoke_family(&self, family: &str) -> Result<bool> {
        Ok(self.db.lock().unwrap().execute(
            "UPDATE host_refresh_tokens SET revoked_at = ?2 WHERE family = ?1 AND revoked_at IS NULL",
            params![family, now() as i64],
        )? > 0)
    }

    pub fn list(&self) -> Result<Vec<Issued>> {
        let db = self.db.lock().unwrap();
        let mut stmt = db.prepare("SELECT jti, subject, issued_at, expires_at, revoked_at IS NOT NULL FROM host_tokens WHERE kind = 'token' ORDER BY issued_at")?;
        let rows = stmt.query_map([], |r| {
            Ok(Issued {
                jti: r.get(0)?,
                subject: r.get(1)?,
                issued_at: r.get::<_, i64>(2)? as u64,
                expires_at: r.get::<_, i64>(3)? as u64,
                revoked: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A refresh token's family, client, expiry, and when it was used and revoked.
type RefreshRow = (String, String, i64, Option<i64>, Option<i64>);

fn refresh_hash(token: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// 32 random bytes, hex in `jwt.key` (mode 0600).
fn load_or_create_key(dir: &Path) -> Result<Vec<u8>> {
    let file = dir.join(KEY_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let key = hex::decode(text.trim()).with_context(|| format!("{} is damaged", file.display()))?;
            anyhow::ensure!(key.len() >= 32, "{} is damaged: the key is too short", file.display());
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::config::create_private_dir(dir)?;
            let key: [u8; 32] = rand::random();
            crate::config::write_private(&file, hex::encode(key).as_bytes())?;
            Ok(key.to_vec())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn signer(dir: &Path, tenant: &str) -> Signer {
        Signer::open(tenant, dir, &dir.join("db.sqlite3")).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn only_well_signed_current_unrevoked_tokens_of_this_tenant_pass() {
        let dir = std::env::temp_dir().join(format!("scimkit-jwt-{}", scimkit_runtime::storage::new_id()));
        let a = signer(&dir.join("a"), "a");
        let b = signer(&dir.join("b"), "b");
        let (token, claims) = a.issue(Kind::Token, "idp", Duration::from_secs(3600)).unwrap();
        assert_eq!(a.verify(&token).unwrap().sub, "idp");
        assert!(b.verify(&token).is_none(), "another tenant's key and audience");

        // alg none, and the same claims under another HMAC algorithm with the same key.
        let payload = b64(serde_json::to_string(&claims).unwrap().as_bytes());
        let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
        assert!(a.verify(&none).is_none());
        let key = hex::decode(std::fs::read_to_string(dir.join("a").join(KEY_FILE)).unwrap()).unwrap();
        let hs512 =
            jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(&key)).unwrap();
        assert!(a.verify(&hs512).is_none());
        // A changed payload under the old signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims.clone();
        forged.sub = "admin".into();
        let tampered = format!("{}.{}.{}", parts[0], b64(serde_json::to_string(&forged).unwrap().as_bytes()), parts[2]);
        assert!(a.verify(&tampered).is_none());

        let (expired, _) = a.issue(Kind::Token, "idp", Duration::ZERO).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(a.verify(&expired).is_none());

        assert!(a.revoke(&claims.jti).unwrap());
        assert!(a.verify(&token).is_none());
        assert!(!a.revoke(&claims.jti).unwrap());
        let (short, c) = a.issue(Kind::Oauth2, "client", Duration::from_secs(60)).unwrap();
        assert!(a.verify(&short).is_some());
        a.revoke(&c.jti).unwrap();
        assert!(a.verify(&short).is_none());
        let (by_client, _) = a.issue(Kind::Oauth2, "client", Duration::from_secs(60)).unwrap();
        let (refresh, family) = a.issue_refresh("client", None, Duration::from_secs(60)).unwrap();
        assert!(a.verify(&by_client).is_some());
        a.revoke_client("client").unwrap();
        assert!(a.verify(&by_client).is_none(), "revoked with its client");
        assert_eq!(a.use_refresh("client", &refresh).unwrap(), None, "refresh tokens too");
        let (refresh, _) = a.issue_refresh("other", Some(&family), Duration::from_secs(60)).unwrap();
        assert_eq!(a.use_refresh("client", &refresh).unwrap(), None, "another client's");
        assert_eq!(a.use_refresh("other", &refresh).unwrap(), Some(family.clone()));
        assert_eq!(a.use_refresh("other", &refresh).unwrap(), None, "spent");
        assert_eq!(a.list().unwrap().len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
