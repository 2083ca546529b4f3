//! `scimkit selftest` end to end against a running `scimkit serve`: 0 failures on a tenant under each profile,
//! Groups skipped (not failed) where they are not served, and a server that refuses writes failed with the
//! sections it breaks, the command exiting non-zero. Nothing the checks create is left behind.

mod common;

use common::{binary, Server, TempDir, TOKEN};
use sha2::Digest as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tenant of that name with the shared bearer token and these extra keys.
fn tenant(name: &str, keys: &str) -> String {
    let hash: String = sha2::Sha256::digest(TOKEN.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "[[tenant]]\nname = \"{name}\"\n{keys}\n[[tenant.auth]]\nmethod = \"bearer\"\ntoken_sha256 = \"{hash}\"\n\n"
    )
}

/// Runs `scimkit selftest URL --token …`, killed after two minutes: (success, stdout).
fn selftest(url: &str) -> (bool, String) {
    let mut child = Command::new(binary())
        .args(["selftest", url, "--token", TOKEN])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting scimkit selftest");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("scimkit selftest {url} took longer than two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn selftest_passes_under_both_profiles_skips_what_is_not_served_and_fails_a_read_only_server() {
    let data = TempDir::new("selftest");
    let config = [
        tenant("tolerant", "profile = \"tolerant\""),
        tenant("strict", "profile = \"strict\""),
        tenant("usersonly", "resource_types = [\"User\"]"),
        tenant("readonly", "read_only = true"),
    ];
    std::fs::write(data.0.join("scimkit.toml"), config.concat()).unwrap();
    let s = Server::start(&data.0, &[]);

    for name in ["tolerant", "strict"] {
        let (ok, out) = selftest(&format!("{}/{name}", s.base));
        assert!(ok, "{name}:\n{out}");
        assert!(out.ends_with("36 passed, 0 failed, 0 skipped\n"), "{name}:\n{out}");
    }
    for path in ["/tolerant/Users", "/tolerant/Groups", "/strict/Users", "/strict/Groups"] {
        assert_eq!(s.get(path).json()["totalResults"], 0, "{path} left behind");
    }

    let (ok, out) = selftest(&format!("{}/usersonly", s.base));
    assert!(ok, "{out}");
    assert!(out.contains("skipped groups: read: not announced: no Group resource type\n"), "{out}");
    assert!(out.ends_with("29 passed, 0 failed, 7 skipped\n"), "{out}");

    let (ok, out) = selftest(&format!("{}/readonly", s.base));
    assert!(!ok, "a read-only server passed:\n{out}");
    assert!(
        out.contains(
            "FAILED  users: create (RFC 7644 §3.3): expected status 201, saw 403 (this SCIM service is read-only)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("FAILED  bulk: POST and a failing operation (RFC 7644 §3.7): expected status 200, saw 403"),
        "{out}"
    );
    assert!(out.contains(" passed, ") && !out.contains(" 0 failed"), "{out}");
}
