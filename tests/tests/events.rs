//! Change events end to end: a receiver on 127.0.0.1 gets every change in order, signed (HMAC webhooks, RFC 9967
//! SETs as HS256 JWTs); a receiver that was down gets everything once it is back; kill -9 during a write load
//! loses no event of an acknowledged write and journals none for a refused one.

mod common;

use base64::Engine as _;
use common::http1::{read_request, Request};
use common::{agent, cli, raw, skip_on_postgres, Server, TempDir, TOKEN};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashSet;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const WEBHOOK_SECRET: &str = "webhook-secret-0123456789";
const SET_SECRET: &str = "set-secret-0123456789abcdef";

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// An HTTP receiver on 127.0.0.1 answering `status`; `down` stops it listening (connections are refused).
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    fn start(status: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (got, down, stop) = (Arc::default(), Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let r = Receiver { port, got, down, stop };
        let (got, down, stop) = (r.got.clone(), r.down.clone(), r.stop.clone());
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            while !stop.load(Ordering::Relaxed) {
                match (&listener, down.load(Ordering::Relaxed)) {
                    (Some(_), true) => listener = None,
                    (None, false) => listener = TcpListener::bind(("127.0.0.1", port)).ok(),
                    _ => {}
                }
                let Some(l) = &listener else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                l.set_nonblocking(true).unwrap();
                match l.accept() {
                    Ok((conn, _)) => {
                        if let Some(req) = serve(conn, status) {
                            got.lock().unwrap().push(req);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        r
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/events", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (at most 30 s) until `n` requests arrived.
    fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the receiver got {} of {n} events", self.received().len());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one HTTP/1.1 request and answers `status` with `Connection: close`.
fn serve(conn: TcpStream, status: u16) -> Option<Received> {
    conn.set_nonblocking(false).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let Request { headers, body, .. } = read_request(&mut reader)?;
    let mut conn = conn;
    write!(conn, "HTTP/1.1 {status} OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ok()?;
    Some(Received { headers, body })
}

/// A configuration whose default tenant sends to these receivers, retrying after 100 ms at first.
fn configure(dir: &TempDir, receivers: &[(&str, &str, &str)]) {
    // Unthrottled: the write load of the kill test outruns the default rate limit.
    let mut toml =
        String::from("[[tenant]]\nname = \"default\"\nrate_limit_per_second = 1000000\nrate_limit_burst = 1000000\n");
    for (url, format, secret) in receivers {
        toml.push_str(&format!(
            "[[tenant.events]]\nurl = \"{url}\"\nformat = \"{format}\"\nsecret = \"{secret}\"\nretry_initial_ms = 100\nretry_max_ms = 400\n"
        ));
    }
    std::fs::write(dir.0.join("scimkit.toml"), toml).unwrap();
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The webhook's JSON after checking its signature.
fn verified_webhook(r: &Received) -> Value {
    let signature = r.header("x-scimkit-signature").expect("a signature header");
    assert_eq!(signature, format!("sha256={}", hmac_hex(WEBHOOK_SECRET, &r.body)), "a valid HMAC-SHA256");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let event: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(r.header("x-scimkit-event-id"), event["eventId"].as_str());
    event
}

/// The SET's claims after verifying it as an HS256 JWT with the secret.
fn verified_set(r: &Received) -> Value {
    assert_eq!(r.header("content-type"), Some("application/secevent+jwt"));
    let token = std::str::from_utf8(&r.body).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let decode = |p: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap();
    let header: Value = serde_json::from_slice(&decode(parts[0])).unwrap();
    assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("HS256"), Some("secevent+jwt")));
    let mut mac = Hmac::<Sha256>::new_from_slice(SET_SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    mac.verify_slice(&decode(parts[2])).expect("the SET's signature verifies with the secret");
    serde_json::from_slice(&decode(parts[1])).unwrap()
}

fn operations(event: &Value) -> Vec<String> {
    event["operations"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_string()).collect()
}

#[test]
fn receivers_get_every_change_in_order_signed_as_webhooks_and_rfc_9967_sets() {
    let (webhook, set) = (Receiver::start(200), Receiver::start(202));
    let dir = TempDir::new("events-order");
    configure(&dir, &[(&webhook.url(), "webhook", WEBHOOK_SECRET), (&set.url(), "set", SET_SECRET)]);
    let s = Server::start_with_env(&dir.0, &[], &[("SCIMKIT_ADMIN_TOKEN", "admin-token")]);
    let user = json!({"userName": "ann@example.com", "password": "Secret-pw-1", "name": {"givenName": "Ann"}});
    let uid = s.post("/Users", &user).json()["id"].as_str().unwrap().to_string();
    s.post("/Users", &json!({"userName": "ann@example.com"})).assert_error(409, Some("uniqueness"));
    let rename =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "name.givenName", "value": "Anne"}]});
    assert_eq!(s.patch(&format!("/Users/{uid}"), &rename).status, 200);
    let deactivate =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(s.patch(&format!("/Users/{uid}"), &deactivate).status, 200);
    let gid = s.post("/Groups", &json!({"displayName": "Staff"})).json()["id"].as_str().unwrap().to_string();
    let join =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]});
    assert_eq!(s.patch(&format!("/Groups/{gid}"), &join).status, 204);
    assert_eq!(s.delete(&format!("/Users/{uid}")).status, 204);

    let expected: [(&str, &str, &[&str]); 6] = [
        ("User", &uid, &["create"]),
        ("User", &uid, &["patch"]),
        ("User", &uid, &["patch", "deactivated"]),
        ("Group", &gid, &["create"]),
        ("Group", &gid, &["patch", "members-added"]),
        ("User", &uid, &["delete"]),
    ];
    let hooks: Vec<Value> = webhook.wait_for(6).iter().map(verified_webhook).collect();
    let got: Vec<(&str, &str, Vec<String>)> =
        hooks.iter().map(|e| (e["resourceType"].as_str().unwrap(), e["id"].as_str().unwrap(), operations(e))).collect();
    let want: Vec<(&str, &str, Vec<String>)> =
        expected.iter().map(|(t, id, ops)| (*t, *id, ops.iter().map(|o| o.to_string()).collect())).collect();
    assert_eq!(got, want, "every change once, in order; none for the refused POST");
    assert_eq!(hooks[0]["after"]["name"]["givenName"], "Ann");
    assert_eq!(
        (hooks[1]["before"]["name"]["givenName"].as_str(), hooks[1]["after"]["name"]["givenName"].as_str()),
        (Some("Ann"), Some("Anne"))
    );
    assert_eq!(hooks[1]["paths"], json!(["name.givenName"]));
    assert_eq!(hooks[4]["membersAdded"], json!([uid]));
    assert!(hooks.iter().all(|e| !e.to_string().contains("Secret-pw-1") && e["after"].get("password").is_none()));
    let ids: HashSet<&str> = hooks.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 6, "each change has its own event id");

    let sets: Vec<Value> = set.wait_for(6).iter().map(verified_set).collect();
    for (claims, hook) in sets.iter().zip(&hooks) {
        assert_eq!(claims["jti"], hook["eventId"]);
        assert_eq!(claims["txn"], hook["eventId"]);
        assert_eq!(claims["aud"], set.url());
        assert_eq!(claims["iss"], s.base);
        assert!(claims["iat"].is_i64() && claims["toe"].is_i64(), "{claims}");
        assert_eq!(claims["sub_id"]["format"], "scim");
    }
    let uris = |c: &Value| c["events"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(uris(&sets[0]), ["urn:ietf:params:scim:event:prov:create:full"]);
    assert_eq!(sets[0]["sub_id"]["uri"], format!("/Users/{uid}"));
    assert_eq!(sets[0]["events"]["urn:ietf:params:scim:event:prov:create:full"]["data"]["userName"], "ann@example.com");
    assert_eq!(uris(&sets[1]), ["urn:ietf:params:scim:event:prov:patch:notice"]);
    assert_eq!(
        sets[1]["events"]["urn:ietf:params:scim:event:prov:patch:notice"]["attributes"],
        json!(["name.givenName"])
    );
    let mut deactivated = uris(&sets[2]);
    deactivated.sort();
    assert_eq!(
        deactivated,
        ["urn:ietf:params:scim:event:prov:deactivate", "urn:ietf:params:scim:event:prov:patch:notice"]
    );
    assert_eq!(sets[4]["sub_id"]["uri"], format!("/Groups/{gid}"));
    assert_eq!(uris(&sets[5]), ["urn:ietf:params:scim:event:prov:delete"]);

    let metrics = agent().get(&format!("{}/metrics", s.root())).call().unwrap().body_mut().read_to_string().unwrap();
    let line = format!("scimkit_events_delivered{{tenant=\"default\",receiver=\"{}\"}} 6", webhook.url());
    assert!(metrics.contains(&line), "{metrics}");
    let admin = raw(
        "GET",
        &format!("{}/admin/tenants/default", s.root()),
        &[("Authorization", "Bearer admin-token".into())],
        None,
    );
    let row = format!("<tr><td>{}</td><td>Webhook</td><td>6</td><td>0</td>", webhook.url());
    assert!(
        admin.status == 200 && admin.text.contains("Event receivers") && admin.text.contains(&row),
        "{}",
        admin.text
    );
}

