//! Translates the engine's flat filter into SQL over the `attr_values` index table.
//!
//! Every scalar leaf of a stored resource is indexed as (path, value), so a comparison on any path — single-
//! or multi-valued, core or extension — is an index lookup with no schema knowledge in the host. What cannot
//! be translated exactly is left out; the search then returns candidates and the engine finishes the job.

use crate::bindings::{CompareOp, Comparison, FilterNode, Literal};
use rusqlite::types::Value as SqlValue;

/// A translated filter: a SQL condition on `r` (the resources table) and its parameters.
#[derive(Debug, Default)]
pub struct Translated {
    pub sql: String,
    pub params: Vec<SqlValue>,
    /// True: the condition is the filter. False: it holds for every match and possibly more (candidates).
    pub exact: bool,
    /// True: the condition names its rows by id (`r.id IN (…)` reached through an index), so looking them up
    /// beats walking every resource of the type; false for negations, `id pr` and the like.
    pub keyed: bool,
}

/// Translates node `index`. None: nothing useful is expressible here.
pub fn translate(nodes: &[FilterNode], index: u32) -> Option<Translated> {
    let mut params = Vec::new();
    let (sql, exact, keyed) = node(nodes, index, &mut params, None, 0)?;
    Some(Translated { sql, params, exact, keyed })
}

const MAX_DEPTH: usize = 64;

/// `element` is the multi-valued attribute whose element a sub-filter is about (`emails` in
/// `emails[type eq "work"]`); its paths are relative to it.
/// Returns the SQL, whether it is exact, and whether it is keyed (see [`Translated`]).
fn node(nodes: &[FilterNode], index: u32, params: &mut Vec<SqlValue>, element: Option<&str>, depth: usize) -> Option<(String, bool, bool)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let full = |p: &str| match element {
        Some(e) => format!("{e}.{p}"),
        None => p.to_string(),
    };
    match nodes.get(index as usize)? {
        FilterNode::AllOf(children) => all_of(nodes, children, params, element, depth),
        FilterNode::AnyOf(children) => any_of(nodes, children, params, element, depth),
        // A negated candidate set is not a candidate set; inside an element, "no element matches" is not
        // "some element does not match".
        FilterNode::Negate(child) if element.is_none() => match node(nodes, *child, params, None, depth + 1)? {
            (sql, true, _) => Some((format!("NOT ({sql})"), true, false)),
            _ => None,
        },
        FilterNode::Negate(_) => None,
        FilterNode::Present(path) => present(&full(path), params).map(|s| {
            let keyed = s != "1";
            (s, true, keyed)
        }),
        FilterNode::Compare(c) => {
            let c = Comparison { path: full(&c.path), ..c.clone() };
            compare(&c, params).map(|s| (s, true, true))
        }
        // Each condition on its own holds for some element; whether one element holds them all is left to
        // the engine, unless there is only one condition.
        FilterNode::ElementMatch((path, child)) if element.is_none() => {
            let (sql, exact, keyed) = node(nodes, *child, params, Some(path), depth + 1)?;
            let single = matches!(nodes.get(*child as usize), Some(FilterNode::Compare(_) | FilterNode::Present(_)));
            Some((sql, exact && single, keyed))
        }
        FilterNode::ElementMatch(_) => None,
    }
}

/// `a and b`: the parts that translate narrow the candidates even when others do not.
fn all_of(nodes: &[FilterNode], children: &[u32], params: &mut Vec<SqlValue>, element: Option<&str>, depth: usize) -> Option<(String, bool, bool)> {
    let mut parts = Vec::new();
    let mut exact = true;
    // One keyed part is enough: its rows are looked up, the other parts checked on them.
    let mut keyed = false;
    for c in children {
        let mark = params.len();
        match node(nodes, *c, params, element, depth + 1) {
            Some((sql, e, k)) => {
                parts.push(format!("({sql})"));
                exact &= e;
                keyed |= k;
            }
            None => {
                params.truncate(mark);
                exact = false;
            }
        }
    }
    (!parts.is_empty()).then(|| (parts.join(" AND "), exact, keyed))
}

