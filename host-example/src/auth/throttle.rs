//! Credentials that cost a password hash (argon2id, 19 MiB and tens of milliseconds each) are checked only
//! while their client address has attempts left: each check takes one, a success gives it back, and one comes
//! back per second up to [`BURST`]. Refused attempts cost no hash. Besides, at most [`HASHES_AT_ONCE`] hashes
//! run at the same time, whatever the addresses, so that memory stays bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Failed attempts an address may make in a row before it waits.
pub const BURST: f64 = 10.0;
/// Attempts an address gets back per second.
const REFILL_PER_SECOND: f64 = 1.0;
/// Addresses remembered at most; past it, those with all their attempts back are forgotten.
const MAX_ADDRESSES: usize = 100_000;
/// Password hashes computed at the same time, at most.
pub const HASHES_AT_ONCE: usize = 4;

struct Bucket {
    left: f64,
    at: Instant,
}

fn buckets() -> &'static Mutex<HashMap<IpAddr, Bucket>> {
    static BUCKETS: OnceLock<Mutex<HashMap<IpAddr, Bucket>>> = OnceLock::new();
    BUCKETS.get_or_init(Default::default)
}

fn refill(b: &mut Bucket, now: Instant) {
    b.left = (b.left + now.duration_since(b.at).as_secs_f64() * REFILL_PER_SECOND).min(BURST);
    b.at = now;
}

/// One attempt taken from an address; [`Attempt::succeeded`] gives it back.
pub struct Attempt(IpAddr);

impl Attempt {
    pub fn succeeded(self) {
        if let Some(b) = buckets().lock().unwrap().get_mut(&self.0) {
            b.left = (b.left + 1.0).min(BURST);
        }
    }
}

/// An attempt for `client`, or how long it must wait.
pub fn attempt(client: IpAddr) -> Result<Attempt, Duration> {
    let client = client.to_canonical();
    let now = Instant::now();
    let mut all = buckets().lock().unwrap();
    if all.len() >= MAX_ADDRESSES && !all.contains_key(&client) {
        all.retain(|_, b| {
            refill(b, now);
            b.left < BURST
        });
    }
    let b = all.entry(client).or_insert(Bucket { left: BURST, at: now });
    refill(b, now);
    if b.left < 1.0 {
        return Err(Duration::from_secs_f64(((1.0 - b.left) / REFILL_PER_SECOND).ceil().max(1.0)));
    }
    b.left -= 1.0;
    Ok(Attempt(client))
}

/// Runs `hash` when fewer than [`HASHES_AT_ONCE`] others are running, waiting for its turn.
pub fn one_hash_of_few<T>(hash: impl FnOnce() -> T) -> T {
    static RUNNING: Mutex<usize> = Mutex::new(0);
    static TURN: Condvar = Condvar::new();
    let mut running = TURN.wait_while(RUNNING.lock().unwrap(), |n| *n >= HASHES_AT_ONCE).unwrap();
    *running += 1;
    drop(running);
    let out = hash();
    *RUNNING.lock().unwrap() -= 1;
    TURN.notify_one();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_waits_and_successes_give_back() {
        let ip: IpAddr = "192.0.2.77".parse().unwrap();
        for _ in 0..BURST as usize - 1 {
            attempt(ip).expect("within the burst");
        }
        attempt(ip).expect("the last one").succeeded();
        attempt(ip).expect("given back");
        let wait = attempt(ip).err().expect("past the burst");
        assert!(wait >= Duration::from_secs(1), "{wait:?}");
        attempt("192.0.2.78".parse().unwrap()).expect("another address is not affected");
    }
}
