//! Translates the engine's flat filter into SQL over the `attr_values` index table, for each SQL backend.
//!
//! Every scalar leaf of a stored resource is indexed as (path, value), so a comparison on any path — single-
//! or multi-valued, core or extension — is an index lookup with no schema knowledge in the host. What cannot
//! be translated exactly is left out; the search then returns candidates and the engine finishes the job.
//! The structure of the translation is shared; what the dialects spell differently is a [`Dialect`].

use scimkit_runtime::bindings::{Applied, CompareOp, Comparison, FilterNode, Literal};

/// A value bound to a placeholder, converted by each backend to its own parameter type.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Integer(i64),
    Real(f64),
}

/// Where a compared value lives: an indexed leaf (`a`, a row of `attr_values`) or a column of `members` (`m`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Column {
    Leaf,
    Member(&'static str),
}

/// What SQLite and PostgreSQL write differently. Text compares without regard to ASCII case unless
/// `case_exact`, and otherwise byte by byte, as the engine orders it.
pub trait Dialect {
    /// The placeholder of parameter `n`, counted from 1 over the whole statement.
    fn placeholder(&self, n: usize) -> String;
    /// `column op value`, where `value` is a placeholder holding text (`text`) or a number.
    fn compare(&self, column: Column, op: &str, value: &str, text: bool, case_exact: bool) -> String;
    /// `column` equal to one of the text placeholders `values`: an `or` of `compare(column, "=", v, true,
    /// case_exact)` written as one `IN` list.
    fn in_list(&self, column: Column, values: &[String], case_exact: bool) -> String;
    /// `column LIKE pattern ESCAPE '\'`, without regard to ASCII case.
    fn like(&self, column: Column, pattern: &str) -> String;
    /// The leaf `a` holds a value: a number, or text that is not empty.
    fn has_value(&self) -> &'static str;
}

/// A condition that always holds, in both dialects.
pub const TRUE: &str = "1 = 1";

/// What a query will apply, decided before the total is counted (see the WIT `applied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    Everything,
    FilterOnly,
    Nothing,
}

impl Applies {
    /// The contract's `applied` for a query that does not page in SQL.
    pub fn without_total(self) -> Applied {
        match self {
            Applies::FilterOnly => Applied::FilterOnly,
            Applies::Everything | Applies::Nothing => Applied::Nothing,
        }
    }
}

/// A translated filter: a SQL condition on `r` (the resources table) and its parameters.
#[derive(Debug, Default)]
pub struct Translated {
    pub sql: String,
    pub params: Vec<Param>,
    /// True: the condition is the filter. False: it holds for every match and possibly more (candidates).
    pub exact: bool,
    /// True: the condition names its rows by id (`r.id IN (…)` reached through an index), so looking them up
    /// beats walking every resource of the type; false for negations, `id pr` and the like.
    pub keyed: bool,
}

/// Translates node `index`; its placeholders are numbered after the `bound` parameters the statement
/// already has. None: nothing useful is expressible here.
pub fn translate(dialect: &dyn Dialect, nodes: &[FilterNode], index: u32, bound: usize) -> Option<Translated> {
    let mut b = Binder { dialect, bound, params: Vec::new() };
    let (sql, exact, keyed) = node(nodes, index, &mut b, None, 0)?;
    Some(Translated { sql, params: b.params, exact, keyed })
}

/// Sorting is pushed down for top-level attributes, whose names are then safe to write into the SQL; a
/// sub-attribute may be multi-valued, which only the engine knows how to order.
pub fn sortable(path: &str) -> bool {
    !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The parameters of the condition being written, and the dialect's placeholders for them.
struct Binder<'a> {
    dialect: &'a dyn Dialect,
    bound: usize,
    params: Vec<Param>,
}

impl Binder<'_> {
    fn bind(&mut self, v: Param) -> String {
        self.params.push(v);
        self.dialect.placeholder(self.bound + self.params.len())
    }
}

