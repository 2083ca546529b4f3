//! Change events: every change the engine makes is journaled by the tenant's storage in the write's own
//! transaction (`journal`), and delivered from the journal to the tenant's `[[tenant.events]]` receivers by a
//! worker per receiver (`deliver`), as signed webhooks or RFC 9967 Security Event Tokens (`formats`).

pub mod cli;
pub mod deliver;
pub mod formats;
pub mod journal;

use serde::{Deserialize, Serialize};

/// One `[[tenant.events]]` receiver.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    /// Where events are POSTed.
    pub url: String,
    #[serde(default)]
    pub format: Format,
    /// Key of the HMAC-SHA256 signature (`webhook`) or of the HS256 JWT (`set`).
    pub secret: String,
    /// First wait after a failed delivery, in milliseconds; doubled after each further failure.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    /// Longest wait between attempts, in milliseconds.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
}

fn default_retry_initial_ms() -> u64 {
    1000
}

fn default_retry_max_ms() -> u64 {
    60_000
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The event as JSON, signed in `X-Scimkit-Signature: sha256=<hex HMAC-SHA256 of the body>`.
    #[default]
    Webhook,
    /// An RFC 9967 Security Event Token (JWT, HS256), pushed as RFC 8935 describes.
    Set,
}

impl Receiver {
    /// Checks what the configuration cannot say by its types.
    pub fn check(&self) -> anyhow::Result<()> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            anyhow::bail!("events: url must be http:// or https://, not {:?}", self.url);
        }
        if self.secret.len() < 16 {
            anyhow::bail!("events ({}): secret must be at least 16 characters", self.url);
        }
        if self.retry_initial_ms == 0 || self.retry_max_ms < self.retry_initial_ms {
            anyhow::bail!("events ({}): retry_initial_ms must be > 0 and <= retry_max_ms", self.url);
        }
        Ok(())
    }
}
