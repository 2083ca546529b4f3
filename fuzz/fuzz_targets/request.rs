//! Whole requests through the engine over the in-memory store. The first byte picks the route, the rest is
//! the body (the query string for the list route). Whatever the input: no panic, a known status, an
//! RFC 7644 error body for every error, header values without line breaks, and anything the engine stored
//! reads back.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use scimkit_guest::http::{Request, Response};
use scimkit_guest::store::memory::MemoryStore;
use scimkit_guest::Engine;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Method and path; `{user}` and `{group}` stand for resources created before each input.
const ROUTES: [(&str, &str); 11] = [
    ("POST", "/Users"),
    ("PUT", "/Users/{user}"),
    ("POST", "/Groups"),
    ("PUT", "/Groups/{group}"),
    ("POST", "/.search"),
    ("POST", "/Users/.search"),
    ("PATCH", "/Users/{user}"),
    ("PATCH", "/Groups/{group}"),
    ("POST", "/Bulk"),
    ("GET", "/Users"),
    ("DELETE", "/Groups/{group}"),
];

const KNOWN: [u16; 17] = [200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 500, 501, 503, 507];

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(r#"{"baseUrl":"https://example.com/scim/v2"}"#).expect("configuration"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("a valid instant")
}

fn send(store: &mut MemoryStore, method: &str, path: &str, query: &str, body: Option<Vec<u8>>) -> Response {
    let req = Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("Content-Type".into(), "application/scim+json".into())],
        body,
    };
    let resp = engine().handle(store, now(), None, &req);
    check(method, path, &resp);
    resp
}

fn check(method: &str, path: &str, resp: &Response) {
    let status = resp.status;
    assert!(KNOWN.contains(&status), "{method} {path}: unknown status {status}");
    // The in-memory store never fails, so a 500 is the engine's own fault.
    assert_ne!(status, 500, "{method} {path}: {}", String::from_utf8_lossy(&resp.body));
    for (k, v) in &resp.headers {
        assert!(!k.contains(['\r', '\n']) && !v.contains(['\r', '\n']), "{method} {path}: header {k}: {v:?}");
    }
    if status >= 400 {
        let body: Value = serde_json::from_slice(&resp.body).expect("an error body is JSON");
        assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{body}");
        assert_eq!(body["status"], json!(status.to_string()), "{body}");
        assert!(body["detail"].is_string(), "{body}");
    } else if !resp.body.is_empty() {
        serde_json::from_slice::<Value>(&resp.body).expect("a success body is JSON");
    }
}

fn id_of(resp: &Response) -> String {
    let body: Value = serde_json::from_slice(&resp.body).expect("JSON");
    body["id"].as_str().expect("an id").to_string()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let mut store = MemoryStore::new();
    let user = send(&mut store, "POST", "/Users", "", Some(br#"{"userName":"bjensen","emails":[{"value":"b@example.com","primary":true}]}"#.to_vec()));
    let user = id_of(&user);
    let group = format!(r#"{{"displayName":"staff","members":[{{"value":"{user}"}}]}}"#);
    let group = id_of(&send(&mut store, "POST", "/Groups", "", Some(group.into_bytes())));

    let (method, template) = ROUTES[usize::from(pick) % ROUTES.len()];
    let path = template.replace("{user}", &user).replace("{group}", &group);
    let resp = if method == "GET" {
        send(&mut store, method, &path, &String::from_utf8_lossy(rest), None)
    } else {
        send(&mut store, method, &path, "", Some(rest.to_vec()))
    };
    // What was stored must read back: a written resource that cannot be rendered would fail every later read.
    if matches!(resp.status, 200 | 201) && matches!(method, "POST" | "PUT" | "PATCH") && !path.ends_with(".search") && path != "/Bulk" {
        let written = if method == "POST" { format!("{path}/{}", id_of(&resp)) } else { path };
        assert_eq!(send(&mut store, "GET", &written, "", None).status, 200, "{written}");
    }
    send(&mut store, "GET", "/Users", "", None);
    send(&mut store, "GET", "/Groups", "", None);
});
