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