/// `a or b`: candidates only when every part gives some.
fn any_of(nodes: &[FilterNode], children: &[u32], params: &mut Vec<SqlValue>, element: Option<&str>, depth: usize) -> Option<(String, bool, bool)> {
    if children.is_empty() {
        return None;
    }
    if let Some(sql) = equalities_on_one_path(nodes, children, params, element) {
        return Some((sql, true, true));
    }
    let mut parts = Vec::new();
    let mut exact = true;
    // Every part must be keyed: one unkeyed alternative means walking all rows anyway.
    let mut keyed = true;
    for c in children {
        let (sql, e, k) = node(nodes, *c, params, element, depth + 1)?;
        parts.push(format!("({sql})"));
        exact &= e;
        keyed &= k;
    }
    Some((parts.join(" OR "), exact, keyed))
}

/// `p eq "a" or p eq "b" or …` on one path: one `IN` list, which SQLite answers with an index probe per value.
/// As an `OR` of subqueries it pays an ephemeral table and a row set per term: 420 µs against 19 µs for the
/// 50 `members.value` terms with which the engine finds the groups of a page of users.
fn equalities_on_one_path(nodes: &[FilterNode], children: &[u32], params: &mut Vec<SqlValue>, element: Option<&str>) -> Option<String> {
    let mut first: Option<&Comparison> = None;
    let mut values = Vec::with_capacity(children.len());
    for child in children {
        let FilterNode::Compare(c) = nodes.get(*child as usize)? else { return None };
        let Literal::Text(value) = &c.value else { return None };
        if !matches!(c.op, CompareOp::Eq) || (!c.case_exact && !value.is_ascii()) {
            return None;
        }
        match first {
            None => first = Some(c),
            Some(f) if f.path == c.path && f.case_exact == c.case_exact => {}
            Some(_) => return None,
        }
        values.push(value.clone());
    }
    let first = first.filter(|_| values.len() > 1)?;
    let path = match element {
        Some(e) => format!("{e}.{}", first.path),
        None => first.path.clone(),
    };
    let collate = if first.case_exact { "" } else { " COLLATE NOCASE" };
    let list = |params: &mut Vec<SqlValue>| {
        let marks: Vec<String> = values.iter().map(|v| bind(params, SqlValue::Text(v.clone()), |p| format!("?{p}"))).collect();
        marks.join(", ")
    };
    if path == "id" {
        return Some(format!("r.id IN ({})", list(params)));
    }
    if outside_body(&path) {
        return None;
    }
    match member_column(&path) {
        Some(col) => Some(format!("r.id IN (SELECT m.group_id FROM members m WHERE {col}{collate} IN ({}))", list(params))),
        None if path.starts_with("members.") => None,
        None => {
            let p = bind(params, SqlValue::Text(path), |p| format!("?{p}"));
            Some(format!("r.id IN (SELECT a.id FROM attr_values a WHERE a.path = {p} AND a.value{collate} IN ({}))", list(params)))
        }
    }
}

/// Members live in their own table, not in the resource body.
fn member_column(path: &str) -> Option<&'static str> {
    match path {
        "members.value" => Some("m.member_id"),
        "members.type" => Some("m.kind"),
        "members.display" => Some("m.display"),
        _ => None,
    }
}

/// Attributes the engine keeps outside the stored body: `id` is the row's key; most of `meta` is computed.
fn outside_body(path: &str) -> bool {
    path == "id" || (path.starts_with("meta.") && !matches!(path, "meta.created" | "meta.lastModified"))
}

fn present(path: &str, params: &mut Vec<SqlValue>) -> Option<String> {
    if path == "id" {
        return Some("1".into());
    }
    if outside_body(path) {
        return None;
    }
    if path == "members" || member_column(path).is_some() {
        return Some("r.id IN (SELECT m.group_id FROM members m)".into());
    }
    if path.starts_with("members.") {
        return None;
    }
    params.push(SqlValue::Text(path.to_string()));
    let p = params.len();
    params.push(SqlValue::Text(format!("{path}.%")));
    let q = params.len();
    Some(format!(
        "r.id IN (SELECT a.id FROM attr_values a WHERE (a.path = ?{p} OR a.path LIKE ?{q}) AND a.value IS NOT NULL AND a.value <> '')"
    ))
}

