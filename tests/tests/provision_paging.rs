//! `scimkit provision --delete-missing` against a small SCIM target on 127.0.0.1 that pages its lists only by
//! RFC 9865 cursor (refusing `startIndex` with 400), or only by index (refusing `cursor`), 50 Users a page at
//! most: the client reconciles across several pages, creating, replacing and deleting exactly what differs; a
//! target that gives the same cursor twice fails the run before anything is deleted.

mod common;

use common::http1::{read_request, Request};
use common::{binary, TempDir};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The target's largest page, whatever `count` asks.
const MAX_PAGE: usize = 50;

#[derive(Clone, Copy, PartialEq)]
enum Paging {
    /// Announces `pagination.cursor` and pages only by cursor.
    CursorOnly,
    /// Announces nothing of RFC 9865 and pages only by index.
    IndexOnly,
    /// Cursor only, but every `nextCursor` is the same: a walk that would never end.
    RepeatedCursor,
}

struct State {
    paging: Paging,
    /// By id, which is also the listing order (the cursor is the last id of the page).
    users: BTreeMap<String, Value>,
    next_id: u64,
    /// Every request: "METHOD /path?query".
    log: Vec<String>,
}

impl State {
    fn add(&mut self, mut user: Value) -> Value {
        self.next_id += 1;
        let id = format!("{:06}", self.next_id);
        user["id"] = json!(id);
        self.users.insert(id, user.clone());
        user
    }

    fn user_names(&self) -> BTreeMap<String, String> {
        let text = |u: &Value, k: &str| u[k].as_str().unwrap_or("").to_string();
        self.users.values().map(|u| (text(u, "userName"), text(u, "title"))).collect()
    }
}

struct Target {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Target {
    fn start(paging: Paging) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}/scim/v2", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(State { paging, users: BTreeMap::new(), next_id: 0, log: vec![] }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(conn, &state));
            }
        });
        Target { base, state }
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

/// Answers the requests of one connection until the client closes it.
fn serve(conn: TcpStream, state: &Mutex<State>) {
    conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let Some(Request { method, target, body, .. }) = read_request(&mut reader) else {
            return;
        };
        let body: Value = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap() };
        let (status, reply) = answer(&mut state.lock().unwrap(), &method, &target, body);
        let text = if reply.is_null() { String::new() } else { reply.to_string() };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n",
            text.len()
        );
        if out.write_all(head.as_bytes()).and_then(|_| out.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}

