//! The request log of each tenant, kept in a database of its own beside the tenant's: who called, what, the
//! answer and how long it took, with bodies redacted (see `redact`). A request is handed over as it came, and a background
//! thread redacts and writes what gathered every [`BATCH_INTERVAL`], in one transaction: a request never waits
//! for the log, nor pays for its redaction; old rows are pruned by age and count. Anonymous entries (no principal:
//! refused before or at authentication) are the first to give way, in the queue and in pruning, so that a flood
//! of them cannot push the audit trail out.

use crate::config::LogConfig;
use crate::redact;
use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    client TEXT NOT NULL,
    principal TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT,
    response_body TEXT,
    request_id TEXT
);
CREATE INDEX IF NOT EXISTS request_log_by_time ON request_log(at_ms);
CREATE INDEX IF NOT EXISTS request_log_anonymous ON request_log(id) WHERE principal IS NULL;
";

/// One request, redacted.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub id: i64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub client: String,
    pub principal: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub duration_ms: f64,
    /// JSON list of [name, value] pairs.
    pub request_headers: String,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    /// The id in the answer's `X-Request-Id` (none in entries written before it was kept).
    pub request_id: Option<String>,
}

impl Entry {
    /// `2024-05-01T12:00:00.123Z`.
    pub fn time(&self) -> String {
        format_time(self.at_ms)
    }
}

/// One request as it came, not yet redacted. Bodies are shared with the request and the answer, not copied;
/// empty when they are not to be kept.
#[derive(Debug, Clone)]
pub struct Request {
    pub at_ms: i64,
    pub client: IpAddr,
    pub principal: Option<String>,
    pub method: Method,
    pub uri: Uri,
    pub status: u16,
    pub duration_ms: f64,
    pub headers: HeaderMap,
    pub request_body: Bytes,
    pub response_type: Option<String>,
    pub response_body: Bytes,
    pub request_id: String,
}

impl Request {
    /// The entry the log keeps: secrets masked, bodies cut to size.
    fn redacted(self) -> Entry {
        let headers = redact::headers(self.headers.iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))));
        let request_type = self.headers.get("content-type").and_then(|v| v.to_str().ok());
        Entry {
            id: 0,
            at_ms: self.at_ms,
            client: self.client.to_canonical().to_string(),
            method: self.method.as_str().to_string(),
            path: redact::path_and_query(self.uri.path(), self.uri.query()),
            status: self.status,
            duration_ms: self.duration_ms,
            request_headers: serde_json::to_string(&headers).unwrap_or_default(),
            request_body: redact::body(request_type, &self.request_body),
            response_body: redact::body(self.response_type.as_deref(), &self.response_body),
            request_id: Some(self.request_id),
            principal: self.principal,
        }
    }
}

/// A selection of the log, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `404`, or a class: `4xx`.
    pub status: Option<String>,
    pub method: Option<String>,
    /// A part of the path.
    pub path: Option<String>,
    /// Only entries after this id (for following the log).
    pub after: Option<i64>,
    pub limit: u32,
}

/// Entries waiting for the writer, at most: past it new ones are lost rather than held in memory. Anonymous
/// entries may fill half of it only.
const QUEUE: usize = 4096;

/// Bytes of bodies waiting for the writer, at most (they are held as they came, before being cut to size).
const QUEUE_BYTES: usize = 64 << 20;

/// What waits for the writer.
#[derive(Default)]
struct Backlog {
    entries: AtomicUsize,
    bytes: AtomicUsize,
}

/// How long the writer lets entries gather after each batch: under load it then wakes 20 times a second, not
/// once per request (each wake-up is a system call on the request path).
const BATCH_INTERVAL: Duration = Duration::from_millis(50);

pub struct RequestLog {
    db: PathBuf,
    tx: mpsc::SyncSender<Request>,
    queued: Arc<Backlog>,
    lost: AtomicUsize,
}

