//! Races through the server: uniqueness under concurrent creates, optimistic concurrency with If-Match,
//! and no lost update when many clients add members to one group. Threads of std only, each loop bounded.

use crate::common::{Server, TempDir};
use crate::user;
use serde_json::{json, Value};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

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

/// Adds one member by read-modify-write: GET, then PUT of the whole list under If-Match, again on 412.
/// Returns the number of attempts.
fn add_member(s: &Server, group: &str, member: &str, deadline: Instant) -> usize {
    for attempt in 1.. {
        assert!(Instant::now() < deadline, "adding {member}: out of time after {attempt} attempts");
        let read = s.get(&format!("/Groups/{group}"));
        assert_eq!(read.status, 200, "{}", read.text);
        let etag = read.header("etag").unwrap().to_string();
        let mut body = read.json();
        let mut members = body["members"].as_array().cloned().unwrap_or_default();
        members.push(json!({"value": member}));
        body["members"] = Value::Array(members);
        let put = s.send("PUT", &format!("/Groups/{group}"), &[("If-Match", etag.as_str())], Some(body.to_string()));
        match put.status {
            200 => return attempt,
            412 => continue,
            other => panic!("adding {member}: {other} {}", put.text),
        }
    }
    unreachable!()
}

#[test]
fn a_thousand_concurrent_member_adds_lose_no_update() {
    const WRITERS: usize = 4;
    const MEMBERS: usize = 1000;
    let dir = TempDir::new("race-members");
    let s = Arc::new(Server::start(&dir.0, &["--pool", "8"]));
    let group = s.post("/Groups", &json!({"displayName": "crowd"})).json()["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(240);
    let s2 = s.clone();
    let group2 = group.clone();
    let attempts: usize = together(WRITERS, move |w| {
        let mut attempts = 0;
        for i in (w..MEMBERS).step_by(WRITERS) {
            let id = s2.post("/Users", &user(&format!("member{i}"))).json()["id"].as_str().unwrap().to_string();
            attempts += add_member(&s2, &group2, &id, deadline);
        }
        attempts
    })
    .into_iter()
    .sum();
    let members = s.get(&format!("/Groups/{group}")).json()["members"].as_array().cloned().unwrap_or_default();
    let mut ids: Vec<&str> = members.iter().map(|m| m["value"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), MEMBERS, "lost updates: {} of {MEMBERS} members after {attempts} attempts", ids.len());
    assert!(attempts >= MEMBERS);
}
