//! The rows of an import file, each a SCIM resource body with the line it came from: JSON lines (one resource
//! per line, as `scimkit export` writes them), CSV (a header row of attribute paths, see `columns`), or LDIF
//! through a mapping (each entry a User, plus the Groups the mapping derives, holding it).

use crate::columns::{Column, Schemas};
use crate::formula;
use scimkit_runtime::provisioning::Mapper;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "/Users",
            Kind::Group => "/Groups",
        }
    }

    pub fn schema(self) -> &'static str {
        match self {
            Kind::User => USER_SCHEMA,
            Kind::Group => GROUP_SCHEMA,
        }
    }
}

/// One resource to import.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line in the file (for LDIF, the entry's `dn:` line).
    pub line: usize,
    pub kind: Kind,
    pub body: Map<String, Value>,
}

/// A row refused before it reached the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub line: usize,
    pub reason: String,
}

/// What a file holds: rows in file order, and the lines that are not resources.
#[derive(Debug, Default)]
pub struct Rows {
    pub rows: Vec<Row>,
    pub refused: Vec<Refused>,
}

/// The resource type a body declares in `schemas`.
fn kind_of(body: &Map<String, Value>) -> Result<Kind, String> {
    let schemas = body.get("schemas").and_then(Value::as_array).ok_or("no schemas: cannot tell a User from a Group")?;
    let has = |urn: &str| schemas.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
    match (has(USER_SCHEMA), has(GROUP_SCHEMA)) {
        (true, false) => Ok(Kind::User),
        (false, true) => Ok(Kind::Group),
        _ => Err(format!("schemas must name exactly one of {USER_SCHEMA} and {GROUP_SCHEMA}")),
    }
}

pub fn json_lines(text: &str) -> Rows {
    let mut out = Rows::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(body)) => kind_of(&body).map(|kind| Row { line: line_no, kind, body }),
            Ok(_) => Err("expected a JSON object".to_string()),
            Err(e) => Err(format!("not JSON: {e}")),
        };
        match parsed {
            Ok(row) => out.rows.push(row),
            Err(reason) => out.refused.push(Refused { line: line_no, reason }),
        }
    }
    out
}

/// CSV with a header row; every row is of `kind`. A bad header refuses the whole file.
pub fn csv(text: &str, kind: Kind, schemas: &Schemas) -> Result<Rows, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("line 1: {e}"))?.clone();
    let columns: Vec<Column> = headers
        .iter()
        .map(|h| Column::parse(h, schemas))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("line 1: {e}"))?;
    let mut out = Rows::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                out.refused.push(Refused { line, reason: format!("{e}") });
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let mut body = Map::new();
        let mut urns = vec![Value::String(kind.schema().to_string())];
        let mut failed = None;
        for (column, cell) in columns.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            match column.typed(formula::unguard(cell)) {
                Ok(v) => column.set(&mut body, v),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            if let Some(u) = column.urn.as_ref().filter(|u| !urns.iter().any(|x| x == *u)) {
                urns.push(Value::String(u.clone()));
            }
        }
        match failed {
            Some(reason) => out.refused.push(Refused { line, reason }),
            None => {
                body.insert("schemas".into(), Value::Array(urns));
                out.rows.push(Row { line, kind, body });
            }
        }
    }
    Ok(out)
}

