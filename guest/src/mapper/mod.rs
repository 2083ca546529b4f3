//! Directory attributes ↔ SCIM resources, by declarative configuration (the WIT `mapper`).
//!
//! Attribute names live only in the configuration; see `wit/scim.wit` for the format. A principal maps to
//! one User and to the Groups derived from its attributes.

mod reverse;
mod target;
mod template;
#[cfg(test)]
mod tests;
mod transform;

pub use target::{Shape, Target};
use template::Template;
use transform::Transform;

use crate::schema::{GROUP, USER};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A principal's attributes: name → values, names matched without regard to case.
pub type Attributes = Vec<Attr>;

/// One attribute: its name and its values.
pub type Attr = (String, Vec<String>);

/// A compiled mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub rules: Vec<Rule>,
    pub groups: Vec<GroupRule>,
    /// Groups whose `displayName` starts with this are owned by the mapping: a user is removed from those the
    /// mapping no longer yields. None: memberships are only ever added.
    pub managed_group_prefix: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub target: Target,
    pub source: Source,
    pub transforms: Vec<Transform>,
    pub kind: Kind,
    /// `attr` as an array of every value instead of the first.
    pub list: bool,
}

#[derive(Debug, Clone)]
pub enum Source {
    Attribute(String),
    Template(Template),
    Constant(Value),
}

/// The JSON type a value is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    String,
    Boolean,
    Integer,
}

/// One group per value of `from`, named by `name` (`${value}` is the value; other names are attributes).
#[derive(Debug, Clone)]
pub struct GroupRule {
    pub from: String,
    pub name: Template,
    pub transforms: Vec<Transform>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    attributes: Vec<RawRule>,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    managed_group_prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    target: String,
    from: Option<String>,
    template: Option<String>,
    value: Option<Value>,
    transform: Option<Value>,
    #[serde(default, rename = "as")]
    kind: Kind,
    #[serde(default)]
    list: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    from: String,
    name: String,
    transform: Option<Value>,
}

impl Mapping {
    /// Parses and checks a mapping; an error names the offending rule.
    pub fn from_json(text: &str) -> Result<Mapping, String> {
        let raw: Value = serde_json::from_str(text).map_err(|e| format!("the mapping is not valid JSON: {e}"))?;
        Mapping::from_value(raw)
    }

    pub fn from_value(raw: Value) -> Result<Mapping, String> {
        let raw: RawMapping = serde_json::from_value(raw).map_err(|e| format!("mapping: {e}"))?;
        let rules = raw.attributes.into_iter().enumerate().map(|(i, r)| {
            let at = format!("attributes[{i}] ({})", r.target);
            compile_rule(r).map_err(|e| format!("{at}: {e}"))
        });
        let rules = rules.collect::<Result<Vec<_>, _>>()?;
        let groups = raw.groups.into_iter().enumerate().map(|(i, g)| {
            let at = format!("groups[{i}] ({})", g.name);
            let rule = GroupRule {
                from: g.from,
                name: Template::parse(&g.name).map_err(|e| format!("{at}: {e}"))?,
                transforms: Transform::parse_all(g.transform.as_ref()).map_err(|e| format!("{at}: {e}"))?,
            };
            Ok::<_, String>(rule)
        });
        let groups = groups.collect::<Result<Vec<_>, _>>()?;
        if raw.managed_group_prefix.as_deref() == Some("") {
            return Err("managedGroupPrefix: an empty prefix would claim every group of the target".into());
        }
        Ok(Mapping { rules, groups, managed_group_prefix: raw.managed_group_prefix })
    }

