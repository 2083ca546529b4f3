//! One attribute's value checked against its definition (RFC 7643 §2.3 data types, §2.4 multi-valued
//! attributes, §7 characteristics) and written in canonical form.

use crate::config::{Config, UnknownAttributes};
use crate::error::{self as err, ScimResult};
use crate::quirks;
use crate::schema::{AttrType, Attribute, Mutability};
use crate::tolerance::Tolerance;
use serde_json::{Map, Number, Value};
use std::collections::btree_map::{BTreeMap, Entry};

/// What to do with a name the schema does not define: the `unknownAttributes` switch, applied the same way
/// at every level. `path` is the full name shown to the client.
pub fn unknown(cfg: &Config, path: &str) -> ScimResult<()> {
    match cfg.switches.unknown_attributes {
        UnknownAttributes::Ignore => Ok(()),
        // The interop profile asks for invalidSyntax: the body does not conform to the schema.
        UnknownAttributes::Reject if cfg.strict() => {
            Err(err::invalid_syntax(format!("{path}: no such attribute in the schema")))
        }
        UnknownAttributes::Reject => Err(err::invalid_value(format!("{path}: no such attribute in the schema"))),
    }
}

/// 400 `invalidValue` when a list holds more values than `maxMultiValues`, before any value is looked at.
pub fn check_count(cfg: &Config, path: &str, value: &Value) -> ScimResult<()> {
    let max = cfg.limits.max_multi_values;
    match value {
        Value::Array(items) if items.len() > max => {
            Err(err::invalid_value(format!("{path}: at most {max} values are accepted, not {}", items.len())))
        }
        _ => Ok(()),
    }
}

