//! The embedded default storage: SQLite (bundled), WAL mode, one writer and a pool of readers.
//!
//! Tables: `resources` (one row per resource, the body as JSON), `unique_keys` (the engine's uniqueness keys,
//! enforced by a primary key), `members` (group membership, one row per member, so that membership changes
//! cost the size of the change) and `attr_values` (every scalar leaf, for filter push-down).
//!
//! Writes are durable (`synchronous=FULL`, one transaction each), except in the bulk-load mode of
//! [`SqliteStorage::open_bulk`], meant only for filling a new database before it serves.

use crate::sql_filter::{self, Applies, Column, Dialect, Param};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use scimkit_runtime::bindings::{
    Ancestry, Applied, Member, Page, Query, ResourceChange, StorageError, Stored, UniqueKey,
};
use scimkit_runtime::storage::{new_id, Storage};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rtype TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_by_type ON resources(rtype, seq);
CREATE TABLE IF NOT EXISTS unique_keys (
    rtype TEXT NOT NULL, attribute TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (rtype, attribute, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unique_keys_by_id ON unique_keys(id);
CREATE TABLE IF NOT EXISTS members (
    group_id TEXT NOT NULL, member_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT, display TEXT,
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_member ON members(member_id);
CREATE INDEX IF NOT EXISTS members_in_order ON members(group_id, seq);
CREATE TABLE IF NOT EXISTS attr_values (id TEXT NOT NULL, path TEXT NOT NULL, value);
CREATE INDEX IF NOT EXISTS attr_values_by_id ON attr_values(id);
CREATE INDEX IF NOT EXISTS attr_values_nocase ON attr_values(path, value COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS attr_values_exact ON attr_values(path, value);
";

/// Indexes of [`SCHEMA`] that only searches read, not the checks a write makes.
const DEFERRED_INDEXES: &[&str] = &["attr_values_nocase", "attr_values_exact", "members_by_member"];

pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: Mutex<Vec<Connection>>,
}

struct Writer {
    conn: Connection,
    /// Bulk-load mode: writes accumulate in one open transaction, committed every `batch` writes.
    bulk: Option<Batch>,
}

struct Batch {
    size: usize,
    pending: usize,
}

fn other(e: impl std::fmt::Display) -> StorageError {
    StorageError::Other(e.to_string())
}

fn db_error(e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StorageError::Unavailable(e.to_string())
        }
        _ => other(e),
    }
}

/// A connection with this host's settings; the request log and token records use it on the same file.
pub(crate) fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    owner_only(path, "").map_err(cannot_open)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL: readers never block the writer. synchronous=FULL: an acknowledged write survives power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    for suffix in ["-wal", "-shm"] {
        owner_only(path, suffix).map_err(cannot_open)?;
    }
    Ok(conn)
}

/// The database (PII, password hashes, the request log) and its WAL and shared-memory files readable by their
/// owner only. By path, never through a file descriptor of our own: closing one would drop the locks SQLite
/// holds on the file in this process. SQLite creates the WAL and shared-memory files with the database's mode.
/// A user who only reads the files (an operator running `scimkit logs`) leaves their mode to their owner.
fn owner_only(db: &Path, suffix: &str) -> std::io::Result<()> {
    use std::io::ErrorKind::{NotFound, PermissionDenied};
    use std::os::unix::fs::PermissionsExt;
    let file = PathBuf::from(format!("{}{suffix}", db.display()));
    match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
        Err(e) if !matches!(e.kind(), NotFound | PermissionDenied) => Err(e),
        _ => Ok(()),
    }
}

fn cannot_open(e: std::io::Error) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN), Some(e.to_string()))
}

