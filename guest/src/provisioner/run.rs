//! One provisioning call: the requests it sends, recorded as steps, and the User part of the work.

use super::{diff, Abilities, Action, Outcome, Service, Step, Transport, Update};
use crate::http::{Request, Response, SCIM_JSON};
use crate::mapper::Attr;
use serde_json::{json, Value};

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub struct Run<'a> {
    transport: &'a mut dyn Transport,
    pub steps: Vec<Step>,
    /// What the target offers (PATCH, cursor paging); none until needed and asked.
    pub abilities: Option<Abilities>,
}

/// An expected reply: status, parsed body (`Null` when empty) and ETag.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub etag: Option<String>,
}

impl<'a> Run<'a> {
    pub fn new(transport: &'a mut dyn Transport, abilities: Option<Abilities>) -> Run<'a> {
        Run { transport, steps: Vec::new(), abilities }
    }

    /// Sends one request, records it, and turns any status outside `ok` into an error with the target's
    /// own `detail`.
    pub fn call(
        &mut self,
        action: Action,
        method: &str,
        target: &str,
        body: Option<&Value>,
        extra: &[(&str, String)],
        ok: &[u16],
    ) -> Result<Reply, String> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = vec![("Accept".to_string(), SCIM_JSON.to_string())];
        if body.is_some() {
            headers.push(("Content-Type".into(), SCIM_JSON.into()));
        }
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let req = Request {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
        };
        let mut step = Step { action, method: method.into(), path: target.into(), status: None, detail: String::new() };
        let resp = match self.transport.send(req) {
            Ok(r) => r,
            Err(e) => {
                step.detail = e.clone();
                self.steps.push(step);
                return Err(format!("{method} {target}: {e}"));
            }
        };
        step.status = Some(resp.status);
        let parsed = parse(&resp);
        if !ok.contains(&resp.status) {
            let detail = parsed.get("detail").and_then(Value::as_str).map(str::to_string);
            step.detail = detail.unwrap_or_else(|| String::from_utf8_lossy(&resp.body).chars().take(200).collect());
            let e = format!("{method} {target}: {} {}", resp.status, step.detail);
            self.steps.push(step);
            return Err(e);
        }
        self.steps.push(step);
        let etag = resp.header("etag").map(str::to_string);
        Ok(Reply { status: resp.status, body: parsed, etag })
    }

    /// Adds a detail to the last step.
    pub fn note(&mut self, detail: impl Into<String>) {
        if let Some(s) = self.steps.last_mut() {
            s.detail = detail.into();
        }
    }

    /// The one resource matching `attr eq "value"` at `endpoint`, if any; more than one is an error.
    pub fn find(
        &mut self,
        action: Action,
        endpoint: &str,
        attr: &str,
        value: &str,
        attributes: Option<&str>,
    ) -> Result<Option<Value>, String> {
        let filter = format!("{attr} eq {}", Value::String(value.into()));
        let mut target = format!("{endpoint}?filter={}&count=2", encode(&filter));
        if let Some(a) = attributes {
            target.push_str(&format!("&attributes={}", encode(a)));
        }
        let reply = self.call(action, "GET", &target, None, &[], &[200])?;
        let mut found = match reply.body.get("Resources") {
            Some(Value::Array(items)) => items.clone(),
            _ => vec![],
        };
        match found.len() {
            0 => {
                self.note("not found");
                Ok(None)
            }
            1 => {
                let hit = found.remove(0);
                self.note(format!("found {}", hit["id"].as_str().unwrap_or("?")));
                Ok(Some(hit))
            }
            _ => Err(format!("{attr} {value:?} matches more than one resource at {endpoint}")),
        }
    }

