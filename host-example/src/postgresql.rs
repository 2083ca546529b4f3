//! PostgreSQL storage, so that several `scimkit serve` processes share one state. Each tenant keeps its
//! tables in its own schema of one database; the tables and their meaning are SQLite's (see `sqlite.rs`).
//!
//! The database enforces what must hold across processes: a unique index on the uniqueness keys (of two
//! racing creates one commits, the other gets a unique violation, answered 409), and conditional writes that
//! lock the row before comparing versions (`SELECT … FOR UPDATE`), answered 412 on a mismatch.

use crate::events::journal::{self, Entry, Journal};
use crate::sql_filter::{self, Applies, Column, Dialect, Param};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use scimkit_runtime::bindings::{
    Ancestry, Applied, ChangeEvent, Member, Page, Query, ResourceChange, StorageError, Stored, UniqueKey,
};
use scimkit_runtime::storage::{new_id, Storage};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Connections per tenant and process; a request waits for one at most `WAIT`, then gets 503.
const MAX_CONNECTIONS: usize = 16;
const WAIT: Duration = Duration::from_secs(10);
/// Prepared statements kept per connection; searches have as many shapes as filters, so the cache is bounded.
const MAX_STATEMENTS: usize = 256;
/// Indexed text is compared through its first characters: a B-tree entry must stay under about 2.7 kB.
const PREFIX: usize = 200;
/// Serialises schema creation between processes starting at once (`CREATE … IF NOT EXISTS` races).
const SCHEMA_LOCK: i64 = 0x5c1_4b17;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS resources (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rtype TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_by_type ON resources (rtype, seq);
CREATE INDEX IF NOT EXISTS resources_by_type_id ON resources (rtype, id COLLATE "C");
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unique_keys (rtype TEXT NOT NULL, attribute TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS unique_keys_taken ON unique_keys (rtype, attribute, md5(value));
CREATE INDEX IF NOT EXISTS unique_keys_by_id ON unique_keys (id);
CREATE TABLE IF NOT EXISTS members (
    group_id TEXT NOT NULL, member_id TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL,
    kind TEXT COLLATE "C", display TEXT COLLATE "C",
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX IF NOT EXISTS members_by_member ON members (member_id);
CREATE INDEX IF NOT EXISTS members_in_order ON members (group_id, seq);
CREATE TABLE IF NOT EXISTS attr_values (id TEXT NOT NULL, path TEXT COLLATE "C" NOT NULL, text_value TEXT COLLATE "C", num_value NUMERIC);
CREATE INDEX IF NOT EXISTS attr_values_by_id ON attr_values (id, path);
CREATE INDEX IF NOT EXISTS attr_values_nocase ON attr_values (path, lower(left(text_value, 200)));
CREATE INDEX IF NOT EXISTS attr_values_exact ON attr_values (path, left(text_value, 200));
CREATE INDEX IF NOT EXISTS attr_values_number ON attr_values (path, num_value);
"#;

/// The `pg_trgm` index through which `co`, `sw` and `ew` (`lower(text_value) LIKE …`) find their leaves
/// instead of reading every leaf of the path. The extension is created once per database, in `public`, when
/// the role may (it is a trusted extension); without it substring filters still work, only slower. Existing
/// schemas gain the index when next opened.
fn trigram_index(tx: &mut postgres::Transaction) -> Result<(), postgres::Error> {
    {
        // A savepoint: a role that may not create the extension leaves the schema's transaction intact.
        let mut attempt = tx.transaction()?;
        if attempt.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public").is_ok() {
            attempt.commit()?;
        }
    }
    let found = tx.query(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
        &[],
    )?;
    let Some(row) = found.first() else {
        tracing::warn!("PostgreSQL: the pg_trgm extension is not available; co, sw and ew filters read every value");
        return Ok(());
    };
    let extension_schema = quote_identifier(row.get(0));
    tx.batch_execute(&format!(
        "CREATE INDEX IF NOT EXISTS attr_values_trigram ON attr_values USING gin (lower(text_value) {extension_schema}.gin_trgm_ops)"
    ))
}

pub struct PostgresStorage {
    config: postgres::Config,
    /// `SET search_path` for the tenant's schema, run on every new connection.
    search_path: String,
    idle: Mutex<Idle>,
    freed: Condvar,
    /// Most candidates a search that leaves work to the engine reads (see [`Self::with_max_candidates`]).
    max_candidates: u64,
    /// See [`Self::cursor_key`].
    cursor_key: String,
}

struct Idle {
    conns: Vec<Conn>,
    open: usize,
}

/// A connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

/// A connection taken from the pool; given back (or, when broken, forgotten) on drop, even on a panic.
struct Lease<'a> {
    storage: &'a PostgresStorage,
    conn: Option<Conn>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut idle = self.storage.idle.lock().unwrap();
        match self.conn.take() {
            Some(c) if !c.client.is_closed() && !std::thread::panicking() => idle.conns.push(c),
            _ => idle.open -= 1,
        }
        self.storage.freed.notify_one();
    }
}

impl std::ops::Deref for Lease<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("held until drop")
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("held until drop")
    }
}

