//! What every request handler shares: the tenants, the admin credential, the metrics and the body limit.

use crate::auth::admin::Admin;
use crate::metrics::Metrics;
use crate::tenants::Tenants;

pub struct App {
    pub tenants: Tenants,
    /// Bodies larger than this are refused before reaching the engine.
    pub max_body_bytes: usize,
    pub admin: Admin,
    pub metrics: Metrics,
    /// Reverse proxies whose `Forwarded`/`X-Forwarded-For` name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}
