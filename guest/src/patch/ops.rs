//! `add`, `replace` and `remove` (RFC 7644 §3.5.2.1–3) on the stored body, one resolved path at a time.
//!
//! Values are checked and made canonical as they arrive (names, canonical values, booleans), so that filters
//! and duplicate detection see what storage will hold. Whole-resource rules (required, uniqueness) are checked
//! once, after the last operation.

use super::quirks;
use super::request::Op;
use super::target::{self, Target};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::filter::Filter;
use crate::resource;
use crate::schema::{Attribute, Mutability, ResourceType};
use serde_json::{Map, Value};

/// Applies one operation on a path that is not group membership.
pub fn apply(
    cfg: &Config,
    rt: &ResourceType,
    doc: &mut Map<String, Value>,
    op: Op,
    t: &Target,
    value: Option<Value>,
) -> ScimResult<()> {
    let Some(urn) = t.ext else {
        return in_container(cfg, rt, doc, op, t, value);
    };
    let mut ext = match doc.remove(urn) {
        Some(Value::Object(obj)) => obj,
        _ => Map::new(),
    };
    let result = in_container(cfg, rt, &mut ext, op, t, value);
    if !ext.is_empty() {
        doc.insert(urn.to_string(), Value::Object(ext));
    }
    result
}

/// `container` is the resource body for core attributes, the extension's object for extension attributes.
fn in_container(
    cfg: &Config,
    rt: &ResourceType,
    container: &mut Map<String, Value>,
    op: Op,
    t: &Target,
    value: Option<Value>,
) -> ScimResult<()> {
    let before = container.get(&t.attr.name).cloned();
    match op {
        Op::Remove => remove(cfg, rt, container, t, value.as_ref())?,
        Op::Add | Op::Replace => write(cfg, rt, container, op, t, value.unwrap_or(Value::Null))?,
    }
    let name = &t.attr.name;
    if container.get(name).is_some_and(is_empty) {
        container.remove(name);
    }
    // RFC 7643 §2.2: an immutable attribute may be given a value once, never changed or removed.
    if t.attr.mutability == Mutability::Immutable && before.is_some() && before.as_ref() != container.get(name) {
        return Err(err::mutability(format!("{} is immutable and already has a value", t.text)));
    }
    Ok(())
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(obj) => obj.is_empty(),
        _ => false,
    }
}

fn write(
    cfg: &Config,
    rt: &ResourceType,
    c: &mut Map<String, Value>,
    op: Op,
    t: &Target,
    value: Value,
) -> ScimResult<()> {
    let new = match (&t.filter, t.sub) {
        (Some(_), None) => one_element(cfg, t, value)?,
        (_, sub) => resource::ingest_attribute(cfg, sub.unwrap_or(t.attr), &t.text, value)?,
    };
    // RFC 7643 §2.5: null and [] are "unassigned"; adding nothing changes nothing, replacing with nothing removes.
    let Some(new) = new else {
        return if op == Op::Replace { remove(cfg, rt, c, t, None) } else { Ok(()) };
    };
    let name = &t.attr.name;
    match (&t.filter, t.sub) {
        (Some(filter), _) => write_filtered(cfg, rt, c, t, filter, new),
        (None, Some(sub)) if t.attr.multi_valued => {
            let mut items = take_list(c, name);
            if items.is_empty() {
                items.push(Value::Object(Map::new()));
            }
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                set_sub(item, sub, new.clone(), &t.text)?;
            }
            put(c, name, Value::Array(items));
            Ok(())
        }
        (None, Some(sub)) => {
            let mut obj = take_object(c, name);
            set_sub(&mut obj, sub, new, &t.text)?;
            put(c, name, Value::Object(obj));
            Ok(())
        }
        (None, None) => match new {
            Value::Array(added) if op == Op::Add => {
                let mut items = take_list(c, name);
                let mut touched = Vec::new();
                for v in added {
                    if !items.iter().any(|e| same(t.attr, e, &v)) {
                        touched.push(items.len());
                        items.push(v);
                    }
                }
                one_primary(&mut items, &touched);
                put(c, name, Value::Array(items));
                Ok(())
            }
            // RFC 7644 §3.5.2.3: sub-attributes not given in a complex value are left unchanged.
            Value::Object(given) if !t.attr.multi_valued => {
                let mut obj = take_object(c, name);
                merge(t, &mut obj, given)?;
                put(c, name, Value::Object(obj));
                Ok(())
            }
            v => {
                c.insert(name.clone(), v);
                Ok(())
            }
        },
    }
}

