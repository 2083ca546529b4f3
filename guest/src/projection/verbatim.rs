//! A page of resources under the default projection (no `attributes`, no `excludedAttributes`), written as
//! text. Parsing every stored body into a tree, projecting it and printing it again was most of a list's cost;
//! here each top-level attribute that the projection would show unchanged is copied as it is stored, what the
//! engine adds (`schemas`, `id`, `meta`) is written directly when it is shown whole, and only the others
//! (extensions, hidden or `returned: request` attributes, sub-attributes the schema lacks, empty values, the
//! computed `groups`) go through [`Projection::entry`] as a tree. What a client sees is the same JSON.

use super::{hidden, Projection};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::resource::{etag, has_members, location, member_json};
use crate::schema::{Attribute, ResourceType, Returned};
use crate::store::Stored;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A top-level attribute: as stored, or built, or written already (and shown whole).
enum Piece<'a> {
    Stored(&'a RawValue),
    Built(Value),
    Written(String),
}

/// Writes `stored` as `render` and then the default projection show it, with its computed `groups` when
/// some were found. None when the stored text has a shape this cannot copy from (a key with escapes).
pub(crate) fn write(
    cfg: &Config,
    rt: &ResourceType,
    projection: &Projection,
    stored: &Stored,
    groups: &[Value],
    out: &mut Vec<u8>,
) -> ScimResult<Option<()>> {
    let Ok(data) = serde_json::from_str::<BTreeMap<&str, &RawValue>>(&stored.data) else {
        return Ok(None);
    };
    let mut entries: BTreeMap<&str, Piece> = data.into_iter().map(|(k, v)| (k, Piece::Stored(v))).collect();
    // What `resource::render` adds.
    let mut schemas = vec![Value::String(rt.schema.clone())];
    for (_, ext) in cfg.registry.extensions(rt) {
        if entries.contains_key(ext.id.as_str()) {
            schemas.push(Value::String(ext.id.clone()));
        }
    }
    let text = |v: &Value| v.to_string();
    entries.insert("schemas", Piece::Written(text(&Value::Array(schemas))));
    let id = Value::String(stored.id.clone());
    let id = if unchanged(cfg, rt, "id", RawValue::NULL) { Piece::Written(text(&id)) } else { Piece::Built(id) };
    entries.insert("id", id);
    let stored_meta = match entries.remove("meta") {
        Some(Piece::Stored(raw)) => Some(raw),
        _ => None,
    };
    let added = [
        ("location", json!(location(cfg, rt, &stored.id))),
        ("resourceType", json!(rt.name)),
        ("version", json!(etag(&stored.version))),
    ];
    let meta = match meta_written(cfg, rt, stored_meta, &added) {
        Some(written) => Piece::Written(written),
        None => {
            let mut meta = stored_meta
                .and_then(|raw| serde_json::from_str::<Map<String, Value>>(raw.get()).ok())
                .unwrap_or_default();
            meta.extend(added.into_iter().map(|(k, v)| (k.to_string(), v)));
            Piece::Built(Value::Object(meta))
        }
    };
    entries.insert("meta", meta);
    if let Some(members) = &stored.members {
        if has_members(cfg, rt) {
            let members = members.iter().map(|m| member_json(cfg, m)).collect();
            entries.insert("members", Piece::Built(Value::Array(members)));
        }
    }
    // What `context::shown_all` adds.
    if !groups.is_empty() {
        entries.insert("groups", Piece::Built(Value::Array(groups.to_vec())));
    }

    let bad = |_| err::internal(format!("stored {} {} is not valid JSON", rt.name, stored.id));
    out.push(b'{');
    let mut first = true;
    for (key, piece) in entries {
        let shown = |value: Value| projection.entry(cfg, rt, key, value).map(Piece::Built);
        let value = match piece {
            Piece::Stored(raw) if unchanged(cfg, rt, key, raw) => Some(Piece::Stored(raw)),
            Piece::Stored(raw) => shown(serde_json::from_str(raw.get()).map_err(bad)?),
            Piece::Built(value) => shown(value),
            written => Some(written),
        };
        let Some(value) = value else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut *out, key).map_err(bad)?;
        out.push(b':');
        match value {
            Piece::Stored(raw) => out.extend_from_slice(raw.get().as_bytes()),
            Piece::Built(value) => serde_json::to_writer(&mut *out, &value).map_err(bad)?,
            Piece::Written(text) => out.extend_from_slice(text.as_bytes()),
        }
    }
    out.push(b'}');
    Ok(Some(()))
}

/// `meta` written whole: the stored sub-attributes and those `render` adds (which replace stored ones of the
/// same name), when the default projection shows every one of them; none otherwise.
fn meta_written(cfg: &Config, rt: &ResourceType, stored: Option<&RawValue>, added: &[(&str, Value)]) -> Option<String> {
    let (_, attr) = cfg.registry.attribute(rt, None, "meta")?;
    if hidden(attr) || attr.returned == Returned::Request {
        return None;
    }
    let mut parts: BTreeMap<&str, String> = match stored {
        Some(raw) => serde_json::from_str::<BTreeMap<&str, &RawValue>>(raw.get())
            .ok()?
            .into_iter()
            .map(|(k, v)| (k, v.get().to_string()))
            .collect(),
        None => BTreeMap::new(),
    };
    parts.extend(added.iter().map(|(k, v)| (*k, v.to_string())));
    if !parts.keys().all(|k| attr.sub(k).is_some_and(|s| !hidden(s) && s.returned != Returned::Request)) {
        return None;
    }
    let fields: Vec<String> = parts.iter().map(|(k, v)| format!("{}:{v}", Value::String(k.to_string()))).collect();
    Some(format!("{{{}}}", fields.join(",")))
}

/// True when the default projection shows this stored core attribute exactly as it is: it is shown by default,
/// and each of its complex values is a non-empty object of sub-attributes that are all shown by default.
fn unchanged(cfg: &Config, rt: &ResourceType, key: &str, raw: &RawValue) -> bool {
    let reg = &cfg.registry;
    if key == "schemas" || reg.extension(rt, key).is_some() {
        return false;
    }
    let Some((_, attr)) = reg.attribute(rt, None, key) else { return false };
    if hidden(attr) || attr.returned == Returned::Request {
        return false;
    }
    if attr.sub_attributes.is_empty() {
        return true;
    }
    let text = raw.get().trim_start();
    if text.starts_with('[') {
        return serde_json::from_str::<Vec<&RawValue>>(text)
            .is_ok_and(|items| !items.is_empty() && items.iter().all(|v| element_unchanged(attr, v.get())));
    }
    element_unchanged(attr, text)
}

fn element_unchanged(attr: &Attribute, text: &str) -> bool {
    if !text.trim_start().starts_with('{') {
        return true;
    }
    let shown = |k: &str| attr.sub(k).is_some_and(|s| !hidden(s) && s.returned != Returned::Request);
    serde_json::from_str::<BTreeMap<&str, &RawValue>>(text).is_ok_and(|m| !m.is_empty() && m.keys().all(|k| shown(k)))
}
