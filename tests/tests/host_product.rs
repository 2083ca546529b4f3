//! The reference host as a product, end to end: tenants, every authentication method and its rejections,
//! isolation between tenants, per-tenant limits, passwords and secrets kept out of storage, logs and output,
//! the request log's retention and filters, and the admin page driven by a real browser.

mod common;

use base64::Engine as _;
use common::{cli, database_for, raw, Resp, Server, TempDir, TOKEN};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true})
}

/// `scimkit tenant add` with its printed `key: value` lines.
fn add_tenant(data: &Path, name: &str, flags: &[&str]) -> HashMap<String, String> {
    let mut args = vec!["tenant", "add", name];
    args.extend_from_slice(flags);
    let (ok, out, err) = cli(data, &args, None);
    assert!(ok, "tenant add {name}: {err}");
    out.lines().filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// `scimkit token issue`: (token, jti).
fn issue(data: &Path, tenant: &str, valid_for: &str) -> (String, String) {
    let (ok, out, err) = cli(data, &["token", "issue", "--tenant", tenant, "--valid-for", valid_for], None);
    assert!(ok, "token issue: {err}");
    let jti = err.split_whitespace().skip_while(|w| *w != "jti").nth(1).expect("jti printed").to_string();
    (out.trim().to_string(), jti)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn get(url: &str, authorization: Option<&str>) -> Resp {
    let headers: Vec<(&str, String)> =
        authorization.map(|a| vec![("Authorization", a.to_string())]).unwrap_or_default();
    raw("GET", url, &headers, None)
}

fn send(method: &str, url: &str, authorization: &str, body: Option<&Value>) -> Resp {
    let headers =
        vec![("Authorization", authorization.to_string()), ("Content-Type", "application/scim+json".to_string())];
    raw(method, url, &headers, body.map(|b| b.to_string().into_bytes()))
}

fn oauth_token(s: &Server, tenant: &str, form: &str, authorization: Option<&str>) -> Resp {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded".to_string())];
    if let Some(a) = authorization {
        headers.push(("Authorization", a.to_string()));
    }
    raw("POST", &format!("{}/oauth/{tenant}/token", s.root()), &headers, Some(form.as_bytes().to_vec()))
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT signed here with HMAC: `alg` says which, the key is given.
fn sign(alg: &str, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64url(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = match alg {
        "HS256" => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", b64url(&sig))
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn assert_rejected(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text);
    r.assert_error(401, None);
    // The same answer whatever was wrong.
    assert_eq!(r.json()["detail"], "authentication required or not accepted", "{what}");
    let challenges: Vec<&str> =
        r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate")).map(|(_, v)| v.as_str()).collect();
    assert!(challenges.iter().any(|c| c.starts_with("Bearer realm=\"scimkit/acme\"")), "{what}: {challenges:?}");
    assert!(challenges.iter().any(|c| c.starts_with("Basic realm=\"scimkit/acme\"")), "{what}: {challenges:?}");
}

#[test]
fn every_authentication_method_and_every_rejection() {
    let dir = TempDir::new("auth-methods");
    let data = &dir.0;
    let acme = add_tenant(
        data,
        "acme",
        &["--auth", "bearer", "--auth", "basic", "--auth", "jwt", "--auth", "oauth2", "--token-ttl", "10m"],
    );
    add_tenant(data, "other", &[]);
    let (jwt, jti) = issue(data, "acme", "10y");
    let (short_lived, _) = issue(data, "acme", "1s");
    let issued_short = Instant::now();
    let (other_jwt, _) = issue(data, "other", "10y");
    assert_eq!(claims_of(&jwt)["aud"], "acme");
    assert!(claims_of(&jwt)["exp"].as_u64().unwrap() > claims_of(&jwt)["iat"].as_u64().unwrap() + 9 * 365 * 86_400);

    let s = Server::start(data, &[]);
    let users = format!("{}/scim/v2/acme/Users", s.root());
    let (client_id, client_secret) = (&acme["oauth2 client_id"], &acme["oauth2 client_secret"]);

    let by_form = oauth_token(
        &s,
        "acme",
        &format!("grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}"),
        None,
    );
    assert_eq!(by_form.status, 200, "{}", by_form.text);
    assert_eq!(by_form.header("cache-control"), Some("no-store"));
    let body = by_form.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let access = body["access_token"].as_str().unwrap().to_string();
    let by_basic = oauth_token(&s, "acme", "grant_type=client_credentials", Some(&basic(client_id, client_secret)));
    assert_eq!(by_basic.status, 200, "{}", by_basic.text);

    for (what, auth) in [
        ("static bearer token", bearer(&acme["bearer token"])),
        ("HTTP Basic", basic(&acme["basic username"], &acme["basic password"])),
        ("issued JWT", bearer(&jwt)),
        ("OAuth access token", bearer(&access)),
        ("OAuth access token (Basic client auth)", bearer(by_basic.json()["access_token"].as_str().unwrap())),
    ] {
        let r = get(&users, Some(&auth));
        assert_eq!(r.status, 200, "{what}: {}", r.text);
    }

    // Rejections.
    let key = hex_decode(std::fs::read_to_string(data.join("tenants/acme/jwt.key")).unwrap().trim());
    let claims = claims_of(&jwt);
    let mut forged = claims.clone();
    forged["sub"] = json!("someone-else");
    let parts: Vec<&str> = jwt.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64url(forged.to_string().as_bytes()), parts[2]);
    let alg_none = format!("{}.{}.", b64url(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(claims["iat"].as_u64().unwrap() - 10);
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("elsewhere");
    let oauth_wrong = oauth_token(
        &s,
        "acme",
        &format!("grant_type=client_credentials&client_id={client_id}&client_secret=wrong"),
        None,
    );
    assert_eq!((oauth_wrong.status, oauth_wrong.json()["error"].as_str()), (401, Some("invalid_client")));
    let oauth_unknown = oauth_token(
        &s,
        "acme",
        &format!("grant_type=client_credentials&client_id=nobody&client_secret={client_secret}"),
        None,
    );
    assert_eq!(oauth_unknown.status, 401);
    assert_eq!(oauth_token(&s, "acme", "grant_type=password", None).status, 400);
    let wait = Duration::from_millis(2100).saturating_sub(issued_short.elapsed());
    std::thread::sleep(wait);
    for (what, auth) in [
        ("wrong bearer token", Some(bearer("wrong"))),
        ("another tenant's bearer token", Some(bearer(TOKEN))),
        ("wrong Basic password", Some(basic(&acme["basic username"], "wrong"))),
        ("unknown Basic user", Some(basic("nobody", &acme["basic password"]))),
        ("tampered JWT", Some(bearer(&tampered))),
        ("alg none", Some(bearer(&alg_none))),
        ("switched algorithm (HS512, same key)", Some(bearer(&sign("HS512", &claims, &key)))),
        ("wrong key", Some(bearer(&sign("HS256", &claims, b"not-the-tenant-key-not-the-tenant-key")))),
        ("expired (signed with the right key)", Some(bearer(&sign("HS256", &expired_claims, &key)))),
        ("wrong issuer (signed with the right key)", Some(bearer(&sign("HS256", &wrong_issuer, &key)))),
        ("expired issued token", Some(bearer(&short_lived))),
        ("another tenant's JWT", Some(bearer(&other_jwt))),
        ("unknown scheme", Some("Digest x".to_string())),
        ("missing", None),
    ] {
        assert_rejected(&get(&users, auth.as_deref()), what);
    }

    // Revocation takes effect on the running server.
    assert_eq!(get(&users, Some(&bearer(&jwt))).status, 200);
    let (ok, out, err) = cli(data, &["token", "revoke", "--tenant", "acme", &jti], None);
    assert!(ok && out.contains("revoked"), "{out}{err}");
    assert_rejected(&get(&users, Some(&bearer(&jwt))), "revoked JWT");
    let (_, list, _) = cli(data, &["token", "list", "--tenant", "acme"], None);
    assert!(list.lines().any(|l| l.starts_with(&jti) && l.ends_with("revoked")), "{list}");

    // `/ServiceProviderConfig` lists exactly the kinds of credentials each tenant accepts.
    let schemes = |url: &str, auth: &str| {
        let config = get(url, Some(auth)).json();
        let list = config["authenticationSchemes"].as_array().cloned().unwrap_or_default();
        list.iter()
            .map(|s| format!("{}: {}", s["type"].as_str().unwrap(), s["name"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        schemes(&format!("{}/scim/v2/acme/ServiceProviderConfig", s.root()), &bearer(&acme["bearer token"])),
        ["oauthbearertoken: OAuth Bearer Token", "httpbasic: HTTP Basic", "oauth2: OAuth 2.0 client credentials"]
    );
    assert_eq!(schemes(&s.url("/ServiceProviderConfig"), &bearer(TOKEN)), ["oauthbearertoken: OAuth Bearer Token"]);

    // The default tenant keeps SCIM_TOKEN and refuses acme's credentials.
    assert_eq!(s.get("/Users").status, 200);
    assert_eq!(get(&s.url("/Users"), Some(&bearer(&acme["bearer token"]))).status, 401);
}

/// `token revoke` reaches only a configured tenant: without `--tenant` it refuses, and a misspelt or crafted
/// name neither reports success nor creates anything, inside the data directory or out of it.
#[test]
fn token_revoke_needs_a_configured_tenant() {
    let tmp = TempDir::new("revoke");
    let data = tmp.0.join("data");
    add_tenant(&data, "acme", &["--auth", "jwt"]);
    let (_, jti) = issue(&data, "acme", "1d");
    let (ok, out, _) = cli(&data, &["token", "revoke", &jti], None);
    assert!(!ok && !out.contains("revoked"), "{out}");
    for tenant in ["acmee", "../../x", "default"] {
        let (ok, out, err) = cli(&data, &["token", "revoke", "--tenant", tenant, &jti], None);
        assert!(!ok && !out.contains("revoked"), "{tenant}: {out}{err}");
    }
    assert!(!data.join("tenants/acmee").exists() && !tmp.0.join("x").exists());
    let (_, list, _) = cli(&data, &["token", "list", "--tenant", "acme"], None);
    assert!(list.lines().any(|l| l.starts_with(&jti) && l.ends_with("valid")), "{list}");
    let (ok, out, err) = cli(&data, &["token", "revoke", "--tenant", "acme", &jti], None);
    assert!(ok && out.contains("revoked"), "{out}{err}");
}

/// Every command taking `--tenant` validates it one way: a crafted name is refused as a name and an
/// unconfigured one as unknown, before anything is written (not even the data directory, nor anything
/// outside it); a configured tenant works, and no tenant is made up on the way.
#[test]
fn tenant_names_are_validated_alike_before_anything_is_written() {
    let tmp = TempDir::new("tenant-flags");
    let data = tmp.0.join("a/b/data");
    let file = tmp.0.join("people.jsonl");
    std::fs::write(&file, format!("{}\n", user("ann"))).unwrap();
    let out_csv = tmp.0.join("out.csv");
    let commands = |tenant: &'static str| -> Vec<Vec<&str>> {
        vec![
            vec!["import", file.to_str().unwrap(), "--tenant", tenant],
            vec!["export", "--tenant", tenant],
            vec!["export", "--tenant", tenant, "--format", "csv", "--type", "User", "-o", out_csv.to_str().unwrap()],
            vec!["logs", "--tenant", tenant],
            vec!["token", "issue", "--tenant", tenant],
            vec!["token", "list", "--tenant", tenant],
            vec!["tenant", "remove", tenant, "--delete-data"],
        ]
    };
    for (tenant, why) in [("../../x", "tenant name \"../../x\""), ("acme", "no tenant acme")] {
        for args in commands(tenant) {
            let (ok, out, err) = cli(&data, &args, None);
            assert!(!ok && err.contains(why), "{args:?}: {out}{err}");
        }
    }
    assert!(!tmp.0.join("a").exists() && !out_csv.exists(), "nothing was written");
    add_tenant(&data, "acme", &[]);
    let (ok, _, err) = cli(&data, &["import", file.to_str().unwrap(), "--tenant", "acmee"], None);
    assert!(!ok && err.contains("no tenant acmee"), "{err}");
    assert!(!data.join("tenants/acmee").exists() && !tmp.0.join("a/b/x").exists());
    let (ok, _, err) = cli(&data, &["import", file.to_str().unwrap(), "--tenant", "acme"], None);
    assert!(ok, "{err}");
    let (ok, out, err) = cli(&data, &["export", "--tenant", "acme"], None);
    assert!(ok && out.contains("\"userName\":\"ann\""), "{out}{err}");
}

/// Data directories and tenant directories are 0700; databases, their WAL and keys 0600: they hold PII,
/// password hashes and the request log.
#[test]
fn data_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new("modes");
    let data = tmp.0.join("data");
    let acme = add_tenant(&data, "acme", &["--auth", "bearer", "--auth", "jwt"]);
    let s = Server::start(&data, &[]);
    assert_eq!(s.post("/Users", &user("mode-check")).status, 201);
    let r = send(
        "POST",
        &format!("{}/scim/v2/acme/Users", s.root()),
        &bearer(&acme["bearer token"]),
        Some(&user("mode-check")),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let mode =
        |p: &Path| std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777;
    for dir in [data.clone(), data.join("tenants"), data.join("tenants/acme")] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    let mut files = vec![data.join("tenants/acme/jwt.key")];
    if !common::on_postgres() {
        for db in [data.join("scimkit.sqlite3"), data.join("tenants/acme/scimkit.sqlite3")] {
            files.push(PathBuf::from(format!("{}-wal", db.display())));
            files.push(db);
        }
    }
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// Control characters (U+009B opens a terminal escape sequence) and bidirectional overrides in a request path
/// reach neither `scimkit logs` nor the server's stderr raw: they are shown escaped.
#[test]
fn control_characters_from_clients_are_escaped_on_terminals() {
    use std::io::{Read, Write};
    let tmp = TempDir::new("escapes");
    let data = tmp.0.join("data");
    let s = Server::start(&data, &[]);
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let request = format!("GET /scim/v2/Users/\u{9b}31m\u{202e}xe.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n");
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let logs = logs_with(&data, "default", 1);
    let stderr = s.stop();
    for (what, text) in [("scimkit logs", &logs), ("stderr", &stderr)] {
        assert!(!text.contains('\u{9b}') && !text.contains('\u{202e}'), "{what}: {text}");
        assert!(text.contains("\\u{009b}31m\\u{202e}xe.txt"), "{what}: {text}");
    }
}

/// 64 wrong Basic passwords at once from one address: past a small burst they are refused with 429 and
/// `Retry-After` before any password hash, so memory stays low; the address's valid requests are answered
/// once it has waited, and other credentials meanwhile.
#[test]
fn wrong_passwords_in_parallel_are_throttled_before_any_hash() {
    let dir = TempDir::new("throttle");
    let acme = add_tenant(&dir.0, "acme", &["--auth", "basic", "--auth", "bearer"]);
    let s = Server::start(&dir.0, &[]);
    let users = format!("{}/scim/v2/acme/Users", s.root());
    let wrong = basic(&acme["basic username"], "wrong-password");
    let answers: Vec<Resp> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..64).map(|_| scope.spawn(|| get(&users, Some(&wrong)))).collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 429).count() >= 50, "{statuses:?}");
    // One of the batch: an attempt asked for later may find one given back while the hashes ran.
    let refused = answers.iter().find(|r| r.status == 429).unwrap();
    refused.assert_error(429, None);
    let wait: u64 = refused.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!(s.peak_rss_mib() < 300, "peak RSS {} MiB", s.peak_rss_mib());
    assert_eq!(get(&users, Some(&bearer(&acme["bearer token"]))).status, 200);
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(get(&users, Some(&basic(&acme["basic username"], &acme["basic password"]))).status, 200);
}

/// The admin password costs a hash like a Basic one: 64 wrong ones at once from one address are refused
/// past a small burst with 429 and `Retry-After`, before any hash; the right one works once it has waited.
#[test]
fn wrong_admin_passwords_are_throttled_before_any_hash() {
    let dir = TempDir::new("admin-throttle");
    let password = "admin-password-1";
    let (ok, _, err) = cli(&dir.0, &["admin", "set-password", "--password-stdin"], Some(password));
    assert!(ok, "{err}");
    let s = Server::start(&dir.0, &[]);
    let admin = format!("{}/admin", s.root());
    let wrong = basic("admin", "wrong-password");
    let answers: Vec<Resp> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..64).map(|_| scope.spawn(|| get(&admin, Some(&wrong)))).collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 429).count() >= 50, "{statuses:?}");
    let refused = answers.iter().find(|r| r.status == 429).unwrap();
    let wait: u64 = refused.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!(s.peak_rss_mib() < 300, "peak RSS {} MiB", s.peak_rss_mib());
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(get(&admin, Some(&basic("admin", password))).status, 200);
}

/// `X-Forwarded-For` counts for a tenant's network allow-list only from a proxy in `trusted_proxies`, and
/// then the nearest address that is not a trusted proxy is the client.
#[test]
fn forwarded_addresses_count_only_from_trusted_proxies() {
    let dir = TempDir::new("proxies");
    let far = add_tenant(&dir.0, "far", &["--allow-network", "192.0.2.0/24"]);
    let auth = bearer(&far["bearer token"]);
    let from = |s: &Server, forwarded: Option<&str>| {
        let mut headers = vec![("Authorization", auth.clone())];
        headers.extend(forwarded.map(|f| ("X-Forwarded-For", f.to_string())));
        raw("GET", &format!("{}/scim/v2/far/Users", s.root()), &headers, None).status
    };
    let s = Server::start(&dir.0, &[]);
    assert_eq!(from(&s, Some("192.0.2.5")), 403, "no proxy is trusted unless configured");
    drop(s);
    let config = dir.0.join("scimkit.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("trusted_proxies = [\"127.0.0.0/8\"]\n{text}")).unwrap();
    let s = Server::start(&dir.0, &[]);
    assert_eq!(from(&s, Some("192.0.2.5")), 200);
    assert_eq!(from(&s, Some("192.0.2.5, 198.51.100.1")), 403, "the nearest untrusted address is the client");
    assert_eq!(from(&s, None), 403);
}

/// Past its configured rate a tenant answers 429 with `Retry-After` and a SCIM error, counted in /metrics;
/// other tenants are not affected.
#[test]
fn a_tenant_past_its_rate_gets_429_with_retry_after() {
    let dir = TempDir::new("rate");
    let slow = add_tenant(&dir.0, "slow", &[]);
    let config = dir.0.join("scimkit.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let limited =
        text.replacen("name = \"slow\"\n", "name = \"slow\"\nrate_limit_per_second = 0.01\nrate_limit_burst = 3\n", 1);
    assert_ne!(limited, text, "{text}");
    std::fs::write(&config, limited).unwrap();
    let s = Server::start(&dir.0, &[]);
    let users = format!("{}/scim/v2/slow/Users", s.root());
    let auth = bearer(&slow["bearer token"]);
    for _ in 0..3 {
        assert_eq!(get(&users, Some(&auth)).status, 200);
    }
    let over = get(&users, Some(&auth));
    over.assert_error(429, None);
    let wait: u64 = over.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!(wait >= 1, "{wait}");
    assert_eq!(s.get("/Users").status, 200, "the default tenant has its own rate");
    let metrics = raw("GET", &format!("{}/metrics", s.root()), &[], None).text;
    assert!(metrics.contains(r#"scimkit_requests_total{tenant="slow",method="GET",status="429"} 1"#), "{metrics}");
}

/// A tenant's `max_candidates` bounds the resources one search examines when the database cannot answer its
/// filter alone: past it 400 `tooMany` (RFC 7644 §3.4.2.2); filters the database answers are unaffected, and
/// other tenants keep the default.
#[test]
fn a_search_past_the_tenants_max_candidates_is_too_many() {
    let dir = TempDir::new("ceiling");
    let small = add_tenant(&dir.0, "small", &[]);
    let config = dir.0.join("scimkit.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let bounded = text.replacen("name = \"small\"\n", "name = \"small\"\nmax_candidates = 2\n", 1);
    assert_ne!(bounded, text, "{text}");
    std::fs::write(&config, bounded).unwrap();
    let s = Server::start(&dir.0, &[]);
    let users = format!("{}/scim/v2/small/Users", s.root());
    let auth = bearer(&small["bearer token"]);
    for i in 0..3 {
        assert_eq!(send("POST", &users, &auth, Some(&user(&format!("u{i}")))).status, 201);
        assert_eq!(s.post("/Users", &user(&format!("u{i}"))).status, 201);
    }
    let ne = "?filter=userName%20ne%20%22x%22&count=1";
    let over = get(&format!("{users}{ne}"), Some(&auth));
    over.assert_error(400, Some("tooMany"));
    assert!(over.json()["detail"].as_str().unwrap().contains("more than 2"), "{}", over.text);
    let one = get(&format!("{users}?filter=userName%20eq%20%22u1%22"), Some(&auth));
    assert_eq!((one.status, one.json()["totalResults"].as_u64()), (200, Some(1)), "{}", one.text);
    let default = s.get(&format!("/Users{ne}"));
    assert_eq!((default.status, default.json()["totalResults"].as_u64()), (200, Some(3)), "{}", default.text);
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn a_tenant_without_authentication_is_announced() {
    let dir = TempDir::new("auth-none");
    add_tenant(&dir.0, "sandbox", &["--auth", "none"]);
    let s = Server::start(&dir.0, &[]);
    assert_eq!(get(&format!("{}/scim/v2/sandbox/Users", s.root()), None).status, 200);
    assert!(s.log().contains("tenant sandbox accepts requests WITHOUT authentication"), "{}", s.log());
    // It announces no scheme rather than one it does not ask for.
    let config = get(&format!("{}/scim/v2/sandbox/ServiceProviderConfig", s.root()), None).json();
    assert_eq!(config["authenticationSchemes"], json!([]), "{config}");
}

#[test]
fn tenants_are_strictly_isolated() {
    let dir = TempDir::new("isolation");
    let a = add_tenant(&dir.0, "alpha", &[]);
    let b = add_tenant(&dir.0, "beta", &[]);
    let s = Server::start(&dir.0, &[]);
    let base_a = format!("{}/scim/v2/alpha", s.root());
    let base_b = format!("{}/scim/v2/beta", s.root());
    let (auth_a, auth_b) = (bearer(&a["bearer token"]), bearer(&b["bearer token"]));

    let ua = send("POST", &format!("{base_a}/Users"), &auth_a, Some(&user("alice-of-alpha")));
    assert_eq!(ua.status, 201, "{}", ua.text);
    assert!(ua.json()["meta"]["location"].as_str().unwrap().starts_with(&format!("{base_a}/Users/")));
    let ub = send("POST", &format!("{base_b}/Users"), &auth_b, Some(&user("bob-of-beta"))).json();
    let bid = ub["id"].as_str().unwrap();
    let gb = send(
        "POST",
        &format!("{base_b}/Groups"),
        &auth_b,
        Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "beta-group"})),
    )
    .json();
    let gid = gb["id"].as_str().unwrap();

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName pr"});
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [{"method": "DELETE", "path": format!("/Users/{bid}")}]});
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/Users".into(), None),
        ("GET", format!("/Users/{bid}"), None),
        ("GET", "/Users?filter=userName%20eq%20%22bob-of-beta%22".into(), None),
        ("POST", "/Users".into(), Some(user("intruder"))),
        ("PUT", format!("/Users/{bid}"), Some(user("bob-renamed"))),
        ("PATCH", format!("/Users/{bid}"), Some(patch.clone())),
        ("DELETE", format!("/Users/{bid}"), None),
        ("GET", "/Groups".into(), None),
        ("GET", format!("/Groups/{gid}"), None),
        ("DELETE", format!("/Groups/{gid}"), None),
        ("POST", "/Users/.search".into(), Some(search.clone())),
        ("POST", "/.search".into(), Some(search)),
        ("POST", "/Bulk".into(), Some(bulk)),
        ("GET", "/Me".into(), None),
        ("GET", "/ServiceProviderConfig".into(), None),
        ("GET", "/ResourceTypes".into(), None),
        ("GET", "/Schemas".into(), None),
        ("GET", "/".into(), None),
    ];
    for (method, path, body) in &calls {
        for (who, auth) in [("alpha's token", auth_a.clone()), ("the default tenant's token", bearer(TOKEN))] {
            let r = send(method, &format!("{base_b}{path}"), &auth, body.as_ref());
            assert_eq!(r.status, 401, "{method} {path} with {who}: {}", r.text);
            assert!(
                !r.text.contains("bob") && !r.text.contains(bid) && !r.text.contains("beta-group"),
                "{method} {path} leaks: {}",
                r.text
            );
        }
    }
    // Nothing changed in beta, nothing of beta shows in alpha or the default tenant.
    let still = send("GET", &format!("{base_b}/Users/{bid}"), &auth_b, None).json();
    assert_eq!((still["userName"].as_str(), still["active"].as_bool()), (Some("bob-of-beta"), Some(true)));
    assert_eq!(send("GET", &format!("{base_b}/Users"), &auth_b, None).json()["totalResults"], 1);
    let in_a = send("GET", &format!("{base_a}/Users"), &auth_a, None);
    assert_eq!(in_a.json()["totalResults"], 1);
    assert!(!in_a.text.contains("bob"));
    send("GET", &format!("{base_a}/Users/{bid}"), &auth_a, None).assert_error(404, None);
    assert_eq!(s.get("/Users").json()["totalResults"], 0);
    // Each tenant has its own database file.
    assert!(
        dir.0.join("tenants/alpha/scimkit.sqlite3").exists() && dir.0.join("tenants/beta/scimkit.sqlite3").exists()
    );
    let (_, list, _) = cli(&dir.0, &["tenant", "list"], None);
    assert!(list.contains("alpha\t/scim/v2/alpha") && list.contains("default\t/scim/v2\t"), "{list}");
}

#[test]
fn networks_read_only_and_resource_types_are_limited() {
    let dir = TempDir::new("limits");
    let far = add_tenant(&dir.0, "far", &["--allow-network", "10.0.0.0/8"]);
    let near = add_tenant(&dir.0, "near", &["--allow-network", "127.0.0.0/8", "--allow-network", "::1/128"]);
    let ro = add_tenant(&dir.0, "ro", &["--read-only"]);
    let only = add_tenant(&dir.0, "users-only", &["--resource-types", "User"]);
    let s = Server::start(&dir.0, &[]);
    let url = |t: &str, p: &str| format!("{}/scim/v2/{t}{p}", s.root());

    send("GET", &url("far", "/Users"), &bearer(&far["bearer token"]), None).assert_error(403, None);
    assert_eq!(send("GET", &url("near", "/Users"), &bearer(&near["bearer token"]), None).status, 200);
    let auth = bearer(&ro["bearer token"]);
    assert_eq!(send("GET", &url("ro", "/Users"), &auth, None).status, 200);
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    assert_eq!(send("POST", &url("ro", "/Users/.search"), &auth, Some(&search)).status, 200);
    send("POST", &url("ro", "/Users"), &auth, Some(&user("x"))).assert_error(403, None);
    send("DELETE", &url("ro", "/Users/x"), &auth, None).assert_error(403, None);
    let auth = bearer(&only["bearer token"]);
    assert_eq!(send("POST", &url("users-only", "/Users"), &auth, Some(&user("x"))).status, 201);
    send("GET", &url("users-only", "/Groups"), &auth, None).assert_error(403, None);
    assert_eq!(send("GET", &url("users-only", "/ResourceTypes"), &auth, None).json()["totalResults"], 1);
}

/// Every file under `dir`, read whole.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap_or_default()));
        }
    }
    out
}