/// add or replace on `attr[filter]` or `attr[filter].sub`: every matching element is changed; when none
/// matches, the element the filter describes is created (see the quirk), else 400 `noTarget`.
fn write_filtered(
    cfg: &Config,
    rt: &ResourceType,
    c: &mut Map<String, Value>,
    t: &Target,
    filter: &Filter,
    new: Value,
) -> ScimResult<()> {
    let name = &t.attr.name;
    let mut items = take_list(c, name);
    let mut touched = matching(cfg, rt, t, filter, &items)?;
    if touched.is_empty() {
        let no_target = || err::no_target(format!("{}: no value matches the filter", t.text));
        let mut element = quirks::element_from_filter(cfg, filter).ok_or_else(no_target)?;
        // A filter that describes no valid element (`type eq "nonexistent"`) selects nothing and creates nothing.
        let describable = element.iter().all(|(k, v)| {
            t.attr
                .sub(k)
                .is_some_and(|sub| v.as_str().is_none_or(|s| resource::canonical_value(sub, k, s.into()).is_ok()))
        });
        if !describable {
            return Err(no_target());
        }
        crate::tolerance::record(crate::tolerance::Tolerance::CreateOnFilteredPath);
        match (t.sub, new) {
            (Some(sub), v) => {
                element.insert(sub.name.clone(), v);
            }
            (None, Value::Object(given)) => element.extend(given),
            (None, _) => return Err(err::invalid_value(format!("{}: expected a JSON object", t.text))),
        }
        let canonical = one_element(cfg, t, Value::Object(element))?
            .ok_or_else(|| err::invalid_value(format!("{}: the value is empty", t.text)))?;
        touched.push(items.len());
        items.push(canonical);
    } else {
        for &i in &touched {
            let Some(item) = items.get_mut(i).and_then(Value::as_object_mut) else {
                continue;
            };
            match (t.sub, &new) {
                (Some(sub), v) => set_sub(item, sub, v.clone(), &t.text)?,
                (None, Value::Object(given)) => merge(t, item, given.clone())?,
                (None, _) => return Err(err::invalid_value(format!("{}: expected a JSON object", t.text))),
            }
        }
    }
    one_primary(&mut items, &touched);
    put(c, name, Value::Array(items));
    Ok(())
}

fn remove(
    cfg: &Config,
    rt: &ResourceType,
    c: &mut Map<String, Value>,
    t: &Target,
    listed: Option<&Value>,
) -> ScimResult<()> {
    let name = &t.attr.name;
    match (&t.filter, t.sub) {
        (None, None) => match quirks::removal_list(cfg, &t.text, listed.filter(|_| t.attr.multi_valued))? {
            Some(list) => {
                let listed = match resource::ingest_attribute(cfg, t.attr, &t.text, list.clone())? {
                    Some(Value::Array(listed)) => listed,
                    _ => Vec::new(),
                };
                let mut items = take_list(c, name);
                items.retain(|e| !listed.iter().any(|l| described(t.attr, l, e)));
                put(c, name, Value::Array(items));
            }
            None => {
                c.remove(name);
            }
        },
        (None, Some(sub)) if t.attr.multi_valued => {
            let mut items = take_list(c, name);
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                unset_sub(item, sub, &t.text)?;
            }
            items.retain(|e| !is_empty(e));
            put(c, name, Value::Array(items));
        }
        (None, Some(sub)) => {
            let mut obj = take_object(c, name);
            unset_sub(&mut obj, sub, &t.text)?;
            put(c, name, Value::Object(obj));
        }
        // A filter that matches nothing removes nothing: removal is idempotent, as it is for members, whose
        // list is not loaded to find out.
        (Some(filter), sub) => {
            let items = take_list(c, name);
            let hits = matching(cfg, rt, t, filter, &items)?;
            let mut kept = Vec::with_capacity(items.len());
            for (i, mut item) in items.into_iter().enumerate() {
                if hits.contains(&i) {
                    let Some(sub) = sub else { continue };
                    if let Some(obj) = item.as_object_mut() {
                        unset_sub(obj, sub, &t.text)?;
                    }
                }
                if !is_empty(&item) {
                    kept.push(item);
                }
            }
            put(c, name, Value::Array(kept));
        }
    }
    Ok(())
}

