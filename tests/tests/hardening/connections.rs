//! The server's connections: clients that send a head or a body slowly, or stay idle, are cut off after their
//! timeout, and the connection limit holds without starving the connections already open.

use crate::common::{raw, Server, TempDir, TOKEN};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A server whose `scimkit.toml` holds `config`.
fn serve(tag: &str, config: &str) -> (TempDir, Server) {
    let dir = TempDir::new(tag);
    std::fs::write(dir.0.join("scimkit.toml"), config).unwrap();
    let server = Server::start(&dir.0, &[]);
    (dir, server)
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connecting");
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// What the server sends until it closes the connection, or an error when it has not closed it `within`.
fn read_until_closed(s: &mut TcpStream, within: Duration) -> Result<String, String> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Ok(String::from_utf8_lossy(&out).into_owned()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(String::from_utf8_lossy(&out).into_owned()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!("still open after {within:?}; received {:?}", String::from_utf8_lossy(&out)))
            }
            Err(e) => return Err(format!("reading: {e}")),
        }
    }
}

/// Reads one response to `GET /healthz` (its body is `ok`), leaving the connection open.
fn read_healthz(s: &mut TcpStream, within: Duration) -> Result<String, String> {
    s.set_read_timeout(Some(within)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&out).ends_with("\r\n\r\nok") {
        match s.read(&mut buf) {
            Ok(0) => return Err(format!("closed; received {:?}", String::from_utf8_lossy(&out))),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("no answer: {e}")),
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[test]
fn half_sent_heads_neither_block_healthz_nor_outlive_the_header_timeout() {
    // Idle connections are given ten minutes: only the header timeout may close these.
    let (_dir, server) =
        serve("slow-heads", "header_read_timeout_ms = 8000\nidle_timeout_ms = 600000\nbody_read_timeout_ms = 600000\n");
    let mut slow: Vec<TcpStream> = (0..130)
        .map(|_| {
            let mut s = connect(server.port);
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ").unwrap();
            s
        })
        .collect();
    let r = raw("GET", &format!("{}/healthz", server.root()), &[], None);
    assert_eq!((r.status, r.text.as_str()), (200, "ok"));
    // Answered while they were still open (a server that answers only once it has dropped them is not live).
    slow[129].set_nonblocking(true).unwrap();
    let still_open = matches!(slow[129].read(&mut [0u8; 1]), Err(e) if e.kind() == ErrorKind::WouldBlock);
    slow[129].set_nonblocking(false).unwrap();
    assert!(still_open, "the slow connections were closed before /healthz answered: raise the timeout");
    for (i, s) in slow.iter_mut().enumerate() {
        let sent = read_until_closed(s, Duration::from_secs(30)).unwrap_or_else(|e| panic!("connection {i}: {e}"));
        assert!(!sent.contains(" 200 "), "connection {i} was answered: {sent}");
    }
    assert_eq!(raw("GET", &format!("{}/healthz", server.root()), &[], None).status, 200);
}

#[test]
fn a_body_that_stops_half_way_is_answered_408_and_closed() {
    let (_dir, server) = serve("slow-body", "body_read_timeout_ms = 1500\n");
    let mut s = connect(server.port);
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: 200\r\n\r\n{{\"userName\": \"half"
    );
    s.write_all(head.as_bytes()).unwrap();
    let reply = read_until_closed(&mut s, Duration::from_secs(30)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 408 "), "{reply}");
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {reply}"));
    assert_eq!(error["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{error}");
    assert_eq!(error["status"], "408", "{error}");
    assert!(error["detail"].as_str().is_some_and(|d| d.contains("1500 ms")), "{error}");
    // Nothing was written: the user does not exist.
    let users = server.get("/Users?filter=userName%20sw%20%22half%22").json();
    assert_eq!(users["totalResults"], 0, "{users}");
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    // Heads are given ten minutes: only the idle timeout may close this one.
    let (_dir, server) = serve("idle", "idle_timeout_ms = 1000\nheader_read_timeout_ms = 600000\n");
    let mut s = connect(server.port);
    s.write_all(HEALTHZ).unwrap();
    read_healthz(&mut s, Duration::from_secs(30)).unwrap();
    // Kept alive: a second request on it is answered.
    s.write_all(HEALTHZ).unwrap();
    read_healthz(&mut s, Duration::from_secs(30)).unwrap();
    let rest = read_until_closed(&mut s, Duration::from_secs(30)).unwrap();
    assert_eq!(rest, "");
}

#[test]
fn a_next_head_trickled_on_a_kept_alive_connection_is_cut_off_by_the_header_timeout() {
    // Idle connections are given ten minutes: only the header timeout may close this one.
    let (_dir, server) = serve("slow-next-head", "header_read_timeout_ms = 1000\nidle_timeout_ms = 600000\n");
    let mut s = connect(server.port);
    s.write_all(HEALTHZ).unwrap();
    read_healthz(&mut s, Duration::from_secs(30)).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ").unwrap();
    let rest = read_until_closed(&mut s, Duration::from_secs(30)).unwrap();
    assert!(!rest.contains(" 200 "), "the half-sent head was answered: {rest}");
}

#[test]
fn the_connection_limit_holds_without_starving_open_connections() {
    let (_dir, server) = serve(
        "limit",
        "max_connections = 4\nidle_timeout_ms = 600000\nheader_read_timeout_ms = 600000\nbody_read_timeout_ms = 600000\n",
    );
    // Four connections, each answered once: each holds a slot.
    let mut held: Vec<TcpStream> = (0..4)
        .map(|i| {
            let mut s = connect(server.port);
            s.write_all(HEALTHZ).unwrap();
            read_healthz(&mut s, Duration::from_secs(30)).unwrap_or_else(|e| panic!("connection {i}: {e}"));
            s
        })
        .collect();
    // A fifth waits: not answered while the four stay open.
    let mut fifth = connect(server.port);
    fifth.write_all(HEALTHZ).unwrap();
    let early = read_healthz(&mut fifth, Duration::from_secs(2));
    assert!(early.is_err(), "a fifth connection was served past max_connections = 4: {early:?}");
    // The open ones are still served.
    for (i, s) in held.iter_mut().enumerate() {
        s.write_all(HEALTHZ).unwrap();
        read_healthz(s, Duration::from_secs(30)).unwrap_or_else(|e| panic!("connection {i} starved: {e}"));
    }
    // One closes: the fifth gets its slot and its answer.
    drop(held.pop());
    read_healthz(&mut fifth, Duration::from_secs(30)).unwrap();
}

#[test]
fn sigterm_finishes_the_request_in_flight_closes_idle_connections_and_exits() {
    let (_dir, mut server) = serve("sigterm", "");
    let mut idle = connect(server.port);
    idle.write_all(HEALTHZ).unwrap();
    read_healthz(&mut idle, Duration::from_secs(30)).unwrap();
    let body = crate::user("in.flight").to_string();
    let (first, rest) = body.split_at(10);
    let mut busy = connect(server.port);
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    );
    busy.write_all(head.as_bytes()).unwrap();
    // Let the server read the head: a request it has not seen yet is not in flight.
    std::thread::sleep(Duration::from_millis(500));
    let status = std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
    assert_eq!(read_until_closed(&mut idle, Duration::from_secs(30)), Ok(String::new()));
    busy.write_all(rest.as_bytes()).unwrap();
    let reply = read_until_closed(&mut busy, Duration::from_secs(30)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 201 "), "{reply}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!server.alive(), "still running 30 s after SIGTERM; log:\n{}", server.log());
}
