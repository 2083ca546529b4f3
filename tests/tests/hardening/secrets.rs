//! Secrets stay secret and request text stays data: tokens never reach logs or responses, dot segments do
//! not escape the SCIM base, and line breaks never reach a response header.

use crate::common::{raw, Server, TempDir, TOKEN};
use crate::{user, wire};

#[test]
fn tokens_never_appear_in_logs_or_responses() {
    let dir = TempDir::new("secrets");
    let s = Server::start_with_env(&dir.0, &[], &[("RUST_LOG", "debug")]);
    let wrong = "wrong-secret-7f3a9c";
    let url = s.url("/Users");
    let mut texts = vec![];
    for auth in [
        format!("Bearer {wrong}"),
        format!("Basic {wrong}"),
        format!("Bearer {TOKEN}"),
        format!("Bearer {TOKEN} {wrong}"),
    ] {
        let r = raw("GET", &url, &[("Authorization", auth)], None);
        texts.push(format!("{:?} {}", r.headers, r.text));
    }
    // A request the engine fails and logs.
    let r = s.send("POST", "/Users", &[], Some("{".into()));
    texts.push(r.text);
    let created = s.post("/Users", &user("secretive"));
    texts.push(format!("{:?} {}", created.headers, created.text));
    let log = s.stop();
    for secret in [TOKEN, wrong] {
        assert!(!log.contains(secret), "the log shows {secret}:\n{log}");
        for t in &texts {
            assert!(!t.contains(secret), "a response shows {secret}: {t}");
        }
    }
    assert!(!dir.0.join("token.sha256").exists(), "a token from the environment is not written to disk");
}

#[test]
fn dot_segments_do_not_leave_the_scim_base() {
    let dir = TempDir::new("traversal");
    let s = Server::start(&dir.0, &[]);
    for target in [
        "/scim/v2/../../etc/passwd",
        "/scim/v2/%2e%2e/%2e%2e/etc/passwd",
        "/scim/v2/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/scim/v2/Users/..%2f..%2f..%2fetc%2fpasswd",
        "/scim/v2/Users/../../../etc/passwd",
        "/scim/v2/Users/%2e%2e",
        "/scim/v2/..%5c..%5cetc%5cpasswd",
    ] {
        let r = wire::get_raw(s.port, target);
        assert!(matches!(r.status, 400 | 404), "{target}: {} {}", r.status, r.body);
        assert!(!r.body.contains("root:"), "{target}: {}", r.body);
        if r.status == 404 {
            let body: serde_json::Value =
                serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{target}: {e}: {}", r.body));
            assert_eq!(body["status"], "404", "{target}");
        }
    }
}

#[test]
fn line_breaks_never_reach_a_response_header() {
    let dir = TempDir::new("headers");
    let s = Server::start(&dir.0, &[]);
    // Encoded CR LF in the id: the id is data, not a header.
    for target in ["/scim/v2/Users/x%0d%0aSet-Cookie:%20a=b", "/scim/v2/Users%0d%0aX-Injected:%201"] {
        let r = wire::get_raw(s.port, target);
        assert_eq!(r.status, 404, "{target}: {}", r.body);
        assert!(r.headers.iter().all(|(k, _)| k != "set-cookie" && k != "x-injected"), "{target}: {:?}", r.headers);
    }
    // Raw CR LF in the request line is not HTTP: refused before the engine.
    let r = wire::get_raw(s.port, "/scim/v2/Users/x\r\nX-Injected: 1");
    assert!(r.headers.iter().all(|(k, _)| k != "x-injected"), "{:?}", r.headers);
    assert_ne!(r.status, 200);
    // A value with line breaks is stored as data and comes back JSON-escaped; no header carries it.
    let mut body = user("line\r\nX-Injected: 1");
    body["externalId"] = serde_json::json!("e\r\nSet-Cookie: a=b");
    let created = s.post("/Users", &body);
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.headers.iter().all(|(k, v)| {
        !k.eq_ignore_ascii_case("x-injected") && !k.eq_ignore_ascii_case("set-cookie") && !v.contains('\n')
    }));
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert!(created.header("location").unwrap().ends_with(&format!("/Users/{id}")));
    assert!(!id.contains(['\r', '\n']));
}