impl SqliteStorage {
    /// Opens (creating when needed) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<SqliteStorage> {
        let conn = open_connection(path)?;
        conn.execute_batch(SCHEMA)?;
        let writer = Writer { conn, bulk: None };
        Ok(SqliteStorage { path: path.to_path_buf(), writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    /// Opens for loading data fast (generators, imports), with no durability until [`Self::finish_bulk`]:
    /// `synchronous=OFF`, a large page cache, and one transaction per `batch` writes (each write still
    /// atomic on its own, in a savepoint). Readers see a write once its batch is committed ([`Self::flush`]).
    /// A crash before `finish_bulk` can lose the load; never serve clients in this mode.
    ///
    /// Into an empty database, the indexes that only searches use are built once at the end, which costs far
    /// less than keeping them up to date row by row; until then those searches scan. (Should the load stop
    /// early, the next open builds them.)
    pub fn open_bulk(path: &Path, batch: usize) -> anyhow::Result<SqliteStorage> {
        let storage = SqliteStorage::open(path)?;
        {
            let mut w = storage.writer.lock().unwrap();
            w.conn
                .execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -524288; PRAGMA temp_store = MEMORY;")?;
            let empty: bool = w.conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM resources)", [], |r| r.get(0))?;
            if empty {
                w.conn.execute_batch(
                    DEFERRED_INDEXES.iter().map(|i| format!("DROP INDEX IF EXISTS {i};")).collect::<String>().as_str(),
                )?;
            }
            w.bulk = Some(Batch { size: batch.max(1), pending: 0 });
        }
        Ok(storage)
    }

    /// Commits the pending batch of a bulk load.
    pub fn flush(&self) -> anyhow::Result<()> {
        let mut w = self.writer.lock().unwrap();
        if !w.conn.is_autocommit() {
            w.conn.execute_batch("COMMIT")?;
        }
        if let Some(b) = &mut w.bulk {
            b.pending = 0;
        }
        Ok(())
    }

    /// Ends a bulk load: commits, restores durable writes, gathers the planner's statistics, and folds the
    /// write-ahead log into the database.
    pub fn finish_bulk(&self) -> anyhow::Result<()> {
        self.flush()?;
        let mut w = self.writer.lock().unwrap();
        w.bulk = None;
        w.conn.execute_batch(SCHEMA)?;
        w.conn.execute_batch("PRAGMA synchronous = FULL; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
        let conn = self.readers.lock().unwrap().pop();
        let conn = match conn {
            Some(c) => c,
            None => open_connection(&self.path).map_err(db_error)?,
        };
        let result = f(&conn);
        self.readers.lock().unwrap().push(conn);
        result
    }

    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
        let mut w = self.writer.lock().unwrap();
        let Writer { conn, bulk } = &mut *w;
        let Some(batch) = bulk else {
            // IMMEDIATE: take the write lock first, so that check-then-write is atomic across processes too.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
            let value = f(&tx)?;
            tx.commit().map_err(db_error)?;
            return Ok(value);
        };
        if conn.is_autocommit() {
            conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
        }
        // A failed write rolls back to its savepoint only (dropping it uncommitted), not the whole batch.
        let sp = conn.savepoint().map_err(db_error)?;
        let value = f(&sp)?;
        sp.commit().map_err(db_error)?;
        batch.pending += 1;
        if batch.pending >= batch.size {
            conn.execute_batch("COMMIT").map_err(db_error)?;
            batch.pending = 0;
        }
        Ok(value)
    }
}

fn load_members(conn: &Connection, id: &str, start_index: u32, count: u32) -> Result<Vec<Member>, StorageError> {
    let mut stmt = conn
        // The offset is skipped in the (group_id, seq) index alone: skipping whole rows made reading a large group
        // page by page quadratic.
        .prepare_cached(
            "SELECT member_id, kind, display FROM members WHERE group_id = ?1
               AND seq >= (SELECT seq FROM members WHERE group_id = ?1 ORDER BY seq LIMIT 1 OFFSET ?3)
             ORDER BY seq LIMIT ?2",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map(params![id, count as i64, start_index.saturating_sub(1) as i64], |r| {
            Ok(Member { value: r.get(0)?, kind: r.get(1)?, display: r.get(2)? })
        })
        .map_err(db_error)?;
    rows.collect::<Result<_, _>>().map_err(db_error)
}

