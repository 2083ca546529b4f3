//! The provisioning client end to end: 1,000 principals from LDIF into a running `scimkit serve`, from the CLI
//! and from Java; a second run sends no write; one changed attribute sends exactly one write (a PATCH when the
//! target advertises PATCH, else a PUT). A principal the target fails is queued and `--retry` delivers it once
//! the target recovers; a run driven from a tenant's journal pushes its changes in order and resumes.

mod common;

use common::http1::{read_request, Request};
use common::{binary, database_for, raw, skip_part, Server, TempDir, TOKEN};
use serde_json::{json, Value};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PEOPLE: usize = 1000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `n` principals as LDIF; `changed` gives principal 7 another title. Some values are base64 or folded.
fn people(n: usize, changed: bool) -> String {
    let mut out = String::from("version: 1\n\n");
    for i in 0..n {
        let title = if changed && i == 7 { "Changed title".to_string() } else { format!("Title {}", i % 13) };
        out.push_str(&format!(
            "dn: uid=user{i:04},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: user{i:04}\ngivenName: Given{i}\n\
             sn:: {}\ncn: Given{i} Family{i}\nmail: user{i:04}@example.org\ntelephoneNumber: +1 555 {i:04}\nemployeeNumber: {}\n\
             departmentNumber: dept{}\nou: Unit {}\no: Example\ntitle: {title}\neduPersonAffiliation: {}\n\
             description: a long line folded in\n  two\n\n",
            b64(&format!("Family{i}")),
            10000 + i,
            i % 25,
            i % 7,
            ["student", "staff", "faculty"][i % 3],
        ));
    }
    out
}

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            out.push(if k <= c.len() { A[(n >> (18 - 6 * k) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// Runs a command, killed after `limit`; returns (success, stdout, stderr).
fn run_bounded(cmd: &mut Command, limit: Duration) -> (bool, String, String) {
    let dir = TempDir::new("out");
    let (o, e) = (dir.0.join("out"), dir.0.join("err"));
    let mut child = cmd
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} took longer than {limit:?}; stderr:\n{}", std::fs::read_to_string(&e).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status.success(), std::fs::read_to_string(&o).unwrap(), std::fs::read_to_string(&e).unwrap())
}

fn provision(s: &Server, ldif: &Path) -> Value {
    let mapping = root().join("examples/ldap-mapping.toml");
    let mut cmd = Command::new(binary());
    cmd.args(["provision", "--json", "--target", &s.base, "--token", TOKEN, "--data"])
        .arg(ldif.with_extension("client"))
        .arg("--mapping")
        .arg(mapping)
        .arg("--from")
        .arg(ldif);
    let (ok, out, err) = run_bounded(&mut cmd, Duration::from_secs(300));
    assert!(ok, "provision failed:\n{out}\n{err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn patch_supported(s: &Server) -> bool {
    s.get("/ServiceProviderConfig").json()["patch"]["supported"].as_bool().unwrap()
}

#[test]
fn cli_provisions_a_thousand_then_nothing_then_one_change() {
    let dir = TempDir::new("prov-cli");
    let s = Server::start(&dir.0.join("data"), &[]);
    let ldif = dir.0.join("people.ldif");
    std::fs::write(&ldif, people(PEOPLE, false)).unwrap();

    let first = provision(&s, &ldif);
    eprintln!("run 1: {first}");
    assert_eq!((first["created"].as_u64(), first["failed"].as_u64()), (Some(PEOPLE as u64), Some(0)), "{first}");
    assert_eq!(s.get("/Users?count=0").json()["totalResults"], PEOPLE);
    let dept = s.get("/Groups?filter=displayName%20eq%20%22dir-dept-dept3%22").json();
    assert_eq!(dept["Resources"][0]["members"].as_array().unwrap().len(), PEOPLE / 25, "{dept}");

    let second = provision(&s, &ldif);
    eprintln!("run 2: {second}");
    assert_eq!(second["unchanged"], PEOPLE, "{second}");
    assert_eq!(second["writes"], 0, "{second}");
    assert_eq!(second["requests"]["GET"], PEOPLE, "one search per principal: {second}");

    std::fs::write(&ldif, people(PEOPLE, true)).unwrap();
    let third = provision(&s, &ldif);
    eprintln!("run 3: {third}");
    assert_eq!((third["updated"].as_u64(), third["unchanged"].as_u64()), (Some(1), Some(PEOPLE as u64 - 1)), "{third}");
    assert_eq!(third["writes"], 1, "{third}");
    let method = if patch_supported(&s) { "PATCH" } else { "PUT" };
    assert_eq!(third["requests"][method], 1, "{third}");
    let user = s.get("/Users?filter=userName%20eq%20%22user0007%22").json();
    assert_eq!(user["Resources"][0]["title"], "Changed title");
    assert_eq!(user["Resources"][0]["name"]["familyName"], "Family7");
}

#[test]
fn cli_reports_failures_with_reasons() {
    let dir = TempDir::new("prov-fail");
    let s = Server::start(&dir.0.join("data"), &[]);
    let json = dir.0.join("people.json");
    std::fs::write(&json, r#"[{"uid": "ok1", "mail": "ok1@example.org"}, {"mail": "nouid@example.org"}]"#).unwrap();
    let mut cmd = Command::new(binary());
    cmd.args(["provision", "--json", "--backoff-ms", "10", "--target", &s.base, "--token", TOKEN, "--data"])
        .arg(dir.0.join("client"))
        .arg("--mapping")
        .arg(root().join("examples/ldap-mapping.toml"))
        .arg("--from")
        .arg(&json);
    let (ok, out, _) = run_bounded(&mut cmd, Duration::from_secs(120));
    assert!(!ok, "a failed principal fails the command");
    let summary: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((summary["created"].as_u64(), summary["failed"].as_u64()), (Some(1), Some(1)), "{summary}");
    assert_eq!(summary["failures"][0]["error"], "the mapping gives no userName");

    let mut bad_token = Command::new(binary());
    bad_token
        .args(["provision", "--json", "--backoff-ms", "10", "--target", &s.base, "--token", "wrong", "--data"])
        .arg(dir.0.join("client"))
        .arg("--mapping")
        .arg(root().join("examples/ldap-mapping.toml"))
        .arg("--from")
        .arg(root().join("examples/people.ldif"));
    let (ok, out, _) = run_bounded(&mut bad_token, Duration::from_secs(120));
    assert!(!ok);
    let summary: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(summary["failures"][0]["error"].as_str().unwrap().contains("401"), "{summary}");
}

/// The Java binding's tests (bindings/java, in JUnit: the service provider over Java storages, the mapper, LDIF),
/// including the same three runs against a real server, under -Xcheck:jni: over the jar of dist/build.sh when
/// `SCIMKIT_JAVA_JAR` names it (tests/run.sh does), else over the sources. Needs a JDK (see `common::skip_part`).
#[test]
fn java_provisions_a_thousand_then_nothing_then_one_change() {
    let jdk = Command::new("javac").arg("-version").output().is_ok();
    if skip_part("java", jdk, "the Java binding tests need a JDK (apt-get install openjdk-17-jdk-headless)") {
        return;
    }
    let library = || binary().parent().unwrap().join("libscimkit_native.so");
    let binding = std::env::var_os("SCIMKIT_JAVA_JAR").map_or_else(library, PathBuf::from);
    assert!(binding.exists(), "{} is missing: build with `cargo build --release -p scimkit-native`", binding.display());
    let dir = TempDir::new("prov-java");
    let s = Server::start(&dir.0.join("data"), &[]);
    let ldif = dir.0.join("people.ldif");
    std::fs::write(&ldif, people(PEOPLE, false)).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("bindings/java/run-tests.sh"))
        .arg(&binding)
        .arg(root().join("examples/ldap-mapping.toml"))
        .arg(&s.base)
        .arg(TOKEN)
        .arg(&ldif)
        .env("SCIMKIT_JAVA_OUT", dir.0.join("classes"));
    let (ok, out, err) = run_bounded(&mut cmd, Duration::from_secs(400));
    // JUnit's tree and counts, on the terminal even when the test passes.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("JUnit over {}:\n{out}", binding.display()).as_bytes(),
    );
    // The launcher's summary lines: "[        19 tests successful      ]".
    let count = |what: &str| {
        let line = out.lines().find(|l| l.contains(what))?;
        line.trim_matches(|c| c == '[' || c == ' ').split(' ').next()?.parse::<u32>().ok()
    };
    assert!(ok && count("tests successful").is_some_and(|n| n > 0), "Java tests failed:\n{out}\n{err}");
    let failed =
        [count("tests failed"), count("tests aborted"), count("containers failed"), count("containers aborted")];
    assert_eq!(failed, [Some(0); 4], "Java tests failed or aborted:\n{out}\n{err}");
    assert!(!err.contains("WARNING in native method"), "-Xcheck:jni warned:\n{err}");
    assert!(
        !err.contains("handler modified"),
        "the JVM's signal handlers were replaced (libjsig not preloaded?):\n{err}"
    );
}

/// `scimkit provision ARGS --data DATA`, bounded in time; on PostgreSQL, with the database `DATA`'s server uses.
fn provision_cli(data: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(binary());
    if let Some(url) = database_for(data) {
        cmd.env("SCIMKIT_DATABASE", url);
    }
    cmd.arg("provision").args(args).arg("--data").arg(data);
    run_bounded(&mut cmd, Duration::from_secs(120))
}

/// A target in front of a real server that answers 503 to every request naming `refused` while `failing` is
/// set, and counts those answers.
struct FlakyTarget {
    base: String,
    failing: Arc<AtomicBool>,
    refusals: Arc<AtomicUsize>,
}

impl FlakyTarget {
    fn start(server: &Server, refused: &'static str) -> FlakyTarget {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (failing, refusals) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicUsize::new(0)));
        let (root, f, r) = (server.root(), failing.clone(), refusals.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (root, f, r) = (root.clone(), f.clone(), r.clone());
                std::thread::spawn(move || while forward(&conn, &root, refused, &f, &r).is_some() {});
            }
        });
        FlakyTarget { base: format!("http://127.0.0.1:{port}/scim/v2"), failing, refusals }
    }
}

/// Serves one request of a kept-alive connection; None when the client closed it.
fn forward(conn: &TcpStream, root: &str, refused: &str, failing: &AtomicBool, refusals: &AtomicUsize) -> Option<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let Request { method, target, headers, body } = read_request(&mut reader)?;
    let (status, text) = if failing.load(Ordering::SeqCst)
        && (target.contains(refused) || String::from_utf8_lossy(&body).contains(refused))
    {
        refusals.fetch_add(1, Ordering::SeqCst);
        let error = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "503", "detail": "down for maintenance"});
        (503, error.to_string())
    } else {
        let keep = ["authorization", "content-type", "accept", "if-match"];
        let pass: Vec<(&str, String)> = headers
            .iter()
            .filter(|(k, _)| keep.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let resp = raw(&method, &format!("{root}{target}"), &pass, (!body.is_empty()).then_some(body));
        (resp.status, resp.text)
    };
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    )
    .ok()?;
    Some(())
}

