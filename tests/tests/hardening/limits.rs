//! Pathological inputs through `scimkit serve`: each gets a 4xx SCIM error quickly, and the server keeps
//! serving. The time bounds are safety nets against hangs, not benchmarks.

use crate::common::{Server, TempDir};
use crate::{user, wire};
use serde_json::json;
use std::time::{Duration, Instant};

const QUICK: Duration = Duration::from_secs(10);

fn still_serves(s: &mut Server, name: &str) {
    assert!(s.alive(), "the server exited");
    let r = s.post("/Users", &user(name));
    assert_eq!(r.status, 201, "{}", r.text);
}

#[test]
fn json_nested_100000_deep_is_invalid_syntax() {
    let dir = TempDir::new("deep-json");
    let mut s = Server::start(&dir.0, &[]);
    let started = Instant::now();
    for open in ["[", "{\"a\":"] {
        let close = if open == "[" { "]" } else { "}" };
        let body = format!("{}{}", open.repeat(100_000), close.repeat(100_000));
        for path in ["/Users", "/Users/.search"] {
            s.send("POST", path, &[], Some(body.clone())).assert_error(400, Some("invalidSyntax"));
        }
    }
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    assert!(!s.log().contains("trapped"), "{}", s.log());
    still_serves(&mut s, "after-deep");
}

#[test]
fn a_50_mb_body_is_413_before_it_is_read() {
    let dir = TempDir::new("big-body");
    let mut s = Server::start(&dir.0, &[]);
    let started = Instant::now();
    let r = wire::post_huge(s.port, "/Users", 50 << 20);
    assert_eq!(r.status, 413, "{}", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).expect("a SCIM error body");
    assert_eq!(body["status"], "413");
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    still_serves(&mut s, "after-big");
}

/// A body over the limit is read to its end before the 413 is sent: a client that sends all of its body before
/// reading the answer, as most do, gets the 413 rather than a connection reset while it writes.
#[test]
fn a_body_over_the_limit_is_answered_413_once_sent() {
    use std::io::{Read, Write};
    let dir = TempDir::new("drained-body");
    let mut s = Server::start(&dir.0, &[]);
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    conn.set_write_timeout(Some(QUICK)).unwrap();
    conn.set_read_timeout(Some(QUICK)).unwrap();
    let len = 4 << 20;
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: {len}\r\n\r\n",
        crate::common::TOKEN
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&vec![b' '; len]).expect("the whole body is taken in");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("the answer arrives");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"status\":\"413\""), "{answer}");
    still_serves(&mut s, "after-drained");
}

/// Credentials are checked before the body is read: a client without them that declares a large body gets its
/// 401 at once, without sending a byte of it (the server neither waits for nor holds a body from anyone).
#[test]
fn a_request_without_credentials_is_401_before_its_body_is_read() {
    use std::io::{Read, Write};
    let dir = TempDir::new("auth-first");
    let mut s = Server::start(&dir.0, &[]);
    for authorization in ["", "Authorization: Bearer not-the-token\r\n", "Authorization: Basic eDp5\r\n"] {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        conn.set_read_timeout(Some(QUICK)).unwrap();
        let head = format!(
            "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n{authorization}Content-Type: application/scim+json\r\nContent-Length: 900000\r\n\r\n"
        );
        conn.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        let read = conn.read_to_string(&mut answer);
        assert!(read.is_ok(), "no answer before the body ({authorization:?}): {read:?} {answer}");
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("www-authenticate: bearer"), "{answer}");
        assert!(answer.contains("\"status\":\"401\""), "{answer}");
    }
    still_serves(&mut s, "after-auth-first");
}

#[test]
fn a_filter_of_10000_or_terms_is_invalid_filter() {
    let dir = TempDir::new("or-filter");
    let mut s = Server::start(&dir.0, &[]);
    let started = Instant::now();
    let filter = vec!["userName eq \"a\""; 10_000].join(" or ");
    s.post("/Users/.search", &json!({"filter": filter})).assert_error(400, Some("invalidFilter"));
    s.post("/.search", &json!({"filter": filter})).assert_error(400, Some("invalidFilter"));
    // In the query string, up to what the HTTP layer accepts in a request line.
    let short = vec!["userName pr"; 1_000].join(" or ");
    let query = short.replace(' ', "%20");
    s.get(&format!("/Users?filter={query}")).assert_error(400, Some("invalidFilter"));
    let deep = format!("{}userName pr{}", "(".repeat(40), ")".repeat(40));
    s.post("/Users/.search", &json!({"filter": deep})).assert_error(400, Some("invalidFilter"));
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    still_serves(&mut s, "after-filter");
}

#[test]
fn a_million_element_array_is_refused() {
    let dir = TempDir::new("million");
    // Within the default body limit the array cannot even arrive: 413.
    let mut s = Server::start(&dir.0, &[]);
    let started = Instant::now();
    let array = format!("[{}0]", "0,".repeat(999_999));
    let body = format!("{{\"userName\":\"m\",\"emails\":{array}}}");
    // The server may answer and close before the whole body is sent: read the answer on the raw socket.
    let r = wire::post_body(s.port, "/Users", body.clone().into_bytes());
    assert_eq!(r.status, 413, "{}", r.body);
    still_serves(&mut s, "after-million");
    drop(s);
    // With room for the body, the multi-valued limit refuses it before looking at any value.
    let dir = TempDir::new("million-roomy");
    let mut s = Server::start(&dir.0, &["--max-body-bytes", "8000000"]);
    s.send("POST", "/Users", &[], Some(body)).assert_error(400, Some("invalidValue"));
    let members = format!("{{\"displayName\":\"g\",\"members\":{array}}}");
    s.send("POST", "/Groups", &[], Some(members)).assert_error(400, Some("invalidValue"));
    assert!(started.elapsed() < 2 * QUICK, "took {:?}", started.elapsed());
    still_serves(&mut s, "after-million-roomy");
}

#[test]
fn count_is_capped_and_absurd_paging_is_harmless() {
    let dir = TempDir::new("count");
    let s = Server::start(&dir.0, &[]);
    s.post("/Users", &user("one")).json();
    let max = s.get("/ServiceProviderConfig").json()["filter"]["maxResults"].as_u64().unwrap();
    let page = s.get("/Users?count=4294967296&startIndex=-5").json();
    assert_eq!(page["totalResults"], 1);
    assert!(page["itemsPerPage"].as_u64().unwrap() <= max);
    assert_eq!(s.get("/Users?startIndex=4294967295").json()["itemsPerPage"], 0);
    s.get("/Users?count=99999999999999999999").assert_error(400, None);
}

#[test]
fn a_request_past_the_deadline_is_503_and_the_server_keeps_serving() {
    let dir = TempDir::new("deadline");
    let mut s = Server::start(&dir.0, &["--request-timeout-ms", "20", "--max-body-bytes", "64000000"]);
    // 60 MB of JSON whitespace: copying and scanning it takes the engine far longer than 20 ms.
    let body = format!("{}{}", " ".repeat(60_000_000), json!({"userName": "slow"}));
    let started = Instant::now();
    s.send("POST", "/Users", &[], Some(body)).assert_error(503, None);
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    assert!(s.log().contains("interrupt"), "{}", s.log());
    // A loaded machine may stall a small request past 20 ms too: allow a retry or two.
    let ok = (0..3).any(|i| s.post("/Users", &user(&format!("quick{i}"))).status == 201);
    assert!(ok, "{}", s.log());
    assert!(s.alive());
}
