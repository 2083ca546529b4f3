//! The embedded default storage: SQLite (bundled), WAL mode, one writer and a pool of readers.
//!
//! Tables: `resources` (one row per resource, the body as JSON), `unique_keys` (the engine's uniqueness keys,
//! enforced by a primary key), `members` (group membership, one row per member, so that membership changes
//! cost the size of the change) and `attr_values` (every scalar leaf, for filter push-down).
//!
//! Writes are durable and committed as a group: writers that arrive while a transaction is being filled join it,
//! each in a savepoint of its own (a failed write rolls back to its savepoint only), and each, failed or not, is
//! answered only once its transaction is committed and synced to disk, with one sync for all of them, made
//! outside the writer connection's lock (see [`Durability`]).
//! The exception is the bulk-load mode of [`SqliteStorage::open_bulk`], meant only for filling a new database
//! before it serves.

use crate::events::journal::{self, Entry, Journal};
use crate::sql_filter::{self, Applies, Column, Dialect, Param};
use rusqlite::{params, Connection, OptionalExtension};
use scimkit_runtime::bindings::{
    Ancestry, Applied, ChangeEvent, Member, Page, Query, ResourceChange, StorageError, Stored, UniqueKey,
};
use scimkit_runtime::storage::{new_id, Storage};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
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
CREATE INDEX IF NOT EXISTS resources_by_type_id ON resources(rtype, id);
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
CREATE TABLE IF NOT EXISTS attr_values (rid INTEGER PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, value);
CREATE INDEX IF NOT EXISTS attr_values_by_id ON attr_values(id);
CREATE INDEX IF NOT EXISTS attr_values_nocase ON attr_values(path, value COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
";

/// The schema version this code writes, kept in `PRAGMA user_version`. 1: `attr_values.rid` and the trigram
/// index `attr_text`. 2: the trigram index is kept up to date per transaction ([`pending_text_sql`]), not by
/// triggers of the database, and leaves have one (path, value) index, case-blind (see [`Sqlite::compare`]).
/// 3: the trigram index leaves out the [`UNINDEXED_TEXT`] paths.
/// An older database is brought up to it when opened.
const VERSION: i64 = 3;

/// The paths whose text the trigram index leaves out: `meta.created` and `meta.lastModified` (RFC 7643 §3.1) are
/// dateTimes, compared by order, and were three fifths of a User's trigrams; every update rewrote those of
/// `lastModified`. A substring filter on them still works, by reading the path's leaves.
const UNINDEXED_TEXT: &[&str] = &["meta.created", "meta.lastModified"];

/// True when the trigram index holds the leaves of `path` (see [`UNINDEXED_TEXT`]).
fn trigram_indexed(path: &str) -> bool {
    !UNINDEXED_TEXT.contains(&path)
}

/// `path NOT IN (…)` of the leaves the trigram index holds, for the row `row` (`new`, `old`, or none).
fn indexed_path(row: &str) -> String {
    let list: Vec<String> = UNINDEXED_TEXT.iter().map(|p| format!("'{p}'")).collect();
    let column = if row.is_empty() { "path".to_string() } else { format!("{row}.path") };
    format!("{column} NOT IN ({})", list.join(", "))
}

/// The trigram index of leaves' text (FTS5, ASCII and Unicode case folded), through which `co`, `sw` and `ew`
/// of three characters or more find their few leaves instead of reading every leaf of the path. Its content is
/// the view of the leaves it holds; its rowid is `attr_values.rid`, an explicit key (VACUUM keeps it). It keeps
/// which leaves hold a trigram, not where nor any length (`detail = none`, `columnsize = 0`): a probe is trigrams
/// that must all be there ([`trigram_probe`]), and the `LIKE` beside it does the rest.
fn trigram_sql() -> String {
    format!(
        "
CREATE VIEW IF NOT EXISTS attr_text_source AS SELECT rid, value FROM attr_values WHERE {};
CREATE VIRTUAL TABLE IF NOT EXISTS attr_text USING fts5(
    value, content = 'attr_text_source', content_rowid = 'rid', tokenize = 'trigram case_sensitive 0',
    detail = none, columnsize = 0
);
",
        indexed_path("")
    )
}

/// How a writing connection keeps [`trigram_sql`]'s index up to date: its own (temporary) triggers note every
/// leaf written or removed, in order, and [`commit`] hands them to the index in one statement. FTS5 writes a new
/// segment of its index at every savepoint, and every write of a group is in its own: fed per row, the index
/// cost more than everything else a write does. The notes are in the transaction (a write rolled back to its
/// savepoint takes its notes with it) and never on disk.
fn pending_text_sql() -> String {
    let (new, old) = (indexed_path("new"), indexed_path("old"));
    format!(
        "
CREATE TEMP TABLE IF NOT EXISTS attr_text_pending (seq INTEGER PRIMARY KEY, command TEXT, rid INTEGER NOT NULL, value);
CREATE TEMP TRIGGER IF NOT EXISTS attr_text_insert AFTER INSERT ON main.attr_values WHEN {new} BEGIN
    INSERT INTO attr_text_pending (command, rid, value) VALUES (NULL, new.rid, new.value);
END;
CREATE TEMP TRIGGER IF NOT EXISTS attr_text_delete AFTER DELETE ON main.attr_values WHEN {old} BEGIN
    INSERT INTO attr_text_pending (command, rid, value) VALUES ('delete', old.rid, old.value);
END;
CREATE TEMP TRIGGER IF NOT EXISTS attr_text_update AFTER UPDATE ON main.attr_values BEGIN
    INSERT INTO attr_text_pending (command, rid, value) SELECT 'delete', old.rid, old.value WHERE {old};
    INSERT INTO attr_text_pending (command, rid, value) SELECT NULL, new.rid, new.value WHERE {new};
END;
"
    )
}

/// Triggers of [`pending_text_sql`], dropped while a bulk load fills an empty database (the index is built once at
/// the end, far cheaper than row by row).
const PENDING_TRIGGERS: &[&str] = &["attr_text_insert", "attr_text_delete", "attr_text_update"];

/// Commits the writer's transaction, with the trigram index brought up to date first, in the order the leaves
/// were written (a `rid` removed then reused is deleted from the index before it is added again).
fn commit(conn: &Connection) -> rusqlite::Result<()> {
    // Cached statements: a commit happens hundreds of times a second under load.
    conn.prepare_cached(
        "INSERT INTO main.attr_text (attr_text, rowid, value)
             SELECT command, rid, value FROM temp.attr_text_pending ORDER BY seq",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM temp.attr_text_pending")?.execute([])?;
    conn.execute_batch("COMMIT")
}

/// Brings the database to [`VERSION`], in one transaction that other processes wait for.
/// 0 → 1: `attr_values` gains its explicit key `rid` (rebuilt when it has none). 1 → 2: the triggers that fed
/// the trigram index row by row and the case-exact (path, value) index are dropped. → 3: the trigram index is
/// made again over the leaves it holds.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    if user_version(conn)? >= VERSION {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match migrate_locked(conn) {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// The steps of [`migrate`], inside its transaction; another process may have done them meanwhile.
fn migrate_locked(conn: &Connection) -> rusqlite::Result<()> {
    let version = user_version(conn)?;
    if version >= VERSION {
        return Ok(());
    }
    if version < 1 {
        let keyed: bool =
            conn.query_row("SELECT count(*) FROM pragma_table_info('attr_values') WHERE name = 'rid'", [], |r| {
                r.get(0)
            })?;
        if !keyed {
            conn.execute_batch(
                "ALTER TABLE attr_values RENAME TO attr_values_old;
                 CREATE TABLE attr_values (rid INTEGER PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, value);
                 INSERT INTO attr_values (id, path, value) SELECT id, path, value FROM attr_values_old ORDER BY rowid;
                 DROP TABLE attr_values_old;",
            )?;
            conn.execute_batch(SCHEMA)?;
        }
    }
    for t in PENDING_TRIGGERS {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS main.{t};"))?;
    }
    conn.execute_batch("DROP INDEX IF EXISTS attr_values_exact; DROP TABLE IF EXISTS attr_text;")?;
    conn.execute_batch(&trigram_sql())?;
    conn.execute_batch("INSERT INTO attr_text (attr_text) VALUES ('rebuild');")?;
    conn.pragma_update(None, "user_version", VERSION)
}

/// Indexes of [`SCHEMA`] that only searches read, not the checks a write makes.
const DEFERRED_INDEXES: &[&str] = &["attr_values_nocase", "members_by_member"];

pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: Mutex<Vec<Connection>>,
    /// Writers that want the writer connection or hold it: the last of them to finish its write commits.
    arriving: AtomicUsize,
    /// Transactions committed (or failed to commit) in normal mode, counted under the writer's lock.
    commits: AtomicU64,
    durability: Durability,
    /// Most candidates a search that leaves work to the engine reads (see [`Self::with_max_candidates`]).
    max_candidates: u64,
    cursor_key: String,
}