fn error(status: u16, scim_type: &str, detail: &str) -> (u16, Value) {
    let schemas = ["urn:ietf:params:scim:api:messages:2.0:Error"];
    (status, json!({"schemas": schemas, "status": status.to_string(), "scimType": scim_type, "detail": detail}))
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn answer(s: &mut State, method: &str, target: &str, body: Value) -> (u16, Value) {
    s.log.push(format!("{method} {target}"));
    let target = target.strip_prefix("/scim/v2").unwrap_or(target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (k.to_string(), decode(v)))
        .collect();
    let cursor_paging = s.paging != Paging::IndexOnly;
    match (method, path) {
        ("GET", "/ServiceProviderConfig") => (
            200,
            json!({"patch": {"supported": false}, "pagination": {"cursor": cursor_paging, "index": !cursor_paging,
                "defaultPaginationMethod": if cursor_paging { "cursor" } else { "index" }, "maxPageSize": MAX_PAGE}}),
        ),
        ("GET", "/Users") => list(s, &params),
        ("POST", "/Users") => {
            let name = body["userName"].as_str().unwrap_or("").to_lowercase();
            if s.users.values().any(|u| u["userName"].as_str().unwrap_or("").to_lowercase() == name) {
                return error(409, "uniqueness", "userName is taken");
            }
            (201, s.add(body))
        }
        ("PUT", p) if p.starts_with("/Users/") => {
            let id = &p["/Users/".len()..];
            match s.users.get_mut(id) {
                Some(stored) => {
                    let mut user = body;
                    user["id"] = json!(id);
                    *stored = user.clone();
                    (200, user)
                }
                None => error(404, "", "no such User"),
            }
        }
        ("DELETE", p) if p.starts_with("/Users/") => match s.users.remove(&p["/Users/".len()..]) {
            Some(_) => (204, Value::Null),
            None => error(404, "", "no such User"),
        },
        _ => error(404, "", "no such endpoint"),
    }
}

/// A list page: a `filter` of `userName eq "…"` (what the client searches by), by cursor or by index.
fn list(s: &State, params: &BTreeMap<String, String>) -> (u16, Value) {
    let cursor_paging = s.paging != Paging::IndexOnly;
    if cursor_paging && params.contains_key("startIndex") {
        return error(400, "invalidValue", "this target pages by cursor only");
    }
    if !cursor_paging && params.contains_key("cursor") {
        return error(400, "invalidValue", "this target pages by index only");
    }
    let wanted = params.get("filter").map(|f| {
        let value = f.strip_prefix("userName eq \"").and_then(|v| v.strip_suffix('"'));
        value.expect("the client filters by userName").to_lowercase()
    });
    let matching: Vec<&Value> = s
        .users
        .values()
        .filter(|u| wanted.as_ref().is_none_or(|w| u["userName"].as_str().unwrap().to_lowercase() == *w))
        .collect();
    let count = params.get("count").map_or(MAX_PAGE, |c| c.parse::<usize>().unwrap().min(MAX_PAGE));
    let total = matching.len();
    let (skip, mut page) = match params.get("cursor") {
        Some(c) if !c.is_empty() => match c.strip_prefix("after-").and_then(|id| s.users.get(id)) {
            Some(last) => (matching.iter().position(|u| u["id"] == last["id"]).unwrap() + 1, json!({})),
            None => return error(400, "invalidCursor", "unknown cursor"),
        },
        _ if cursor_paging => (0, json!({})),
        _ => {
            let start = params.get("startIndex").map_or(1, |i| i.parse::<usize>().unwrap().max(1));
            (start - 1, json!({"startIndex": start}))
        }
    };
    let items: Vec<Value> = matching.iter().skip(skip).take(count).map(|u| (*u).clone()).collect();
    if cursor_paging && skip + items.len() < total {
        let next = match s.paging {
            Paging::RepeatedCursor => format!("after-{}", matching[0]["id"].as_str().unwrap()),
            _ => format!("after-{}", items.last().unwrap()["id"].as_str().unwrap()),
        };
        page["nextCursor"] = json!(next);
    }
    page["schemas"] = json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
    page["totalResults"] = json!(total);
    page["itemsPerPage"] = json!(items.len());
    page["Resources"] = json!(items);
    (200, page)
}

fn person(i: usize, title: &str) -> Value {
    json!({"uid": format!("p{i:03}"), "cn": format!("Person {i}"), "title": title})
}

/// Runs `scimkit provision --delete-missing` (killed after two minutes); returns (success, summary).
fn provision(target: &Target, principals: &[Value]) -> (bool, Value) {
    let dir = TempDir::new("prov-paging");
    let (mapping, from) = (dir.0.join("mapping.json"), dir.0.join("people.json"));
    let rules = [["userName", "uid"], ["displayName", "cn"], ["title", "title"]];
    let attributes: Vec<Value> = rules.iter().map(|[t, f]| json!({"target": t, "from": f})).collect();
    std::fs::write(&mapping, json!({ "attributes": attributes }).to_string()).unwrap();
    std::fs::write(&from, Value::from(principals.to_vec()).to_string()).unwrap();
    let mut child = Command::new(binary())
        .args(["provision", "--json", "--delete-missing", "--timeout", "20", "--token", "t", "--target", &target.base])
        .arg("--mapping")
        .arg(&mapping)
        .arg("--from")
        .arg(&from)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.0.join("out")).unwrap())
        .stderr(std::fs::File::create(dir.0.join("err")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("provision took longer than two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = std::fs::read_to_string(dir.0.join("out")).unwrap();
    let err = std::fs::read_to_string(dir.0.join("err")).unwrap();
    let summary = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (status.success(), summary)
}

/// The target holds p000..p129, titled "old"; the directory says p000..p099 (every tenth retitled "new") and
/// p200..p209. One run creates 10, replaces 10, deletes 30, over list pages of at most 50; a second run writes
/// nothing.
fn reconciles_across_pages(paging: Paging) {
    let target = Target::start(paging);
    for i in 0..130 {
        target.state.lock().unwrap().add(json!({"userName": format!("p{i:03}"), "title": "old"}));
    }
    let title = |i: usize| if i.is_multiple_of(10) && i < 100 { "new" } else { "old" };
    let principals: Vec<Value> = (0..100).chain(200..210).map(|i| person(i, title(i))).collect();
    // displayName differs everywhere at first: give the seeded Users theirs, so only titles differ.
    for u in target.state.lock().unwrap().users.values_mut() {
        let i: usize = u["userName"].as_str().unwrap()[1..].parse().unwrap();
        u["displayName"] = json!(format!("Person {i}"));
    }

    let (ok, first) = provision(&target, &principals);
    assert!(ok, "{first}");
    let counts = ["created", "updated", "unchanged", "deleted", "failed"].map(|k| first[k].as_u64().unwrap());
    assert_eq!(counts, [10, 10, 90, 30, 0], "{first}");
    let expected: BTreeMap<String, String> =
        (0..100).chain(200..210).map(|i| (format!("p{i:03}"), title(i).to_string())).collect();
    assert_eq!(target.state.lock().unwrap().user_names(), expected);

    let log = target.log();
    let lists: Vec<&String> =
        log.iter().filter(|l| l.starts_with("GET /scim/v2/Users?") && !l.contains("filter=")).collect();
    // 140 Users when the walk starts (130 seeded, 10 created), 50 a page.
    assert_eq!(lists.len(), 3, "{lists:#?}");
    if paging == Paging::CursorOnly {
        // Pages of the target's maxPageSize; the first asks for cursor paging by an empty cursor.
        assert!(lists[0].ends_with("&count=50&cursor="), "{}", lists[0]);
        assert!(lists[1].ends_with("&cursor=after-000050"), "{}", lists[1]);
        assert!(lists[2].ends_with("&cursor=after-000100"), "{}", lists[2]);
        assert!(log.iter().all(|l| !l.contains("startIndex")), "{log:#?}");
    } else {
        let starts: Vec<bool> = ["startIndex=1", "startIndex=51", "startIndex=101"]
            .iter()
            .zip(&lists)
            .map(|(s, l)| l.ends_with(s))
            .collect();
        assert_eq!(starts, [true; 3], "{lists:#?}");
        assert!(log.iter().all(|l| !l.contains("cursor")), "{log:#?}");
    }

    target.state.lock().unwrap().log.clear();
    let (ok, second) = provision(&target, &principals);
    assert!(ok, "{second}");
    assert_eq!(
        (second["unchanged"].as_u64(), second["deleted"].as_u64(), second["writes"].as_u64()),
        (Some(110), Some(0), Some(0)),
        "{second}"
    );
}

#[test]
fn provision_reconciles_against_a_target_that_pages_only_by_cursor() {
    reconciles_across_pages(Paging::CursorOnly);
}

#[test]
fn provision_reconciles_against_a_target_that_pages_only_by_index() {
    reconciles_across_pages(Paging::IndexOnly);
}

#[test]
fn a_repeated_cursor_fails_the_run_before_any_delete() {
    let target = Target::start(Paging::RepeatedCursor);
    for i in 0..120 {
        target.state.lock().unwrap().add(json!({"userName": format!("p{i:03}"), "title": "old"}));
    }
    let (ok, summary) = provision(&target, &[person(0, "old")]);
    assert!(!ok, "{summary}");
    let error = summary["deleteMissingError"].as_str().unwrap();
    assert!(error.contains("gave the cursor \"after-000001\" again"), "{summary}");
    assert_eq!(summary["deleted"], 0, "{summary}");
    assert!(target.log().iter().all(|l| !l.starts_with("DELETE")), "{:#?}", target.log());
    assert_eq!(target.state.lock().unwrap().users.len(), 120);
}
