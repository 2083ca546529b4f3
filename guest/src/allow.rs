//! The `Allow` header of a 405 answer (RFC 9110 §15.5.6): the methods the routing takes at a path.

use crate::config::Config;

/// The methods served at `path`, or none when nothing is served there (a 404, not a 405).
pub fn allowed(cfg: &Config, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    Some(match segments.as_slice() {
        ["ServiceProviderConfig"] | ["ResourceTypes", ..] | ["Schemas", ..] => "GET",
        [".search"] | ["Bulk"] => "POST",
        ["Me", ..] => "GET, PUT, PATCH, DELETE",
        [endpoint, ..] if cfg.registry.by_endpoint(endpoint).is_some_and(|rt| cfg.catalog.serves(rt)) => {
            match segments[1..] {
                [".search"] => "POST",
                _ => "GET",
            }
        }
        [endpoint] if cfg.registry.by_endpoint(endpoint).is_some() => "GET, POST",
        [endpoint, ".search"] if cfg.registry.by_endpoint(endpoint).is_some() => "POST",
        [endpoint, _] if cfg.registry.by_endpoint(endpoint).is_some() => "GET, PUT, PATCH, DELETE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_per_path() {
        let cfg = Config::test();
        assert_eq!(allowed(&cfg, "/Schemas/urn:x"), Some("GET"));
        assert_eq!(allowed(&cfg, "/Users"), Some("GET, POST"));
        assert_eq!(allowed(&cfg, "/Groups/42"), Some("GET, PUT, PATCH, DELETE"));
        assert_eq!(allowed(&cfg, "/Bulk"), Some("POST"));
        assert_eq!(allowed(&cfg, "/Nothing"), None);
    }
}
