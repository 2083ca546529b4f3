//! The difference between the User the mapping wants and the one the target holds, as PATCH operations
//! (RFC 7644 §3.5.2) or as a PUT body. Only attributes the mapping targets are compared: everything else on
//! the target is left alone.

use crate::mapper::{Mapping, Shape, Target};
use crate::names::member;
use serde_json::{json, Map, Value};

/// A top-level attribute the mapping owns, with the sub-attributes it owns when it writes only those.
struct Owned<'a> {
    target: &'a Target,
    /// Some: a singular complex attribute of which only these sub-attributes are owned.
    subs: Option<Vec<&'a str>>,
}

fn owned(mapping: &Mapping) -> Vec<Owned<'_>> {
    let mut out: Vec<Owned> = Vec::new();
    for rule in &mapping.rules {
        let t = &rule.target;
        let sub = match &t.shape {
            Shape::Sub(s) => Some(s.as_str()),
            _ => None,
        };
        match out.iter_mut().find(|o| o.target.schema == t.schema && o.target.attr.eq_ignore_ascii_case(&t.attr)) {
            Some(o) => {
                if let (Some(subs), Some(s)) = (&mut o.subs, sub) {
                    subs.push(s);
                }
            }
            None => out.push(Owned { target: t, subs: sub.map(|s| vec![s]) }),
        }
    }
    out
}

/// The object holding a target's attribute: the resource, or its extension object.
fn holder<'a>(resource: &'a Value, target: &Target) -> Option<&'a Map<String, Value>> {
    let obj = resource.as_object()?;
    match &target.schema {
        Some(urn) => member(obj, urn)?.as_object(),
        None => Some(obj),
    }
}

fn at<'a>(resource: &'a Value, target: &Target) -> Option<&'a Value> {
    holder(resource, target).and_then(|h| member(h, &target.attr)).filter(|v| !is_empty(v))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// True when `current` already says everything `wanted` says. Objects may carry more (the target adds
/// defaults); arrays must match element for element, in any order; text is compared exactly.
pub fn covers(current: &Value, wanted: &Value) -> bool {
    match (current, wanted) {
        (Value::Object(c), Value::Object(w)) => w.iter().all(|(k, wv)| member(c, k).is_some_and(|cv| covers(cv, wv))),
        (Value::Array(c), Value::Array(w)) => {
            if c.len() != w.len() {
                return false;
            }
            let mut used = vec![false; c.len()];
            w.iter().all(|wv| {
                let hit = c.iter().enumerate().find(|(i, cv)| !used[*i] && covers(cv, wv)).map(|(i, _)| i);
                hit.map(|i| used[i] = true).is_some()
            })
        }
        (Value::Number(c), Value::Number(w)) => c.as_f64() == w.as_f64(),
        _ => current == wanted,
    }
}

/// The PATCH operations that turn `current` into `wanted` on the owned attributes; empty when nothing differs.
pub fn patch_ops(mapping: &Mapping, wanted: &Value, current: &Value) -> Vec<Value> {
    let mut ops = Vec::new();
    for o in owned(mapping) {
        let path = o.target.attr_path();
        let (w, c) = (at(wanted, o.target), at(current, o.target));
        match (&o.subs, w, c) {
            (_, None, None) => {}
            (Some(subs), w, Some(Value::Object(c))) => {
                for sub in subs {
                    let wv = w.and_then(Value::as_object).and_then(|w| member(w, sub)).filter(|v| !is_empty(v));
                    let cv = member(c, sub).filter(|v| !is_empty(v));
                    match (wv, cv) {
                        (Some(wv), Some(cv)) if covers(cv, wv) => {}
                        (Some(wv), _) => {
                            ops.push(json!({"op": "replace", "path": format!("{path}.{sub}"), "value": wv}))
                        }
                        (None, Some(_)) => ops.push(json!({"op": "remove", "path": format!("{path}.{sub}")})),
                        (None, None) => {}
                    }
                }
            }
            (_, Some(w), Some(c)) if covers(c, w) => {}
            (_, Some(w), _) => ops.push(json!({"op": "replace", "path": path, "value": w})),
            (_, None, Some(_)) => ops.push(json!({"op": "remove", "path": path})),
        }
    }
    ops
}