/// The error with its cause: a `postgres::Error` alone says only "db error".
fn message(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

fn db_error(e: postgres::Error) -> StorageError {
    let retry_later = [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::TOO_MANY_CONNECTIONS,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::LOCK_NOT_AVAILABLE,
    ];
    match e.code() {
        Some(code) if retry_later.contains(code) => StorageError::Unavailable(message(&e)),
        // No SQL state: the connection itself failed.
        None => StorageError::Unavailable(message(&e)),
        Some(_) => StorageError::Other(message(&e)),
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What the log may show of a URL: no password.
pub fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!("{}:{}/{}", hosts.join(","), ports.join(","), config.get_dbname().unwrap_or("(user's database)"))
}

impl PostgresStorage {
    /// Connects to the database at `url` and creates the tenant's schema and tables when missing.
    pub fn open(url: &str, schema: &str) -> anyhow::Result<PostgresStorage> {
        let config: postgres::Config =
            url.parse().map_err(|e| anyhow::anyhow!("--database: not a PostgreSQL URL: {e}"))?;
        let schema = quote_identifier(schema);
        let mut storage = PostgresStorage {
            config,
            search_path: format!("SET search_path TO {schema}"),
            idle: Mutex::new(Idle { conns: Vec::new(), open: 0 }),
            freed: Condvar::new(),
            max_candidates: u64::MAX,
            cursor_key: String::new(),
        };
        let at = describe(&storage.config);
        let mut client = storage
            .config
            .connect(NoTls)
            .map_err(|e| anyhow::anyhow!("connecting to PostgreSQL at {at}: {}", message(&e)))?;
        let create = |client: &mut Client| -> Result<String, postgres::Error> {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema}; {SCHEMA} {}",
                journal::POSTGRES_SCHEMA
            ))?;
            trigram_index(&mut tx)?;
            tx.execute(
                "INSERT INTO secrets (name, value) VALUES ('cursor', $1) ON CONFLICT DO NOTHING",
                &[&crate::new_secret()],
            )?;
            let key: String = tx.query_one("SELECT value FROM secrets WHERE name = 'cursor'", &[])?.get(0);
            tx.commit()?;
            Ok(key)
        };
        let cursor_key =
            create(&mut client).map_err(|e| anyhow::anyhow!("creating schema {schema} at {at}: {}", message(&e)))?;
        // The first connection serves requests too.
        client.batch_execute(&storage.search_path)?;
        *storage.idle.lock().unwrap() = Idle { conns: vec![Conn { client, statements: HashMap::new() }], open: 1 };
        storage.cursor_key = cursor_key;
        Ok(storage)
    }

    /// The key this tenant's cursors are signed with: made when its schema is created and kept in it, so that
    /// every process serving the tenant checks the cursors of the others. Never logged.
    pub fn cursor_key(&self) -> &str {
        &self.cursor_key
    }

    /// A search whose filter or sort the engine finishes reads at most `max + 1` candidates: the engine
    /// answers 400 `tooMany` past its `maxCandidates`, so reading further would only cost memory.
    pub fn with_max_candidates(mut self, max: u64) -> PostgresStorage {
        self.max_candidates = max;
        self
    }

    fn connect(&self) -> Result<Conn, StorageError> {
        let mut client = self.config.connect(NoTls).map_err(db_error)?;
        client.batch_execute(&self.search_path).map_err(db_error)?;
        Ok(Conn { client, statements: HashMap::new() })
    }

    fn lease(&self) -> Result<Lease<'_>, StorageError> {
        let deadline = Instant::now() + WAIT;
        let mut idle = self.idle.lock().unwrap();
        loop {
            if let Some(conn) = idle.conns.pop() {
                return Ok(Lease { storage: self, conn: Some(conn) });
            }
            if idle.open < MAX_CONNECTIONS {
                idle.open += 1;
                drop(idle);
                // A lease without a connection gives its slot back when dropped.
                let mut lease = Lease { storage: self, conn: None };
                lease.conn = Some(self.connect()?);
                return Ok(lease);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StorageError::Unavailable(format!("all {MAX_CONNECTIONS} database connections are busy")));
            }
            idle = self.freed.wait_timeout(idle, left).unwrap().0;
        }
    }

    fn read<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, StorageError>) -> Result<T, StorageError> {
        let mut conn = self.lease()?;
        f(&mut conn)
    }

    /// One transaction: committed when `f` succeeds, rolled back otherwise.
    fn write<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, StorageError>) -> Result<T, StorageError> {
        let mut conn = self.lease()?;
        conn.client.batch_execute("BEGIN").map_err(db_error)?;
        match f(&mut conn) {
            Ok(value) => {
                conn.client.batch_execute("COMMIT").map_err(db_error)?;
                Ok(value)
            }
            Err(e) => {
                // A connection that cannot roll back is closed and not given back to the pool.
                let _ = conn.client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl Conn {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        if self.statements.len() >= MAX_STATEMENTS {
            self.statements.clear();
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn try_query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query(&s, params)
    }

    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StorageError> {
        self.try_query(sql, params).map_err(db_error)
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StorageError> {
        let s = self.statement(sql).map_err(db_error)?;
        self.client.execute(&s, params).map_err(db_error)
    }
}

fn members_of(conn: &mut Conn, id: &str, start_index: u32, count: u32) -> Result<Vec<Member>, StorageError> {
    let offset = start_index.saturating_sub(1) as i64;
    // The offset is skipped in the (group_id, seq) index alone: skipping whole rows made reading a large group
    // page by page quadratic.
    let rows = conn.query(
        "SELECT member_id, kind, display FROM members WHERE group_id = $1
           AND seq >= (SELECT seq FROM members WHERE group_id = $1 ORDER BY seq LIMIT 1 OFFSET $3)
         ORDER BY seq LIMIT $2",
        &[&id, &(count as i64), &offset],
    )?;
    Ok(rows.iter().map(|r| Member { value: r.get(0), kind: r.get(1), display: r.get(2) }).collect())
}

fn get_row(conn: &mut Conn, rtype: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
    let rows = conn.query("SELECT version, data FROM resources WHERE id = $1 AND rtype = $2", &[&id, &rtype])?;
    let Some(row) = rows.first() else { return Ok(None) };
    let (version, data): (i64, String) = (row.get(0), row.get(1));
    let members = if with_members { Some(members_of(conn, id, 1, u32::MAX)?) } else { None };
    Ok(Some(Stored { id: id.to_string(), version: version.to_string(), data, members }))
}

fn put_unique(conn: &mut Conn, rtype: &str, id: &str, keys: &[UniqueKey]) -> Result<(), StorageError> {
    for k in keys {
        let sql = "INSERT INTO unique_keys (rtype, attribute, value, id) VALUES ($1, $2, $3, $4)";
        match conn.try_query(sql, &[&rtype, &k.attribute, &storable(k.value.clone()), &id]) {
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                return Err(StorageError::Conflict(k.attribute.clone()))
            }
            Err(e) => return Err(db_error(e)),
        }
    }
    Ok(())
}

/// Text as PostgreSQL can hold it: no NUL characters. Filters whose text holds the replacement character
/// are not pushed down (see [`has_unstorable_text`]), so the replacement never decides a match; two
/// uniqueness keys differing only there collide.
fn storable(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    }
}

/// No stored id holds NUL (ids are UUIDs); PostgreSQL could not even be asked about one.
fn impossible_id(id: &str) -> bool {
    id.contains('\0')
}

fn has_unstorable_text(params: &[Param]) -> bool {
    params.iter().any(|p| matches!(p, Param::Text(s) if s.contains(['\0', '\u{fffd}'])))
}

/// Makes the resource's `attr_values` rows the leaves of `data`, deleting and inserting only those that
/// changed (each row costs its indexes, the trigram one most): a PATCH of `displayName` rewrites two rows,
/// not every one. Equal leaves (two equal emails) are told apart by their rank among equals.
fn put_values(conn: &mut Conn, id: &str, data: &str) -> Result<(), StorageError> {
    let json: serde_json::Value = serde_json::from_str(data).map_err(|e| StorageError::Other(e.to_string()))?;
    let (mut paths, mut texts, mut numbers) = (Vec::new(), Vec::new(), Vec::new());
    for (path, value) in sql_filter::leaves(&json) {
        paths.push(storable(path));
        let (text, number) = match value {
            Param::Text(s) => (Some(storable(s)), None),
            Param::Integer(i) => (None, Some(i.to_string())),
            Param::Real(r) => (None, Some(r.to_string())),
        };
        texts.push(text);
        numbers.push(number);
    }
    conn.execute(
        r#"WITH new AS (
             SELECT v.path COLLATE "C" AS path, v.text_value COLLATE "C" AS text_value, v.num_value::numeric AS num_value,
                    row_number() OVER (PARTITION BY v.path, v.text_value, v.num_value::numeric) AS n
             FROM unnest($2::text[], $3::text[], $4::text[]) AS v(path, text_value, num_value)
           ), old AS (
             SELECT ctid AS row, path, text_value, num_value,
                    row_number() OVER (PARTITION BY path, text_value, num_value) AS n
             FROM attr_values WHERE id = $1
           ), gone AS (
             DELETE FROM attr_values a USING old o
             WHERE a.id = $1 AND a.ctid = o.row AND NOT EXISTS (SELECT 1 FROM new w
               WHERE (w.path, w.text_value, w.num_value, w.n) IS NOT DISTINCT FROM (o.path, o.text_value, o.num_value, o.n))
           )
           INSERT INTO attr_values (id, path, text_value, num_value)
           SELECT $1, w.path, w.text_value, w.num_value FROM new w WHERE NOT EXISTS (SELECT 1 FROM old o
             WHERE (o.path, o.text_value, o.num_value, o.n) IS NOT DISTINCT FROM (w.path, w.text_value, w.num_value, w.n))"#,
        &[&id, &paths, &texts, &numbers],
    )?;
    Ok(())
}

fn add_members(conn: &mut Conn, id: &str, members: &[Member]) -> Result<(), StorageError> {
    if members.is_empty() {
        return Ok(());
    }
    // One row per member, in the order first given, with what was given last (as a row-by-row upsert does).
    let mut order: Vec<&str> = Vec::new();
    let mut last: HashMap<&str, &Member> = HashMap::new();
    for m in members {
        if last.insert(m.value.as_str(), m).is_none() {
            order.push(&m.value);
        }
    }
    let values: Vec<String> = order.iter().map(|v| storable(v.to_string())).collect();
    let field = |f: fn(&Member) -> &Option<String>| -> Vec<Option<String>> {
        order.iter().map(|v| f(last[v]).clone().map(storable)).collect()
    };
    let (kinds, displays) = (field(|m| &m.kind), field(|m| &m.display));
    conn.execute(
        "INSERT INTO members (group_id, member_id, seq, kind, display)
         SELECT $1, v.member_id, (SELECT coalesce(max(seq), 0) FROM members WHERE group_id = $1) + v.n, v.kind, v.display
         FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS v(member_id, kind, display, n)
         ON CONFLICT (group_id, member_id) DO UPDATE SET kind = excluded.kind, display = excluded.display",
        &[&id, &values, &kinds, &displays],
    )?;
    Ok(())
}

/// Locks the row until the transaction ends, so that the version compared is the one replaced.
fn check_version(conn: &mut Conn, rtype: &str, id: &str, if_version: Option<&str>) -> Result<i64, StorageError> {
    let rows = conn.query("SELECT version FROM resources WHERE id = $1 AND rtype = $2 FOR UPDATE", &[&id, &rtype])?;
    let version: i64 = rows.first().ok_or(StorageError::NotFound)?.get(0);
    if if_version.is_some_and(|v| v != version.to_string()) {
        return Err(StorageError::PreconditionFailed);
    }
    Ok(version)
}

/// Writes `change` (when the engine staged one) in the caller's transaction.
fn append(c: &mut Conn, change: Option<&ChangeEvent>, id: &str, version: &str) -> Result<(), StorageError> {
    let Some(change) = change else { return Ok(()) };
    let body = journal::body(change, id, version).to_string();
    c.execute(
        "INSERT INTO events (event_id, at, body) VALUES ($1, $2, $3)",
        &[&new_id(), &journal::now_seconds(), &body],
    )?;
    Ok(())
}

impl Journal for PostgresStorage {
    fn after(&self, seq: i64, limit: usize) -> anyhow::Result<Vec<Entry>> {
        let rows = self
            .read(|c| {
                c.query(
                    "SELECT seq, event_id, at, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&seq, &(limit as i64)],
                )
            })
            .map_err(journal::failed)?;
        Ok(rows
            .iter()
            .map(|r| Entry {
                seq: r.get(0),
                event_id: r.get(1),
                at: r.get(2),
                body: serde_json::from_str(r.get::<_, &str>(3)).unwrap_or_default(),
            })
            .collect())
    }

    fn cursor(&self, receiver: &str) -> anyhow::Result<i64> {
        let rows = self
            .read(|c| c.query("SELECT seq FROM event_cursors WHERE receiver = $1", &[&receiver]))
            .map_err(journal::failed)?;
        Ok(rows.first().map(|r| r.get(0)).unwrap_or(0))
    }

    fn advance(&self, receiver: &str, from: i64, to: i64) -> anyhow::Result<bool> {
        let sql = "INSERT INTO event_cursors (receiver, seq) VALUES ($1, $3)
                   ON CONFLICT (receiver) DO UPDATE SET seq = $3 WHERE event_cursors.seq = $2";
        Ok(self.write(|c| c.execute(sql, &[&receiver, &from, &to])).map_err(journal::failed)? == 1)
    }

    fn rewind(&self, receiver: &str, to: i64) -> anyhow::Result<()> {
        let sql = "INSERT INTO event_cursors (receiver, seq) VALUES ($1, $2)
                   ON CONFLICT (receiver) DO UPDATE SET seq = $2";
        self.write(|c| c.execute(sql, &[&receiver, &to])).map_err(journal::failed)?;
        Ok(())
    }

    fn last(&self) -> anyhow::Result<i64> {
        let rows = self.read(|c| c.query("SELECT coalesce(max(seq), 0) FROM events", &[])).map_err(journal::failed)?;
        Ok(rows.first().map(|r| r.get(0)).unwrap_or(0))
    }

    fn prune(&self, through: i64, older_than: Option<i64>, keep: Option<u64>) -> anyhow::Result<u64> {
        let n = self
            .write(|c| {
                let past_kept: Option<i64> = match keep {
                    Some(k) => c.query(journal::POSTGRES_PAST_KEPT, &[&(k as i64)])?.first().map(|r| r.get(0)),
                    None => None,
                };
                c.execute(
                    journal::POSTGRES_PRUNE,
                    &[&through, &older_than.unwrap_or(i64::MIN), &past_kept.unwrap_or(0)],
                )
            })
            .map_err(journal::failed)?;
        Ok(n)
    }
}

impl Storage for PostgresStorage {
    fn get(&self, rtype: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
        if impossible_id(id) {
            return Ok(None);
        }
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
        self.write(|c| {
            c.execute(
                "INSERT INTO resources (rtype, id, version, data) VALUES ($1, $2, 1, $3)",
                &[&rtype, &id, &data],
            )?;
            put_unique(c, rtype, &id, unique)?;
            put_values(c, &id, data)?;
            add_members(c, &id, members)?;
            append(c, change, &id, "1")
        })?;
        Ok(Stored { id, version: "1".into(), data: data.to_string(), members: None })
    }

    fn update(&self, ch: &ResourceChange) -> Result<Stored, StorageError> {
        self.update_journaled(ch, None)
    }

    fn update_journaled(&self, ch: &ResourceChange, event: Option<&ChangeEvent>) -> Result<Stored, StorageError> {
        if impossible_id(&ch.id) {
            return Err(StorageError::NotFound);
        }
        self.write(|c| {
            let version = check_version(c, &ch.resource_type, &ch.id, ch.if_version.as_deref())? + 1;
            if let Some(data) = &ch.data {
                c.execute("DELETE FROM unique_keys WHERE id = $1", &[&ch.id])?;
                put_unique(c, &ch.resource_type, &ch.id, &ch.unique)?;
                put_values(c, &ch.id, data)?;
            }
            if ch.clear_members {
                c.execute("DELETE FROM members WHERE group_id = $1", &[&ch.id])?;
            }
            if !ch.remove_members.is_empty() {
                let remove: Vec<String> = ch.remove_members.iter().cloned().map(storable).collect();
                c.execute("DELETE FROM members WHERE group_id = $1 AND member_id = ANY($2)", &[&ch.id, &remove])?;
            }
            add_members(c, &ch.id, &ch.add_members)?;
            let rows = c.query(
                "UPDATE resources SET version = $1, data = coalesce($2, data) WHERE id = $3 RETURNING data",
                &[&version, &ch.data, &ch.id],
            )?;
            let data: String = rows.first().ok_or(StorageError::NotFound)?.get(0);
            append(c, event, &ch.id, &version.to_string())?;
            Ok(Stored { id: ch.id.clone(), version: version.to_string(), data, members: None })
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
        if impossible_id(id) {
            return Err(StorageError::NotFound);
        }
        self.write(|c| {
            check_version(c, rtype, id, if_version)?;
            // The resource leaves every group it was in; those groups change version.
            c.execute("UPDATE resources SET version = version + 1 WHERE id IN (SELECT group_id FROM members WHERE member_id = $1)", &[&id])?;
            for sql in [
                "DELETE FROM members WHERE member_id = $1",
                "DELETE FROM members WHERE group_id = $1",
                "DELETE FROM unique_keys WHERE id = $1",
                "DELETE FROM attr_values WHERE id = $1",
                "DELETE FROM resources WHERE id = $1",
            ] {
                c.execute(sql, &[&id])?;
            }
            append(c, change, id, "")
        })
    }

    fn search(&self, q: &Query) -> Result<Page, StorageError> {
        self.read(|c| search(c, q, self.max_candidates))
    }

    fn members(&self, rtype: &str, id: &str, start_index: u32, count: u32) -> Result<Vec<Member>, StorageError> {
        if impossible_id(id) {
            return Err(StorageError::NotFound);
        }
        self.read(|c| {
            if get_row(c, rtype, id, false)?.is_none() {
                return Err(StorageError::NotFound);
            }
            members_of(c, id, start_index, count)
        })
    }

    fn ancestors(&self, rtype: &str, ids: &[String], max_depth: u32) -> Result<Vec<Ancestry>, StorageError> {
        let ids: Vec<String> = ids.iter().cloned().map(storable).collect();
        let depth = i32::try_from(max_depth).unwrap_or(i32::MAX);
        self.read(|c| {
            // Each pair once at its smallest depth, nearest first, then in creation order.
            let rows = c.query(
                "WITH RECURSIVE up(member, grp, depth) AS (
                    SELECT m.member_id, m.group_id, 1 FROM members m
                      JOIN resources r ON r.id = m.group_id AND r.rtype = $1 WHERE m.member_id = ANY($3)
                    UNION SELECT up.member, m.group_id, up.depth + 1 FROM up
                      JOIN members m ON m.member_id = up.grp JOIN resources r ON r.id = m.group_id AND r.rtype = $1
                      WHERE up.depth < $2)
                 SELECT up.member::text, up.grp::text, min(up.depth) AS d FROM up JOIN resources r ON r.id = up.grp
                 GROUP BY up.member, up.grp ORDER BY d, min(r.seq)",
                &[&rtype, &depth, &ids],
            )?;
            Ok(rows
                .iter()
                .map(|r| Ancestry { member: r.get(0), group: r.get(1), depth: r.get::<_, i32>(2) as u32 })
                .collect())
        })
    }
}

/// PostgreSQL's spelling of the shared filter translation. Text columns use the "C" collation: `lower` folds
/// ASCII only and comparisons go byte by byte, as SQLite's `NOCASE` does. Indexed text is matched through
/// its first characters (what the indexes hold), then in full.
struct Postgres;

impl Dialect for Postgres {
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn compare(&self, column: Column, op: &str, value: &str, text: bool, case_exact: bool) -> String {
        let fold = |e: String| if case_exact { e } else { format!("lower({e})") };
        match column {
            Column::Member(name) => format!("{} {op} {}", fold(name.to_string()), fold(format!("{value}::text"))),
            Column::Leaf if !text => format!("a.num_value {op} ({value}::text)::numeric"),
            Column::Leaf => {
                // A prefix of a greater string is not smaller than the prefix of the smaller one.
                let prefix_op = match op {
                    ">" | ">=" => ">=",
                    "<" | "<=" => "<=",
                    _ => "=",
                };
                let key = fold(format!("left(a.text_value, {PREFIX})"));
                let probe = fold(format!("left({value}::text, {PREFIX})"));
                format!(
                    "{key} {prefix_op} {probe} AND {} {op} {}",
                    fold("a.text_value".into()),
                    fold(format!("{value}::text"))
                )
            }
        }
    }

    fn in_list(&self, column: Column, values: &[String], case_exact: bool) -> String {
        let fold = |e: String| if case_exact { e } else { format!("lower({e})") };
        let list = |f: &dyn Fn(&String) -> String| values.iter().map(f).collect::<Vec<_>>().join(", ");
        match column {
            Column::Member(name) => {
                format!("{} IN ({})", fold(name.to_string()), list(&|v| fold(format!("{v}::text"))))
            }
            // The prefix narrows through the index; the whole value decides.
            Column::Leaf => format!(
                "{} IN ({}) AND {} IN ({})",
                fold(format!("left(a.text_value, {PREFIX})")),
                list(&|v| fold(format!("left({v}::text, {PREFIX})"))),
                fold("a.text_value".into()),
                list(&|v| fold(format!("{v}::text")))
            ),
        }
    }

    fn like(&self, column: Column, pattern: &str) -> String {
        let name = match column {
            Column::Leaf => "a.text_value",
            Column::Member(name) => name,
        };
        format!("lower({name}) LIKE lower({pattern}::text) ESCAPE '\\'")
    }

    fn has_value(&self) -> &'static str {
        "(a.num_value IS NOT NULL OR a.text_value <> '')"
    }
}

/// How a page is ordered: a join bringing the sort key, and the `ORDER BY` list.
struct Order {
    join: String,
    by: String,
}

/// The sort key is read from the indexed leaves, not by parsing bodies, and ordered as SQLite orders
/// `json_extract`: missing last (ascending), numbers (and booleans, as 1/0) before text.
fn order_by(q: &Query) -> Option<Order> {
    let Some(key) = &q.sort else { return Some(Order { join: String::new(), by: "r.seq".into() }) };
    if !sql_filter::sortable(&key.path) {
        return None;
    }
    let dir = if key.descending { "DESC" } else { "ASC" };
    let text = if key.case_exact { "a.text_value" } else { "lower(a.text_value)" };
    let join = format!(
        "LEFT JOIN LATERAL (SELECT min(a.num_value) AS n, min({text}) AS t FROM attr_values a WHERE a.id = r.id AND a.path = '{}') k ON TRUE",
        key.path
    );
    Some(Order { join, by: format!("(k.n IS NULL AND k.t IS NULL) {dir}, k.n {dir}, k.t {dir}, r.seq") })
}

fn search(conn: &mut Conn, q: &Query, max_candidates: u64) -> Result<Page, StorageError> {
    // The resource type is $1; the filter's parameters follow it.
    let translated = match &q.filter {
        None => {
            Some(sql_filter::Translated { sql: sql_filter::TRUE.into(), params: vec![], exact: true, keyed: false })
        }
        Some(f) => sql_filter::translate(&Postgres, &f.nodes, f.root, 1).filter(|t| !has_unstorable_text(&t.params)),
    };
    let (condition, params, applied) = match translated {
        Some(t) => {
            let applied = match (t.exact, order_by(q).is_some()) {
                (true, true) => Applies::Everything,
                (true, false) => Applies::FilterOnly,
                // Candidates: every match and maybe more; the engine checks each.
                (false, _) => Applies::Nothing,
            };
            (t.sql, t.params, applied)
        }
        None => (sql_filter::TRUE.to_string(), vec![], Applies::Nothing),
    };
    let mut values: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(q.resource_type.clone())];
    for p in params {
        values.push(match p {
            Param::Text(s) => Box::new(s),
            // Numbers travel as text and are cast in SQL, so that integers and decimals compare exactly.
            Param::Integer(i) => Box::new(i.to_string()),
            Param::Real(r) => Box::new(r.to_string()),
        });
    }
    let condition = format!("WHERE r.rtype = $1 AND ({condition})");
    // A cursor page without `sort` walks the (rtype, id) index from the last id seen: the last page costs
    // what the first does. With `sort`, the engine pages the matches itself.
    let keyset = q.keyset.as_ref().filter(|_| applied == Applies::Everything && q.sort.is_none());
    let (sql, applied) = if let Some(k) = keyset {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        let total: i64 = conn.query(&format!("SELECT count(*) FROM resources r {condition}"), &refs)?[0].get(0);
        let after = match &k.after {
            Some(p) => {
                values.push(Box::new(p.id.clone()));
                format!(" AND r.id COLLATE \"C\" > ${}", values.len())
            }
            None => String::new(),
        };
        values.push(Box::new(i64::from(k.count)));
        let limit = values.len();
        let sql = format!(
            "SELECT r.id, r.version, r.data FROM resources r {condition}{after} ORDER BY r.id COLLATE \"C\" LIMIT ${limit}"
        );
        (sql, Applied::Keyset(total as u64))
    } else if applied == Applies::Everything {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        let total: i64 = conn.query(&format!("SELECT count(*) FROM resources r {condition}"), &refs)?[0].get(0);
        let Order { join, by } = order_by(q).expect("checked above");
        let (limit, offset) = (values.len() + 1, values.len() + 2);
        values.push(Box::new(q.count as i64));
        values.push(Box::new(q.start_index.saturating_sub(1) as i64));
        let sql = format!("SELECT r.id, r.version, r.data FROM resources r {join} {condition} ORDER BY {by} LIMIT ${limit} OFFSET ${offset}");
        (sql, Applied::Everything(total as u64))
    } else {
        let limit = values.len() + 1;
        values.push(Box::new(i64::try_from(max_candidates.saturating_add(1)).unwrap_or(i64::MAX)));
        let sql = format!("SELECT r.id, r.version, r.data FROM resources r {condition} ORDER BY r.seq LIMIT ${limit}");
        (sql, applied.without_total())
    };
    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
    let mut items: Vec<Stored> = conn
        .query(&sql, &refs)?
        .iter()
        .map(|r| Stored { id: r.get(0), version: r.get::<_, i64>(1).to_string(), data: r.get(2), members: None })
        .collect();
    if !q.without_members && !items.is_empty() {
        // Every page's members in one query, not one per resource.
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        let rows = conn.query(
            "SELECT group_id, member_id, kind, display FROM members WHERE group_id = ANY($1) ORDER BY group_id, seq",
            &[&ids],
        )?;
        let mut by_group: HashMap<String, Vec<Member>> = HashMap::new();
        for r in &rows {
            by_group.entry(r.get(0)).or_default().push(Member { value: r.get(1), kind: r.get(2), display: r.get(3) });
        }
        for item in &mut items {
            item.members = Some(by_group.remove(&item.id).unwrap_or_default());
        }
    }
    Ok(Page { items, applied })
}

