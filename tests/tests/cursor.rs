//! Cursor paging (RFC 9865) end to end: a walk through 100,000 users while another client creates and
//! deletes users sees every user that exists throughout it exactly once, on SQLite and (with
//! `SCIMKIT_TEST_POSTGRES`) on PostgreSQL, where a walk begun on one server continues on another; changed and
//! foreign cursors are refused.

mod common;

use common::{cli, postgres, postgres_database, skip_part, Server, TempDir};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const SEEDED: usize = 100_000;

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Seeds `SEEDED` users through `scimkit import` (the server is not running: SQLite's bulk-load mode).
fn seed(data: &Path, database: &[&str]) {
    let file = data.with_extension("seed.jsonl");
    let lines: String = (0..SEEDED)
        .map(|i| json!({"schemas": [USER], "userName": format!("seed-{i:06}")}).to_string() + "\n")
        .collect();
    std::fs::write(&file, lines).unwrap();
    let mut args = vec!["import", file.to_str().unwrap()];
    args.extend_from_slice(database);
    let (ok, out, err) = cli(data, &args, None);
    assert!(ok, "import: {out}\n{err}");
}

/// What the other client did while the walk went on.
#[derive(Default)]
struct Writes {
    deleted: HashSet<String>,
    created: HashSet<String>,
}

/// Creates a user and deletes a seeded one (and every other user it created) in a loop until `stop`.
fn writer(server: Arc<Server>, stop: Arc<AtomicBool>, done: Arc<AtomicUsize>, writes: Arc<Mutex<Writes>>) {
    let mut n = 0usize;
    while !stop.load(Ordering::SeqCst) && n < 5_000 {
        let name = format!("new-{n:06}");
        let made = server.post("/Users", &json!({"schemas": [USER], "userName": name}));
        assert_eq!(made.status, 201, "{}", made.text);
        let made_id = made.json()["id"].as_str().unwrap().to_string();
        writes.lock().unwrap().created.insert(name.clone());
        // Seeded users spread over the whole id order, so some ahead of the walk and some behind it.
        let victim = format!("seed-{:06}", (n * 7919 + 13) % SEEDED);
        let found = server.get(&format!("/Users?filter=userName%20eq%20%22{victim}%22&attributes=id"));
        if let Some(id) = found.json()["Resources"][0]["id"].as_str() {
            let gone = server.delete(&format!("/Users/{id}"));
            assert!(gone.status == 204 || gone.status == 404, "{}", gone.text);
            writes.lock().unwrap().deleted.insert(victim);
        }
        if n % 2 == 1 {
            assert_eq!(server.delete(&format!("/Users/{made_id}")).status, 204);
            writes.lock().unwrap().deleted.insert(name);
        }
        n += 1;
        done.store(n, Ordering::SeqCst);
    }
}

/// Walks every user by cursor, 1,000 a page, through `servers` in turn, letting the writer make at least
/// one more change between pages. The userNames seen, in order.
fn walk(servers: &[&Server], done: &AtomicUsize) -> Vec<String> {
    let (mut seen, mut cursor, mut page_no) = (Vec::new(), String::new(), 0usize);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let server = servers[page_no % servers.len()];
        let resp = server.get(&format!("/Users?count=1000&attributes=userName&cursor={}", enc(&cursor)));
        assert_eq!(resp.status, 200, "page {page_no}: {}", resp.text);
        let page = resp.json();
        for r in page["Resources"].as_array().unwrap() {
            seen.push(r["userName"].as_str().unwrap().to_string());
        }
        page_no += 1;
        let before = done.load(Ordering::SeqCst);
        while done.load(Ordering::SeqCst) == before {
            assert!(Instant::now() < deadline, "the writer made no change for too long");
            std::thread::sleep(Duration::from_millis(1));
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return seen,
        }
    }
}

