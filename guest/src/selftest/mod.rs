//! The engine's own conformance checks (the WIT `selftest`), run against any SCIM service provider through a
//! [`Transport`]: one module per area, each check naming the RFC section it holds the target to. What runs
//! follows what the target announces; everything created is deleted at the end.

mod bulk;
mod discovery;
mod errors;
mod etags;
mod groups;
mod lists;
#[cfg(test)]
mod tests;
mod users;

use crate::http::{Request, SCIM_JSON};
pub use crate::provisioner::Transport;
use serde_json::{json, Value};

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    Skipped,
}

/// One check's result; see the WIT `check`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub section: String,
    pub verdict: Verdict,
    pub detail: String,
}

/// Runs every check against the target behind `transport`; `tag` makes created names unique.
pub fn run(transport: &mut dyn Transport, tag: &str) -> Vec<Check> {
    let mut s = Suite::new(transport, tag);
    if discovery::run(&mut s) {
        users::run(&mut s);
        lists::run(&mut s);
        etags::run(&mut s);
        groups::run(&mut s);
        errors::run(&mut s);
        bulk::run(&mut s);
    }
    s.cleanup();
    s.checks
}

/// What the target announces in `/ServiceProviderConfig` and `/ResourceTypes`.
#[derive(Debug, Default)]
pub struct Announced {
    pub patch: bool,
    pub bulk: bool,
    pub filter: bool,
    pub sort: bool,
    pub etag: bool,
    /// The User and Group endpoints (`/Users`), when the types are served.
    pub users: Option<String>,
    pub groups: Option<String>,
}

/// An answer: status, headers, body parsed (`Null` when empty or not JSON) and its start as text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::names::pair(&self.headers, name).map(String::as_str)
    }

    /// The status with the error's `scimType` and `detail` (or the body's start), for "saw …".
    pub fn seen(&self) -> String {
        let mut seen = self.status.to_string();
        if let Some(t) = self.body.get("scimType").and_then(Value::as_str) {
            seen.push_str(&format!(" {t}"));
        }
        let detail = self.body.get("detail").and_then(Value::as_str).unwrap_or(&self.text);
        if !detail.is_empty() {
            seen.push_str(&format!(" ({detail})"));
        }
        seen
    }

    /// `Ok` when the status is one of `ok`.
    pub fn status_in(&self, ok: &[u16]) -> Result<(), String> {
        if ok.contains(&self.status) {
            return Ok(());
        }
        let want: Vec<String> = ok.iter().map(u16::to_string).collect();
        Err(format!("expected status {}, saw {}", want.join(" or "), self.seen()))
    }

    /// An RFC 7644 §3.12 error: this status, the Error schema, `status` as a JSON string, and `scimType`.
    pub fn error(&self, status: u16, scim_type: Option<&str>) -> Result<(), String> {
        self.status_in(&[status])?;
        if !has(&self.body["schemas"], crate::error::ERROR_SCHEMA) {
            return Err(format!(
                "expected an Error body (schemas holding {}), saw {}",
                crate::error::ERROR_SCHEMA,
                self.text
            ));
        }
        if self.body["status"] != json!(status.to_string()) {
            return Err(format!("expected \"status\": \"{status}\" (a JSON string), saw {}", self.body["status"]));
        }
        match (scim_type, self.body.get("scimType")) {
            (Some(t), Some(Value::String(seen))) if seen == t => Ok(()),
            (Some(t), seen) => {
                Err(format!("expected scimType {t}, saw {}", seen.map_or("none".into(), Value::to_string)))
            }
            (None, _) => Ok(()),
        }
    }

    /// A string attribute of the body, for comparisons.
    pub fn str(&self, pointer: &str) -> Option<&str> {
        self.body.pointer(pointer).and_then(Value::as_str)
    }
}

/// Whether a JSON array holds this string.
pub fn has(list: &Value, item: &str) -> bool {
    list.as_array().is_some_and(|l| l.iter().any(|v| v == item))
}

/// The checks' state: the target, the results so far, what was announced and what is left to delete.
pub struct Suite<'a> {
    transport: &'a mut dyn Transport,
    pub checks: Vec<Check>,
    pub announced: Announced,
    /// The path of the run's main User, once created (for groups, ETags and errors).
    pub user: Option<String>,
    tag: String,
    serial: u32,
    /// Paths of the resources created and not deleted yet, in creation order.
    created: Vec<String>,
}

