//! Client quirks: each accepted form handled in one named place, with the request it accepts.

use serde_json::Value;

/// Booleans sent as strings. Entra ID sends, on POST and PATCH alike:
/// `{"op":"Replace","path":"active","value":"False"}` and `"active": "True"`.
pub fn boolean_from_string(v: &Value) -> Option<bool> {
    match v {
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A single value where the schema says multi-valued. Some clients send `"emails": {"value": "a@b"}`;
/// it is taken as a list of one.
pub fn single_as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        other => vec![other],
    }
}

/// A complex attribute sent as its bare value. Entra ID sends the enterprise manager as
/// `{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915"}`;
/// it is stored as `{"value": "26118915"}`.
pub fn bare_value_as_complex(v: Value) -> Value {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => serde_json::json!({ "value": v }),
        other => other,
    }
}

/// The enterprise manager named without its schema URN. Entra ID sends `"manager": "26118915"` in a User body
/// and `{"op":"replace","path":"manager","value":"26118915"}` in a PATCH; both name
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager` (stored, by [`bare_value_as_complex`],
/// as `{"value": "26118915"}`). Only for a resource type that has the extension and no `manager` of its own.
pub fn unqualified_extension_urn(name: &str) -> Option<&'static str> {
    name.eq_ignore_ascii_case("manager").then_some(crate::schema::ENTERPRISE_USER)
}