fn get_row(conn: &Connection, rtype: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
    let row = conn
        .prepare_cached("SELECT version, data FROM resources WHERE id = ?1 AND rtype = ?2")
        .map_err(db_error)?
        .query_row(params![id, rtype], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .optional()
        .map_err(db_error)?;
    let Some((version, data)) = row else { return Ok(None) };
    let members = if with_members { Some(load_members(conn, id, 1, u32::MAX)?) } else { None };
    Ok(Some(Stored { id: id.to_string(), version: version.to_string(), data, members }))
}

fn put_unique(tx: &Connection, rtype: &str, id: &str, keys: &[UniqueKey]) -> Result<(), StorageError> {
    let mut stmt = tx
        .prepare_cached("INSERT INTO unique_keys (rtype, attribute, value, id) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db_error)?;
    for k in keys {
        match stmt.execute(params![rtype, k.attribute, k.value, id]) {
            Ok(_) => {}
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                return Err(StorageError::Conflict(k.attribute.clone()));
            }
            Err(e) => return Err(db_error(e)),
        }
    }
    Ok(())
}

/// The scalar leaves of a body, as `attr_values` rows; worked out before taking the writer.
fn leaves(data: &str) -> Result<Vec<(String, Param)>, StorageError> {
    let json: serde_json::Value = serde_json::from_str(data).map_err(other)?;
    Ok(sql_filter::leaves(&json))
}

fn put_values(tx: &Connection, id: &str, leaves: &[(String, Param)]) -> Result<(), StorageError> {
    let mut stmt =
        tx.prepare_cached("INSERT INTO attr_values (id, path, value) VALUES (?1, ?2, ?3)").map_err(db_error)?;
    for (path, value) in leaves {
        stmt.execute(params![id, path, sql_value(value.clone())]).map_err(db_error)?;
    }
    Ok(())
}

fn add_members(tx: &Connection, id: &str, members: &[Member]) -> Result<(), StorageError> {
    if members.is_empty() {
        return Ok(());
    }
    let next: i64 = tx
        .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM members WHERE group_id = ?1")
        .map_err(db_error)?
        .query_row([id], |r| r.get(0))
        .map_err(db_error)?;
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO members (group_id, member_id, seq, kind, display) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (group_id, member_id) DO UPDATE SET kind = excluded.kind, display = excluded.display",
        )
        .map_err(db_error)?;
    for (i, m) in members.iter().enumerate() {
        stmt.execute(params![id, m.value, next + i as i64, m.kind, m.display]).map_err(db_error)?;
    }
    Ok(())
}

fn check_version(tx: &Connection, rtype: &str, id: &str, if_version: Option<&str>) -> Result<i64, StorageError> {
    let version: Option<i64> = tx
        .prepare_cached("SELECT version FROM resources WHERE id = ?1 AND rtype = ?2")
        .map_err(db_error)?
        .query_row(params![id, rtype], |r| r.get(0))
        .optional()
        .map_err(db_error)?;
    let version = version.ok_or(StorageError::NotFound)?;
    if if_version.is_some_and(|v| v != version.to_string()) {
        return Err(StorageError::PreconditionFailed);
    }
    Ok(version)
}

impl Storage for SqliteStorage {
    fn get(&self, rtype: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
        self.read(|c| get_row(c, rtype, id, with_members))
    }

