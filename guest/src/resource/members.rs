//! Group members (RFC 7643 §4.2): kept apart from the body in storage, so that membership changes cost the
//! size of the change. In: `value` (or an id-bearing `$ref`), `type`, `display`. Out: `$ref` is computed
//! from the base URL and the member's type, never stored.

use super::location;
use super::value::{canonical_value, check_count};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::quirks;
use crate::schema::{Attribute, ResourceType};
use crate::store::{Member, Store, StoreError};
use crate::tolerance::Tolerance;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The members of a body, without duplicate ids (the first occurrence wins).
/// Duplicates are found through a set: a linear scan per member made a large body quadratic.
pub fn ingest_members(cfg: &Config, attr: &Attribute, value: Value) -> ScimResult<Vec<Member>> {
    check_count(cfg, "members", &value)?;
    let mut out: Vec<Member> = Vec::new();
    let mut seen = BTreeSet::new();
    for item in quirks::single_as_list(cfg, "members", value)? {
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
/// (the tolerance `member-ref-without-value`).
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
    let from_ref = || {
        let r = reference.as_deref()?;
        cfg.tolerates(Tolerance::MemberRefWithoutValue).then(|| r.rsplit('/').next().unwrap_or(r).to_string())
    };
    let value = text("value")?
        .filter(|v| !v.is_empty())
        .or_else(from_ref)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| err::invalid_value("members.value is required: each member needs the member's id"))?;
    let kind = match (text("type")?, attr.sub("type")) {
        (Some(t), Some(sub)) => Some(canonical_value(sub, "members.type", t)?),
        (Some(t), None) => Some(t),
        (None, _) => reference.as_deref().and_then(|r| ref_kind(cfg, r)),
    };
    Ok(Member { value, kind, display: text("display")? })
}

/// Resolves added members against storage, one read per member and candidate type: a member without `type`
/// gets the type of the resource its id names (so that `type` and `$ref` are returned, RFC 7643 §4.2), and an
/// id that no candidate type holds is 400 `invalidValue` rather than a dangling member. The candidates are the
/// member's `type` when given, else the `referenceTypes` of `members.$ref` that are served, in that order.
/// Storage that cannot read a type (`unsupported`) leaves the member as given.
pub fn resolve_members(
    cfg: &Config,
    store: &mut dyn Store,
    attr: &Attribute,
    members: &mut [Member],
) -> ScimResult<()> {
    let reg = &cfg.registry;
    let referable = attr.sub("$ref").map(|r| r.reference_types.as_slice()).unwrap_or_default();
    let served: Vec<&str> = referable.iter().filter_map(|k| reg.resource_type(k)).map(|rt| rt.name.as_str()).collect();
    for m in members {
        let candidates = match m.kind.as_deref() {
            None => served.clone(),
            Some(kind) => match reg.resource_type(kind) {
                Some(rt) => vec![rt.name.as_str()],
                // A type this engine does not serve cannot be looked up.
                None => continue,
            },
        };
        let mut found = None;
        for kind in &candidates {
            match store.get(kind, &m.value, false) {
                Ok(Some(_)) => {
                    found = Some(kind.to_string());
                    break;
                }
                Ok(None) | Err(StoreError::NotFound) => {}
                Err(StoreError::Unsupported) => {
                    found = m.kind.clone();
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        match found {
            Some(kind) => m.kind = Some(kind),
            None if m.kind.is_none() && candidates.is_empty() => {}
            None => {
                return Err(err::invalid_value(format!(
                    "members: no {} has the id {:?}",
                    candidates.join(" or "),
                    m.value
                )))
            }
        }
    }
    Ok(())
}

/// [`resolve_members`] for the `members` attribute of a resource type.
pub fn resolve_added(cfg: &Config, store: &mut dyn Store, rt: &ResourceType, members: &mut [Member]) -> ScimResult<()> {
    match cfg.registry.core_schema(rt).attribute("members") {
        Some(attr) if !members.is_empty() => resolve_members(cfg, store, attr, members),
        _ => Ok(()),
    }
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
