//! Row mapping: a host keeps its resources in its own table columns, and the engine converts.
//!
//! Under `configure`'s `mapping` section, the body a mapped type stores is a flat JSON row in the host's
//! column names (`{"username":"bjensen","active":1}`), rows read back become SCIM again, and pushed-down
//! filters name columns. An application then serves SCIM from its existing tables with no SCIM code.
//! Attributes without a column are not stored, unless the type names a catch-all `rest` column: it then
//! keeps them as JSON text (canonical names, extensions under their URN), so an application need not add a
//! column for every attribute a client may send.
//!
//! Membership is the host's own relation, not a column: a filter on it reaches the host under the reserved
//! path `members.value` (see [`query`]).

mod query;
mod store;

pub use store::RowStore;

use crate::schema::{AttrType, Registry, ResourceType};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How a column holds its value, when that differs from the attribute's own JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ColumnType {
    String,
    Boolean,
    /// A boolean kept as the integer 0 or 1 (databases without a boolean type).
    Boolean01,
    Integer,
    Decimal,
    /// RFC 3339 text.
    DateTime,
    /// `YYYY-MM-DD HH:MM:SS` in UTC, the usual SQL column form; compares correctly as text.
    SqlDateTime,
}

/// Where a column's value sits in a SCIM resource: `[urn:]attr[[selector eq literal]][.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The extension URN for an extension attribute; none for the core and common schemas.
    pub urn: Option<String>,
    pub attr: String,
    pub multi: bool,
    /// `emails[type eq "work"].value`: the element with `type` = `"work"`.
    pub selector: Option<(String, Value)>,
    pub sub: Option<String>,
}

impl Place {
    /// The attribute as flat filter paths name it: `name`, `urn:…:User:employeeNumber`.
    pub fn top(&self) -> String {
        match &self.urn {
            Some(urn) => format!("{urn}:{}", self.attr),
            None => self.attr.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub place: Place,
    pub name: String,
    pub kind: ColumnType,
}

/// The row of one resource type: the host table's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The column holding the resource id, for filters and sorting on `id`.
    pub id: String,
    pub columns: Vec<Column>,
    /// The catch-all column: every value no other column holds, as a JSON object in text.
    pub rest: Option<String>,
}

/// Every mapped resource type, by resource type name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowMapping {
    types: BTreeMap<String, Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    #[serde(default)]
    id: Option<String>,
    /// SCIM path → a column name, or `{"column": …, "type": …}`.
    columns: BTreeMap<String, Value>,
    #[serde(default)]
    rest: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedColumn {
    column: String,
    #[serde(rename = "type")]
    kind: Option<ColumnType>,
}

impl RowMapping {
    /// Parses and checks the `mapping` section against the served schemas; an error names the rule.
    pub fn from_json(registry: &Registry, value: Value) -> Result<RowMapping, String> {
        let raw: BTreeMap<String, RawType> =
            serde_json::from_value(value).map_err(|e| format!("configuration: mapping: {e}"))?;
        let mut types = BTreeMap::new();
        for (type_name, raw_type) in raw {
            let rt = registry
                .resource_type(&type_name)
                .ok_or_else(|| format!("configuration: mapping: unknown resource type {type_name}"))?;
            let mut columns = Vec::new();
            for (path, raw_column) in raw_type.columns {
                let at = |e: String| format!("configuration: mapping: {type_name}: {path}: {e}");
                let (name, kind) = match raw_column {
                    Value::String(n) => (n, None),
                    other => {
                        let t: TypedColumn = serde_json::from_value(other).map_err(|e| at(e.to_string()))?;
                        (t.column, t.kind)
                    }
                };
                if name.is_empty() {
                    return Err(at("the column name is empty".into()));
                }
                if name == query::MEMBER_PATH {
                    return Err(at(format!("{name} is reserved for membership comparisons")));
                }
                let (place, attr_type) = parse_place(registry, rt, &path).map_err(at)?;
                let kind = kind.unwrap_or(match attr_type {
                    AttrType::Boolean => ColumnType::Boolean,
                    AttrType::Integer => ColumnType::Integer,
                    AttrType::Decimal => ColumnType::Decimal,
                    AttrType::DateTime => ColumnType::DateTime,
                    _ => ColumnType::String,
                });
                if columns.iter().any(|c: &Column| c.place == place) {
                    return Err(at("mapped twice".into()));
                }
                columns.push(Column { place, name, kind });
            }
            let id = raw_type.id.unwrap_or_else(|| "id".into());
            if let Some(rest) = &raw_type.rest {
                if rest.is_empty() || *rest == id || columns.iter().any(|c| c.name == *rest) {
                    return Err(format!(
                        "configuration: mapping: {type_name}: rest: {rest:?} must be a column of its own"
                    ));
                }
            }
            types.insert(rt.name.clone(), Table { id, columns, rest: raw_type.rest });
        }
        Ok(RowMapping { types })
    }