const MAX_DEPTH: usize = 64;

/// `element` is the multi-valued attribute whose element a sub-filter is about (`emails` in
/// `emails[type eq "work"]`); its paths are relative to it.
/// Returns the SQL, whether it is exact, and whether it is keyed (see [`Translated`]).
fn node(
    nodes: &[FilterNode],
    index: u32,
    b: &mut Binder,
    element: Option<&str>,
    depth: usize,
) -> Option<(String, bool, bool)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let full = |p: &str| match element {
        Some(e) => format!("{e}.{p}"),
        None => p.to_string(),
    };
    match nodes.get(index as usize)? {
        FilterNode::AllOf(children) => all_of(nodes, children, b, element, depth),
        FilterNode::AnyOf(children) => any_of(nodes, children, b, element, depth),
        // A negated candidate set is not a candidate set; inside an element, "no element matches" is not
        // "some element does not match".
        FilterNode::Negate(child) if element.is_none() => match node(nodes, *child, b, None, depth + 1)? {
            (sql, true, _) => Some((format!("NOT ({sql})"), true, false)),
            _ => None,
        },
        FilterNode::Negate(_) => None,
        FilterNode::Present(path) => present(&full(path), b).map(|s| {
            let keyed = s != TRUE;
            (s, true, keyed)
        }),
        FilterNode::Compare(c) => {
            let c = Comparison { path: full(&c.path), ..c.clone() };
            compare(&c, b).map(|s| (s, true, true))
        }
        // Each condition on its own holds for some element; whether one element holds them all is left to
        // the engine, unless there is only one condition.
        FilterNode::ElementMatch((path, child)) if element.is_none() => {
            let (sql, exact, keyed) = node(nodes, *child, b, Some(path), depth + 1)?;
            let single = matches!(nodes.get(*child as usize), Some(FilterNode::Compare(_) | FilterNode::Present(_)));
            Some((sql, exact && single, keyed))
        }
        FilterNode::ElementMatch(_) => None,
    }
}

/// `a and b`: the parts that translate narrow the candidates even when others do not.
fn all_of(
    nodes: &[FilterNode],
    children: &[u32],
    b: &mut Binder,
    element: Option<&str>,
    depth: usize,
) -> Option<(String, bool, bool)> {
    let mut parts = Vec::new();
    let mut exact = true;
    // One keyed part is enough: its rows are looked up, the other parts checked on them.
    let mut keyed = false;
    for c in children {
        let mark = b.params.len();
        match node(nodes, *c, b, element, depth + 1) {
            Some((sql, e, k)) => {
                parts.push(format!("({sql})"));
                exact &= e;
                keyed |= k;
            }
            None => {
                b.params.truncate(mark);
                exact = false;
            }
        }
    }
    (!parts.is_empty()).then(|| (parts.join(" AND "), exact, keyed))
}

/// `a or b`: candidates only when every part gives some.
fn any_of(
    nodes: &[FilterNode],
    children: &[u32],
    b: &mut Binder,
    element: Option<&str>,
    depth: usize,
) -> Option<(String, bool, bool)> {
    if children.is_empty() {
        return None;
    }
    if let Some(sql) = equalities_on_one_path(nodes, children, b, element) {
        return Some((sql, true, true));
    }
    let mut parts = Vec::new();
    let mut exact = true;
    // Every part must be keyed: one unkeyed alternative means walking all rows anyway.
    let mut keyed = true;
    for c in children {
        let (sql, e, k) = node(nodes, *c, b, element, depth + 1)?;
        parts.push(format!("({sql})"));
        exact &= e;
        keyed &= k;
    }
    Some((parts.join(" OR "), exact, keyed))
}

