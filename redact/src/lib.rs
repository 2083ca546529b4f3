//! Secrets removed from what the request log keeps: credentials in headers, `password` values anywhere in a
//! JSON body (also as the target of a PATCH operation), tokens and client secrets in bodies, forms and query
//! strings. A body that cannot be parsed is not kept at all, since what it hides cannot be known.

use serde_json::Value;

pub const MASK: &str = "[redacted]";

/// Names whose values are secrets, compared without case.
const SECRET_NAMES: &[&str] = &[
    "password",
    "client_secret",
    "access_token",
    "refresh_token",
    "code_verifier",
    "id_token",
    "token",
    "secret",
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

fn is_secret(name: &str) -> bool {
    // An extension attribute is addressed `urn:…:password`: its last part counts.
    let last = name.rsplit([':', '.']).next().unwrap_or(name);
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name) || s.eq_ignore_ascii_case(last))
}

/// Redacts in place, at any depth. Member names count in any case, as the engine reads them.
pub fn json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // A PATCH operation `{"op":"replace","path":"password","value":"…"}` names the secret in `path`.
            let targets_secret =
                map.iter().any(|(k, v)| k.eq_ignore_ascii_case("path") && v.as_str().is_some_and(path_names_secret));
            for (k, v) in map.iter_mut() {
                if is_secret(k) || (targets_secret && k.eq_ignore_ascii_case("value")) {
                    *v = Value::String(MASK.into());
                } else {
                    json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(json),
        _ => {}
    }
}

/// Whether any name in a PATCH path is a secret: wider than the path grammar, so that no spelling the engine
/// accepts (spaces, filters, sub-attributes, URNs) escapes.
fn path_names_secret(path: &str) -> bool {
    path.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).any(is_secret)
}

/// Largest body kept, after redaction; the rest is cut.
const MAX_KEPT: usize = 64 * 1024;

/// Largest body parsed to be redacted. A larger one (a group of 100,000 members is 5 MB of JSON, some 100 MB
/// as parsed values) is not kept, so that logging a request never costs many times its body.
const MAX_PARSED: usize = 1024 * 1024;

/// The text of a body as the log may keep it; none for an empty body.
pub fn body(content_type: Option<&str>, bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    if bytes.len() > MAX_PARSED {
        return Some(format!("[{} bytes, over {MAX_PARSED}: not kept]", bytes.len()));
    }
    // The engine reads any body that parses as JSON (every `+json` type, or none declared), whatever its
    // declared type: such a body is redacted as JSON. Only a body that is not JSON may be a form.
    let text = if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
        json(&mut v);
        Some(serde_json::to_string_pretty(&v).unwrap_or_default())
    } else if is_form(content_type.unwrap_or("")) {
        form(bytes)
    } else {
        None
    };
    Some(match text {
        Some(mut t) if t.len() > MAX_KEPT => {
            let mut cut = MAX_KEPT;
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            t.truncate(cut);
            t.push_str("\n[cut]");
            t
        }
        Some(t) => t,
        None => format!("[{} bytes of unparsable content, not kept]", bytes.len()),
    })
}

/// `application/x-www-form-urlencoded` exactly, parameters aside: `…x-www-form-urlencoded+json` is JSON.
fn is_form(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// A form or query string with secret fields masked; none when it does not parse.
pub fn form(bytes: &[u8]) -> Option<String> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
    let masked: Vec<(String, String)> =
        fields.into_iter().map(|(k, v)| if is_secret(&k) { (k, MASK.to_string()) } else { (k, v) }).collect();
    serde_urlencoded::to_string(masked).ok()
}

/// A request path with its query string, secrets masked.
pub fn path_and_query(path: &str, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        None => path.to_string(),
        Some(q) => format!("{path}?{}", form(q.as_bytes()).unwrap_or_else(|| MASK.to_string())),
    }
}

/// Headers worth keeping, credentials masked.
pub fn headers<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    headers.map(|(k, v)| (k.to_string(), if is_secret(k) { MASK.to_string() } else { v.to_string() })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn passwords_and_tokens_are_masked_anywhere() {
        let mut v = json!({
            "userName": "a", "password": "p1",
            "Operations": [
                {"op": "replace", "path": "password", "value": "p2"},
                {"op": "replace", "value": {"PassWord": "p3", "displayName": "kept"}},
                {"op": "add", "path": "urn:x:User:password", "value": "p4"},
                {"op": "replace", "path": "displayName", "value": "kept2"}
            ],
            "access_token": "t1"
        });
        json(&mut v);
        let text = v.to_string();
        for secret in ["p1", "p2", "p3", "p4", "t1"] {
            assert!(!text.contains(&format!("\"{secret}\"")), "{secret} in {text}");
        }
        assert!(text.contains("kept") && text.contains("kept2"), "{text}");
    }

    #[test]
    fn forms_queries_headers_and_unparsable_bodies() {
        assert_eq!(
            form(b"grant_type=client_credentials&client_secret=s").unwrap(),
            "grant_type=client_credentials&client_secret=%5Bredacted%5D"
        );
        assert_eq!(
            path_and_query("/Users", Some("access_token=x&count=2")),
            "/Users?access_token=%5Bredacted%5D&count=2"
        );
        let h = headers([("Authorization", "Bearer x"), ("Accept", "*/*")].into_iter());
        assert_eq!(h[0].1, MASK);
        assert_eq!(h[1].1, "*/*");
        let b = body(Some("application/scim+json"), b"{\"password\":\"p\"").unwrap();
        assert_eq!(b, "[15 bytes of unparsable content, not kept]");
        assert_eq!(body(None, b""), None);
        let large = format!("{{\"members\":[{}]}}", vec!["{\"value\":\"x\"}"; 100_000].join(","));
        assert_eq!(
            body(Some("application/scim+json"), large.as_bytes()).unwrap(),
            "[1400013 bytes, over 1048576: not kept]"
        );
    }

    #[test]
    fn member_names_in_any_case_and_any_json_type() {
        let patch = br#"{"Operations":[{"OP":"replace","Path":"password","Value":"p1"},
            {"op":"add","PATH":" urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD ","vAlUe":"p2"}]}"#;
        for ct in [
            Some("application/x-www-form-urlencoded+json"),
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            None,
        ] {
            let kept = body(ct, patch).unwrap();
            assert!(!kept.contains("p1") && !kept.contains("p2"), "{ct:?}: {kept}");
        }
        let form_body =
            body(Some("Application/X-WWW-Form-Urlencoded; charset=utf-8"), b"grant_type=x&Client_Secret=s3").unwrap();
        assert!(!form_body.contains("s3"), "{form_body}");
    }
}
