//! Passwords clients send with Users (`password`, as some identity providers do) never reach the database in
//! clear: this storage layer rewrites the body's top-level `password` before any write — to an argon2 hash,
//! or away entirely — whatever backend is underneath.

use crate::auth::basic::hash_password;
use crate::config::PasswordPolicy;
use scimkit_runtime::bindings::{
    Ancestry, ChangeEvent, Member, Page, Query, ResourceChange, StorageError, Stored, UniqueKey,
};
use scimkit_runtime::storage::Storage;
use serde_json::Value;

pub struct PasswordGuard<S> {
    inner: S,
    policy: PasswordPolicy,
}

impl<S: Storage> PasswordGuard<S> {
    pub fn new(inner: S, policy: PasswordPolicy) -> Self {
        PasswordGuard { inner, policy }
    }

    /// The body as it may be stored. `kept` is the value already stored, which a PATCH of other attributes
    /// carries back unchanged: it is kept as it is, not hashed again.
    fn rewrite(&self, data: &str, kept: Option<&str>) -> Result<String, StorageError> {
        let Ok(Value::Object(mut body)) = serde_json::from_str::<Value>(data) else { return Ok(data.to_string()) };
        let Some(password) = body.remove("password") else { return Ok(data.to_string()) };
        if self.policy == PasswordPolicy::Hash {
            match password {
                Value::String(p) if Some(p.as_str()) == kept => {
                    body.insert("password".into(), Value::String(p));
                }
                Value::String(p) if !p.is_empty() => {
                    let hash = hash_password(&p).map_err(|e| StorageError::Other(format!("{e:#}")))?;
                    body.insert("password".into(), Value::String(hash));
                }
                _ => {}
            }
        }
        Ok(Value::Object(body).to_string())
    }

    fn stored_password(&self, rtype: &str, id: &str) -> Result<Option<String>, StorageError> {
        let Some(stored) = self.inner.get(rtype, id, false)? else { return Ok(None) };
        let body: Value = serde_json::from_str(&stored.data).unwrap_or_default();
        Ok(body.get("password").and_then(Value::as_str).map(str::to_string))
    }
}

impl<S: Storage> Storage for PasswordGuard<S> {
    fn get(&self, rtype: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
        self.inner.get(rtype, id, with_members)
    }

    fn create(
        &self,
        rtype: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> Result<Stored, StorageError> {
        self.create_journaled(rtype, data, unique, members, None)
    }

    fn update(&self, change: &ResourceChange) -> Result<Stored, StorageError> {
        self.update_journaled(change, None)
    }

    fn delete(&self, rtype: &str, id: &str, if_version: Option<&str>) -> Result<(), StorageError> {
        self.inner.delete(rtype, id, if_version)
    }

    fn create_journaled(
        &self,
        rtype: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
        event: Option<&ChangeEvent>,
    ) -> Result<Stored, StorageError> {
        let data = self.rewrite(data, None)?;
        self.inner.create_journaled(rtype, &data, unique, members, event)
    }

    fn update_journaled(&self, change: &ResourceChange, event: Option<&ChangeEvent>) -> Result<Stored, StorageError> {
        let Some(data) = change.data.as_deref().filter(|d| d.contains("\"password\"")) else {
            return self.inner.update_journaled(change, event);
        };
        let kept = self.stored_password(&change.resource_type, &change.id)?;
        let change = ResourceChange { data: Some(self.rewrite(data, kept.as_deref())?), ..change.clone() };
        self.inner.update_journaled(&change, event)
    }

    fn delete_journaled(
        &self,
        rtype: &str,
        id: &str,
        if_version: Option<&str>,
        event: Option<&ChangeEvent>,
    ) -> Result<(), StorageError> {
        self.inner.delete_journaled(rtype, id, if_version, event)
    }

    fn search(&self, query: &Query) -> Result<Page, StorageError> {
        self.inner.search(query)
    }

    fn members(&self, rtype: &str, id: &str, start_index: u32, count: u32) -> Result<Vec<Member>, StorageError> {
        self.inner.members(rtype, id, start_index, count)
    }

    fn ancestors(&self, rtype: &str, ids: &[String], max_depth: u32) -> Result<Vec<Ancestry>, StorageError> {
        self.inner.ancestors(rtype, ids, max_depth)
    }

    fn resolve_principal(&self, principal: &str) -> Result<Option<(String, String)>, StorageError> {
        self.inner.resolve_principal(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteStorage;

    fn guard(policy: PasswordPolicy) -> (std::path::PathBuf, PasswordGuard<SqliteStorage>) {
        let dir = std::env::temp_dir().join(format!("scimkit-pw-{}", scimkit_runtime::storage::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = SqliteStorage::open(&dir.join("db.sqlite3")).unwrap();
        (dir, PasswordGuard::new(s, policy))
    }

    fn change(id: &str, data: &str) -> ResourceChange {
        ResourceChange {
            resource_type: "User".into(),
            id: id.into(),
            data: Some(data.into()),
            unique: vec![],
            clear_members: false,
            remove_members: vec![],
            add_members: vec![],
            if_version: None,
        }
    }

    #[test]
    fn passwords_are_hashed_once_and_kept_across_other_changes() {
        let (dir, g) = guard(PasswordPolicy::Hash);
        let created = g.create("User", r#"{"userName":"a","password":"Clear-1"}"#, &[], &[]).unwrap();
        let hash = g.stored_password("User", &created.id).unwrap().unwrap();
        assert!(crate::auth::basic::verify_password("Clear-1", &hash));
        // A PATCH of another attribute writes the stored hash back: unchanged.
        g.update(&change(&created.id, &format!(r#"{{"userName":"b","password":"{hash}"}}"#))).unwrap();
        assert_eq!(g.stored_password("User", &created.id).unwrap().unwrap(), hash);
        g.update(&change(&created.id, r#"{"userName":"b","password":"Clear-2"}"#)).unwrap();
        let new_hash = g.stored_password("User", &created.id).unwrap().unwrap();
        assert!(crate::auth::basic::verify_password("Clear-2", &new_hash));
        let bytes = std::fs::read(dir.join("db.sqlite3")).unwrap();
        let wal = std::fs::read(dir.join("db.sqlite3-wal")).unwrap_or_default();
        for b in [bytes, wal] {
            assert!(!b.windows(7).any(|w| w == b"Clear-1" || w == b"Clear-2"));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn drop_policy_stores_no_password() {
        let (dir, g) = guard(PasswordPolicy::Drop);
        let created = g.create("User", r#"{"userName":"a","password":"Clear-1"}"#, &[], &[]).unwrap();
        assert_eq!(g.stored_password("User", &created.id).unwrap(), None);
        assert!(!created.data.contains("password"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
