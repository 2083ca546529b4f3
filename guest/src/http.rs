//! Requests and responses as the engine sees them, and the small parsing they need.

use crate::error::ScimError;

pub const SCIM_JSON: &str = "application/scim+json";

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// The first header of that name, without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::names::pair(&self.headers, name).map(String::as_str)
    }

    /// The decoded query parameters, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        parse_query(&self.query)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of that name, without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::names::pair(&self.headers, name).map(String::as_str)
    }

    /// A SCIM JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), SCIM_JSON.into())],
            body: serde_json::to_vec(body).expect("a JSON value always serialises"),
        }
    }

    /// A JSON body already written.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response { status, headers: vec![("Content-Type".into(), SCIM_JSON.into())], body }
    }

    pub fn empty(status: u16) -> Response {
        Response { status, headers: vec![], body: vec![] }
    }

    pub fn error(e: &ScimError) -> Response {
        Response::json(e.status(), &e.to_json())
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// `application/x-www-form-urlencoded` decoding of a query string: `+` is a space, `%XX` a byte.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decodes_plus_and_percent() {
        let q = parse_query("filter=userName+eq+%22bjensen%22&count=2");
        assert_eq!(q[0], ("filter".into(), "userName eq \"bjensen\"".into()));
        assert_eq!(q[1], ("count".into(), "2".into()));
    }

    #[test]
    fn stray_percent_is_kept() {
        assert_eq!(parse_query("a=100%")[0].1, "100%");
        assert_eq!(parse_query("a=%zz")[0].1, "%zz");
        assert_eq!(parse_query("a=%4")[0].1, "%4");
    }
}
