//! Names in SCIM are case-insensitive: attribute names and message members (RFC 7643 §2.1), header names
//! (RFC 9110 §5.1), query parameter names as this engine reads them. The one lookup every module uses.

use serde_json::{Map, Value};

/// The member of `obj` called `name` in any case; when several differ only in case, the exact one wins.
pub fn member<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// [`member`] of a value that may not be an object.
pub fn member_of<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    member(v.as_object()?, name)
}

/// The value of the first `(name, value)` pair called `name` in any case: headers, query parameters.
pub fn pair<'a, V>(pairs: &'a [(String, V)], name: &str) -> Option<&'a V> {
    pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}