#[test]
fn a_principal_the_target_fails_is_queued_and_retry_delivers_it_once_the_target_recovers() {
    let dir = TempDir::new("prov-queue");
    let s = Server::start(&dir.0.join("data"), &[]);
    let target = FlakyTarget::start(&s, "user0002");
    let client = dir.0.join("client");
    let ldif = dir.0.join("people.ldif");
    std::fs::write(&ldif, people(5, false)).unwrap();
    let mapping = root().join("examples/ldap-mapping.toml");
    let mapping = mapping.to_str().unwrap();
    let common = ["--json", "--target", &target.base, "--token", TOKEN, "--attempts", "3", "--backoff-ms", "20"];

    let (ok, out, _) =
        provision_cli(&client, &[&common[..], &["--mapping", mapping, "--from", ldif.to_str().unwrap()]].concat());
    assert!(!ok, "a failed principal fails the run");
    let first: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((first["created"].as_u64(), first["failed"].as_u64()), (Some(4), Some(1)), "{first}");
    assert_eq!(first["failures"][0]["principal"], "uid=user0002,ou=people,dc=example,dc=org", "{first}");
    assert!(first["failures"][0]["error"].as_str().unwrap().contains("503"), "{first}");
    assert_eq!(target.refusals.load(Ordering::SeqCst), 3, "tried three times in the run");

    let queued = || {
        let (ok, out, err) = provision_cli(&client, &["--queued", "--target", &target.base]);
        assert!(ok, "{err}");
        out
    };
    let listed = queued();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with("uid=user0002,ou=people,dc=example,dc=org\tfailed 1 run(s)"), "{listed}");
    assert!(listed.contains("503") && !listed.contains(TOKEN), "{listed}");
    let (ok, out, _) = provision_cli(&client, &["--queued", "--target", &s.base]);
    assert!(ok && out.is_empty(), "the queue is per target: {out}");

    // Still down: --retry tries only the queued principal, which stays queued.
    let (ok, out, _) = provision_cli(&client, &[&common[..], &["--mapping", mapping, "--retry"]].concat());
    assert!(!ok);
    let second: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((second["principals"].as_u64(), second["failed"].as_u64()), (Some(1), Some(1)), "{second}");
    assert!(queued().contains("failed 2 run(s)"));
    assert_eq!(s.get("/Users?count=0").json()["totalResults"], 4);

    target.failing.store(false, Ordering::SeqCst);
    let (ok, out, err) = provision_cli(&client, &[&common[..], &["--mapping", mapping, "--retry"]].concat());
    assert!(ok, "{out}\n{err}");
    let third: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((third["principals"].as_u64(), third["created"].as_u64()), (Some(1), Some(1)), "{third}");
    let user = s.get("/Users?filter=userName%20eq%20%22user0002%22").json();
    assert_eq!(user["Resources"][0]["name"]["familyName"], "Family2", "{user}");
    assert_eq!(queued(), "", "a delivered principal leaves the queue");

    let (ok, _, err) = provision_cli(&client, &["--retry", "--target", &target.base, "--token", TOKEN]);
    assert!(!ok && err.contains("--mapping"), "--retry needs the mapping: {err}");
}

