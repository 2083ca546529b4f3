//! Change events: every change the engine makes is journaled by the tenant's storage in the write's own
//! transaction (`journal`), and delivered from the journal to the tenant's `[[tenant.events]]` receivers by a
//! worker per receiver (`deliver`), as signed webhooks or RFC 9967 Security Event Tokens (`formats`).

pub mod cli;
pub mod deliver;
pub mod formats;
pub mod journal;

use serde::{Deserialize, Serialize};

/// One `[[tenant.events]]` receiver.
#[derive(Clone, Deserialize, Serialize, PartialEq)]
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

/// Never shows the secret.
impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").field("url", &self.url).field("format", &self.format).finish_non_exhaustive()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver(toml_text: &str) -> anyhow::Result<Receiver> {
        let r: Receiver = toml::from_str(toml_text)?;
        r.check()?;
        Ok(r)
    }

    #[test]
    fn receivers_are_checked_and_never_show_their_secret() {
        let r = receiver("url = \"https://h.example/x\"\nsecret = \"0123456789abcdef-secret\"").unwrap();
        assert_eq!((r.format, r.retry_initial_ms, r.retry_max_ms), (Format::Webhook, 1000, 60_000));
        assert!(!format!("{r:?}").contains("secret\""), "{r:?}");
        assert!(!format!("{r:?}").contains("0123456789abcdef"), "{r:?}");
        let e = receiver("url = \"ftp://h\"\nsecret = \"0123456789abcdef\"").unwrap_err();
        assert!(e.to_string().contains("url must be http"), "{e}");
        let e = receiver("url = \"http://h\"\nsecret = \"short\"").unwrap_err();
        assert!(e.to_string().contains("at least 16"), "{e}");
        assert!(receiver("url = \"http://h\"\nsecret = \"0123456789abcdef\"\nformat = \"xml\"").is_err());
        assert!(receiver("url = \"http://h\"\nsecret = \"0123456789abcdef\"\nretry_initial_ms = 0").is_err());
    }
}
