//! A page of resources under the default projection (no `attributes`, no `excludedAttributes`), written as
//! text. Parsing every stored body into a tree, projecting it and printing it again was most of a list's cost;
//! here each top-level attribute that the projection would show unchanged is copied as it is stored, what the
//! engine adds (`schemas`, `id`, `meta`) is written directly when it is shown whole, and only the others
//! (extensions, hidden or `returned: request` attributes, sub-attributes the schema lacks, empty values, the
//! computed `groups`) go through [`Projection::entry`] as a tree. What a client sees is the same JSON, key for
//! key in the order a tree prints (sorted, the last of repeated keys kept).
//!
//! Each stored body is scanned once per level, without building maps, and what the schema says of a key is
//! looked up once per page: the resources of a page repeat the same few keys.

use super::{hidden, Projection};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::resource::{etag, has_members, location, member_json};
use crate::schema::{Attribute, ResourceType, Returned};
use crate::store::Stored;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::fmt;

/// What `resource::render` adds to `meta`, in key order.
const ADDED_TO_META: [&str; 3] = ["location", "resourceType", "version"];

/// Writes the resources of one page of one resource type.
pub(crate) struct PageWriter<'a> {
    cfg: &'a Config,
    rt: &'a ResourceType,
    projection: &'a Projection,
    /// `id` is shown as it is.
    id_whole: bool,
    /// `meta`, when the default projection shows what `render` adds to it whole.
    meta: Option<&'a Attribute>,
    /// `meta.location` up to the id.
    location: String,
    /// The extension schemas' ids, in declaration order.
    extensions: Vec<&'a str>,
    has_members: bool,
    /// The top-level keys met on this page, and what the schema makes of them.
    keys: Vec<(Box<str>, Key<'a>)>,
}

/// What the default projection does with a stored top-level key.
#[derive(Clone, Copy)]
enum Key<'a> {
    /// Shows it as stored.
    Copied,
    /// Shows it as stored when each of its values is an object of sub-attributes all shown by default.
    Complex(&'a Attribute),
    /// Leaves it to [`Projection::entry`].
    Projected,
}

