//! The provisioning command's transport: [`HttpTarget`] sends the engine's requests to a SCIM base URL with
//! a bearer token.

use scimkit_runtime::bindings::{HttpRequest, HttpResponse, TransportError};
use scimkit_runtime::transport::Transport;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Requests sent, by method, shared by every transport of a run: what "no write" is checked against.
#[derive(Debug, Default)]
pub struct Counts {
    pub get: AtomicU64,
    pub post: AtomicU64,
    pub put: AtomicU64,
    pub patch: AtomicU64,
    pub delete: AtomicU64,
}

impl Counts {
    fn record(&self, method: &str) {
        let counter = match method {
            "GET" => &self.get,
            "POST" => &self.post,
            "PUT" => &self.put,
            "PATCH" => &self.patch,
            _ => &self.delete,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Every request that is not a GET.
    pub fn writes(&self) -> u64 {
        [&self.post, &self.put, &self.patch, &self.delete].iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// A SCIM target over HTTP(S): its base URL (`https://app.example.com/scim/v2`) and bearer token.
pub struct HttpTarget {
    base: String,
    authorization: String,
    agent: ureq::Agent,
    counts: Arc<Counts>,
}

impl HttpTarget {
    pub fn new(base_url: &str, token: &str, timeout: Duration, counts: Arc<Counts>) -> HttpTarget {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            // A redirected write could land anywhere: the target's URL must be the right one.
            .max_redirects(0)
            .build()
            .into();
        HttpTarget {
            base: base_url.trim_end_matches('/').to_string(),
            authorization: format!("Bearer {token}"),
            agent,
            counts,
        }
    }
}

impl Transport for HttpTarget {
    /// Sends the request; a 429 (the target's rate limit) is sent again after its `Retry-After`, a few times,
    /// as a well-behaved client does, before the 429 is reported.
    fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut url = format!("{}{}", self.base, req.path);
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&req.query);
        }
        let mut attempt = 1;
        loop {
            let resp = self.send_once(&req, &url)?;
            if resp.status != 429 || attempt == RATE_LIMITED_ATTEMPTS {
                return Ok(resp);
            }
            std::thread::sleep(retry_after(&resp));
            attempt += 1;
        }
    }
}

/// How many times a rate-limited request is sent in all.
const RATE_LIMITED_ATTEMPTS: u32 = 5;

/// The wait a 429 asks for (`Retry-After` in seconds, at most 10; one second when absent or a date).
fn retry_after(resp: &HttpResponse) -> Duration {
    let header = resp.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after")).map(|(_, v)| v.trim());
    Duration::from_secs(header.and_then(|v| v.parse::<u64>().ok()).unwrap_or(1).clamp(1, 10))
}

impl HttpTarget {
    fn send_once(&self, req: &HttpRequest, url: &str) -> Result<HttpResponse, TransportError> {
        let mut b = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(url)
            .header("Authorization", &self.authorization);
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        let request = b
            .body(req.body.clone().unwrap_or_default())
            .map_err(|e| TransportError::Unreachable(format!("{} {url}: {e}", req.method)))?;
        self.counts.record(&req.method);
        let mut resp = self.agent.run(request).map_err(|e| failure(&req.method, url, e))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .read_to_end(&mut body)
            .map_err(|e| TransportError::Broken(format!("reading the answer of {url}: {e}")))?;
        Ok(HttpResponse { status, headers, body })
    }
}

/// An HTTP client failure as the contract's closed set: no connection, no answer in time, or a broken one.
fn failure(method: &str, url: &str, e: ureq::Error) -> TransportError {
    match e {
        ureq::Error::Timeout(_) => TransportError::TimedOut,
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => TransportError::TimedOut,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            TransportError::Unreachable(format!("{method} {url}: {e}"))
        }
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            TransportError::Unreachable(format!("{method} {url}: {e}"))
        }
        other => TransportError::Broken(format!("{method} {url}: {other}")),
    }
}
