//! Resources in and out: validation of a client's body into what is stored, and rendering of what is stored
//! into the SCIM representation (id, meta, members, `schemas`).
//!
//! Input rules, the same at every level: attribute names and schema URNs are matched without case and
//! written canonically; nulls are ignored; read-only attributes (`id`, `meta`, `groups`, …) are ignored;
//! unknown names follow the `unknownAttributes` switch. A body's `schemas` is informational: the stored
//! resource carries the core schema and exactly the extensions it has values for, so a missing core URN or
//! an unknown URN (identity providers add their own) changes nothing.

mod members;
pub mod paged;
mod replace;
mod value;

pub use members::{member_from_json, member_json, resolve_added};

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::schema::{Attribute, Mutability, Registry, ResourceType, Schema, Uniqueness};
use crate::store::{Member, Stored, UniqueKey};
use crate::tolerance::Tolerance;
use replace::Path;
use serde_json::{json, Map, Value};
pub use value::{canonical_value, ingest_attribute, unknown};

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

/// What a top-level key of a body names.
enum Key<'a> {
    /// An extension's object: `"urn:…:enterprise:2.0:User": {…}`.
    Extension(&'a Schema),
    /// A core or common attribute, bare or qualified with the core URN.
    Core(&'a Attribute),
    /// An extension attribute written flat: `"urn:…:enterprise:2.0:User:employeeNumber": "7"`.
    Flat(&'a Schema, &'a Attribute),
    Unknown,
}

fn locate<'a>(reg: &'a Registry, rt: &'a ResourceType, key: &str) -> Key<'a> {
    if let Some(ext) = reg.extension(rt, key) {
        return Key::Extension(ext);
    }
    match reg.attribute(rt, None, key) {
        Some((None, attr)) => return Key::Core(attr),
        Some((Some(urn), attr)) => return reg.extension(rt, urn).map_or(Key::Unknown, |ext| Key::Flat(ext, attr)),
        None => {}
    }
    let Some((urn, name)) =
        key.rsplit_once(':').filter(|_| key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")))
    else {
        return Key::Unknown;
    };
    match reg.attribute(rt, Some(urn), name) {
        Some((None, attr)) => Key::Core(attr),
        Some((Some(_), attr)) => reg.extension(rt, urn).map_or(Key::Unknown, |ext| Key::Flat(ext, attr)),
        None => Key::Unknown,
    }
}

/// Validates a POST or PUT body. `existing` is the stored body for PUT: immutable attributes must not
/// change, immutable and write-only attributes not sent are kept.
pub fn ingest(
    cfg: &Config,
    rt: &ResourceType,
    body: Value,
    existing: Option<&Map<String, Value>>,
) -> ScimResult<Prepared> {
    let Value::Object(input) = body else {
        return Err(err::invalid_syntax("the body must be a JSON object"));
    };
    let reg = &cfg.registry;
    let core = reg.core_schema(rt);
    let input = core_schema_object(cfg, &core.id, input)?;
    let mut data = Map::new();
    let mut members = None;
    for (key, value) in input {
        if key.eq_ignore_ascii_case("schemas") {
            check_schemas_list(cfg, rt, &value)?;
            continue;
        }
        if value.is_null() {
            continue;
        }
        match locate(reg, rt, &key) {
            Key::Extension(ext) => {
                let Value::Object(obj) = value else {
                    return Err(err::invalid_value(format!("{}: an extension must be a JSON object", ext.id)));
                };
                for (name, v) in obj {
                    if name.eq_ignore_ascii_case("schemas") {
                        extension_schemas(cfg, &ext.id, &v)?;
                        continue;
                    }
                    match ext.attribute(&name) {
                        Some(attr) => put_extension(cfg, &mut data, ext, attr, v)?,
                        None if v.is_null() => {}
                        None => unknown(cfg, &format!("{}:{name}", ext.id))?,
                    }
                }
            }
            Key::Flat(ext, attr) => put_extension(cfg, &mut data, ext, attr, value)?,
            Key::Core(attr) if attr.name == "members" && has_members(cfg, rt) => {
                members = Some(members::ingest_members(cfg, attr, value)?);
            }
            Key::Core(attr) => {
                if let Some(v) = ingest_attribute(cfg, attr, &attr.name, value)? {
                    data.insert(attr.name.clone(), v);
                }
            }
            Key::Unknown => unknown(cfg, &key)?,
        }
    }
    if let Some(old) = existing {
        replace::carry_over(&core.attributes, old, &mut data, &Path::Core)?;
        for (_, ext) in reg.extensions(rt) {
            let Some(Value::Object(before)) = old.get(&ext.id) else {
                continue;
            };
            let mut after = match data.remove(&ext.id) {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            replace::carry_over(&ext.attributes, before, &mut after, &Path::Schema(&ext.id))?;
            if !after.is_empty() {
                data.insert(ext.id.clone(), Value::Object(after));
            }
        }
    }
    check_required(core, &data, None)?;
    for (decl, ext) in reg.extensions(rt) {
        match data.get(&ext.id) {
            Some(Value::Object(obj)) => check_required(ext, obj, Some(&ext.id))?,
            _ if decl.required => {
                return Err(err::invalid_value(format!("{}: the extension is required for {}", ext.id, rt.name)));
            }
            _ => {}
        }
    }
    let unique = unique_keys(cfg, rt, &data);
    Ok(Prepared { data, unique, members })
}

/// Core attributes nested under the core schema's URN, as extension attributes are (`core-schema-object`), are
/// lifted to the top level; an attribute also given at the top level keeps the top-level value.
fn core_schema_object(cfg: &Config, core: &str, mut input: Map<String, Value>) -> ScimResult<Map<String, Value>> {
    let Some(key) = input.keys().find(|k| k.eq_ignore_ascii_case(core)).cloned() else {
        return Ok(input);
    };
    if !cfg.tolerates(Tolerance::CoreSchemaObject) {
        return Ok(input);
    }
    match input.remove(&key) {
        Some(Value::Object(nested)) => {
            for (name, v) in nested {
                if !input.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
                    input.insert(name, v);
                }
            }
            Ok(input)
        }
        Some(Value::Null) | None => Ok(input),
        Some(_) => Err(err::invalid_value(format!("{core}: expected a JSON object of core attributes"))),
    }
}

/// `schemas` must be a list of URIs when present; what it lists is not binding (see the module notes), except
/// under `strict`, where a URI that is neither the resource type's schema nor one of its extensions is refused
/// (Interop Profile §5.3).
fn check_schemas_list(cfg: &Config, rt: &ResourceType, value: &Value) -> ScimResult<()> {
    let items = match value {
        Value::Null => return Ok(()),
        Value::Array(items) if items.iter().all(Value::is_string) => items,
        _ => return Err(err::invalid_syntax("schemas must be a list of schema URIs")),
    };
    if !cfg.strict() {
        return Ok(());
    }
    let core = &cfg.registry.core_schema(rt).id;
    match items
        .iter()
        .filter_map(Value::as_str)
        .find(|u| !u.eq_ignore_ascii_case(core) && cfg.registry.extension(rt, u).is_none())
    {
        Some(other) => Err(err::invalid_syntax(format!("schemas: {other} is not a schema of {}", rt.name))),
        None => Ok(()),
    }
}

/// A `schemas` inside an extension's object, as SCIM libraries that model an extension as a resource of its own
/// write it: accepted when it names that extension alone; anything else is an unknown attribute.
pub fn extension_schemas(cfg: &Config, urn: &str, value: &Value) -> ScimResult<()> {
    match value {
        Value::Array(items) if items.iter().all(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn))) => Ok(()),
        _ => unknown(cfg, &format!("{urn}:schemas")),
    }
}

