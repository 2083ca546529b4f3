//! HTTP Digest (RFC 7616) with `qop=auth`: the tenant keeps `H(username:realm:password)` per algorithm,
//! never the password. Nonces are made here: a timestamp and random bytes signed with a key of this process
//! and the tenant's realm, so a nonce of another tenant or of an earlier run is refused, and one past its
//! lifetime is answered `stale=true`. Each nonce count is accepted once (replay refused).

use crate::config::DigestAlgorithm;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256, Sha512_256};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// How long a nonce is accepted unless `nonce_ttl` says otherwise.
pub const DEFAULT_NONCE_TTL: Duration = Duration::from_secs(300);
/// Nonces whose counts are remembered at most (only nonces that authenticated a request are).
const MAX_NONCES: usize = 100_000;
/// Requests one nonce may authenticate; past it the client is asked to take a new one.
const MAX_COUNTS_PER_NONCE: usize = 100_000;

/// `H(data)` in lower-case hex.
pub fn hash(algorithm: DigestAlgorithm, data: &str) -> String {
    match algorithm {
        DigestAlgorithm::Sha256 => hex::encode(Sha256::digest(data.as_bytes())),
        DigestAlgorithm::Sha512_256 => hex::encode(Sha512_256::digest(data.as_bytes())),
        DigestAlgorithm::Md5 => {
            use md5::Digest as _;
            hex::encode(md5::Md5::digest(data.as_bytes()))
        }
    }
}

/// The stored form of a password: `H(username:realm:password)`.
pub fn ha1(algorithm: DigestAlgorithm, username: &str, realm: &str, password: &str) -> String {
    hash(algorithm, &format!("{username}:{realm}:{password}"))
}

/// One account: its user name and its stored hash per algorithm, in the order they are offered.
pub struct Account {
    pub username: String,
    pub hashes: Vec<(DigestAlgorithm, String)>,
    pub nonce_ttl: Duration,
}

/// Why a Digest credential was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Right credentials over an expired nonce: the client should retry with the new one.
    Stale,
    Refused,
}

/// The nonces of one tenant.
pub struct Nonces {
    realm: String,
    key: [u8; 32],
    /// Nonce → its expiry (Unix seconds) and the counts already used.
    used: Mutex<HashMap<String, (u64, HashSet<u32>)>>,
}

impl Nonces {
    pub fn new(realm: &str) -> Nonces {
        Nonces { realm: realm.to_string(), key: rand::random(), used: Mutex::new(HashMap::new()) }
    }

    fn mac(&self, issued: u64, random: &[u8]) -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        m.update(self.realm.as_bytes());
        m.update(&issued.to_be_bytes());
        m.update(random);
        m.finalize().into_bytes()[..16].to_vec()
    }

    /// A fresh nonce: `<issued>.<random>.<signature>`, all hex.
    pub fn issue(&self) -> String {
        let issued = super::jwt::now();
        let random: [u8; 12] = rand::random();
        format!("{issued:x}.{}.{}", hex::encode(random), hex::encode(self.mac(issued, &random)))
    }

    /// When an authentic nonce was issued; none for anything else.
    fn issued(&self, nonce: &str) -> Option<u64> {
        let mut parts = nonce.split('.');
        let (issued, random, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let issued = u64::from_str_radix(issued, 16).ok()?;
        let random = hex::decode(random).ok()?;
        let mac = hex::decode(mac).ok()?;
        bool::from(self.mac(issued, &random).ct_eq(&mac)).then_some(issued)
    }

    /// Takes a nonce count; false when it was used already or the nonce has served its share.
    fn take(&self, nonce: &str, expires: u64, count: u32) -> bool {
        let now = super::jwt::now();
        let mut used = self.used.lock().unwrap();
        if used.len() >= MAX_NONCES && !used.contains_key(nonce) {
            used.retain(|_, (exp, _)| *exp >= now);
            if used.len() >= MAX_NONCES {
                return false;
            }
        }
        let (_, counts) = used.entry(nonce.to_string()).or_insert((expires, HashSet::new()));
        counts.len() < MAX_COUNTS_PER_NONCE && counts.insert(count)
    }
}

/// The parameters of a `Digest` credential (RFC 7616 §3.4), names in lower case.
pub fn parse(credentials: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut rest = credentials.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let name = name.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => value.push(chars.next()?.1),
                    (_, c) => value.push(c),
                }
            };
            (value, &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        if name.is_empty() || out.insert(name, value).is_some() {
            return None;
        }
        let tail = tail.trim_start();
        rest = match tail.strip_prefix(',') {
            Some(t) => t.trim_start(),
            None if tail.is_empty() => tail,
            None => return None,
        };
    }
    Some(out)
}

/// Whether the credential's `uri` is the request's target (a trailing slash aside).
fn same_target(uri: &str, target: &str) -> bool {
    let split = |u: &str| -> (String, String) {
        let (path, query) = u.split_once('?').unwrap_or((u, ""));
        (path.trim_end_matches('/').to_string(), query.to_string())
    };
    split(uri) == split(target)
}

