//! The filter language. PROVISIONAL: only `attrPath op value`; the full grammar replaces this file.

pub mod ast;

pub use ast::{AttrPath, CompValue, Filter, PatchPath};

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::schema::ResourceType;
use crate::store::{CompareOp, Comparison, FilterNode, FlatFilter, Literal};
use serde_json::Value;

pub fn parse_filter(input: &str) -> ScimResult<Filter> {
    let mut parts = input.splitn(3, ' ');
    let (Some(path), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(err::invalid_filter(format!("cannot parse filter {input:?}")));
    };
    let op = match op.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        _ => return Err(err::invalid_filter(format!("unsupported operator {op}"))),
    };
    let value: Value = serde_json::from_str(value).map_err(|e| err::invalid_filter(format!("bad value: {e}")))?;
    let value = match value {
        Value::String(s) => CompValue::Str(s),
        Value::Bool(b) => CompValue::Bool(b),
        Value::Null => CompValue::Null,
        Value::Number(n) => CompValue::Number(n),
        _ => return Err(err::invalid_filter("bad value")),
    };
    let (name, sub) = match path.split_once('.') {
        Some((n, s)) => (n.to_string(), Some(s.to_string())),
        None => (path.to_string(), None),
    };
    Ok(Filter::Compare(AttrPath { urn: None, name, sub }, op, value))
}

pub fn matches(_cfg: &Config, _rt: &ResourceType, filter: &Filter, resource: &Value) -> ScimResult<bool> {
    let Filter::Compare(path, CompareOp::Eq, CompValue::Str(s)) = filter else { return Ok(false) };
    let field = resource.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(&path.name))).map(|(_, v)| v);
    Ok(field.and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(s)))
}

pub fn flatten(cfg: &Config, rt: &ResourceType, filter: &Filter) -> ScimResult<FlatFilter> {
    let Filter::Compare(path, op, CompValue::Str(s)) = filter else { return Err(err::invalid_filter("unsupported")) };
    let (_, attr) = cfg.registry.attribute(rt, None, &path.name).ok_or_else(|| err::invalid_filter("unknown attribute"))?;
    Ok(FlatFilter {
        nodes: vec![FilterNode::Compare(Comparison {
            path: attr.name.clone(),
            op: *op,
            value: Literal::Text(s.clone()),
            case_exact: attr.case_exact,
        })],
        root: 0,
    })
}