    /// The User, then one Group per derived group name (in rule order, without duplicates).
    pub fn to_resources(&self, attrs: &[Attr]) -> Result<Vec<Value>, String> {
        let mut user = Map::new();
        let lookup = |name: &str| values_of(attrs, name).into_iter().next();
        for rule in &self.rules {
            let raw = match &rule.source {
                Source::Attribute(name) => values_of(attrs, name),
                Source::Template(t) => t.render(&lookup).into_iter().collect(),
                Source::Constant(v) => {
                    place_constant(&mut user, &rule.target, v.clone());
                    continue;
                }
            };
            let values = transform::apply_all(&rule.transforms, raw)
                .into_iter()
                .map(|v| typed(rule.kind, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", rule.target.attr_path()))?;
            if !values.is_empty() {
                place(&mut user, rule, values);
            }
        }
        prune(&mut user);
        let mut schemas = vec![json!(USER)];
        schemas.extend(user.keys().filter(|k| k.starts_with("urn:")).map(|k| json!(k)));
        user.insert("schemas".into(), Value::Array(schemas));
        let mut out = vec![Value::Object(user)];
        for name in self.group_names(attrs) {
            out.push(json!({ "schemas": [GROUP], "displayName": name }));
        }
        Ok(out)
    }

    /// The derived group names, deduplicated without regard to case.
    pub fn group_names(&self, attrs: &[Attr]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for g in &self.groups {
            for value in transform::apply_all(&g.transforms, values_of(attrs, &g.from)) {
                let lookup = |n: &str| {
                    if n == "value" {
                        Some(value.clone())
                    } else {
                        values_of(attrs, n).into_iter().next()
                    }
                };
                if let Some(name) = g.name.render(&lookup) {
                    if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                        names.push(name);
                    }
                }
            }
        }
        names
    }

    /// True when the mapping owns the group of that name.
    pub fn manages_group(&self, display_name: &str) -> bool {
        self.managed_group_prefix.as_deref().is_some_and(|p| display_name.starts_with(p))
    }

    pub fn to_attributes(&self, resource: &Value) -> Attributes {
        reverse::to_attributes(self, resource)
    }
}

fn compile_rule(r: RawRule) -> Result<Rule, String> {
    let target = Target::parse(&r.target)?;
    let source = match (r.from, r.template, r.value) {
        (Some(from), None, None) => Source::Attribute(from),
        (None, Some(t), None) => Source::Template(Template::parse(&t)?),
        (None, None, Some(v)) if !v.is_null() => Source::Constant(v),
        _ => return Err("needs exactly one of from, template, value (not null)".into()),
    };
    if r.list && target.shape != Shape::Value {
        return Err("list applies only to a plain attribute target".into());
    }
    let transforms = Transform::parse_all(r.transform.as_ref())?;
    Ok(Rule { target, source, transforms, kind: r.kind, list: r.list })
}

/// Drops empty objects and arrays left by rules that found no value, inside extensions too.
fn prune(obj: &mut Map<String, Value>) {
    for v in obj.values_mut() {
        if let Value::Object(inner) = v {
            prune(inner);
        }
    }
    obj.retain(|_, v| match v {
        Value::Object(o) => !o.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    });
}

/// Every value of the attribute, from all entries of that name (without regard to case).
pub fn values_of(attrs: &[Attr], name: &str) -> Vec<String> {
    attrs.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).flat_map(|(_, v)| v.iter().cloned()).collect()
}

fn typed(kind: Kind, v: String) -> Result<Value, String> {
    match kind {
        Kind::String => Ok(Value::String(v)),
        Kind::Boolean => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("{v:?} is not a boolean")),
        },
        Kind::Integer => v.trim().parse::<i64>().map(Value::from).map_err(|_| format!("{v:?} is not an integer")),
    }
}

/// The object a target writes into: the resource itself, or its extension object.
fn container<'a>(user: &'a mut Map<String, Value>, target: &Target) -> &'a mut Map<String, Value> {
    let Some(urn) = &target.schema else {
        return user;
    };
    let ext = user.entry(urn.clone()).or_insert_with(|| Value::Object(Map::new()));
    if !ext.is_object() {
        *ext = Value::Object(Map::new());
    }
    ext.as_object_mut().expect("made an object above")
}

/// Writes sourced values. A singular target keeps the first rule that gave it a value, so that later rules
/// act as fallbacks; element targets fill the elements that earlier rules of the same selector created.
fn place(user: &mut Map<String, Value>, rule: &Rule, values: Vec<Value>) {
    let target = &rule.target;
    let obj = container(user, target);
    match &target.shape {
        Shape::Value if rule.list => {
            let slot = obj.entry(target.attr.clone()).or_insert_with(|| Value::Array(vec![]));
            if let Value::Array(items) = slot {
                for v in values {
                    if !items.contains(&v) {
                        items.push(v);
                    }
                }
            }
        }
        Shape::Value => {
            obj.entry(target.attr.clone()).or_insert_with(|| values.into_iter().next().unwrap_or(Value::Null));
        }
        Shape::Sub(sub) => {
            let parent = obj.entry(target.attr.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(p), Some(v)) = (parent, values.into_iter().next()) {
                p.entry(sub.clone()).or_insert(v);
            }
        }
        Shape::Element { selector, sub } => {
            let slot = obj.entry(target.attr.clone()).or_insert_with(|| Value::Array(vec![]));
            let Value::Array(items) = slot else { return };
            let mut matching = items.iter_mut().filter(|e| e.get(&selector.0) == Some(&selector.1));
            let mut extra = Vec::new();
            for v in values {
                match matching.next() {
                    Some(Value::Object(e)) => {
                        e.entry(sub.clone()).or_insert(v);
                    }
                    _ => extra.push(json!({ selector.0.clone(): selector.1.clone(), sub.clone(): v })),
                }
            }
            items.extend(extra);
        }
    }
}

/// Writes a constant. On an element target it sets the first matching element only (a `primary: true`
/// belongs to one element), and never creates one: a constant alone does not make an e-mail address.
fn place_constant(user: &mut Map<String, Value>, target: &Target, v: Value) {
    let obj = container(user, target);
    match &target.shape {
        Shape::Value => {
            obj.entry(target.attr.clone()).or_insert(v);
        }
        Shape::Sub(sub) => {
            if let Value::Object(p) = obj.entry(target.attr.clone()).or_insert_with(|| Value::Object(Map::new())) {
                p.entry(sub.clone()).or_insert(v);
            }
        }
        Shape::Element { selector, sub } => {
            let first = obj
                .get_mut(&target.attr)
                .and_then(Value::as_array_mut)
                .and_then(|items| items.iter_mut().find(|e| e.get(&selector.0) == Some(&selector.1)));
            if let Some(Value::Object(e)) = first {
                e.entry(sub.clone()).or_insert(v);
            }
        }
    }
}