/// LDIF entries mapped to Users by `mapper`; the Groups the mapping derives become rows holding their users
/// (by the users' ids in the file, which are their lines), after every User.
pub fn ldif(text: &str, mapper: &mut Mapper) -> Result<Rows, String> {
    let entries = scimkit_runtime::ldif::parse(text)?;
    let mut out = Rows::default();
    let mut groups: Vec<(String, Vec<Value>, usize)> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for e in entries {
        let mapped = mapper.to_resources(&e.attrs).map_err(|e| format!("{e:#}"))?;
        let texts = match mapped {
            Ok(t) => t,
            Err(reason) => {
                out.refused.push(Refused { line: e.line, reason });
                continue;
            }
        };
        let mut resources =
            texts.iter().map(|t| serde_json::from_str::<Map<String, Value>>(t).map_err(|e| e.to_string()));
        let mut user = match resources.next() {
            Some(Ok(u)) => u,
            _ => {
                out.refused.push(Refused { line: e.line, reason: "the mapping gave no User".into() });
                continue;
            }
        };
        let file_id = format!("ldif-line-{}", e.line);
        user.insert("id".into(), Value::String(file_id.clone()));
        for group in resources.flatten() {
            let Some(name) = group.get("displayName").and_then(Value::as_str) else { continue };
            let at = *by_name.entry(name.to_string()).or_insert_with(|| {
                groups.push((name.to_string(), Vec::new(), e.line));
                groups.len() - 1
            });
            groups[at].1.push(serde_json::json!({"value": file_id, "type": "User"}));
        }
        out.rows.push(Row { line: e.line, kind: Kind::User, body: user });
    }
    for (name, members, line) in groups {
        let body = serde_json::json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": members});
        let Value::Object(body) = body else { unreachable!("a JSON object literal") };
        out.rows.push(Row { line, kind: Kind::Group, body });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_lines_keep_their_line_and_refuse_what_is_not_a_resource() {
        let text = format!(
            "{}\n\n{}\nnot json\n[1]\n{}\n",
            json!({"schemas": [USER_SCHEMA], "userName": "a"}),
            json!({"schemas": [GROUP_SCHEMA], "displayName": "g"}),
            json!({"userName": "b"})
        );
        let rows = json_lines(&text);
        assert_eq!(rows.rows.iter().map(|r| (r.line, r.kind)).collect::<Vec<_>>(), [(1, Kind::User), (3, Kind::Group)]);
        let refused: Vec<(usize, bool)> = rows.refused.iter().map(|r| (r.line, !r.reason.is_empty())).collect();
        assert_eq!(refused, [(4, true), (5, true), (6, true)]);
        assert!(rows.refused[2].reason.contains("schemas"));
    }

    fn schemas() -> Schemas {
        Schemas {
            core: json!({"id": USER_SCHEMA, "attributes": [
                {"name": "userName", "type": "string"}, {"name": "active", "type": "boolean"},
                {"name": "emails", "type": "complex", "multiValued": true, "subAttributes": [{"name": "value", "type": "string"}, {"name": "type", "type": "string"}]}]}),
            extensions: vec![json!({"id": "urn:x:ext", "attributes": [{"name": "code", "type": "integer"}]})],
        }
    }

    #[test]
    fn csv_rows_are_typed_and_bad_cells_refuse_their_row_only() {
        let text = "userName,active,emails[type eq \"work\"].value,urn:x:ext:code\n\
                    a,true,a@x.org,7\n\
                    b,maybe,,\n\
                    \"c, quoted\",,,\n";
        let rows = csv(text, Kind::User, &schemas()).unwrap();
        assert_eq!(rows.rows.len(), 2);
        assert_eq!(
            Value::Object(rows.rows[0].body.clone()),
            json!({"schemas": [USER_SCHEMA, "urn:x:ext"], "userName": "a", "active": true, "emails": [{"type": "work", "value": "a@x.org"}], "urn:x:ext": {"code": 7}})
        );
        assert_eq!((rows.rows[0].line, rows.rows[1].line), (2, 4));
        assert_eq!(rows.rows[1].body["userName"], "c, quoted");
        assert_eq!(rows.refused.len(), 1);
        assert_eq!(rows.refused[0].line, 3);
        assert!(rows.refused[0].reason.contains("true or false"), "{:?}", rows.refused);
        assert!(csv("userName,nope\n", Kind::User, &schemas()).unwrap_err().starts_with("line 1:"));
        let ragged = csv("userName,active\na\n", Kind::User, &schemas()).unwrap();
        assert_eq!(ragged.refused[0].line, 2);
    }
}
