//! The provisioning client end to end: 1,000 principals from LDIF into a running `scimkit serve`, from the CLI
//! and from Java; a second run sends no write; one changed attribute sends exactly one write (a PATCH when the
//! target advertises PATCH, else a PUT).

mod common;

use common::{binary, skip_part, Server, TempDir, TOKEN};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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
    cmd.args(["provision", "--json", "--target", &s.base, "--token", TOKEN, "--mapping"])
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
    cmd.args(["provision", "--json", "--target", &s.base, "--token", TOKEN, "--mapping"])
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
        .args(["provision", "--json", "--target", &s.base, "--token", "wrong", "--mapping"])
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
