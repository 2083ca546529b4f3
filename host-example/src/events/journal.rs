//! The change journal: one row per change, written by the storage in the transaction of the change itself
//! (the engine stages it just before the write), so that no acknowledged change is missing from it and no
//! rolled-back change is in it. Each receiver's progress is a cursor (the last sequence number delivered).

use scimkit_runtime::bindings::{ChangeEvent, StorageError};
use serde_json::{json, Value};

/// The journal's tables, for SQLite and PostgreSQL alike but for the sequence's type.
pub const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_cursors (receiver TEXT PRIMARY KEY, seq INTEGER NOT NULL);
";

pub const POSTGRES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_cursors (receiver TEXT PRIMARY KEY, seq BIGINT NOT NULL);
";

/// One journaled change.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: i64,
    /// A UUID, the same at every delivery: what receivers de-duplicate by.
    pub event_id: String,
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// See [`body`].
    pub body: Value,
}

/// What a journal gives its delivery workers and the `events` command.
pub trait Journal: Send + Sync {
    /// Up to `limit` entries after `seq`, in order.
    fn after(&self, seq: i64, limit: usize) -> anyhow::Result<Vec<Entry>>;
    /// The last sequence number delivered to `receiver` (0 before any).
    fn cursor(&self, receiver: &str) -> anyhow::Result<i64>;
    /// Moves `receiver`'s cursor from `from` to `to`; false when it was no longer at `from` (a replay moved it).
    fn advance(&self, receiver: &str, from: i64, to: i64) -> anyhow::Result<bool>;
    /// Sets `receiver`'s cursor, for a replay.
    fn rewind(&self, receiver: &str, to: i64) -> anyhow::Result<()>;
    /// The last sequence number written (0 when empty).
    fn last(&self) -> anyhow::Result<i64>;
}

/// The journal row of a change to resource `id` (which a create's staged change does not know yet), now at
/// `version` (empty after a delete): the engine's change with its images as JSON, and `id` added to the image
/// of a create.
pub fn body(change: &ChangeEvent, id: &str, version: &str) -> Value {
    let image = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok());
    let mut after = image(&change.after);
    if let Some(Value::Object(a)) = &mut after {
        a.entry("id").or_insert_with(|| json!(id));
    }
    json!({
        "resourceType": change.resource_type,
        "id": id,
        "version": version,
        "operations": change.operations.iter().map(|o| o.name()).collect::<Vec<_>>(),
        "paths": change.paths,
        "before": image(&change.before),
        "after": after,
        "membersAdded": change.members_added,
        "membersRemoved": change.members_removed,
        "membersCleared": change.members_cleared,
    })
}

/// A storage failure while reading or moving through the journal.
pub fn failed(e: StorageError) -> anyhow::Error {
    anyhow::anyhow!("journal: {e:?}")
}

pub fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Writes `change` (when the engine staged one) in the caller's SQLite transaction.
pub fn append_sqlite(
    tx: &rusqlite::Connection,
    change: Option<&ChangeEvent>,
    id: &str,
    version: &str,
) -> Result<(), StorageError> {
    let Some(change) = change else { return Ok(()) };
    let body = body(change, id, version).to_string();
    tx.prepare_cached("INSERT INTO events (event_id, at, body) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(rusqlite::params![scimkit_runtime::storage::new_id(), now_seconds(), body]))
        .map_err(|e| StorageError::Other(format!("journal: {e}")))?;
    Ok(())
}

/// Reads entries from SQLite.
pub fn sqlite_after(conn: &rusqlite::Connection, seq: i64, limit: usize) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, event_id, at, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(rusqlite::params![seq, limit as i64], |r| {
        let body: String = r.get(3)?;
        Ok(Entry {
            seq: r.get(0)?,
            event_id: r.get(1)?,
            at: r.get(2)?,
            body: serde_json::from_str(&body).unwrap_or_default(),
        })
    })?;
    rows.collect()
}
