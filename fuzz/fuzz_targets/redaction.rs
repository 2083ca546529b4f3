//! Anything the engine reads as a password never reaches the request log. The input drives a generator of
//! requests: User bodies (POST, PUT), PATCH operations with and without a path (value objects, URN paths),
//! Bulk requests holding both, member names in any case and partly `\u`-escaped, duplicated members, under
//! every JSON media type. Each request goes through the engine over an in-memory store; every password the
//! store then holds that it did not hold before is what the engine read as one, and it must be absent from
//! what the redactor keeps of the request body and of the response body.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use scimkit_guest::http::Request;
use scimkit_guest::store::memory::MemoryStore;
use scimkit_guest::store::{Query, Store};
use scimkit_guest::Engine;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("application/scim+json"),
    Some("application/json"),
    Some("Application/SCIM+JSON; charset=utf-8"),
    Some("application/x-www-form-urlencoded+json"),
    Some("application/vnd.example+json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
];

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(r#"{"baseUrl":"https://example.com/scim/v2"}"#).expect("configuration"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("a valid instant")
}

/// Builds request bodies as text, so that members may repeat and names may be escaped.
struct Gen<'a, 'b> {
    u: &'a mut Unstructured<'b>,
    /// Passwords handed out, each unique and found nowhere else in a body.
    secrets: usize,
}

impl Gen<'_, '_> {
    fn secret(&mut self) -> String {
        self.secrets += 1;
        format!("Sekret{}Q", self.secrets)
    }

    /// `name` in some mix of cases, as the engine reads member and attribute names.
    fn cased(&mut self, name: &str) -> Result<String> {
        Ok(match self.u.int_in_range(0..=3u8)? {
            0 => name.to_string(),
            1 => name.to_ascii_uppercase(),
            2 => name.to_ascii_lowercase(),
            _ => {
                let mut out = String::with_capacity(name.len());
                for c in name.chars() {
                    out.push(if self.u.arbitrary::<bool>()? { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() });
                }
                out
            }
        })
    }

    /// A JSON string literal of `text`, some characters written as `\u` escapes.
    fn lit(&mut self, text: &str) -> Result<String> {
        let escape = self.u.ratio(1u8, 4u8)?;
        let mut out = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || (escape && self.u.arbitrary::<bool>()? && (c as u32) < 0x10000) => {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                }
                c => out.push(c),
            }
        }
        out.push('"');
        Ok(out)
    }

    /// `{…}` of `members`, in an order the input picks.
    fn object(&mut self, mut members: Vec<(String, String)>) -> Result<String> {
        let mut out = Vec::with_capacity(members.len());
        while !members.is_empty() {
            let at = self.u.choose_index(members.len())?;
            let (k, v) = members.swap_remove(at);
            out.push(format!("{}:{v}", self.lit(&k)?));
        }
        Ok(format!("{{{}}}", out.join(",")))
    }

    /// Where a password may be written as a member: `password`, or under the core schema's URN.
    fn password_member(&mut self) -> Result<(String, String)> {
        let secret = self.secret();
        let value = self.lit(&secret)?;
        Ok(match self.u.int_in_range(0..=2u8)? {
            0 => (self.cased("password")?, value),
            1 => (self.cased(&format!("{USER}:password"))?, value),
            _ => {
                let inner = self.cased("password")?;
                let nested = self.object(vec![(inner, value)])?;
                (self.cased(USER)?, nested)
            }
        })
    }

    /// Attributes of a User, a password among them or not.
    fn user_members(&mut self, with_user_name: bool) -> Result<Vec<(String, String)>> {
        let mut m = Vec::new();
        if with_user_name {
            let name = format!("user{}", self.u.int_in_range(0..=3u8)?);
            m.push((self.cased("userName")?, self.lit(&name)?));
        }
        for _ in 0..self.u.int_in_range(0..=2u8)? {
            m.push(self.password_member()?);
        }
        if self.u.arbitrary::<bool>()? {
            m.push((self.cased("displayName")?, self.lit("Barbara")?));
        }
        if self.u.arbitrary::<bool>()? {
            let given = self.cased("givenName")?;
            let name = self.object(vec![(given, "\"Babs\"".into())])?;
            m.push((self.cased("name")?, name));
        }
        if self.u.arbitrary::<bool>()? {
            let number = self.cased("employeeNumber")?;
            let ext = self.object(vec![(number, "\"701984\"".into())])?;
            m.push((self.cased(ENTERPRISE)?, ext));
        }
        Ok(m)
    }

    fn schemas(&mut self, urns: &[&str]) -> Result<(String, String)> {
        let list: Vec<String> = urns.iter().map(|u| self.lit(u)).collect::<Result<_>>()?;
        Ok((self.cased("schemas")?, format!("[{}]", list.join(","))))
    }

    fn user(&mut self) -> Result<String> {
        let mut m = self.user_members(true)?;
        let urns: &[&str] = if self.u.arbitrary::<bool>()? { &[USER, ENTERPRISE] } else { &[USER] };
        m.push(self.schemas(urns)?);
        self.object(m)
    }

    /// A PATCH path naming the password.
    fn password_path(&mut self) -> Result<String> {
        let path = match self.u.int_in_range(0..=2u8)? {
            0 => self.cased("password")?,
            1 => format!(" {} ", self.cased("password")?),
            _ => self.cased(&format!("{USER}:password"))?,
        };
        self.lit(&path)
    }

    fn operation(&mut self) -> Result<String> {
        let verb = *self.u.choose(&["add", "replace"])?;
        let op = self.cased("op")?;
        let verb = self.cased(verb)?;
        let mut m = vec![(op, self.lit(&verb)?)];
        let value = self.cased("value")?;
        match self.u.int_in_range(0..=4u8)? {
            // A path naming the password, its value the secret (or a list of it).
            0 => {
                m.push((self.cased("path")?, self.password_path()?));
                let secret = self.secret();
                let v = self.lit(&secret)?;
                m.push((value, if self.u.ratio(1u8, 5u8)? { format!("[{v}]") } else { v }));
            }
            // No path: a value object of attributes.
            1 => {
                let with_user_name = self.u.arbitrary::<bool>()?;
                let members = self.user_members(with_user_name)?;
                m.push((value, self.object(members)?));
            }
            // The core schema's URN as the path, the value an object.
            2 => {
                m.push((self.cased("path")?, self.lit(USER)?));
                let members = self.user_members(false)?;
                m.push((value, self.object(members)?));
            }
            // The path given twice, in two cases: which one counts is the engine's choice.
            3 => {
                let decoy = self.lit("displayName")?;
                let (first, second) = (self.cased("path")?, self.cased("path")?);
                let real = self.password_path()?;
                let (a, b) = if self.u.arbitrary::<bool>()? { (real, decoy) } else { (decoy, real) };
                m.push((first, a));
                m.push((second, b));
                let secret = self.secret();
                m.push((value, self.lit(&secret)?));
            }
            _ => {
                m.push((self.cased("path")?, self.lit("displayName")?));
                m.push((value, self.lit("Babs")?));
            }
        }
        self.object(m)
    }

    fn patch(&mut self) -> Result<String> {
        let mut ops = Vec::new();
        for _ in 0..self.u.int_in_range(1..=3u8)? {
            ops.push(self.operation()?);
        }
        let mut m = vec![(self.cased("Operations")?, format!("[{}]", ops.join(",")))];
        if self.u.ratio(3u8, 4u8)? {
            m.push(self.schemas(&[PATCH_OP])?);
        }
        self.object(m)
    }

    fn bulk(&mut self, user: &str) -> Result<String> {
        let mut ops = Vec::new();
        for i in 0..self.u.int_in_range(1..=3u8)? {
            let (method, path, data) = match self.u.int_in_range(0..=2u8)? {
                0 => ("POST", "/Users".to_string(), self.user()?),
                1 => ("PUT", format!("/Users/{user}"), self.user()?),
                _ => ("PATCH", format!("/Users/{user}"), self.patch()?),
            };
            let method_name = self.cased(method)?;
            let mut m = vec![
                (self.cased("method")?, self.lit(&method_name)?),
                (self.cased("path")?, self.lit(&path)?),
                (self.cased("data")?, data),
            ];
            if method == "POST" {
                m.push((self.cased("bulkId")?, self.lit(&format!("b{i}"))?));
            }
            ops.push(self.object(m)?);
        }
        let m = vec![(self.cased("Operations")?, format!("[{}]", ops.join(","))), self.schemas(&[BULK])?];
        self.object(m)
    }
}

