//! Static bearer tokens: kept only as a SHA-256 hash and compared in constant time.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::Path;
use subtle::ConstantTimeEq;

const TOKEN_FILE: &str = "token.sha256";

#[derive(Clone)]
pub struct BearerToken {
    hash: [u8; 32],
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl BearerToken {
    pub fn from_secret(token: &str) -> BearerToken {
        BearerToken { hash: digest(token) }
    }

    /// A token configured by its hash (`token_sha256`).
    pub fn from_hash_hex(hex_text: &str) -> Result<BearerToken> {
        let bytes = hex::decode(hex_text.trim()).context("not hex")?;
        let hash: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("not a SHA-256 (64 hex digits)"))?;
        Ok(BearerToken { hash })
    }

    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }

    /// The token from `SCIM_TOKEN` when given; else the one kept in the data directory; else a new one,
    /// which is returned so that it can be shown once (only its hash is kept).
    pub fn load_or_create(from_env: Option<&str>, data_dir: &Path) -> Result<(BearerToken, Option<String>)> {
        if let Some(t) = from_env.filter(|t| !t.is_empty()) {
            return Ok((BearerToken::from_secret(t), None));
        }
        let file = data_dir.join(TOKEN_FILE);
        if let Ok(text) = std::fs::read_to_string(&file) {
            let bytes = hex::decode(text.trim()).context("the stored token hash is damaged")?;
            let hash: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("the stored token hash is damaged"))?;
            return Ok((BearerToken { hash }, None));
        }
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let token = BearerToken::from_secret(&secret);
        std::fs::write(&file, hex::encode(token.hash)).with_context(|| format!("writing {}", file.display()))?;
        Ok((token, Some(secret)))
    }

    /// Checks a presented token, in constant time.
    pub fn matches(&self, token: &str) -> bool {
        bool::from(digest(token).ct_eq(&self.hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_right_token() {
        let t = BearerToken::from_secret("s3cret");
        assert!(t.matches("s3cret"));
        assert!(!t.matches("s3cre"));
        assert!(!t.matches(""));
        assert!(BearerToken::from_hash_hex(&t.hash_hex()).unwrap().matches("s3cret"));
        assert!(BearerToken::from_hash_hex("abc").is_err());
    }
}
