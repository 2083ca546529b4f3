//! Resources in and out: validation of a client's body into what is stored, and rendering of what is stored
//! into the SCIM representation (id, meta, members, `schemas`).

use crate::config::{Config, UnknownAttributes};
use crate::error::{self as err, ScimResult};
use crate::quirks;
use crate::schema::{AttrType, Attribute, Mutability, ResourceType, Schema, Uniqueness};
use crate::store::{Member, Stored, UniqueKey};
use serde_json::{json, Map, Value};

/// What a validated body becomes: the stored JSON, its uniqueness keys, and the members kept apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub data: Map<String, Value>,
    pub unique: Vec<UniqueKey>,
    /// Some when the resource type has `members` and the body carried them (possibly empty).
    pub members: Option<Vec<Member>>,
}

/// The resource type has group-like members kept apart from the body.
pub fn has_members(cfg: &Config, rt: &ResourceType) -> bool {
    cfg.registry.core_schema(rt).attribute("members").is_some()
}

/// Validates a POST or PUT body. `existing` is the stored body for PUT: immutable attributes must not change,
/// write-only attributes not sent are kept, `meta.created` is kept.
pub fn ingest(cfg: &Config, rt: &ResourceType, body: Value, existing: Option<&Map<String, Value>>) -> ScimResult<Prepared> {
    let Value::Object(input) = body else {
        return Err(err::invalid_syntax("the body must be a JSON object"));
    };
    let reg = &cfg.registry;
    let core = reg.core_schema(rt);
    let mut data = Map::new();
    let mut members = None;
    for (key, value) in input {
        if key.eq_ignore_ascii_case("schemas") || value.is_null() {
            continue;
        }
        if let Some(ext) = reg.extension(rt, &key) {
            let Value::Object(obj) = value else {
                return Err(err::invalid_value(format!("{}: an extension must be a JSON object", ext.id)));
            };
            let checked = ingest_attributes(cfg, ext, &ext.id, obj)?;
            if !checked.is_empty() {
                data.insert(ext.id.clone(), Value::Object(checked));
            }
            continue;
        }
        match reg.attribute(rt, None, &key) {
            Some((_, attr)) if attr.name == "members" && has_members(cfg, rt) => {
                members = Some(ingest_members(cfg, attr, value)?);
            }
            Some((_, attr)) => {
                if let Some(v) = ingest_attribute(cfg, attr, &attr.name, value)? {
                    data.insert(attr.name.clone(), v);
                }
            }
            None => unknown(cfg, &key)?,
        }
    }
    if let Some(old) = existing {
        check_immutable(core, old, &data)?;
        keep_write_only(core, old, &mut data);
    }
    check_required(core, &data, "")?;
    for (ext, schema) in reg.extensions(rt) {
        match data.get(&schema.id) {
            Some(Value::Object(obj)) => check_required(schema, obj, &schema.id)?,
            _ if ext.required => {
                return Err(err::invalid_value(format!("the extension {} is required", schema.id)));
            }
            _ => {}
        }
    }
    let unique = unique_keys(cfg, core, &data);
    Ok(Prepared { data, unique, members })
}

fn unknown(cfg: &Config, name: &str) -> ScimResult<()> {
    match cfg.switches.unknown_attributes {
        UnknownAttributes::Ignore => Ok(()),
        UnknownAttributes::Reject => Err(err::invalid_value(format!("{name}: no such attribute"))),
    }
}

/// The attributes of one schema (the core's, or an extension's object), keyed canonically.
fn ingest_attributes(cfg: &Config, schema: &Schema, prefix: &str, obj: Map<String, Value>) -> ScimResult<Map<String, Value>> {
    let mut out = Map::new();
    for (key, value) in obj {
        match schema.attribute(&key) {
            Some(attr) => {
                if let Some(v) = ingest_attribute(cfg, attr, &format!("{prefix}:{}", attr.name), value)? {
                    out.insert(attr.name.clone(), v);
                }
            }
            None if value.is_null() => {}
            None => unknown(cfg, &format!("{prefix}:{key}"))?,
        }
    }
    Ok(out)
}

/// One attribute's value, checked against its definition. None: nothing to store (null, empty, read-only).
pub fn ingest_attribute(cfg: &Config, attr: &Attribute, path: &str, value: Value) -> ScimResult<Option<Value>> {
    if attr.mutability == Mutability::ReadOnly || value.is_null() {
        return Ok(None);
    }
    if !attr.multi_valued {
        return ingest_single(cfg, attr, path, value);
    }
    let mut items = Vec::new();
    for item in quirks::single_as_list(value) {
        if let Some(v) = ingest_single(cfg, attr, path, item)? {
            items.push(v);
        }
    }
    let primaries = items.iter().filter(|v| v.get("primary") == Some(&Value::Bool(true))).count();
    if primaries > 1 {
        return Err(err::invalid_value(format!("{path}: at most one value may have primary set to true")));
    }
    Ok((!items.is_empty()).then_some(Value::Array(items)))
}

