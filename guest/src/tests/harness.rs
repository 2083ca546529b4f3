//! Drives an [`Engine`] with requests against a [`MemoryStore`], for tests anywhere in the crate.

use crate::http::Request;
use crate::store::memory::MemoryStore;
use crate::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// The base URL the RFC 7643 §8 examples use, so that their `$ref`s and locations come back unchanged.
pub const BASE_URL: &str = "https://example.com/v2";

/// One engine, one in-memory store and a clock that only moves when told to.
pub struct Harness {
    pub engine: Engine,
    pub store: MemoryStore,
    pub now: DateTime<Utc>,
    /// The authenticated principal the requests come from (for `/Me`).
    pub principal: Option<String>,
}

/// A response with its body parsed (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::names::pair(&self.headers, name).map(String::as_str)
    }

    /// The body, after checking the status (the body is shown when it differs).
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self.body
    }

    /// An RFC 7644 §3.12 error body with this status, whatever its `scimType`.
    pub fn assert_error(&self, status: u16) -> &Reply {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        assert_eq!(self.body["schemas"][0], crate::error::ERROR_SCHEMA, "{}", self.body);
        assert_eq!(self.body["status"], status.to_string(), "{}", self.body);
        self
    }

    /// An RFC 7644 §3.12 error: checks the status and `scimType`, returns the `detail`.
    pub fn expect_error(self, status: u16, scim_type: Option<&str>) -> String {
        self.assert_error(status);
        assert_eq!(self.body.get("scimType").and_then(Value::as_str), scim_type, "{}", self.body);
        self.body["detail"].as_str().unwrap_or_default().to_string()
    }
}

impl Harness {
    /// An engine configured with only the base URL.
    pub fn new() -> Harness {
        Harness::with_config(&serde_json::json!({ "baseUrl": BASE_URL }).to_string())
    }

    pub fn with_config(config: &str) -> Harness {
        let engine = Engine::new(config).unwrap_or_else(|e| panic!("configuration refused: {e}"));
        let now = DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z").expect("valid").with_timezone(&Utc);
        Harness { engine, store: MemoryStore::new(), now, principal: None }
    }

    pub fn advance(&mut self, seconds: i64) {
        self.now += Duration::seconds(seconds);
    }

    /// Sends one request; `target` may carry a query string (`/Users?attributes=userName`).
    pub fn send(&mut self, method: &str, target: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Reply {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut all: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if body.is_some() {
            all.push(("Content-Type".into(), crate::http::SCIM_JSON.into()));
        }
        let req = Request {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: all,
            body: body.map(|b| b.to_string().into_bytes()),
        };
        self.raw(&req)
    }

    /// Sends a request exactly as built (headers included).
    pub fn raw(&mut self, req: &Request) -> Reply {
        let resp = self.engine.handle(&mut self.store, self.now, self.principal.as_deref(), req);
        let body = if resp.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&resp.body).unwrap_or_else(|e| panic!("response is not JSON ({e})"))
        };
        Reply { status: resp.status, headers: resp.headers, body }
    }

    pub fn get(&mut self, target: &str) -> Reply {
        self.send("GET", target, None, &[])
    }

    pub fn post(&mut self, target: &str, body: &Value) -> Reply {
        self.send("POST", target, Some(body), &[])
    }

    pub fn put(&mut self, target: &str, body: &Value) -> Reply {
        self.send("PUT", target, Some(body), &[])
    }

    pub fn delete(&mut self, target: &str) -> Reply {
        self.send("DELETE", target, None, &[])
    }

    /// Creates a User with only a userName and returns its id.
    pub fn user(&mut self, name: &str) -> String {
        self.create("/Users", &serde_json::json!({ "userName": name }))
    }

    /// Creates a resource and returns its id.
    pub fn create(&mut self, endpoint: &str, body: &Value) -> String {
        let created = self.post(endpoint, body).expect(201);
        created["id"].as_str().expect("a created resource has an id").to_string()
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// An engine served at `https://example.com/scim/v2`, the base URL of the protocol tests.
pub fn service() -> Harness {
    Harness::with_config(r#"{"baseUrl":"https://example.com/scim/v2"}"#)
}

/// A JSON fixture from `guest/tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