/// `p eq "a" or p eq "b" or …` on one path: one `IN` list, which SQLite answers with an index probe per value.
/// As an `OR` of subqueries it pays an ephemeral table and a row set per term: 420 µs against 19 µs for the
/// 50 `members.value` terms with which the engine finds the groups of a page of users.
fn equalities_on_one_path(
    nodes: &[FilterNode],
    children: &[u32],
    b: &mut Binder,
    element: Option<&str>,
) -> Option<String> {
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
        values.push(value);
    }
    let first = first.filter(|_| values.len() > 1)?;
    let path = match element {
        Some(e) => format!("{e}.{}", first.path),
        None => first.path.clone(),
    };
    if path == "id" {
        let marks: Vec<String> = values.iter().map(|v| b.bind(Param::Text(v.to_string()))).collect();
        return Some(format!("r.id IN ({})", marks.join(", ")));
    }
    if outside_body(&path) || path.starts_with("groups.") {
        return None;
    }
    let (column, scope) = match member_column(&path) {
        Some(col) => (Column::Member(col), "m.group_id FROM members m WHERE".to_string()),
        None if path.starts_with("members.") => return None,
        None => {
            let p = b.bind(Param::Text(path));
            (Column::Leaf, format!("a.id FROM attr_values a WHERE a.path = {p} AND"))
        }
    };
    let marks: Vec<String> = values.iter().map(|v| b.bind(Param::Text(v.to_string()))).collect();
    let cond = b.dialect.in_list(column, &marks, first.case_exact);
    Some(format!("r.id IN (SELECT {scope} {cond})"))
}

/// The reserved path of "member of this group, directly or through nested groups" (WIT `query-types.path`).
pub const GROUPS_PATH: &str = "groups.value";

