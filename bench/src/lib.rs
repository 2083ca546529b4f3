//! Shared pieces of scimkit's benchmarks: latency statistics and a small keep-alive HTTP client.

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
        if self.elapsed.is_zero() { 0.0 } else { n / self.elapsed.as_secs_f64() }
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
        let body = resp.body_mut().read_to_string()?;
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
