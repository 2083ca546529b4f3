//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9), with the schema's `returned`
//! characteristic (RFC 7643 §7): `always` shows whatever is asked, `never` (and every write-only attribute)
//! hides whatever is asked, `request` shows only when named in `attributes` or, on POST and PUT, when the
//! client sent it.

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::filter::Filter;
use crate::schema::{Attribute, Mutability, ResourceType, Returned};
use serde_json::{Map, Value};

/// A requested name, resolved against the resource type: `[urn:]name[.sub]`, `name[filter][.sub]`, or a whole
/// schema `urn`.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    /// The extension URN for an extension attribute; none for core and common attributes.
    urn: Option<String>,
    /// None: every attribute of the schema named by `urn`.
    name: Option<String>,
    sub: Option<String>,
    /// `emails[type eq "work"]`: only the elements of a multi-valued attribute that match.
    filter: Option<Filter>,
}

impl Wanted {
    fn names(&self, urn: Option<&str>, attr: &Attribute) -> bool {
        self.urn.as_deref() == urn && self.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&attr.name))
    }

    fn whole_schema(&self, urn: Option<&str>) -> bool {
        self.urn.as_deref() == urn && self.name.is_none()
    }
}

/// Which attributes a response shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    attributes: Vec<Wanted>,
    excluded: Vec<Wanted>,
    /// Attributes the client sent in a POST or PUT body, which `returned: request` shows.
    sent: Vec<Wanted>,
}