    fn create(
        &self,
        rtype: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> Result<Stored, StorageError> {
        let id = new_id();
        let leaves = leaves(data)?;
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO resources (rtype, id, version, data) VALUES (?1, ?2, 1, ?3)")
                .map_err(db_error)?
                .execute(params![rtype, id, data])
                .map_err(db_error)?;
            put_unique(tx, rtype, &id, unique)?;
            put_values(tx, &id, &leaves)?;
            add_members(tx, &id, members)?;
            Ok(())
        })?;
        Ok(Stored { id, version: "1".into(), data: data.to_string(), members: None })
    }

    fn update(&self, c: &ResourceChange) -> Result<Stored, StorageError> {
        let leaves = c.data.as_deref().map(leaves).transpose()?;
        self.write(|tx| {
            let version = check_version(tx, &c.resource_type, &c.id, c.if_version.as_deref())? + 1;
            if let Some(leaves) = &leaves {
                for sql in ["DELETE FROM unique_keys WHERE id = ?1", "DELETE FROM attr_values WHERE id = ?1"] {
                    tx.prepare_cached(sql).map_err(db_error)?.execute([&c.id]).map_err(db_error)?;
                }
                put_unique(tx, &c.resource_type, &c.id, &c.unique)?;
                put_values(tx, &c.id, leaves)?;
            }
            if c.clear_members {
                tx.prepare_cached("DELETE FROM members WHERE group_id = ?1")
                    .map_err(db_error)?
                    .execute([&c.id])
                    .map_err(db_error)?;
            }
            let mut remove =
                tx.prepare_cached("DELETE FROM members WHERE group_id = ?1 AND member_id = ?2").map_err(db_error)?;
            for m in &c.remove_members {
                remove.execute(params![c.id, m]).map_err(db_error)?;
            }
            add_members(tx, &c.id, &c.add_members)?;
            tx.prepare_cached("UPDATE resources SET version = ?1, data = coalesce(?2, data) WHERE id = ?3")
                .map_err(db_error)?
                .execute(params![version, c.data, c.id])
                .map_err(db_error)?;
            let data: String = tx
                .prepare_cached("SELECT data FROM resources WHERE id = ?1")
                .map_err(db_error)?
                .query_row([&c.id], |r| r.get(0))
                .map_err(db_error)?;
            Ok(Stored { id: c.id.clone(), version: version.to_string(), data, members: None })
        })
    }

    fn delete(&self, rtype: &str, id: &str, if_version: Option<&str>) -> Result<(), StorageError> {
        self.write(|tx| {
            check_version(tx, rtype, id, if_version)?;
            // The resource leaves every group it was in; those groups change version.
            tx.execute(
                "UPDATE resources SET version = version + 1 WHERE id IN (SELECT group_id FROM members WHERE member_id = ?1)",
                [id],
            )
            .map_err(db_error)?;
            for sql in [
                "DELETE FROM members WHERE member_id = ?1",
                "DELETE FROM members WHERE group_id = ?1",
                "DELETE FROM unique_keys WHERE id = ?1",
                "DELETE FROM attr_values WHERE id = ?1",
                "DELETE FROM resources WHERE id = ?1",
            ] {
                tx.prepare_cached(sql).map_err(db_error)?.execute([id]).map_err(db_error)?;
            }
            Ok(())
        })
    }

    fn search(&self, q: &Query) -> Result<Page, StorageError> {
        self.read(|conn| search(conn, q))
    }

    fn members(&self, rtype: &str, id: &str, start_index: u32, count: u32) -> Result<Vec<Member>, StorageError> {
        self.read(|conn| {
            if get_row(conn, rtype, id, false)?.is_none() {
                return Err(StorageError::NotFound);
            }
            load_members(conn, id, start_index, count)
        })
    }

    fn ancestors(&self, rtype: &str, ids: &[String], max_depth: u32) -> Result<Vec<Ancestry>, StorageError> {
        self.read(|conn| {
            let mut found = Vec::new();
            // Bounded statements: SQLite takes at most 32,766 parameters.
            for chunk in ids.chunks(1000) {
                let marks: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 3)).collect();
                let sql = format!("{ANCESTORS_HEAD} WHERE m.member_id IN ({}) {ANCESTORS_TAIL}", marks.join(", "));
                let mut params: Vec<rusqlite::types::Value> =
                    vec![rtype.to_string().into(), i64::from(max_depth).into()];
                params.extend(chunk.iter().map(|id| id.clone().into()));
                let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                        Ok(Ancestry { member: r.get(0)?, group: r.get(1)?, depth: r.get::<_, i64>(2)? as u32 })
                    })
                    .map_err(db_error)?;
                found.extend(rows.collect::<Result<Vec<_>, _>>().map_err(db_error)?);
            }
            Ok(found)
        })
    }
}