/// The walk over `servers` (all on one database) with a writer on the first; checks what it saw.
fn walk_while_writing(servers: Vec<Arc<Server>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let writes = Arc::new(Mutex::new(Writes::default()));
    let w = {
        let (server, stop, done, writes) = (servers[0].clone(), stop.clone(), done.clone(), writes.clone());
        std::thread::spawn(move || writer(server, stop, done, writes))
    };
    let refs: Vec<&Server> = servers.iter().map(|s| s.as_ref()).collect();
    let seen = walk(&refs, &done);
    stop.store(true, Ordering::SeqCst);
    w.join().unwrap();
    let writes = writes.lock().unwrap();
    assert!(writes.deleted.len() >= 100 && writes.created.len() >= 100, "the writer changed too little to tell");
    let mut times: HashMap<&str, usize> = HashMap::new();
    for name in &seen {
        *times.entry(name.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "seen more than once: {twice:?}");
    let missed: Vec<String> = (0..SEEDED)
        .map(|i| format!("seed-{i:06}"))
        .filter(|n| !writes.deleted.contains(n) && !times.contains_key(n.as_str()))
        .collect();
    assert!(
        missed.is_empty(),
        "{} users that existed throughout were not seen: {:?}",
        missed.len(),
        &missed[..10.min(missed.len())]
    );
    assert!(seen.iter().all(|n| n.starts_with("seed-") || writes.created.contains(n)), "a user nobody made");
}

#[test]
fn a_cursor_walk_through_100000_users_sees_each_lasting_user_once_while_others_write_sqlite() {
    if common::skip_on_postgres("the PostgreSQL variant is the test below") {
        return;
    }
    let dir = TempDir::new("cursor_walk");
    let data = dir.0.join("data");
    seed(&data, &[]);
    walk_while_writing(vec![Arc::new(Server::start(&data, &[]))]);
}

#[test]
fn a_cursor_walk_through_100000_users_continues_across_servers_while_others_write_postgres() {
    if skip_part("postgres", postgres().is_some(), "SCIMKIT_TEST_POSTGRES is not set (tests/run.sh starts a server)") {
        return;
    }
    let dir = TempDir::new("cursor_walk_pg");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let db = postgres_database(&format!("cursor_walk_{}_{nanos}", std::process::id()));
    seed(&dir.0.join("a"), &["--database", &db]);
    let start =
        |name: &str| Arc::new(Server::start_with_env(&dir.0.join(name), &[], &[("SCIMKIT_DATABASE", db.as_str())]));
    // Two processes on one database: each page from the other, so each checks the other's cursors.
    walk_while_writing(vec![start("a"), start("b")]);
}

#[test]
fn a_changed_or_foreign_cursor_is_refused_and_startindex_with_cursor_too() {
    let dir = TempDir::new("cursor_errors");
    let (a, b) = (Server::start(&dir.0.join("a"), &[]), Server::start(&dir.0.join("b"), &[]));
    for i in 0..3 {
        assert_eq!(a.post("/Users", &json!({"schemas": [USER], "userName": format!("u{i}")})).status, 201);
    }
    let spc = a.get("/ServiceProviderConfig").json();
    assert_eq!((spc["pagination"]["cursor"].as_bool(), spc["pagination"]["index"].as_bool()), (Some(true), Some(true)));
    let first = a.get("/Users?cursor=&count=2").json();
    assert_eq!(first["totalResults"], 3);
    let next = first["nextCursor"].as_str().unwrap().to_string();
    let last = a.get(&format!("/Users?cursor={}&count=2", enc(&next))).json();
    assert_eq!((last["itemsPerPage"].as_u64(), last.get("nextCursor")), (Some(1), None::<&Value>));
    let mut altered = next.clone().into_bytes();
    altered[1] ^= 1;
    a.get(&format!("/Users?cursor={}&count=2", enc(&String::from_utf8(altered).unwrap())))
        .assert_error(400, Some("invalidCursor"));
    // Another data directory: another tenant database, another key.
    b.get(&format!("/Users?cursor={}&count=2", enc(&next))).assert_error(400, Some("invalidCursor"));
    a.get(&format!("/Users?cursor={}&count=2&filter=userName%20pr", enc(&next)))
        .assert_error(400, Some("invalidCursor"));
    a.get(&format!("/Users?cursor={}&startIndex=2", enc(&next))).assert_error(400, Some("invalidValue"));
    let searched = a.post(
        "/Users/.search",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "cursor": next, "count": 2}),
    );
    assert_eq!(searched.json()["Resources"], last["Resources"], "{}", searched.text);
}