impl Projection {
    /// From the comma-separated query parameters (or `.search` body lists). Unknown names are kept: they
    /// simply match nothing. A value filter (`emails[type eq "work"]`) that is malformed or misuses a type is
    /// 400, as in `filter`.
    pub fn new(cfg: &Config, rt: &ResourceType, attributes: &[String], excluded: &[String]) -> ScimResult<Projection> {
        let parse = |list: &[String]| -> ScimResult<Vec<Wanted>> {
            list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).map(|s| wanted(cfg, rt, s)).collect()
        };
        Ok(Projection { attributes: parse(attributes)?, excluded: parse(excluded)?, sent: Vec::new() })
    }

    pub fn from_params(
        cfg: &Config,
        rt: &ResourceType,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> ScimResult<Projection> {
        let split =
            |s: Option<&str>| s.map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>()).unwrap_or_default();
        Projection::new(cfg, rt, &split(attributes), &split(excluded))
    }

    /// Marks the attributes of a validated POST or PUT body (canonical keys) as sent by the client.
    pub fn with_sent(mut self, cfg: &Config, rt: &ResourceType, data: &Map<String, Value>) -> Projection {
        for (key, value) in data {
            match (cfg.registry.extension(rt, key), value) {
                (Some(ext), Value::Object(inner)) => self.sent.extend(inner.keys().map(|k| Wanted {
                    urn: Some(ext.id.clone()),
                    name: Some(k.clone()),
                    sub: None,
                    filter: None,
                })),
                _ => self.sent.push(Wanted { urn: None, name: Some(key.clone()), sub: None, filter: None }),
            }
        }
        self
    }

    /// True when `members` will not be shown, so storage need not load them.
    pub fn excludes_members(&self) -> bool {
        !self.may_show_core("members")
    }

    /// False when a core attribute will certainly not be shown: a computed one need not be computed.
    pub fn may_show_core(&self, name: &str) -> bool {
        let named = |w: &Wanted| w.urn.is_none() && w.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name));
        if !self.attributes.is_empty() {
            return self.attributes.iter().any(|w| named(w) || w.whole_schema(None));
        }
        !self.excluded.iter().any(|w| (named(w) && w.sub.is_none()) || w.whole_schema(None))
    }

    /// True when nothing is asked or was sent: each attribute shows as its schema's `returned` says.
    pub fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty() && self.sent.is_empty()
    }

    /// Applies the projection to a rendered resource. Keys the schema does not define are dropped.
    pub fn apply(&self, cfg: &Config, rt: &ResourceType, resource: Value) -> Value {
        let Value::Object(obj) = resource else { return resource };
        let mut out = Map::new();
        for (key, value) in obj {
            if let Some(v) = self.entry(cfg, rt, &key, value) {
                out.insert(key, v);
            }
        }
        Value::Object(out)
    }

    /// One top-level key of a rendered resource and its value as shown, or none.
    fn entry(&self, cfg: &Config, rt: &ResourceType, key: &str, value: Value) -> Option<Value> {
        let reg = &cfg.registry;
        if key == "schemas" {
            Some(value)
        } else if let Some(ext) = reg.extension(rt, key) {
            let Value::Object(inner) = value else { return None };
            let kept: Map<String, Value> = inner
                .into_iter()
                .filter_map(|(name, v)| {
                    let attr = ext.attribute(&name)?;
                    self.keep(cfg, rt, attr, Some(&ext.id), v).map(|v| (name, v))
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        } else {
            let (_, attr) = reg.attribute(rt, None, key)?;
            self.keep(cfg, rt, attr, None, value)
        }
    }

    /// One top-level attribute's value as shown, or none.
    fn keep(
        &self,
        cfg: &Config,
        rt: &ResourceType,
        attr: &Attribute,
        urn: Option<&str>,
        value: Value,
    ) -> Option<Value> {
        if hidden(attr) {
            return None;
        }
        let all_subs = |_: &Attribute| true;
        if attr.returned == Returned::Always {
            return subs(attr, value, all_subs);
        }
        let selects = |w: &Wanted, el: &Value| {
            w.filter.as_ref().is_some_and(|f| crate::filter::matches_element(cfg, rt, attr, f, el).unwrap_or(false))
        };
        if !self.attributes.is_empty() {
            let asked: Vec<&Wanted> = self.attributes.iter().filter(|w| w.names(urn, attr)).collect();
            let schema_whole =
                attr.returned != Returned::Request && self.attributes.iter().any(|w| w.whole_schema(urn));
            // Only the selected elements, when every request for this attribute selects by a value filter.
            let value = if !schema_whole && !asked.is_empty() && asked.iter().all(|w| w.filter.is_some()) {
                elements(value, |el| asked.iter().any(|w| selects(w, el)))?
            } else {
                value
            };
            let whole = asked.iter().any(|w| w.sub.is_none()) || schema_whole;
            if whole || (!asked.is_empty() && attr.sub_attributes.is_empty()) {
                return subs(attr, value, all_subs);
            }
            if asked.is_empty() {
                return None;
            }
            let named =
                |s: &Attribute| asked.iter().any(|w| w.sub.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&s.name)));
            return subs(attr, value, |s| s.returned == Returned::Always || named(s));
        }
        if attr.returned == Returned::Request && !self.sent.iter().any(|w| w.names(urn, attr)) {
            return None;
        }
        let (by_filter, excluded): (Vec<&Wanted>, Vec<&Wanted>) =
            self.excluded.iter().filter(|w| w.names(urn, attr)).partition(|w| w.filter.is_some());
        if excluded.iter().any(|w| w.sub.is_none()) || self.excluded.iter().any(|w| w.whole_schema(urn)) {
            return None;
        }
        // A selected element loses the sub-attribute named after the filter, or goes when none is named.
        let value = match value {
            Value::Array(items) if !by_filter.is_empty() => {
                let items = items.into_iter().filter_map(|mut el| {
                    let hits: Vec<&&Wanted> = by_filter.iter().filter(|w| selects(w, &el)).collect();
                    for w in hits {
                        match (&w.sub, el.as_object_mut()) {
                            (Some(sub), Some(obj)) => obj.retain(|k, _| !k.eq_ignore_ascii_case(sub)),
                            _ => return None,
                        }
                    }
                    Some(el)
                });
                elements(Value::Array(items.collect()), |el| el.as_object().is_none_or(|o| !o.is_empty()))?
            }
            v => v,
        };
        let named =
            |s: &Attribute| excluded.iter().any(|w| w.sub.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&s.name)));
        subs(attr, value, |s| s.returned == Returned::Always || (s.returned != Returned::Request && !named(s)))
    }
}