/// Stores one extension attribute under the extension's URN key.
fn put_extension(
    cfg: &Config,
    data: &mut Map<String, Value>,
    ext: &Schema,
    attr: &Attribute,
    v: Value,
) -> ScimResult<()> {
    let Some(v) = ingest_attribute(cfg, attr, &format!("{}:{}", ext.id, attr.name), v)? else {
        return Ok(());
    };
    let slot = data.entry(ext.id.clone()).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(obj) = slot {
        obj.insert(attr.name.clone(), v);
    }
    Ok(())
}

/// Required attributes of one schema; read-only ones are the server's to set.
fn check_required(schema: &Schema, data: &Map<String, Value>, urn: Option<&str>) -> ScimResult<()> {
    for attr in &schema.attributes {
        if attr.required && attr.mutability != Mutability::ReadOnly && !data.contains_key(&attr.name) {
            let name = urn.map_or_else(|| attr.name.clone(), |u| format!("{u}:{}", attr.name));
            return Err(err::invalid_value(format!("{name} is required")));
        }
    }
    Ok(())
}

/// Uniqueness keys of a body: single-valued `server`/`global` attributes of the core schema and of the
/// extensions, text lower-cased unless caseExact. Extension keys are named `urn:…:attribute`.
pub fn unique_keys(cfg: &Config, rt: &ResourceType, data: &Map<String, Value>) -> Vec<UniqueKey> {
    let reg = &cfg.registry;
    let core = reg.core_schema(rt);
    let group_name = cfg.switches.unique_group_display_name && core.id == crate::schema::GROUP;
    let key = |attr: &Attribute, name: String, v: &Value| -> Option<UniqueKey> {
        let value = match v {
            Value::String(s) if attr.case_exact => s.clone(),
            Value::String(s) => s.to_lowercase(),
            Value::Number(_) | Value::Bool(_) => v.to_string(),
            _ => return None,
        };
        Some(UniqueKey { attribute: name, value })
    };
    let unique = |a: &&Attribute| a.uniqueness != Uniqueness::None && !a.multi_valued;
    let mut keys: Vec<UniqueKey> = core
        .attributes
        .iter()
        .filter(|a| unique(a) || (group_name && a.name == "displayName"))
        .filter_map(|a| key(a, a.name.clone(), data.get(&a.name)?))
        .collect();
    for (_, ext) in reg.extensions(rt) {
        let Some(Value::Object(obj)) = data.get(&ext.id) else {
            continue;
        };
        keys.extend(
            ext.attributes
                .iter()
                .filter(unique)
                .filter_map(|a| key(a, format!("{}:{}", ext.id, a.name), obj.get(&a.name)?)),
        );
    }
    keys
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

#[cfg(test)]
mod tests;
