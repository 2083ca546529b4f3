//! The storage a host gives the engine: a plain Rust trait over the WIT types, implemented by each backend.

use crate::bindings::{Ancestry, ChangeEvent, Member, Page, Query, ResourceChange, StorageError, Stored, UniqueKey};

/// Backends implement this; the contract of each method is documented on the WIT `storage` interface.
/// Methods take `&self`: one storage serves many component instances at once.
pub trait Storage: Send + Sync {
    fn get(&self, resource_type: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError>;
    fn create(
        &self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> Result<Stored, StorageError>;
    fn update(&self, change: &ResourceChange) -> Result<Stored, StorageError>;
    fn delete(&self, resource_type: &str, id: &str, if_version: Option<&str>) -> Result<(), StorageError>;
    fn search(&self, query: &Query) -> Result<Page, StorageError>;
    fn members(&self, resource_type: &str, id: &str, start_index: u32, count: u32)
        -> Result<Vec<Member>, StorageError>;
    /// `/Me`: most hosts have no mapping from a token to a user.
    fn resolve_principal(&self, _principal: &str) -> Result<Option<(String, String)>, StorageError> {
        Err(StorageError::Unsupported)
    }
    /// Nested groups (see the WIT `ancestors`): a host without a recursive query leaves the walk to the engine.
    fn ancestors(&self, _resource_type: &str, _ids: &[String], _max_depth: u32) -> Result<Vec<Ancestry>, StorageError> {
        Err(StorageError::Unsupported)
    }

    /// [`Storage::create`] carrying the change the engine staged for it (WIT `events.stage`), with an empty
    /// id: a storage keeping a journal writes it, with the id it assigns, in the same transaction. The
    /// default ignores it.
    fn create_journaled(
        &self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
        _change: Option<&ChangeEvent>,
    ) -> Result<Stored, StorageError> {
        self.create(resource_type, data, unique, members)
    }

    /// [`Storage::update`] carrying its staged change; see [`Storage::create_journaled`].
    fn update_journaled(&self, change: &ResourceChange, _event: Option<&ChangeEvent>) -> Result<Stored, StorageError> {
        self.update(change)
    }

    /// [`Storage::delete`] carrying its staged change; see [`Storage::create_journaled`].
    fn delete_journaled(
        &self,
        resource_type: &str,
        id: &str,
        if_version: Option<&str>,
        _change: Option<&ChangeEvent>,
    ) -> Result<(), StorageError> {
        self.delete(resource_type, id, if_version)
    }
}

/// A shared storage is a storage: a wrapper (such as the password guard) can sit over it while its owner keeps
/// a handle, for example to end a bulk load.
impl<S: Storage + ?Sized> Storage for std::sync::Arc<S> {
    fn get(&self, resource_type: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
        (**self).get(resource_type, id, with_members)
    }
    fn create(
        &self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> Result<Stored, StorageError> {
        (**self).create(resource_type, data, unique, members)
    }
    fn update(&self, change: &ResourceChange) -> Result<Stored, StorageError> {
        (**self).update(change)
    }
    fn delete(&self, resource_type: &str, id: &str, if_version: Option<&str>) -> Result<(), StorageError> {
        (**self).delete(resource_type, id, if_version)
    }
    fn search(&self, query: &Query) -> Result<Page, StorageError> {
        (**self).search(query)
    }
    fn members(
        &self,
        resource_type: &str,
        id: &str,
        start_index: u32,
        count: u32,
    ) -> Result<Vec<Member>, StorageError> {
        (**self).members(resource_type, id, start_index, count)
    }
    fn resolve_principal(&self, principal: &str) -> Result<Option<(String, String)>, StorageError> {
        (**self).resolve_principal(principal)
    }
    fn ancestors(&self, resource_type: &str, ids: &[String], max_depth: u32) -> Result<Vec<Ancestry>, StorageError> {
        (**self).ancestors(resource_type, ids, max_depth)
    }
    fn create_journaled(
        &self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
        change: Option<&ChangeEvent>,
    ) -> Result<Stored, StorageError> {
        (**self).create_journaled(resource_type, data, unique, members, change)
    }
    fn update_journaled(&self, change: &ResourceChange, event: Option<&ChangeEvent>) -> Result<Stored, StorageError> {
        (**self).update_journaled(change, event)
    }
    fn delete_journaled(
        &self,
        resource_type: &str,
        id: &str,
        if_version: Option<&str>,
        change: Option<&ChangeEvent>,
    ) -> Result<(), StorageError> {
        (**self).delete_journaled(resource_type, id, if_version, change)
    }
}

/// A fresh resource id: a UUID of version 7 (RFC 9562), as identity providers expect a UUID. Its first 48
/// bits are the time in milliseconds and the rest random, so ids made one after another sort one after
/// another: every index keyed by id grows at its end instead of at a random page (with random ids, most of
/// what a write wrote to disk was those indexes' pages).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_uuid_v7_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..1000).map(|_| super::new_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "7", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids sort in the order they were made");
    }
}