/// A top-level member of the answer.
enum Piece<'a> {
    Stored(&'a RawValue),
    /// `schemas`, with the extensions the resource has.
    Schemas(Vec<&'a str>),
    Id,
    /// `meta`, with what is stored of it.
    Meta(Option<&'a RawValue>),
    Built(Value),
}

impl<'a> PageWriter<'a> {
    pub(crate) fn new(cfg: &'a Config, rt: &'a ResourceType, projection: &'a Projection) -> Self {
        let reg = &cfg.registry;
        let default_shown = |name: &str| reg.attribute(rt, None, name).filter(|(_, a)| shown_by_default(a));
        let id_whole = default_shown("id").is_some();
        let meta = default_shown("meta")
            .map(|(_, a)| a)
            .filter(|a| ADDED_TO_META.iter().all(|k| a.sub(k).is_some_and(shown_by_default)));
        PageWriter {
            cfg,
            rt,
            projection,
            id_whole,
            meta,
            location: location(cfg, rt, ""),
            extensions: reg.extensions(rt).map(|(_, s)| s.id.as_str()).collect(),
            has_members: has_members(cfg, rt),
            keys: Vec::new(),
        }
    }

    /// Writes `stored` as `render` and then the default projection show it, with its computed `groups` when
    /// some were found. None when the stored text has a shape this cannot copy from (a key with escapes).
    pub(crate) fn write(&mut self, stored: &Stored, groups: &[Value], out: &mut Vec<u8>) -> ScimResult<Option<()>> {
        let Ok(Members(mut fields)) = serde_json::from_str::<Members>(&stored.data) else {
            return Ok(None);
        };
        sort_members(&mut fields);
        let listed = self.extensions.iter().filter(|e| fields.iter().any(|(k, _)| k == *e)).copied().collect();
        let members = stored.members.as_ref().filter(|_| self.has_members);
        let mut meta = None;
        let mut entries: Vec<(&str, Piece)> = Vec::with_capacity(fields.len() + 5);
        for (key, raw) in fields {
            match key {
                "schemas" | "id" => {}
                "meta" => meta = Some(raw),
                "members" if members.is_some() => {}
                "groups" if !groups.is_empty() => {}
                _ => entries.push((key, Piece::Stored(raw))),
            }
        }
        entries.push(("schemas", Piece::Schemas(listed)));
        entries.push(("id", Piece::Id));
        entries.push(("meta", Piece::Meta(meta)));
        if let Some(members) = members {
            entries.push(("members", Piece::Built(members.iter().map(|m| member_json(self.cfg, m)).collect())));
        }
        // What `context::shown_all` adds.
        if !groups.is_empty() {
            entries.push(("groups", Piece::Built(Value::Array(groups.to_vec()))));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));

        out.push(b'{');
        let mut first = true;
        for (key, piece) in entries {
            let start = out.len();
            if !first {
                out.push(b',');
            }
            string(out, key);
            out.push(b':');
            if self.value(stored, key, piece, out)? {
                first = false;
            } else {
                out.truncate(start);
            }
        }
        out.push(b'}');
        Ok(Some(()))
    }

    /// Writes one top-level member's value; false when the projection does not show it.
    fn value(&mut self, stored: &Stored, key: &str, piece: Piece, out: &mut Vec<u8>) -> ScimResult<bool> {
        let rt = self.rt;
        let bad = |_| err::internal(format!("stored {} {} is not valid JSON", rt.name, stored.id));
        let value = match piece {
            Piece::Stored(raw) => {
                let copied = match self.key(key) {
                    Key::Copied => true,
                    Key::Complex(attr) => Shape { attr, top: true }.deserialize(&mut json_text(raw)).unwrap_or(false),
                    Key::Projected => false,
                };
                if copied {
                    out.extend_from_slice(raw.get().as_bytes());
                    return Ok(true);
                }
                serde_json::from_str(raw.get()).map_err(bad)?
            }
            Piece::Schemas(extensions) => {
                out.extend_from_slice(b"[");
                string(out, &self.rt.schema);
                for ext in extensions {
                    out.push(b',');
                    string(out, ext);
                }
                out.push(b']');
                return Ok(true);
            }
            Piece::Id if self.id_whole => {
                string(out, &stored.id);
                return Ok(true);
            }
            Piece::Id => Value::String(stored.id.clone()),
            Piece::Meta(raw) => match self.meta(stored, raw, out) {
                Some(()) => return Ok(true),
                None => self.built_meta(stored, raw),
            },
            Piece::Built(value) => value,
        };
        match self.projection.entry(self.cfg, self.rt, key, value) {
            Some(shown) => serde_json::to_writer(&mut *out, &shown).map_err(bad)?,
            None => return Ok(false),
        }
        Ok(true)
    }

    /// What the schema makes of a stored top-level key, looked up once per page.
    fn key(&mut self, key: &str) -> Key<'a> {
        if let Some((_, found)) = self.keys.iter().find(|(k, _)| &**k == key) {
            return *found;
        }
        let reg = &self.cfg.registry;
        let found = match reg.attribute(self.rt, None, key) {
            _ if reg.extension(self.rt, key).is_some() => Key::Projected,
            Some((_, attr)) if shown_by_default(attr) && attr.sub_attributes.is_empty() => Key::Copied,
            Some((_, attr)) if shown_by_default(attr) => Key::Complex(attr),
            _ => Key::Projected,
        };
        self.keys.push((key.into(), found));
        found
    }

    /// `meta` written whole: the stored sub-attributes and those `render` adds (which replace stored ones of the
    /// same name), when the default projection shows every one of them; none otherwise, with nothing written.
    fn meta(&self, stored: &Stored, raw: Option<&RawValue>, out: &mut Vec<u8>) -> Option<()> {
        let attr = self.meta?;
        let mut parts = match raw {
            Some(raw) => serde_json::from_str::<Members>(raw.get()).ok()?.0,
            None => Vec::new(),
        };
        sort_members(&mut parts);
        parts.retain(|(k, _)| !ADDED_TO_META.contains(k));
        if !parts.iter().all(|(k, _)| attr.sub(k).is_some_and(shown_by_default)) {
            return None;
        }
        let mut all: Vec<(&str, Option<&RawValue>)> = parts.into_iter().map(|(k, v)| (k, Some(v))).collect();
        all.extend(ADDED_TO_META.iter().map(|k| (*k, None)));
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out.push(b'{');
        for (i, (key, value)) in all.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, key);
            out.push(b':');
            match value {
                Some(raw) => out.extend_from_slice(raw.get().as_bytes()),
                None => self.added_to_meta(stored, key, out),
            }
        }
        out.push(b'}');
        Some(())
    }

    fn added_to_meta(&self, stored: &Stored, name: &str, out: &mut Vec<u8>) {
        out.push(b'"');
        match name {
            "location" => {
                string_contents(out, &self.location);
                string_contents(out, &stored.id);
            }
            "resourceType" => string_contents(out, &self.rt.name),
            // `etag`, escaped.
            _ => {
                out.extend_from_slice(br#"W/\""#);
                string_contents(out, &stored.version);
                out.extend_from_slice(br#"\""#);
            }
        }
        out.push(b'"');
    }

    /// `meta` as `render` builds it, for the projection to show.
    fn built_meta(&self, stored: &Stored, raw: Option<&RawValue>) -> Value {
        let mut meta =
            raw.and_then(|raw| serde_json::from_str::<Map<String, Value>>(raw.get()).ok()).unwrap_or_default();
        meta.insert("location".into(), json!(format!("{}{}", self.location, stored.id)));
        meta.insert("resourceType".into(), json!(self.rt.name));
        meta.insert("version".into(), json!(etag(&stored.version)));
        Value::Object(meta)
    }
}

/// Shown when nothing is asked: neither hidden nor `returned: request`.
fn shown_by_default(attr: &Attribute) -> bool {
    !hidden(attr) && attr.returned != Returned::Request
}

/// In the order a tree prints them: sorted by key, the last of repeated keys kept, as a map keeps them.
fn sort_members(members: &mut Vec<(&str, &RawValue)>) {
    members.sort_by(|a, b| a.0.cmp(b.0));
    // `dedup_by` keeps the first of a run; moving each later value into it keeps the last.
    members.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            std::mem::swap(later, kept);
        }
        same
    });
}