#[test]
fn a_journal_driven_run_pushes_create_patch_deactivate_delete_in_order_and_resumes() {
    let dir = TempDir::new("prov-journal");
    let data = dir.0.join("data");
    let source = Server::start(&data, &[]);
    let target = Server::start(&dir.0.join("target"), &[]);
    let push = || {
        let (ok, out, err) = provision_cli(
            &data,
            &["--json", "--from-tenant", "default", "--target", &target.base, "--token", TOKEN, "--backoff-ms", "20"],
        );
        assert!(ok, "{out}\n{err}");
        serde_json::from_str::<Value>(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let user = |name: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "title": "Engineer"});
    let id_of = |s: &Server, name: &str| {
        let list = s.get(&format!("/Users?filter=userName%20eq%20%22{name}%22")).json();
        list["Resources"][0]["id"].as_str().map(str::to_string)
    };
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});

    let alice = source.post("/Users", &user("alice")).json()["id"].as_str().unwrap().to_string();
    let bob = source.post("/Users", &user("bob")).json()["id"].as_str().unwrap().to_string();
    let r =
        source.patch(&format!("/Users/{alice}"), &patch(json!([{"op": "replace", "path": "title", "value": "Lead"}])));
    assert_eq!(r.status, 200, "{}", r.text);
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "staff", "members": [{"value": bob}]});
    assert_eq!(source.post("/Groups", &group).status, 201);

    let first = push();
    assert_eq!(
        [&first["created"], &first["updated"], &first["deleted"], &first["skipped"], &first["sequence"]],
        [2, 1, 0, 1, 4],
        "{first}"
    );
    let on_target = target.get(&format!("/Users/{}", id_of(&target, "alice").unwrap())).json();
    assert_eq!((on_target["title"].as_str(), on_target["active"].as_bool()), (Some("Lead"), None), "{on_target}");
    assert!(id_of(&target, "bob").is_some());

    // Deactivate alice, delete bob, create carol, then rename her and create and delete dave: order matters.
    let r =
        source.patch(&format!("/Users/{alice}"), &patch(json!([{"op": "replace", "path": "active", "value": false}])));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(source.delete(&format!("/Users/{bob}")).status, 204);
    let carol = source.post("/Users", &user("carol")).json()["id"].as_str().unwrap().to_string();
    let r = source
        .patch(&format!("/Users/{carol}"), &patch(json!([{"op": "replace", "path": "userName", "value": "caroline"}])));
    assert_eq!(r.status, 200, "{}", r.text);
    let dave = source.post("/Users", &user("dave")).json()["id"].as_str().unwrap().to_string();
    assert_eq!(source.delete(&format!("/Users/{dave}")).status, 204);

    let second = push();
    assert_eq!(
        [&second["created"], &second["updated"], &second["deleted"], &second["writes"]],
        [2, 2, 2, 6],
        "only the changes after the first run: {second}"
    );
    let alice_there = target.get(&format!("/Users/{}", id_of(&target, "alice").unwrap())).json();
    assert_eq!(alice_there["active"], false, "{alice_there}");
    assert_eq!(id_of(&target, "bob"), None);
    assert_eq!(id_of(&target, "carol"), None, "renamed, not copied");
    assert!(id_of(&target, "caroline").is_some());
    assert_eq!(id_of(&target, "dave"), None, "created then deleted, in that order");
    assert_eq!(target.get("/Users?count=0").json()["totalResults"], 2);

    let third = push();
    assert_eq!(
        (third["writes"].as_u64(), third["sequence"].as_u64()),
        (Some(0), second["sequence"].as_u64()),
        "{third}"
    );

    let (ok, _, err) = provision_cli(&data, &["--from-tenant", "nosuch", "--target", &target.base, "--token", TOKEN]);
    assert!(!ok && err.contains("no tenant nosuch"), "{err}");
}