/// Never shown, whatever is asked (RFC 7643 §7: write-only attributes are returned `never`).
fn hidden(attr: &Attribute) -> bool {
    attr.returned == Returned::Never || attr.mutability == Mutability::WriteOnly
}

/// Keeps the sub-attributes of a complex value (or of each of its values) that `keep` accepts and that are
/// not hidden; a value left empty disappears. Values of simple attributes pass unchanged.
fn subs(attr: &Attribute, value: Value, keep: impl Fn(&Attribute) -> bool) -> Option<Value> {
    if attr.sub_attributes.is_empty() {
        return Some(value);
    }
    let one = |v: Value| -> Option<Value> {
        let Value::Object(obj) = v else { return Some(v) };
        let kept: Map<String, Value> =
            obj.into_iter().filter(|(k, _)| attr.sub(k).is_some_and(|s| !hidden(s) && keep(s))).collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter_map(one).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        v => one(v),
    }
}

/// Resolves `userName`, `name.givenName`, `urn:…:enterprise:2.0:User:manager.value`, `urn:…:core:2.0:User:meta`,
/// `emails[type eq "work"].value` and whole schemas (`urn:…:enterprise:2.0:User`), all without regard to case.
fn wanted(cfg: &Config, rt: &ResourceType, text: &str) -> ScimResult<Wanted> {
    let reg = &cfg.registry;
    let core = reg.core_schema(rt);
    let plain = |urn, name| Wanted { urn, name, sub: None, filter: None };
    if text.eq_ignore_ascii_case(&core.id) {
        return Ok(plain(None, None));
    }
    if let Some(ext) = reg.extension(rt, text) {
        return Ok(plain(Some(ext.id.clone()), None));
    }
    if text.contains('[') {
        return filtered(cfg, rt, text);
    }
    // Text that is no attribute path names nothing: it is kept whole as a name no attribute has.
    let Ok(path) = crate::path::parse_attr_path(text, text.len()) else {
        return Ok(plain(None, Some(text.to_string())));
    };
    let urn = resolve_urn(cfg, rt, path.urn);
    Ok(Wanted { urn, name: Some(path.name), sub: path.sub, filter: None })
}

/// The extension URN a path names, canonical; none for the core schema's.
fn resolve_urn(cfg: &Config, rt: &ResourceType, urn: Option<String>) -> Option<String> {
    let reg = &cfg.registry;
    match urn {
        Some(prefix) if prefix.eq_ignore_ascii_case(&reg.core_schema(rt).id) => None,
        Some(prefix) => Some(reg.extension(rt, &prefix).map_or(prefix, |s| s.id.clone())),
        None => None,
    }
}

/// `emails[type eq "work"]` or `emails[type eq "work"].value`: the filter is checked against the attribute's
/// sub-attributes as a `filter` parameter's would be; on an attribute that has no elements to select it is 400.
fn filtered(cfg: &Config, rt: &ResourceType, text: &str) -> ScimResult<Wanted> {
    let path = crate::path::parse_path(text).map_err(|e| err::invalid_filter(format!("{text}: {e}")))?;
    let urn = resolve_urn(cfg, rt, path.attr.urn);
    if let Some((_, attr)) = cfg.registry.attribute(rt, urn.as_deref(), &path.attr.name) {
        if !attr.multi_valued || attr.sub_attributes.is_empty() {
            return Err(err::invalid_filter(format!(
                "{text}: a value filter selects elements of a multi-valued complex attribute, and {} is not one",
                attr.name
            )));
        }
        if let Some(f) = &path.filter {
            crate::filter::matches_element(cfg, rt, attr, f, &Value::Object(Map::new()))
                .map_err(|e| err::invalid_filter(format!("{text}: {}", e.detail)))?;
        }
    }
    Ok(Wanted { urn, name: Some(path.attr.name), sub: path.sub, filter: path.filter })
}

/// The elements of a multi-valued value that `keep` accepts; a value left empty disappears.
fn elements(value: Value, keep: impl Fn(&Value) -> bool) -> Option<Value> {
    match value {
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter(|v| keep(v)).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        v => Some(v),
    }
}

#[cfg(test)]
mod tests;
pub(crate) mod verbatim;