/// Checks a Digest credential for `method target` against the tenant's accounts; the user name when it holds.
pub fn verify(
    accounts: &[&Account],
    nonces: &Nonces,
    credentials: &str,
    method: &str,
    target: &str,
) -> Result<String, Refusal> {
    let p = parse(credentials).ok_or(Refusal::Refused)?;
    let get = |k: &str| p.get(k).map(String::as_str).ok_or(Refusal::Refused);
    let (username, realm, nonce, uri, response) =
        (get("username")?, get("realm")?, get("nonce")?, get("uri")?, get("response")?);
    let (cnonce, nc) = (get("cnonce")?, get("nc")?);
    // RFC 7616 §3.4: without `algorithm`, MD5.
    let algorithm = p.get("algorithm").map(String::as_str).unwrap_or("MD5");
    if !get("qop")?.eq_ignore_ascii_case("auth") || realm != nonces.realm || !same_target(uri, target) {
        return Err(Refusal::Refused);
    }
    let count = (nc.len() == 8).then(|| u32::from_str_radix(nc, 16).ok()).flatten().ok_or(Refusal::Refused)?;
    let issued = nonces.issued(nonce).ok_or(Refusal::Refused)?;
    let account = accounts.iter().find(|a| a.username == username).ok_or(Refusal::Refused)?;
    let (alg, ha1) =
        account.hashes.iter().find(|(a, _)| a.name().eq_ignore_ascii_case(algorithm)).ok_or(Refusal::Refused)?;
    let ha2 = hash(*alg, &format!("{method}:{uri}"));
    let expected = hash(*alg, &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
    if !bool::from(expected.as_bytes().ct_eq(response.to_ascii_lowercase().as_bytes())) {
        return Err(Refusal::Refused);
    }
    let expires = issued.saturating_add(account.nonce_ttl.as_secs());
    if super::jwt::now() >= expires {
        return Err(Refusal::Stale);
    }
    if !nonces.take(nonce, expires, count) {
        return Err(Refusal::Refused);
    }
    Ok(username.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond(alg: DigestAlgorithm, ha1: &str, nonce: &str, nc: &str, method: &str, uri: &str) -> String {
        let ha2 = hash(alg, &format!("{method}:{uri}"));
        hash(alg, &format!("{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}"))
    }

    fn credential(alg: DigestAlgorithm, user: &str, realm: &str, nonce: &str, nc: &str, response: &str) -> String {
        format!(
            "username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"/scim/v2/t/Users?x=1\", \
             algorithm={}, response=\"{response}\", qop=auth, nc={nc}, cnonce=\"c0ffee\"",
            alg.name()
        )
    }

    #[test]
    fn the_rfc_example_hashes() {
        // RFC 7616 §3.9.1, SHA-256.
        let ha1 = ha1(DigestAlgorithm::Sha256, "Mufasa", "http-auth@example.org", "Circle of Life");
        let ha2 = hash(DigestAlgorithm::Sha256, "GET:/dir/index.html");
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let response = hash(DigestAlgorithm::Sha256, &format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"));
        assert_eq!(response, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    }

    #[test]
    fn right_credentials_once_per_count_and_nonce() {
        let alg = DigestAlgorithm::Sha512_256;
        let realm = "scimkit/t";
        let h = ha1(alg, "u", realm, "pw");
        let account = Account { username: "u".into(), hashes: vec![(alg, h.clone())], nonce_ttl: DEFAULT_NONCE_TTL };
        let nonces = Nonces::new(realm);
        let nonce = nonces.issue();
        let uri = "/scim/v2/t/Users?x=1";
        let ok = credential(alg, "u", realm, &nonce, "00000001", &respond(alg, &h, &nonce, "00000001", "GET", uri));
        assert_eq!(verify(&[&account], &nonces, &ok, "GET", uri), Ok("u".into()));
        assert_eq!(verify(&[&account], &nonces, &ok, "GET", uri), Err(Refusal::Refused), "replayed");
        let two = credential(alg, "u", realm, &nonce, "00000002", &respond(alg, &h, &nonce, "00000002", "GET", uri));
        assert_eq!(verify(&[&account], &nonces, &two, "GET", uri), Ok("u".into()));
        assert_eq!(verify(&[&account], &nonces, &two, "DELETE", uri), Err(Refusal::Refused), "another method");
        let wrong = ha1(alg, "u", realm, "px");
        let bad =
            credential(alg, "u", realm, &nonce, "00000003", &respond(alg, &wrong, &nonce, "00000003", "GET", uri));
        assert_eq!(verify(&[&account], &nonces, &bad, "GET", uri), Err(Refusal::Refused));
        let other = Nonces::new("scimkit/other");
        let foreign = other.issue();
        let f = credential(alg, "u", realm, &foreign, "00000001", &respond(alg, &h, &foreign, "00000001", "GET", uri));
        assert_eq!(verify(&[&account], &nonces, &f, "GET", uri), Err(Refusal::Refused), "another tenant's nonce");
        let md5 = credential(DigestAlgorithm::Md5, "u", realm, &nonce, "00000004", "00");
        assert_eq!(verify(&[&account], &nonces, &md5, "GET", uri), Err(Refusal::Refused), "MD5 not offered");
        let expired = Account { nonce_ttl: Duration::ZERO, ..account };
        let three = credential(alg, "u", realm, &nonce, "00000005", &respond(alg, &h, &nonce, "00000005", "GET", uri));
        assert_eq!(verify(&[&expired], &nonces, &three, "GET", uri), Err(Refusal::Stale));
    }

    #[test]
    fn parameters() {
        let p = parse(r#"username="a\"b", realm="r, s", nc=00000001 , qop=auth"#).unwrap();
        assert_eq!(p["username"], "a\"b");
        assert_eq!(p["realm"], "r, s");
        assert_eq!(p["nc"], "00000001");
        assert_eq!(p["qop"], "auth");
        assert!(parse(r#"username="open"#).is_none());
        assert!(parse("a=1, a=2").is_none());
    }
}
