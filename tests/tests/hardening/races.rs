//! Races through the server: uniqueness under concurrent creates, optimistic concurrency with If-Match,
//! and no refused or lost change when many clients add members to one group. Threads of std only, each loop
//! bounded.

use crate::common::{Server, TempDir};
use crate::user;
use serde_json::{json, Value};
use std::sync::{Arc, Barrier};

/// Runs `f(i)` on `n` threads released together, and returns the results in thread order.
fn together<T: Send + 'static>(n: usize, f: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, f) = (barrier.clone(), f.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("a racing thread panicked")).collect()
}

fn tally(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

#[test]
fn fifty_concurrent_creates_of_one_user_name_give_one_201() {
    let dir = TempDir::new("race-create");
    let s = Arc::new(Server::start(&dir.0, &["--pool", "8"]));
    let s2 = s.clone();
    let statuses = together(50, move |i| {
        // Differently cased: userName is unique without regard to case.
        let name = if i % 2 == 0 { "racer" } else { "RACER" };
        s2.post("/Users", &user(name)).status
    });
    assert_eq!(tally(&statuses, 201), 1, "{statuses:?}");
    assert_eq!(tally(&statuses, 409), 49, "{statuses:?}");
    assert_eq!(s.get("/Users").json()["totalResults"], 1);
}

#[test]
fn concurrent_puts_with_one_if_match_give_one_200() {
    let dir = TempDir::new("race-ifmatch");
    let s = Arc::new(Server::start(&dir.0, &["--pool", "8"]));
    let created = s.post("/Users", &user("target"));
    let id = created.json()["id"].as_str().unwrap().to_string();
    let etag = created.header("etag").unwrap().to_string();
    let s2 = s.clone();
    let statuses = together(20, move |i| {
        let mut body = user("target");
        body["displayName"] = json!(format!("writer {i}"));
        s2.send("PUT", &format!("/Users/{id}"), &[("If-Match", etag.as_str())], Some(body.to_string())).status
    });
    assert_eq!(tally(&statuses, 200), 1, "{statuses:?}");
    assert_eq!(tally(&statuses, 412), 19, "{statuses:?}");
}

/// What Microsoft Entra ID sends to add one member: no query parameters, `$ref` null.
fn entra_add(member: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": member}]}]})
}

#[test]
fn three_hundred_member_adds_from_sixteen_clients_all_succeed_at_the_first_try() {
    const CLIENTS: usize = 16;
    const MEMBERS: usize = 300;
    let dir = TempDir::new("race-members");
    let s = Arc::new(Server::start(&dir.0, &["--pool", "16"]));
    let group = s.post("/Groups", &json!({"displayName": "crowd"})).json()["id"].as_str().unwrap().to_string();
    let mut users: Vec<String> = (0..MEMBERS)
        .map(|i| s.post("/Users", &user(&format!("member{i}"))).json()["id"].as_str().unwrap().to_string())
        .collect();
    let (s2, group2, users2) = (s.clone(), group.clone(), Arc::new(users.clone()));
    // One attempt per member: a membership delta commutes with every other, so nothing may be refused.
    let statuses: Vec<u16> = together(CLIENTS, move |c| {
        let path = format!("/Groups/{group2}");
        (c..MEMBERS).step_by(CLIENTS).map(|i| s2.patch(&path, &entra_add(&users2[i])).status).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(tally(&statuses, 204), MEMBERS, "{statuses:?}");
    let members = s.get(&format!("/Groups/{group}")).json()["members"].as_array().cloned().unwrap_or_default();
    let mut listed: Vec<String> = members.iter().map(|m| m["value"].as_str().unwrap().to_string()).collect();
    listed.sort();
    users.sort();
    assert_eq!(listed, users, "exactly the members added, each once");
}
