//! A guest trap costs one request, never the host: a run of trapping requests leaves the instance pool
//! healthy.

use crate::common::{Server, TempDir};
use crate::user;
use serde_json::json;
use std::sync::Arc;

fn heavy(name: &str) -> serde_json::Value {
    let emails: Vec<_> =
        (0..9_000).map(|i| json!({"value": format!("{name}{i}@example.com"), "type": "work"})).collect();
    let mut body = user(name);
    body["emails"] = json!(emails);
    body
}

#[test]
fn twenty_traps_in_a_row_then_the_pool_serves_again() {
    let dir = TempDir::new("traps");
    // A fuel budget the heavy body exhausts inside the guest, which traps.
    let mut s = Server::start(&dir.0, &["--guest-fuel", "5000000", "--pool", "4"]);
    for i in 0..20 {
        s.post("/Users", &heavy(&format!("heavy{i}"))).assert_error(500, None);
    }
    assert!(s.alive());
    assert_eq!(s.log().matches("trapped").count(), 20, "{}", s.log());
    let after = s.post("/Users", &user("after"));
    assert_eq!(after.status, 201, "{}", after.text);
    // Several at once: the pool refills with healthy instances.
    let s = Arc::new(s);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..5).map(|i| s.post("/Users", &user(&format!("t{t}-{i}"))).status).collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().iter().all(|&st| st == 201));
    }
    assert_eq!(s.get("/Users?count=0").json()["totalResults"], 41);
}

#[test]
fn the_memory_cap_traps_and_the_server_recovers() {
    let dir = TempDir::new("memcap");
    let mut s = Server::start(&dir.0, &["--guest-memory-mb", "24", "--max-body-bytes", "40000000"]);
    // A 30 MB body does not fit in 24 MiB of guest memory.
    let body = format!("{{\"userName\":\"big\",\"displayName\":\"{}\"}}", "x".repeat(30_000_000));
    s.send("POST", "/Users", &[], Some(body)).assert_error(500, None);
    assert!(s.alive());
    assert_eq!(s.post("/Users", &user("small")).status, 201);
}
