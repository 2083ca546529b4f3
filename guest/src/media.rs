//! Media types (RFC 7644 §3.1, §8.1): which request bodies the engine reads. Responses are always
//! `application/scim+json` (see [`crate::http::Response::json`]).

use crate::error::{self as err, ScimResult};
use crate::http::Request;

/// Accepts a body declared as `application/scim+json`, `application/json` or another `+json` type, in UTF-8
/// (the only charset SCIM allows), or declared as nothing at all: clients omit the header more often than
/// they get it wrong. Anything else is 415.
pub fn check_content_type(req: &Request) -> ScimResult<()> {
    let Some(header) = req.header("content-type") else { return Ok(()) };
    let mut parts = header.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let json =
        mime.is_empty() || mime == "application/json" || mime == "application/scim+json" || mime.ends_with("+json");
    if !json {
        return Err(err::unsupported_media_type(format!("{mime} is not accepted; send application/scim+json")));
    }
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let value = value.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !(value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8"))
        {
            return Err(err::unsupported_media_type(format!("charset {value} is not accepted; SCIM bodies are UTF-8")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(ct: &str) -> Request {
        Request { headers: vec![("Content-Type".into(), ct.into())], ..Default::default() }
    }

    #[test]
    fn json_types_with_utf8_are_accepted() {
        for ct in [
            "application/scim+json",
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/scim+json;charset=\"utf-8\"",
        ] {
            assert!(check_content_type(&with(ct)).is_ok(), "{ct}");
        }
        assert!(check_content_type(&Request::default()).is_ok());
    }

    #[test]
    fn other_types_and_charsets_are_415() {
        for ct in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=iso-8859-1"] {
            assert_eq!(check_content_type(&with(ct)).unwrap_err().status(), 415, "{ct}");
        }
    }
}