/// The groups of type ?1 holding the members named after the head, directly or through groups of that type,
/// at most ?2 levels up; each pair once at its smallest depth, nearest first, then in creation order.
const ANCESTORS_HEAD: &str = "WITH RECURSIVE up(member, grp, depth) AS (
    SELECT m.member_id, m.group_id, 1 FROM members m JOIN resources r ON r.id = m.group_id AND r.rtype = ?1";
const ANCESTORS_TAIL: &str = "UNION SELECT up.member, m.group_id, up.depth + 1 FROM up
        JOIN members m ON m.member_id = up.grp JOIN resources r ON r.id = m.group_id AND r.rtype = ?1
        WHERE up.depth < ?2)
    SELECT up.member, up.grp, min(up.depth) AS d FROM up JOIN resources r ON r.id = up.grp
    GROUP BY up.member, up.grp ORDER BY d, min(r.seq)";

/// SQLite's spelling of the shared filter translation: one dynamically typed `value` column, `NOCASE`.
struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    fn compare(&self, column: Column, op: &str, value: &str, text: bool, case_exact: bool) -> String {
        let collate = if text && !case_exact { " COLLATE NOCASE" } else { "" };
        format!("{} {op} {value}{collate}", column_name(column))
    }

    fn in_list(&self, column: Column, values: &[String], case_exact: bool) -> String {
        let collate = if case_exact { "" } else { " COLLATE NOCASE" };
        format!("{}{collate} IN ({})", column_name(column), values.join(", "))
    }

    fn like(&self, column: Column, pattern: &str) -> String {
        format!("{} LIKE {pattern} ESCAPE '\\'", column_name(column))
    }

    fn has_value(&self) -> &'static str {
        "a.value IS NOT NULL AND a.value <> ''"
    }
}

fn column_name(c: Column) -> &'static str {
    match c {
        Column::Leaf => "a.value",
        Column::Member(name) => name,
    }
}

fn sql_value(p: Param) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match p {
        Param::Text(s) => Value::Text(s),
        Param::Integer(i) => Value::Integer(i),
        Param::Real(r) => Value::Real(r),
    }
}

fn order_by(q: &Query) -> Option<String> {
    let Some(key) = &q.sort else { return Some("r.seq".into()) };
    if !sql_filter::sortable(&key.path) {
        return None;
    }
    let collate = if key.case_exact { "" } else { " COLLATE NOCASE" };
    let dir = if key.descending { "DESC" } else { "ASC" };
    // Resources without the attribute sort last in ascending order (RFC 7644 §3.4.2.3).
    let expr = format!("json_extract(r.data, '$.{}')", key.path);
    Some(format!("({expr} IS NULL) {dir}, {expr}{collate} {dir}, r.seq"))
}