fn compare(c: &Comparison, params: &mut Vec<SqlValue>) -> Option<String> {
    let value = match &c.value {
        Literal::Text(s) => SqlValue::Text(s.clone()),
        Literal::Integer(i) => SqlValue::Integer(*i),
        Literal::Decimal(d) => SqlValue::Real(*d),
        Literal::Boolean(b) if matches!(c.op, CompareOp::Eq) => SqlValue::Integer(*b as i64),
        // Instants written with different offsets or precision do not compare as text; null has its own
        // semantics. The engine handles these.
        _ => return None,
    };
    let text = matches!(value, SqlValue::Text(_));
    if c.path == "id" && text && matches!(c.op, CompareOp::Eq) {
        return Some(bind(params, value, |p| format!("r.id = ?{p}")));
    }
    if outside_body(&c.path) {
        return None;
    }
    // SQLite folds only ASCII case; the engine folds all of Unicode.
    if matches!(&value, SqlValue::Text(s) if !c.case_exact && !s.is_ascii()) {
        return None;
    }
    let collate = if text && !c.case_exact { " COLLATE NOCASE" } else { "" };
    let (column, scope) = match member_column(&c.path) {
        Some(col) => (col, "m.group_id FROM members m WHERE 1"),
        None if c.path.starts_with("members.") => return None,
        None => ("a.value", "a.id FROM attr_values a WHERE a.path = ?"),
    };
    let mut scope = scope.to_string();
    if column == "a.value" {
        params.push(SqlValue::Text(c.path.clone()));
        scope.push_str(&params.len().to_string());
    }
    let cond = match c.op {
        CompareOp::Eq => bind(params, value, |p| format!("{column} = ?{p}{collate}")),
        CompareOp::Gt => bind(params, value, |p| format!("{column} > ?{p}{collate}")),
        CompareOp::Ge => bind(params, value, |p| format!("{column} >= ?{p}{collate}")),
        CompareOp::Lt => bind(params, value, |p| format!("{column} < ?{p}{collate}")),
        CompareOp::Le => bind(params, value, |p| format!("{column} <= ?{p}{collate}")),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew if text => {
            let SqlValue::Text(s) = value else { unreachable!("checked text") };
            let pattern = match c.op {
                CompareOp::Co => format!("%{}%", escape_like(&s)),
                CompareOp::Sw => format!("{}%", escape_like(&s)),
                _ => format!("%{}", escape_like(&s)),
            };
            // LIKE ignores ASCII case; a case-exact comparison is left to the engine.
            if c.case_exact {
                return None;
            }
            bind(params, SqlValue::Text(pattern), |p| format!("{column} LIKE ?{p} ESCAPE '\\'"))
        }
        _ => return None,
    };
    // An uncorrelated IN lets SQLite answer from the index once, instead of probing per resource.
    Some(format!("r.id IN (SELECT {scope} AND {cond})"))
}