fn ingest_single(cfg: &Config, attr: &Attribute, path: &str, value: Value) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    let wrong = |what: &str| err::invalid_value(format!("{path}: expected {what}"));
    let v = match attr.attr_type {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(s) => Value::String(canonical_value(attr, path, s)?),
            _ => return Err(wrong("a string")),
        },
        AttrType::Boolean => match value {
            Value::Bool(b) => Value::Bool(b),
            other => Value::Bool(quirks::boolean_from_string(&other).ok_or_else(|| wrong("a boolean"))?),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Value::Number(n),
            _ => return Err(wrong("an integer")),
        },
        AttrType::Decimal => match value {
            Value::Number(n) => Value::Number(n),
            _ => return Err(wrong("a decimal number")),
        },
        AttrType::DateTime => match value {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(&s).is_ok() => Value::String(s),
            _ => return Err(wrong("an xsd:dateTime such as 2011-05-13T04:42:34Z")),
        },
        AttrType::Complex => {
            let Value::Object(obj) = quirks::bare_value_as_complex(value) else {
                return Err(wrong("a JSON object"));
            };
            let mut out = Map::new();
            for (key, v) in obj {
                match attr.sub(&key) {
                    Some(sub) => {
                        if sub.mutability == Mutability::ReadOnly {
                            continue;
                        }
                        if let Some(v) = ingest_single(cfg, sub, &format!("{path}.{}", sub.name), v)? {
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
            Value::Object(out)
        }
    };
    Ok(Some(v))
}

/// Canonical values are matched without case and written canonically; a value outside them is refused.
fn canonical_value(attr: &Attribute, path: &str, s: String) -> ScimResult<String> {
    if attr.canonical_values.is_empty() {
        return Ok(s);
    }
    attr.canonical_values
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&s))
        .cloned()
        .ok_or_else(|| err::invalid_value(format!("{path}: {s:?} is not one of {}", attr.canonical_values.join(", "))))
}

fn ingest_members(cfg: &Config, attr: &Attribute, value: Value) -> ScimResult<Vec<Member>> {
    let mut out: Vec<Member> = Vec::new();
    for item in quirks::single_as_list(value) {
        if item.is_null() {
            continue;
        }
        let m = member_from_json(cfg, attr, item)?;
        if !out.iter().any(|x| x.value == m.value) {
            out.push(m);
        }
    }
    Ok(out)
}

/// One member object. The id comes from `value`, or from a `$ref` that holds the bare id or a resource URL
/// (a SCIM-SDK client sends `{"$ref": "2819c223"}` alone).
pub fn member_from_json(cfg: &Config, attr: &Attribute, item: Value) -> ScimResult<Member> {
    let Value::Object(obj) = item else {
        return Err(err::invalid_value("members: each member must be an object with a value"));
    };
    let field = |name: &str| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let text = |name: &str| field(name).and_then(Value::as_str).map(str::to_string);
    let value = text("value")
        .or_else(|| text("$ref").map(|r| r.rsplit('/').next().unwrap_or(&r).to_string()))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| err::invalid_value("members: each member needs a value (the member's id)"))?;
    let kind = match text("type") {
        Some(t) => {
            let sub = attr.sub("type").expect("members has a type sub-attribute");
            Some(canonical_value(sub, "members.type", t)?)
        }
        None => text("$ref").and_then(|r| ref_kind(cfg, &r)),
    };
    Ok(Member { value, kind, display: text("display") })
}

/// The resource type a `$ref` URL points into: `.../Groups/x` → `Group`.
fn ref_kind(cfg: &Config, r: &str) -> Option<String> {
    let mut parts = r.rsplit('/');
    let _id = parts.next()?;
    let segment = parts.next()?;
    cfg.registry.by_endpoint(segment).map(|rt| rt.name.clone())
}

fn check_required(schema: &Schema, data: &Map<String, Value>, prefix: &str) -> ScimResult<()> {
    for attr in &schema.attributes {
        if attr.required && attr.mutability != Mutability::ReadOnly && !data.contains_key(&attr.name) {
            let name = if prefix.is_empty() { attr.name.clone() } else { format!("{prefix}:{}", attr.name) };
            return Err(err::invalid_value(format!("{name} is required")));
        }
    }
    Ok(())
}

fn check_immutable(schema: &Schema, old: &Map<String, Value>, new: &Map<String, Value>) -> ScimResult<()> {
    for attr in schema.attributes.iter().filter(|a| a.mutability == Mutability::Immutable) {
        if let (Some(before), Some(after)) = (old.get(&attr.name), new.get(&attr.name)) {
            if before != after {
                return Err(err::mutability(format!("{} is immutable and cannot be changed", attr.name)));
            }
        }
    }
    Ok(())
}

fn keep_write_only(schema: &Schema, old: &Map<String, Value>, new: &mut Map<String, Value>) {
    for attr in schema.attributes.iter().filter(|a| a.mutability == Mutability::WriteOnly) {
        if let (Some(v), false) = (old.get(&attr.name), new.contains_key(&attr.name)) {
            new.insert(attr.name.clone(), v.clone());
        }
    }
}