/// Every resource body and indexed value of every tenant in a PostgreSQL database, as one text.
fn postgres_text(url: &str) -> Vec<u8> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let schemas: Vec<String> = client
        .query("SELECT table_schema FROM information_schema.tables WHERE table_name = 'resources'", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!schemas.is_empty(), "no tenant schema in {url}");
    let mut out = String::new();
    for s in schemas {
        for sql in [
            format!("SELECT data FROM \"{s}\".resources"),
            format!("SELECT coalesce(text_value, '') FROM \"{s}\".attr_values"),
            format!("SELECT value FROM \"{s}\".unique_keys"),
        ] {
            for row in client.query(&sql, &[]).unwrap() {
                out.push_str(row.get::<_, &str>(0));
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Waits until the tenant's log shows at least `n` requests; returns `scimkit logs --bodies` output.
fn logs_with(data: &Path, tenant: &str, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (ok, out, err) = cli(data, &["logs", "--tenant", tenant, "--bodies", "-n", "1000"], None);
        assert!(ok, "{err}");
        let count = out.lines().filter(|l| !l.starts_with(' ')).count();
        if count >= n || Instant::now() > deadline {
            assert!(count >= n, "{count} < {n} requests logged:\n{out}");
            return out;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn passwords_and_secrets_stay_out_of_storage_logs_and_output() {
    let dir = TempDir::new("redaction");
    let data = &dir.0;
    let h = add_tenant(data, "hashed", &["--auth", "bearer", "--auth", "basic", "--auth", "jwt", "--auth", "oauth2"]);
    let d = add_tenant(data, "dropped", &["--passwords", "drop"]);
    let (jwt, _) = issue(data, "hashed", "1d");
    let s = Server::start(data, &[]);
    let base = format!("{}/scim/v2/hashed", s.root());
    let auth = bearer(&h["bearer token"]);
    let pw = ["Clear-Create-7f3a", "Clear-Put-91bc", "Clear-Patch-44de", "Clear-Dropped-0c1d", "Clear-Failed-5e6f"];

    let access = oauth_token(
        &s,
        "hashed",
        &format!("grant_type=client_credentials&client_id=hashed&client_secret={}", h["oauth2 client_secret"]),
        None,
    )
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = user("pat");
    body["password"] = json!(pw[0]);
    let created = send("POST", &format!("{base}/Users"), &basic("scim", &h["basic password"]), Some(&body));
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.json().get("password").is_none());
    let id = created.json()["id"].as_str().unwrap().to_string();
    body["password"] = json!(pw[1]);
    assert_eq!(send("PUT", &format!("{base}/Users/{id}"), &bearer(&jwt), Some(&body)).status, 200);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "password", "value": pw[2]}, {"op": "replace", "value": {"password": pw[2], "displayName": "Pat"}}]});
    let patched = send("PATCH", &format!("{base}/Users/{id}"), &bearer(&access), Some(&patch));
    assert!(patched.status == 200 || patched.status == 204 || patched.status == 501, "{}", patched.text);
    let mut dropped = user("dee");
    dropped["password"] = json!(pw[3]);
    assert_eq!(
        send("POST", &format!("{}/scim/v2/dropped/Users", s.root()), &bearer(&d["bearer token"]), Some(&dropped))
            .status,
        201
    );
    // A failing request still carries secrets: a wrong token, and a password in a body that does not parse.
    let broken = format!("{{\"userName\": \"x\", \"password\": \"{}\"", pw[4]);
    let r = raw(
        "POST",
        &format!("{base}/Users"),
        &[("Authorization", auth.clone()), ("Content-Type", "application/scim+json".into())],
        Some(broken.into_bytes()),
    );
    r.assert_error(400, None);
    get(&format!("{base}/Users?access_token=Query-Token-9a8b"), Some("Bearer Wrong-Token-3c2d"))
        .assert_error(401, None);
    assert_eq!(get(&format!("{base}/Users/{id}"), Some(&auth)).status, 200);

    let logged = logs_with(data, "hashed", 7);
    assert!(logged.contains("[redacted]"), "{logged}");
    assert!(logged.contains("Pat") || logged.contains("pat"), "bodies are kept, minus secrets: {logged}");
    let mut secrets: Vec<String> = pw.iter().map(|p| p.to_string()).collect();
    secrets.extend([
        h["bearer token"].clone(),
        h["basic password"].clone(),
        h["oauth2 client_secret"].clone(),
        d["bearer token"].clone(),
        jwt.clone(),
        access.clone(),
        "Wrong-Token-3c2d".into(),
        "Query-Token-9a8b".into(),
    ]);
    let mut files = all_bytes(data);
    if let Some(url) = database_for(data) {
        files.push(("the PostgreSQL database".into(), postgres_text(&url)));
        assert!(contains(&files.last().unwrap().1, "$argon2id$"), "the password is kept as an argon2 hash");
    } else {
        let db = files.iter().find(|(p, _)| p.ends_with("tenants/hashed/scimkit.sqlite3")).expect("hashed db");
        let wal = files.iter().find(|(p, _)| p.ends_with("tenants/hashed/scimkit.sqlite3-wal"));
        assert!(
            contains(&db.1, "$argon2id$") || wal.is_some_and(|w| contains(&w.1, "$argon2id$")),
            "the password is kept as an argon2 hash"
        );
    }
    let output = s.stop();
    for secret in &secrets {
        for (path, bytes) in &files {
            assert!(!contains(bytes, secret), "{secret} found in {path}");
        }
        assert!(!output.contains(secret.as_str()), "{secret} in the server output:\n{output}");
        assert!(!logged.contains(secret.as_str()), "{secret} in `scimkit logs`:\n{logged}");
    }
}

