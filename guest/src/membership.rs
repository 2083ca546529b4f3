//! A User's `groups` (RFC 7643 §4.1.2): read-only and computed, never stored. It is found by asking storage
//! for the group-like resources whose `members.value` is the user's id; a host that applies no filter gets
//! the check done here.

use crate::config::Config;
use crate::error::ScimResult;
use crate::resource::{has_members, location};
use crate::schema::{AttrType, Mutability, ResourceType};
use crate::store::{Applied, CompareOp, Comparison, FilterNode, FlatFilter, Literal, Query, Store};
use serde_json::{json, Value};

/// True when the resource type shows a computed `groups`: its schema has it, complex, multi-valued and
/// read-only, as RFC 7643 defines it for User.
pub fn computes_groups(cfg: &Config, rt: &ResourceType) -> bool {
    cfg.registry.core_schema(rt).attribute("groups").is_some_and(|a| {
        a.attr_type == AttrType::Complex && a.multi_valued && a.mutability == Mutability::ReadOnly
    })
}

/// The direct groups of `member_id`, as `groups` values in creation order of their resource types.
pub fn groups_of(cfg: &Config, store: &mut dyn Store, member_id: &str) -> ScimResult<Vec<Value>> {
    let mut out = Vec::new();
    for rt in cfg.registry.resource_types.iter().filter(|rt| has_members(cfg, rt)) {
        let mut query = Query {
            resource_type: rt.name.clone(),
            filter: Some(FlatFilter {
                nodes: vec![FilterNode::Compare(Comparison {
                    path: "members.value".into(),
                    op: CompareOp::Eq,
                    value: Literal::Text(member_id.to_string()),
                    case_exact: true,
                })],
                root: 0,
            }),
            sort: None,
            start_index: 1,
            count: cfg.limits.max_results,
            without_members: true,
        };
        let mut page = store.search(&query)?;
        if page.applied == Applied::Nothing {
            // The host returned every group: load them with members to check membership here.
            query.without_members = false;
            page = store.search(&query)?;
            page.items.retain(|g| g.members.as_ref().is_some_and(|ms| ms.iter().any(|m| m.value == member_id)));
        }
        for group in page.items {
            let display = serde_json::from_str::<Value>(&group.data).ok().and_then(|d| d.get("displayName").cloned());
            let mut value = json!({
                "value": group.id,
                "$ref": location(cfg, rt, &group.id),
                "type": "direct",
            });
            if let Some(d) = display {
                value["display"] = d;
            }
            out.push(value);
        }
    }
    Ok(out)
}