#[test]
fn a_receiver_that_was_down_gets_everything_in_order_and_a_replay_sends_the_same_events_again() {
    let webhook = Receiver::start(200);
    webhook.down.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(100));
    let dir = TempDir::new("events-outage");
    configure(&dir, &[(&webhook.url(), "webhook", WEBHOOK_SECRET)]);
    let s = Server::start(&dir.0, &[]);
    let mut expected = Vec::new();
    for i in 0..10 {
        let id = s.post("/Users", &json!({"userName": format!("u{i}")})).json()["id"].as_str().unwrap().to_string();
        let rename =
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
        assert_eq!(s.patch(&format!("/Users/{id}"), &rename).status, 200);
        expected.push((id.clone(), "create".to_string()));
        expected.push((id, "patch".to_string()));
    }
    // Down for a few seconds: each attempt is refused and retried with backoff.
    std::thread::sleep(Duration::from_secs(3));
    assert!(webhook.received().is_empty());
    let metrics = agent().get(&format!("{}/metrics", s.root())).call().unwrap().body_mut().read_to_string().unwrap();
    let pending = format!("scimkit_events_pending{{tenant=\"default\",receiver=\"{}\"}} 20", webhook.url());
    assert!(metrics.contains(&pending), "{metrics}");
    webhook.down.store(false, Ordering::Relaxed);

    let events: Vec<Value> = webhook.wait_for(20).iter().map(verified_webhook).collect();
    let mut seen = HashSet::new();
    let unique: Vec<(String, String)> = events
        .iter()
        .filter(|e| seen.insert(e["eventId"].as_str().unwrap().to_string()))
        .map(|e| (e["id"].as_str().unwrap().to_string(), operations(e)[0].clone()))
        .collect();
    assert_eq!(unique, expected, "everything, in order, once de-duplicated by event id");

    let (ok, out, err) = cli(&dir.0, &["events", "list", "--tenant", "default", "--since", "18"], None);
    assert!(ok, "{err}");
    let listed: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(listed.len(), 2, "{out}");
    assert_eq!(listed[0]["sequence"], 19);
    assert_eq!(listed[1]["eventId"], events.last().unwrap()["eventId"]);

    let before = webhook.received().len();
    let (ok, _, err) = cli(&dir.0, &["events", "replay", "--tenant", "default", "--since", "18"], None);
    assert!(ok, "{err}");
    let again: Vec<Value> = webhook.wait_for(before + 2)[before..].iter().map(verified_webhook).collect();
    let ids = |v: &[Value]| v.iter().map(|e| e["eventId"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&events[18..]), "a replay sends the same events, same ids");
    let (ok, _, err) = cli(&dir.0, &["events", "replay", "--tenant", "nosuch"], None);
    assert!(!ok && err.contains("no tenant nosuch"), "{err}");
}

