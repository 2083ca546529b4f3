//! The mapping as a [`Store`] in front of the host's: the engine keeps working in SCIM bodies and SCIM paths,
//! and the host only ever sees its own rows and columns.

use super::{query, RowMapping, Table};
use crate::store::{Ancestry, Applied, Member, Page, Query, Store, StoreError, StoreResult, Stored, UniqueKey, Update};
use serde_json::{Map, Value};

pub struct RowStore<'a> {
    mapping: &'a RowMapping,
    inner: &'a mut dyn Store,
}

impl<'a> RowStore<'a> {
    pub fn new(mapping: &'a RowMapping, inner: &'a mut dyn Store) -> Self {
        RowStore { mapping, inner }
    }
}

fn object(text: &str, what: &str) -> StoreResult<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(StoreError::Other(format!("{what} is not a JSON object"))),
    }
}

fn row_text(tm: &Table, scim: &str) -> StoreResult<String> {
    Ok(Value::Object(tm.to_row(&object(scim, "the engine's body")?)).to_string())
}

fn to_scim(tm: &Table, mut s: Stored) -> StoreResult<Stored> {
    s.data = Value::Object(tm.to_scim(&object(&s.data, "a stored row")?)).to_string();
    Ok(s)
}

/// Uniqueness keys on columns; a key on an attribute without a column has nothing to guard.
fn unique_columns(tm: &Table, keys: &[UniqueKey]) -> Vec<UniqueKey> {
    keys.iter()
        .filter_map(|k| {
            tm.unique_column(&k.attribute).map(|c| UniqueKey { attribute: c.name.clone(), value: k.value.clone() })
        })
        .collect()
}

/// A conflict the host names by column is reported by attribute.
fn conflict_by_attribute(tm: &Table, e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(col) => match tm.columns.iter().find(|c| c.name == col && c.place.sub.is_none()) {
            Some(c) => StoreError::Conflict(c.place.attr.clone()),
            None => StoreError::Conflict(col),
        },
        other => other,
    }
}

impl Store for RowStore<'_> {
    fn get(&mut self, resource_type: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        let found = self.inner.get(resource_type, id, with_members)?;
        match self.mapping.get(resource_type) {
            Some(tm) => found.map(|s| to_scim(tm, s)).transpose(),
            None => Ok(found),
        }
    }

    fn create(
        &mut self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> StoreResult<Stored> {
        let Some(tm) = self.mapping.get(resource_type) else {
            return self.inner.create(resource_type, data, unique, members);
        };
        let row = row_text(tm, data)?;
        let stored = self.inner.create(resource_type, &row, &unique_columns(tm, unique), members);
        to_scim(tm, stored.map_err(|e| conflict_by_attribute(tm, e))?)
    }

    fn update(&mut self, change: &Update) -> StoreResult<Stored> {
        let Some(tm) = self.mapping.get(&change.resource_type) else { return self.inner.update(change) };
        let data = change.data.as_deref().map(|d| row_text(tm, d)).transpose()?;
        let sent = Update { data, unique: unique_columns(tm, &change.unique), ..change.clone() };
        to_scim(tm, self.inner.update(&sent).map_err(|e| conflict_by_attribute(tm, e))?)
    }

    fn delete(&mut self, resource_type: &str, id: &str, if_version: Option<&str>) -> StoreResult<()> {
        self.inner.delete(resource_type, id, if_version)
    }

    /// Sends what the columns can express. When that is less than asked, the host's `applied` is not
    /// trusted: its items are candidates for the engine to filter, sort and page.
    fn search(&mut self, q: &Query) -> StoreResult<Page> {
        let Some(tm) = self.mapping.get(&q.resource_type) else { return self.inner.search(q) };
        let (sent, exact) = query::translate(tm, q);
        let page = self.inner.search(&sent)?;
        let items = page.items.into_iter().map(|s| to_scim(tm, s)).collect::<StoreResult<Vec<_>>>()?;
        if exact {
            Ok(Page { items, ..page })
        } else {
            Ok(Page { items, total: None, applied: Applied::Nothing })
        }
    }

    fn members(&mut self, resource_type: &str, id: &str, start_index: u32, count: u32) -> StoreResult<Vec<Member>> {
        self.inner.members(resource_type, id, start_index, count)
    }

    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(principal)
    }

    fn ancestors(&mut self, resource_type: &str, ids: &[String], max_depth: u32) -> StoreResult<Vec<Ancestry>> {
        self.inner.ancestors(resource_type, ids, max_depth)
    }
}