#[test]
fn a_journal_driven_run_stops_at_a_change_the_target_fails_and_the_next_run_starts_with_it() {
    let dir = TempDir::new("prov-journal-fail");
    let data = dir.0.join("data");
    let source = Server::start(&data, &[]);
    let target = Server::start(&dir.0.join("target"), &[]);
    let flaky = FlakyTarget::start(&target, "erin");
    let push = || {
        let args =
            ["--json", "--from-tenant", "default", "--target", &flaky.base, "--token", TOKEN, "--backoff-ms", "20"];
        provision_cli(&data, &args)
    };
    for name in ["dora", "erin", "fred"] {
        let u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
        assert_eq!(source.post("/Users", &u).status, 201);
    }
    let exists =
        |name: &str| target.get(&format!("/Users?filter=userName%20eq%20%22{name}%22")).json()["totalResults"] == 1;

    let (ok, out, err) = push();
    assert!(!ok, "{out}");
    assert!(err.contains("change 2 (create User") && err.contains("503"), "{err}");
    assert!(exists("dora") && !exists("erin") && !exists("fred"), "stopped at erin, in order");
    assert_eq!(flaky.refusals.load(Ordering::SeqCst), 3, "tried three times");

    flaky.failing.store(false, Ordering::SeqCst);
    let (ok, out, err) = push();
    assert!(ok, "{out}\n{err}");
    let done: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((done["created"].as_u64(), done["sequence"].as_u64()), (Some(2), Some(3)), "{done}");
    assert!(exists("erin") && exists("fred"));
}
