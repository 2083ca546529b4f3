//! Group members (RFC 7643 §4.2): kept apart from the body in storage, so that membership changes cost the
//! size of the change. In: `value` (or an id-bearing `$ref`), `type`, `display`. Out: `$ref` is computed
//! from the base URL and the member's type, never stored.

use super::location;
use super::value::{canonical_value, check_count};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::quirks;
use crate::schema::Attribute;
use crate::store::Member;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The members of a body, without duplicate ids (the first occurrence wins).
/// Duplicates are found through a set: a linear scan per member made a large body quadratic.
pub fn ingest_members(cfg: &Config, attr: &Attribute, value: Value) -> ScimResult<Vec<Member>> {
    check_count(cfg, "members", &value)?;
    let mut out: Vec<Member> = Vec::new();
    let mut seen = BTreeSet::new();
    for item in quirks::single_as_list(value) {
        if item.is_null() {
            continue;
        }
        let m = member_from_json(cfg, attr, item)?;
        if seen.insert(m.value.clone()) {
            out.push(m);
        }
    }
    Ok(out)
}

/// One member object. The id comes from `value`, or from a `$ref` that holds the bare id or a resource URL
/// (some clients send `{"$ref": "2819c223"}` alone).
pub fn member_from_json(cfg: &Config, attr: &Attribute, item: Value) -> ScimResult<Member> {
    let Value::Object(obj) = item else {
        return Err(err::invalid_value("members: each member must be an object with a value"));
    };
    let field = |name: &str| crate::names::member(&obj, name);
    let text = |name: &str| -> ScimResult<Option<String>> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(err::invalid_value(format!("members.{name}: expected a string"))),
        }
    };
    let reference = text("$ref")?;
    let value = text("value")?
        .or_else(|| reference.as_deref().map(|r| r.rsplit('/').next().unwrap_or(r).to_string()))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| err::invalid_value("members.value is required: each member needs the member's id"))?;
    let kind = match (text("type")?, attr.sub("type")) {
        (Some(t), Some(sub)) => Some(canonical_value(sub, "members.type", t)?),
        (Some(t), None) => Some(t),
        (None, _) => reference.as_deref().and_then(|r| ref_kind(cfg, r)),
    };
    Ok(Member { value, kind, display: text("display")? })
}

/// The resource type a `$ref` URL points into: `.../Groups/x` → `Group`.
fn ref_kind(cfg: &Config, r: &str) -> Option<String> {
    let mut parts = r.rsplit('/');
    let _id = parts.next()?;
    let segment = parts.next()?;
    cfg.registry.by_endpoint(segment).map(|rt| rt.name.clone())
}

pub fn member_json(cfg: &Config, m: &Member) -> Value {
    let mut obj = Map::new();
    obj.insert("value".into(), json!(m.value));
    if let Some(rt) = m.kind.as_deref().and_then(|k| cfg.registry.resource_type(k)) {
        obj.insert("$ref".into(), json!(location(cfg, rt, &m.value)));
    }
    if let Some(kind) = &m.kind {
        obj.insert("type".into(), json!(kind));
    }
    if let Some(display) = &m.display {
        obj.insert("display".into(), json!(display));
    }
    Value::Object(obj)
}
