//! Shared pieces of scimkit's benchmarks: latency statistics, a small keep-alive HTTP client, the users
//! every tool creates, and the JSON lines the load driver writes.

use serde_json::{json, Value};
use std::time::Duration;

/// Latencies of one phase and its failures.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub elapsed: Duration,
}

impl Stats {
    pub fn merge(&mut self, other: Stats) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
    }

    /// The q-quantile (0..=1) of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut v = self.latencies.clone();
        v.sort();
        let i = ((v.len() - 1) as f64 * q).round() as usize;
        v[i].as_secs_f64() * 1000.0
    }

    pub fn throughput(&self) -> f64 {
        let n = self.latencies.len() as f64;
        if self.elapsed.is_zero() {
            0.0
        } else {
            n / self.elapsed.as_secs_f64()
        }
    }
}

/// A client for one SCIM base URL with a bearer token; one per thread (each keeps its connection).
pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

/// Status and body of one response.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .max_idle_connections_per_host(4)
            .build()
            .into();
        Client { agent, base: base.trim_end_matches('/').to_string(), auth: format!("Bearer {token}") }
    }

    /// Sends one request; `path_and_query` is below the base URL.
    pub fn send(&self, method: &str, path_and_query: &str, body: Option<&serde_json::Value>) -> anyhow::Result<Reply> {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path_and_query))
            .header("Authorization", &self.auth)
            .header("Content-Type", "application/scim+json")
            .header("Accept", "application/scim+json")
            .body(body.map(|b| b.to_string()).unwrap_or_default())?;
        let mut resp = self.agent.run(req)?;
        let status = resp.status().as_u16();
        // A group of 100,000 members is over ureq's default limit of 10 MiB.
        let body = resp.body_mut().with_config().limit(1 << 30).read_to_string()?;
        Ok(Reply { status, body })
    }
}

/// Percent-encodes a query value (filters carry spaces and quotes).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// User number `i`, the same in the load driver and the data generator, so that `userName eq "user<i>"`
/// finds exactly one.
pub fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("user{i}"),
        "name": {"givenName": format!("Given{i}"), "familyName": format!("Family{}", i % 100)},
        "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true}],
        "active": i.is_multiple_of(2),
    })
}

/// One line of the driver's JSON output: one phase against one server in one run.
#[derive(Debug, Clone)]
pub struct Record {
    pub server: String,
    pub phase: String,
    pub run: u64,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// The server's CPU time (all its threads, user and system) per request of the phase, in microseconds.
    pub server_cpu_us: f64,
    pub extra: Value,
}

/// Reads the driver's JSON lines; blank lines are skipped, malformed ones are an error.
pub fn read_records(path: &std::path::Path) -> anyhow::Result<Vec<Record>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)?;
        let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        out.push(Record {
            server: v["server"].as_str().unwrap_or_default().to_string(),
            phase: v["phase"].as_str().unwrap_or_default().to_string(),
            run: v["run"].as_u64().unwrap_or(1),
            throughput: num("throughput"),
            p50_ms: num("p50_ms"),
            p99_ms: num("p99_ms"),
            errors: v["errors"].as_u64().unwrap_or(0),
            server_cpu_us: num("server_cpu_us"),
            extra: v["extra"].clone(),
        });
    }
    Ok(out)
}

/// The median of finite values; NaN when there is none.
pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