impl RequestLog {
    /// Opens the log in the database at `db` and starts its writer. Entries that an earlier version kept in
    /// the tenant's database `data` are moved into it first.
    pub fn open(db: &Path, data: &Path, retention: LogConfig) -> Result<RequestLog> {
        let conn = open(db)?;
        move_entries(&conn, data).context("moving the request log out of the tenant's database")?;
        prune(&conn, &retention).context("pruning the request log")?;
        let (tx, rx) = mpsc::sync_channel::<Request>(QUEUE);
        let queued = Arc::new(Backlog::default());
        let written = queued.clone();
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || writer(conn, rx, &written, retention))
            .context("starting the log writer")?;
        Ok(RequestLog { db: db.to_path_buf(), tx, queued, lost: AtomicUsize::new(0) })
    }

    pub fn record(&self, entry: Request) {
        let room = if entry.principal.is_some() { QUEUE } else { QUEUE / 2 };
        let bytes = entry.request_body.len() + entry.response_body.len();
        let full = self.queued.entries.fetch_add(1, Ordering::SeqCst) >= room
            || self.queued.bytes.fetch_add(bytes, Ordering::SeqCst) + bytes > QUEUE_BYTES;
        if full || self.tx.try_send(entry).is_err() {
            self.queued.entries.fetch_sub(1, Ordering::SeqCst);
            self.queued.bytes.fetch_sub(bytes, Ordering::SeqCst);
            // Said at 1, 2, 4, 8… losses: a flood must not turn into one line on stderr per request.
            let lost = self.lost.fetch_add(1, Ordering::Relaxed) + 1;
            if lost.is_power_of_two() {
                tracing::error!("{lost} request log entries lost: the writer is behind or has stopped");
            }
        }
    }

    /// Reads with a connection of its own: readers never wait for the writer.
    pub fn reader(&self) -> Result<Reader> {
        Reader::open(&self.db)
    }
}

fn open(db: &Path) -> Result<Connection> {
    let conn = crate::sqlite::open_connection(db).with_context(|| format!("opening {}", db.display()))?;
    conn.execute_batch(SCHEMA).context("creating the request log table")?;
    // Logs written before request ids were kept lack the column.
    let has_id: bool =
        conn.query_row("SELECT count(*) FROM pragma_table_info('request_log') WHERE name = 'request_id'", [], |r| {
            r.get(0)
        })?;
    if !has_id {
        conn.execute_batch("ALTER TABLE request_log ADD COLUMN request_id TEXT")
            .context("adding request_id to the request log")?;
    }
    Ok(conn)
}

/// Moves the entries kept in the tenant's database `data` (before the log had a file of its own) into the log
/// of `conn`, keeping their ids, and drops them there. Run again after a crash, it copies nothing twice.
fn move_entries(conn: &Connection, data: &Path) -> Result<()> {
    if !data.exists() {
        return Ok(());
    }
    conn.execute("ATTACH DATABASE ?1 AS data", [data.to_string_lossy()])?;
    let moved = (|| -> Result<()> {
        let kept: bool = conn.query_row(
            "SELECT count(*) FROM data.sqlite_master WHERE type = 'table' AND name = 'request_log'",
            [],
            |r| r.get(0),
        )?;
        if kept {
            let has_id: bool = conn.query_row(
                "SELECT count(*) FROM pragma_table_info('request_log', 'data') WHERE name = 'request_id'",
                [],
                |r| r.get(0),
            )?;
            let request_id = if has_id { "request_id" } else { "NULL" };
            let columns = COLUMNS.strip_suffix(", request_id").expect("request_id is the last column");
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;
                 INSERT OR IGNORE INTO main.request_log ({columns}, request_id)
                     SELECT {columns}, {request_id} FROM data.request_log ORDER BY id;
                 DROP TABLE data.request_log;
                 COMMIT;"
            ))?;
        }
        Ok(())
    })();
    conn.execute_batch("DETACH DATABASE data")?;
    moved
}

fn writer(mut conn: Connection, rx: mpsc::Receiver<Request>, queued: &Backlog, retention: LogConfig) {
    while let Ok(first) = rx.recv() {
        // Whatever queued meanwhile is written in the same transaction.
        let batch: Vec<Request> = std::iter::once(first).chain(rx.try_iter()).collect();
        let bytes: usize = batch.iter().map(|r| r.request_body.len() + r.response_body.len()).sum();
        queued.entries.fetch_sub(batch.len(), Ordering::SeqCst);
        queued.bytes.fetch_sub(bytes, Ordering::SeqCst);
        let batch: Vec<Entry> = batch.into_iter().map(Request::redacted).collect();
        if let Err(e) = write_batch(&mut conn, &batch, &retention) {
            tracing::error!("writing the request log: {e:#}");
        }
        std::thread::sleep(BATCH_INTERVAL);
    }
}

fn write_batch(conn: &mut Connection, batch: &[Entry], retention: &LogConfig) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO request_log (at_ms, client, principal, method, path, status, duration_ms, request_headers, request_body, response_body, request_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for e in batch {
            stmt.execute(params![
                e.at_ms,
                e.client,
                e.principal,
                e.method,
                e.path,
                e.status,
                e.duration_ms,
                e.request_headers,
                e.request_body,
                e.response_body,
                e.request_id
            ])?;
        }
    }
    prune(&tx, retention)?;
    tx.commit()
}

