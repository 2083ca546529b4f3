//! Nested groups: a Group's members may be Groups (RFC 7643 §4.2), and a User's `groups` then lists the
//! groups it is in through them as `indirect` (§4.1.2).
//!
//! - Reads: a resource's groups, up to `limits.maxGroupDepth` levels up, come from storage's `ancestors` (one
//!   recursive query for a page of users); a host without it answers `unsupported` and the engine walks up
//!   with `members.value eq` searches, one batch per level.
//! - Writes: a group may not hold itself, directly or through other groups (400 `invalidValue` naming the
//!   cycle), nor make a chain of groups longer than `maxGroupDepth`; with the `nestedGroups` switch off, a
//!   group member is refused altogether (for applications that cannot model nesting).
//! - The walk is bounded by the depth limit and by a visited set, so a cycle that two racing writes let
//!   through still ends.

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::resource::has_members;
use crate::schema::ResourceType;
use crate::store::{Ancestry, Applied, Member, Query, Store, StoreError, Stored};
use std::collections::{BTreeMap, BTreeSet};

/// Ids per search when resources are looked up by id: bounds one query's size.
const BATCH: usize = 100;

/// The groups of type `rt` holding each of `ids`, directly or not, each (member, group) once with its
/// smallest depth, and the groups themselves when the walk loaded them.
pub fn ancestors(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    ids: &[String],
) -> ScimResult<(Vec<Ancestry>, BTreeMap<String, Stored>)> {
    let max_depth = if cfg.switches.nested_groups { cfg.limits.max_group_depth } else { 1 };
    if ids.is_empty() {
        return Ok((Vec::new(), BTreeMap::new()));
    }
    match store.ancestors(&rt.name, ids, max_depth) {
        Ok(found) => {
            Ok((found.into_iter().filter(|a| a.depth >= 1 && a.depth <= max_depth).collect(), BTreeMap::new()))
        }
        Err(StoreError::Unsupported) => walk(cfg, store, rt, ids, max_depth),
        Err(e) => Err(e.into()),
    }
}

/// The engine's own walk, level by level: one batched search per level finds the parents of every node of
/// the level; only a level that found some attributes them node by node (see [`crate::membership`]).
fn walk(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    ids: &[String],
    max_depth: u32,
) -> ScimResult<(Vec<Ancestry>, BTreeMap<String, Stored>)> {
    let mut found = Vec::new();
    let mut seen: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut loaded = BTreeMap::new();
    // Each node of the level, with the indices (into `ids`) of the resources it was reached from.
    let mut level: Vec<(String, Vec<usize>)> = ids.iter().enumerate().map(|(i, id)| (id.clone(), vec![i])).collect();
    for depth in 1..=max_depth {
        if level.is_empty() {
            break;
        }
        let nodes: Vec<&str> = level.iter().map(|(n, _)| n.as_str()).collect();
        let parents = crate::membership::parents_of_each(cfg, store, rt, &nodes)?;
        let mut next: Vec<(String, Vec<usize>)> = Vec::new();
        for ((_, origins), groups) in level.iter().zip(parents) {
            for g in groups {
                for &o in origins {
                    if !seen.insert((o, g.id.clone())) {
                        continue;
                    }
                    found.push(Ancestry { member: ids[o].clone(), group: g.id.clone(), depth });
                    match next.iter_mut().find(|(n, _)| *n == g.id) {
                        Some((_, os)) => os.push(o),
                        None => next.push((g.id.clone(), vec![o])),
                    }
                }
                loaded.entry(g.id.clone()).or_insert(g);
            }
        }
        level = next;
    }
    Ok((found, loaded))
}

/// The resources of type `rt` among `ids`, looked up in batches.
pub fn load(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    ids: &[String],
) -> ScimResult<BTreeMap<String, Stored>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(BATCH) {
        let page = crate::membership::checked(cfg, store.search(&any_of(rt, "id", chunk))?)?;
        out.extend(page.items.into_iter().filter(|s| chunk.contains(&s.id)).map(|s| (s.id.clone(), s)));
    }
    Ok(out)
}

/// Every resource of type `rt` whose `path` equals one of `values` (not empty), members left out.
fn any_of(rt: &ResourceType, path: &str, values: &[String]) -> Query {
    Query::any_of(&rt.name, path, values, u32::MAX, true)
}

