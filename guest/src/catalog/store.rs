//! Listed catalog values served as a read-only store in front of the host's: the engine's own list, filter,
//! sort and paging then answer `/Roles` and `/Entitlements` exactly as they answer `/Users`.

use super::{Catalog, Entry};
use crate::store::{Ancestry, Applied, Member, Page, Query, Store, StoreError, StoreResult, Stored, UniqueKey, Update};
use serde_json::json;
use std::hash::{Hash, Hasher};

pub struct CatalogStore<'a> {
    catalog: &'a Catalog,
    inner: &'a mut dyn Store,
}

impl<'a> CatalogStore<'a> {
    pub fn new(catalog: &'a Catalog, inner: &'a mut dyn Store) -> Self {
        CatalogStore { catalog, inner }
    }
}

fn stored(e: &Entry) -> Stored {
    let mut data = json!({ "displayName": e.display_name });
    if let Some(t) = &e.kind {
        data["type"] = json!(t);
    }
    if let Some(d) = &e.description {
        data["description"] = json!(d);
    }
    let data = data.to_string();
    // The version follows the value, so that a changed configuration changes the ETag.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    Stored { id: e.id.clone(), version: format!("{:x}", h.finish()), data, members: None }
}

impl Store for CatalogStore<'_> {
    fn get(&mut self, resource_type: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        match self.catalog.listed(resource_type) {
            Some(entries) => Ok(entries.iter().find(|e| e.id == id).map(stored)),
            None => self.inner.get(resource_type, id, with_members),
        }
    }

    fn create(
        &mut self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> StoreResult<Stored> {
        match self.catalog.listed(resource_type) {
            Some(_) => Err(StoreError::Unsupported),
            None => self.inner.create(resource_type, data, unique, members),
        }
    }

    fn update(&mut self, change: &Update) -> StoreResult<Stored> {
        match self.catalog.listed(&change.resource_type) {
            Some(_) => Err(StoreError::Unsupported),
            None => self.inner.update(change),
        }
    }

    fn delete(&mut self, resource_type: &str, id: &str, if_version: Option<&str>) -> StoreResult<()> {
        match self.catalog.listed(resource_type) {
            Some(_) => Err(StoreError::Unsupported),
            None => self.inner.delete(resource_type, id, if_version),
        }
    }

    fn search(&mut self, query: &Query) -> StoreResult<Page> {
        match self.catalog.listed(&query.resource_type) {
            // Every value, unfiltered: the engine filters, sorts and pages them.
            Some(entries) => {
                Ok(Page { items: entries.iter().map(stored).collect(), total: None, applied: Applied::Nothing })
            }
            None => self.inner.search(query),
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
