//! An in-memory storage for tests and demos. It applies no query (`Applied::Nothing`): the engine does all
//! filtering, sorting and paging, which makes it the reference the SQL push-down is compared against.

use crate::bindings::{
    Ancestry, Applied, ChangeEvent, Member, Page, Query, ResourceChange, StorageError, Stored, UniqueKey,
};
use crate::storage::{new_id, Storage};
use std::collections::BTreeMap;
use std::sync::Mutex;

struct Row {
    seq: u64,
    rtype: String,
    version: u64,
    data: String,
    unique: Vec<UniqueKey>,
    members: Vec<Member>,
}

#[derive(Default)]
pub struct MemoryStorage {
    rows: Mutex<(u64, BTreeMap<String, Row>)>,
    journal: Mutex<Vec<ChangeEvent>>,
}

impl MemoryStorage {
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    /// The changes written, in order, each with its resource's id.
    pub fn journal(&self) -> Vec<ChangeEvent> {
        self.journal.lock().unwrap().clone()
    }

    fn record(&self, change: Option<&ChangeEvent>, id: &str) {
        if let Some(c) = change {
            self.journal.lock().unwrap().push(ChangeEvent { id: id.to_string(), ..c.clone() });
        }
    }
}

fn taken(rows: &BTreeMap<String, Row>, rtype: &str, keys: &[UniqueKey], except: Option<&str>) -> Option<String> {
    rows.iter()
        .filter(|(id, r)| r.rtype == rtype && Some(id.as_str()) != except)
        .flat_map(|(_, r)| r.unique.iter())
        .find(|k| keys.contains(k))
        .map(|k| k.attribute.clone())
}

fn upsert(members: &mut Vec<Member>, add: &[Member]) {
    for m in add {
        match members.iter_mut().find(|x| x.value == m.value) {
            Some(existing) => *existing = m.clone(),
            None => members.push(m.clone()),
        }
    }
}

fn stored(id: &str, r: &Row, with_members: bool) -> Stored {
    Stored {
        id: id.into(),
        version: r.version.to_string(),
        data: r.data.clone(),
        members: with_members.then(|| r.members.clone()),
    }
}

impl Storage for MemoryStorage {
    fn get(&self, rtype: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
        let g = self.rows.lock().unwrap();
        Ok(g.1.get(id).filter(|r| r.rtype == rtype).map(|r| stored(id, r, with_members)))
    }

    fn create(
        &self,
        rtype: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> Result<Stored, StorageError> {
        let mut g = self.rows.lock().unwrap();
        if let Some(attr) = taken(&g.1, rtype, unique, None) {
            return Err(StorageError::Conflict(attr));
        }
        g.0 += 1;
        let mut row = Row {
            seq: g.0,
            rtype: rtype.into(),
            version: 1,
            data: data.into(),
            unique: unique.to_vec(),
            members: vec![],
        };
        upsert(&mut row.members, members);
        let id = new_id();
        let out = stored(&id, &row, false);
        g.1.insert(id, row);
        Ok(out)
    }

    fn update(&self, c: &ResourceChange) -> Result<Stored, StorageError> {
        let mut g = self.rows.lock().unwrap();
        let row = g.1.get(&c.id).filter(|r| r.rtype == c.resource_type).ok_or(StorageError::NotFound)?;
        if c.if_version.as_deref().is_some_and(|v| v != row.version.to_string()) {
            return Err(StorageError::PreconditionFailed);
        }
        if c.data.is_some() {
            if let Some(attr) = taken(&g.1, &c.resource_type, &c.unique, Some(&c.id)) {
                return Err(StorageError::Conflict(attr));
            }
        }
        let row = g.1.get_mut(&c.id).expect("checked above");
        if let Some(data) = &c.data {
            row.data = data.clone();
            row.unique = c.unique.clone();
        }
        if c.clear_members {
            row.members.clear();
        }
        row.members.retain(|m| !c.remove_members.contains(&m.value));
        upsert(&mut row.members, &c.add_members);
        row.version += 1;
        Ok(stored(&c.id, row, false))
    }

    fn delete(&self, rtype: &str, id: &str, if_version: Option<&str>) -> Result<(), StorageError> {
        let mut g = self.rows.lock().unwrap();
        let row = g.1.get(id).filter(|r| r.rtype == rtype).ok_or(StorageError::NotFound)?;
        if if_version.is_some_and(|v| v != row.version.to_string()) {
            return Err(StorageError::PreconditionFailed);
        }
        g.1.remove(id);
        for r in g.1.values_mut() {
            let before = r.members.len();
            r.members.retain(|m| m.value != id);
            if r.members.len() != before {
                r.version += 1;
            }
        }
        Ok(())
    }

    fn create_journaled(
        &self,
        rtype: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
        change: Option<&ChangeEvent>,
    ) -> Result<Stored, StorageError> {
        let stored = self.create(rtype, data, unique, members)?;
        self.record(change, &stored.id);
        Ok(stored)
    }

    fn update_journaled(&self, c: &ResourceChange, event: Option<&ChangeEvent>) -> Result<Stored, StorageError> {
        let stored = self.update(c)?;
        self.record(event, &c.id);
        Ok(stored)
    }

    fn delete_journaled(
        &self,
        rtype: &str,
        id: &str,
        if_version: Option<&str>,
        change: Option<&ChangeEvent>,
    ) -> Result<(), StorageError> {
        self.delete(rtype, id, if_version)?;
        self.record(change, id);
        Ok(())
    }

    fn search(&self, q: &Query) -> Result<Page, StorageError> {
        let g = self.rows.lock().unwrap();
        let mut rows: Vec<(&String, &Row)> = g.1.iter().filter(|(_, r)| r.rtype == q.resource_type).collect();
        rows.sort_by_key(|(_, r)| r.seq);
        let items = rows.into_iter().map(|(id, r)| stored(id, r, !q.without_members)).collect();
        Ok(Page { items, applied: Applied::Nothing })
    }

    fn members(&self, rtype: &str, id: &str, start_index: u32, count: u32) -> Result<Vec<Member>, StorageError> {
        let g = self.rows.lock().unwrap();
        let row = g.1.get(id).filter(|r| r.rtype == rtype).ok_or(StorageError::NotFound)?;
        Ok(row.members.iter().skip(start_index.saturating_sub(1) as usize).take(count as usize).cloned().collect())
    }

    /// A transitive walk up, level by level, from an index of member → groups of the type.
    fn ancestors(&self, rtype: &str, ids: &[String], max_depth: u32) -> Result<Vec<Ancestry>, StorageError> {
        let g = self.rows.lock().unwrap();
        let mut groups: Vec<(&String, &Row)> = g.1.iter().filter(|(_, r)| r.rtype == rtype).collect();
        groups.sort_by_key(|(_, r)| r.seq);
        let mut parents: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for (id, r) in &groups {
            for m in &r.members {
                parents.entry(m.value.as_str()).or_default().push(id);
            }
        }
        let mut found = Vec::new();
        for member in ids {
            let mut seen = std::collections::BTreeSet::new();
            let mut level = vec![member.as_str()];
            for depth in 1..=max_depth {
                let mut next = Vec::new();
                for node in level {
                    for p in parents.get(node).into_iter().flatten() {
                        if seen.insert(p.as_str()) {
                            found.push(Ancestry { member: member.clone(), group: p.to_string(), depth });
                            next.push(p.as_str());
                        }
                    }
                }
                level = next;
            }
        }
        Ok(found)
    }
}