fn prune(conn: &Connection, retention: &LogConfig) -> rusqlite::Result<()> {
    if retention.retention_days > 0 {
        let cutoff = now_ms() - i64::from(retention.retention_days) * 86_400_000;
        conn.prepare_cached("DELETE FROM request_log WHERE at_ms < ?1")?.execute([cutoff])?;
    }
    if retention.max_rows > 0 {
        let count: i64 = conn.prepare_cached("SELECT count(*) FROM request_log")?.query_row([], |r| r.get(0))?;
        let excess = count.saturating_sub(retention.max_rows as i64);
        if excess > 0 {
            let anonymous = conn
                .prepare_cached("DELETE FROM request_log WHERE id IN (SELECT id FROM request_log WHERE principal IS NULL ORDER BY id LIMIT ?1)")?
                .execute([excess])?;
            conn.prepare_cached(
                "DELETE FROM request_log WHERE id IN (SELECT id FROM request_log ORDER BY id LIMIT ?1)",
            )?
            .execute([excess - anonymous as i64])?;
        }
    }
    Ok(())
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

pub struct Reader {
    conn: Connection,
}

const COLUMNS: &str = "id, at_ms, client, principal, method, path, status, duration_ms, request_headers, request_body, response_body, request_id";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        client: r.get(2)?,
        principal: r.get(3)?,
        method: r.get(4)?,
        path: r.get(5)?,
        status: r.get(6)?,
        duration_ms: r.get(7)?,
        request_headers: r.get(8)?,
        request_body: r.get(9)?,
        response_body: r.get(10)?,
        request_id: r.get(11)?,
    })
}

/// `404` → exactly 404; `4xx` → 400 to 499. None when it is neither.
pub fn status_range(text: &str) -> Option<(u16, u16)> {
    let t = text.trim().to_ascii_lowercase();
    if let Some(class) = t.strip_suffix("xx") {
        let c: u16 = class.parse().ok().filter(|c| (1..=5).contains(c))?;
        return Some((c * 100, c * 100 + 99));
    }
    let s: u16 = t.parse().ok().filter(|s| (100..=599).contains(s))?;
    Some((s, s))
}

impl Reader {
    pub fn open(db: &Path) -> Result<Reader> {
        Ok(Reader { conn: open(db)? })
    }

    /// Entries matching `f`, newest first (oldest first when following, from `after`).
    pub fn list(&self, f: &Filter) -> Result<Vec<Entry>> {
        let mut cond = vec!["1".to_string()];
        let mut params: Vec<SqlValue> = Vec::new();
        if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
            let (lo, hi) =
                status_range(s).with_context(|| format!("status {s:?}: use a code like 404 or a class like 4xx"))?;
            params.push(SqlValue::Integer(lo.into()));
            params.push(SqlValue::Integer(hi.into()));
            cond.push(format!("status BETWEEN ?{} AND ?{}", params.len() - 1, params.len()));
        }
        if let Some(m) = f.method.as_deref().filter(|m| !m.is_empty()) {
            params.push(SqlValue::Text(m.to_ascii_uppercase()));
            cond.push(format!("method = ?{}", params.len()));
        }
        if let Some(p) = f.path.as_deref().filter(|p| !p.is_empty()) {
            params.push(SqlValue::Text(p.to_string()));
            cond.push(format!("instr(path, ?{}) > 0", params.len()));
        }
        let order = if let Some(after) = f.after {
            params.push(SqlValue::Integer(after));
            cond.push(format!("id > ?{}", params.len()));
            "ASC"
        } else {
            "DESC"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM request_log WHERE {} ORDER BY id {order} LIMIT {}",
            cond.join(" AND "),
            f.limit.max(1)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn get(&self, id: i64) -> Result<Option<Entry>> {
        use rusqlite::OptionalExtension;
        Ok(self.conn.query_row(&format!("SELECT {COLUMNS} FROM request_log WHERE id = ?1"), [id], row).optional()?)
    }

    pub fn count(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT count(*) FROM request_log", [], |r| r.get(0))?)
    }
}

/// Milliseconds since the epoch as RFC 3339 UTC, without a date library.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms.rem_euclid(1000))
}

