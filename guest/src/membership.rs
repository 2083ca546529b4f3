//! A User's `groups` (RFC 7643 §4.1.2): read-only and computed, never stored. It is found by asking storage
//! for the group-like resources whose `members.value` is the user's id; a host that applies no filter gets
//! the check done here.
//!
//! A page of users asks once for all of them (an `or` of their ids). When that finds no group, or the page
//! holds one user, the answer is complete; otherwise the groups found must still be attributed to users,
//! which the storage contract only allows by loading the groups' members (as large as the groups) or by one
//! search per user (as large as the page): the engine takes the bounded one.

use crate::config::Config;
use crate::error::ScimResult;
use crate::resource::{has_members, location};
use crate::schema::{AttrType, Mutability, ResourceType};
use crate::store::{Applied, Page, Query, Store, Stored};
use serde_json::{json, Value};

/// True when the resource type shows a computed `groups`: its schema has it, complex, multi-valued and
/// read-only, as RFC 7643 defines it for User.
pub fn computes_groups(cfg: &Config, rt: &ResourceType) -> bool {
    cfg.registry
        .core_schema(rt)
        .attribute("groups")
        .is_some_and(|a| a.attr_type == AttrType::Complex && a.multi_valued && a.mutability == Mutability::ReadOnly)
}

/// The groups of each of `member_ids` (same order), as `groups` values: for each group-like resource type,
/// the direct ones, then the indirect ones (see [`crate::nesting`]), each in storage order.
pub fn groups_of_each(cfg: &Config, store: &mut dyn Store, member_ids: &[&str]) -> ScimResult<Vec<Vec<Value>>> {
    let mut out = vec![Vec::new(); member_ids.len()];
    if member_ids.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = member_ids.iter().map(|s| s.to_string()).collect();
    for rt in cfg.registry.resource_types.iter().filter(|rt| has_members(cfg, rt)) {
        let (mut found, mut groups) = crate::nesting::ancestors(cfg, store, rt, &ids)?;
        if found.is_empty() {
            continue;
        }
        let missing: Vec<String> = found.iter().map(|a| a.group.clone()).filter(|g| !groups.contains_key(g)).collect();
        if !missing.is_empty() {
            groups.extend(crate::nesting::load(cfg, store, rt, &missing)?);
        }
        found.sort_by_key(|a| a.depth > 1);
        for (id, values) in member_ids.iter().zip(out.iter_mut()) {
            for a in found.iter().filter(|a| a.member == *id) {
                if let Some(g) = groups.get(&a.group) {
                    values.push(group_value(cfg, rt, g, a.depth == 1));
                }
            }
        }
    }
    Ok(out)
}

/// The groups of type `rt` directly holding each of `member_ids` (same order), in storage order. A page
/// asks once for all; when that finds none, or the page holds one id, the answer is complete; otherwise
/// each id is asked for alone.
pub fn parents_of_each(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    member_ids: &[&str],
) -> ScimResult<Vec<Vec<Stored>>> {
    let mut out = vec![Vec::new(); member_ids.len()];
    if member_ids.is_empty() {
        return Ok(out);
    }
    let page = checked(cfg, store.search(&containing_any(cfg, rt, member_ids, true))?)?;
    if page.applied == Applied::Nothing {
        // The host returned every group: load them with members to check membership here, once for all.
        let groups = checked(cfg, store.search(&containing_any(cfg, rt, member_ids, false))?)?.items;
        for (id, found) in member_ids.iter().zip(out.iter_mut()) {
            let mine = groups.iter().filter(|g| g.members.as_ref().is_some_and(|ms| ms.iter().any(|m| m.value == *id)));
            found.extend(mine.map(|g| Stored { members: None, ..g.clone() }));
        }
    } else if page.items.is_empty() {
        // None of them is in a group of this type.
    } else if let [_] = member_ids {
        out[0] = page.items;
    } else {
        for (id, found) in member_ids.iter().zip(out.iter_mut()) {
            *found = direct_groups(cfg, store, rt, id)?;
        }
    }
    Ok(out)
}

/// The groups of type `rt` that `member_id` is a direct member of, in storage order.
fn direct_groups(cfg: &Config, store: &mut dyn Store, rt: &ResourceType, member_id: &str) -> ScimResult<Vec<Stored>> {
    let page = checked(cfg, store.search(&containing_any(cfg, rt, &[member_id], true))?)?;
    if page.applied != Applied::Nothing {
        return Ok(page.items);
    }
    let mut groups = checked(cfg, store.search(&containing_any(cfg, rt, &[member_id], false))?)?.items;
    groups.retain(|g| g.members.as_ref().is_some_and(|ms| ms.iter().any(|m| m.value == member_id)));
    Ok(groups)
}

/// A page storage did not page itself holds at most `maxCandidates` groups (a host may cut it just past that).
pub(crate) fn checked(cfg: &Config, page: Page) -> ScimResult<Page> {
    if page.applied != Applied::Everything {
        crate::handlers::list::bounded(cfg, page.items.len())?;
    }
    Ok(page)
}

/// The resources of type `rt` with any of `member_ids` among their members.
fn containing_any(cfg: &Config, rt: &ResourceType, member_ids: &[&str], without_members: bool) -> Query {
    Query::any_of(&rt.name, "members.value", member_ids, cfg.limits.max_results, without_members)
}

fn group_value(cfg: &Config, rt: &ResourceType, group: &Stored, direct: bool) -> Value {
    let display = serde_json::from_str::<Value>(&group.data).ok().and_then(|d| d.get("displayName").cloned());
    let mut value = json!({
        "value": group.id,
        "$ref": location(cfg, rt, &group.id),
        "type": if direct { "direct" } else { "indirect" },
    });
    if let Some(d) = display {
        value["display"] = d;
    }
    value
}

#[cfg(test)]
mod tests;
