//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5), with the schema's `returned` characteristic.

use crate::config::Config;
use crate::schema::{Attribute, ResourceType, Returned};
use serde_json::{Map, Value};

/// A requested attribute: `[urn:]name[.sub]`, resolved against the resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    /// The extension URN for an extension attribute; none for core and common attributes.
    urn: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

/// Which attributes a response shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    attributes: Vec<Wanted>,
    excluded: Vec<Wanted>,
}

impl Projection {
    /// From the comma-separated query parameters (or `.search` body lists). Unknown names are kept: they
    /// simply match nothing.
    pub fn new(cfg: &Config, rt: &ResourceType, attributes: &[String], excluded: &[String]) -> Projection {
        let parse = |list: &[String]| list.iter().filter(|s| !s.trim().is_empty()).map(|s| wanted(cfg, rt, s.trim())).collect();
        Projection { attributes: parse(attributes), excluded: parse(excluded) }
    }

    pub fn from_params(cfg: &Config, rt: &ResourceType, attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        let split = |s: Option<&str>| s.map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>()).unwrap_or_default();
        Projection::new(cfg, rt, &split(attributes), &split(excluded))
    }

    /// True when `members` will not be shown, so storage need not load them.
    pub fn excludes_members(&self) -> bool {
        let names = |w: &Wanted| w.urn.is_none() && w.name.as_deref() == Some("members");
        if !self.attributes.is_empty() {
            return !self.attributes.iter().any(|w| names(w));
        }
        self.excluded.iter().any(|w| names(w) && w.sub.is_none())
    }

    /// Applies the projection to a rendered resource.
    pub fn apply(&self, cfg: &Config, rt: &ResourceType, resource: Value) -> Value {
        let Value::Object(obj) = resource else { return resource };
        let reg = &cfg.registry;
        let mut out = Map::new();
        for (key, value) in obj {
            if key == "schemas" || key == "id" {
                out.insert(key, value);
                continue;
            }
            if let Some(ext) = reg.extension(rt, &key) {
                let Value::Object(inner) = value else { continue };
                let urn = Some(ext.id.clone());
                let mut kept = Map::new();
                for (name, v) in inner {
                    if let Some(attr) = ext.attribute(&name) {
                        if let Some(v) = self.keep(attr, &urn, v) {
                            kept.insert(name, v);
                        }
                    }
                }
                if !kept.is_empty() {
                    out.insert(key, Value::Object(kept));
                }
                continue;
            }
            if let Some((_, attr)) = reg.attribute(rt, None, &key) {
                if let Some(v) = self.keep(attr, &None, value) {
                    out.insert(key, v);
                }
            }
        }
        Value::Object(out)
    }

    fn keep(&self, attr: &Attribute, urn: &Option<String>, value: Value) -> Option<Value> {
        let is = |w: &Wanted| w.urn == *urn && w.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&attr.name));
        match attr.returned {
            Returned::Never => return None,
            Returned::Always => return Some(value),
            _ => {}
        }
        let whole_urn = |w: &Wanted| w.urn == *urn && urn.is_some() && w.name.is_none();
        if !self.attributes.is_empty() {
            let asked: Vec<&Wanted> = self.attributes.iter().filter(|w| is(w)).collect();
            if asked.is_empty() {
                return self.attributes.iter().any(whole_urn).then_some(value).filter(|_| attr.returned != Returned::Request);
            }
            if asked.iter().any(|w| w.sub.is_none()) || attr.sub_attributes.is_empty() {
                return Some(value);
            }
            let subs: Vec<&str> = asked.iter().filter_map(|w| w.sub.as_deref()).collect();
            return filter_subs(attr, value, |name, sub| subs.iter().any(|s| s.eq_ignore_ascii_case(name)) || sub.returned == Returned::Always);
        }
        if attr.returned == Returned::Request {
            return None;
        }
        let excluded: Vec<&Wanted> = self.excluded.iter().filter(|w| is(w)).collect();
        if excluded.iter().any(|w| w.sub.is_none()) || self.excluded.iter().any(whole_urn) {
            return None;
        }
        if excluded.is_empty() {
            return Some(value);
        }
        let subs: Vec<&str> = excluded.iter().filter_map(|w| w.sub.as_deref()).collect();
        filter_subs(attr, value, |name, sub| sub.returned == Returned::Always || !subs.iter().any(|s| s.eq_ignore_ascii_case(name)))
    }
}

/// Keeps the sub-attributes of a complex value (or of each element) that `keep` accepts.
fn filter_subs(attr: &Attribute, value: Value, keep: impl Fn(&str, &Attribute) -> bool) -> Option<Value> {
    let one = |v: Value| -> Option<Value> {
        let Value::Object(obj) = v else { return Some(v) };
        let kept: Map<String, Value> = obj
            .into_iter()
            .filter(|(k, _)| attr.sub(k).is_none_or(|s| keep(k, s) && s.returned != Returned::Never))
            .collect();
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

/// Resolves `urn:...:User:employeeNumber`, `name.givenName`, `urn:...:User` (a whole extension).
fn wanted(cfg: &Config, rt: &ResourceType, text: &str) -> Wanted {
    let reg = &cfg.registry;
    let core = reg.core_schema(rt);
    for (_, ext) in reg.extensions(rt) {
        if text.eq_ignore_ascii_case(&ext.id) {
            return Wanted { urn: Some(ext.id.clone()), name: None, sub: None };
        }
    }
    let (urn, rest) = match text.rfind(':') {
        Some(i) if text[..i].to_ascii_lowercase().starts_with("urn:") => {
            let prefix = &text[..i];
            if prefix.eq_ignore_ascii_case(&core.id) {
                (None, &text[i + 1..])
            } else {
                let ext = reg.extension(rt, prefix).map(|s| s.id.clone()).unwrap_or_else(|| prefix.to_string());
                (Some(ext), &text[i + 1..])
            }
        }
        _ => (None, text),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s.to_string())),
        None => (rest, None),
    };
    Wanted { urn, name: Some(name.to_string()), sub }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"bjensen",
               "password":"secret","name":{"givenName":"Barbara","familyName":"Jensen"},
               "emails":[{"value":"b@x","type":"work"}],
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","department":"R&D"},
               "meta":{"resourceType":"User"}})
    }

    fn project(attrs: &[&str], excluded: &[&str]) -> Value {
        let cfg = Config::test();
        let rt = cfg.registry.resource_type("User").unwrap();
        let s = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Projection::new(&cfg, rt, &s(attrs), &s(excluded)).apply(&cfg, rt, user())
    }

    #[test]
    fn password_is_never_returned() {
        assert!(project(&[], &[]).get("password").is_none());
        assert!(project(&["password"], &[]).get("password").is_none());
    }

    #[test]
    fn attributes_keeps_id_and_schemas() {
        let v = project(&["userName"], &[]);
        assert_eq!(v["userName"], "bjensen");
        assert_eq!(v["id"], "1");
        assert!(v.get("emails").is_none() && v.get("meta").is_none());
    }

    #[test]
    fn sub_attribute_and_urn_paths() {
        let v = project(&["name.givenName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"], &[]);
        assert_eq!(v["name"], json!({"givenName":"Barbara"}));
        assert_eq!(v["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], json!({"employeeNumber":"7"}));
    }

    #[test]
    fn excluded_attributes() {
        let v = project(&[], &["emails", "name.familyName"]);
        assert!(v.get("emails").is_none());
        assert_eq!(v["name"], json!({"givenName":"Barbara"}));
        assert_eq!(v["userName"], "bjensen");
    }
}