    pub fn get(&self, resource_type: &str) -> Option<&Table> {
        self.types.get(resource_type)
    }
}

/// Parses one mapping path and finds the attribute it names; returns the value's SCIM type.
fn parse_place(registry: &Registry, rt: &ResourceType, text: &str) -> Result<(Place, AttrType), String> {
    let path = crate::path::parse_path(text)?;
    let mut selector = match (&path.filter, path.selector()) {
        (None, _) => None,
        (Some(_), Some((sel, lit))) => Some((sel.to_string(), lit.to_json())),
        (Some(_), None) => return Err("a selector reads [attribute eq value]".into()),
    };
    let mut sub = path.sub_attr().map(str::to_string);
    let (urn, attr_name) = (path.attr.urn.as_deref(), path.attr.name.as_str());
    let (ext, attr) = registry
        .attribute(rt, urn, attr_name)
        .ok_or_else(|| format!("{attr_name} is not an attribute of {}", rt.name))?;
    if attr.name == "id" || attr.name == "members" {
        return Err(format!("{} is not a column: the id and members have their own place", attr.name));
    }
    if attr.name == "meta" && !sub.as_deref().is_some_and(|s| s == "created" || s == "lastModified") {
        return Err("only meta.created and meta.lastModified can be columns".into());
    }
    if selector.is_some() && (!attr.multi_valued || sub.is_none()) {
        return Err("a selector needs a multi-valued attribute and a sub-attribute".into());
    }
    let value_type = match &sub {
        Some(s) => {
            let sub_attr = attr.sub(s).ok_or_else(|| format!("{s} is not a sub-attribute of {}", attr.name))?;
            sub = Some(sub_attr.name.clone());
            sub_attr.attr_type
        }
        None if attr.attr_type == AttrType::Complex => return Err("a complex attribute needs a sub-attribute".into()),
        None if attr.multi_valued => return Err("a multi-valued attribute needs a sub-attribute".into()),
        None => attr.attr_type,
    };
    if let Some((sel, lit)) = &selector {
        let sel_attr = attr.sub(sel).ok_or_else(|| format!("{sel} is not a sub-attribute of {}", attr.name))?;
        selector = Some((sel_attr.name.clone(), lit.clone()));
    }
    let place =
        Place { urn: ext.map(str::to_string), attr: attr.name.clone(), multi: attr.multi_valued, selector, sub };
    Ok((place, value_type))
}

impl Table {
    /// A stored SCIM body (as the engine writes it) to the host's row: every column, null when absent.
    pub fn to_row(&self, data: &Map<String, Value>) -> Map<String, Value> {
        let mut row = Map::new();
        for c in &self.columns {
            let v = self.scim_value(data, &c.place).map(|v| to_column(c.kind, v)).unwrap_or(Value::Null);
            row.insert(c.name.clone(), v);
        }
        if let Some(rest) = &self.rest {
            let left = self.residual(data);
            let text = if left.is_empty() { Value::Null } else { Value::String(Value::Object(left).to_string()) };
            row.insert(rest.clone(), text);
        }
        row
    }

    /// The body minus every value a column holds. Positions in multi-valued attributes are kept (an element
    /// a column emptied stays as `{}`), so reading back puts each column's value into the same element.
    fn residual(&self, data: &Map<String, Value>) -> Map<String, Value> {
        let mut left = data.clone();
        for c in &self.columns {
            // A value the column cannot hold stays in the rest rather than being lost.
            if self.scim_value(&left, &c.place).is_none_or(|v| to_column(c.kind, v).is_null()) {
                continue;
            }
            self.take(&mut left, &c.place);
        }
        prune(&mut left, true);
        left
    }

