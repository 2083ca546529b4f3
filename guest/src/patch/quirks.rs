//! PATCH forms that real clients send and RFC 7644 does not define (or defines otherwise), each accepted in one
//! place here, with the request it accepts. Forms shared with POST and PUT (booleans as strings, a bare id for a
//! complex value, a single value for a list) live in `crate::quirks` and reach PATCH through value checking.

use super::request::Op;
use crate::filter::{CompValue, Filter};
use crate::store::CompareOp;
use serde_json::{Map, Value};

/// Operation names in any case. Entra ID sends `{"op":"Replace","path":"active","value":"False"}`,
/// `"op":"Add"` and `"op":"Remove"`; RFC 7644 §3.5.2 spells them in lower case.
pub fn op_name(name: &str) -> Option<Op> {
    match name.to_ascii_lowercase().as_str() {
        "add" => Some(Op::Add),
        "replace" => Some(Op::Replace),
        "remove" => Some(Op::Remove),
        _ => None,
    }
}

/// Read-only attributes echoed inside a no-path value, ignored rather than refused. Okta renames a group with
/// `{"op":"replace","value":{"id":"<group id>","displayName":"new name"}}`, and clients that send back what they
/// read include `meta`. An `id` other than the resource's own is still a 400 `mutability`.
pub fn echoed_read_only(name: &str, value: &Value, resource_id: &str) -> bool {
    name == "meta" || (name == "id" && value.as_str() == Some(resource_id))
}

/// A remove that lists the values to remove. Entra ID removes group members with
/// `{"op":"Remove","path":"members","value":[{"value":"<member id>"}]}`; RFC 7644 §3.5.2.2 would remove every
/// member. Only the listed values are removed; without a value, all are.
pub fn removal_list(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
}

/// The element an add or replace on a filtered path creates when nothing matches. Entra ID sends
/// `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}` to a user without a work email and
/// expects `{"type":"work","value":"x@y"}`; RFC 7644 §3.5.2.3 would answer `noTarget`. Only a filter of `eq`
/// comparisons joined by `and` describes an element; for any other filter this gives none and the RFC's
/// `noTarget` stands.
pub fn element_from_filter(filter: &Filter) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    let mut add = |f: &Filter| match f {
        Filter::Compare(path, CompareOp::Eq, lit) if path.urn.is_none() && path.sub.is_none() => {
            if *lit == CompValue::Null {
                return false;
            }
            out.insert(path.name.clone(), lit.to_json());
            true
        }
        _ => false,
    };
    let whole = match filter {
        Filter::And(terms) => terms.iter().all(&mut add),
        f => add(f),
    };
    whole.then_some(out)
}