fn bind(params: &mut Vec<SqlValue>, v: SqlValue, f: impl FnOnce(usize) -> String) -> String {
    params.push(v);
    f(params.len())
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Scalar leaves of a stored body as (path, value): `userName`, `emails.value` (once per element),
/// `name.givenName`, `urn:…:User:employeeNumber`. Booleans become 1/0, as SQLite compares them.
pub fn leaves(data: &serde_json::Value) -> Vec<(String, SqlValue)> {
    let mut out = Vec::new();
    if let serde_json::Value::Object(obj) = data {
        for (k, v) in obj {
            walk(k, v, &mut out, 0);
        }
    }
    out
}

fn walk(path: &str, v: &serde_json::Value, out: &mut Vec<(String, SqlValue)>, depth: usize) {
    use serde_json::Value as J;
    if depth > 8 {
        return;
    }
    match v {
        J::Null => {}
        J::Bool(b) => out.push((path.to_string(), SqlValue::Integer(*b as i64))),
        J::Number(n) => out.push((
            path.to_string(),
            n.as_i64().map(SqlValue::Integer).unwrap_or_else(|| SqlValue::Real(n.as_f64().unwrap_or(0.0))),
        )),
        J::String(s) => out.push((path.to_string(), SqlValue::Text(s.clone()))),
        J::Array(items) => items.iter().for_each(|i| walk(path, i, out, depth + 1)),
        J::Object(obj) => {
            // An extension's attributes are addressed `urn:…:User:attr`, core sub-attributes `name.attr`.
            let sep = if path.starts_with("urn:") && depth == 0 { ':' } else { '.' };
            for (k, v) in obj {
                walk(&format!("{path}{sep}{k}"), v, out, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_cover_multi_valued_and_extensions() {
        let data = json!({"userName":"b","active":true,"emails":[{"value":"a@x"},{"value":"b@x"}],
            "urn:ext:User":{"employeeNumber":"7","manager":{"value":"9"}}});
        let paths: Vec<String> = leaves(&data).into_iter().map(|(p, _)| p).collect();
        assert!(paths.contains(&"emails.value".to_string()));
        assert_eq!(paths.iter().filter(|p| *p == "emails.value").count(), 2);
        assert!(paths.contains(&"urn:ext:User:employeeNumber".to_string()));
        assert!(paths.contains(&"urn:ext:User:manager.value".to_string()));
    }

    #[test]
    fn id_is_the_row_key_and_computed_meta_is_left_to_the_engine() {
        let cmp = |p: &str| FilterNode::Compare(Comparison { path: p.into(), op: CompareOp::Eq, value: Literal::Text("x".into()), case_exact: true });
        assert_eq!(translate(&[cmp("id")], 0).unwrap().sql, "r.id = ?1");
        let partial = translate(&[cmp("meta.location"), cmp("id"), FilterNode::AllOf(vec![0, 1])], 2).unwrap();
        assert_eq!((partial.sql.as_str(), partial.exact, partial.params.len()), ("(r.id = ?1)", false, 1));
        assert_eq!(translate(&[FilterNode::Present("id".into())], 0).unwrap().sql, "1");
        assert!(translate(&[cmp("meta.location")], 0).is_none());
    }

    #[test]
    fn element_match_gives_candidates() {
        let nodes = vec![
            FilterNode::Present("type".into()),
            FilterNode::ElementMatch(("emails".into(), 0)),
        ];
        let t = translate(&nodes, 1).unwrap();
        assert!(t.exact, "one condition on an element is exact");
        let cmp = |p: &str| FilterNode::Compare(Comparison { path: p.into(), op: CompareOp::Eq, value: Literal::Text("x".into()), case_exact: false });
        let nodes = vec![cmp("type"), cmp("value"), FilterNode::AllOf(vec![0, 1]), FilterNode::ElementMatch(("emails".into(), 2))];
        let t = translate(&nodes, 3).unwrap();
        assert!(!t.exact && t.params.len() == 4 && t.params[0] == SqlValue::Text("emails.type".into()), "{t:?}");
    }

    #[test]
    fn equalities_on_one_path_become_one_in_list() {
        let eq = |p: &str, v: &str, exact: bool| {
            FilterNode::Compare(Comparison { path: p.into(), op: CompareOp::Eq, value: Literal::Text(v.into()), case_exact: exact })
        };
        let members = translate(&[eq("members.value", "a", true), eq("members.value", "b", true), FilterNode::AnyOf(vec![0, 1])], 2).unwrap();
        assert_eq!(members.sql, "r.id IN (SELECT m.group_id FROM members m WHERE m.member_id IN (?1, ?2))");
        assert!(members.exact && members.keyed);
        let names = translate(&[eq("userName", "a", false), eq("userName", "b", false), FilterNode::AnyOf(vec![0, 1])], 2).unwrap();
        assert_eq!(names.sql, "r.id IN (SELECT a.id FROM attr_values a WHERE a.path = ?1 AND a.value COLLATE NOCASE IN (?2, ?3))");
        assert_eq!(names.params[0], SqlValue::Text("userName".into()));
        // Different paths or case rules keep one condition per part.
        let mixed = translate(&[eq("userName", "a", false), eq("userName", "b", true), FilterNode::AnyOf(vec![0, 1])], 2).unwrap();
        assert!(mixed.sql.contains(" OR "), "{}", mixed.sql);
        let ids = translate(&[eq("id", "a", true), eq("id", "b", true), FilterNode::AnyOf(vec![0, 1])], 2).unwrap();
        assert_eq!(ids.sql, "r.id IN (?1, ?2)");
    }

    #[test]
    fn and_or_not_translate() {
        let cmp = |p: &str| FilterNode::Compare(Comparison { path: p.into(), op: CompareOp::Eq, value: Literal::Text("x".into()), case_exact: false });
        let nodes = vec![cmp("userName"), cmp("emails.value"), FilterNode::Negate(1), FilterNode::AnyOf(vec![0, 2])];
        let t = translate(&nodes, 3).unwrap();
        assert!(t.sql.contains(" OR ") && t.sql.contains("NOT ("), "{}", t.sql);
        assert_eq!(t.params.len(), 4);
        assert!(!t.keyed, "an alternative that is a negation walks every row");
        let nodes = vec![cmp("userName"), cmp("emails.value"), FilterNode::Negate(1), FilterNode::AllOf(vec![0, 2])];
        assert!(translate(&nodes, 3).unwrap().keyed, "one keyed part of an and is enough");
        assert!(!translate(&[FilterNode::Present("id".into())], 0).unwrap().keyed);
    }
}