    /// Removes the value at a column's place, leaving the element it sat in.
    fn take(&self, data: &mut Map<String, Value>, t: &Place) {
        let container = match &t.urn {
            Some(urn) => data.get_mut(urn).and_then(Value::as_object_mut),
            None => Some(data),
        };
        let Some(container) = container else { return };
        let Some(sub) = &t.sub else {
            container.remove(&t.attr);
            return;
        };
        let holder = match container.get_mut(&t.attr) {
            Some(Value::Array(items)) => {
                let Some(i) = self.element(items, t) else { return };
                let Some(e) = items.get_mut(i).and_then(Value::as_object_mut) else { return };
                // An untyped element the column took is read back typed: say so, to find it again.
                if let Some((sel, lit)) = &t.selector {
                    e.entry(sel.clone()).or_insert_with(|| lit.clone());
                }
                e
            }
            Some(Value::Object(o)) => o,
            _ => return,
        };
        holder.remove(sub);
    }

    fn scim_value<'a>(&self, data: &'a Map<String, Value>, t: &Place) -> Option<&'a Value> {
        let container = match &t.urn {
            Some(urn) => data.get(urn)?.as_object()?,
            None => data,
        };
        let v = container.get(&t.attr)?;
        let holder = match v {
            Value::Array(items) => items.get(self.element(items, t)?)?,
            v => v,
        };
        match &t.sub {
            Some(s) => holder.get(s),
            None => Some(holder),
        }
    }

    /// The element of a multi-valued attribute a column holds a value of.
    fn element(&self, items: &[Value], t: &Place) -> Option<usize> {
        match &t.selector {
            Some((sel, lit)) => {
                let typed = items.iter().position(|e| e.get(sel).is_some_and(|x| same_literal(x, lit)));
                // A client that sends no type still means the one element when only one is mapped.
                let untyped = || primary_or_first(items.iter().enumerate().filter(|(_, e)| e.get(sel).is_none()));
                typed.or_else(|| if self.only_selector(t) { untyped() } else { None })
            }
            None => primary_or_first(items.iter().enumerate()),
        }
    }

    /// No element of the attribute has a mapped selector value, and this is the attribute's only selector.
    fn only_selector(&self, t: &Place) -> bool {
        let mut selectors =
            self.columns.iter().filter(|c| c.place.urn == t.urn && c.place.attr == t.attr).map(|c| &c.place.selector);
        selectors.all(|s| s == &t.selector)
    }

    /// The host's row to the SCIM body the engine renders: the rest column's values, then every column's
    /// on top. Columns not mapped are ignored.
    pub fn to_scim(&self, row: &Map<String, Value>) -> Map<String, Value> {
        let mut data = match self.rest.as_ref().and_then(|r| row.get(r)) {
            Some(Value::String(text)) => serde_json::from_str(text).ok().and_then(|v: Value| v.as_object().cloned()),
            Some(Value::Object(o)) => Some(o.clone()),
            _ => None,
        }
        .unwrap_or_default();
        for c in &self.columns {
            let Some(v) = row.get(&c.name).and_then(|v| from_column(c.kind, v)) else { continue };
            let t = &c.place;
            let container = match &t.urn {
                Some(urn) => object_at(&mut data, urn),
                None => Some(&mut data),
            };
            let Some(container) = container else { continue };
            let Some(sub) = &t.sub else {
                container.insert(t.attr.clone(), v);
                continue;
            };
            let holder = if t.multi {
                let items = container.entry(t.attr.clone()).or_insert_with(|| Value::Array(vec![]));
                let Value::Array(items) = items else { continue };
                let pos = match &t.selector {
                    Some((sel, lit)) => items.iter().position(|e| e.get(sel).is_some_and(|x| same_literal(x, lit))),
                    // The element the value was taken from: the primary or first one still without it.
                    None => primary_or_first(items.iter().enumerate().filter(|(_, e)| e.get(sub).is_none())),
                };
                let pos = pos.unwrap_or_else(|| {
                    let mut e = Map::new();
                    if let Some((sel, lit)) = &t.selector {
                        e.insert(sel.clone(), lit.clone());
                    }
                    items.push(Value::Object(e));
                    items.len() - 1
                });
                items[pos].as_object_mut()
            } else {
                object_at(container, &t.attr)
            };
            if let Some(h) = holder {
                h.insert(sub.clone(), v);
            }
        }
        prune(&mut data, false);
        data
    }

    /// Columns holding `top` (a flat path's attribute) and, when given, exactly sub-attribute `sub`.
    pub fn columns_at<'a>(&'a self, top: &'a str, sub: Option<&'a str>) -> impl Iterator<Item = &'a Column> + 'a {
        self.columns.iter().filter(move |c| {
            c.place.top().eq_ignore_ascii_case(top)
                && match (sub, &c.place.sub) {
                    (None, _) => true,
                    (Some(s), Some(cs)) => s.eq_ignore_ascii_case(cs),
                    (Some(_), None) => false,
                }
        })
    }

    /// The column of a uniqueness key's attribute (a core top-level attribute), if mapped.
    pub fn unique_column(&self, attribute: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.place.urn.is_none() && c.place.sub.is_none() && c.place.attr.eq_ignore_ascii_case(attribute))
    }
}