/// Indices of the elements the filter selects.
fn matching(cfg: &Config, rt: &ResourceType, t: &Target, filter: &Filter, items: &[Value]) -> ScimResult<Vec<usize>> {
    let mut hits = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if target::matches(cfg, rt, t, filter, item)? {
            hits.push(i);
        }
    }
    Ok(hits)
}

/// A value for one element of a multi-valued complex attribute, checked and canonical.
fn one_element(cfg: &Config, t: &Target, value: Value) -> ScimResult<Option<Value>> {
    match resource::ingest_attribute(cfg, t.attr, &t.text, value)? {
        Some(Value::Array(mut items)) if items.len() == 1 => Ok(items.pop()),
        Some(_) => Err(err::invalid_value(format!("{}: expected one value, not a list", t.text))),
        None => Ok(None),
    }
}

/// Sets sub-attributes given in `given`, leaving the others; an immutable one that has a value must keep it.
fn merge(t: &Target, obj: &mut Map<String, Value>, given: Map<String, Value>) -> ScimResult<()> {
    for (key, v) in given {
        match t.attr.sub(&key) {
            Some(sub) => set_sub(obj, sub, v, &t.text)?,
            None => {
                obj.insert(key, v);
            }
        }
    }
    Ok(())
}

fn set_sub(obj: &mut Map<String, Value>, sub: &Attribute, v: Value, text: &str) -> ScimResult<()> {
    if sub.mutability == Mutability::Immutable && obj.get(&sub.name).is_some_and(|old| *old != v) {
        return Err(err::mutability(format!("{text}: {} is immutable and already has a value", sub.name)));
    }
    obj.insert(sub.name.clone(), v);
    Ok(())
}

fn unset_sub(obj: &mut Map<String, Value>, sub: &Attribute, text: &str) -> ScimResult<()> {
    if sub.mutability == Mutability::Immutable && obj.contains_key(&sub.name) {
        return Err(err::mutability(format!("{text}: {} is immutable and cannot be removed", sub.name)));
    }
    obj.remove(&sub.name);
    Ok(())
}

/// RFC 7643 §2.4: one `primary` at most. A value just set primary takes it from the others.
fn one_primary(items: &mut [Value], touched: &[usize]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    if !touched.iter().any(|&i| items.get(i).is_some_and(is_primary)) {
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        if touched.contains(&i) {
            continue;
        }
        if let Some(p) = item.as_object_mut().and_then(|o| o.get_mut("primary")).filter(|p| **p == Value::Bool(true)) {
            *p = Value::Bool(false);
        }
    }
}

/// Equal values under the attribute's `caseExact`: an add of an equal value adds nothing (RFC 7644 §3.5.2.1).
fn same(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && described(attr, a, b),
        (Value::String(x), Value::String(y)) if !attr.case_exact => x.to_lowercase() == y.to_lowercase(),
        _ => a == b,
    }
}

/// `element` has every sub-attribute value that `listed` gives.
fn described(attr: &Attribute, listed: &Value, element: &Value) -> bool {
    match (listed, element) {
        (Value::Object(l), Value::Object(e)) => {
            l.iter().all(|(k, v)| e.get(k).is_some_and(|w| attr.sub(k).map_or(v == w, |sub| same(sub, v, w))))
        }
        _ => same(attr, listed, element),
    }
}

fn take_list(c: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match c.remove(name) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(v) => vec![v],
    }
}

fn take_object(c: &mut Map<String, Value>, name: &str) -> Map<String, Value> {
    match c.remove(name) {
        Some(Value::Object(obj)) => obj,
        _ => Map::new(),
    }
}

fn put(c: &mut Map<String, Value>, name: &str, v: Value) {
    if !is_empty(&v) {
        c.insert(name.to_string(), v);
    }
}
