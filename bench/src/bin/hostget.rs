//! GET /Users/{id} through the Rust runtime's provider in process, over the in-memory storage: the Rust
//! row of the per-host comparison (`bench/hosts.sh`), printed in the same words as the other hosts' benches.
//! Bounded in count and time.

use scimkit_runtime::bindings::HttpRequest;
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::memory::MemoryStorage;
use scimkit_runtime::provider::Provider;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX: Duration = Duration::from_secs(120);

fn request(method: &str, path: &str, body: Option<&Value>) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers: vec![("Content-Type".into(), "application/scim+json".into())],
        body: body.map(|b| b.to_string().into_bytes()),
    }
}

/// CPU time of this process (user + system), from /proc.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command; 100 ticks a second.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let requests = args.next().transpose()?.unwrap_or(20_000);
    let users = args.next().transpose()?.unwrap_or(1000).max(1);
    let runtime = Arc::new(Runtime::new(EMBEDDED, None, GuestLimits::default())?);
    let config = json!({"baseUrl": "https://app.example/scim/v2"}).to_string();
    let provider = Provider::new(runtime, config, Arc::new(MemoryStorage::new()), 1)?;
    let mut ids = Vec::with_capacity(users);
    for i in 0..users {
        let body = json!({"userName": format!("user{i}"), "name": {"givenName": "Barbara", "familyName": format!("Jensen{i}")},
            "emails": [{"type": "work", "value": format!("user{i}@example.com")}], "title": "Tour guide"});
        let r = provider.handle(None, request("POST", "/Users", Some(&body)));
        anyhow::ensure!(r.status == 201, "create answered {}", r.status);
        ids.push(serde_json::from_slice::<Value>(&r.body)?["id"].as_str().unwrap_or_default().to_string());
    }
    let get = |n: usize| request("GET", &format!("/Users/{}", ids[(n * 7919) % ids.len()]), None);
    for n in 0..requests.min(500) {
        anyhow::ensure!(provider.handle(None, get(n)).status == 200, "warm-up GET failed");
    }
    let (started, cpu0) = (Instant::now(), cpu());
    let mut done = 0;
    while done < requests && started.elapsed() < MAX {
        anyhow::ensure!(provider.handle(None, get(done)).status == 200, "GET failed");
        done += 1;
    }
    let (s, used) = (started.elapsed().as_secs_f64(), (cpu() - cpu0).as_secs_f64());
    println!(
        "rust GET by id, {users} users: {done} requests in {s:.2} s, {:.0} requests/s, {:.0} us each ({:.0} us of CPU each)",
        done as f64 / s,
        s * 1e6 / done as f64,
        used * 1e6 / done as f64
    );
    Ok(())
}
