//! Queries under a mapping: flat-filter paths become column names, as far as the row can express them.
//!
//! A comparison on an attribute without a column cannot be sent. Dropping it from an `and` (or a whole `or`
//! or `not` around it) leaves a weaker filter: the host then returns a superset, which the engine narrows.
//! The translation says whether it was exact, so the caller knows when the host's answer is only candidates.
//!
//! Membership has no column: it lives in the host's own relation. A `members.value eq "id"` (how a User's
//! `groups` are found, and how clients ask for a user's groups) is sent as is, under the reserved path
//! [`MEMBER_PATH`], for the host to answer from that relation; a host that does not know the path answers
//! `applied: nothing`, and the engine checks the members itself.

use super::{ColumnType, Table};
use crate::store::{CompareOp, Comparison, FilterNode, FlatFilter, Literal, Query, SortKey};

/// The reserved path of a membership comparison; no column may take this name.
pub const MEMBER_PATH: &str = "members.value";

/// The query the host should see, and whether it asks exactly what the engine asked.
pub fn translate(tm: &Table, q: &Query) -> (Query, bool) {
    let mut t = Translator { tm, out: Vec::new(), exact: true };
    let filter = q.filter.as_ref().and_then(|f| t.node(f, f.root, None)).map(|root| FlatFilter { nodes: t.out, root });
    let sort = q.sort.as_ref().map(|s| sort_key(tm, s));
    let exact = t.exact && !matches!(sort, Some(None));
    // A mapped host never sees a cursor's keyset: its position holds SCIM values, not the host's column
    // values, so the engine pages a cursor walk itself over the matches.
    let sent = if exact {
        Query { filter, sort: sort.flatten(), keyset: None, ..q.clone() }
    } else {
        // Every candidate, unsorted: the engine filters, sorts and pages.
        Query { filter, sort: None, start_index: 1, count: u32::MAX, keyset: None, ..q.clone() }
    };
    (sent, exact)
}

fn sort_key(tm: &Table, s: &SortKey) -> Option<SortKey> {
    Some(SortKey { path: single_column(tm, &s.path)?, ..s.clone() })
}

/// The one column holding a flat path's values; `id` is the id column.
fn single_column(tm: &Table, path: &str) -> Option<String> {
    if path.eq_ignore_ascii_case("id") {
        return Some(tm.id.clone());
    }
    let mut found = compared_columns(tm, path);
    let first = found.next()?;
    found.next().is_none().then(|| first.name.clone())
}

/// The columns a comparison on a flat path reads: `name.givenName`, or `userName`; never a whole complex.
fn compared_columns<'a>(tm: &'a Table, path: &'a str) -> impl Iterator<Item = &'a super::Column> + 'a {
    let (top, sub) = split_path(path);
    tm.columns_at(top, sub).filter(move |c| sub.is_some() || c.place.sub.is_none())
}

/// `name.familyName` → (`name`, `familyName`); `urn:…:User:manager.value` → (`urn:…:User:manager`, `value`).
fn split_path(path: &str) -> (&str, Option<&str>) {
    let attr_start = path.rfind(':').map_or(0, |i| i + 1);
    match path[attr_start..].find('.') {
        Some(dot) => (&path[..attr_start + dot], Some(&path[attr_start + dot + 1..])),
        None => (path, None),
    }
}

/// One element of a multi-valued attribute, for paths relative to it in `element-match`.
#[derive(Clone, Copy)]
struct Element<'a> {
    top: &'a str,
    selector: Option<&'a (String, serde_json::Value)>,
}

struct Translator<'a> {
    tm: &'a Table,
    out: Vec<FilterNode>,
    /// False once anything was left out.
    exact: bool,
}

impl<'a> Translator<'a> {
    fn push(&mut self, n: FilterNode) -> Option<u32> {
        self.out.push(n);
        u32::try_from(self.out.len() - 1).ok()
    }