struct Writer {
    conn: Connection,
    /// Bulk-load mode: writes accumulate in one open transaction, committed every `batch` writes.
    bulk: Option<Batch>,
    /// The transaction being filled by a group of writers, and how many have joined it.
    group: Option<Arc<Commit>>,
    joined: usize,
}

/// Writers in one transaction at most: past it, the transaction is committed even while more arrive.
const MAX_GROUP: usize = 64;

/// The outcome of one group's transaction, which its writers wait for.
#[derive(Default)]
struct Commit {
    outcome: Mutex<Option<Result<(), StorageError>>>,
    done: Condvar,
}

impl Commit {
    fn finish(&self, outcome: Result<(), StorageError>) {
        *self.outcome.lock().unwrap() = Some(outcome);
        self.done.notify_all();
    }

    fn wait(&self) -> Result<(), StorageError> {
        let mut outcome = self.outcome.lock().unwrap();
        loop {
            if let Some(o) = &*outcome {
                return o.clone();
            }
            outcome = self.done.wait(outcome).unwrap();
        }
    }
}

struct Batch {
    size: usize,
    pending: usize,
}

/// How a commit is made durable. The writer connection commits with `synchronous=NORMAL`: COMMIT writes the
/// transaction's pages to the write-ahead log and releases the lock, and the writer that committed then syncs
/// the log itself, outside the lock, while the next group of writers fills its transaction. A sync covers every
/// commit written before it began, so a commit that another sync covered is not synced again. An acknowledged
/// write is as durable as with `synchronous=FULL`; what differs is that another connection may read a commit
/// up to one sync before it is on disk. (A checkpoint, which SQLite runs in the commit, syncs the log first
/// itself.)
struct Durability {
    /// The write-ahead log, opened by path for each sync: SQLite keeps no lock on it that closing a descriptor
    /// of this process could drop, and a path always names the log SQLite writes.
    wal: PathBuf,
    /// Commits known to be on disk. Held during a sync: syncs that would overlap queue, and most then find
    /// themselves covered.
    synced: Mutex<u64>,
    /// Set when a sync failed: what the kernel reports once may never be reported again (the pages can be
    /// marked clean without reaching the disk), so nothing written since can be acknowledged.
    failed: std::sync::atomic::AtomicBool,
}

impl Durability {
    fn new(db: &Path) -> Durability {
        Durability { wal: PathBuf::from(format!("{}-wal", db.display())), synced: Mutex::new(0), failed: false.into() }
    }

    /// Returns once commit number `commit` is on disk; `written` is the number of commits written so far.
    fn sync(&self, commit: u64, written: &AtomicU64) -> Result<(), StorageError> {
        let mut synced = self.synced.lock().unwrap();
        self.check()?;
        if *synced >= commit {
            return Ok(());
        }
        let upto = written.load(Ordering::SeqCst);
        match std::fs::File::open(&self.wal).and_then(|log| log.sync_data()) {
            Ok(()) => {
                *synced = upto;
                Ok(())
            }
            Err(e) => {
                self.failed.store(true, Ordering::SeqCst);
                tracing::error!(
                    "syncing {}: {e}; no write is acknowledged until the server restarts",
                    self.wal.display()
                );
                self.check()
            }
        }
    }

    fn check(&self) -> Result<(), StorageError> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(StorageError::Unavailable(
                "the database could not be synced to disk; the server must be restarted".into(),
            ));
        }
        Ok(())
    }
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

/// A connection with this host's settings; the request log and token records use it too.
pub(crate) fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    owner_only(path, "").map_err(cannot_open)?;
    conn.busy_handler(Some(wait_for_lock))?;
    // The writer alone runs some twenty statements for creations, updates, deletions and commits, a reader as
    // many lookups and searches: with rusqlite's sixteen, a mixed load prepared statements again all the time.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // A statement's plan does not depend on the values bound to it: without this, a bound LIKE pattern (every
    // substring filter) has SQLite prepare its statement again at every run, a sixth of such a search's time.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // WAL: readers never block the writer. synchronous=FULL: an acknowledged write survives power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    for suffix in ["-wal", "-shm"] {
        owner_only(path, suffix).map_err(cannot_open)?;
    }
    Ok(conn)
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// Waits for another connection's write lock (token records, another process) in
/// steps of 100 µs, giving up after 100,000 of them (10 s or more). SQLite's own handler sleeps 1, 2, 5, 10…
/// ms, far longer than such a transaction holds the lock, and every writer queued behind the one waiting
/// waits as long.
fn wait_for_lock(attempt: i32) -> bool {
    std::thread::sleep(Duration::from_micros(100));
    attempt < 100_000
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
        migrate(&conn)?;
        conn.execute_batch(journal::SQLITE_SCHEMA)?;
        conn.execute_batch(&format!("PRAGMA temp_store = MEMORY; {}", pending_text_sql()))?;
        conn.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES ('cursor', ?1)", [crate::new_secret()])?;
        let cursor_key = conn.query_row("SELECT value FROM secrets WHERE name = 'cursor'", [], |r| r.get(0))?;
        // The commits of the group write are synced by `Durability`, outside the lock.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let writer = Writer { conn, bulk: None, group: None, joined: 0 };
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            arriving: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
            durability: Durability::new(path),
            max_candidates: u64::MAX,
            cursor_key,
        })
    }

    /// The key this tenant's cursors are signed with: made when the database is created and kept in it, so
    /// that every process serving the tenant checks the cursors of the others. Never logged.
    pub fn cursor_key(&self) -> &str {
        &self.cursor_key
    }

    /// A search whose filter or sort the engine finishes reads at most `max + 1` candidates: the engine
    /// answers 400 `tooMany` past its `maxCandidates`, so reading further would only cost memory.
    pub fn with_max_candidates(mut self, max: u64) -> SqliteStorage {
        self.max_candidates = max;
        self
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
                let indexes = DEFERRED_INDEXES.iter().map(|i| format!("DROP INDEX IF EXISTS {i};"));
                let triggers = PENDING_TRIGGERS.iter().map(|t| format!("DROP TRIGGER IF EXISTS temp.{t};"));
                // Version 0 until the end: a load that stops early has the next open build the trigram index.
                w.conn.execute_batch(&format!(
                    "{} PRAGMA user_version = 0;",
                    indexes.chain(triggers).collect::<String>()
                ))?;
            }
            w.bulk = Some(Batch { size: batch.max(1), pending: 0 });
        }
        Ok(storage)
    }

    /// Commits the pending batch of a bulk load.
    pub fn flush(&self) -> anyhow::Result<()> {
        let mut w = self.writer.lock().unwrap();
        if !w.conn.is_autocommit() {
            commit(&w.conn)?;
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
        migrate(&w.conn)?;
        w.conn.execute_batch(&pending_text_sql())?;
        // The checkpoint syncs the whole load into the database; later commits are synced by `Durability`.
        w.conn.execute_batch("PRAGMA synchronous = NORMAL; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
        let conn = self.readers.lock().unwrap().pop();
        let conn = match conn {
            Some(c) => c,
            None => reader(&self.path).map_err(db_error)?,
        };
        let result = f(&conn);
        self.readers.lock().unwrap().push(conn);
        result
    }

    /// Transactions committed in normal mode so far: fewer than the writes when writers were grouped.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// One write, in a savepoint of the group's transaction; answered once that transaction is committed and
    /// on disk.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
        self.write_as(Undo::Savepoint, f)
    }

    /// One write in the group's transaction, made atomic as `undo` says; answered once that transaction is
    /// committed and on disk.
    fn write_as<T>(
        &self,
        undo: Undo,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.durability.check()?;
        self.arriving.fetch_add(1, Ordering::SeqCst);
        let mut w = self.writer.lock().unwrap();
        if let Writer { conn, bulk: Some(batch), .. } = &mut *w {
            self.arriving.fetch_sub(1, Ordering::SeqCst);
            return bulk_write(conn, batch, f);
        }
        let written = join(&mut w, undo, f);
        if written.is_ok() {
            w.joined += 1;
        }
        // No writer is waiting to join: nothing is gained by holding the transaction open longer.
        let last = self.arriving.fetch_sub(1, Ordering::SeqCst) == 1;
        if (last || w.joined >= MAX_GROUP) && !w.conn.is_autocommit() {
            let group = w.group.take();
            w.joined = 0;
            let outcome = commit(&w.conn).map_err(db_error);
            if outcome.is_err() && !w.conn.is_autocommit() {
                let _ = w.conn.execute_batch("ROLLBACK");
            }
            let number = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
            drop(w);
            let outcome = outcome.and_then(|()| self.durability.sync(number, &self.commits));
            if let Some(group) = group {
                group.finish(outcome);
            }
        } else {
            drop(w);
        }
        let (value, group) = written?;
        match value {
            Ok(value) => group.wait().map(|()| value),
            // A write that lost to another of its transaction (a version or a unique value taken) is answered
            // once that one is committed, so that a retry reads what beat it rather than losing again.
            Err(e) => {
                let _ = group.wait();
                Err(e)
            }
        }
    }
}

