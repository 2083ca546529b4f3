//! Conditional requests with entity tags (RFC 7644 §3.14, RFC 7232): `If-Match` on writes, `If-None-Match`
//! on reads. Versions are compared without regard to weakness: SCIM clients send back the weak tags they got.

use crate::error::{self as err, ScimResult};
use crate::http::Request;

/// An `If-Match` or `If-None-Match` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tags {
    /// `*`: any current version.
    Any,
    /// The opaque versions named, without `W/` and quotes.
    Versions(Vec<String>),
}

impl Tags {
    /// Parses a list of entity tags: `W/"3", "4"`, `*`. A tag whose quotes are missing is taken as is.
    pub fn parse(raw: &str) -> Tags {
        let mut versions = Vec::new();
        let mut rest = raw.trim();
        while !rest.is_empty() {
            rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
            if rest.starts_with('*') {
                return Tags::Any;
            }
            if rest.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("w/")) {
                rest = &rest[2..];
            }
            let (tag, after) = match rest.strip_prefix('"') {
                Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
                None => rest.split_once(',').unwrap_or((rest, "")),
            };
            let tag = tag.trim();
            if !tag.is_empty() {
                versions.push(tag.to_string());
            }
            rest = after;
        }
        Tags::Versions(versions)
    }

    pub fn matches(&self, version: &str) -> bool {
        match self {
            Tags::Any => true,
            Tags::Versions(v) => v.iter().any(|t| t == version),
        }
    }
}

/// The version a write must still find in storage, given the version just read: 412 at once when `If-Match`
/// names other versions. Storage checks it again atomically, so a concurrent change is never overwritten.
/// Read-check-write rounds before a PUT or PATCH without `If-Match` gives up on a resource that keeps changing
/// (409). A round lost to another writer is retried from a fresh read; storage answers the loser once the
/// winner is readable, so a few writers on one resource each get through within as many rounds as there are
/// writers.
pub const ATTEMPTS: usize = 16;

pub fn expected_version(req: &Request, current: &str) -> ScimResult<String> {
    match req.header("if-match").map(Tags::parse) {
        Some(tags) if !tags.matches(current) => {
            Err(err::precondition_failed(format!("If-Match does not match the current version W/\"{current}\"")))
        }
        _ => Ok(current.to_string()),
    }
}

/// True when `If-None-Match` names the current version (or `*`): a GET answers 304.
pub fn none_match(req: &Request, current: &str) -> bool {
    req.header("if-none-match").map(Tags::parse).is_some_and(|t| t.matches(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weak_strong_lists_and_star() {
        assert_eq!(Tags::parse("W/\"3\""), Tags::Versions(vec!["3".into()]));
        assert_eq!(Tags::parse(" \"a,b\" , w/\"4\""), Tags::Versions(vec!["a,b".into(), "4".into()]));
        assert_eq!(Tags::parse("7"), Tags::Versions(vec!["7".into()]));
        assert_eq!(Tags::parse("*"), Tags::Any);
        assert_eq!(Tags::parse("W/\"unterminated"), Tags::Versions(vec!["unterminated".into()]));
        assert_eq!(Tags::parse(""), Tags::Versions(vec![]));
        assert_eq!(Tags::parse("é\"x"), Tags::Versions(vec!["é\"x".into()]));
    }

    #[test]
    fn if_match_mismatch_is_412() {
        let req = |v: &str| Request { headers: vec![("If-Match".into(), v.into())], ..Default::default() };
        assert_eq!(expected_version(&req("W/\"2\""), "3").unwrap_err().status(), 412);
        assert_eq!(expected_version(&req("W/\"2\", W/\"3\""), "3").unwrap(), "3");
        assert_eq!(expected_version(&req("*"), "3").unwrap(), "3");
        assert_eq!(expected_version(&Request::default(), "3").unwrap(), "3");
    }
}
