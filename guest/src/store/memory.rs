//! An in-memory [`Store`] for the engine's unit tests. It applies no query (`Applied::Nothing`), which
//! exercises the engine's own filtering, sorting and paging.

use super::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct Row {
    resource_type: String,
    version: u64,
    data: String,
    unique: Vec<UniqueKey>,
    members: Vec<Member>,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    next_id: u64,
    /// Keyed by id; ids are zero-padded so that key order is creation order.
    rows: BTreeMap<String, Row>,
    pub principals: BTreeMap<String, (String, String)>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn taken(&self, resource_type: &str, unique: &[UniqueKey], except: Option<&str>) -> Option<String> {
        self.rows
            .iter()
            .filter(|(id, r)| r.resource_type == resource_type && Some(id.as_str()) != except)
            .flat_map(|(_, r)| r.unique.iter())
            .find(|k| unique.contains(k))
            .map(|k| k.attribute.clone())
    }

    /// Stores a resource under an id of the test's choosing (members of fixtures name their ids).
    #[cfg(test)]
    pub fn insert(&mut self, resource_type: &str, id: &str, data: &str) {
        let row = Row {
            resource_type: resource_type.to_string(),
            version: 1,
            data: data.to_string(),
            unique: Vec::new(),
            members: Vec::new(),
        };
        self.rows.insert(id.to_string(), row);
    }

    fn stored(id: &str, row: &Row, with_members: bool) -> Stored {
        Stored {
            id: id.to_string(),
            version: row.version.to_string(),
            data: row.data.clone(),
            members: with_members.then(|| row.members.clone()),
        }
    }
}

/// Indexed by id, so that tests with very large groups stay fast.
fn upsert_members(members: &mut Vec<Member>, add: &[Member]) {
    let mut at: BTreeMap<String, usize> = members.iter().enumerate().map(|(i, m)| (m.value.clone(), i)).collect();
    for m in add {
        match at.get(&m.value) {
            Some(&i) => members[i] = m.clone(),
            None => {
                at.insert(m.value.clone(), members.len());
                members.push(m.clone());
            }
        }
    }
}

impl Store for MemoryStore {
    fn get(&mut self, resource_type: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        Ok(self.rows.get(id).filter(|r| r.resource_type == resource_type).map(|r| Self::stored(id, r, with_members)))
    }

    fn create(
        &mut self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> StoreResult<Stored> {
        if let Some(attr) = self.taken(resource_type, unique, None) {
            return Err(StoreError::Conflict(attr));
        }
        self.next_id += 1;
        let id = format!("{:08}", self.next_id);
        let mut row = Row {
            resource_type: resource_type.to_string(),
            version: 1,
            data: data.to_string(),
            unique: unique.to_vec(),
            members: Vec::new(),
        };
        upsert_members(&mut row.members, members);
        let stored = Self::stored(&id, &row, false);
        self.rows.insert(id, row);
        Ok(stored)
    }

    fn update(&mut self, change: &Update) -> StoreResult<Stored> {
        let row = match self.rows.get(&change.id) {
            Some(r) if r.resource_type == change.resource_type => r,
            _ => return Err(StoreError::NotFound),
        };
        if change.if_version.as_deref().is_some_and(|v| v != row.version.to_string()) {
            return Err(StoreError::PreconditionFailed);
        }
        if change.data.is_some() {
            if let Some(attr) = self.taken(&change.resource_type, &change.unique, Some(&change.id)) {
                return Err(StoreError::Conflict(attr));
            }
        }
        let row = self.rows.get_mut(&change.id).expect("checked above");
        if let Some(data) = &change.data {
            row.data = data.clone();
            row.unique = change.unique.clone();
        }
        if change.clear_members {
            row.members.clear();
        }
        row.members.retain(|m| !change.remove_members.contains(&m.value));
        upsert_members(&mut row.members, &change.add_members);
        row.version += 1;
        Ok(Self::stored(&change.id, row, false))
    }

    fn delete(&mut self, resource_type: &str, id: &str, if_version: Option<&str>) -> StoreResult<()> {
        match self.rows.get(id) {
            Some(r) if r.resource_type == resource_type => {
                if if_version.is_some_and(|v| v != r.version.to_string()) {
                    return Err(StoreError::PreconditionFailed);
                }
            }
            _ => return Err(StoreError::NotFound),
        }
        self.rows.remove(id);
        for row in self.rows.values_mut() {
            let before = row.members.len();
            row.members.retain(|m| m.value != id);
            if row.members.len() != before {
                row.version += 1;
            }
        }
        Ok(())
    }

    fn search(&mut self, query: &Query) -> StoreResult<Page> {
        let items = self
            .rows
            .iter()
            .filter(|(_, r)| r.resource_type == query.resource_type)
            .map(|(id, r)| Self::stored(id, r, !query.without_members))
            .collect();
        Ok(Page { items, total: None, applied: Applied::Nothing })
    }

    fn members(&mut self, resource_type: &str, id: &str, start_index: u32, count: u32) -> StoreResult<Vec<Member>> {
        let row = self.rows.get(id).filter(|r| r.resource_type == resource_type).ok_or(StoreError::NotFound)?;
        let skip = start_index.saturating_sub(1) as usize;
        Ok(row.members.iter().skip(skip).take(count as usize).cloned().collect())
    }

    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        if self.principals.is_empty() {
            return Err(StoreError::Unsupported);
        }
        Ok(self.principals.get(principal).cloned())
    }
}
