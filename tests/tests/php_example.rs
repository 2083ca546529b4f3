//! The PHP example application (bindings/php/example), end to end over HTTP: `php -S` serving SCIM from
//! the application's own tables through the native library. Needs `php` (see `common::skip_part`).

mod common;

use common::{raw, skip_part, Resp, TempDir, TOKEN};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Whether the PHP checks can run (see `skip_part`).
fn php_available() -> bool {
    let found = Command::new("php").arg("-v").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    !skip_part("php", found, "php is not installed (apt-get install php-cli php-sqlite3)")
}

struct Php {
    child: Child,
    base: String,
}

impl Php {
    fn start(db: &Path) -> Php {
        let lib = std::env::var_os("SCIMKIT_LIBRARY")
            .map_or_else(|| root().join("target/release/libscimkit_native.so"), PathBuf::from);
        assert!(lib.exists(), "{} is missing: run `cargo build --release -p scimkit-native`", lib.display());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("php")
            .args(["-d", "ffi.enable=1", "-S", &format!("127.0.0.1:{port}"), "bindings/php/example/index.php"])
            .current_dir(root())
            .env("SCIM_TOKEN", TOKEN)
            .env("SCIM_EXAMPLE_DB", db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting php -S");
        let php = Php { child, base: format!("http://127.0.0.1:{port}/scim/v2") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return php;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("php -S did not start");
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>, extra: &[(&str, &str)]) -> Resp {
        let mut headers =
            vec![("Authorization", format!("Bearer {TOKEN}")), ("Content-Type", "application/scim+json".into())];
        headers.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        raw(method, &format!("{}{path}", self.base), &headers, body.map(|b| b.to_string().into_bytes()))
    }
}

impl Drop for Php {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "externalId": format!("x-{name}"),
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}], "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}})
}

#[test]
fn the_php_example_serves_scim_from_its_own_tables() {
    if !php_available() {
        return;
    }
    let dir = TempDir::new("php");
    let s = Php::start(&dir.0.join("app.sqlite"));

    let anonymous = raw("GET", &format!("{}/Users", s.base), &[], None);
    anonymous.assert_error(401, None);
    let created = s.send("POST", "/Users", Some(user("bjensen")), &[]);
    assert_eq!(created.status, 201, "{}", created.text);
    let body = created.json();
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), Some(format!("{}/Users/{id}", s.base).as_str()));
    assert_eq!(
        body["emails"],
        json!([{"type": "work", "value": "bjensen@example.com", "primary": true}]),
        "primary from the rest column"
    );
    assert_eq!(body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "Tour Operations");
    assert_eq!((&body["externalId"], &body["active"]), (&json!("x-bjensen"), &json!(true)));

    s.send("POST", "/Users", Some(user("alice")), &[]);
    s.send("POST", "/Users", Some(user("BJENSEN")), &[]).assert_error(409, Some("uniqueness"));
    let filtered = s.send("GET", "/Users?filter=userName%20eq%20%22BJensen%22", None, &[]).json();
    assert_eq!(
        (filtered["totalResults"].as_u64(), filtered["Resources"][0]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );
    let page = s.send("GET", "/Users?startIndex=2&count=1", None, &[]).json();
    assert_eq!((page["totalResults"].as_u64(), page["Resources"][0]["userName"].as_str()), (Some(2), Some("alice")));

    let mut replacement = user("bjensen");
    replacement["active"] = json!(false);
    let etag = created.header("etag").unwrap().to_string();
    let replaced = s.send("PUT", &format!("/Users/{id}"), Some(replacement.clone()), &[("If-Match", &etag)]);
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.json()["active"], false);
    assert_eq!(replaced.json()["meta"]["created"], body["meta"]["created"]);
    s.send("PUT", &format!("/Users/{id}"), Some(replacement), &[("If-Match", &etag)]).assert_error(412, None);

    let group = s.send(
        "POST",
        "/Groups",
        Some(json!({"displayName": "Staff", "members": [{"value": id, "display": "Babs"}]})),
        &[],
    );
    assert_eq!(group.status, 201, "{}", group.text);
    let gid = group.json()["id"].as_str().unwrap().to_string();
    let members = &s.send("GET", &format!("/Groups/{gid}"), None, &[]).json()["members"];
    assert_eq!((&members[0]["value"], &members[0]["display"]), (&json!(id), &json!("Babs")), "the display as sent");
    assert_eq!(s.send("DELETE", &format!("/Users/{id}"), None, &[]).status, 204);
    let after = s.send("GET", &format!("/Groups/{gid}"), None, &[]).json();
    assert!(after.get("members").is_none_or(|m| m == &json!([])), "{after}");
    s.send("GET", &format!("/Users/{id}"), None, &[]).assert_error(404, None);
    s.send("GET", "/Nope", None, &[]).assert_error(404, None);
}

#[test]
fn the_php_example_refuses_a_group_as_a_member() {
    if !php_available() {
        return;
    }
    let dir = TempDir::new("php_nested");
    let s = Php::start(&dir.0.join("app.sqlite"));
    let create = |path: &str, body: Value| -> String {
        let r = s.send("POST", path, Some(body), &[]);
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()["id"].as_str().unwrap().to_string()
    };
    let alice = create("/Users", user("alice"));
    let staff = create("/Groups", json!({"displayName": "Staff"}));
    let inner = create("/Groups", json!({"displayName": "Inner"}));
    let add = |member: &str| {
        let ops = json!([{"op": "add", "path": "members", "value": [{"value": member}]}]);
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        s.send("PATCH", &format!("/Groups/{staff}"), Some(body), &[])
    };
    // Its tables number users and groups apart, so an id that is both a user's and a group's is the user's.
    assert_eq!(alice, staff, "the first user and the first group share an id");
    assert!(add(&alice).status < 300);
    let refused = add(&inner);
    refused.assert_error(400, Some("invalidValue"));
    assert!(refused.text.contains("nested"), "{}", refused.text);
    let members = &s.send("GET", &format!("/Groups/{staff}"), None, &[]).json()["members"];
    assert_eq!(members.as_array().map(Vec::len), Some(1), "{members}");
}