/// The object under `key`, created when missing; none when a value of another kind is there.
fn object_at<'a>(m: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    m.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new())).as_object_mut()
}

/// The index of the primary element, else of the first.
fn primary_or_first<'a>(mut items: impl Iterator<Item = (usize, &'a Value)> + Clone) -> Option<usize> {
    let primary = items.clone().find(|(_, e)| e.get("primary") == Some(&Value::Bool(true)));
    primary.or_else(|| items.next()).map(|(i, _)| i)
}

/// Drops the empty objects and lists that taking values out leaves: SCIM treats them as unassigned.
/// `keep_places`: an emptied element stays while its list has others, as it marks a column's element.
fn prune(m: &mut Map<String, Value>, keep_places: bool) {
    let empty = |e: &Value| e.as_object().is_some_and(Map::is_empty);
    for v in m.values_mut() {
        match v {
            Value::Object(o) => prune(o, keep_places),
            Value::Array(items) => {
                items.iter_mut().filter_map(Value::as_object_mut).for_each(|o| prune(o, keep_places));
                if !keep_places || items.iter().all(empty) {
                    items.retain(|e| !empty(e));
                }
            }
            _ => {}
        }
    }
    m.retain(|_, v| match v {
        Value::Object(o) => !o.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    });
}

/// Selector values compare without case when text (`"Work"` is `"work"`).
fn same_literal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// A SCIM value as the column holds it.
pub fn to_column(kind: ColumnType, v: &Value) -> Value {
    match (kind, v) {
        (ColumnType::Boolean01, Value::Bool(b)) => Value::from(u8::from(*b)),
        (ColumnType::SqlDateTime, Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => Value::String(t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S").to_string()),
            Err(_) => Value::Null,
        },
        (ColumnType::String, Value::Number(n)) => Value::String(n.to_string()),
        (ColumnType::String, Value::Bool(b)) => Value::String(b.to_string()),
        (_, Value::Array(_) | Value::Object(_)) => Value::Null,
        _ => v.clone(),
    }
}

/// A column's value as SCIM. Lenient: database drivers often hand back numbers as text. None: absent.
pub fn from_column(kind: ColumnType, v: &Value) -> Option<Value> {
    let text = v.as_str().map(str::trim);
    match kind {
        _ if v.is_null() || text == Some("") => None,
        ColumnType::String => match v {
            Value::String(s) => Some(Value::String(s.clone())),
            Value::Number(n) => Some(Value::String(n.to_string())),
            Value::Bool(b) => Some(Value::String(b.to_string())),
            _ => None,
        },
        ColumnType::Boolean | ColumnType::Boolean01 => match (v, text) {
            (Value::Bool(b), _) => Some(Value::Bool(*b)),
            (Value::Number(n), _) => Some(Value::Bool(n.as_f64() != Some(0.0))),
            (_, Some(t)) => crate::quirks::boolean_from_string(&Value::String(t.to_string()))
                .or(t.parse::<i64>().ok().map(|n| n != 0))
                .map(Value::Bool),
            _ => None,
        },
        ColumnType::Integer => match (v, text) {
            (Value::Number(n), _) if n.is_i64() || n.is_u64() => Some(v.clone()),
            (_, Some(t)) => t.parse::<i64>().ok().map(Value::from),
            _ => None,
        },
        ColumnType::Decimal => match (v, text) {
            (Value::Number(_), _) => Some(v.clone()),
            (_, Some(t)) => t.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number),
            _ => None,
        },
        ColumnType::DateTime => text.map(|t| Value::String(t.to_string())),
        ColumnType::SqlDateTime => {
            let t = text?;
            let parsed = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .map(|n| n.and_utc())
                .or_else(|_| chrono::DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&chrono::Utc)))
                .ok()?;
            Some(Value::String(parsed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        }
    }
}

#[cfg(test)]
mod tests;
