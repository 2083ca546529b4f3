//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format: requests by tenant, method and
//! status; request latency; time inside the guest and in storage; storage errors by kind; tolerances used, by
//! tenant and tolerance; engine instances.
//! Who may read them is `[metrics]` in the configuration: on or off, a bearer token, client networks.

use crate::config::MetricsConfig;
use ipnet::IpNet;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use scimkit_runtime::provider::Usage;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;
use subtle::ConstantTimeEq;

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    tenant: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    tenant: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReceiverLabels {
    tenant: String,
    receiver: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToleranceLabels {
    tenant: String,
    tolerance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    tenant: String,
    kind: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 0.1 ms to about 13 s.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<MethodLabels>,
    guest: Histograms<TenantLabels>,
    storage: Histograms<TenantLabels>,
    storage_errors: Family<ErrorLabels, Counter>,
    tolerances: Family<ToleranceLabels, Counter>,
    in_flight: Gauge,
    idle_instances: Family<TenantLabels, Gauge>,
    events: Events,
    access: Access,
}

/// Event delivery, per tenant and receiver, as the workers count it.
struct Events {
    delivered: Family<ReceiverLabels, Gauge>,
    pending: Family<ReceiverLabels, Gauge>,
    failures: Family<ReceiverLabels, Gauge>,
    rejected: Family<ReceiverLabels, Gauge>,
}

impl Events {
    fn register(registry: &mut Registry) -> Events {
        let events = Events {
            delivered: Family::default(),
            pending: Family::default(),
            failures: Family::default(),
            rejected: Family::default(),
        };
        let e = &events;
        registry.register("events_delivered", "Change events delivered since start", e.delivered.clone());
        registry.register("events_pending", "Journaled changes not yet delivered", e.pending.clone());
        registry.register("events_failed_attempts", "Failed delivery attempts since start", e.failures.clone());
        registry.register("events_rejected", "SETs a receiver refused as invalid since start", e.rejected.clone());
        events
    }
}

/// Who may read the metrics.
struct Access {
    enabled: bool,
    token_sha256: Option<[u8; 32]>,
    allow_networks: Vec<IpNet>,
}

/// Why a scrape was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Disabled,
    Network,
    Token,
}

/// The method as a label: the SCIM methods by name, anything else as `other`, so that clients cannot grow
/// the number of series.
fn method_label(method: &str) -> String {
    match method {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => method.to_string(),
        _ => "other".to_string(),
    }
}

