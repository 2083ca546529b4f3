//! Unit-test helpers: an engine over a [`MemoryStore`], and requests built in one line.

use crate::http::{Request, Response};
use crate::store::memory::MemoryStore;
use crate::Engine;
use serde_json::{json, Value};

pub struct Service {
    pub engine: Engine,
    pub store: MemoryStore,
    pub principal: Option<String>,
}

/// A response with its body parsed (`Value::Null` when empty).
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts an RFC 7644 §3.12 error body with this status.
    pub fn assert_error(&self, status: u16) -> &Answer {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["schemas"][0], crate::error::ERROR_SCHEMA, "{}", self.body);
        assert_eq!(self.body["status"], status.to_string(), "{}", self.body);
        self
    }
}

impl Service {
    pub fn new() -> Service {
        Service::with_config(r#"{"baseUrl":"https://example.com/scim/v2"}"#)
    }

    pub fn with_config(config: &str) -> Service {
        Service { engine: Engine::new(config).unwrap(), store: MemoryStore::new(), principal: None }
    }

    /// `path` may carry a query (`/Users?count=1`); the body is sent as SCIM JSON.
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Answer {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut all: Vec<(String, String)> = vec![("Content-Type".into(), "application/scim+json".into())];
        all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let req = Request {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: all,
            body: body.map(|b| b.to_string().into_bytes()),
        };
        self.raw(&req)
    }

    pub fn raw(&mut self, req: &Request) -> Answer {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let Response { status, headers, body } = self.engine.handle(&mut self.store, now, self.principal.as_deref(), req);
        let body = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap() };
        Answer { status, headers, body }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, &[], None)
    }

    pub fn post(&mut self, path: &str, body: &Value) -> Answer {
        self.send("POST", path, &[], Some(body))
    }

    pub fn put(&mut self, path: &str, body: &Value) -> Answer {
        self.send("PUT", path, &[], Some(body))
    }

    pub fn delete(&mut self, path: &str) -> Answer {
        self.send("DELETE", path, &[], None)
    }

    /// Creates a user and returns its id.
    pub fn user(&mut self, name: &str) -> String {
        let a = self.post("/Users", &json!({"userName": name}));
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["id"].as_str().unwrap().to_string()
    }
}
