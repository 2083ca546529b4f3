//! SCIM resource → flat attributes: each rule that reads one directory attribute is read backwards.
//! Templates with one placeholder are reversed by their literal text; constants and lossy transforms
//! (trim, case) are not reversible and are skipped.

use super::{transform, Attributes, Mapping, Shape, Source, Target};
use crate::names::member;
use serde_json::Value;

pub fn to_attributes(mapping: &Mapping, resource: &Value) -> Attributes {
    let mut out: Attributes = Vec::new();
    for rule in &mapping.rules {
        let found: Vec<String> = read(resource, &rule.target).into_iter().filter_map(text).collect();
        // As forwards, the first rule that gives an attribute its values wins: `uid` read back from
        // `userName` is not joined by the `uid` inside an `externalId` template.
        let mut read_back: Attributes = Vec::new();
        match &rule.source {
            Source::Attribute(name) => add(&mut read_back, name, transform::reverse(&rule.transforms, found)),
            Source::Template(t) => {
                for v in transform::reverse(&rule.transforms, found) {
                    if let Some((name, captured)) = t.capture(&v) {
                        add(&mut read_back, name, vec![captured]);
                    }
                }
            }
            Source::Constant(_) => {}
        }
        for (name, values) in read_back {
            if !values.is_empty() && !out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&name)) {
                add(&mut out, &name, values);
            }
        }
    }
    let groups = resource.as_object().and_then(|r| member(r, "groups")).and_then(Value::as_array);
    for display in groups.into_iter().flatten().filter_map(|g| g.get("display").and_then(Value::as_str)) {
        for g in &mapping.groups {
            if let Some(("value", v)) = g.name.capture(display) {
                add(&mut out, &g.from, vec![v]);
            }
        }
    }
    out.retain(|(_, v)| !v.is_empty());
    out
}

/// The values at a target, as JSON.
fn read<'a>(resource: &'a Value, target: &Target) -> Vec<&'a Value> {
    let Some(mut obj) = resource.as_object() else {
        return vec![];
    };
    if let Some(urn) = &target.schema {
        match member(obj, urn).and_then(Value::as_object) {
            Some(ext) => obj = ext,
            None => return vec![],
        }
    }
    let Some(v) = member(obj, &target.attr) else {
        return vec![];
    };
    match &target.shape {
        Shape::Value => match v {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        },
        Shape::Sub(sub) => v.as_object().and_then(|o| member(o, sub)).into_iter().collect(),
        Shape::Element { selector, sub } => v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .filter(|e| member(e, &selector.0).is_some_and(|s| same(s, &selector.1)))
            .filter_map(|e| member(e, sub))
            .collect(),
    }
}

/// Selector comparison: text without regard to case, as SCIM compares `type` values.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => None,
    }
}

/// Adds values under a name (merged without regard to case), without duplicates.
fn add(out: &mut Attributes, name: &str, values: Vec<String>) {
    let i = match out.iter().position(|(k, _)| k.eq_ignore_ascii_case(name)) {
        Some(i) => i,
        None => {
            out.push((name.to_string(), vec![]));
            out.len() - 1
        }
    };
    for v in values {
        if !out[i].1.contains(&v) {
            out[i].1.push(v);
        }
    }
}