/// Against the server named by `SCIMKIT_TEST_POSTGRES` (`tests/run.sh` starts one), each test in a schema
/// of its own; skipped with a notice without one.
#[cfg(test)]
mod tests {
    use super::*;
    use scimkit_runtime::bindings::{CompareOp, Comparison, Filter, FilterNode, Literal};

    fn server() -> Option<String> {
        let url = std::env::var("SCIMKIT_TEST_POSTGRES").ok().filter(|u| !u.is_empty());
        if url.is_none() {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: SCIMKIT_TEST_POSTGRES is not set: PostgreSQL storage tests skipped"
            );
        }
        url
    }

    fn storage() -> Option<PostgresStorage> {
        Some(PostgresStorage::open(&server()?, &format!("unit_{}", new_id())).unwrap())
    }

    #[test]
    fn processes_starting_at_once_create_one_schema() {
        let Some(url) = server() else { return };
        let schema = format!("tenant-{}", new_id());
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let (url, schema) = (url.clone(), schema.clone());
                std::thread::spawn(move || PostgresStorage::open(&url, &schema).map(|_| ()).map_err(|e| e.to_string()))
            })
            .collect();
        for t in opened {
            t.join().unwrap().unwrap();
        }
        let s = PostgresStorage::open(&url, &schema).unwrap();
        s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap();
        assert_eq!(
            PostgresStorage::open(&url, &schema)
                .unwrap()
                .search(&Query { filter: None, ..eq("x", "y") })
                .unwrap()
                .total(),
            Some(1)
        );
    }

    fn key(v: &str) -> Vec<UniqueKey> {
        vec![UniqueKey { attribute: "userName".into(), value: v.into() }]
    }

    /// A keyset walk: pages in byte order of id, each strictly after the last id seen, even once that one is
    /// deleted; the total counts every match.
    #[test]
    fn a_keyset_walk_pages_by_id_after_the_last_one_seen() {
        use scimkit_runtime::bindings::{Keyset, Position};
        let Some(s) = storage() else { return };
        let mut made: Vec<String> =
            (0..7).map(|i| s.create("User", "{}", &key(&format!("u{i}")), &[]).unwrap().id).collect();
        made.sort();
        let walk = |after: Option<&str>| {
            let keyset = Keyset { after: after.map(|id| Position { value: Literal::Null, id: id.into() }), count: 3 };
            s.search(&Query { filter: None, count: u32::MAX, keyset: Some(keyset), ..eq("x", "y") }).unwrap()
        };
        let ids = |p: &Page| p.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        let first = walk(None);
        assert_eq!((ids(&first), first.applied), (made[..3].to_vec(), Applied::Keyset(7)));
        s.delete("User", &made[2], None).unwrap();
        let second = walk(Some(&made[2]));
        assert_eq!((ids(&second), second.applied), (made[3..6].to_vec(), Applied::Keyset(6)));
        assert_eq!(ids(&walk(Some(&made[6]))), Vec::<String>::new());
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

    fn member(v: &str, display: Option<&str>) -> Member {
        Member { value: v.into(), kind: Some("User".into()), display: display.map(String::from) }
    }

    #[test]
    fn uniqueness_holds_and_a_failed_create_leaves_nothing() {
        let Some(s) = storage() else { return };
        s.create("User", r#"{"userName":"A"}"#, &key("a"), &[]).unwrap();
        assert_eq!(
            s.create("User", r#"{"userName":"a"}"#, &key("a"), &[]).unwrap_err(),
            StorageError::Conflict("userName".into())
        );
        assert_eq!(s.search(&Query { filter: None, ..eq("x", "y") }).unwrap().total(), Some(1));
        // Keys are per resource type.
        s.create(
            "Group",
            r#"{"displayName":"a"}"#,
            &[UniqueKey { attribute: "userName".into(), value: "a".into() }],
            &[],
        )
        .unwrap();
    }

    /// `pr` matches a path's sub-attributes with LIKE: `_` and `%` in the path are literal there.
    #[test]
    fn present_takes_underscores_in_a_path_literally() {
        let Some(s) = storage() else { return };
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

    #[test]
    fn conditional_writes_and_member_deltas() {
        let Some(s) = storage() else { return };
        let g = s.create("Group", r#"{"displayName":"g"}"#, &[], &[member("u1", None), member("u2", None)]).unwrap();
        let change = |v: &str| ResourceChange {
            resource_type: "Group".into(),
            id: g.id.clone(),
            data: None,
            unique: vec![],
            clear_members: false,
            remove_members: vec!["u1".into()],
            // Given twice: one row, in the first place, with what was given last.
            add_members: vec![member("u3", Some("old")), member("u4", None), member("u3", Some("new"))],
            if_version: Some(v.into()),
        };
        assert_eq!(s.update(&change("7")).unwrap_err(), StorageError::PreconditionFailed);
        assert_eq!(s.update(&change("1")).unwrap().version, "2");
        let members = s.members("Group", &g.id, 1, 10).unwrap();
        let shown: Vec<(&str, Option<&str>)> =
            members.iter().map(|m| (m.value.as_str(), m.display.as_deref())).collect();
        assert_eq!(shown, vec![("u2", None), ("u3", Some("new")), ("u4", None)]);
        assert_eq!(s.members("Group", &g.id, 2, 1).unwrap()[0].value, "u3");
        // Deleting a member changes the group's version.
        let u = s.create("User", r#"{"userName":"u"}"#, &key("u"), &[]).unwrap();
        s.update(&ResourceChange { add_members: vec![member(&u.id, None)], remove_members: vec![], ..change("2") })
            .unwrap();
        s.delete("User", &u.id, None).unwrap();
        assert_eq!(s.get("Group", &g.id, false).unwrap().unwrap().version, "4");
        assert_eq!(s.delete("User", &u.id, None).unwrap_err(), StorageError::NotFound);
    }

    #[test]
    fn an_update_rewrites_only_the_leaves_that_changed() {
        let Some(s) = storage() else { return };
        let body = |display: &str| {
            format!(
                r#"{{"userName":"alice","displayName":"{display}","emails":[{{"value":"a@x.org"}},{{"value":"a@x.org"}}],"x":1.5}}"#
            )
        };
        let a = s.create("User", &body("Old Queen"), &key("alice"), &[]).unwrap();
        let rows = |s: &PostgresStorage| -> Vec<(String, String)> {
            let found = s
                .read(|c| c.query("SELECT ctid::text, path FROM attr_values WHERE id = $1 ORDER BY ctid", &[&a.id]))
                .unwrap();
            found.iter().map(|r| (r.get(0), r.get(1))).collect()
        };
        let before = rows(&s);
        let change = ResourceChange {
            resource_type: "User".into(),
            id: a.id.clone(),
            data: Some(body("New Queen")),
            unique: key("alice"),
            clear_members: false,
            remove_members: vec![],
            add_members: vec![],
            if_version: None,
        };
        s.update(&change).unwrap();
        let after = rows(&s);
        let mut kept: Vec<&str> = before.iter().filter(|r| after.contains(r)).map(|(_, p)| p.as_str()).collect();
        kept.sort();
        assert_eq!(kept, ["emails.value", "emails.value", "userName", "x"]);
        assert_eq!(after.len(), before.len());
        assert_eq!(s.search(&eq("displayName", "new queen")).unwrap().items.len(), 1);
        assert!(s.search(&eq("displayName", "old queen")).unwrap().items.is_empty());
    }

    #[test]
    fn text_postgresql_cannot_index_or_hold_is_still_stored_and_found() {
        let Some(s) = storage() else { return };
        let long = "x".repeat(10_000);
        let body = serde_json::json!({"userName": long, "title": "a\u{0}b"}).to_string();
        let created = s.create("User", &body, &key(&format!("{long}\u{0}")), &[member("m\u{0}", None)]).unwrap();
        assert_eq!(s.get("User", &created.id, false).unwrap().unwrap().data, body);
        let page = s.search(&eq("userName", &long.to_uppercase())).unwrap();
        assert_eq!((page.total(), page.items.len()), (Some(1), 1));
        // A filter holding NUL is left to the engine: every resource of the type is a candidate.
        assert_eq!(s.search(&eq("title", "a\u{0}b")).unwrap().applied, Applied::Nothing);
        assert_eq!(s.get("User", "no\u{0}such", false).unwrap(), None);
        let sorted = Query {
            filter: None,
            sort: Some(scimkit_runtime::bindings::SortKey {
                path: "title".into(),
                descending: false,
                case_exact: false,
            }),
            ..eq("x", "y")
        };
        assert_eq!(s.search(&sorted).unwrap().items.len(), 1, "a body holding NUL sorts");
    }
}
