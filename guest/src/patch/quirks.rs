//! PATCH forms that real clients send and RFC 7644 does not define (or defines otherwise), each accepted in one
//! place here behind its tolerance (see [`crate::tolerance`], where each is described with the request it
//! accepts). Forms shared with POST and PUT (booleans as strings, a bare id for a complex value, a single value
//! for a list) live in `crate::quirks` and reach PATCH through value checking.

use super::request::Op;
use crate::config::Config;
use crate::filter::{CompValue, Filter};
use crate::store::CompareOp;
use crate::tolerance::Tolerance;
use serde_json::{Map, Value};

/// An operation name: lower case as RFC 7644 §3.5.2 spells it, or any case (`operation-name-case`).
pub fn op_name(cfg: &Config, name: &str) -> Option<Op> {
    let op = match name.to_ascii_lowercase().as_str() {
        "add" => Op::Add,
        "replace" => Op::Replace,
        "remove" => Op::Remove,
        _ => return None,
    };
    let exact = matches!(name, "add" | "replace" | "remove");
    (exact || cfg.tolerates(Tolerance::OperationNameCase)).then_some(op)
}

/// A read-only attribute echoed unchanged inside a no-path value, to be ignored (`echoed-read-only`): `meta`,
/// or the resource's own `id`. Another `id` is still a 400 `mutability`.
pub fn echoed_read_only(cfg: &Config, name: &str, value: &Value, resource_id: &str) -> bool {
    let echoed = name == "meta" || (name == "id" && value.as_str() == Some(resource_id));
    echoed && cfg.tolerates(Tolerance::EchoedReadOnly)
}

/// The values listed by a remove without a filter, to remove only those (`removal-by-value`); none when no
/// value is given, and then every value is removed. Without the tolerance a listed value is 400
/// `invalidSyntax`: removing everything instead would lose what the client meant to keep.
pub fn removal_list<'v>(
    cfg: &Config,
    path: &str,
    value: Option<&'v Value>,
) -> crate::error::ScimResult<Option<&'v Value>> {
    let listed = value.filter(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
    match listed {
        Some(_) if !cfg.tolerates(Tolerance::RemovalByValue) => Err(crate::error::invalid_syntax(format!(
            "{path}: remove takes no value; select the values to remove with a filter in the path"
        ))),
        listed => Ok(listed),
    }
}

/// The element an add or replace on a filtered path creates when nothing matches (`create-on-filtered-path`).
/// Only a filter of `eq` comparisons joined by `and` describes an element; for any other filter, or without
/// the tolerance, this gives none and the RFC's `noTarget` stands.
pub fn element_from_filter(cfg: &Config, filter: &Filter) -> Option<Map<String, Value>> {
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
    (whole && cfg.switches.tolerances.enabled(Tolerance::CreateOnFilteredPath)).then_some(out)
}
