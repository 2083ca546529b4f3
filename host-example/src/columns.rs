//! CSV columns named by SCIM attribute paths, typed by the schema the engine publishes: `userName`,
//! `name.givenName`, `emails[type eq "work"].value`, `urn:…:enterprise:2.0:User:employeeNumber`. A cell becomes
//! a typed JSON value at that place in a resource, and back. `id` and `externalId` are columns too.

use scimkit_guest::filter::CompValue;
use scimkit_guest::names::member_of;
use scimkit_guest::path::parse_path;
use serde_json::{Map, Value};

/// One column: where its value goes in a resource and what type it has.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The header as written.
    pub header: String,
    /// The extension schema holding the attribute; none for the core schema.
    pub urn: Option<String>,
    pub attr: String,
    /// `[sub eq "value"]`: the element of a multi-valued attribute.
    pub select: Option<(String, String)>,
    pub sub: Option<String>,
    /// The leaf's SCIM type (`string`, `boolean`, `integer`, `decimal`, `dateTime`, `reference`, `binary`).
    pub kind: String,
    /// The attribute is multi-valued: its values are objects in a list.
    pub multi: bool,
}

/// The schemas of one resource type, as `/Schemas` answers them: the core schema first, then extensions.
pub struct Schemas {
    pub core: Value,
    pub extensions: Vec<Value>,
}

fn find<'a>(attrs: &'a Value, name: &str) -> Option<&'a Value> {
    attrs.as_array()?.iter().find(|a| a["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// A path's parts: schema URN, attribute, `[sub eq "value"]`, sub-attribute.
type Parts = (Option<String>, String, Option<(String, String)>, Option<String>);

/// Splits `urn:…:attr.sub`, `attr[sub eq "v"].sub` into its parts, read by the engine's path parser.
fn split(header: &str) -> Result<Parts, String> {
    let path = parse_path(header).map_err(|e| format!("{header:?}: {e}"))?;
    let select = match (&path.filter, path.selector()) {
        (None, _) => None,
        (Some(_), Some((sub, CompValue::Str(value)))) => Some((sub.to_string(), value.clone())),
        (Some(_), Some(_)) => return Err(format!("{header:?}: the value in [ ] must be a quoted string")),
        (Some(_), None) => return Err(format!("{header:?}: only eq selects an element, as in [type eq \"work\"]")),
    };
    let sub = path.sub_attr().map(str::to_string);
    Ok((path.attr.urn, path.attr.name, select, sub))
}

impl Column {
    /// A header checked against the schemas. `id` is a column of its own: the row's id in the file.
    pub fn parse(header: &str, schemas: &Schemas) -> Result<Column, String> {
        let (urn, attr, select, sub) = split(header)?;
        let schema = match &urn {
            None => &schemas.core,
            Some(u) => {
                let all = std::iter::once(&schemas.core).chain(&schemas.extensions);
                all.into_iter()
                    .find(|s| s["id"].as_str().is_some_and(|id| id.eq_ignore_ascii_case(u)))
                    .ok_or_else(|| format!("{header:?}: unknown schema {u}"))?
            }
        };
        // `id` and `externalId` are common to every resource type (RFC 7643 §3.1), outside the schemas.
        let common =
            ["id", "externalId"].into_iter().find(|c| urn.is_none() && sub.is_none() && c.eq_ignore_ascii_case(&attr));
        let def = if let Some(name) = common {
            serde_json::json!({"name": name, "type": "string", "multiValued": false})
        } else {
            find(&schema["attributes"], &attr).cloned().ok_or_else(|| {
                format!("{header:?}: no attribute {attr} in {}", schema["id"].as_str().unwrap_or("the schema"))
            })?
        };
        let multi = def["multiValued"].as_bool().unwrap_or(false);
        let leaf = match &sub {
            Some(s) => {
                find(&def["subAttributes"], s).ok_or_else(|| format!("{header:?}: {attr} has no sub-attribute {s}"))?
            }
            None => &def,
        };
        let kind = leaf["type"].as_str().unwrap_or("string").to_string();
        if kind == "complex" {
            return Err(format!("{header:?} is complex: name one of its sub-attributes ({attr}.…)"));
        }
        if select.is_some() && !(multi && sub.is_some()) {
            return Err(format!(
                "{header:?}: [ ] selects an element of a multi-valued complex attribute, then a sub-attribute"
            ));
        }
        if multi && sub.is_none() {
            return Err(format!("{header:?}: {attr} is multi-valued; one column holds one value"));
        }
        let canon = |def: &Value, given: &str| def["name"].as_str().unwrap_or(given).to_string();
        Ok(Column {
            header: header.to_string(),
            urn: urn.map(|u| schema["id"].as_str().map(str::to_string).unwrap_or(u)),
            attr: canon(&def, &attr),
            select,
            sub: sub.map(|s| canon(leaf, &s)),
            kind,
            multi,
        })
    }

    /// The cell's text as the JSON value of this column's type.
    pub fn typed(&self, cell: &str) -> Result<Value, String> {
        let bad = |what: &str| format!("{}: {cell:?} is not {what}", self.header);
        Ok(match self.kind.as_str() {
            "boolean" => match cell.trim().to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(bad("true or false")),
            },
            "integer" => Value::from(cell.trim().parse::<i64>().map_err(|_| bad("an integer"))?),
            "decimal" => serde_json::Number::from_f64(cell.trim().parse::<f64>().map_err(|_| bad("a number"))?)
                .map(Value::Number)
                .ok_or_else(|| bad("a finite number"))?,
            _ => Value::String(cell.to_string()),
        })
    }

    /// Puts `value` at this column's place in `resource`, creating what leads to it.
    pub fn set(&self, resource: &mut Map<String, Value>, value: Value) {
        let container = match &self.urn {
            Some(u) => object(resource.entry(u.clone()).or_insert_with(|| Value::Object(Map::new()))),
            None => resource,
        };
        let Some(sub) = &self.sub else {
            container.insert(self.attr.clone(), value);
            return;
        };
        let slot = container.entry(self.attr.clone()).or_insert_with(|| {
            if self.multi {
                Value::Array(vec![])
            } else {
                Value::Object(Map::new())
            }
        });
        let target = match (slot, &self.select) {
            (Value::Array(items), select) => {
                let at = items.iter().position(|e| matches(e, select.as_ref()));
                let at = at.unwrap_or_else(|| {
                    let mut e = Map::new();
                    if let Some((k, v)) = select {
                        e.insert(k.clone(), Value::String(v.clone()));
                    }
                    items.push(Value::Object(e));
                    items.len() - 1
                });
                object(&mut items[at])
            }
            (other, _) => object(other),
        };
        target.insert(sub.clone(), value);
    }

    /// The value at this column's place in `resource`, as a cell's text; empty when absent.
    pub fn get(&self, resource: &Value) -> String {
        let container = match &self.urn {
            Some(u) => resource.get(u),
            None => Some(resource),
        };
        let attr = container.and_then(|c| member_of(c, &self.attr));
        let leaf = match (&self.sub, attr) {
            (None, a) => a,
            (Some(sub), Some(Value::Array(items))) => {
                items.iter().find(|e| matches(e, self.select.as_ref())).and_then(|e| member_of(e, sub))
            }
            (Some(sub), Some(a)) => member_of(a, sub),
            (_, None) => None,
        };
        match leaf {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }
    }
}

/// The element a selection names: `[type eq "work"]` (values compared without regard to case), or the
/// first element when there is no selection.
fn matches(e: &Value, select: Option<&(String, String)>) -> bool {
    match select {
        None => true,
        Some((k, v)) => member_of(e, k).and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case(v)),
    }
}

