//! The server's foundation, end to end: CRUD, persistence, authentication, errors, trap recovery.

mod common;

use common::{cli, raw, Server, TempDir};
use serde_json::json;

fn user(name: &str) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
        "active": true
    })
}

#[test]
fn create_read_list_replace_delete() {
    let dir = TempDir::new("crud");
    let s = Server::start(&dir.0, &[]);

    let created = s.post("/Users", &user("bjensen"));
    assert_eq!(created.status, 201, "{}", created.text);
    let body = created.json();
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), Some(s.url(&format!("/Users/{id}")).as_str()));
    assert_eq!(body["meta"]["location"], s.url(&format!("/Users/{id}")));
    assert_eq!(body["meta"]["resourceType"], "User");
    assert!(created.header("content-type").unwrap().starts_with("application/scim+json"));
    assert_eq!(created.header("etag"), body["meta"]["version"].as_str());

    let read = s.get(&format!("/Users/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["userName"], "bjensen");

    s.post("/Users", &user("alice")).json();
    let list = s.get("/Users?startIndex=1&count=1").json();
    assert_eq!(list["totalResults"], 2);
    assert_eq!(list["itemsPerPage"], 1);
    assert_eq!(list["Resources"].as_array().unwrap().len(), 1);
    let filtered = s.get("/Users?filter=userName%20eq%20%22BJensen%22").json();
    assert_eq!(filtered["totalResults"], 1);
    assert_eq!(filtered["Resources"][0]["id"], id.as_str());

    let mut replacement = user("bjensen");
    replacement["displayName"] = json!("Babs");
    replacement["emails"] = json!([]);
    let replaced = s.put(&format!("/Users/{id}"), &replacement);
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let r = replaced.json();
    assert_eq!(r["displayName"], "Babs");
    assert!(r.get("emails").is_none(), "attributes left out of a PUT are cleared: {r}");
    assert_eq!(r["meta"]["created"], body["meta"]["created"]);
    assert_ne!(r["meta"]["version"], body["meta"]["version"]);

    assert_eq!(s.delete(&format!("/Users/{id}")).status, 204);
    s.get(&format!("/Users/{id}")).assert_error(404, None);
    assert_eq!(s.get("/Users").json()["totalResults"], 1);
}

#[test]
fn data_survives_a_restart_and_the_component_is_not_recompiled() {
    let dir = TempDir::new("restart");
    let first = Server::start(&dir.0, &[]);
    let id = first.post("/Users", &user("persistent")).json()["id"].as_str().unwrap().to_string();
    let log1 = first.stop();
    assert!(log1.contains("component compiled"), "{log1}");

    let second = Server::start(&dir.0, &[]);
    let read = second.get(&format!("/Users/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["userName"], "persistent");
    let log2 = second.stop();
    assert!(log2.contains("component loaded from cache"), "{log2}");
}

#[test]
fn the_memory_database_says_so_and_keeps_nothing_across_a_restart() {
    let dir = TempDir::new("memory");
    let env = [("SCIMKIT_DATABASE", "memory")];
    let first = Server::start_with_env(&dir.0, &[], &env);
    let created = first.post("/Users", &user("ephemeral"));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(first.post("/Users", &user("ephemeral")).status, 409);
    assert_eq!(first.get("/Users?filter=userName%20eq%20%22ephemeral%22").json()["totalResults"], 1);
    let log = first.stop();
    assert!(log.contains("WARN") && log.contains("MEMORY ONLY"), "{log}");

    let second = Server::start_with_env(&dir.0, &[], &env);
    assert_eq!(second.get("/Users").json()["totalResults"], 0);
    let (ok, _, err) = cli(&dir.0, &["serve", "--listen", "127.0.0.1:0", "--database", "mysql://x"], None);
    assert!(!ok && err.contains("use sqlite, memory or a postgres://"), "{err}");
}

#[test]
fn wrong_or_missing_token_is_401_with_a_scim_body() {
    let dir = TempDir::new("auth");
    let s = Server::start(&dir.0, &[]);
    for auth in [Some("Bearer wrong"), Some("non-token"), None] {
        let headers: Vec<(&str, String)> = auth.map(|a| vec![("Authorization", a.to_string())]).unwrap_or_default();
        let r = raw("GET", &s.url("/Users"), &headers, None);
        r.assert_error(401, None);
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
}

#[test]
fn errors_are_rfc7644_bodies() {
    let dir = TempDir::new("errors");
    let s = Server::start(&dir.0, &[]);
    s.get("/Users/no-such-id").assert_error(404, None);
    s.delete("/Users/no-such-id").assert_error(404, None);
    s.put("/Users/no-such-id", &user("x")).assert_error(404, None);
    s.get("/Nothing").assert_error(404, None);
    s.send("POST", "/Users", &[], Some("{\"userName\":".into())).assert_error(400, Some("invalidSyntax"));
    s.send("POST", "/Users", &[("Content-Type", "text/plain")], Some("hello".into())).assert_error(415, None);
    s.post("/Users", &json!({"displayName": "no userName"})).assert_error(400, Some("invalidValue"));
    s.post("/ServiceProviderConfig", &json!({})).assert_error(405, None);
    s.post("/Users", &user("dup")).json();
    s.post("/Users", &user("DUP")).assert_error(409, Some("uniqueness"));
    s.get("/Users?filter=userName%20zz%20%22x%22").assert_error(400, Some("invalidFilter"));
}

#[test]
fn discovery_endpoints_answer() {
    let dir = TempDir::new("discovery");
    let s = Server::start(&dir.0, &[]);
    let spc = s.get("/ServiceProviderConfig").json();
    assert_eq!(spc["filter"]["supported"], true);
    let types = s.get("/ResourceTypes").json();
    assert_eq!(types["totalResults"], 2);
    let schemas = s.get("/Schemas").json();
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), "{ids:?}");
}

#[test]
fn a_guest_trap_answers_500_and_the_server_keeps_serving() {
    let dir = TempDir::new("trap");
    // A small fuel budget: a large body exhausts it inside the guest, which traps.
    let s = Server::start(&dir.0, &["--guest-fuel", "20000000"]);
    assert_eq!(s.post("/Users", &user("before")).status, 201);
    let huge: Vec<serde_json::Value> =
        (0..20000).map(|i| json!({"value": format!("user{i}@example.com"), "type": "work"})).collect();
    let mut body = user("heavy");
    body["emails"] = json!(huge);
    s.post("/Users", &body).assert_error(500, None);
    let after = s.post("/Users", &user("after"));
    assert_eq!(after.status, 201, "{}", after.text);
    assert_eq!(s.get("/Users").json()["totalResults"], 2);
    assert!(s.log().contains("trapped"), "{}", s.log());
}