/// A JSON string as serde_json writes it.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    string_contents(out, s);
    out.push(b'"');
}

/// The inside of a JSON string as serde_json writes it: copied when nothing needs an escape.
fn string_contents(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    let quoted = serde_json::to_vec(s).expect("a string always serialises");
    out.extend_from_slice(&quoted[1..quoted.len() - 1]);
}

fn json_text(raw: &RawValue) -> serde_json::Deserializer<serde_json::de::StrRead<'_>> {
    serde_json::Deserializer::from_str(raw.get())
}

/// The members of a JSON object, in text order, their keys borrowed (a key with escapes fails).
struct Members<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(member) = map.next_entry::<&str, &RawValue>()? {
            members.push(member);
        }
        Ok(Members(members))
    }
}

/// Whether a stored value of a complex attribute is shown unchanged: each of its values (`top`: the value, or
/// the elements of a list, of which there must be one) that is an object holds at least one member and only
/// sub-attributes shown by default. Scans the text once.
#[derive(Clone, Copy)]
struct Shape<'a> {
    attr: &'a Attribute,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for Shape<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shape<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let (mut any, mut all) = (false, true);
        while let Some(key) = map.next_key::<&str>()? {
            map.next_value::<IgnoredAny>()?;
            any = true;
            all &= self.attr.sub(key).is_some_and(shown_by_default);
        }
        Ok(any && all)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        if !self.top {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(true);
        }
        let (mut any, mut all) = (false, true);
        while let Some(shown) = seq.next_element_seed(Shape { top: false, ..self })? {
            any = true;
            all &= shown;
        }
        Ok(any && all)
    }

    // Anything else is shown as it is: the projection only chooses among the members of objects.
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::to_json;
    use crate::resource::render;
    use crate::store::Member;

    const DEVICE: &str = r#"{
        "baseUrl": "https://example.com/scim/v2",
        "schemas": [{"id": "urn:example:Device", "name": "Device", "attributes": [
            {"name": "serial"}, {"name": "secret", "returned": "never"}, {"name": "note", "returned": "request"},
            {"name": "parts", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "value"}, {"name": "key", "returned": "never"}, {"name": "label", "returned": "request"}]}]}],
        "customResourceTypes": [{"id": "Device", "name": "Device", "endpoint": "/Devices", "schema": "urn:example:Device"}]
    }"#;

    /// Stored bodies as the engine writes them (compact, keys sorted) and as other writers of a database may
    /// leave them: keys the schema lacks, keys in another case, empty values, hidden ones, odd `meta`.
    fn bodies() -> Vec<Value> {
        let ent = crate::schema::ENTERPRISE_USER;
        vec![
            json!({"userName": "bjensen", "name": {"givenName": "B", "familyName": "J"}, "active": true,
                   "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "c@x"}],
                   "meta": {"created": "2024-01-01T00:00:00.000Z", "lastModified": "2024-01-02T00:00:00.000Z"}}),
            json!({"userName": "esc \"q\" \\ \n é", "password": "secret", "title": "t", "unknown": 1}),
            json!({"userName": "odd", "nickName": null, "emails": [], "ims": [{}], "addresses": [{"street": "x"}],
                   "name": {}, "photos": {"value": "p"}, "roles": ["admin"], "groups": [{"value": "g"}]}),
            json!({"USERNAME": "caps", "Emails": [{"VALUE": "v"}], "id": "stored", "schemas": ["x"], "meta": "text"}),
            json!({"userName": "ent", ent: {"employeeNumber": "7", "manager": {"value": "boss"}},
                   "meta": {"created": "x", "location": "stale", "bogus": 1}}),
            json!({"displayName": "Tour", "externalId": "e", "members": [{"value": "stored"}], "meta": {}}),
            json!({"serial": "s1", "secret": "k", "note": "n", "parts": [{"value": "a", "key": "k"}, {"value": "b"}]}),
            json!({"serial": "s2", "parts": [{"value": "a", "label": "l"}], "meta": null}),
        ]
    }

    /// One writer for a whole page, reused across resources of different shapes (its table of keys must answer
    /// each key for what it is), gives byte for byte what rendering each resource and projecting it prints.
    #[test]
    fn a_page_is_byte_for_byte_what_rendering_and_projecting_print() {
        let group = json!({"value": "g1", "$ref": "https://example.com/scim/v2/Groups/g1", "type": "direct"});
        let mut compared = 0;
        for cfg in [Config::test(), Config::from_json(DEVICE).unwrap()] {
            for rt in &cfg.registry.resource_types {
                let projection = Projection::new(&cfg, rt, &[], &[]).unwrap();
                let mut writer = PageWriter::new(&cfg, rt, &projection);
                for (i, body) in bodies().iter().enumerate() {
                    let members = vec![Member { value: "u\"1".into(), kind: Some("User".into()), display: None }];
                    let stored = Stored {
                        id: format!("id-\"{i}\""),
                        version: format!("{i}\\"),
                        data: body.to_string(),
                        members: (i % 2 == 0).then_some(members),
                    };
                    let groups = if i % 3 == 0 { vec![group.clone()] } else { Vec::new() };
                    let mut written = Vec::new();
                    writer.write(&stored, &groups, &mut written).unwrap().expect("written from the stored text");
                    let mut resource = render(&cfg, rt, &stored).unwrap();
                    if !groups.is_empty() {
                        resource["groups"] = Value::Array(groups);
                    }
                    let printed = to_json(&projection.apply(&cfg, rt, resource));
                    assert_eq!(String::from_utf8(written).unwrap(), String::from_utf8(printed).unwrap(), "{}", rt.name);
                    compared += 1;
                }
            }
        }
        // User and Group in both configurations, and Device.
        assert_eq!(compared, bodies().len() * 5);
    }

    #[test]
    fn a_key_with_escapes_is_left_to_the_tree() {
        let cfg = Config::test();
        let rt = cfg.registry.resource_type("User").unwrap();
        let projection = Projection::new(&cfg, rt, &[], &[]).unwrap();
        let stored =
            Stored { id: "1".into(), version: "1".into(), data: r#"{"user\u004eame":"x"}"#.into(), members: None };
        assert_eq!(PageWriter::new(&cfg, rt, &projection).write(&stored, &[], &mut Vec::new()).unwrap(), None);
    }
}