    /// What the target offers, asked once from `/ServiceProviderConfig`: PATCH (RFC 7643 §5 `patch.supported`)
    /// and cursor paging (RFC 9865 `pagination.cursor` and `maxPageSize`).
    pub fn abilities(&mut self) -> Result<Abilities, String> {
        if let Some(known) = self.abilities {
            return Ok(known);
        }
        let spc = self.call(Action::Discover, "GET", "/ServiceProviderConfig", None, &[], &[200])?;
        let flag = |pointer: &str| spc.body.pointer(pointer).and_then(Value::as_bool).unwrap_or(false);
        let max_page = spc.body.pointer("/pagination/maxPageSize").and_then(Value::as_u64);
        let known = Abilities {
            patch: flag("/patch/supported"),
            cursor: flag("/pagination/cursor"),
            max_page: max_page.filter(|&m| m > 0).map(|m| m.min(u32::MAX as u64) as u32),
        };
        self.note(format!("patch supported: {}, cursor paging: {}", known.patch, known.cursor));
        self.abilities = Some(known);
        Ok(known)
    }

    /// Whether the target takes PATCH.
    pub fn patch_supported(&mut self) -> Result<bool, String> {
        Ok(self.abilities()?.patch)
    }

    /// Finds, then creates or updates the User, then reconciles its groups.
    pub fn provision(&mut self, svc: &Service, attrs: &[Attr]) -> Result<(), String> {
        let mut resources = svc.mapping.to_resources(attrs)?.into_iter();
        let wanted = resources.next().unwrap_or_default();
        let key_attr = svc.match_by.attr();
        let key = wanted
            .get(key_attr)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the mapping gives no {key_attr}"))?
            .to_string();
        let group_names: Vec<String> =
            resources.filter_map(|g| g["displayName"].as_str().map(str::to_string)).collect();
        let (id, current_groups) = match self.find(Action::Search, "/Users", key_attr, &key, None)? {
            None => {
                let created = self.call(Action::Create, "POST", "/Users", Some(&wanted), &[], &[201])?;
                let id = created.body["id"].as_str().ok_or("the target created a User without an id")?.to_string();
                self.note(format!("created {id}"));
                (id, vec![])
            }
            Some(current) => {
                let id = current["id"].as_str().ok_or("the target answered a User without an id")?.to_string();
                self.update_user(svc, &id, &wanted, &current)?;
                (id, current.get("groups").and_then(Value::as_array).cloned().unwrap_or_default())
            }
        };
        super::groups::reconcile(self, &svc.mapping, &id, &group_names, &current_groups)
    }

    fn update_user(&mut self, svc: &Service, id: &str, wanted: &Value, current: &Value) -> Result<(), String> {
        let ops = diff::patch_ops(&svc.mapping, wanted, current);
        let path = format!("/Users/{id}");
        if ops.is_empty() {
            self.steps.push(Step {
                action: Action::Unchanged,
                method: String::new(),
                path,
                status: None,
                detail: "no mapped attribute differs".into(),
            });
            return Ok(());
        }
        let changed: Vec<&str> = ops.iter().filter_map(|o| o["path"].as_str()).collect();
        let detail = format!("changed: {}", changed.join(", "));
        if svc.update == Update::Patch && self.patch_supported()? {
            let body = json!({"schemas": [PATCH_OP], "Operations": ops});
            self.call(Action::Patch, "PATCH", &path, Some(&body), &[], &[200, 204])?;
        } else {
            let body = diff::replacement(&svc.mapping, wanted, current);
            let if_match =
                current.pointer("/meta/version").and_then(Value::as_str).map(|v| ("If-Match", v.to_string()));
            self.call(Action::Replace, "PUT", &path, Some(&body), if_match.as_slice(), &[200])?;
        }
        self.note(detail);
        Ok(())
    }

    pub fn outcome(&self) -> Outcome {
        if self.steps.iter().any(|s| s.action == Action::Create) {
            Outcome::Created
        } else if self.steps.iter().any(|s| !matches!(s.method.as_str(), "GET" | "")) {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        }
    }
}

fn parse(resp: &Response) -> Value {
    serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
}

/// Percent-encodes a query parameter value: everything but RFC 3986 unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(super::encode(r#"userName eq "a+b&c=d/é""#), "userName%20eq%20%22a%2Bb%26c%3Dd%2F%C3%A9%22");
        let decoded = crate::http::parse_query(&format!("f={}", super::encode("x y+z%")));
        assert_eq!(decoded[0].1, "x y+z%");
    }
}
