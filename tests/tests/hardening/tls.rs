//! HTTPS served directly: the configured certificate is what clients see, plain HTTP gets nothing, SIGHUP
//! serves a renewed certificate to new connections (and keeps the old one when the new files are bad), a bad
//! file stops the start, and a handshake that never finishes is cut off like a slow request head.

use crate::common::{Server, TempDir, TOKEN};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// A self-signed certificate for the loopback address, and its key, in PEM.
struct Pem {
    cert: String,
    key: String,
}

fn certificate() -> Pem {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    Pem { cert: made.cert.pem(), key: made.signing_key.serialize_pem() }
}

/// Writes `pem` as `<dir>/cert.pem` and `<dir>/key.pem`.
fn install(dir: &Path, pem: &Pem) {
    std::fs::write(dir.join("cert.pem"), &pem.cert).unwrap();
    std::fs::write(dir.join("key.pem"), &pem.key).unwrap();
}

/// A client whose only root is `cert`.
fn trusting(cert: &Pem) -> ureq::Agent {
    let root = Certificate::from_pem(cert.cert.as_bytes()).unwrap();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(TlsConfig::builder().root_certs(RootCerts::new_with_certs(&[root])).build())
        .build()
        .into()
}

/// `GET /healthz` over HTTPS on a new connection: its status and body, or why it failed.
fn healthz(agent: &ureq::Agent, port: u16) -> Result<(u16, String), String> {
    let mut resp = agent.get(&format!("https://127.0.0.1:{port}/healthz")).call().map_err(|e| e.to_string())?;
    let text = resp.body_mut().read_to_string().map_err(|e| e.to_string())?;
    Ok((resp.status().as_u16(), text))
}

/// Serves HTTPS with `<dir>/cert.pem` (holding `pem`) on a new server, once it answers.
fn serve_tls(dir: &Path, pem: &Pem) -> Server {
    install(dir, pem);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut server =
        Server::spawn(dir, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()], &[]);
    let agent = trusting(pem);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if healthz(&agent, server.port).is_ok() {
            return server;
        }
        assert!(server.alive(), "scimkit stopped; log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("scimkit did not answer HTTPS; log:\n{}", server.log());
}

fn hang_up(server: &Server) {
    let status = std::process::Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Polls `check` for up to 30 s; its last result.
fn eventually<T>(mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn https_is_served_with_the_configured_certificate_and_plain_http_gets_nothing() {
    let dir = TempDir::new("tls");
    let pem = certificate();
    let server = serve_tls(&dir.0, &pem);
    let agent = trusting(&pem);
    assert_eq!(healthz(&agent, server.port), Ok((200, "ok".to_string())));
    // The default base URL is https when TLS is on.
    let mut created = agent
        .post(&format!("https://127.0.0.1:{}/scim/v2/Users", server.port))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .send(crate::user("tls.user").to_string())
        .unwrap();
    assert_eq!(created.status(), 201);
    let body: serde_json::Value = serde_json::from_str(&created.body_mut().read_to_string().unwrap()).unwrap();
    let location = body["meta"]["location"].as_str().unwrap_or_default();
    assert!(location.starts_with(&format!("https://127.0.0.1:{}/scim/v2/Users/", server.port)), "{body}");
    // A client that trusts another certificate refuses this server.
    assert!(healthz(&trusting(&certificate()), server.port).is_err());
    // Plain HTTP on the TLS port is not answered.
    let plain = crate::common::agent().get(&format!("http://127.0.0.1:{}/healthz", server.port)).call();
    assert!(!matches!(&plain, Ok(r) if r.status() == 200), "plain HTTP was answered: {plain:?}");
    assert_eq!(healthz(&agent, server.port), Ok((200, "ok".to_string())));
}

#[test]
fn sighup_serves_a_renewed_certificate_to_new_connections_and_keeps_it_when_files_are_bad() {
    let dir = TempDir::new("tls-reload");
    let (old, new) = (certificate(), certificate());
    let mut server = serve_tls(&dir.0, &old);
    assert!(healthz(&trusting(&new), server.port).is_err());
    install(&dir.0, &new);
    hang_up(&server);
    let renewed = eventually(|| healthz(&trusting(&new), server.port).ok());
    assert_eq!(renewed, Some((200, "ok".to_string())), "log:\n{}", server.log());
    assert!(healthz(&trusting(&old), server.port).is_err(), "the old certificate is still served");
    // A bad file on reload: the log says so and the renewed certificate stays.
    std::fs::write(dir.0.join("cert.pem"), "not a certificate\n").unwrap();
    hang_up(&server);
    let said = eventually(|| server.log().contains("not reloaded").then_some(()));
    assert!(said.is_some(), "log:\n{}", server.log());
    assert!(server.log().contains("cert.pem"), "the log does not name the file:\n{}", server.log());
    assert_eq!(healthz(&trusting(&new), server.port), Ok((200, "ok".to_string())));
    assert!(server.alive());
}

#[test]
fn a_bad_certificate_or_key_stops_the_start_naming_the_file() {
    let dir = TempDir::new("tls-bad");
    let (one, other) = (certificate(), certificate());
    let missing = dir.0.join("missing.pem");
    let garbage = dir.0.join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n").unwrap();
    let (cert, key) = (dir.0.join("one.pem"), dir.0.join("other-key.pem"));
    std::fs::write(&cert, &one.cert).unwrap();
    std::fs::write(&key, &other.key).unwrap();
    for (cert, key, named) in
        [(&missing, &key, "missing.pem"), (&garbage, &key, "garbage.pem"), (&cert, &key, "one.pem")]
    {
        let mut server =
            Server::spawn(&dir.0, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()], &[]);
        let stopped = eventually(|| (!server.alive()).then_some(()));
        let log = server.stop();
        assert!(stopped.is_some(), "scimkit started with {named}; log:\n{log}");
        assert!(log.contains(named), "the error does not name {named}:\n{log}");
    }
}

#[test]
fn a_tls_handshake_that_never_finishes_is_closed_after_the_header_timeout() {
    let dir = TempDir::new("tls-slow");
    std::fs::write(dir.0.join("scimkit.toml"), "header_read_timeout_ms = 1000\nidle_timeout_ms = 600000\n").unwrap();
    let server = serve_tls(&dir.0, &certificate());
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    // The first bytes of a ClientHello record, and no more.
    s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = [0u8; 512];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(closed, "a connection stuck in its TLS handshake is still open after 30 s");
}
