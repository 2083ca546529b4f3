//! Starts the real `scimkit serve` on a free loopback port with a temporary data directory, and talks to it.

#![allow(dead_code)]

pub mod http1;
pub mod schemas_file;

use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "e2e-token";

/// The `scimkit` binary: `$SCIMKIT_BIN`, else the release build of this workspace.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SCIMKIT_BIN") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let bin = root.join("target/release/scimkit");
    assert!(bin.exists(), "{} is missing: run `cargo build --release -p host-example` first", bin.display());
    bin
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let p = std::env::temp_dir().join(format!("scimkit-e2e-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The PostgreSQL server the tests may use (`SCIMKIT_TEST_POSTGRES`, a `postgres://` URL without a
/// database; `tests/run.sh` starts one), when there is one.
pub fn postgres() -> Option<String> {
    std::env::var("SCIMKIT_TEST_POSTGRES").ok().filter(|s| !s.is_empty())
}

/// Whether every server runs on PostgreSQL (`SCIMKIT_E2E_ON_POSTGRES=1`, with `SCIMKIT_TEST_POSTGRES`) rather
/// than on SQLite.
pub fn on_postgres() -> bool {
    std::env::var("SCIMKIT_E2E_ON_POSTGRES").is_ok_and(|v| v == "1")
}

/// A database named `name` on the test server, created when missing; its URL.
pub fn postgres_database(name: &str) -> String {
    let server = postgres().expect("SCIMKIT_TEST_POSTGRES is not set");
    let mut client = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .expect("connecting to the test PostgreSQL");
    match client.batch_execute(&format!("CREATE DATABASE \"{name}\"")) {
        Ok(()) => {}
        Err(e) if e.code() == Some(&postgres::error::SqlState::DUPLICATE_DATABASE) => {}
        Err(e) => panic!("creating database {name}: {e}"),
    }
    format!("{server}/{name}")
}

/// On PostgreSQL, a data directory's own database: restarting on the same directory finds the same data,
/// and tests stay independent.
pub fn database_for(data: &Path) -> Option<String> {
    use std::hash::{Hash, Hasher};
    if !on_postgres() {
        return None;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    Some(postgres_database(&format!("e2e_{:016x}", h.finish())))
}

/// A line on the terminal even when the test passes (the test runner keeps only `eprintln!` output).
pub fn notice(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTICE: {line}");
}

/// Whether to skip a part of the suite that needs a tool (`part` as `SCIMKIT_SKIP` names it): when
/// `SCIMKIT_SKIP` opts out of it, printed; else when the tool is missing, printed, in a targeted run only. Under
/// `tests/run.sh` (which installs the tools) and CI a missing tool fails, so their green run is the whole suite.
pub fn skip_part(part: &str, available: bool, install: &str) -> bool {
    if std::env::var("SCIMKIT_SKIP").unwrap_or_default().split(',').any(|p| p.trim() == part) {
        notice(&format!("skipped by SCIMKIT_SKIP: {part}"));
        return true;
    }
    if available {
        return false;
    }
    let whole_suite = ["SCIMKIT_SUITE", "CI"].iter().any(|v| std::env::var(v).is_ok_and(|v| v == "1" || v == "true"));
    assert!(!whole_suite, "{install} (bash tests/install.sh does), or opt out with SCIMKIT_SKIP={part}");
    notice(&format!("skipping {part}: {install}, or opt out with SCIMKIT_SKIP={part}"));
    true
}

/// Prints why a check that only makes sense on SQLite is skipped; true when it is.
pub fn skip_on_postgres(reason: &str) -> bool {
    if on_postgres() {
        notice(&format!("skipped on PostgreSQL: {reason}"));
    }
    on_postgres()
}

pub struct Server {
    child: Child,
    pub base: String,
    pub port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts `scimkit serve` exactly as documented: `SCIM_TOKEN=… scimkit serve --listen … --data …`.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Server::start_with_env(data, extra, &[])
    }

    /// `start` with more environment variables (a configuration file, if any, is `<data>/scimkit.toml`).
    /// With `SCIMKIT_E2E_ON_POSTGRES=1`, the server keeps its data in [`database_for`] the data directory,
    /// unless `env` names a `SCIMKIT_DATABASE`.
    pub fn start_with_env(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let server = Server::spawn(data, extra, env);
        server.wait_ready();
        server
    }

    /// `start_with_env` without waiting for `/healthz` to answer plain HTTP: for a server that serves HTTPS,
    /// or one that should not start.
    pub fn spawn(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = data.with_extension(format!("{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(binary());
        if let Some(url) = database_for(data) {
            cmd.env("SCIMKIT_DATABASE", url);
        }
        let child = cmd
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .args(extra)
            .env("SCIM_TOKEN", TOKEN)
            .envs(env.iter().copied())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("starting scimkit");
        Server { child, base: format!("http://127.0.0.1:{port}/scim/v2"), port, log }
    }

    /// The server's process id, to signal it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("http://127.0.0.1:{}/healthz", self.port);
        while Instant::now() < deadline {
            if agent().get(&url).call().is_ok_and(|r| r.status() == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("scimkit did not start; log:\n{}", self.log());
    }

    /// The server's peak resident memory so far, in MiB (Linux `VmHWM`).
    pub fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb / 1024
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's root, for paths outside the default tenant: `/scim/v2/acme`, `/oauth/acme/token`, `/admin`.
    pub fn root(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], None)
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.send("POST", path, &[], Some(body.to_string()))
    }

    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.send("PUT", path, &[], Some(body.to_string()))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send("PATCH", path, &[], Some(body.to_string()))
    }

    /// A request with the right token and the SCIM content type; `headers` are added (and may override).
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<String>) -> Resp {
        let mut all =
            vec![("Authorization", format!("Bearer {TOKEN}")), ("Content-Type", "application/scim+json".to_string())];
        for (k, v) in headers {
            all.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            all.push((k, v.to_string()));
        }
        raw(method, &self.url(path), &all, body.map(String::into_bytes))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts an RFC 7644 error body with this status (and scimType, when given).
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{body}");
        assert_eq!(body["status"], status.to_string(), "{body}");
        if let Some(t) = scim_type {
            assert_eq!(body["scimType"], t, "{body}");
        }
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    }
}

/// One HTTP request with exactly these headers.
pub fn raw(method: &str, url: &str, headers: &[(&str, String)], body: Option<Vec<u8>>) -> Resp {
    let mut b = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    let req = b.body(body.unwrap_or_default()).unwrap();
    let mut resp = agent().run(req).expect("HTTP request failed");
    let status = resp.status().as_u16();
    let headers =
        resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let mut text = String::new();
    resp.body_mut().as_reader().read_to_string(&mut text).unwrap();
    Resp { status, headers, text }
}

/// Runs a management command (`scimkit tenant add …`) on a data directory: (success, stdout, stderr).
pub fn cli(data: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut command = Command::new(binary());
    // On PostgreSQL, commands that open the database (import, export) open the one the server uses.
    if let Some(url) = database_for(data) {
        command.env("SCIMKIT_DATABASE", url);
    }
    let mut child = command
        .args(args)
        .arg("--data")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting scimkit");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
