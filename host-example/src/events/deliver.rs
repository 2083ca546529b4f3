//! Delivery: one thread per receiver sends the journal in order from the receiver's cursor, and moves the
//! cursor past an entry only once the receiver took it. A failure (no answer, or a status other than the
//! receiver's success) stops the receiver's queue, which is tried again after a wait that doubles up to the
//! configured maximum: so events arrive in journal order (and so in order per resource), at least once, each
//! with its event id.

use super::formats::{self, Delivery};
use super::journal::{Entry, Journal};
use super::{Format, Receiver};
use scimkit_runtime::events::{ChangeEvent, Hooks};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Entries read from the journal at a time.
const BATCH: usize = 100;
/// How long an idle worker waits before looking at the journal again (other processes, replays).
const POLL: Duration = Duration::from_secs(1);

/// Wakes the tenant's workers when the engine reports a change, so that delivery does not wait for a poll.
#[derive(Default)]
pub struct Wake {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Wake {
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let g = self.generation.lock().unwrap();
        let (g, _) = self.changed.wait_timeout_while(g, timeout, |g| *g == seen).unwrap();
        *g
    }

    fn current(&self) -> u64 {
        *self.generation.lock().unwrap()
    }
}

impl Hooks for Wake {
    fn changed(&self, _change: &ChangeEvent, _version: &str) {
        *self.generation.lock().unwrap() += 1;
        self.changed.notify_all();
    }
}

/// One receiver's delivery state, for `/metrics` and the admin page.
pub struct State {
    pub url: String,
    pub format: Format,
    pub delivered: AtomicU64,
    /// Attempts that failed (and are retried).
    pub failures: AtomicU64,
    /// SETs the receiver refused with 400 (RFC 8935 §2.3): not sent again.
    pub rejected: AtomicU64,
    /// The last sequence number delivered, and the last journaled.
    pub cursor: AtomicI64,
    pub last: AtomicI64,
    pub last_error: Mutex<Option<String>>,
}

impl State {
    pub fn pending(&self) -> i64 {
        (self.last.load(Ordering::Relaxed) - self.cursor.load(Ordering::Relaxed)).max(0)
    }
}

/// What a receiver made of one entry.
enum Outcome {
    Delivered,
    /// A SET refused as invalid: sending it again would not help.
    Rejected(String),
    /// Not taken; try again later.
    Failed(String),
}

/// Starts a worker for each receiver of a tenant; `issuer` is the tenant's SCIM base URL (a SET's `iss`).
pub fn start(
    tenant: &str,
    issuer: &str,
    receivers: &[Receiver],
    journal: Arc<dyn Journal>,
    wake: Arc<Wake>,
) -> Vec<Arc<State>> {
    receivers
        .iter()
        .map(|r| {
            let state = Arc::new(State {
                url: r.url.clone(),
                format: r.format,
                delivered: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
                cursor: AtomicI64::new(0),
                last: AtomicI64::new(0),
                last_error: Mutex::new(None),
            });
            let worker = Worker {
                tenant: tenant.to_string(),
                issuer: issuer.to_string(),
                receiver: r.clone(),
                journal: journal.clone(),
                wake: wake.clone(),
                state: state.clone(),
                agent: ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .max_redirects(0)
                    .build()
                    .into(),
            };
            std::thread::Builder::new()
                .name(format!("events-{tenant}"))
                .spawn(move || worker.run())
                .expect("starting a delivery thread");
            state
        })
        .collect()
}

struct Worker {
    tenant: String,
    issuer: String,
    receiver: Receiver,
    journal: Arc<dyn Journal>,
    wake: Arc<Wake>,
    state: Arc<State>,
    agent: ureq::Agent,
}

impl Worker {
    fn run(self) {
        let initial = Duration::from_millis(self.receiver.retry_initial_ms);
        let mut backoff = initial;
        loop {
            let seen = self.wake.current();
            match self.round() {
                Ok(true) => backoff = initial,
                Ok(false) => {
                    self.wake.wait(seen, POLL);
                }
                Err(why) => {
                    self.state.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(tenant = %self.tenant, receiver = %self.receiver.url, "event delivery failed, retrying in {backoff:?}: {why}");
                    *self.state.last_error.lock().unwrap() = Some(why);
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(self.receiver.retry_max_ms));
                }
            }
        }
    }

    /// Delivers what follows the cursor. Ok(false): nothing to deliver; Err: a delivery failed.
    fn round(&self) -> Result<bool, String> {
        let url = &self.receiver.url;
        let mut cursor = self.journal.cursor(url).map_err(|e| format!("reading the journal: {e:#}"))?;
        self.state.cursor.store(cursor, Ordering::Relaxed);
        let batch = self.journal.after(cursor, BATCH).map_err(|e| format!("reading the journal: {e:#}"))?;
        if let Some(last) = batch.last() {
            self.state.last.fetch_max(last.seq, Ordering::Relaxed);
        } else {
            let last = self.journal.last().map_err(|e| format!("reading the journal: {e:#}"))?;
            self.state.last.store(last, Ordering::Relaxed);
            return Ok(false);
        }
        for entry in batch {
            match self.send(&entry) {
                Outcome::Delivered => {
                    self.state.delivered.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Rejected(why) => {
                    self.state.rejected.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(tenant = %self.tenant, receiver = %url, event = %entry.event_id, "the receiver rejected the event: {why}");
                }
                Outcome::Failed(why) => return Err(why),
            }
            *self.state.last_error.lock().unwrap() = None;
            // A replay moved the cursor meanwhile: start again from where it put it.
            if !self.journal.advance(url, cursor, entry.seq).map_err(|e| format!("moving the cursor: {e:#}"))? {
                return Ok(true);
            }
            cursor = entry.seq;
            self.state.cursor.store(cursor, Ordering::Relaxed);
        }
        Ok(true)
    }

    fn send(&self, entry: &Entry) -> Outcome {
        let r = &self.receiver;
        let delivery = match r.format {
            Format::Webhook => formats::webhook(&self.tenant, entry, &r.secret),
            Format::Set => match formats::set(&self.issuer, &r.url, entry, &r.secret) {
                Ok(d) => d,
                Err(e) => return Outcome::Rejected(format!("cannot sign the SET: {e}")),
            },
        };
        let Delivery { content_type, headers, body } = delivery;
        let mut req = self.agent.post(&r.url).header("Content-Type", content_type);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let mut resp = match req.send(&body[..]) {
            Ok(resp) => resp,
            Err(e) => return Outcome::Failed(format!("{}: {e}", r.url)),
        };
        let status = resp.status().as_u16();
        match (r.format, status) {
            (Format::Webhook, 200..=299) | (Format::Set, 202) => Outcome::Delivered,
            // RFC 8935 §2.3: 400 says the SET itself is wrong, with an `err` code; sent again, it would be again.
            (Format::Set, 400) => {
                let text = resp.body_mut().with_config().limit(4096).read_to_string().unwrap_or_default();
                Outcome::Rejected(format!("400 {text}"))
            }
            _ => Outcome::Failed(format!("{} answered {status}", r.url)),
        }
    }
}