/// Uniqueness keys of a body: `server`/`global` attributes of the core schema, lower-cased unless caseExact.
pub fn unique_keys(cfg: &Config, core: &Schema, data: &Map<String, Value>) -> Vec<UniqueKey> {
    let group_name = cfg.switches.unique_group_display_name && core.id == crate::schema::GROUP;
    core.attributes
        .iter()
        .filter(|a| a.uniqueness != Uniqueness::None || (group_name && a.name == "displayName"))
        .filter_map(|a| {
            let v = data.get(&a.name)?.as_str()?;
            let value = if a.case_exact { v.to_string() } else { v.to_lowercase() };
            Some(UniqueKey { attribute: a.name.clone(), value })
        })
        .collect()
}

/// The location of a resource: `<baseUrl>/Users/<id>`.
pub fn location(cfg: &Config, rt: &ResourceType, id: &str) -> String {
    format!("{}{}/{}", cfg.base_url, rt.endpoint, id)
}

/// The weak ETag of a stored version.
pub fn etag(version: &str) -> String {
    format!("W/\"{version}\"")
}

/// The full SCIM representation of a stored resource, before projection.
pub fn render(cfg: &Config, rt: &ResourceType, stored: &Stored) -> ScimResult<Value> {
    let mut data: Map<String, Value> = match serde_json::from_str(&stored.data) {
        Ok(Value::Object(m)) => m,
        _ => return Err(err::internal(format!("stored {} {} is not a JSON object", rt.name, stored.id))),
    };
    let mut schemas = vec![Value::String(rt.schema.clone())];
    for (_, ext) in cfg.registry.extensions(rt) {
        if data.contains_key(&ext.id) {
            schemas.push(Value::String(ext.id.clone()));
        }
    }
    data.insert("schemas".into(), Value::Array(schemas));
    data.insert("id".into(), Value::String(stored.id.clone()));
    let mut meta = match data.remove("meta") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    meta.insert("resourceType".into(), json!(rt.name));
    meta.insert("location".into(), json!(location(cfg, rt, &stored.id)));
    meta.insert("version".into(), json!(etag(&stored.version)));
    data.insert("meta".into(), Value::Object(meta));
    if let Some(members) = &stored.members {
        if has_members(cfg, rt) {
            data.insert("members".into(), Value::Array(members.iter().map(|m| member_json(cfg, m)).collect()));
        }
    }
    Ok(Value::Object(data))
}

pub fn member_json(cfg: &Config, m: &Member) -> Value {
    let mut obj = Map::new();
    obj.insert("value".into(), json!(m.value));
    let rt = m.kind.as_deref().and_then(|k| cfg.registry.resource_type(k));
    if let Some(rt) = rt {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn user_rt(cfg: &Config) -> &ResourceType {
        cfg.registry.resource_type("User").unwrap()
    }

    #[test]
    fn canonicalises_names_and_drops_read_only() {
        let cfg = Config::test();
        let body = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
            "USERNAME":"bjensen","id":"x","meta":{"created":"2000-01-01T00:00:00Z"},
            "Emails":[{"Value":"b@example.com","TYPE":"Work","primary":true}], "active":"True"});
        let p = ingest(&cfg, user_rt(&cfg), body, None).unwrap();
        assert_eq!(p.data["userName"], "bjensen");
        assert_eq!(p.data["emails"][0]["type"], "work");
        assert_eq!(p.data["active"], true);
        assert!(!p.data.contains_key("id") && !p.data.contains_key("meta"));
        assert_eq!(p.unique, vec![UniqueKey { attribute: "userName".into(), value: "bjensen".into() }]);
    }

    #[test]
    fn missing_required_attribute_is_invalid_value() {
        let cfg = Config::test();
        let e = ingest(&cfg, user_rt(&cfg), json!({"displayName":"x"}), None).unwrap_err();
        assert_eq!(e.kind.scim_type(), Some("invalidValue"));
        assert!(e.detail.contains("userName"));
    }

    #[test]
    fn wrong_type_names_the_attribute() {
        let cfg = Config::test();
        let e = ingest(&cfg, user_rt(&cfg), json!({"userName":"a","active":3}), None).unwrap_err();
        assert!(e.detail.contains("active"), "{}", e.detail);
    }

    #[test]
    fn two_primaries_are_refused() {
        let cfg = Config::test();
        let body = json!({"userName":"a","emails":[{"value":"a","primary":true},{"value":"b","primary":true}]});
        assert!(ingest(&cfg, user_rt(&cfg), body, None).is_err());
    }

    #[test]
    fn members_are_kept_apart() {
        let cfg = Config::test();
        let rt = cfg.registry.resource_type("Group").unwrap();
        let body = json!({"displayName":"g","members":[{"value":"1","type":"User"},{"$ref":"2"},{"value":"1"}]});
        let p = ingest(&cfg, rt, body, None).unwrap();
        let members = p.members.unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].value, "2");
        assert!(!p.data.contains_key("members"));
    }
}
