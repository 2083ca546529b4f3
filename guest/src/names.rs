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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn any_case_finds_the_member_and_the_exact_one_wins() {
        let v = json!({"userName": "a", "USERNAME": "b", "Active": true});
        let obj = v.as_object().unwrap();
        assert_eq!(member(obj, "userName"), Some(&json!("a")));
        assert_eq!(member(obj, "USERNAME"), Some(&json!("b")));
        assert!(member(obj, "username").is_some());
        assert_eq!(member_of(&v, "active"), Some(&json!(true)));
        assert_eq!(member_of(&json!([1]), "active"), None);
        let headers = vec![("ETag".to_string(), "W/\"1\"".to_string()), ("etag".to_string(), "W/\"2\"".to_string())];
        assert_eq!(pair(&headers, "ETAG").map(String::as_str), Some("W/\"1\""));
        assert_eq!(pair(&headers, "Location"), None);
    }
}
