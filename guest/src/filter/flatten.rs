//! A checked filter as storage receives it: a flat list of nodes, children before parents, paths in the
//! storage vocabulary, literals typed (`wit/scim.wit`, `query-types`).

use super::typed::Typed;
use crate::store::{Comparison, FilterNode, FlatFilter};

/// The flat form of `filter`. Paths inside an element match are relative to the element (`type`, `value`).
pub fn flatten(filter: &Typed) -> FlatFilter {
    let mut nodes = Vec::new();
    let root = emit(filter, &mut nodes);
    FlatFilter { nodes, root }
}

/// Appends `filter`'s nodes, children first; returns the index of its top node.
fn emit(filter: &Typed, nodes: &mut Vec<FilterNode>) -> u32 {
    let node = match filter {
        // Storage has no constants. `id` is present on every resource, so `id pr` is true and its negation
        // false; a filter folds to a constant only as a whole, so this is at most two nodes.
        Typed::Const(true) => FilterNode::Present("id".into()),
        Typed::Const(false) => {
            let always = push(nodes, FilterNode::Present("id".into()));
            FilterNode::Negate(always)
        }
        Typed::And(terms) => FilterNode::AllOf(terms.iter().map(|t| emit(t, nodes)).collect()),
        Typed::Or(terms) => FilterNode::AnyOf(terms.iter().map(|t| emit(t, nodes)).collect()),
        Typed::Not(inner) => FilterNode::Negate(emit(inner, nodes)),
        Typed::Present(target) => FilterNode::Present(target.storage_path()),
        Typed::Compare(target, op, literal) => FilterNode::Compare(Comparison {
            path: target.storage_path(),
            op: *op,
            value: literal.clone(),
            case_exact: target.leaf().case_exact,
        }),
        Typed::Element(target, inner) => FilterNode::ElementMatch(target.storage_path(), emit(inner, nodes)),
    };
    push(nodes, node)
}