/// The resources in group `group` (a placeholder) or in groups nested in it, at any depth: `UNION` drops
/// repeated rows, so the recursion ends even on a cycle.
fn within_group(group: &str) -> String {
    format!(
        "r.id IN (WITH RECURSIVE within(id) AS (SELECT m.member_id FROM members m WHERE m.group_id = {group} \
         UNION SELECT m.member_id FROM members m JOIN within w ON m.group_id = w.id) SELECT id FROM within)"
    )
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

fn present(path: &str, b: &mut Binder) -> Option<String> {
    if path == "id" {
        return Some(TRUE.into());
    }
    if outside_body(path) {
        return None;
    }
    if path == "members" || member_column(path).is_some() {
        return Some("r.id IN (SELECT m.group_id FROM members m)".into());
    }
    if path.starts_with("members.") || path == "groups" || path.starts_with("groups.") {
        return None;
    }
    let p = b.bind(Param::Text(path.to_string()));
    let q = b.bind(Param::Text(format!("{path}.%")));
    let has_value = b.dialect.has_value();
    Some(format!("r.id IN (SELECT a.id FROM attr_values a WHERE (a.path = {p} OR a.path LIKE {q}) AND {has_value})"))
}

fn compare(c: &Comparison, b: &mut Binder) -> Option<String> {
    let value = match &c.value {
        Literal::Text(s) => Param::Text(s.clone()),
        Literal::Integer(i) => Param::Integer(*i),
        Literal::Decimal(d) => Param::Real(*d),
        Literal::Boolean(v) if matches!(c.op, CompareOp::Eq) => Param::Integer(*v as i64),
        // Instants written with different offsets or precision do not compare as text; null has its own
        // semantics. The engine handles these.
        _ => return None,
    };
    let text = matches!(value, Param::Text(_));
    if c.path == "id" && text && matches!(c.op, CompareOp::Eq) {
        let p = b.bind(value);
        return Some(format!("r.id = {p}"));
    }
    if c.path == GROUPS_PATH && text && matches!(c.op, CompareOp::Eq) {
        let p = b.bind(value);
        return Some(within_group(&p));
    }
    // The rest of the computed `groups` is the engine's to check.
    if c.path.starts_with("groups.") {
        return None;
    }
    if outside_body(&c.path) {
        return None;
    }
    // Both dialects fold only ASCII case; the engine folds all of Unicode.
    if matches!(&value, Param::Text(s) if !c.case_exact && !s.is_ascii()) {
        return None;
    }
    let (column, scope) = match member_column(&c.path) {
        // Member columns hold text only.
        Some(_) if !text => return None,
        Some(col) => (Column::Member(col), "m.group_id FROM members m WHERE".to_string()),
        None if c.path.starts_with("members.") => return None,
        None => {
            let p = b.bind(Param::Text(c.path.clone()));
            (Column::Leaf, format!("a.id FROM attr_values a WHERE a.path = {p} AND"))
        }
    };
    let op = match c.op {
        CompareOp::Eq => "=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        // LIKE ignores ASCII case; a case-exact comparison is left to the engine.
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew if text && !c.case_exact => {
            let Param::Text(s) = value else { unreachable!("checked text") };
            let pattern = match c.op {
                CompareOp::Co => format!("%{}%", escape_like(&s)),
                CompareOp::Sw => format!("{}%", escape_like(&s)),
                _ => format!("%{}", escape_like(&s)),
            };
            let p = b.bind(Param::Text(pattern));
            let cond = b.dialect.like(column, &p);
            return Some(format!("r.id IN (SELECT {scope} {cond})"));
        }
        _ => return None,
    };
    let p = b.bind(value);
    let cond = b.dialect.compare(column, op, &p, text, c.case_exact);
    // An uncorrelated IN lets the database answer from the index once, instead of probing per resource.
    Some(format!("r.id IN (SELECT {scope} {cond})"))
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
/// `name.givenName`, `urn:…:User:employeeNumber`. Booleans become 1/0, as a filter's `true` is bound.
pub fn leaves(data: &serde_json::Value) -> Vec<(String, Param)> {
    let mut out = Vec::new();
    if let serde_json::Value::Object(obj) = data {
        for (k, v) in obj {
            walk(k, v, &mut out, 0);
        }
    }
    out
}

fn walk(path: &str, v: &serde_json::Value, out: &mut Vec<(String, Param)>, depth: usize) {
    use serde_json::Value as J;
    if depth > 8 {
        return;
    }
    match v {
        J::Null => {}
        J::Bool(b) => out.push((path.to_string(), Param::Integer(*b as i64))),
        J::Number(n) => out.push((
            path.to_string(),
            n.as_i64().map(Param::Integer).unwrap_or_else(|| Param::Real(n.as_f64().unwrap_or(0.0))),
        )),
        J::String(s) => out.push((path.to_string(), Param::Text(s.clone()))),
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

    /// Placeholders as SQLite writes them; the rest of the dialect does not matter here.
    struct Plain;
    impl Dialect for Plain {
        fn placeholder(&self, n: usize) -> String {
            format!("?{n}")
        }
        fn compare(&self, _: Column, op: &str, value: &str, _: bool, _: bool) -> String {
            format!("v {op} {value}")
        }
        fn in_list(&self, _: Column, values: &[String], _: bool) -> String {
            format!("v IN ({})", values.join(", "))
        }
        fn like(&self, _: Column, pattern: &str) -> String {
            format!("v LIKE {pattern}")
        }
        fn has_value(&self) -> &'static str {
            "v <> ''"
        }
    }

    fn tr(nodes: &[FilterNode], index: u32) -> Option<Translated> {
        translate(&Plain, nodes, index, 0)
    }

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
        let cmp = |p: &str| {
            FilterNode::Compare(Comparison {
                path: p.into(),
                op: CompareOp::Eq,
                value: Literal::Text("x".into()),
                case_exact: true,
            })
        };
        assert_eq!(tr(&[cmp("id")], 0).unwrap().sql, "r.id = ?1");
        let partial = tr(&[cmp("meta.location"), cmp("id"), FilterNode::AllOf(vec![0, 1])], 2).unwrap();
        assert_eq!((partial.sql.as_str(), partial.exact, partial.params.len()), ("(r.id = ?1)", false, 1));
        assert_eq!(tr(&[FilterNode::Present("id".into())], 0).unwrap().sql, TRUE);
        assert!(tr(&[cmp("meta.location")], 0).is_none());
        assert_eq!(
            translate(&Plain, &[cmp("id")], 0, 2).unwrap().sql,
            "r.id = ?3",
            "numbered after the bound parameters"
        );
    }

    #[test]
    fn element_match_gives_candidates() {
        let nodes = vec![FilterNode::Present("type".into()), FilterNode::ElementMatch(("emails".into(), 0))];
        let t = tr(&nodes, 1).unwrap();
        assert!(t.exact, "one condition on an element is exact");
        let cmp = |p: &str| {
            FilterNode::Compare(Comparison {
                path: p.into(),
                op: CompareOp::Eq,
                value: Literal::Text("x".into()),
                case_exact: false,
            })
        };
        let nodes = vec![
            cmp("type"),
            cmp("value"),
            FilterNode::AllOf(vec![0, 1]),
            FilterNode::ElementMatch(("emails".into(), 2)),
        ];
        let t = tr(&nodes, 3).unwrap();
        assert!(!t.exact && t.params.len() == 4 && t.params[0] == Param::Text("emails.type".into()), "{t:?}");
    }

    #[test]
    fn equalities_on_one_path_become_one_in_list() {
        let eq = |p: &str, v: &str, exact: bool| {
            FilterNode::Compare(Comparison {
                path: p.into(),
                op: CompareOp::Eq,
                value: Literal::Text(v.into()),
                case_exact: exact,
            })
        };
        let members =
            tr(&[eq("members.value", "a", true), eq("members.value", "b", true), FilterNode::AnyOf(vec![0, 1])], 2)
                .unwrap();
        assert_eq!(members.sql, "r.id IN (SELECT m.group_id FROM members m WHERE v IN (?1, ?2))");
        assert!(members.exact && members.keyed);
        let names =
            tr(&[eq("userName", "a", false), eq("userName", "b", false), FilterNode::AnyOf(vec![0, 1])], 2).unwrap();
        assert_eq!(names.sql, "r.id IN (SELECT a.id FROM attr_values a WHERE a.path = ?1 AND v IN (?2, ?3))");
        assert_eq!(names.params[0], Param::Text("userName".into()));
        // Different paths or case rules keep one condition per part.
        let mixed =
            tr(&[eq("userName", "a", false), eq("userName", "b", true), FilterNode::AnyOf(vec![0, 1])], 2).unwrap();
        assert!(mixed.sql.contains(" OR "), "{}", mixed.sql);
        let ids = tr(&[eq("id", "a", true), eq("id", "b", true), FilterNode::AnyOf(vec![0, 1])], 2).unwrap();
        assert_eq!(ids.sql, "r.id IN (?1, ?2)");
    }

    #[test]
    fn and_or_not_translate() {
        let cmp = |p: &str| {
            FilterNode::Compare(Comparison {
                path: p.into(),
                op: CompareOp::Eq,
                value: Literal::Text("x".into()),
                case_exact: false,
            })
        };
        let nodes = vec![cmp("userName"), cmp("emails.value"), FilterNode::Negate(1), FilterNode::AnyOf(vec![0, 2])];
        let t = tr(&nodes, 3).unwrap();
        assert!(t.sql.contains(" OR ") && t.sql.contains("NOT ("), "{}", t.sql);
        assert_eq!(t.params.len(), 4);
        assert!(!t.keyed, "an alternative that is a negation walks every row");
        let nodes = vec![cmp("userName"), cmp("emails.value"), FilterNode::Negate(1), FilterNode::AllOf(vec![0, 2])];
        assert!(tr(&nodes, 3).unwrap().keyed, "one keyed part of an and is enough");
        assert!(!tr(&[FilterNode::Present("id".into())], 0).unwrap().keyed);
    }
}
