//! Two `scimkit serve` processes on one PostgreSQL database, as behind a load balancer: what one writes the
//! other reads, filters and changes, and uniqueness holds across them. Needs `SCIMKIT_TEST_POSTGRES`
//! (`tests/run.sh` starts a server; see `common::skip_part`).

mod common;

use common::{postgres, postgres_database, skip_part, Server, TempDir};
use serde_json::{json, Value};
use std::sync::{Arc, Barrier};

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

fn patch(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Two servers, each with its own data directory, on one fresh database.
fn two_servers(tag: &str) -> Option<(TempDir, Server, Server)> {
    if skip_part("postgres", postgres().is_some(), "SCIMKIT_TEST_POSTGRES is not set (tests/run.sh starts a server)") {
        return None;
    }
    let dir = TempDir::new(tag);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let db = postgres_database(&format!("{tag}_{}_{nanos}", std::process::id()));
    let start = |name: &str| Server::start_with_env(&dir.0.join(name), &[], &[("SCIMKIT_DATABASE", db.as_str())]);
    let (a, b) = (start("a"), start("b"));
    Some((dir, a, b))
}

#[test]
fn a_user_written_through_one_server_is_read_filtered_and_patched_through_the_other() {
    let Some((_dir, a, b)) = two_servers("pg_two") else { return };
    let created = a.post("/Users", &user("alice"));
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_string();

    let read = b.get(&format!("/Users/{id}"));
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["userName"], "alice");
    let found = b.get("/Users?filter=userName%20eq%20%22ALICE%22");
    assert_eq!(found.json()["totalResults"], 1, "{}", found.text);
    assert_eq!(found.json()["Resources"][0]["id"], id.as_str());

    let old_etag = read.header("etag").unwrap().to_string();
    let patched = b
        .patch(&format!("/Users/{id}"), &patch(json!([{"op": "replace", "path": "displayName", "value": "Alice A."}])));
    assert!(patched.status == 200 || patched.status == 204, "{}", patched.text);
    let seen = a.get(&format!("/Users/{id}"));
    assert_eq!(seen.json()["displayName"], "Alice A.");
    assert_ne!(seen.header("etag").unwrap(), old_etag);
    // The version checked by a conditional write is the database's, not what one server last saw.
    let stale =
        a.send("PUT", &format!("/Users/{id}"), &[("If-Match", old_etag.as_str())], Some(user("alice").to_string()));
    stale.assert_error(412, None);
    assert_eq!(b.get(&format!("/Users/{id}")).json()["displayName"], "Alice A.", "the refused PUT changed nothing");
}

#[test]
fn fifty_parallel_creates_of_one_user_name_over_two_servers_give_one_201() {
    let Some((_dir, a, b)) = two_servers("pg_race") else { return };
    const CLIENTS: usize = 50;
    let servers = Arc::new([a, b]);
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (servers, barrier) = (servers.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                servers[i % 2].post("/Users", &user("racer")).status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let count = |s: u16| statuses.iter().filter(|&&x| x == s).count();
    assert_eq!((count(201), count(409)), (1, CLIENTS - 1), "{statuses:?}");
    for s in servers.iter() {
        assert_eq!(s.get("/Users?filter=userName%20eq%20%22racer%22").json()["totalResults"], 1);
    }
}

#[test]
fn a_membership_change_through_one_server_is_seen_through_the_other() {
    let Some((_dir, a, b)) = two_servers("pg_members") else { return };
    let alice = a.post("/Users", &user("alice")).json()["id"].as_str().unwrap().to_string();
    let bob = b.post("/Users", &user("bob")).json()["id"].as_str().unwrap().to_string();
    let group = a.post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "ops", "members": [{"value": alice}]}));
    assert_eq!(group.status, 201, "{}", group.text);
    let gid = group.json()["id"].as_str().unwrap().to_string();

    let added = b
        .patch(&format!("/Groups/{gid}"), &patch(json!([{"op": "add", "path": "members", "value": [{"value": bob}]}])));
    assert!(added.status == 200 || added.status == 204, "{}", added.text);
    let members = |s: &Server| -> Vec<String> {
        let mut v: Vec<String> = s.get(&format!("/Groups/{gid}")).json()["members"]
            .as_array()
            .map(|m| m.iter().map(|x| x["value"].as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut both = vec![alice.clone(), bob.clone()];
    both.sort();
    assert_eq!(members(&a), both);

    let removed = a.patch(
        &format!("/Groups/{gid}"),
        &patch(json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}])),
    );
    assert!(removed.status == 200 || removed.status == 204, "{}", removed.text);
    assert_eq!(members(&b), vec![bob.clone()]);
    let by_member = b.get(&format!("/Groups?filter=members.value%20eq%20%22{bob}%22"));
    assert_eq!(by_member.json()["totalResults"], 1, "{}", by_member.text);
    assert_eq!(a.get(&format!("/Groups?filter=members.value%20eq%20%22{alice}%22")).json()["totalResults"], 0);
}

/// A fresh database on the test server for one test; None (printed) when there is none and the run allows it.
fn fresh_database(tag: &str) -> Option<String> {
    if skip_part("postgres", postgres().is_some(), "SCIMKIT_TEST_POSTGRES is not set (tests/run.sh starts a server)") {
        return None;
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    Some(postgres_database(&format!("{tag}_{}_{nanos}", std::process::id())))
}

/// The tenant `schemas` file on PostgreSQL: the same checks as on SQLite (a custom resource type stored, unique,
/// filtered by its typed and nested attributes, an extension attribute filtered).
#[test]
fn a_tenant_serves_the_schemas_of_its_file_on_postgresql() {
    let Some(db) = fresh_database("pg_schemas_file") else { return };
    common::schemas_file::a_tenant_serves_the_schemas_of_its_file(&[("SCIMKIT_DATABASE", db.as_str())]);
}