/// POST /Users that reports a failed connection instead of panicking: the server dies under it.
fn try_create(url: &str, name: &str) -> Option<(u16, String)> {
    let mut resp = agent()
        .post(url)
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .send(json!({"userName": name}).to_string())
        .ok()?;
    let text = resp.body_mut().read_to_string().ok()?;
    Some((resp.status().as_u16(), text))
}

#[test]
fn kill_9_during_writes_loses_no_event_of_an_acknowledged_write_and_journals_none_for_a_refused_one() {
    const WRITERS: usize = 3;
    let webhook = Receiver::start(200);
    let dir = TempDir::new("events-crash");
    configure(&dir, &[(&webhook.url(), "webhook", WEBHOOK_SECRET)]);
    let s = Server::start(&dir.0, &[]);
    let url = s.url("/Users");
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, stop, acked, refused) = (url.clone(), stop.clone(), acked.clone(), refused.clone());
            std::thread::spawn(move || {
                for i in 0..5_000 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // Every other request repeats the previous name: refused with 409.
                    let name = format!("w{w}-{}", i / 2);
                    match try_create(&url, &name) {
                        Some((201, text)) => {
                            let body: Value = serde_json::from_str(&text).unwrap();
                            acked.lock().unwrap().push(body["id"].as_str().unwrap().to_string());
                        }
                        Some((409, _)) => *refused.lock().unwrap() += 1,
                        Some((status, text)) => panic!("{name}: {status} {text}"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    s.stop();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("a writer panicked");
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty() && *refused.lock().unwrap() > 0, "the load wrote and was refused before the kill");

    let (ok, out, err) = cli(&dir.0, &["events", "list", "--tenant", "default"], None);
    assert!(ok, "{err}");
    let journal: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let created: Vec<&str> = journal.iter().map(|e| e["change"]["id"].as_str().unwrap()).collect();
    let names: HashSet<&str> = journal.iter().map(|e| e["change"]["after"]["userName"].as_str().unwrap()).collect();
    assert_eq!(names.len(), journal.len(), "no event for a refused (duplicate) create");
    let journaled: HashSet<&str> = created.iter().copied().collect();
    for id in &acked {
        assert!(journaled.contains(id.as_str()), "the acknowledged create of {id} has no event");
    }
    let s = Server::start(&dir.0, &[]);
    let stored = s.get("/Users?count=0").json()["totalResults"].as_u64().unwrap();
    assert_eq!(stored, journal.len() as u64, "exactly the committed creates are journaled");
    if !skip_on_postgres("reads the SQLite file") {
        let db = rusqlite::Connection::open(dir.0.join("scimkit.sqlite3")).unwrap();
        let ids: i64 = db.query_row("SELECT count(DISTINCT event_id) FROM events", [], |r| r.get(0)).unwrap();
        assert_eq!(ids as usize, journal.len());
    }
    // Delivery resumes after the restart, from the receiver's cursor: everything arrives at least once.
    let got: HashSet<String> = webhook
        .wait_for(journal.len())
        .iter()
        .map(|r| verified_webhook(r)["eventId"].as_str().unwrap().to_string())
        .collect();
    let all: HashSet<String> = journal.iter().map(|e| e["eventId"].as_str().unwrap().to_string()).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = got;
    while !all.is_subset(&got) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        got = webhook.received().iter().map(|r| verified_webhook(r)["eventId"].as_str().unwrap().to_string()).collect();
    }
    assert!(all.is_subset(&got), "{} of {} journaled events delivered", all.intersection(&got).count(), all.len());
}

/// Waits (at most 30 s) until `/metrics` says the receiver has every change.
fn wait_delivered(s: &Server, receiver: &str) {
    let line = format!("scimkit_events_pending{{tenant=\"default\",receiver=\"{receiver}\"}} 0");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let metrics =
            agent().get(&format!("{}/metrics", s.root())).call().unwrap().body_mut().read_to_string().unwrap();
        if metrics.contains(&line) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the receiver still has changes pending");
}

#[test]
fn retention_prunes_delivered_changes_past_the_tenant_limit_and_never_an_undelivered_one() {
    let webhook = Receiver::start(200);
    let dir = TempDir::new("events-retention");
    let toml = format!(
        "[[tenant]]\nname = \"default\"\nevents_max_rows = 3\n[[tenant.events]]\nurl = \"{}\"\nsecret = \"{WEBHOOK_SECRET}\"\nretry_initial_ms = 100\nretry_max_ms = 200\n",
        webhook.url()
    );
    std::fs::write(dir.0.join("scimkit.toml"), toml).unwrap();
    let s = Server::start(&dir.0, &[]);
    let create = |i: usize| assert_eq!(s.post("/Users", &json!({"userName": format!("u{i}")})).status, 201);
    let prune = || {
        let (ok, out, err) = cli(&dir.0, &["events", "prune", "--tenant", "default"], None);
        assert!(ok, "{err}");
        out.trim().to_string()
    };
    let journal = || {
        let (ok, out, err) = cli(&dir.0, &["events", "list", "--tenant", "default"], None);
        assert!(ok, "{err}");
        out.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["sequence"].as_i64().unwrap()).collect::<Vec<_>>()
    };

    (0..5).for_each(create);
    webhook.wait_for(5);
    wait_delivered(&s, &webhook.url());
    assert_eq!(prune(), "pruned 2 delivered changes");
    assert_eq!(journal(), [3, 4, 5]);

    // The receiver is down: four changes wait for it, more than the tenant keeps, and all stay.
    webhook.down.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(100));
    (5..9).for_each(create);
    assert_eq!(prune(), "pruned 3 delivered changes");
    assert_eq!(journal(), [6, 7, 8, 9]);

    webhook.down.store(false, Ordering::Relaxed);
    let names: Vec<String> = webhook.wait_for(9)[5..]
        .iter()
        .map(|r| verified_webhook(r)["after"]["userName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["u5", "u6", "u7", "u8"], "every change the receiver missed, in order");
    wait_delivered(&s, &webhook.url());
    assert_eq!(prune(), "pruned 1 delivered changes");
    assert_eq!(journal(), [7, 8, 9]);

    std::fs::write(dir.0.join("scimkit.toml"), "[[tenant]]\nname = \"default\"\nevents_max_rows = 0\n").unwrap();
    let (ok, _, err) = cli(&dir.0, &["events", "prune", "--tenant", "default"], None);
    assert!(!ok && err.contains("events_max_rows must be at least 1"), "{err}");
}