    /// Translates node `i`; none means "no constraint" (always after marking the result inexact).
    fn node(&mut self, f: &'a FlatFilter, i: u32, elem: Option<Element<'a>>) -> Option<u32> {
        let Some(node) = f.nodes.get(i as usize) else { return self.lost() };
        match node {
            FilterNode::AllOf(children) => {
                let kept: Vec<u32> = children.iter().filter_map(|&c| self.node(f, c, elem)).collect();
                match kept.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    _ => self.push(FilterNode::AllOf(kept)),
                }
            }
            FilterNode::AnyOf(children) => {
                let kept: Option<Vec<u32>> = children.iter().map(|&c| self.node(f, c, elem)).collect();
                self.any_of(kept?)
            }
            FilterNode::Negate(child) => {
                let outer = std::mem::replace(&mut self.exact, true);
                let inner = self.node(f, *child, elem);
                let child_exact = self.exact;
                self.exact = outer && child_exact;
                if child_exact {
                    self.push(FilterNode::Negate(inner?))
                } else {
                    None
                }
            }
            FilterNode::Present(path) => {
                let cols: Vec<String> = self.columns(path, elem, false).into_iter().map(|c| c.0).collect();
                let nodes = cols.into_iter().map(|c| self.push(FilterNode::Present(c))).collect::<Option<Vec<_>>>();
                match nodes {
                    Some(n) if !n.is_empty() => self.any_of(n),
                    _ => self.lost(),
                }
            }
            FilterNode::Compare(cmp) if elem.is_none() && is_member_equality(cmp) => {
                self.push(FilterNode::Compare(Comparison { path: MEMBER_PATH.into(), ..cmp.clone() }))
            }
            FilterNode::Compare(cmp) => {
                let cols = self.columns(&cmp.path, elem, true);
                let mut nodes = Vec::new();
                for (column, kind) in cols {
                    let Some(value) = literal_for(kind, &cmp.value) else { return self.lost() };
                    nodes.extend(self.push(FilterNode::Compare(Comparison { path: column, value, ..cmp.clone() })));
                }
                if nodes.is_empty() {
                    self.lost()
                } else {
                    self.any_of(nodes)
                }
            }
            FilterNode::ElementMatch(path, child) => {
                if elem.is_some() {
                    return self.lost();
                }
                let tm = self.tm;
                let (top, _) = split_path(path);
                let mut selectors: Vec<_> = Vec::new();
                for c in tm.columns_at(top, None).filter(|c| c.place.multi) {
                    if !selectors.contains(&&c.place.selector) {
                        selectors.push(&c.place.selector);
                    }
                }
                let mut nodes = Vec::new();
                for s in selectors {
                    let e = Element { top, selector: s.as_ref() };
                    nodes.push(self.node(f, *child, Some(e))?);
                }
                if nodes.is_empty() {
                    self.lost()
                } else {
                    self.any_of(nodes)
                }
            }
        }
    }

    fn any_of(&mut self, nodes: Vec<u32>) -> Option<u32> {
        match nodes.as_slice() {
            [one] => Some(*one),
            _ => self.push(FilterNode::AnyOf(nodes)),
        }
    }

    fn lost(&mut self) -> Option<u32> {
        self.exact = false;
        None
    }

    /// The columns a path names, at the top or inside one element; `compared`: only those holding values.
    fn columns(&self, path: &str, elem: Option<Element>, compared: bool) -> Vec<(String, ColumnType)> {
        let tm = self.tm;
        match elem {
            Some(e) => tm
                .columns_at(e.top, Some(path))
                .filter(|c| c.place.selector.as_ref() == e.selector)
                .map(|c| (c.name.clone(), c.kind))
                .collect(),
            None if path.eq_ignore_ascii_case("id") => vec![(tm.id.clone(), ColumnType::String)],
            None if compared => compared_columns(tm, path).map(|c| (c.name.clone(), c.kind)).collect(),
            None => {
                let (top, sub) = split_path(path);
                tm.columns_at(top, sub).map(|c| (c.name.clone(), c.kind)).collect()
            }
        }
    }
}

/// `members.value eq "id"`: the one membership comparison a host's relation answers by an indexed lookup.
fn is_member_equality(cmp: &Comparison) -> bool {
    cmp.path.eq_ignore_ascii_case(MEMBER_PATH) && cmp.op == CompareOp::Eq && matches!(cmp.value, Literal::Text(_))
}

/// A literal as the column compares it; none when the column cannot hold it.
fn literal_for(kind: ColumnType, lit: &Literal) -> Option<Literal> {
    match (kind, lit) {
        (_, Literal::Null) => Some(Literal::Null),
        (ColumnType::Boolean01, Literal::Boolean(b)) => Some(Literal::Integer(i64::from(*b))),
        (ColumnType::Boolean, Literal::Boolean(_))
        | (ColumnType::Integer, Literal::Integer(_))
        | (ColumnType::Decimal, Literal::Integer(_) | Literal::Decimal(_))
        | (ColumnType::DateTime, Literal::DateTime(_))
        | (ColumnType::String, Literal::Text(_)) => Some(lit.clone()),
        (ColumnType::SqlDateTime, Literal::DateTime(s)) => {
            match super::to_column(kind, &serde_json::Value::String(s.clone())) {
                serde_json::Value::String(t) => Some(Literal::Text(t)),
                _ => None,
            }
        }
        _ => None,
    }
}