fn object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("made an object above")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> Schemas {
        Schemas {
            core: json!({"id": "urn:ietf:params:scim:schemas:core:2.0:User", "attributes": [
                {"name": "userName", "type": "string", "multiValued": false},
                {"name": "active", "type": "boolean", "multiValued": false},
                {"name": "name", "type": "complex", "multiValued": false, "subAttributes": [{"name": "givenName", "type": "string"}]},
                {"name": "emails", "type": "complex", "multiValued": true, "subAttributes": [
                    {"name": "value", "type": "string"}, {"name": "type", "type": "string"}, {"name": "primary", "type": "boolean"}]},
            ]}),
            extensions: vec![
                json!({"id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "attributes": [
                    {"name": "employeeNumber", "type": "string", "multiValued": false},
                    {"name": "manager", "type": "complex", "multiValued": false, "subAttributes": [{"name": "value", "type": "string"}]},
                ]}),
            ],
        }
    }

    fn column(h: &str) -> Column {
        Column::parse(h, &schemas()).unwrap_or_else(|e| panic!("{h}: {e}"))
    }

    #[test]
    fn cells_build_a_typed_resource_and_read_back() {
        let headers = [
            "userName",
            "Active",
            "name.givenName",
            "emails[type eq \"work\"].value",
            "emails[type eq \"work\"].primary",
            "emails[type eq \"home\"].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ];
        let cells = ["bjensen", "TRUE", "Barbara", "b@work", "true", "b@home", "42", "m1"];
        let cols: Vec<Column> = headers.iter().map(|h| column(h)).collect();
        let mut r = Map::new();
        for (c, cell) in cols.iter().zip(cells) {
            let v = c.typed(cell).unwrap();
            c.set(&mut r, v);
        }
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert_eq!(
            Value::Object(r.clone()),
            json!({"userName": "bjensen", "active": true, "name": {"givenName": "Barbara"},
                   "emails": [{"type": "work", "value": "b@work", "primary": true}, {"type": "home", "value": "b@home"}],
                   ext: {"employeeNumber": "42", "manager": {"value": "m1"}}})
        );
        let back: Vec<String> = cols.iter().map(|c| c.get(&Value::Object(r.clone()))).collect();
        assert_eq!(back, ["bjensen", "true", "Barbara", "b@work", "true", "b@home", "42", "m1"]);
    }

    #[test]
    fn bad_headers_and_cells_are_named() {
        for (h, says) in [
            ("nickName", "no attribute nickName"),
            ("name", "is complex"),
            ("name.middle", "no sub-attribute"),
            ("emails[type eq work].value", "expected a value"),
            ("emails[type eq 1].value", "quoted string"),
            ("emails[type co \"w\"].value", "only eq"),
            ("urn:x:y:Foo:bar", "unknown schema"),
            ("a.b.c", "at most one sub-attribute"),
        ] {
            let e = Column::parse(h, &schemas()).unwrap_err();
            assert!(e.contains(says), "{h}: {e}");
        }
        assert!(column("active").typed("yes").unwrap_err().contains("true or false"));
        // Without [ ], a multi-valued attribute's column is its first value.
        let mut r = Map::new();
        column("emails.value").set(&mut r, json!("a@x"));
        column("emails.value").set(&mut r, json!("b@x"));
        assert_eq!(Value::Object(r), json!({"emails": [{"value": "b@x"}]}));
        assert_eq!(column("id").typed("x1").unwrap(), json!("x1"));
        assert_eq!(column("externalid").attr, "externalId");
    }
}
