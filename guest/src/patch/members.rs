//! Group membership under PATCH, kept as a delta for storage's `update` (clear, remove, add), so that
//! changing the membership of a group costs the size of the change, not of the group.
//!
//! The member list is loaded only for a filter that is not a list of `value eq "<id>"` terms (for example
//! `members[type eq "Group"]`): which members match cannot be known otherwise. A PATCH made only of changes
//! by id is applied without reading the group at all (see `by_id`).

use super::quirks;
use super::request::Op;
use super::target::{self, Target};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::filter::{CompValue, Filter};
use crate::quirks::single_as_list;
use crate::resource::{member_from_json, member_json};
use crate::schema::ResourceType;
use crate::store::{CompareOp, Member, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The membership change of one request, composed in operation order.
#[derive(Debug, Default)]
pub struct Delta {
    pub clear: bool,
    pub remove: BTreeSet<String>,
    pub add: BTreeMap<String, Member>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        !self.clear && self.remove.is_empty() && self.add.is_empty()
    }

    fn add(&mut self, m: Member) {
        self.remove.remove(&m.value);
        self.add.insert(m.value.clone(), m);
    }

    fn remove(&mut self, id: String) {
        self.add.remove(&id);
        if !self.clear {
            self.remove.insert(id);
        }
    }

    fn clear(&mut self) {
        *self = Delta { clear: true, ..Delta::default() };
    }

    /// Resolves the added members against storage (`resource::resolve_added`): one read per added member;
    /// then checks the groups among them for nesting into group `id` (`nesting::check_added`).
    pub fn resolve(&mut self, cfg: &Config, store: &mut dyn Store, rt: &ResourceType, id: &str) -> ScimResult<()> {
        let mut added: Vec<Member> = std::mem::take(&mut self.add).into_values().collect();
        crate::resource::resolve_added(cfg, store, rt, &mut added)?;
        crate::nesting::check_added(cfg, store, rt, Some(id), &added)?;
        self.add = added.into_iter().map(|m| (m.value.clone(), m)).collect();
        Ok(())
    }

    /// The members as they stand after this delta, given the stored ones.
    fn view(&self, stored: &[Member]) -> Vec<Member> {
        let base = if self.clear { &[][..] } else { stored };
        let kept = base.iter().filter(|m| !self.remove.contains(&m.value) && !self.add.contains_key(&m.value));
        kept.chain(self.add.values()).cloned().collect()
    }
}

/// Membership work of one request: the delta, and the stored list once a filter has needed it.
#[derive(Debug, Default)]
pub struct State {
    pub delta: Delta,
    loaded: Option<Vec<Member>>,
}

/// Where the stored members come from, when a filter needs them.
pub struct Source<'s> {
    pub store: &'s mut dyn Store,
    pub rt: &'s ResourceType,
    pub id: &'s str,
}

pub fn apply(
    cfg: &Config,
    src: &mut Source,
    state: &mut State,
    op: Op,
    t: &Target,
    value: Option<Value>,
) -> ScimResult<()> {
    if t.sub.is_some() {
        return Err(err::mutability(format!(
            "{}: a member's sub-attributes are immutable; add or remove whole members",
            t.text
        )));
    }
    match (op, &t.filter) {
        (Op::Add, None) => {
            for m in listed(cfg, t, value)? {
                state.delta.add(m);
            }
        }
        (Op::Add, Some(_)) => {
            return Err(err::invalid_path(format!(
                "{}: add members with the path \"members\", without a filter",
                t.text
            )))
        }
        (Op::Replace, None) => {
            state.delta.clear();
            for m in listed(cfg, t, value)? {
                state.delta.add(m);
            }
        }
        (Op::Replace, Some(filter)) => {
            for id in selected(cfg, src, state, t, filter)? {
                state.delta.remove(id);
            }
            for m in listed(cfg, t, value)? {
                state.delta.add(m);
            }
        }
        (Op::Remove, None) => match quirks::removal_list(cfg, &t.text, value.as_ref())? {
            Some(list) => {
                for m in listed(cfg, t, Some(list.clone()))? {
                    state.delta.remove(m.value);
                }
            }
            None => state.delta.clear(),
        },
        (Op::Remove, Some(filter)) => {
            for id in selected(cfg, src, state, t, filter)? {
                state.delta.remove(id);
            }
        }
    }
    Ok(())
}

/// True when the target changes membership by member ids alone (`members`, `members[value eq "x"]`), so
/// that the change is known without reading the group.
pub fn by_id(t: &Target) -> bool {
    t.ext.is_none() && t.sub.is_none() && t.filter.as_ref().is_none_or(|f| value_ids(f).is_some())
}

/// The members given in a value: one object or a list of them; nulls are nothing.
fn listed(cfg: &Config, t: &Target, value: Option<Value>) -> ScimResult<Vec<Member>> {
    let items = match value {
        Some(Value::Null) | None => Vec::new(),
        Some(v) => single_as_list(cfg, &t.text, v)?,
    };
    items
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|v| member_from_json(cfg, t.attr, v).map_err(|e| err::invalid_value(format!("{}: {}", t.text, e.detail))))
        .collect()
}

/// The ids a filter selects: read off `value eq "a" or value eq "b"` directly, else found in the loaded list.
fn selected(cfg: &Config, src: &mut Source, state: &mut State, t: &Target, filter: &Filter) -> ScimResult<Vec<String>> {
    if let Some(ids) = value_ids(filter) {
        return Ok(ids);
    }
    if state.loaded.is_none() {
        let found = src.store.get(&src.rt.name, src.id, true)?;
        state.loaded = Some(found.and_then(|s| s.members).unwrap_or_default());
    }
    let stored = state.loaded.as_deref().unwrap_or_default();
    let mut ids = Vec::new();
    for m in state.delta.view(stored) {
        if target::matches(cfg, src.rt, t, filter, &member_json(cfg, &m))? {
            ids.push(m.value);
        }
    }
    Ok(ids)
}

/// `value eq "x"`, alone or joined by `or`: the ids named.
fn value_ids(filter: &Filter) -> Option<Vec<String>> {
    let one = |f: &Filter| match f {
        Filter::Compare(p, CompareOp::Eq, CompValue::Str(id))
            if p.urn.is_none() && p.sub.is_none() && p.name.eq_ignore_ascii_case("value") =>
        {
            Some(id.clone())
        }
        _ => None,
    };
    match filter {
        Filter::Or(terms) => terms.iter().map(one).collect(),
        f => one(f).map(|id| vec![id]),
    }
}