/// An attribute's value, checked. None: nothing to store (null, empty, or read-only, which clients may send
/// back unchanged and which is therefore ignored, RFC 7643 §2.2).
pub fn ingest_attribute(cfg: &Config, attr: &Attribute, path: &str, value: Value) -> ScimResult<Option<Value>> {
    if attr.mutability == Mutability::ReadOnly || value.is_null() {
        return Ok(None);
    }
    if !attr.multi_valued {
        if value.is_array() {
            return Err(err::invalid_value(format!("{path}: expected a single value, not a list")));
        }
        return ingest_single(cfg, attr, path, value);
    }
    check_count(cfg, path, &value)?;
    let mut items: Vec<Value> = Vec::new();
    // RFC 7643 §2.4: the same (`type`, `value`) is not kept twice; the first stays, primary if either was. (A
    // BTreeMap: a HashMap needs a random seed, which the component is not given.)
    let mut seen = BTreeMap::new();
    for item in quirks::single_as_list(cfg, path, value)? {
        if item.is_array() {
            return Err(err::invalid_value(format!("{path}: a list cannot hold lists")));
        }
        let Some(v) = ingest_single(cfg, attr, path, item)? else { continue };
        match seen.entry(identity(attr, &v)) {
            Entry::Occupied(first) => {
                if v.get("primary") == Some(&Value::Bool(true)) {
                    if let Some(kept) = items.get_mut(*first.get()).and_then(Value::as_object_mut) {
                        kept.insert("primary".into(), Value::Bool(true));
                    }
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(items.len());
                items.push(v);
            }
        }
    }
    let primaries = items.iter().filter(|v| v.get("primary") == Some(&Value::Bool(true))).count();
    if primaries > 1 {
        return Err(err::invalid_value(format!("{path}: at most one value may have primary set to true")));
    }
    Ok((!items.is_empty()).then_some(Value::Array(items)))
}

/// What makes two values of a multi-valued attribute the same: `type` and `value` for a complex value (the
/// whole value when it has no `value`), the value itself for a simple one; text compared under `caseExact`.
fn identity(attr: &Attribute, v: &Value) -> (String, String) {
    let text = |a: Option<&Attribute>, v: Option<&Value>| match v {
        Some(Value::String(s)) if !a.is_some_and(|a| a.case_exact) => s.to_lowercase(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    match v {
        Value::Object(obj) if obj.contains_key("value") => {
            (text(attr.sub("type"), obj.get("type")), text(attr.sub("value"), obj.get("value")))
        }
        Value::Object(_) => (String::new(), v.to_string()),
        v => (String::new(), text(Some(attr), Some(v))),
    }
}

fn ingest_single(cfg: &Config, attr: &Attribute, path: &str, value: Value) -> ScimResult<Option<Value>> {
    let wrong = |what: &str| err::invalid_value(format!("{path}: expected {what}"));
    let v = match (attr.attr_type, value) {
        (_, Value::Null) => return Ok(None),
        (AttrType::String | AttrType::Reference, Value::String(s)) => Value::String(canonical_value(attr, path, s)?),
        (AttrType::String, _) => return Err(wrong("a string")),
        (AttrType::Reference, _) => return Err(wrong("a reference (a URI or id as a string)")),
        (AttrType::Binary, Value::String(s)) if is_base64(&s) => Value::String(s),
        (AttrType::Binary, _) => return Err(wrong("base64-encoded binary data as a string")),
        (AttrType::Boolean, Value::Bool(b)) => Value::Bool(b),
        (AttrType::Boolean, other) => match quirks::boolean_from_string(&other) {
            Some(b) if cfg.tolerates(Tolerance::BooleanString) => Value::Bool(b),
            _ => return Err(wrong("a boolean")),
        },
        (AttrType::Integer, Value::Number(n)) => Value::Number(integer(&n).ok_or_else(|| wrong("an integer"))?),
        (AttrType::Integer, _) => return Err(wrong("an integer")),
        (AttrType::Decimal, Value::Number(n)) => Value::Number(n),
        (AttrType::Decimal, _) => return Err(wrong("a decimal number")),
        (AttrType::DateTime, Value::String(s)) if is_date_time(&s) => Value::String(s),
        (AttrType::DateTime, _) => return Err(wrong("an xsd:dateTime such as 2011-05-13T04:42:34Z")),
        (AttrType::Complex, value) => match quirks::bare_value_as_complex(cfg, value) {
            Value::Object(obj) => return ingest_complex(cfg, attr, path, obj),
            _ => return Err(wrong("a JSON object")),
        },
    };
    Ok(Some(v))
}

/// A complex value: sub-attributes by name without case, written canonically; required sub-attributes
/// must be present once the value itself is.
fn ingest_complex(cfg: &Config, attr: &Attribute, path: &str, obj: Map<String, Value>) -> ScimResult<Option<Value>> {
    let mut out = Map::new();
    for (key, v) in obj {
        match attr.sub(&key) {
            Some(sub) => {
                if let Some(v) = ingest_attribute(cfg, sub, &format!("{path}.{}", sub.name), v)? {
                    out.insert(sub.name.clone(), v);
                }
            }
            None if v.is_null() => {}
            None => unknown(cfg, &format!("{path}.{key}"))?,
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if let Some(missing) = attr
        .sub_attributes
        .iter()
        .find(|s| s.required && s.mutability != Mutability::ReadOnly && !out.contains_key(&s.name))
    {
        return Err(err::invalid_value(format!("{path}.{} is required", missing.name)));
    }
    Ok(Some(Value::Object(out)))
}

/// Canonical values are matched without case and written canonically; a value outside them is refused.
pub fn canonical_value(attr: &Attribute, path: &str, s: String) -> ScimResult<String> {
    if attr.canonical_values.is_empty() {
        return Ok(s);
    }
    let found = if attr.case_exact {
        attr.canonical_values.iter().find(|c| **c == s)
    } else {
        attr.canonical_values.iter().find(|c| c.eq_ignore_ascii_case(&s))
    };
    found.cloned().ok_or_else(|| {
        err::invalid_value(format!(
            "{path}: {s:?} is not one of the canonical values {}",
            attr.canonical_values.join(", ")
        ))
    })
}

/// An integer. `3.0` is accepted as `3` (JSON does not distinguish them and some clients write every
/// number as a float); `3.5` is not.
fn integer(n: &Number) -> Option<Number> {
    if n.is_i64() || n.is_u64() {
        return Some(n.clone());
    }
    let f = n.as_f64()?;
    let in_range = f >= i64::MIN as f64 && f < i64::MAX as f64;
    (f.fract() == 0.0 && in_range).then(|| Number::from(f as i64))
}

/// RFC 7643 §2.3.5: an xsd:dateTime with date and time; the zone (`Z` or `±hh:mm`) and fractional seconds
/// are optional, the `T` separator is not.
fn is_date_time(s: &str) -> bool {
    if s.as_bytes().get(10) != Some(&b'T') {
        return false;
    }
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// RFC 4648 §4 base64, padding optional (RFC 7643 §2.3.6).
fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    let padding = s.len() - body.len();
    let alphabet = body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    alphabet && padding <= 2 && body.len() % 4 != 1 && (padding == 0 || s.len().is_multiple_of(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        for ok in ["2011-05-13T04:42:34Z", "2011-05-13T04:42:34.123+02:00", "2011-05-13T04:42:34"] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in ["2011-05-13", "2011-05-13 04:42:34Z", "13/05/2011", "2011-13-13T04:42:34Z", ""] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn base64() {
        for ok in ["", "TWFu", "TWE=", "TQ==", "TWE", "a+/9"] {
            assert!(is_base64(ok), "{ok}");
        }
        for bad in ["T", "TWFu!", "TQ===", "T=Q=", "TWE==="] {
            assert!(!is_base64(bad), "{bad}");
        }
    }

    #[test]
    fn integers() {
        let n = |v: Value| integer(v.as_number().unwrap());
        assert_eq!(n(serde_json::json!(3)), Some(Number::from(3)));
        assert_eq!(n(serde_json::json!(3.0)), Some(Number::from(3)));
        assert_eq!(n(serde_json::json!(-2.0)), Some(Number::from(-2)));
        assert_eq!(n(serde_json::json!(3.5)), None);
        assert_eq!(n(serde_json::json!(1e300)), None);
    }
}
