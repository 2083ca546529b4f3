//! kill -9 in the middle of a write load: after a restart on the same data directory, every acknowledged
//! write is there and the database is intact.

use crate::common::{agent, skip_on_postgres, Server, TempDir, TOKEN};
use crate::user;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// POST /Users that reports a failed connection instead of panicking: the server dies under it.
fn try_create(url: &str, name: &str) -> Option<(u16, String)> {
    let mut resp = agent()
        .post(url)
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .send(user(name).to_string())
        .ok()?;
    let mut text = String::new();
    resp.body_mut().as_reader().read_to_string(&mut text).ok()?;
    Some((resp.status().as_u16(), text))
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    const WRITERS: usize = 4;
    let dir = TempDir::new("crash");
    // The writes, then one GET per acknowledged write, are more than the default tenant's rate limit lets
    // through: this test is about durability, not the limit.
    let unthrottled = "[[tenant]]\nname = \"default\"\nrate_limit_per_second = 1000000\nrate_limit_burst = 1000000\n";
    std::fs::write(dir.0.join("scimkit.toml"), unthrottled).unwrap();
    let s = Server::start(&dir.0, &[]);
    let url = s.url("/Users");
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, stop, acked) = (url.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || {
                for i in 0..5_000 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let name = format!("w{w}-{i}");
                    match try_create(&url, &name) {
                        Some((201, text)) => {
                            let body: serde_json::Value = serde_json::from_str(&text).unwrap();
                            acked.lock().unwrap().push((body["id"].as_str().unwrap().to_string(), name));
                        }
                        Some((status, text)) => panic!("{name}: {status} {text}"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // `Child::kill` is SIGKILL: no shutdown handler runs.
    s.stop();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("a writer panicked");
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "no write was acknowledged before the kill");

    if !skip_on_postgres("the integrity check reads the SQLite file") {
        let db = rusqlite::Connection::open(dir.0.join("scimkit.sqlite3")).unwrap();
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }

    let s = Server::start(&dir.0, &[]);
    for (id, name) in &acked {
        let r = s.get(&format!("/Users/{id}"));
        assert_eq!(r.status, 200, "acknowledged {name} ({id}) is gone");
        assert_eq!(r.json()["userName"], name.as_str());
    }
    let total = s.get("/Users?count=0").json()["totalResults"].as_u64().unwrap();
    assert!(total >= acked.len() as u64, "{total} < {}", acked.len());
    let log = s.stop();
    assert!(!log.contains("ERROR") && !log.contains("WARN"), "{log}");
}