fn push(nodes: &mut Vec<FilterNode>, node: FilterNode) -> u32 {
    nodes.push(node);
    // Bounded by the filter's length limit, far below u32::MAX.
    u32::try_from(nodes.len() - 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{config, group_type, user_type};
    use super::super::{flatten, parse_filter};
    use crate::store::{CompareOp, Comparison, FilterNode, FlatFilter, Literal};

    fn flat(text: &str) -> FlatFilter {
        let cfg = config();
        flatten(&cfg, user_type(&cfg), &parse_filter(text).unwrap()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn cmp(path: &str, op: CompareOp, value: Literal, case_exact: bool) -> FilterNode {
        FilterNode::Compare(Comparison { path: path.into(), op, value, case_exact })
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn single_comparisons_are_typed_and_canonical() {
        let cases = [
            (r#"USERNAME eq "BJensen""#, cmp("userName", CompareOp::Eq, Literal::Text("BJensen".into()), false)),
            (r#"id eq "abc""#, cmp("id", CompareOp::Eq, Literal::Text("abc".into()), true)),
            (r#"externalId sw "7""#, cmp("externalId", CompareOp::Sw, Literal::Text("7".into()), true)),
            (r#"name.FAMILYNAME co "j""#, cmp("name.familyName", CompareOp::Co, Literal::Text("j".into()), false)),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "J""#,
                cmp("name.familyName", CompareOp::Eq, Literal::Text("J".into()), false),
            ),
            (r#"emails co "@x""#, cmp("emails.value", CompareOp::Co, Literal::Text("@x".into()), false)),
            (r#"emails.Value ew "@x""#, cmp("emails.value", CompareOp::Ew, Literal::Text("@x".into()), false)),
            ("active eq true", cmp("active", CompareOp::Eq, Literal::Boolean(true), false)),
            ("title eq null", cmp("title", CompareOp::Eq, Literal::Null, false)),
            (
                r#"meta.lastModified gt "2011-05-13T06:42:34+02:00""#,
                cmp("meta.lastModified", CompareOp::Gt, Literal::DateTime("2011-05-13T04:42:34Z".into()), false),
            ),
            (
                r#"meta.created le "2011-05-13T04:42:34.5-01:00""#,
                cmp("meta.created", CompareOp::Le, Literal::DateTime("2011-05-13T05:42:34.500Z".into()), false),
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:EMPLOYEENUMBER eq "701984""#,
                cmp(&format!("{ENTERPRISE}:employeeNumber"), CompareOp::Eq, Literal::Text("701984".into()), false),
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26""#,
                cmp(&format!("{ENTERPRISE}:manager.value"), CompareOp::Eq, Literal::Text("26".into()), false),
            ),
        ];
        for (text, node) in cases {
            assert_eq!(flat(text), FlatFilter { nodes: vec![node], root: 0 }, "{text}");
        }
        assert_eq!(flat("emails pr"), FlatFilter { nodes: vec![FilterNode::Present("emails".into())], root: 0 });
        assert_eq!(flat("name.givenName pr").nodes, vec![FilterNode::Present("name.givenName".into())]);
    }

    #[test]
    fn children_come_before_parents() {
        let f = flat(r#"userName eq "a" or title pr and not (active eq false)"#);
        assert_eq!(
            f.nodes,
            vec![
                cmp("userName", CompareOp::Eq, Literal::Text("a".into()), false),
                FilterNode::Present("title".into()),
                cmp("active", CompareOp::Eq, Literal::Boolean(false), false),
                FilterNode::Negate(2),
                FilterNode::AllOf(vec![1, 3]),
                FilterNode::AnyOf(vec![0, 4]),
            ]
        );
        assert_eq!(f.root, 5);
    }

    #[test]
    fn value_paths_match_elements_with_relative_paths() {
        let f = flat(r#"emails[type eq "work" and value co "@example.com"]"#);
        assert_eq!(
            f.nodes,
            vec![
                cmp("type", CompareOp::Eq, Literal::Text("work".into()), false),
                cmp("value", CompareOp::Co, Literal::Text("@example.com".into()), false),
                FilterNode::AllOf(vec![0, 1]),
                FilterNode::ElementMatch("emails".into(), 2),
            ]
        );
        assert_eq!(f.root, 3);
        let quirk = flat(r#"emails[type eq "work"].value eq "a@b""#);
        assert_eq!(quirk, flat(r#"emails[type eq "work" and value eq "a@b"]"#));
        let cfg = config();
        let g = flatten(&cfg, group_type(&cfg), &parse_filter(r#"members[$REF ew "/1"]"#).unwrap()).unwrap();
        assert_eq!(
            g.nodes,
            vec![
                cmp("$ref", CompareOp::Ew, Literal::Text("/1".into()), false),
                FilterNode::ElementMatch("members".into(), 0)
            ]
        );
    }

    #[test]
    fn unknown_attributes_fold_away() {
        assert_eq!(flat(r#"bogus eq "x" or userName pr"#).nodes, vec![FilterNode::Present("userName".into())]);
        assert_eq!(
            flat("bogus pr and userName pr").nodes,
            vec![FilterNode::Present("id".into()), FilterNode::Negate(0)]
        );
        assert_eq!(flat("not (bogus pr)").nodes, vec![FilterNode::Present("id".into())]);
        assert_eq!(
            flat(r#"emails[bogus eq "x"]"#).nodes,
            vec![FilterNode::Present("id".into()), FilterNode::Negate(0)]
        );
        assert_eq!(flat(r#"emails[not (bogus eq "x")]"#).nodes, vec![FilterNode::Present("emails".into())]);
        assert_eq!(
            flat(r#"bogus pr or userName pr or title pr"#).nodes,
            vec![
                FilterNode::Present("userName".into()),
                FilterNode::Present("title".into()),
                FilterNode::AnyOf(vec![0, 1])
            ]
        );
    }

    #[test]
    fn numbers_follow_the_schema_type() {
        let mut cfg = config();
        for attr in [
            serde_json::json!({"name": "level", "type": "integer"}),
            serde_json::json!({"name": "score", "type": "decimal"}),
        ] {
            cfg.registry.add_attribute(crate::schema::USER, serde_json::from_value(attr).unwrap());
        }
        let rt = user_type(&cfg);
        let lit = |text: &str| match &flatten(&cfg, rt, &parse_filter(text).unwrap()).unwrap().nodes[0] {
            FilterNode::Compare(c) => c.value.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(lit("level eq -3"), Literal::Integer(-3));
        assert_eq!(lit("level gt 1.5"), Literal::Decimal(1.5));
        assert_eq!(lit("score eq 2"), Literal::Decimal(2.0));
        assert_eq!(lit("score lt -1e-2"), Literal::Decimal(-0.01));
    }
}
