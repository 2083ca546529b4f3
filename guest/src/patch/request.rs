//! The PatchOp message (RFC 7644 §3.5.2): `schemas`, `Operations`, and each operation's `op`, `path`, `value`.

use super::quirks;
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::names::member;
use crate::tolerance::Tolerance;
use serde_json::Value;

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// One operation as sent. The path stays text: an extension URN alone is a valid target that the attribute
/// path grammar would misread, so the target is resolved against the schema later.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    /// `None` when the member is absent; `Some(Null)` when sent as `null`.
    pub value: Option<Value>,
}

/// The operations of a PATCH body, in order. Structural faults are 400 `invalidSyntax`; a remove without a
/// path is 400 `noTarget` (RFC 7644 §3.5.2.2).
pub fn parse(cfg: &Config, body: Value) -> ScimResult<Vec<Operation>> {
    let Value::Object(obj) = body else {
        return Err(err::invalid_syntax("a PATCH body must be a JSON object"));
    };
    match member(&obj, "schemas") {
        // RFC 7644 §3.5.2 requires schemas; clients omit it (`patch-without-schemas`) and Operations leaves no
        // doubt about the message. A schemas that names something else is always refused.
        None if cfg.tolerates(Tolerance::PatchWithoutSchemas) => {}
        None => return Err(err::invalid_syntax(format!("schemas must contain {PATCH_OP}"))),
        Some(Value::Array(ids)) if ids.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP))) => {
        }
        Some(_) => return Err(err::invalid_syntax(format!("schemas must contain {PATCH_OP}"))),
    }
    let ops = match member(&obj, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => return Err(err::invalid_syntax("Operations must be a non-empty list of operations")),
    };
    ops.iter().enumerate().map(|(i, op)| operation(cfg, op).map_err(|e| super::in_operation(i, e))).collect()
}

fn operation(cfg: &Config, v: &Value) -> ScimResult<Operation> {
    let Value::Object(obj) = v else {
        return Err(err::invalid_syntax("an operation must be a JSON object"));
    };
    let name = member(obj, "op").and_then(Value::as_str).unwrap_or_default();
    let op = quirks::op_name(cfg, name)
        .ok_or_else(|| err::invalid_syntax(format!("op must be add, replace or remove, not {name:?}")))?;
    let path = match member(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => return Err(err::invalid_path("path must be a string")),
    };
    let value = member(obj, "value").cloned();
    match (op, &path, &value) {
        // RFC 7644 §3.5.2.2 names the error of a remove without a path; under both profiles it is noTarget.
        (Op::Remove, None, _) => Err(err::no_target("remove needs a path")),
        // Interop Profile §6.5.1.1: an add or replace without a path is refused as invalidSyntax.
        (_, None, _) if cfg.strict() => {
            Err(err::invalid_syntax("the interop profile requires a path in every operation"))
        }
        (Op::Add | Op::Replace, _, None) => Err(err::invalid_syntax("add and replace need a value")),
        _ => Ok(Operation { op, path, value }),
    }
}