#[test]
fn the_request_log_is_pruned_and_filtered() {
    let dir = TempDir::new("log-retention");
    std::fs::write(dir.0.join("scimkit.toml"), "[log]\nretention_days = 7\nmax_rows = 5\n").unwrap();
    let s = Server::start(&dir.0, &[]);
    for i in 0..12 {
        if i % 3 == 0 {
            s.get("/Users/missing").assert_error(404, None);
        } else {
            assert_eq!(s.get("/Users").status, 200);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out;
    loop {
        out = cli(&dir.0, &["logs", "-n", "100"], None).1;
        if out.lines().last().is_some_and(|l| l.contains("/Users/missing") || l.contains("/Users 200"))
            && out.lines().count() <= 5
        {
            break;
        }
        assert!(Instant::now() < deadline, "{out}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, failed, _) = cli(&dir.0, &["logs", "--status", "4xx", "-n", "100"], None);
    assert!(!failed.is_empty() && failed.lines().all(|l| l.contains(" 404 ")), "{failed}");
    let (ok, _, err) = cli(&dir.0, &["logs", "--status", "nope"], None);
    assert!(!ok && err.contains("4xx"), "{err}");
}

/// Requests refused at authentication keep no body in the request log, and prune one another before they
/// prune the authenticated requests: a flood of them cannot fill the log nor push the audit trail out.
#[test]
fn refused_requests_keep_no_body_and_leave_the_audit_trail() {
    let dir = TempDir::new("log-anonymous");
    std::fs::write(dir.0.join("scimkit.toml"), "[log]\nmax_rows = 5\n").unwrap();
    let s = Server::start(&dir.0, &[]);
    for i in 0..3 {
        assert_eq!(s.post("/Users", &user(&format!("audited-{i}"))).status, 201);
    }
    let flood = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "flood".repeat(2000)})
        .to_string();
    let headers =
        [("Content-Type", "application/scim+json".to_string()), ("Authorization", "Bearer wrong".to_string())];
    for _ in 0..20 {
        assert_eq!(raw("POST", &s.url("/Users"), &headers, Some(flood.clone().into_bytes())).status, 401);
    }
    let entries = |out: &str, status: &str| out.lines().filter(|l| !l.starts_with(' ') && l.contains(status)).count();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out;
    loop {
        out = cli(&dir.0, &["logs", "--bodies", "-n", "100"], None).1;
        if entries(&out, " 401 ") == 2 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!((entries(&out, " 201 "), entries(&out, " 401 ")), (3, 2), "{out}");
    assert!(out.contains("audited-0") && !out.contains("floodflood"), "{out}");
}

#[test]
fn the_log_keeps_the_bodies_of_changes_and_failures_not_of_successful_reads() {
    let dir = TempDir::new("log-reads");
    let s = Server::start(&dir.0, &[]);
    let id = s.post("/Users", &user("logged-write")).json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.get(&format!("/Users/{id}")).status, 200);
    assert_eq!(s.get("/Users?filter=userName%20eq%20%22logged-write%22").status, 200);
    assert_eq!(s.get("/Users/no-such-id").status, 404);
    // Each entry's first line, then its body lines ("  request: …", "  response: …").
    let entries = |out: &str| {
        let mut all: Vec<(String, Vec<String>)> = Vec::new();
        for line in out.lines() {
            match (line.strip_prefix("  "), all.last_mut()) {
                (Some(body), Some((_, bodies))) => bodies.push(body.to_string()),
                _ => all.push((line.to_string(), Vec::new())),
            }
        }
        all
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let all = loop {
        let all = entries(&cli(&dir.0, &["logs", "--bodies", "-n", "100"], None).1);
        if all.len() >= 4 || Instant::now() > deadline {
            break all;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let responses = |status: &str| {
        let (head, bodies) = all.iter().find(|(head, _)| head.contains(status)).expect(status);
        (head.clone(), bodies.iter().filter(|b| b.starts_with("response:")).count())
    };
    assert_eq!(responses(" 201 ").1, 1, "a write keeps its answer: {all:?}");
    assert_eq!(responses(" 404 ").1, 1, "a failure keeps its answer: {all:?}");
    let reads: Vec<_> = all.iter().filter(|(head, _)| head.contains(" 200 ")).collect();
    assert_eq!(reads.len(), 2, "{all:?}");
    assert!(reads.iter().all(|(_, bodies)| bodies.iter().all(|b| !b.starts_with("response:"))), "{all:?}");
}

#[test]
fn the_admin_page_works_in_a_browser() {
    let Some(browser) = browser::Browser::start() else { return };
    let dir = TempDir::new("admin");
    let password = "Admin-Pass-123";
    let (ok, _, err) = cli(&dir.0, &["admin", "set-password", "--password-stdin"], Some(password));
    assert!(ok, "{err}");
    let s = Server::start(&dir.0, &[]);
    assert_eq!(get(&format!("{}/admin", s.root()), None).status, 401);
    assert_eq!(get(&format!("{}/admin", s.root()), Some(&basic("admin", "wrong"))).status, 401);
    s.post("/Users", &user("<script>alert(1)</script>")).json();
    // The failed request to find: a password in a body the engine refuses.
    let failing = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "no user name", "password": "Browser-Secret-1"});
    s.post("/Users", &failing).assert_error(400, None);
    std::thread::sleep(Duration::from_millis(500));

    let session = browser.session();
    session.go(&format!("http://admin:{password}@127.0.0.1:{}/admin", s.port));
    assert!(session.title().contains("Tenants"), "{}", session.source());
    session.click("a[href='/admin/tenants/default']");
    assert!(session.title().contains("Tenant default"));
    let source = session.source();
    assert!(
        source.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !source.contains("<script>alert"),
        "escaped user names"
    );
    session.go(&format!("http://127.0.0.1:{}/admin/tenants/default?status=4xx&method=POST", s.port));
    let rows = session.text("#requests");
    assert!(rows.contains("400") && !rows.contains(" 201"), "{rows}");
    session.click("a.request");
    let request_body = session.text("#request-body");
    assert!(request_body.contains("no user name") && request_body.contains("[redacted]"), "{request_body}");
    assert!(!session.source().contains("Browser-Secret-1"));
    let response_body = session.text("#response-body");
    assert!(response_body.contains("400"), "{response_body}");
}

/// The first Digest challenge of a 401 for `algorithm`: (realm, nonce, whether stale).
fn digest_challenge(r: &Resp, algorithm: &str) -> (String, String, bool) {
    let challenge = r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, v)| v.as_str())
        .find(|v| v.starts_with("Digest ") && v.contains(&format!("algorithm={algorithm},")))
        .unwrap_or_else(|| panic!("no {algorithm} challenge: {:?}", r.headers));
    let param = |name: &str| {
        let start = challenge.find(&format!("{name}=\"")).map(|i| i + name.len() + 2)?;
        Some(challenge[start..].split('"').next()?.to_string())
    };
    (param("realm").unwrap(), param("nonce").unwrap(), challenge.contains("stale=true"))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An RFC 7616 `Authorization: Digest` value, computed here (SHA-256 or SHA-512-256, qop=auth).
#[allow(clippy::too_many_arguments)]
fn digest_authorization(
    algorithm: &str,
    user: &str,
    password: &str,
    realm: &str,
    nonce: &str,
    nc: u32,
    method: &str,
    uri: &str,
) -> String {
    use sha2::Digest as _;
    let h = |s: String| match algorithm {
        "SHA-256" => hex_of(&sha2::Sha256::digest(s.as_bytes())),
        _ => hex_of(&sha2::Sha512_256::digest(s.as_bytes())),
    };
    let (nc, cnonce) = (format!("{nc:08x}"), "0a4f113b");
    let response = h(format!(
        "{}:{nonce}:{nc}:{cnonce}:auth:{}",
        h(format!("{user}:{realm}:{password}")),
        h(format!("{method}:{uri}"))
    ));
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={algorithm}, \
         response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{cnonce}\""
    )
}

fn tool(name: &str) -> bool {
    std::process::Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// `curl --digest`: (HTTP status, body).
fn curl_digest(url: &str, user: &str, password: &str) -> (u16, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "30", "--digest", "-u", &format!("{user}:{password}"), "-w", "\n%{http_code}", url])
        .output()
        .expect("running curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (status.trim().parse().unwrap_or(0), body.to_string())
}

/// Python's `urllib.request.HTTPDigestAuthHandler`: the status, or the error's.
fn python_digest(url: &str, user: &str, password: &str) -> String {
    let script = "import sys, urllib.request, urllib.error\n\
        url, user, password = sys.argv[1:4]\n\
        m = urllib.request.HTTPPasswordMgrWithDefaultRealm()\n\
        m.add_password(None, url, user, password)\n\
        opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(m))\n\
        try:\n    r = opener.open(url, timeout=30)\n    print(r.status, r.read().decode())\n\
        except urllib.error.HTTPError as e:\n    print(e.code)\n";
    let out =
        std::process::Command::new("python3").args(["-c", script, url, user, password]).output().expect("python3");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// HTTP Digest per tenant: curl (SHA-256) and Python's urllib (MD5, which its tenant offers first for it)
/// succeed; SHA-512-256 works; a replayed nonce count, a stale nonce, a wrong password, another tenant's
/// credentials and MD5 where it is not offered are refused; `/ServiceProviderConfig` says Digest.
#[test]
fn http_digest_with_curl_python_and_every_refusal() {
    let tools = tool("curl") && tool("python3");
    if common::skip_part("python", tools, "the Digest clients are curl and python3 (apt-get install curl python3)") {
        return;
    }
    let dir = TempDir::new("digest");
    let modern = add_tenant(&dir.0, "modern", &["--auth", "digest"]);
    let legacy = add_tenant(
        &dir.0,
        "legacy",
        &["--auth", "digest", "--digest-algorithm", "MD5", "--digest-algorithm", "SHA-256"],
    );
    assert_eq!(modern["digest realm"], "scimkit/modern");
    let config = std::fs::read_to_string(dir.0.join("scimkit.toml")).unwrap();
    assert!(!config.contains(&modern["digest password"]) && config.contains("ha1_sha512_256"), "{config}");
    // Nonces of `modern` last two seconds, so that one can go stale here.
    let config = config.replacen("method = \"digest\"\n", "method = \"digest\"\nnonce_ttl = \"2s\"\n", 1);
    std::fs::write(dir.0.join("scimkit.toml"), config).unwrap();
    let s = Server::start(&dir.0, &[]);
    let (user, password) = (&modern["digest username"], &modern["digest password"]);
    let users = format!("{}/scim/v2/modern/Users", s.root());

    let (status, body) = curl_digest(&format!("{users}?filter=userName%20pr"), user, password);
    assert_eq!(status, 200, "curl --digest (SHA-256): {body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["totalResults"], 0);
    let python = python_digest(&format!("{}/scim/v2/legacy/Users", s.root()), user, &legacy["digest password"]);
    assert!(python.starts_with("200 "), "urllib (MD5): {python}");
    let (status, config) = curl_digest(&format!("{}/scim/v2/modern/ServiceProviderConfig", s.root()), user, password);
    assert_eq!(status, 200, "{config}");
    let schemes = serde_json::from_str::<Value>(&config).unwrap()["authenticationSchemes"].clone();
    assert_eq!(schemes.as_array().map(Vec::len), Some(1), "{schemes}");
    assert_eq!(schemes[0]["type"], "httpdigest");

    // SHA-512-256, computed here; then the same nonce count again.
    let refused = get(&users, None);
    assert_eq!(refused.status, 401);
    let (realm, nonce, _) = digest_challenge(&refused, "SHA-512-256");
    let first = refused.header("www-authenticate").unwrap();
    assert!(first.starts_with("Digest ") && first.contains("algorithm=SHA-256,"), "{first}");
    let path = "/scim/v2/modern/Users";
    let once = digest_authorization("SHA-512-256", user, password, &realm, &nonce, 1, "GET", path);
    assert_eq!(get(&users, Some(&once)).status, 200, "SHA-512-256");
    assert_rejected_digest(&get(&users, Some(&once)), "replayed nonce count");
    let two = digest_authorization("SHA-512-256", user, password, &realm, &nonce, 2, "GET", path);
    assert_eq!(get(&users, Some(&two)).status, 200, "the next count");
    let wrong = digest_authorization("SHA-256", user, "wrong", &realm, &nonce, 3, "GET", path);
    assert_rejected_digest(&get(&users, Some(&wrong)), "wrong password");
    let other_path =
        digest_authorization("SHA-256", user, password, &realm, &nonce, 4, "GET", "/scim/v2/modern/Groups");
    assert_rejected_digest(&get(&users, Some(&other_path)), "credentials for another URI");

    // Another tenant's credentials, nonce or algorithm.
    let legacy_users = format!("{}/scim/v2/legacy/Users", s.root());
    let (status, _) = curl_digest(&legacy_users, user, password);
    assert_eq!(status, 401, "modern's password at legacy");
    let (legacy_user, legacy_password) = (&legacy["digest username"], &legacy["digest password"]);
    let foreign = digest_authorization(
        "SHA-256",
        legacy_user,
        legacy_password,
        "scimkit/legacy",
        &nonce,
        5,
        "GET",
        "/scim/v2/legacy/Users",
    );
    assert_rejected_digest(&get(&legacy_users, Some(&foreign)), "modern's nonce at legacy");
    let (status, _) = curl_digest(&users, legacy_user, legacy_password);
    assert_eq!(status, 401, "legacy's password at modern");

    // Past its two seconds, the nonce is stale: right credentials get a new one with stale=true.
    std::thread::sleep(Duration::from_millis(3100));
    let late = digest_authorization("SHA-256", user, password, &realm, &nonce, 6, "GET", path);
    let stale = get(&users, Some(&late));
    assert_rejected_digest(&stale, "stale nonce");
    let (_, fresh, is_stale) = digest_challenge(&stale, "SHA-256");
    assert!(is_stale && fresh != nonce, "stale=true and a new nonce");
    let renewed = digest_authorization("SHA-256", user, password, &realm, &fresh, 1, "GET", path);
    assert_eq!(get(&users, Some(&renewed)).status, 200, "with the new nonce");
    let logs = logs_with(&dir.0, "modern", 14);
    assert!(!logs.contains(password.as_str()), "{logs}");
}

fn assert_rejected_digest(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text);
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").is_some_and(|c| c.starts_with("Digest ")), "{what}");
}

/// Issue 23: OAuth access tokens are revocable by `jti` on a tenant without `jwt`, or all of a client's at
/// once; the token endpoint's throttled answer is 429 with `Retry-After`; `token_ttl` has a ceiling.
#[test]
fn oauth_tokens_are_revocable_throttled_and_bounded() {
    let dir = TempDir::new("oauth-revoke");
    let (ok, _, err) = cli(&dir.0, &["tenant", "add", "long", "--auth", "oauth2", "--token-ttl", "2d"], None);
    assert!(!ok && err.contains("--token-ttl") && err.contains("ceiling"), "{err}");
    let acme = add_tenant(&dir.0, "acme", &["--auth", "oauth2"]);
    let (id, secret) = (&acme["oauth2 client_id"], &acme["oauth2 client_secret"]);
    let s = Server::start(&dir.0, &[]);
    let users = format!("{}/scim/v2/acme/Users", s.root());
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let token = |form: &str| oauth_token(&s, "acme", form, None);
    let (first, second) = (token(&form).json(), token(&form).json());
    let (first, second) = (first["access_token"].as_str().unwrap(), second["access_token"].as_str().unwrap());
    assert_eq!(get(&users, Some(&bearer(first))).status, 200);
    let jti = claims_of(first)["jti"].as_str().unwrap().to_string();
    let (ok, out, err) = cli(&dir.0, &["token", "revoke", "--tenant", "acme", &jti], None);
    assert!(ok && out.contains("revoked"), "{out}{err}");
    assert_eq!(get(&users, Some(&bearer(first))).status, 401, "revoked by jti");
    assert_eq!(get(&users, Some(&bearer(second))).status, 200, "only that one");
    let (ok, out, err) = cli(&dir.0, &["token", "revoke", "--tenant", "acme", "--client", id], None);
    assert!(ok, "{out}{err}");
    assert_eq!(get(&users, Some(&bearer(second))).status, 401, "revoked with its client");
    std::thread::sleep(Duration::from_millis(1100));
    let later = token(&form).json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&users, Some(&bearer(&later))).status, 200, "tokens issued afterwards work");

    let wrong = format!("grant_type=client_credentials&client_id={id}&client_secret=wrong");
    let statuses: Vec<u16> = (0..12).map(|_| token(&wrong).status).collect();
    assert!(statuses.contains(&401) && statuses.last() == Some(&429), "{statuses:?}");
    let throttled = token(&wrong);
    assert_eq!((throttled.status, throttled.json()["error"].as_str()), (429, Some("slow_down")));
    assert!(throttled.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|w| w >= 1));
    drop(s);

    let path = dir.0.join("scimkit.toml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("method = \"oauth2\"\n", "method = \"oauth2\"\ntoken_ttl = \"25h\"\n");
    std::fs::write(&path, config).unwrap();
    let (ok, out, err) = cli(&dir.0, &["tenant", "list"], None);
    assert!(!ok && err.contains("tenant acme: auth[0].token_ttl") && err.contains("ceiling"), "{out}{err}");
}