/// Checks the resolved members about to be added to group `id` of type `rt` (none: a group being created).
pub fn check_added(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    id: Option<&str>,
    added: &[Member],
) -> ScimResult<()> {
    if added.is_empty() || !has_members(cfg, rt) {
        return Ok(());
    }
    let groups = groups_among(rt, added);
    if groups.is_empty() {
        return Ok(());
    }
    if let Some(me) = id.filter(|me| groups.iter().any(|g| g == me)) {
        return Err(err::invalid_value(format!("members: a cycle: {me} > {me} (a group cannot be its own member)")));
    }
    if !cfg.switches.nested_groups {
        return Err(err::invalid_value(format!(
            "members: {} is a {}; this service does not accept nested groups",
            groups[0], rt.name
        )));
    }
    let max = cfg.limits.max_group_depth;
    // Levels above the group: its ancestors' largest depth.
    let above: BTreeMap<String, u32> = match id {
        Some(me) => ancestors(cfg, store, rt, &[me.to_string()])?.0.into_iter().map(|a| (a.group, a.depth)).collect(),
        None => BTreeMap::new(),
    };
    if let (Some(me), Some(g)) = (id, groups.iter().find(|g| above.contains_key(*g))) {
        return Err(err::invalid_value(format!(
            "members: a cycle: {} (each holds the next; adding {g} to {me} would close it)",
            cycle(cfg, store, rt, me, g)?.join(" > ")
        )));
    }
    let up = above.values().copied().max().unwrap_or(0);
    let below = depth_below(cfg, store, rt, &groups)?;
    for g in &groups {
        let down = below.get(g).copied().unwrap_or(1);
        if up + 1 + down > max {
            return Err(err::invalid_value(format!(
                "members: adding group {g} would nest groups {} levels deep; at most {max} are accepted",
                up + 1 + down
            )));
        }
    }
    Ok(())
}

/// The members that are groups of type `rt`. Members are resolved before this (`resource::resolve_added`: one
/// read per member, an untyped id looked up as a User first), so a member's type says it: an id that hosts
/// numbering users and groups per table give to both is the User's, and no second lookup is made here.
fn groups_among(rt: &ResourceType, added: &[Member]) -> Vec<String> {
    let typed = |m: &Member| m.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(&rt.name));
    added.iter().filter(|m| typed(m)).map(|m| m.value.clone()).collect()
}

/// For each of `groups`, the length of the longest chain of groups from it down (itself counted), within the
/// depth limit: found from the ancestries of the groups nested in them.
fn depth_below(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    groups: &[String],
) -> ScimResult<BTreeMap<String, u32>> {
    let inner = nested_in(cfg, store, rt, groups)?;
    let mut out: BTreeMap<String, u32> = groups.iter().map(|g| (g.clone(), 1)).collect();
    if inner.is_empty() {
        return Ok(out);
    }
    for a in ancestors(cfg, store, rt, &inner)?.0 {
        if let Some(d) = out.get_mut(&a.group) {
            *d = (*d).max(a.depth + 1);
        }
    }
    Ok(out)
}

/// The groups of type `rt` nested, at any depth, in any of `groups`: storage's recursive `groups.value`
/// query; a host that does not apply it gets the ancestries of every candidate checked here.
fn nested_in(cfg: &Config, store: &mut dyn Store, rt: &ResourceType, groups: &[String]) -> ScimResult<Vec<String>> {
    let page = crate::membership::checked(cfg, store.search(&any_of(rt, GROUPS_PATH, groups))?)?;
    let ids: Vec<String> = page.items.into_iter().map(|s| s.id).collect();
    if page.applied != Applied::Nothing {
        return Ok(ids);
    }
    let (found, _) = ancestors(cfg, store, rt, &ids)?;
    let mut inner: Vec<String> = found.into_iter().filter(|a| groups.contains(&a.group)).map(|a| a.member).collect();
    inner.dedup();
    Ok(inner)
}

/// The reserved storage path of "member of this group, directly or not" (see the WIT `query-types.path`).
pub const GROUPS_PATH: &str = "groups.value";

/// The chain `target > … > me > target` that adding `target` to `me` would close: from `me` up to `target`,
/// one parent at a time, each chosen among those that still lead to `target`.
fn cycle(cfg: &Config, store: &mut dyn Store, rt: &ResourceType, me: &str, target: &str) -> ScimResult<Vec<String>> {
    let mut chain = vec![me.to_string()];
    let mut current = me.to_string();
    for _ in 0..cfg.limits.max_group_depth {
        if current == target {
            break;
        }
        let parents = crate::membership::parents_of_each(cfg, store, rt, &[current.as_str()])?.remove(0);
        let ids: Vec<String> = parents.iter().map(|p| p.id.clone()).collect();
        let next = match ids.iter().find(|p| *p == target) {
            Some(p) => p.clone(),
            None => {
                let (up, _) = ancestors(cfg, store, rt, &ids)?;
                match up.into_iter().find(|a| a.group == target) {
                    Some(a) => a.member,
                    None => break,
                }
            }
        };
        chain.push(next.clone());
        current = next;
    }
    chain.reverse();
    chain.push(target.to_string());
    Ok(chain)
}

#[cfg(test)]
mod tests;
