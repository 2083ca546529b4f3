//! `scimkit provision --from-tenant NAME`: the changes in a tenant's journal, pushed in order to a SCIM target.
//! A User is found on the target by the match attribute (userName or externalId); a create, replace, patch,
//! activation or deactivation writes the journaled after image (POST when the target has no such User, else
//! PUT); a delete deletes it. Groups are not pushed: their members are ids of the source tenant. The last
//! sequence number applied is remembered per tenant and target, so a second run resumes after it.

use super::queue::Queue;
use crate::events::journal::{Entry, Journal};
use crate::transport::HttpTarget;
use anyhow::{bail, Result};
use scimkit_runtime::bindings::{HttpRequest, HttpResponse};
use scimkit_runtime::transport::Transport;
use serde_json::Value;
use std::time::Duration;

/// What a run did, by kind of change.
#[derive(Debug, Default)]
pub struct Pushed {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    /// Changes with nothing to push: Groups, or a delete of a User the target does not have.
    pub skipped: u64,
    /// The last sequence number applied.
    pub cursor: i64,
}

pub struct Run<'a> {
    pub journal: &'a dyn Journal,
    pub queue: &'a Queue,
    pub source: &'a str,
    pub target_url: &'a str,
    pub target: HttpTarget,
    pub match_by: &'a str,
    /// Start after this sequence number instead of after the remembered one.
    pub since: Option<i64>,
    pub attempts: u32,
    pub backoff: Duration,
}

impl Run<'_> {
    /// Pushes every change after the cursor. A change that still fails after its attempts stops the run, with
    /// the cursor left just before it, so the next run starts with it and order is kept.
    pub fn push(mut self) -> Result<Pushed> {
        let mut done = Pushed {
            cursor: self.since.map_or_else(|| self.queue.cursor(self.source, self.target_url), Ok)?,
            ..Pushed::default()
        };
        loop {
            let batch = self.journal.after(done.cursor, 500)?;
            if batch.is_empty() {
                return Ok(done);
            }
            for entry in batch {
                let mut wait = self.backoff;
                let mut attempt = 1;
                loop {
                    match self.apply(&entry, &mut done) {
                        Ok(()) => break,
                        Err(e) if attempt >= self.attempts => {
                            bail!(
                                "change {} ({}): {e:#}; the changes up to {} are applied, the next run starts with this one",
                                entry.seq,
                                describe(&entry),
                                done.cursor
                            )
                        }
                        Err(_) => {
                            std::thread::sleep(wait);
                            wait *= 2;
                            attempt += 1;
                        }
                    }
                }
                done.cursor = entry.seq;
                self.queue.set_cursor(self.source, self.target_url, entry.seq)?;
            }
        }
    }

    fn apply(&mut self, entry: &Entry, done: &mut Pushed) -> Result<()> {
        let change = &entry.body;
        if change["resourceType"] != "User" {
            done.skipped += 1;
            return Ok(());
        }
        let deleted = change["operations"].as_array().is_some_and(|ops| ops.iter().any(|o| o == "delete"));
        let image = if deleted { &change["before"] } else { &change["after"] };
        // Found by what it was called before the change: a renamed User is the same User.
        let known_as = if change["before"].is_object() { &change["before"] } else { image };
        let Some(key) = known_as[self.match_by].as_str() else {
            bail!("the journaled image has no {}", self.match_by);
        };
        let found = self.find(key)?;
        match (deleted, found) {
            (true, None) => done.skipped += 1,
            (true, Some(id)) => {
                let resp = self.send("DELETE", &format!("/Users/{id}"), "", None)?;
                expect(&resp, &[204, 404])?;
                done.deleted += 1;
            }
            (false, found) => {
                let mut body = image.clone();
                if let Value::Object(o) = &mut body {
                    // Read-only on the target, or the source's own.
                    for attr in ["id", "meta", "groups"] {
                        o.remove(attr);
                    }
                }
                let body = Some(body.to_string().into_bytes());
                match found {
                    None => {
                        expect(&self.send("POST", "/Users", "", body)?, &[201])?;
                        done.created += 1;
                    }
                    Some(id) => {
                        expect(&self.send("PUT", &format!("/Users/{id}"), "", body)?, &[200])?;
                        done.updated += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// The target's id of the User whose match attribute is `key`.
    fn find(&mut self, key: &str) -> Result<Option<String>> {
        let filter = format!("{} eq {}", self.match_by, Value::from(key));
        let query = serde_urlencoded::to_string([("filter", filter.as_str()), ("attributes", "id")])?;
        let resp = self.send("GET", "/Users", &query, None)?;
        expect(&resp, &[200])?;
        let list: Value = serde_json::from_slice(&resp.body)?;
        Ok(list["Resources"][0]["id"].as_str().map(str::to_string))
    }

    fn send(&mut self, method: &str, path: &str, query: &str, body: Option<Vec<u8>>) -> Result<HttpResponse> {
        let headers = vec![
            ("Accept".to_string(), "application/scim+json".to_string()),
            ("Content-Type".to_string(), "application/scim+json".to_string()),
        ];
        let req = HttpRequest { method: method.into(), path: path.into(), query: query.into(), headers, body };
        self.target.send(req).map_err(|e| anyhow::anyhow!("{method} {path}: {e:?}"))
    }
}

/// Fails unless the target answered one of `ok`, with the SCIM error's detail when it gave one.
fn expect(resp: &HttpResponse, ok: &[u16]) -> Result<()> {
    if ok.contains(&resp.status) {
        return Ok(());
    }
    let detail =
        serde_json::from_slice::<Value>(&resp.body).ok().and_then(|b| b["detail"].as_str().map(str::to_string));
    bail!("the target answered {}{}", resp.status, detail.map(|d| format!(": {d}")).unwrap_or_default())
}

fn describe(entry: &Entry) -> String {
    let ops =
        entry.body["operations"].as_array().map(|o| o.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("+"));
    format!(
        "{} {} {}",
        ops.unwrap_or_default(),
        entry.body["resourceType"].as_str().unwrap_or("?"),
        entry.body["id"].as_str().unwrap_or("?")
    )
}