impl Metrics {
    /// `token`: a bearer token given in clear (`SCIMKIT_METRICS_TOKEN`), in place of the configured hash.
    pub fn new(config: &MetricsConfig, token: Option<&str>) -> anyhow::Result<Metrics> {
        let token_sha256 = match (token.filter(|t| !t.is_empty()), &config.token_sha256) {
            (Some(t), _) => Some(Sha256::digest(t.as_bytes()).into()),
            (None, Some(hex_hash)) => {
                let bytes = hex::decode(hex_hash.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
                Some(bytes.ok_or_else(|| anyhow::anyhow!("[metrics] token_sha256 must be 64 hex digits"))?)
            }
            (None, None) => None,
        };
        let mut registry = Registry::with_prefix("scimkit");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "SCIM and token requests answered, by tenant, method and status",
            requests.clone(),
        );
        let latency: Histograms<MethodLabels> = Family::new_with_constructor(seconds_histogram);
        registry.register("request_duration_seconds", "Time from request to answer", latency.clone());
        let guest: Histograms<TenantLabels> = Family::new_with_constructor(seconds_histogram);
        registry.register(
            "guest_seconds",
            "Time inside the engine's own code per request, storage calls excluded",
            guest.clone(),
        );
        let storage: Histograms<TenantLabels> = Family::new_with_constructor(seconds_histogram);
        registry.register("storage_seconds", "Time in storage calls per request", storage.clone());
        let storage_errors = Family::<ErrorLabels, Counter>::default();
        registry.register("storage_errors", "Errors storage returned to the engine, by kind", storage_errors.clone());
        let tolerances = Family::<ToleranceLabels, Counter>::default();
        registry.register(
            "tolerances",
            "Requests that used a tolerance (a deviation from the RFCs accepted for a client), by tenant and tolerance",
            tolerances.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("requests_in_flight", "Requests being answered now", in_flight.clone());
        let idle_instances = Family::<TenantLabels, Gauge>::default();
        registry.register("idle_instances", "Engine instances kept ready for reuse", idle_instances.clone());
        let allow_networks = if config.allow_networks.is_empty() && token_sha256.is_none() && !config.open {
            ["127.0.0.0/8", "::1/128"].iter().map(|n| n.parse().expect("a valid network")).collect()
        } else {
            config.allow_networks.clone()
        };
        let access = Access { enabled: config.enabled, token_sha256, allow_networks };
        let events = Events::register(&mut registry);
        Ok(Metrics {
            registry,
            requests,
            latency,
            guest,
            storage,
            storage_errors,
            tolerances,
            in_flight,
            idle_instances,
            events,
            access,
        })
    }

    /// Counts a request in flight until the guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// One answered request; `usage` when it reached the engine.
    pub fn request(&self, tenant: &str, method: &str, status: u16, elapsed: Duration, usage: Option<&Usage>) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels { tenant: tenant.to_string(), method: method.clone(), status })
            .inc();
        self.latency.get_or_create(&MethodLabels { tenant: tenant.to_string(), method }).observe(elapsed.as_secs_f64());
        let Some(usage) = usage else { return };
        let t = TenantLabels { tenant: tenant.to_string() };
        self.guest.get_or_create(&t).observe(usage.guest.as_secs_f64());
        self.storage.get_or_create(&t).observe(usage.storage.time.as_secs_f64());
        for kind in &usage.storage.errors {
            self.storage_errors
                .get_or_create(&ErrorLabels { tenant: tenant.to_string(), kind: kind.to_string() })
                .inc();
        }
        // The engine names only tolerances of its registry, so the labels stay a small fixed set.
        for tolerance in &usage.tolerances {
            self.tolerances
                .get_or_create(&ToleranceLabels { tenant: tenant.to_string(), tolerance: tolerance.clone() })
                .inc();
        }
    }

    /// Takes the event receivers' delivery state as it is now, before encoding.
    pub fn deliveries(&self, tenants: &[std::sync::Arc<crate::tenants::Tenant>]) {
        use std::sync::atomic::Ordering::Relaxed;
        for t in tenants {
            for d in &t.deliveries {
                let l = ReceiverLabels { tenant: t.name.clone(), receiver: d.url.clone() };
                self.events.delivered.get_or_create(&l).set(d.delivered.load(Relaxed) as i64);
                self.events.pending.get_or_create(&l).set(d.pending());
                self.events.failures.get_or_create(&l).set(d.failures.load(Relaxed) as i64);
                self.events.rejected.get_or_create(&l).set(d.rejected.load(Relaxed) as i64);
            }
        }
    }

    /// May this client read the metrics with this `Authorization` header?
    pub fn check(&self, peer: IpAddr, authorization: Option<&str>) -> Result<(), Refusal> {
        if !self.access.enabled {
            return Err(Refusal::Disabled);
        }
        let peer = peer.to_canonical();
        if !self.access.allow_networks.is_empty() && !self.access.allow_networks.iter().any(|n| n.contains(&peer)) {
            return Err(Refusal::Network);
        }
        if let Some(expected) = &self.access.token_sha256 {
            let presented = authorization
                .and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer ")))
                .map(str::trim);
            let ok = presented.is_some_and(|t| bool::from(Sha256::digest(t.as_bytes()).as_slice().ct_eq(expected)));
            if !ok {
                return Err(Refusal::Token);
            }
        }
        Ok(())
    }

    /// The metrics as OpenMetrics text, with the idle instances of each tenant as they are now.
    pub fn encode(&self, idle: impl IntoIterator<Item = (String, usize)>) -> String {
        for (tenant, n) in idle {
            self.idle_instances.get_or_create(&TenantLabels { tenant }).set(n as i64);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimkit_runtime::bindings::StorageUse;

    fn config(toml_text: &str) -> MetricsConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn requests_and_storage_errors_are_counted_by_their_labels() {
        let m = Metrics::new(&config(""), None).unwrap();
        let usage = Usage {
            guest: Duration::from_millis(2),
            storage: StorageUse { time: Duration::from_millis(1), errors: vec!["conflict"] },
            tolerances: vec!["boolean-string".into(), "operation-name-case".into()],
        };
        m.request("acme", "POST", 409, Duration::from_millis(4), Some(&usage));
        m.request("acme", "POST", 409, Duration::from_millis(4), None);
        m.request("acme", "BREW", 405, Duration::from_millis(1), None);
        let text = m.encode([("acme".to_string(), 3)]);
        assert!(text.contains(r#"scimkit_requests_total{tenant="acme",method="POST",status="409"} 2"#), "{text}");
        assert!(text.contains(r#"scimkit_requests_total{tenant="acme",method="other",status="405"} 1"#), "{text}");
        assert!(text.contains(r#"scimkit_storage_errors_total{tenant="acme",kind="conflict"} 1"#), "{text}");
        assert!(text.contains(r#"scimkit_tolerances_total{tenant="acme",tolerance="boolean-string"} 1"#), "{text}");
        assert!(
            text.contains(r#"scimkit_tolerances_total{tenant="acme",tolerance="operation-name-case"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"scimkit_guest_seconds_count{tenant="acme"} 1"#), "{text}");
        assert!(text.contains(r#"scimkit_idle_instances{tenant="acme"} 3"#), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn access_follows_the_configuration() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let far: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(Metrics::new(&config("enabled = false"), None).unwrap().check(local, None), Err(Refusal::Disabled));
        let m = Metrics::new(&config(r#"allow_networks = ["127.0.0.0/8"]"#), Some("s3cret")).unwrap();
        assert_eq!(m.check(far, Some("Bearer s3cret")), Err(Refusal::Network));
        assert_eq!(m.check(local, None), Err(Refusal::Token));
        assert_eq!(m.check(local, Some("Bearer wrong")), Err(Refusal::Token));
        assert_eq!(m.check(local, Some("Bearer s3cret")), Ok(()));
        let hashed = format!("token_sha256 = \"{}\"", hex::encode(Sha256::digest(b"t2")));
        assert_eq!(Metrics::new(&config(&hashed), None).unwrap().check(local, Some("Bearer t2")), Ok(()));
        assert!(Metrics::new(&config("token_sha256 = \"zz\""), None).is_err());
    }

    #[test]
    fn without_a_token_or_networks_only_loopback_or_an_open_setting_reads() {
        let far: IpAddr = "203.0.113.9".parse().unwrap();
        let unset = Metrics::new(&config(""), None).unwrap();
        assert_eq!(unset.check(far, None), Err(Refusal::Network));
        for local in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(unset.check(local.parse().unwrap(), None), Ok(()), "{local}");
        }
        assert_eq!(Metrics::new(&config("open = true"), None).unwrap().check(far, None), Ok(()));
        let token = Metrics::new(&config(""), Some("s3cret")).unwrap();
        assert_eq!(token.check(far, Some("Bearer s3cret")), Ok(()));
        assert_eq!(token.check(far, None), Err(Refusal::Token));
    }
}
