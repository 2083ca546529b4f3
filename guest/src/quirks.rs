//! Client quirks shared by POST, PUT and PATCH: each accepted form handled in one named place, behind its
//! tolerance (see [`crate::tolerance`], where each is described with the request it accepts).

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::tolerance::Tolerance;
use serde_json::Value;

/// `"True"`/`"false"` read as booleans (the tolerance `boolean-string`); none for anything else.
pub fn boolean_from_string(v: &Value) -> Option<bool> {
    match v {
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The values of a multi-valued attribute: a list, or a single value taken as a list of one (the tolerance
/// `single-value-as-list`); without it, a single value is 400 `invalidValue`.
pub fn single_as_list(cfg: &Config, path: &str, v: Value) -> ScimResult<Vec<Value>> {
    match v {
        Value::Array(items) => Ok(items),
        other if cfg.tolerates(Tolerance::SingleValueAsList) => Ok(vec![other]),
        _ => Err(err::invalid_value(format!("{path}: expected a list of values"))),
    }
}

/// A complex value, or a bare value taken as `{"value": …}` (the tolerance `bare-complex-value`).
pub fn bare_value_as_complex(cfg: &Config, v: Value) -> Value {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) if cfg.tolerates(Tolerance::BareComplexValue) => {
            serde_json::json!({ "value": v })
        }
        other => other,
    }
}