/// A write's own outcome and the group it joined; the outer error is the transaction's.
type Joined<T> = Result<(Result<T, StorageError>, Arc<Commit>), StorageError>;

/// How one write of a group is undone when it fails, leaving the others of its transaction as they were.
#[derive(Clone, Copy)]
enum Undo {
    /// It runs in a savepoint of its own and is rolled back to it.
    Savepoint,
    /// It finds every failure a request can cause before it changes anything, so there is nothing to undo and
    /// no savepoint is taken (a savepoint copies each page the write changes first: a tenth of a creation's
    /// time). Should it fail after changing something all the same, the whole transaction is rolled back and
    /// every write in it fails.
    ChecksFirst,
}

/// Runs `f` in the group's transaction (beginning one when none is open), undone as `undo` says. A failed
/// write leaves nothing behind; its error comes back with the group, whose commit is still to be waited for.
fn join<T>(w: &mut Writer, undo: Undo, f: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Joined<T> {
    if w.conn.is_autocommit() {
        // IMMEDIATE: take the write lock first, so that check-then-write is atomic across processes too.
        w.conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
        w.group = Some(Arc::default());
    }
    let group = w.group.clone().unwrap_or_default();
    if let Undo::ChecksFirst = undo {
        let before = w.conn.total_changes();
        return match f(&w.conn) {
            Ok(value) => Ok((Ok(value), group)),
            Err(e) if w.conn.total_changes() == before => Ok((Err(e), group)),
            Err(e) => {
                tracing::error!("a write failed after changing the database; its transaction is rolled back: {e:?}");
                let _ = w.conn.execute_batch("ROLLBACK");
                w.group = None;
                w.joined = 0;
                group.finish(Err(e.clone()));
                Err(e)
            }
        };
    }
    let sp = w.conn.savepoint().map_err(db_error)?;
    let value = match f(&sp) {
        Ok(value) => value,
        Err(e) => return Ok((Err(e), group)),
    };
    sp.commit().map_err(db_error)?;
    Ok((Ok(value), group))
}

fn bulk_write<T>(
    conn: &mut Connection,
    batch: &mut Batch,
    f: impl FnOnce(&Connection) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    if conn.is_autocommit() {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
    }
    // A failed write rolls back to its savepoint only (dropping it uncommitted), not the whole batch.
    let sp = conn.savepoint().map_err(db_error)?;
    let value = f(&sp)?;
    sp.commit().map_err(db_error)?;
    batch.pending += 1;
    if batch.pending >= batch.size {
        commit(conn).map_err(db_error)?;
        batch.pending = 0;
    }
    Ok(value)
}

/// A reader reads through its own page cache, not a memory map of the file: every write changes the database,
/// and SQLite then unmaps the whole file from each reader at its next read (a PATCH, which reads twice, spent a
/// tenth of its time unmapping and faulting pages in again). Through the cache a reader copies the pages it
/// needs instead: PATCH gained a tenth or more, searches lost up to a tenth (BENCHMARKS.md, "Writes").
fn reader(path: &Path) -> rusqlite::Result<Connection> {
    open_connection(path)
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

/// The attribute of the first of `keys` that a resource other than `id` holds.
fn unique_taken(tx: &Connection, rtype: &str, id: &str, keys: &[UniqueKey]) -> Result<Option<String>, StorageError> {
    let mut stmt = tx
        .prepare_cached("SELECT id FROM unique_keys WHERE rtype = ?1 AND attribute = ?2 AND value = ?3")
        .map_err(db_error)?;
    for k in keys {
        let holder: Option<String> =
            stmt.query_row(params![rtype, k.attribute, k.value], |r| r.get(0)).optional().map_err(db_error)?;
        if holder.is_some_and(|h| h != id) {
            return Ok(Some(k.attribute.clone()));
        }
    }
    Ok(None)
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
        // OR FAIL: no constraint can fail here, and without it the trigger made SQLite keep a journal of every
        // page the statement changed, to undo the statement alone (a twentieth of a creation's time).
        tx.prepare_cached("INSERT OR FAIL INTO attr_values (id, path, value) VALUES (?1, ?2, ?3)").map_err(db_error)?;
    for (path, value) in leaves {
        stmt.execute(params![id, path, sql_value(value.clone())]).map_err(db_error)?;
    }
    Ok(())
}

/// Makes the resource's uniqueness keys `keys`, touching only those that changed: a PATCH of `displayName`
/// leaves `userName`'s key, and its index entries, as they were.
fn replace_unique(tx: &Connection, rtype: &str, id: &str, keys: &[UniqueKey]) -> Result<(), StorageError> {
    let mut kept: Vec<(String, String)> = tx
        .prepare_cached("SELECT attribute, value FROM unique_keys WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(db_error)?;
    let mut added = Vec::new();
    for k in keys {
        match kept.iter().position(|(a, v)| *a == k.attribute && *v == k.value) {
            Some(i) => {
                kept.swap_remove(i);
            }
            None => added.push(k.clone()),
        }
    }
    let mut remove = tx
        .prepare_cached("DELETE FROM unique_keys WHERE rtype = ?1 AND attribute = ?2 AND value = ?3 AND id = ?4")
        .map_err(db_error)?;
    for (attribute, value) in &kept {
        remove.execute(params![rtype, attribute, value, id]).map_err(db_error)?;
    }
    put_unique(tx, rtype, id, &added)
}

/// Makes the resource's `attr_values` rows `leaves`, writing only the leaves that changed (each row costs its
/// indexes and the trigram index): a PATCH of `displayName` rewrites two leaves, not every one. A leaf whose
/// path stays and whose value changed is updated in place, keeping its row and its entry in the index by id.
fn replace_values(tx: &Connection, id: &str, leaves: &[(String, Param)]) -> Result<(), StorageError> {
    let mut stale: HashMap<(String, LeafValue), Vec<i64>> = HashMap::new();
    let mut stmt = tx.prepare_cached("SELECT rid, path, value FROM attr_values WHERE id = ?1").map_err(db_error)?;
    let rows = stmt
        .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, rusqlite::types::Value>(2)?)))
        .map_err(db_error)?;
    for row in rows {
        let (rid, path, value) = row.map_err(db_error)?;
        stale.entry((path, LeafValue::of(value))).or_default().push(rid);
    }
    let mut fresh = Vec::new();
    for (path, value) in leaves {
        let key = (path.clone(), LeafValue::of(sql_value(value.clone())));
        match stale.get_mut(&key).and_then(Vec::pop) {
            Some(_) => {}
            None => fresh.push((path.clone(), value.clone())),
        }
    }
    let mut reusable: HashMap<String, Vec<i64>> = HashMap::new();
    for ((path, _), rids) in stale {
        reusable.entry(path).or_default().extend(rids);
    }
    let mut set = tx.prepare_cached("UPDATE OR FAIL attr_values SET value = ?2 WHERE rid = ?1").map_err(db_error)?;
    let mut added = Vec::new();
    for (path, value) in fresh {
        match reusable.get_mut(&path).and_then(Vec::pop) {
            Some(rid) => set.execute(params![rid, sql_value(value)]).map(drop).map_err(db_error)?,
            None => added.push((path, value)),
        }
    }
    let mut remove = tx.prepare_cached("DELETE FROM attr_values WHERE rid = ?1").map_err(db_error)?;
    for rid in reusable.into_values().flatten() {
        remove.execute([rid]).map_err(db_error)?;
    }
    put_values(tx, id, &added)
}

/// A stored leaf's value, compared as SQLite compares it (`=`, binary): a real by its bits, so that it can key
/// a map.
#[derive(PartialEq, Eq, Hash)]
enum LeafValue {
    Null,
    Integer(i64),
    Real(u64),
    Text(String),
    Blob(Vec<u8>),
}