/// A loopback listener standing for the OAuth client's redirect URI: it answers every request and hands
/// over each request line.
fn redirect_listener() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://127.0.0.1:{}/callback", listener.local_addr().unwrap().port());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_string();
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nreturned");
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (uri, rx)
}

/// The query parameters of the next request to the redirect URI.
fn returned(rx: &std::sync::mpsc::Receiver<String>) -> HashMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(wait).expect("the browser came back to the redirect URI");
        let Some(target) = line.strip_prefix("GET /callback") else { continue };
        let query = target.split_whitespace().next().unwrap_or("").trim_start_matches('?');
        return query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), percent_decoded(v)))
            .collect();
    }
}

fn percent_decoded(v: &str) -> String {
    let bytes = v.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A PKCE pair (verifier, S256 challenge).
fn pkce(seed: &str) -> (String, String) {
    use sha2::Digest as _;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let verifier = b64url(&sha2::Sha256::digest(format!("{seed}{nanos}").as_bytes()));
    let challenge = b64url(&sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A request that is not redirected by the test's HTTP client.
fn unfollowed(url: &str) -> Resp {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut r = agent.get(url).call().expect("HTTP request failed");
    let headers =
        r.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    Resp { status: r.status().as_u16(), headers, text: r.body_mut().read_to_string().unwrap_or_default() }
}

/// The authorization code grant driven through a real browser: the administrator signs in on the consent page
/// and approves; the code and state come back to the client's redirect URI; the code, with its PKCE
/// verifier, buys an access token that SCIM accepts and a refresh token that rotates; a code or refresh token
/// used twice, a wrong verifier, a foreign redirect URI and an unknown client are refused; tokens are revoked
/// by `jti` and by client.
#[test]
fn the_authorization_code_grant_in_a_browser() {
    let Some(browser) = browser::Browser::start() else { return };
    let dir = TempDir::new("oauth-code");
    let password = "Admin-Pass-456";
    let (ok, _, err) = cli(&dir.0, &["admin", "set-password", "--password-stdin"], Some(password));
    assert!(ok, "{err}");
    let (redirect_uri, callbacks) = redirect_listener();
    let acme = add_tenant(
        &dir.0,
        "acme",
        &["--auth", "oauth2-code", "--client-id", "crm-app", "--redirect-uri", &redirect_uri, "--token-ttl", "10m"],
    );
    assert_eq!(acme["oauth2 authorization endpoint"], "/oauth/acme/authorize");
    let (client_id, client_secret) = (&acme["oauth2-code client_id"], &acme["oauth2-code client_secret"]);
    let s = Server::start(&dir.0, &[]);
    let users = format!("{}/scim/v2/acme/Users", s.root());
    let authorize = |challenge: &str, state: &str, redirect: &str| {
        format!(
            "{}/oauth/acme/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state={state}\
             &code_challenge={challenge}&code_challenge_method=S256",
            s.root(),
            percent_encoded(redirect)
        )
    };
    let client = basic(client_id, client_secret);
    let exchange = |code: &str, verifier: &str| {
        let form = format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}",
            percent_encoded(&redirect_uri)
        );
        oauth_token(&s, "acme", &form, Some(&client))
    };
    let refresh = |token: &str| {
        oauth_token(&s, "acme", &format!("grant_type=refresh_token&refresh_token={token}"), Some(&client))
    };
    let session = browser.session();
    let approve = |challenge: &str, state: &str| {
        session.go(&authorize(challenge, state, &redirect_uri));
        assert!(session.title().contains("Authorize access"), "{}", session.source());
        assert_eq!(session.text("#client"), *client_id);
        session.fill("#password", password);
        session.click("#approve");
        let back = returned(&callbacks);
        assert_eq!(back.get("state").map(String::as_str), Some(state), "{back:?}");
        back["code"].clone()
    };

    // A wrong password first: the page says so, and nothing goes back to the client.
    let (verifier, challenge) = pkce("one");
    session.go(&authorize(&challenge, "s-1", &redirect_uri));
    session.fill("#password", "not-the-password");
    session.click("#approve");
    assert!(session.text("#error").contains("wrong"), "{}", session.source());
    session.fill("#password", password);
    session.click("#approve");
    let back = returned(&callbacks);
    assert_eq!(back["state"], "s-1");
    let code = back["code"].clone();

    let tokens = exchange(&code, &verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    let tokens = tokens.json();
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_u64()), (Some("Bearer"), Some(600)));
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh_1 = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(send("POST", &users, &bearer(&access), Some(&user("coded"))).status, 201);
    assert_eq!(get(&users, Some(&bearer(&access))).json()["totalResults"], 1);
    let config = get(&format!("{}/scim/v2/acme/ServiceProviderConfig", s.root()), Some(&bearer(&access))).json();
    assert_eq!(config["authenticationSchemes"][0]["name"], "OAuth 2.0 authorization code", "{config}");
    assert_eq!(config["authenticationSchemes"].as_array().unwrap().len(), 1);

    // Refresh: a new pair; the old refresh token is spent, and presenting it again revokes its family.
    let rotated = refresh(&refresh_1);
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let rotated = rotated.json();
    let refresh_2 = rotated["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh_2, refresh_1);
    assert_eq!(get(&users, Some(&bearer(rotated["access_token"].as_str().unwrap()))).status, 200);
    let again = refresh(&refresh_1);
    assert_eq!((again.status, again.json()["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(refresh(&refresh_2).json()["error"], "invalid_grant", "the family is revoked");

    // The code again: refused, and the access token it gave is revoked.
    let twice = exchange(&code, &verifier);
    assert_eq!((twice.status, twice.json()["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(get(&users, Some(&bearer(&access))).status, 401);

    // A wrong verifier spends the code.
    let (verifier, challenge) = pkce("two");
    let code = approve(&challenge, "s-2");
    let (other_verifier, _) = pkce("other");
    assert_eq!(exchange(&code, &other_verifier).json()["error"], "invalid_grant");
    assert_eq!(exchange(&code, &verifier).json()["error"], "invalid_grant");

    // Deny: the client hears access_denied with its state.
    let (_, challenge) = pkce("three");
    session.go(&authorize(&challenge, "s-3", &redirect_uri));
    session.click("#deny");
    let back = returned(&callbacks);
    assert_eq!((back["error"].as_str(), back["state"].as_str()), ("access_denied", "s-3"));

    // A foreign redirect URI or an unknown client: told on the page, never redirected.
    let foreign = unfollowed(&authorize(&challenge, "s-4", "http://127.0.0.1:9/elsewhere"));
    assert_eq!(foreign.status, 400, "{}", foreign.text);
    assert!(foreign.header("location").is_none() && foreign.text.contains("redirect URI"), "{}", foreign.text);
    let unknown = unfollowed(&authorize(&challenge, "s-4", &redirect_uri).replace(client_id.as_str(), "nobody"));
    assert_eq!(unknown.status, 400);
    // Without PKCE: the error goes back to the client.
    let no_pkce = unfollowed(&authorize("", "s-5", &redirect_uri));
    let location = no_pkce.header("location").unwrap_or_default();
    assert_eq!(no_pkce.status, 303);
    assert!(
        location.starts_with(&redirect_uri)
            && location.contains("error=invalid_request")
            && location.contains("state=s-5"),
        "{location}"
    );

    // Revocation: the access token by its jti, then everything of the client.
    let (verifier, challenge) = pkce("four");
    let code = approve(&challenge, "s-6");
    let tokens = exchange(&code, &verifier).json();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let jti = claims_of(&access)["jti"].as_str().unwrap().to_string();
    let (ok, out, err) = cli(&dir.0, &["token", "revoke", "--tenant", "acme", &jti], None);
    assert!(ok, "{out}{err}");
    assert_eq!(get(&users, Some(&bearer(&access))).status, 401, "revoked by jti");
    let renewed = refresh(tokens["refresh_token"].as_str().unwrap()).json();
    let access = renewed["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&users, Some(&bearer(&access))).status, 200);
    let (ok, out, err) = cli(&dir.0, &["token", "revoke", "--tenant", "acme", "--client", client_id], None);
    assert!(ok && out.contains("1 refresh tokens"), "{out}{err}");
    assert_eq!(get(&users, Some(&bearer(&access))).status, 401, "revoked with its client");
    assert_eq!(refresh(renewed["refresh_token"].as_str().unwrap()).json()["error"], "invalid_grant");
    let logs = logs_with(&dir.0, "acme", 18);
    assert!(
        !logs.contains(client_secret.as_str()) && !logs.contains(&refresh_1) && !logs.contains(&verifier),
        "{logs}"
    );
}

fn percent_encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Headless Chromium over the WebDriver protocol, with plain HTTP.
mod browser {
    use serde_json::{json, Value};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    pub struct Browser {
        driver: Child,
        url: String,
        profile: super::TempDir,
    }

    fn find(names: &[&str]) -> Option<String> {
        names
            .iter()
            .find(|n| Command::new("which").arg(n).stdout(Stdio::null()).status().is_ok_and(|s| s.success()))
            .map(|n| n.to_string())
    }

    impl Browser {
        /// None when the browser test is skipped (see `skip_part`).
        pub fn start() -> Option<Browser> {
            let (browser, driver) = (find(&["chromium", "chromium-browser"]), find(&["chromedriver"]));
            let install = "the browser test needs apt-get install chromium chromium-driver";
            if super::common::skip_part("browser", browser.is_some() && driver.is_some(), install) {
                return None;
            }
            let driver = driver.unwrap();
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new(driver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting chromedriver");
            let b = Browser {
                driver: child,
                url: format!("http://127.0.0.1:{port}"),
                profile: super::TempDir::new("chromium-profile"),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while super::common::agent().get(&format!("{}/status", b.url)).call().is_err() {
                assert!(Instant::now() < deadline, "chromedriver did not start");
                std::thread::sleep(Duration::from_millis(100));
            }
            Some(b)
        }

        pub fn session(&self) -> Session<'_> {
            let binary = super::browser_binary();
            // An implicit wait: after a click that submits a form, the next page's elements are looked for until
            // it has loaded (up to 5 s), not at once on the page that is going away.
            let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "timeouts": {"implicit": 5000}, "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", format!("--user-data-dir={}", self.profile.0.display())]
            }}}});
            let r = call(&self.url, "POST", "/session", Some(caps));
            let id =
                r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {r}")).to_string();
            Session { browser: self, id }
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            let _ = self.driver.kill();
            let _ = self.driver.wait();
        }
    }

    fn call(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let headers = vec![("Content-Type", "application/json".to_string())];
        let r = super::raw(method, &format!("{base}{path}"), &headers, body.map(|b| b.to_string().into_bytes()));
        serde_json::from_str(&r.text).unwrap_or_else(|_| panic!("WebDriver {method} {path}: {}", r.text))
    }

    pub struct Session<'a> {
        browser: &'a Browser,
        id: String,
    }

    impl Session<'_> {
        fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
            let v = call(&self.browser.url, method, &format!("/session/{}{path}", self.id), body);
            assert!(v["value"].get("error").is_none(), "WebDriver {method} {path}: {v}");
            v["value"].clone()
        }

        pub fn go(&self, url: &str) {
            self.cmd("POST", "/url", Some(json!({"url": url})));
        }

        pub fn title(&self) -> String {
            self.cmd("GET", "/title", None).as_str().unwrap_or("").to_string()
        }

        pub fn source(&self) -> String {
            self.cmd("GET", "/source", None).as_str().unwrap_or("").to_string()
        }

        fn element(&self, css: &str) -> String {
            let v = self.cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})));
            v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("element id").to_string()
        }

        pub fn click(&self, css: &str) {
            let e = self.element(css);
            self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
        }

        /// Types into an input, replacing what it held.
        pub fn fill(&self, css: &str, text: &str) {
            let e = self.element(css);
            self.cmd("POST", &format!("/element/{e}/clear"), Some(json!({})));
            self.cmd("POST", &format!("/element/{e}/value"), Some(json!({"text": text})));
        }

        pub fn text(&self, css: &str) -> String {
            let e = self.element(css);
            self.cmd("GET", &format!("/element/{e}/text"), None).as_str().unwrap_or("").to_string()
        }
    }

    impl Drop for Session<'_> {
        fn drop(&mut self) {
            let _ = super::raw("DELETE", &format!("{}/session/{}", self.browser.url, self.id), &[], None);
        }
    }
}

/// Debian's Chromium lives behind a wrapper script; chromedriver wants the real binary when it exists.
fn browser_binary() -> String {
    ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or(&"chromium")
        .to_string()
}