fn search(conn: &Connection, q: &Query) -> Result<Page, StorageError> {
    use rusqlite::types::Value as SqlValue;
    // The resource type is ?1; the filter's parameters follow it.
    let translated = match &q.filter {
        None => {
            Some(sql_filter::Translated { sql: sql_filter::TRUE.into(), params: vec![], exact: true, keyed: false })
        }
        Some(f) => sql_filter::translate(&Sqlite, &f.nodes, f.root, 1),
    };
    let mut params: Vec<SqlValue> = vec![SqlValue::Text(q.resource_type.clone())];
    // A keyed filter finds its few rows by id. Without statistics, SQLite would rather walk the type's
    // index and test every resource (1,000,000 users: ~150 ms for one `userName eq`), so the unary `+`
    // keeps it from using that index; an unkeyed filter (a negation, say) walks the type's rows as before.
    let rtype = if translated.as_ref().is_some_and(|t| t.keyed) { "+r.rtype" } else { "r.rtype" };
    let (condition, applied) = match translated {
        Some(t) => {
            params.extend(t.params.into_iter().map(sql_value));
            let applied = match (t.exact, order_by(q).is_some()) {
                (true, true) => Applies::Everything,
                (true, false) => Applies::FilterOnly,
                // Candidates: every match and maybe more; the engine checks each.
                (false, _) => Applies::Nothing,
            };
            (t.sql, applied)
        }
        None => (sql_filter::TRUE.to_string(), Applies::Nothing),
    };
    let base = format!("FROM resources r WHERE {rtype} = ?1 AND ({condition})");
    let (sql, applied) = if applied == Applies::Everything {
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*) {base}"))
            .map_err(db_error)?
            .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))
            .map_err(db_error)?;
        let order = order_by(q).expect("checked above");
        let sql = format!(
            "SELECT r.id, r.version, r.data {base} ORDER BY {order} LIMIT {} OFFSET {}",
            q.count,
            q.start_index.saturating_sub(1)
        );
        (sql, Applied::Everything(total as u64))
    } else {
        (format!("SELECT r.id, r.version, r.data {base} ORDER BY r.seq"), applied.without_total())
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            Ok(Stored { id: r.get(0)?, version: r.get::<_, i64>(1)?.to_string(), data: r.get(2)?, members: None })
        })
        .map_err(db_error)?;
    let mut items: Vec<Stored> = rows.collect::<Result<_, _>>().map_err(db_error)?;
    if !q.without_members {
        for item in &mut items {
            item.members = Some(load_members(conn, &item.id, 1, u32::MAX)?);
        }
    }
    Ok(Page { items, applied })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimkit_runtime::bindings::{CompareOp, Comparison, Filter, FilterNode, Literal};

    fn storage() -> (tempdir::Dir, SqliteStorage) {
        let dir = tempdir::Dir::new();
        let s = SqliteStorage::open(&dir.path.join("db.sqlite")).unwrap();
        (dir, s)
    }

    mod tempdir {
        pub struct Dir {
            pub path: std::path::PathBuf,
        }
        impl Dir {
            pub fn new() -> Dir {
                let path = std::env::temp_dir().join(format!("scimkit-sqlite-{}", scimkit_runtime::storage::new_id()));
                std::fs::create_dir_all(&path).unwrap();
                Dir { path }
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.path);
            }
        }
    }

    fn key(v: &str) -> Vec<UniqueKey> {
        vec![UniqueKey { attribute: "userName".into(), value: v.into() }]
    }

    fn eq(path: &str, v: &str) -> Query {
        Query {
            resource_type: "User".into(),
            filter: Some(Filter {
                nodes: vec![FilterNode::Compare(Comparison {
                    path: path.into(),
                    op: CompareOp::Eq,
                    value: Literal::Text(v.into()),
                    case_exact: false,
                })],
                root: 0,
            }),
            sort: None,
            start_index: 1,
            count: 10,
            without_members: true,
        }
    }

    #[test]
    fn uniqueness_is_enforced() {
        let (_d, s) = storage();
        s.create("User", r#"{"userName":"A"}"#, &key("a"), &[]).unwrap();
        assert_eq!(
            s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap_err(),
            StorageError::Conflict("userName".into())
        );
        // The failed create left nothing behind.
        assert_eq!(s.search(&Query { filter: None, ..eq("x", "y") }).unwrap().total(), Some(1));
    }

    #[test]
    fn filter_is_pushed_down_with_multi_valued_paths() {
        let (_d, s) = storage();
        s.create(
            "User",
            r#"{"userName":"bjensen","emails":[{"value":"b@x.org"},{"value":"B2@x.org"}]}"#,
            &key("bjensen"),
            &[],
        )
        .unwrap();
        s.create("User", r#"{"userName":"other"}"#, &key("other"), &[]).unwrap();
        let page = s.search(&eq("emails.value", "b2@X.org")).unwrap();
        assert!(matches!(page.applied, Applied::Everything(_)));
        assert_eq!(page.items.len(), 1);
        assert_eq!(s.search(&eq("userName", "BJENSEN")).unwrap().total(), Some(1));
    }

    #[test]
    fn conditional_update_and_member_delta() {
        let (_d, s) = storage();
        let g = s
            .create(
                "Group",
                r#"{"displayName":"g"}"#,
                &[],
                &[Member { value: "u1".into(), kind: Some("User".into()), display: None }],
            )
            .unwrap();
        let change = |v: &str| ResourceChange {
            resource_type: "Group".into(),
            id: g.id.clone(),
            data: None,
            unique: vec![],
            clear_members: false,
            remove_members: vec!["u1".into()],
            add_members: vec![Member { value: "u2".into(), kind: None, display: None }],
            if_version: Some(v.into()),
        };
        assert_eq!(s.update(&change("7")).unwrap_err(), StorageError::PreconditionFailed);
        let after = s.update(&change("1")).unwrap();
        assert_eq!(after.version, "2");
        let members = s.members("Group", &g.id, 1, 10).unwrap();
        assert_eq!(members.iter().map(|m| m.value.as_str()).collect::<Vec<_>>(), vec!["u2"]);
        s.delete("User", "u2", None).unwrap_err();
    }

    #[test]
    fn bulk_load_keeps_each_write_atomic_and_shows_batches_once_committed() {
        let dir = tempdir::Dir::new();
        let s = SqliteStorage::open_bulk(&dir.path.join("db.sqlite"), 100).unwrap();
        s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap();
        assert_eq!(
            s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap_err(),
            StorageError::Conflict("userName".into())
        );
        s.create("User", r#"{"userName":"b"}"#, &key("b"), &[]).unwrap();
        let all = || s.search(&Query { filter: None, ..eq("x", "y") }).unwrap().total();
        assert_eq!(all(), Some(0), "readers see only committed batches");
        s.flush().unwrap();
        assert_eq!(all(), Some(2));
        s.create("User", r#"{"userName":"c"}"#, &key("c"), &[]).unwrap();
        assert_eq!(s.search(&eq("userName", "C")).unwrap().items.len(), 0, "not committed yet");
        s.finish_bulk().unwrap();
        assert_eq!(all(), Some(3));
        let indexes: Vec<String> = s
            .read(|c| {
                let mut stmt = c.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").map_err(db_error)?;
                let names = stmt.query_map([], |r| r.get(0)).map_err(db_error)?;
                names.collect::<Result<_, _>>().map_err(db_error)
            })
            .unwrap();
        assert!(DEFERRED_INDEXES.iter().all(|i| indexes.iter().any(|n| n == i)), "built at the end: {indexes:?}");
        assert_eq!(s.search(&eq("userName", "C")).unwrap().items.len(), 1);
    }

    #[test]
    fn an_or_of_equalities_finds_what_each_finds() {
        let (_d, s) = storage();
        let member = |id: &str| Member { value: id.into(), kind: Some("User".into()), display: None };
        let a = s.create("Group", r#"{"displayName":"a"}"#, &[], &[member("u1"), member("u2")]).unwrap();
        let b = s.create("Group", r#"{"displayName":"b"}"#, &[], &[member("u3")]).unwrap();
        s.create("Group", r#"{"displayName":"c"}"#, &[], &[member("u4")]).unwrap();
        let any = |path: &str, exact: bool, values: &[&str]| {
            let mut nodes: Vec<FilterNode> = values
                .iter()
                .map(|v| {
                    FilterNode::Compare(Comparison {
                        path: path.into(),
                        op: CompareOp::Eq,
                        value: Literal::Text(v.to_string()),
                        case_exact: exact,
                    })
                })
                .collect();
            nodes.push(FilterNode::AnyOf((0..values.len() as u32).collect()));
            Query {
                resource_type: "Group".into(),
                filter: Some(Filter { root: values.len() as u32, nodes }),
                ..eq("x", "y")
            }
        };
        let found = s.search(&any("members.value", true, &["u2", "u3", "u9"])).unwrap();
        assert_eq!(found.items.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), vec![a.id.as_str(), b.id.as_str()]);
        assert_eq!(found.total(), Some(2));
        let by_name = s.search(&any("displayName", false, &["A", "c", "zz"])).unwrap();
        assert_eq!(by_name.total(), Some(2));
    }
}