impl LeafValue {
    fn of(v: rusqlite::types::Value) -> LeafValue {
        use rusqlite::types::Value as V;
        match v {
            V::Null => LeafValue::Null,
            V::Integer(i) => LeafValue::Integer(i),
            V::Real(f) => LeafValue::Real(f.to_bits()),
            V::Text(t) => LeafValue::Text(t),
            V::Blob(b) => LeafValue::Blob(b),
        }
    }
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
        self.create_journaled(rtype, data, unique, members, None)
    }

    fn create_journaled(
        &self,
        rtype: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
        change: Option<&ChangeEvent>,
    ) -> Result<Stored, StorageError> {
        let id = new_id();
        let leaves = leaves(data)?;
        self.write_as(Undo::ChecksFirst, |tx| {
            if let Some(attribute) = unique_taken(tx, rtype, &id, unique)? {
                return Err(StorageError::Conflict(attribute));
            }
            tx.prepare_cached("INSERT INTO resources (rtype, id, version, data) VALUES (?1, ?2, 1, ?3)")
                .map_err(db_error)?
                .execute(params![rtype, id, data])
                .map_err(db_error)?;
            put_unique(tx, rtype, &id, unique)?;
            put_values(tx, &id, &leaves)?;
            add_members(tx, &id, members)?;
            journal::append_sqlite(tx, change, &id, "1")
        })?;
        Ok(Stored { id, version: "1".into(), data: data.to_string(), members: None })
    }

    fn update(&self, c: &ResourceChange) -> Result<Stored, StorageError> {
        self.update_journaled(c, None)
    }

    fn update_journaled(&self, c: &ResourceChange, event: Option<&ChangeEvent>) -> Result<Stored, StorageError> {
        let leaves = c.data.as_deref().map(leaves).transpose()?;
        self.write_as(Undo::ChecksFirst, |tx| {
            let version = check_version(tx, &c.resource_type, &c.id, c.if_version.as_deref())? + 1;
            if leaves.is_some() {
                if let Some(attribute) = unique_taken(tx, &c.resource_type, &c.id, &c.unique)? {
                    return Err(StorageError::Conflict(attribute));
                }
            }
            if let Some(leaves) = &leaves {
                replace_unique(tx, &c.resource_type, &c.id, &c.unique)?;
                replace_values(tx, &c.id, leaves)?;
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
            let data = match &c.data {
                Some(data) => data.clone(),
                None => tx
                    .prepare_cached("SELECT data FROM resources WHERE id = ?1")
                    .map_err(db_error)?
                    .query_row([&c.id], |r| r.get(0))
                    .map_err(db_error)?,
            };
            journal::append_sqlite(tx, event, &c.id, &version.to_string())?;
            Ok(Stored { id: c.id.clone(), version: version.to_string(), data, members: None })
        })
    }

    fn delete(&self, rtype: &str, id: &str, if_version: Option<&str>) -> Result<(), StorageError> {
        self.delete_journaled(rtype, id, if_version, None)
    }

    fn delete_journaled(
        &self,
        rtype: &str,
        id: &str,
        if_version: Option<&str>,
        change: Option<&ChangeEvent>,
    ) -> Result<(), StorageError> {
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
            journal::append_sqlite(tx, change, id, "")
        })
    }

    fn search(&self, q: &Query) -> Result<Page, StorageError> {
        self.read(|conn| search(conn, q, self.max_candidates))
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
                let sql = ancestors_sql(chunk.len());
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
/// `CROSS JOIN` keeps SQLite's join order: from the members by member id, then their groups by id. Left to
/// choose without statistics, it walked every group of the type for each member (1,000 groups of 20 members:
/// 50 ms for a page of 50 users instead of under 2); the last join, left free, may read every resource's id
/// instead of looking the groups up (80 µs for one member among 2,000 users instead of 5).
const ANCESTORS_HEAD: &str = "WITH RECURSIVE up(member, grp, depth) AS (
    SELECT m.member_id, m.group_id, 1 FROM members m CROSS JOIN resources r ON r.id = m.group_id AND r.rtype = ?1";
const ANCESTORS_TAIL: &str = "UNION SELECT up.member, m.group_id, up.depth + 1 FROM up
        CROSS JOIN members m ON m.member_id = up.grp CROSS JOIN resources r ON r.id = m.group_id AND r.rtype = ?1
        WHERE up.depth < ?2)
    SELECT up.member, up.grp, min(up.depth) AS d FROM up CROSS JOIN resources r ON r.id = up.grp
    GROUP BY up.member, up.grp ORDER BY d, min(r.seq)";

/// The ancestors of `count` members, bound from ?3 on.
fn ancestors_sql(count: usize) -> String {
    let marks: Vec<String> = (0..count).map(|i| format!("?{}", i + 3)).collect();
    format!("{ANCESTORS_HEAD} WHERE m.member_id IN ({}) {ANCESTORS_TAIL}", marks.join(", "))
}

impl Journal for SqliteStorage {
    fn after(&self, seq: i64, limit: usize) -> anyhow::Result<Vec<Entry>> {
        self.read(|c| journal::sqlite_after(c, seq, limit).map_err(db_error)).map_err(journal::failed)
    }

    fn cursor(&self, receiver: &str) -> anyhow::Result<i64> {
        let seq = self
            .read(|c| {
                c.query_row("SELECT seq FROM event_cursors WHERE receiver = ?1", [receiver], |r| r.get(0))
                    .optional()
                    .map_err(db_error)
            })
            .map_err(journal::failed)?;
        Ok(seq.unwrap_or(0))
    }

    fn advance(&self, receiver: &str, from: i64, to: i64) -> anyhow::Result<bool> {
        self.write(|tx| {
            let sql = "INSERT INTO event_cursors (receiver, seq) VALUES (?1, ?3)
                       ON CONFLICT (receiver) DO UPDATE SET seq = ?3 WHERE event_cursors.seq = ?2";
            tx.execute(sql, params![receiver, from, to]).map(|n| n == 1).map_err(db_error)
        })
        .map_err(journal::failed)
    }

    fn rewind(&self, receiver: &str, to: i64) -> anyhow::Result<()> {
        self.write(|tx| {
            let sql = "INSERT INTO event_cursors (receiver, seq) VALUES (?1, ?2)
                       ON CONFLICT (receiver) DO UPDATE SET seq = ?2";
            tx.execute(sql, params![receiver, to]).map_err(db_error)
        })
        .map_err(journal::failed)?;
        Ok(())
    }

    fn last(&self) -> anyhow::Result<i64> {
        self.read(|c| c.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0)).map_err(db_error))
            .map_err(journal::failed)
    }

    fn prune(&self, through: i64, older_than: Option<i64>, keep: Option<u64>) -> anyhow::Result<u64> {
        self.write(|tx| {
            let past_kept: Option<i64> = match keep {
                Some(k) => {
                    tx.query_row(journal::SQLITE_PAST_KEPT, [k as i64], |r| r.get(0)).optional().map_err(db_error)?
                }
                None => None,
            };
            let n = tx
                .execute(
                    journal::SQLITE_PRUNE,
                    params![through, older_than.unwrap_or(i64::MIN), past_kept.unwrap_or(0)],
                )
                .map_err(db_error)?;
            Ok(n as u64)
        })
        .map_err(journal::failed)
    }
}