impl<'a> Suite<'a> {
    pub fn new(transport: &'a mut dyn Transport, tag: &str) -> Suite<'a> {
        let mut tag: String = tag.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
        if tag.is_empty() {
            tag = "run".into();
        }
        Suite {
            transport,
            checks: vec![],
            announced: Announced::default(),
            user: None,
            tag,
            serial: 0,
            created: vec![],
        }
    }

    /// A name no other run uses: `selftest-<tag>-<what><n>`.
    pub fn unique(&mut self, what: &str) -> String {
        self.serial += 1;
        format!("selftest-{}-{what}{}", self.tag, self.serial)
    }

    /// The prefix every name of this run starts with.
    pub fn prefix(&self) -> String {
        format!("selftest-{}-", self.tag)
    }

    /// Records a check; returns the value of a passed one.
    pub fn record<T>(&mut self, name: &str, section: &str, result: Result<T, String>) -> Option<T> {
        let (verdict, detail, value) = match result {
            Ok(v) => (Verdict::Passed, String::new(), Some(v)),
            Err(e) => (Verdict::Failed, e, None),
        };
        self.checks.push(Check { name: name.into(), section: section.into(), verdict, detail });
        value
    }

    pub fn skip(&mut self, name: &str, section: &str, why: &str) {
        self.checks.push(Check {
            name: name.into(),
            section: section.into(),
            verdict: Verdict::Skipped,
            detail: why.into(),
        });
    }

    /// Sends one request; `Err` is a transport failure, described with the request.
    pub fn call(
        &mut self,
        method: &str,
        target: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Result<Reply, String> {
        self.send_raw(method, target, body.map(|b| b.to_string().into_bytes()), extra)
    }

    pub fn send_raw(
        &mut self,
        method: &str,
        target: &str,
        body: Option<Vec<u8>>,
        extra: &[(&str, &str)],
    ) -> Result<Reply, String> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = vec![("Accept".to_string(), SCIM_JSON.to_string())];
        if body.is_some() {
            headers.push(("Content-Type".into(), SCIM_JSON.into()));
        }
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let req = Request { method: method.into(), path: path.into(), query: query.into(), headers, body };
        let resp = self.transport.send(req).map_err(|e| format!("{method} {target}: {e}"))?;
        let text = String::from_utf8_lossy(&resp.body).chars().take(300).collect();
        let body = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        Ok(Reply { status: resp.status, headers: resp.headers, body, text })
    }

    pub fn get(&mut self, target: &str) -> Result<Reply, String> {
        self.call("GET", target, None, &[])
    }

    /// POSTs a resource; a 201 with an `id` is remembered for deletion at the end.
    pub fn create(&mut self, endpoint: &str, body: &Value) -> Result<Reply, String> {
        let reply = self.call("POST", endpoint, Some(body), &[])?;
        if reply.status == 201 {
            if let Some(id) = reply.str("/id") {
                self.created.push(format!("{endpoint}/{id}"));
            }
        }
        Ok(reply)
    }

    /// Remembers a resource created another way (by Bulk), for deletion at the end.
    pub fn delete_later(&mut self, path: &str) {
        self.created.push(path.into());
    }

    /// PATCHes with these operations.
    pub fn patch(&mut self, target: &str, ops: Value) -> Result<Reply, String> {
        self.call("PATCH", target, Some(&json!({"schemas": [PATCH_OP], "Operations": ops})), &[])
    }

    /// DELETEs; a 204 forgets the resource.
    pub fn delete(&mut self, target: &str) -> Result<Reply, String> {
        let reply = self.call("DELETE", target, None, &[])?;
        if reply.status == 204 {
            self.created.retain(|p| p != target);
        }
        Ok(reply)
    }

    /// A User of this run, created; its path and the answer.
    pub fn new_user(&mut self, what: &str) -> Result<(String, Reply), String> {
        let endpoint = self.announced.users.clone().ok_or("Users are not announced")?;
        let name = self.unique(what);
        let reply = self.create(&endpoint, &user(&name))?;
        reply.status_in(&[201])?;
        let id = reply.str("/id").ok_or_else(|| format!("expected an id in the created User, saw {}", reply.text))?;
        Ok((format!("{endpoint}/{id}"), reply))
    }

    /// Deletes what the checks left, newest first; a failure is the check `cleanup`.
    fn cleanup(&mut self) {
        let mut left = vec![];
        for path in std::mem::take(&mut self.created).into_iter().rev() {
            match self.call("DELETE", &path, None, &[]) {
                Ok(r) if matches!(r.status, 204 | 404) => {}
                Ok(r) => left.push(format!("{path} ({})", r.seen())),
                Err(e) => left.push(format!("{path} ({e})")),
            }
        }
        let result = if left.is_empty() { Ok(()) } else { Err(format!("could not delete {}", left.join(", "))) };
        self.record("cleanup", "RFC 7644 §3.6", result);
    }
}

/// A User body with only core attributes (a strict server refuses unknown ones).
pub fn user(user_name: &str) -> Value {
    json!({
        "schemas": [crate::schema::USER],
        "userName": user_name,
        "name": {"givenName": "Self", "familyName": "Test"},
        "displayName": "Self Test",
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
        "active": true,
    })
}

/// A query parameter value, percent-encoded.
pub fn encode(text: &str) -> String {
    crate::provisioner::encode(text)
}

/// `filter=…` for `expr`.
pub fn filter(expr: &str) -> String {
    format!("filter={}", encode(expr))
}