/// Every password the store's Users hold.
fn passwords(store: &mut MemoryStore) -> BTreeSet<String> {
    let all = Query {
        resource_type: "User".into(),
        filter: None,
        sort: None,
        start_index: 1,
        count: u32::MAX,
        without_members: true,
    };
    let page = store.search(&all).expect("the in-memory store answers");
    let mut out = BTreeSet::new();
    for item in page.items {
        let data: Value = serde_json::from_str(&item.data).expect("stored data is JSON");
        collect(&data, &mut out);
    }
    out
}

/// Password values at any depth, under any case of the name.
fn collect(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k.eq_ignore_ascii_case("password") => {
                        out.insert(s.clone());
                    }
                    other => collect(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        _ => {}
    }
}

fn send(store: &mut MemoryStore, method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Vec<u8> {
    let req = Request {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers: content_type.map(|ct| vec![("Content-Type".into(), ct.into())]).unwrap_or_default(),
        body: Some(body),
    };
    engine().handle(store, now(), None, &req).body
}

fn check(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let mut g = Gen { u: &mut u, secrets: 0 };
    let mut store = MemoryStore::new();
    let created = send(
        &mut store,
        "POST",
        "/Users",
        None,
        format!(r#"{{"schemas":["{USER}"],"userName":"bjensen","password":"Initial0Q"}}"#).into_bytes(),
    );
    let created: Value = serde_json::from_slice(&created).expect("JSON");
    let user = created["id"].as_str().expect("the first user is created").to_string();
    let before = passwords(&mut store);

    let content_type = *g.u.choose(&CONTENT_TYPES)?;
    let (method, path, body) = match g.u.int_in_range(0..=3u8)? {
        0 => ("POST", "/Users".to_string(), g.user()?),
        1 => ("PUT", format!("/Users/{user}"), g.user()?),
        2 => ("PATCH", format!("/Users/{user}"), g.patch()?),
        _ => ("POST", "/Bulk".to_string(), g.bulk(&user)?),
    };
    let response = send(&mut store, method, &path, content_type, body.clone().into_bytes());
    let read: Vec<String> = passwords(&mut store).difference(&before).cloned().collect();
    let kept_request = scimkit_redact::body(content_type, body.as_bytes()).unwrap_or_default();
    let kept_response = scimkit_redact::body(Some("application/scim+json"), &response).unwrap_or_default();
    for password in &read {
        // As the log prints it: JSON text, where the password may be escaped.
        let escaped = serde_json::to_string(password).expect("a string");
        for (what, kept) in [("request", &kept_request), ("response", &kept_response)] {
            assert!(
                !kept.contains(password.as_str()) && !kept.contains(&escaped[1..escaped.len() - 1]),
                "{method} {path} ({content_type:?}): the engine read the password {password:?}, and the log keeps \
                 it in the {what}:\n{kept}\nbody: {body}"
            );
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = check(data);
});