/// A PUT body: the target's resource with the owned attributes set as wanted, read-only parts dropped.
pub fn replacement(mapping: &Mapping, wanted: &Value, current: &Value) -> Value {
    let mut body = current.as_object().cloned().unwrap_or_default();
    for k in ["id", "meta", "groups"] {
        body.retain(|key, _| !key.eq_ignore_ascii_case(k));
    }
    for o in owned(mapping) {
        let t = o.target;
        let holder = match &t.schema {
            Some(urn) => {
                let slot = body.entry(urn.clone()).or_insert_with(|| Value::Object(Map::new()));
                match slot.as_object_mut() {
                    Some(h) => h,
                    None => continue,
                }
            }
            None => &mut body,
        };
        holder.retain(|k, _| !k.eq_ignore_ascii_case(&t.attr));
        let w = at(wanted, t).cloned();
        let kept = match (w, &o.subs, at(current, t)) {
            // Sub-attributes the mapping does not own survive.
            (w, Some(subs), Some(Value::Object(c))) => {
                let mut merged = c.clone();
                merged.retain(|k, _| !subs.iter().any(|s| s.eq_ignore_ascii_case(k)));
                if let Some(Value::Object(w)) = w {
                    merged.extend(w);
                }
                Some(Value::Object(merged)).filter(|v| !is_empty(v))
            }
            (w, _, _) => w,
        };
        if let Some(v) = kept {
            holder.insert(t.attr.clone(), v);
        }
    }
    body.retain(|k, v| !(k.starts_with("urn:") && is_empty(v)));
    let mut schemas: Vec<Value> = body.get("schemas").and_then(Value::as_array).cloned().unwrap_or_default();
    for s in wanted.get("schemas").and_then(Value::as_array).into_iter().flatten() {
        if !schemas.contains(s) {
            schemas.push(s.clone());
        }
    }
    schemas
        .retain(|s| s.as_str().is_some_and(|s| !s.starts_with("urn:") || s.contains(":core:") || body.contains_key(s)));
    body.insert("schemas".into(), Value::Array(schemas));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping::from_value(json!({"attributes": [
            {"target": "userName", "from": "uid"},
            {"target": "name.givenName", "from": "givenName"},
            {"target": "name.familyName", "from": "sn"},
            {"target": "emails[type eq \"work\"].value", "from": "mail"},
            {"target": "urn:x:Ext:employeeNumber", "from": "employeeNumber"}
        ]}))
        .unwrap()
    }

    fn current() -> Value {
        json!({"id": "1", "meta": {"version": "1"}, "groups": [], "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:x:Ext"],
               "UserName": "a", "name": {"givenName": "A", "familyName": "B", "formatted": "A B"},
               "emails": [{"type": "work", "value": "a@x", "primary": false}], "active": true,
               "urn:x:Ext": {"employeeNumber": "7"}})
    }

    #[test]
    fn nothing_differs_when_the_target_covers_the_wanted_values() {
        let wanted = json!({"userName": "a", "name": {"givenName": "A", "familyName": "B"},
                            "emails": [{"type": "work", "value": "a@x"}], "urn:x:Ext": {"employeeNumber": "7"}});
        assert!(patch_ops(&mapping(), &wanted, &current()).is_empty());
    }

    #[test]
    fn one_changed_sub_attribute_is_one_operation() {
        let wanted = json!({"userName": "a", "name": {"givenName": "Ada", "familyName": "B"},
                            "emails": [{"type": "work", "value": "a@x"}], "urn:x:Ext": {"employeeNumber": "7"}});
        assert_eq!(
            patch_ops(&mapping(), &wanted, &current()),
            [json!({"op": "replace", "path": "name.givenName", "value": "Ada"})]
        );
    }

    #[test]
    fn vanished_values_are_removed() {
        let wanted = json!({"userName": "a", "name": {"givenName": "A"}});
        assert_eq!(
            patch_ops(&mapping(), &wanted, &current()),
            [
                json!({"op": "remove", "path": "name.familyName"}),
                json!({"op": "remove", "path": "emails"}),
                json!({"op": "remove", "path": "urn:x:Ext:employeeNumber"}),
            ]
        );
    }

    #[test]
    fn arrays_compare_as_multisets() {
        assert!(covers(&json!([{"v": 1, "x": 0}, {"v": 2}]), &json!([{"v": 2}, {"v": 1}])));
        assert!(!covers(&json!([{"v": 1}, {"v": 1}]), &json!([{"v": 1}, {"v": 2}])));
        assert!(!covers(&json!([{"v": 1}]), &json!([{"v": 1}, {"v": 1}])));
        assert!(covers(&json!(1.0), &json!(1)));
    }

    #[test]
    fn a_replacement_keeps_what_the_mapping_does_not_own() {
        let wanted = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "name": {"givenName": "Ada"}});
        let body = replacement(&mapping(), &wanted, &current());
        assert_eq!(
            body,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a",
                   "name": {"givenName": "Ada", "formatted": "A B"}, "active": true})
        );
    }
}