/// SQLite's spelling of the shared filter translation: one dynamically typed `value` column, `NOCASE`.
struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    /// A leaf is found through its one (path, value) index, which is case-blind: a number compares the same
    /// under any collation, and a case-exact equality is a case-blind one (found through the index) that
    /// also holds byte for byte. Only a case-exact order of text reads the path's leaves in turn.
    fn compare(&self, column: Column, op: &str, value: &str, text: bool, case_exact: bool) -> String {
        let name = column_name(column);
        match (column, text && case_exact) {
            (Column::Leaf, false) => format!("{name} {op} {value} COLLATE NOCASE"),
            (Column::Leaf, true) if op == "=" => format!("({name} = {value} COLLATE NOCASE AND {name} = {value})"),
            (_, true) => format!("{name} {op} {value}"),
            (_, false) if text => format!("{name} {op} {value} COLLATE NOCASE"),
            (_, false) => format!("{name} {op} {value}"),
        }
    }

    fn in_list(&self, column: Column, values: &[String], case_exact: bool) -> String {
        let (name, values) = (column_name(column), values.join(", "));
        match (column, case_exact) {
            (Column::Leaf, true) => format!("({name} COLLATE NOCASE IN ({values}) AND {name} IN ({values}))"),
            (_, true) => format!("{name} IN ({values})"),
            (_, false) => format!("{name} COLLATE NOCASE IN ({values})"),
        }
    }

    fn like(&self, column: Column, pattern: &str) -> String {
        format!("{} LIKE {pattern} ESCAPE '\\'", column_name(column))
    }

    fn has_value(&self) -> &'static str {
        "a.value IS NOT NULL AND a.value <> ''"
    }

    /// The unary `+` keeps SQLite off the (path, value) indexes, which it would otherwise walk for every resource.
    fn path_of_own_leaves(&self) -> &'static str {
        "+a.path"
    }

    /// Leaves holding every trigram of [`covering_trigrams`]: all that hold the needle, and maybe a few more,
    /// which the `LIKE` beside it leaves out.
    fn substring_index(&self, path: &str, needle: &str) -> Option<(Param, sql_filter::ReadThrough)> {
        if !trigram_indexed(path) {
            return None;
        }
        // CROSS JOIN: the index finds the leaves; reading every leaf of the path instead is what it avoids.
        let from = |probe: &str| {
            format!("FROM attr_text CROSS JOIN attr_values a ON a.rid = attr_text.rowid WHERE attr_text MATCH {probe}")
        };
        Some((Param::Text(trigram_probe(needle)), from))
    }
}

/// The query of the trigram index for leaves holding every trigram of [`covering_trigrams`].
fn trigram_probe(needle: &str) -> String {
    let quoted: Vec<String> =
        covering_trigrams(needle).iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect();
    quoted.join(" AND ")
}

