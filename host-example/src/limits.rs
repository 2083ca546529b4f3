//! Per-tenant limits checked before the engine sees a request: its rate, which client networks may connect,
//! which resource types may be reached, and whether the tenant is read-only.

use crate::config::TenantConfig;
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per second a tenant answers, sustained, unless configured: well above what an identity provider
/// sends (provisioning runs, imports through the API and the benchmarks stay under it), while bounding a
/// runaway client.
pub const DEFAULT_RATE_PER_SECOND: f64 = 1000.0;
/// Requests a tenant answers at once after a quiet spell, unless configured.
pub const DEFAULT_RATE_BURST: u32 = 1000;

pub struct Limits {
    networks: Vec<IpNet>,
    read_only: bool,
    resource_types: Option<Vec<String>>,
    rate: Rate,
}

/// A token bucket: `burst` requests at once, `per_second` back each second.
struct Rate {
    per_second: f64,
    burst: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl Limits {
    pub fn new(t: &TenantConfig) -> Limits {
        let burst = f64::from(t.rate_limit_burst.unwrap_or(DEFAULT_RATE_BURST).max(1));
        let per_second = t.rate_limit_per_second.unwrap_or(DEFAULT_RATE_PER_SECOND);
        let rate = Rate { per_second, burst, bucket: Mutex::new((burst, Instant::now())) };
        Limits {
            networks: t.allow_networks.clone(),
            read_only: t.read_only,
            resource_types: t.resource_types.clone(),
            rate,
        }
    }

    /// Takes one request from the tenant's rate, or says how long to wait for the next (429 `Retry-After`).
    pub fn take(&self) -> Result<(), Duration> {
        let r = &self.rate;
        let mut bucket = r.bucket.lock().unwrap();
        let now = Instant::now();
        let left = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * r.per_second).min(r.burst);
        if left < 1.0 {
            *bucket = (left, now);
            let wait = if r.per_second > 0.0 { (1.0 - left) / r.per_second } else { 3600.0 };
            return Err(Duration::from_secs_f64(wait.clamp(1.0, 3600.0).ceil()));
        }
        *bucket = (left - 1.0, now);
        Ok(())
    }

    pub fn allows_peer(&self, ip: IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d.
        let ip = ip.to_canonical();
        self.networks.is_empty() || self.networks.iter().any(|n| n.contains(&ip))
    }

    /// Why a request is refused (403), if it is. `path` is below the tenant's SCIM base.
    pub fn refusal(&self, method: &str, path: &str) -> Option<String> {
        let mut segments = path.trim_start_matches('/').split('/');
        let first = segments.next().unwrap_or("");
        let searching = method == "POST" && path.trim_end_matches('/').ends_with("/.search");
        if self.read_only && method != "GET" && !searching {
            return Some("this SCIM service is read-only".into());
        }
        let rtype = match first {
            "Users" | "Me" => Some("User"),
            "Groups" => Some("Group"),
            _ => None,
        };
        match (&self.resource_types, rtype) {
            (Some(allowed), Some(t)) if !allowed.iter().any(|a| a == t) => {
                Some(format!("the resource type {t} is not available here"))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_read_only_and_types() {
        let mut t = TenantConfig::new("t");
        t.allow_networks = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        t.read_only = true;
        t.resource_types = Some(vec!["User".into()]);
        let l = Limits::new(&t);
        assert!(l.allows_peer("10.1.2.3".parse().unwrap()));
        assert!(l.allows_peer("::ffff:10.1.2.3".parse().unwrap()));
        assert!(l.allows_peer("::1".parse().unwrap()));
        assert!(!l.allows_peer("127.0.0.1".parse().unwrap()));
        assert!(l.refusal("GET", "/Users").is_none());
        assert!(l.refusal("POST", "/Users/.search").is_none());
        assert!(l.refusal("POST", "/.search").is_none());
        assert!(l.refusal("POST", "/Users").is_some());
        assert!(l.refusal("DELETE", "/Users/1").is_some());
        assert!(l.refusal("GET", "/Groups").is_some());
        assert!(l.refusal("GET", "/Schemas").is_none());
        assert!(Limits::new(&TenantConfig::new("open")).allows_peer("192.0.2.1".parse().unwrap()));
    }
}