/// How often `scimkit logs --follow` looks for new entries.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_status_classes() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(status_range("4xx"), Some((400, 499)));
        assert_eq!(status_range("404"), Some((404, 404)));
        assert_eq!(status_range("9xx"), None);
        assert_eq!(status_range("abc"), None);
    }

    fn request(at_ms: i64, path: &str, status: u16) -> Request {
        Request {
            at_ms,
            client: IpAddr::from([127, 0, 0, 1]),
            principal: Some("bearer".into()),
            method: Method::GET,
            uri: path.parse().unwrap(),
            status,
            duration_ms: 1.0,
            headers: HeaderMap::new(),
            request_body: Bytes::new(),
            response_type: None,
            response_body: Bytes::new(),
            request_id: "r".into(),
        }
    }

    /// What a request carried is kept redacted: the writer, not the request, does the redaction.
    #[test]
    fn requests_are_redacted_by_the_writer() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer s3cret".parse().unwrap());
        headers.insert("content-type", "application/scim+json".parse().unwrap());
        let r = Request {
            method: Method::POST,
            uri: "/scim/v2/Users?access_token=t0ken".parse().unwrap(),
            headers,
            request_body: Bytes::from_static(br#"{"userName":"a","password":"pw1"}"#),
            response_type: Some("application/scim+json".into()),
            response_body: Bytes::from_static(br#"{"id":"1","userName":"a"}"#),
            ..request(0, "/", 201)
        };
        let e = r.redacted();
        let all = format!("{} {} {:?} {:?}", e.path, e.request_headers, e.request_body, e.response_body);
        for secret in ["s3cret", "t0ken", "pw1"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
        assert!(e.response_body.unwrap().contains("\"userName\": \"a\""));
        assert_eq!((e.method.as_str(), e.client.as_str(), e.status), ("POST", "127.0.0.1", 201));
    }

    #[test]
    fn entries_are_written_filtered_and_pruned() {
        let dir = std::env::temp_dir().join(format!("scimkit-log-{}", scimkit_runtime::storage::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("db.sqlite3");
        let log =
            RequestLog::open(&db, &dir.join("data.sqlite3"), LogConfig { retention_days: 1, max_rows: 3 }).unwrap();
        log.record(request(now_ms() - 2 * 86_400_000, "/old", 200));
        for (i, status) in [200u16, 401, 404, 201, 500].into_iter().enumerate() {
            log.record(request(now_ms(), &format!("/Users/{i}"), status));
        }
        let reader = log.reader().unwrap();
        let last = Filter { path: Some("/Users/4".into()), limit: 1, ..Default::default() };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while reader.list(&last).unwrap().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let all = reader.list(&Filter { limit: 100, ..Default::default() }).unwrap();
        assert!(all.len() <= 3, "{all:?}");
        assert!(all.iter().all(|e| e.path != "/old"));
        let failed = reader.list(&Filter { status: Some("4xx".into()), limit: 100, ..Default::default() }).unwrap();
        assert!(failed.iter().all(|e| (400..500).contains(&e.status)));
        assert!(reader.list(&Filter { status: Some("x".into()), limit: 1, ..Default::default() }).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A log that an earlier version kept in the tenant's database moves to its own file, ids and all, once.
    #[test]
    fn entries_kept_in_the_tenants_database_move_to_the_log_of_their_own() {
        let dir = std::env::temp_dir().join(format!("scimkit-log-{}", scimkit_runtime::storage::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (db, data) = (dir.join("requests.sqlite3"), dir.join("scimkit.sqlite3"));
        {
            // Before request ids were kept.
            let old = open(&data).unwrap();
            old.execute_batch("ALTER TABLE request_log DROP COLUMN request_id").unwrap();
            for (id, path) in [(7, "/Users/a"), (9, "/Users/b")] {
                old.execute(
                    "INSERT INTO request_log (id, at_ms, client, method, path, status, duration_ms, request_headers)
                     VALUES (?1, ?2, '127.0.0.1', 'GET', ?3, 200, 1.0, '[]')",
                    params![id, now_ms(), path],
                )
                .unwrap();
            }
        }
        let retention = LogConfig { retention_days: 1, max_rows: 100 };
        let log = RequestLog::open(&db, &data, retention.clone()).unwrap();
        let listed = |log: &RequestLog| -> Vec<(i64, String)> {
            let all = log.reader().unwrap().list(&Filter { limit: 100, ..Default::default() }).unwrap();
            all.into_iter().map(|e| (e.id, e.path)).collect()
        };
        assert_eq!(listed(&log), [(9, "/Users/b".to_string()), (7, "/Users/a".to_string())]);
        let left: i64 = Connection::open(&data)
            .unwrap()
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'request_log'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        drop(log);
        assert_eq!(listed(&RequestLog::open(&db, &data, retention).unwrap()).len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