/// The needle's trigrams that do not overlap (the first, the fourth, …) and its last: every character of the
/// needle is in one of them. Matching them all, in any place, is far cheaper than matching the needle as a
/// phrase (every trigram, in a row), whose common trigrams (`use` of `user…`, in every `userName`) have
/// long lists of places to compare.
fn covering_trigrams(needle: &str) -> Vec<String> {
    let chars: Vec<char> = needle.chars().collect();
    let last = chars.len().saturating_sub(3);
    let mut starts: Vec<usize> = (0..=last).step_by(3).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    starts.into_iter().map(|i| chars[i..(i + 3).min(chars.len())].iter().collect()).collect()
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

fn search(conn: &Connection, q: &Query, max_candidates: u64) -> Result<Page, StorageError> {
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
    let paged = applied == Applies::Everything;
    // A cursor page without `sort` walks the (rtype, id) index from the last id seen: the last page costs
    // what the first does. With `sort`, the engine pages the matches itself.
    let keyset = q.keyset.as_ref().filter(|_| paged && q.sort.is_none());
    let counted_params = params.len();
    let sql = if let Some(k) = keyset {
        let after = match &k.after {
            Some(p) => {
                params.push(SqlValue::Text(p.id.clone()));
                format!(" AND r.id > ?{}", params.len())
            }
            None => String::new(),
        };
        format!("SELECT r.id, r.version, r.data, r.seq {base}{after} ORDER BY r.id LIMIT {}", k.count)
    } else if paged {
        let order = order_by(q).expect("checked above");
        format!(
            "SELECT r.id, r.version, r.data, r.seq {base} ORDER BY {order} LIMIT {} OFFSET {}",
            q.count,
            q.start_index.saturating_sub(1)
        )
    } else {
        let limit = i64::try_from(max_candidates.saturating_add(1)).unwrap_or(-1);
        format!("SELECT r.id, r.version, r.data, r.seq {base} ORDER BY r.seq LIMIT {limit}")
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
    let mut last_seq = None;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            last_seq = Some(r.get::<_, i64>(3)?);
            Ok(Stored { id: r.get(0)?, version: r.get::<_, i64>(1)?.to_string(), data: r.get(2)?, members: None })
        })
        .map_err(db_error)?;
    let mut items: Vec<Stored> = rows.collect::<Result<_, _>>().map_err(db_error)?;
    // The matches, or with `after` those created after it.
    let count = |after: Option<i64>| -> Result<u64, StorageError> {
        let mut counted_by: Vec<&SqlValue> = params[..counted_params].iter().collect();
        let past = after.map(SqlValue::Integer);
        let sql = match &past {
            Some(seq) => {
                counted_by.push(seq);
                format!("SELECT count(*) {base} AND r.seq > ?{}", counted_by.len())
            }
            None => format!("SELECT count(*) {base}"),
        };
        let counted: i64 = conn
            .prepare_cached(&sql)
            .map_err(db_error)?
            .query_row(rusqlite::params_from_iter(counted_by), |r| r.get(0))
            .map_err(db_error)?;
        Ok(counted as u64)
    };
    let applied = if keyset.is_some() {
        Applied::Keyset(count(None)?)
    } else if paged {
        // A page that is not full holds the last matches: the total is known without running the filter again
        // to count (unless the page is empty past the first, which says nothing of how many came before).
        let skipped = u64::from(q.start_index.saturating_sub(1));
        let short = (items.len() as u64) < u64::from(q.count);
        let shown = skipped + items.len() as u64;
        let total = match (q.sort.is_none(), last_seq) {
            _ if short && (!items.is_empty() || skipped == 0) => shown,
            // In creation order, a page that is not empty follows exactly the skipped matches: only those after
            // it are counted, instead of the skipped ones a second time.
            (true, Some(last)) => shown + count(Some(last))?,
            _ => count(None)?,
        };
        Applied::Everything(total)
    } else {
        applied.without_total()
    };
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
    use scimkit_runtime::bindings::{CompareOp, Comparison, Filter, FilterNode, Literal, SortKey};

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
            keyset: None,
        }
    }

    fn compare(path: &str, op: CompareOp, v: &str, case_exact: bool) -> Query {
        let mut q = eq(path, v);
        if let Some(FilterNode::Compare(c)) = q.filter.as_mut().map(|f| &mut f.nodes[0]) {
            c.op = op;
            c.case_exact = case_exact;
        }
        q
    }

    fn ids(page: &Page) -> Vec<&str> {
        page.items.iter().map(|i| i.id.as_str()).collect()
    }

    /// Leaves the trigram index finds for `needle`.
    fn indexed(s: &SqliteStorage, needle: &str) -> i64 {
        s.read(|c| {
            c.query_row("SELECT count(*) FROM attr_text WHERE attr_text MATCH ?1", [trigram_probe(needle)], |r| {
                r.get(0)
            })
            .map_err(db_error)
        })
        .unwrap()
    }

    /// A keyset walk: pages in id order, each starting strictly after the last id seen, with the total of
    /// every match; deleting the last id seen does not lose the walk's place.
    #[test]
    fn a_keyset_walk_pages_by_id_after_the_last_one_seen() {
        use scimkit_runtime::bindings::{Keyset, Position};
        let (_d, s) = storage();
        let mut made: Vec<String> =
            (0..7).map(|i| s.create("User", "{}", &key(&format!("u{i}")), &[]).unwrap().id).collect();
        s.create("Group", "{}", &[], &[]).unwrap();
        made.sort();
        let walk = |after: Option<&str>| {
            let keyset = Keyset { after: after.map(|id| Position { value: Literal::Null, id: id.into() }), count: 3 };
            let q = Query { filter: None, count: u32::MAX, keyset: Some(keyset), ..eq("x", "y") };
            s.search(&q).unwrap()
        };
        let first = walk(None);
        assert_eq!((ids(&first), first.applied), (made[..3].iter().map(String::as_str).collect(), Applied::Keyset(7)));
        s.delete("User", &made[2], None).unwrap();
        let second = walk(Some(&made[2]));
        assert_eq!(
            (ids(&second), second.applied),
            (made[3..6].iter().map(String::as_str).collect(), Applied::Keyset(6))
        );
        assert_eq!(ids(&walk(Some(&made[5]))), vec![made[6].as_str()]);
        assert!(walk(Some(&made[6])).items.is_empty());
        let plan: String = s
            .read(|c| {
                c.query_row(
                    "EXPLAIN QUERY PLAN SELECT r.id FROM resources r WHERE r.rtype = 'User' AND (1) AND r.id > 'x' \
                     ORDER BY r.id LIMIT 3",
                    [],
                    |r| r.get(3),
                )
                .map_err(db_error)
            })
            .unwrap();
        assert!(plan.contains("resources_by_type_id"), "the walk reads the (rtype, id) index: {plan}");
    }

    #[test]
    fn substrings_are_found_through_the_trigram_index() {
        let (_d, s) = storage();
        let alice = r#"{"userName":"alice","emails":[{"value":"Alice@Wonder.land"}]}"#;
        let a = s.create("User", alice, &key("alice"), &[]).unwrap();
        let b =
            s.create("User", r#"{"userName":"bob","emails":[{"value":"bob@w_nder.land"}]}"#, &key("bob"), &[]).unwrap();
        assert_eq!(indexed(&s, "wonder"), 1);
        for (op, needle) in [(CompareOp::Co, "WONDER"), (CompareOp::Sw, "alice@"), (CompareOp::Ew, "WONDER.LAND")] {
            let page = s.search(&compare("emails.value", op, needle, false)).unwrap();
            assert_eq!((ids(&page), page.total()), (vec![a.id.as_str()], Some(1)), "{op:?} {needle}");
        }
        // `_` is a character, not a wildcard; two characters are below a trigram and still found.
        assert_eq!(ids(&s.search(&compare("emails.value", CompareOp::Co, "w_nd", false)).unwrap()), vec![&b.id]);
        assert_eq!(s.search(&compare("emails.value", CompareOp::Co, "@w", false)).unwrap().items.len(), 2);
        // Case-exact: candidates that the engine compares exactly.
        let exact = s.search(&compare("emails.value", CompareOp::Co, "wonder", true)).unwrap();
        assert_eq!((ids(&exact), exact.applied), (vec![a.id.as_str()], Applied::Nothing));
        // Writes keep the index: an update replaces the leaves, a delete removes them.
        let change = ResourceChange {
            resource_type: "User".into(),
            id: a.id.clone(),
            data: Some(r#"{"userName":"alice","emails":[{"value":"alice@looking.glass"}]}"#.into()),
            unique: key("alice"),
            clear_members: false,
            remove_members: vec![],
            add_members: vec![],
            if_version: None,
        };
        s.update(&change).unwrap();
        assert_eq!((indexed(&s, "wonder"), indexed(&s, "looking")), (0, 1));
        s.delete("User", &b.id, None).unwrap();
        assert_eq!(indexed(&s, "w_nder"), 0);
    }

    #[test]
    fn an_update_rewrites_only_the_leaves_that_changed_and_every_index_follows() {
        let (_d, s) = storage();
        let body = |display: &str| {
            format!(
                r#"{{"userName":"alice","displayName":"{display}","emails":[{{"value":"a@x.org"}},{{"value":"a@x.org"}}],"active":true,"x":1.5}}"#
            )
        };
        let a = s.create("User", &body("Old Queen"), &key("alice"), &[]).unwrap();
        let rows = |s: &SqliteStorage| -> Vec<(i64, String)> {
            s.read(|c| {
                let mut stmt = c.prepare("SELECT rid, path FROM attr_values ORDER BY rid").map_err(db_error)?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db_error)?;
                rows.collect::<Result<_, _>>().map_err(db_error)
            })
            .unwrap()
        };
        let before = rows(&s);
        let change = |data: String, unique: Vec<UniqueKey>| ResourceChange {
            resource_type: "User".into(),
            id: a.id.clone(),
            data: Some(data),
            unique,
            clear_members: false,
            remove_members: vec![],
            add_members: vec![],
            if_version: None,
        };
        s.update(&change(body("New Queen"), key("alice"))).unwrap();
        // Every leaf kept its row (both equal emails too); `displayName` was changed in place.
        assert_eq!(rows(&s), before);
        assert_eq!((indexed(&s, "Old Queen"), indexed(&s, "New Queen")), (0, 1));
        assert_eq!(ids(&s.search(&eq("displayName", "new queen")).unwrap()), vec![&a.id]);
        assert!(s.search(&eq("displayName", "old queen")).unwrap().items.is_empty());
        // One email fewer, and a new userName: the old key is free again, the new one taken.
        let one_email = r#"{"userName":"alicia","displayName":"New Queen","emails":[{"value":"a@x.org"}]}"#;
        s.update(&change(one_email.into(), key("alicia"))).unwrap();
        assert_eq!(rows(&s).iter().filter(|(_, p)| p == "emails.value").count(), 1);
        s.create("User", r#"{"userName":"alice"}"#, &key("alice"), &[]).unwrap();
        let taken = s.create("User", r#"{"userName":"alicia"}"#, &key("alicia"), &[]).unwrap_err();
        assert_eq!(taken, StorageError::Conflict("userName".into()));
        // The trigram index matches its content, rows removed and their rids reused included.
        s.delete("User", &a.id, None).unwrap();
        s.create("User", r#"{"userName":"carol","emails":[{"value":"carol@x.org"}]}"#, &key("carol"), &[]).unwrap();
        s.read(|c| c.execute_batch("INSERT INTO attr_text (attr_text) VALUES ('integrity-check')").map_err(db_error))
            .unwrap();
        assert_eq!((indexed(&s, "New Queen"), indexed(&s, "carol@")), (0, 1));
    }

    /// `meta.created` and `meta.lastModified` have no trigrams (an update rewrote those of `lastModified`
    /// every time), and a substring filter on them reads the path's leaves instead.
    #[test]
    fn date_times_are_left_out_of_the_trigram_index_and_still_found_by_substring() {
        let (_d, s) = storage();
        let body = |at: &str| format!(r#"{{"userName":"alice","meta":{{"created":"{at}","lastModified":"{at}"}}}}"#);
        let a = s.create("User", &body("2026-01-02T03:04:05Z"), &key("alice"), &[]).unwrap();
        assert_eq!((indexed(&s, "2026"), indexed(&s, "alice")), (0, 1));
        let since = |prefix: &str| s.search(&compare("meta.lastModified", CompareOp::Sw, prefix, false)).unwrap();
        assert_eq!(ids(&since("2026-01")), vec![&a.id]);
        s.update(&ResourceChange {
            resource_type: "User".into(),
            id: a.id.clone(),
            data: Some(body("2027-05-06T07:08:09Z")),
            unique: key("alice"),
            clear_members: false,
            remove_members: vec![],
            add_members: vec![],
            if_version: None,
        })
        .unwrap();
        assert_eq!((ids(&since("2026-01")).len(), ids(&since("2027-05")).len()), (0, 1));
        s.read(|c| c.execute_batch("INSERT INTO attr_text (attr_text) VALUES ('integrity-check')").map_err(db_error))
            .unwrap();
        assert_eq!((indexed(&s, "2027"), indexed(&s, "alice")), (0, 1));
    }

    #[test]
    fn a_database_without_a_version_is_migrated_when_opened() {
        let dir = tempdir::Dir::new();
        let path = dir.path.join("db.sqlite");
        {
            // The schema and rows as the previous version wrote them.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&SCHEMA.replace("rid INTEGER PRIMARY KEY, ", "")).unwrap();
            c.execute_batch(
                r#"INSERT INTO resources (rtype, id, version, data)
                     VALUES ('User', 'u1', 1, '{"userName":"alice","emails":[{"value":"alice@wonder.land"}]}');
                   INSERT INTO unique_keys VALUES ('User', 'userName', 'alice', 'u1');
                   INSERT INTO attr_values (id, path, value)
                     VALUES ('u1', 'userName', 'alice'), ('u1', 'emails.value', 'alice@wonder.land');"#,
            )
            .unwrap();
        }
        let s = SqliteStorage::open(&path).unwrap();
        let version: i64 = s.read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db_error)).unwrap();
        assert_eq!(version, VERSION);
        assert_eq!(ids(&s.search(&compare("emails.value", CompareOp::Co, "wonder", false)).unwrap()), vec!["u1"]);
        assert_eq!(ids(&s.search(&eq("userName", "ALICE")).unwrap()), vec!["u1"]);
        let b = s.create("User", r#"{"userName":"bob","emails":[{"value":"bob@wonder.land"}]}"#, &key("bob"), &[]);
        assert_eq!(s.search(&compare("emails.value", CompareOp::Ew, "wonder.land", false)).unwrap().total(), Some(2));
        s.delete("User", &b.unwrap().id, None).unwrap();
        assert_eq!(indexed(&s, "wonder"), 1);
        drop(s);
        // Opening again finds the current version and changes nothing.
        let s = SqliteStorage::open(&path).unwrap();
        assert_eq!(s.search(&compare("emails.value", CompareOp::Co, "wonder", false)).unwrap().total(), Some(1));
    }

    #[test]
    fn a_database_whose_index_was_fed_by_triggers_drops_them_when_opened() {
        let dir = tempdir::Dir::new();
        let path = dir.path.join("db.sqlite");
        {
            // Version 1: the trigram index fed row by row by triggers of the database.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA).unwrap();
            c.execute_batch(&trigram_sql()).unwrap();
            c.execute_batch(
                "CREATE TRIGGER attr_text_insert AFTER INSERT ON attr_values BEGIN
                     INSERT INTO attr_text (rowid, value) VALUES (new.rid, new.value);
                 END;
                 CREATE TRIGGER attr_text_delete AFTER DELETE ON attr_values BEGIN
                     INSERT INTO attr_text (attr_text, rowid, value) VALUES ('delete', old.rid, old.value);
                 END;
                 PRAGMA user_version = 1;",
            )
            .unwrap();
            c.execute_batch(r#"INSERT INTO attr_values (id, path, value) VALUES ('u1', 'userName', 'alice');"#)
                .unwrap();
        }
        let s = SqliteStorage::open(&path).unwrap();
        let triggers: i64 = s
            .read(|c| {
                c.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'", [], |r| r.get(0))
                    .map_err(db_error)
            })
            .unwrap();
        assert_eq!(triggers, 0);
        s.create("User", r#"{"userName":"bob"}"#, &key("bob"), &[]).unwrap();
        s.read(|c| c.execute_batch("INSERT INTO attr_text (attr_text) VALUES ('integrity-check')").map_err(db_error))
            .unwrap();
        assert_eq!((indexed(&s, "alice"), indexed(&s, "bob")), (1, 1));
    }

    #[test]
    fn a_substring_search_is_prepared_once_whatever_its_pattern() {
        let dir = tempdir::Dir::new();
        let s = SqliteStorage::open(&dir.path.join("db.sqlite")).unwrap();
        s.create("User", r#"{"userName":"alice"}"#, &key("alice"), &[]).unwrap();
        let reprepared = s
            .read(|c| {
                let mut stmt = c
                    .prepare("SELECT id FROM attr_values a WHERE a.path = 'userName' AND a.value LIKE ?1 ESCAPE '\\'")
                    .map_err(db_error)?;
                for pattern in ["%lic%", "ali%", "%ce"] {
                    assert_eq!(stmt.query_map([pattern], |r| r.get::<_, String>(0)).map_err(db_error)?.count(), 1);
                }
                Ok(stmt.get_status(rusqlite::StatementStatus::RePrepare))
            })
            .unwrap();
        assert_eq!(reprepared, 0);
    }

    #[test]
    fn a_needle_is_covered_by_trigrams_that_do_not_overlap_and_its_last() {
        assert_eq!(covering_trigrams("abc"), ["abc"]);
        assert_eq!(covering_trigrams("abcd"), ["abc", "bcd"]);
        assert_eq!(covering_trigrams("user123@"), ["use", "r12", "23@"]);
        assert_eq!(covering_trigrams("abcdef"), ["abc", "def"]);
        assert_eq!(covering_trigrams("äöüßé"), ["äöü", "üßé"]);
        // A leaf with every covering trigram but not the needle is not found.
        let (_d, s) = storage();
        let near = s.create("User", r#"{"userName":"abc-def"}"#, &key("abc-def"), &[]).unwrap();
        let exact = s.create("User", r#"{"userName":"xabcdefx"}"#, &key("xabcdefx"), &[]).unwrap();
        assert_eq!(ids(&s.search(&compare("userName", CompareOp::Co, "ABCDEF", false)).unwrap()), vec![&exact.id]);
        assert_eq!(ids(&s.search(&compare("userName", CompareOp::Co, "c-d", false)).unwrap()), vec![&near.id]);
    }

    #[test]
    fn candidates_stop_just_past_the_ceiling() {
        let dir = tempdir::Dir::new();
        let s = SqliteStorage::open(&dir.path.join("db.sqlite")).unwrap().with_max_candidates(3);
        for i in 0..6 {
            s.create("User", &format!(r#"{{"userName":"u{i}"}}"#), &key(&format!("u{i}")), &[]).unwrap();
        }
        let ne = s.search(&compare("userName", CompareOp::Ne, "x", false)).unwrap();
        assert_eq!((ne.items.len(), ne.applied), (4, Applied::Nothing), "the ceiling plus one, for the engine to see");
        assert_eq!(s.search(&Query { filter: None, ..eq("x", "y") }).unwrap().total(), Some(6), "paged in SQL");
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

    /// `pr` matches a path's sub-attributes with LIKE: `_` and `%` in the path are literal there.
    #[test]
    fn present_takes_underscores_in_a_path_literally() {
        let (_d, s) = storage();
        s.create("User", r#"{"userName":"sibling","costXcenter":{"code":"1"},"costly":{"x":"2"}}"#, &key("s"), &[])
            .unwrap();
        let with = s.create("User", r#"{"userName":"with","cost_center":{"code":"3"}}"#, &key("w"), &[]).unwrap();
        let present = |path: &str| {
            let q = Query {
                filter: Some(Filter { nodes: vec![FilterNode::Present(path.into())], root: 0 }),
                ..eq("x", "y")
            };
            s.search(&q).unwrap().items.into_iter().map(|u| u.id).collect::<Vec<_>>()
        };
        assert_eq!(present("cost_center"), vec![with.id]);
        assert_eq!(present("cost%"), Vec::<String>::new());
    }

    /// Every page, in creation order or sorted, filtered or not, says how many match in all: also when
    /// deletions left gaps in the sequence and other types' resources lie between.
    #[test]
    fn each_page_counts_every_match() {
        let (_d, s) = storage();
        let mut users = Vec::new();
        for i in 0..14 {
            let title = if i % 3 == 0 { "t" } else { "u" };
            let data = format!(r#"{{"userName":"user{i:02}","title":"{title}"}}"#);
            users.push(s.create("User", &data, &key(&format!("user{i:02}")), &[]).unwrap().id);
            if i % 4 == 0 {
                s.create("Group", &format!(r#"{{"displayName":"g{i}"}}"#), &[], &[]).unwrap();
            }
        }
        for gone in [users.remove(1), users.remove(5)] {
            s.delete("User", &gone, None).unwrap();
        }
        let titled_t = users.len().div_ceil(3) as u64;
        let all = Query { filter: None, ..eq("x", "y") };
        let by_title = eq("title", "t");
        let sorted = Query {
            sort: Some(SortKey { path: "userName".into(), descending: true, case_exact: false }),
            ..all.clone()
        };
        for (q, total) in [(&all, users.len() as u64), (&by_title, 4), (&sorted, users.len() as u64)] {
            for start_index in 1..=16 {
                for count in [1, 3, 5] {
                    let page = s.search(&Query { start_index, count, ..q.clone() }).unwrap();
                    assert_eq!(page.total(), Some(total), "start {start_index} count {count} {:?}", q.filter);
                    let expected = (total.saturating_sub(u64::from(start_index) - 1)).min(u64::from(count));
                    assert_eq!(page.items.len() as u64, expected, "start {start_index} count {count}");
                }
            }
        }
        assert_eq!(titled_t, 4);
        let pages: Vec<String> = (0..4)
            .flat_map(|p| s.search(&Query { start_index: p * 3 + 1, count: 3, ..all.clone() }).unwrap().items)
            .map(|i| i.id)
            .collect();
        assert_eq!(pages, users, "pages in creation order, each once");
    }

    /// Each member's groups, nearest first, found from the members table by member id: never by walking every
    /// group of the type (which made a page of users cost the number of groups times the page) nor every
    /// resource (which made each `GET` cost the number of resources).
    #[test]
    fn ancestors_are_found_from_the_members_not_from_every_group() {
        let (_d, s) = storage();
        let member = |value: &str| Member { value: value.into(), kind: None, display: None };
        let inner = s.create("Group", r#"{"displayName":"inner"}"#, &[], &[member("u1"), member("u2")]).unwrap();
        let outer = s.create("Group", r#"{"displayName":"outer"}"#, &[], &[member(&inner.id)]).unwrap();
        for i in 0..20 {
            s.create("Group", &format!(r#"{{"displayName":"other{i}"}}"#), &[], &[member("u3")]).unwrap();
        }
        let found = s.ancestors("Group", &["u1".into(), "u4".into()], 8).unwrap();
        let pairs: Vec<(&str, &str, u32)> =
            found.iter().map(|a| (a.member.as_str(), a.group.as_str(), a.depth)).collect();
        assert_eq!(pairs, vec![("u1", inner.id.as_str(), 1), ("u1", outer.id.as_str(), 2)]);
        assert_eq!(s.ancestors("Group", &["u1".into()], 1).unwrap().len(), 1, "at most one level up");
        let plan: Vec<String> = s
            .read(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {}", ancestors_sql(2))).map_err(db_error)?;
                let rows =
                    stmt.query_map(params!["Group", 8, "u1", "u4"], |r| r.get::<_, String>(3)).map_err(db_error)?;
                rows.collect::<Result<_, _>>().map_err(db_error)
            })
            .unwrap();
        let searches: Vec<&String> = plan.iter().filter(|l| l.starts_with("SEARCH")).collect();
        assert!(searches.iter().any(|l| l.contains("members_by_member (member_id=?)")), "{plan:?}");
        // Groups are looked up by id, each step; none is reached by its type alone, no table is read whole.
        assert!(searches.iter().all(|l| !l.contains("(rtype=?)")), "{plan:?}");
        assert!(!plan.iter().any(|l| l.starts_with("SCAN r") || l.starts_with("SCAN m")), "{plan:?}");
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

    #[test]
    fn one_case_blind_index_serves_case_exact_and_numeric_comparisons() {
        let (_d, s) = storage();
        let upper = s.create("User", r#"{"userName":"u1","externalId":"AbC","x":2}"#, &key("u1"), &[]).unwrap();
        let lower = s.create("User", r#"{"userName":"u2","externalId":"abc","x":10}"#, &key("u2"), &[]).unwrap();
        let plain = s.create("User", r#"{"userName":"u3","externalId":"B"}"#, &key("u3"), &[]).unwrap();
        let found = |q: Query| {
            let mut ids: Vec<String> = s.search(&q).unwrap().items.into_iter().map(|r| r.id).collect();
            ids.sort();
            ids
        };
        let sorted = |ids: &[&String]| {
            let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
            ids.sort();
            ids
        };
        assert_eq!(found(compare("externalId", CompareOp::Eq, "AbC", true)), sorted(&[&upper.id]));
        assert_eq!(found(compare("externalId", CompareOp::Eq, "AbC", false)), sorted(&[&upper.id, &lower.id]));
        // Byte order: "abc" (0x61) is after "Z" (0x5a), "AbC" and "B" are not; without regard to case, none is.
        assert_eq!(found(compare("externalId", CompareOp::Gt, "Z", true)), sorted(&[&lower.id]));
        assert!(found(compare("externalId", CompareOp::Gt, "Z", false)).is_empty());
        assert_eq!(found(compare("externalId", CompareOp::Lt, "C", true)), sorted(&[&upper.id, &plain.id]));
        let mut number = compare("x", CompareOp::Gt, "", false);
        if let Some(FilterNode::Compare(c)) = number.filter.as_mut().map(|f| &mut f.nodes[0]) {
            c.value = Literal::Integer(3);
        }
        assert_eq!(found(number), sorted(&[&lower.id]));
        let plan: String = s
            .read(|c| {
                let sql = format!(
                    "EXPLAIN QUERY PLAN SELECT id FROM attr_values a WHERE a.path = 'externalId' AND {}",
                    Sqlite.compare(Column::Leaf, "=", "'AbC'", true, true)
                );
                c.query_row(&sql, [], |r| r.get(3)).map_err(db_error)
            })
            .unwrap();
        assert!(plan.contains("attr_values_nocase"), "a case-exact equality is found through the index: {plan}");
    }

    /// Writers that arrive together share transactions (one sync for several), each answered only once its write
    /// is committed (a reader on another connection sees it then); a writer that fails, here on a userName
    /// another took, leaves nothing behind and fails no one else in its transaction.
    #[test]
    fn concurrent_writers_share_commits_and_fail_alone() {
        let (_d, s) = storage();
        let (threads, each) = (8usize, 25usize);
        let barrier = std::sync::Barrier::new(threads);
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (s, barrier) = (&s, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    for i in 0..each {
                        // Every fifth userName is taken by all threads at once: one of them wins it.
                        let name = if i % 5 == 0 { format!("shared{i}") } else { format!("u{t}-{i}") };
                        match s.create("User", &format!(r#"{{"userName":"{name}"}}"#), &key(&name), &[]) {
                            Ok(stored) => assert!(s.get("User", &stored.id, false).unwrap().is_some(), "{name}"),
                            Err(e) => assert_eq!(e, StorageError::Conflict("userName".into()), "{name}"),
                        }
                    }
                });
            }
        });
        let created = threads * (each - each / 5) + each / 5;
        assert_eq!(s.search(&Query { filter: None, ..eq("x", "y") }).unwrap().total(), Some(created as u64));
        assert!(s.commits() < created as u64, "{} commits for {created} writes", s.commits());
        assert_eq!(*s.durability.synced.lock().unwrap(), s.commits(), "every commit was synced before its answer");
    }

    /// A write without a savepoint that fails after changing something takes its whole transaction with it:
    /// every write of the group fails, and none is left behind.
    #[test]
    fn a_write_that_fails_after_changing_without_a_savepoint_fails_its_whole_group() {
        let (_d, s) = storage();
        // A writer on its way keeps the transaction open, so that both writes below fall into it.
        s.arriving.fetch_add(1, Ordering::SeqCst);
        std::thread::scope(|scope| {
            let first = scope.spawn(|| s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]));
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while s.writer.lock().unwrap().joined < 1 {
                assert!(std::time::Instant::now() < deadline, "the writer never joined the transaction");
                std::thread::yield_now();
            }
            let late = s.write_as(Undo::ChecksFirst, |tx| {
                tx.execute("INSERT INTO secrets (name, value) VALUES ('late', 'x')", []).map_err(db_error)?;
                Err::<(), _>(StorageError::Other("late".into()))
            });
            assert_eq!(late, Err(StorageError::Other("late".into())));
            s.arriving.fetch_sub(1, Ordering::SeqCst);
            assert_eq!(first.join().unwrap().unwrap_err(), StorageError::Other("late".into()));
        });
        assert_eq!(s.search(&eq("userName", "a")).unwrap().total(), Some(0));
        let secrets: i64 = s
            .read(|c| {
                c.query_row("SELECT count(*) FROM secrets WHERE name = 'late'", [], |r| r.get(0)).map_err(db_error)
            })
            .unwrap();
        assert_eq!(secrets, 0);
        s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap();
    }

    /// A sync that fails is the write's error, and no write is acknowledged after it: the kernel may report a
    /// failed sync once only, so a later sync that succeeds proves nothing.
    #[test]
    fn after_a_failed_sync_no_write_is_acknowledged() {
        let (d, mut s) = storage();
        s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap();
        s.durability.wal = d.path.join("no-such-dir").join("log");
        let failed = s.create("User", r#"{"userName":"b"}"#, &key("b"), &[]).unwrap_err();
        assert!(matches!(failed, StorageError::Unavailable(_)), "{failed:?}");
        s.durability.wal = PathBuf::from(format!("{}-wal", s.path.display()));
        let refused = s.create("User", r#"{"userName":"c"}"#, &key("c"), &[]).unwrap_err();
        assert!(matches!(refused, StorageError::Unavailable(_)), "{refused:?}");
    }

    /// A conditional write that loses to another write of its own transaction is answered once that one is
    /// committed: a retry then reads the version that beat it instead of the one it already lost with.
    #[test]
    fn a_write_that_lost_is_answered_after_the_winner_is_committed() {
        let (_d, s) = storage();
        let user = s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap();
        let change = |name: &str| ResourceChange {
            resource_type: "User".into(),
            id: user.id.clone(),
            data: Some(format!(r#"{{"userName":"{name}"}}"#)),
            unique: vec![],
            clear_members: false,
            remove_members: vec![],
            add_members: vec![],
            if_version: Some(user.version.clone()),
        };
        let joined = |n: usize| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while s.writer.lock().unwrap().joined < n {
                assert!(std::time::Instant::now() < deadline, "the writer never joined the transaction");
                std::thread::yield_now();
            }
        };
        // A writer on its way keeps the transaction open, so that both writes below fall into it.
        s.arriving.fetch_add(1, Ordering::SeqCst);
        std::thread::scope(|scope| {
            let winner = scope.spawn(|| s.update(&change("winner")));
            joined(1);
            let loser = scope.spawn(|| {
                let lost = s.update(&change("loser"));
                (lost, s.get("User", &user.id, false).unwrap().unwrap().version)
            });
            joined(2);
            s.arriving.fetch_sub(1, Ordering::SeqCst);
            // The last writer in line commits the transaction.
            s.create("User", r#"{"userName":"b"}"#, &key("b"), &[]).unwrap();
            let won = winner.join().unwrap().unwrap();
            let (lost, seen) = loser.join().unwrap();
            assert_eq!(lost.unwrap_err(), StorageError::PreconditionFailed);
            assert_eq!(seen, won.version, "the loser, once answered, reads the winner's version");
        });
    }
}
