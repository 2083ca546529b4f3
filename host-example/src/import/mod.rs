//! `scimkit import FILE`: Users and Groups in bulk into a tenant's database. Every row goes through the engine
//! as a POST (no resource matches it) or a PUT (one does), so it is validated exactly as the server would, and
//! is written whole or not at all. Rows run in parallel on several engine instances; with the data directory
//! to itself, the database is in SQLite's bulk-load mode until the end.
//!
//! Ids: the engine gives every created resource a new id. A row's `id` (as `scimkit export` writes it) only
//! names it within the file: a Group's member whose value is the id of a row of the same file is rewritten to
//! that resource's id in the database. Other member values are kept, as ids already in the database.

pub mod rows;

use crate::columns::Schemas;
use crate::commands::TenantData;
use crate::config::Config;
use crate::database::Database;
use crate::lock;
use crate::tenants::Direct;
use anyhow::{bail, Context, Result};
use rows::{Kind, Refused, Row, Rows};
use scimkit_runtime::bindings::HttpRequest;
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::provider::{Provider, Usage};
use scimkit_runtime::provisioning::Mapper;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The file: JSON lines (.jsonl, one resource per line), CSV (.csv, a header row of attribute paths) or
    /// LDIF (.ldif, with --mapping).
    pub file: PathBuf,
    #[command(flatten)]
    pub target: TenantData,
    /// Default: from the file's extension.
    #[arg(long, value_parser = ["jsonl", "csv", "ldif"])]
    pub format: Option<String>,
    /// CSV: the resource type of every row.
    #[arg(long = "type", default_value = "User", value_parser = ["User", "Group"])]
    pub kind: String,
    /// LDIF: the mapping from directory attributes to SCIM (see examples/ldap-mapping.toml).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// What finds the resource a row updates: userName (Groups: displayName), or externalId.
    #[arg(long = "match", default_value = "userName", value_parser = ["userName", "externalId"])]
    pub match_by: String,
    /// Rows in flight at once, each on its own engine instance; default the number of CPUs.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Writes per transaction in the bulk-load mode.
const BATCH: usize = 10_000;

/// The engine's limits for an import: the operator's own file may hold groups larger than a client may
/// send in one request; every other check is the server's.
fn limits() -> Value {
    json!({"maxBodyBytes": 256 << 20, "maxMultiValues": 10_000_000})
}

pub fn run(args: ImportArgs) -> Result<()> {
    let paths = args.target.at.paths();
    let config = Config::load(&paths)?;
    // Before anything is written, even the lock: a crafted or unknown name reaches nothing.
    config.configured_tenant(&args.target.tenant)?;
    let format = match &args.format {
        Some(f) => f.clone(),
        None => format_of(&args.file)?,
    };
    let database = Database::resolve(args.target.database.as_deref(), &config)?;
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    // Alone, the load can skip per-write durability; beside a running server it must not. Only SQLite has a
    // bulk-load mode; other servers may be using a PostgreSQL database whatever this directory says.
    let (_lock, bulk) = match lock::alone(&paths)? {
        Some(l) if database != Database::Sqlite => (l, false),
        Some(l) => (l, true),
        None => {
            eprintln!(
                "note: a server is using {}: importing with durable writes, one transaction per row",
                paths.data.display()
            );
            (lock::serving(&paths)?, false)
        }
    };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).clamp(1, 64);
    let runtime = Arc::new(Runtime::new(EMBEDDED, Some(&paths.data.join("cache")), GuestLimits::default())?);
    let direct =
        Direct::open(&paths, &config, &database, &args.target.tenant, &runtime, limits(), bulk.then_some(BATCH), jobs)?;
    let rows = match read_rows(&args, &format, &text, &direct.provider, &runtime) {
        Ok(rows) => rows,
        Err(e) => {
            // Nothing was written; the database leaves the bulk-load mode as it entered it.
            direct.finish().context("finishing the bulk load")?;
            return Err(e);
        }
    };
    let started = Instant::now();
    let importer = Importer::new(&direct, &args.match_by, jobs);
    let report = importer.run(rows)?;
    direct.finish().context("finishing the bulk load")?;
    let seconds = started.elapsed().as_secs_f64();
    report.print(&args, seconds, bulk);
    if !report.rejected.is_empty() {
        bail!("{} rows rejected", report.rejected.len());
    }
    Ok(())
}

fn read_rows(args: &ImportArgs, format: &str, text: &str, provider: &Provider, runtime: &Arc<Runtime>) -> Result<Rows> {
    let at = |e: String| anyhow::anyhow!("{}: {e}", args.file.display());
    Ok(match format {
        "jsonl" => rows::json_lines(text),
        "csv" => {
            let kind = if args.kind == "Group" { Kind::Group } else { Kind::User };
            rows::csv(text, kind, &schemas(provider, kind)?).map_err(at)?
        }
        _ => {
            let mapping = args.mapping.as_ref().context("an LDIF import needs --mapping FILE")?;
            let mapping = crate::provision::read_mapping(mapping)?;
            let mut mapper = Mapper::new(runtime.clone(), &mapping.to_string())?;
            rows::ldif(text, &mut mapper).map_err(at)?
        }
    })
}

fn format_of(file: &std::path::Path) -> Result<String> {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    Ok(match ext.as_str() {
        "jsonl" | "ndjson" | "json" => "jsonl",
        "csv" => "csv",
        "ldif" => "ldif",
        _ => bail!("{}: cannot tell the format from the extension; give --format jsonl|csv|ldif", file.display()),
    }
    .to_string())
}

/// One request to the engine: its status and JSON answer.
pub(crate) fn call(provider: &Provider, method: &str, path: &str, query: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, answer, _) = call_measured(provider, method, path, query, body);
    (status, answer)
}

/// [`call`], with the time spent inside the engine and in storage.
fn call_measured(
    provider: &Provider,
    method: &str,
    path: &str,
    query: &str,
    body: Option<&Value>,
) -> (u16, Value, Usage) {
    let req = HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("content-type".into(), "application/scim+json".into())],
        body: body.map(|b| b.to_string().into_bytes()),
    };
    let (resp, usage) = provider.handle_measured(None, req);
    (resp.status, serde_json::from_slice(&resp.body).unwrap_or(Value::Null), usage)
}

/// An engine error as one line: `409 uniqueness: …`.
fn error_text(status: u16, body: &Value) -> String {
    let detail = body["detail"].as_str().unwrap_or("no detail");
    match body["scimType"].as_str() {
        Some(t) => format!("{status} {t}: {detail}"),
        None => format!("{status}: {detail}"),
    }
}

/// The schemas of a resource type, as the engine publishes them: what CSV columns are checked against.
pub(crate) fn schemas(provider: &Provider, kind: Kind) -> Result<Schemas> {
    let get = |path: &str| -> Result<Value> {
        match call(provider, "GET", path, "", None) {
            (200, body) => Ok(body),
            (status, body) => bail!("GET {path}: {}", error_text(status, &body)),
        }
    };
    let rt = get(&format!("/ResourceTypes/{}", kind.name()))?;
    let core = get(&format!("/Schemas/{}", rt["schema"].as_str().unwrap_or(kind.schema())))?;
    let extensions = rt["schemaExtensions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["schema"].as_str())
        .map(|urn| get(&format!("/Schemas/{urn}")))
        .collect::<Result<_>>()?;
    Ok(Schemas { core, extensions })
}

/// What became of a row.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Created(String),
    Updated(String),
    Unchanged(String),
    Rejected(String),
}

impl Outcome {
    fn id(&self) -> Option<&str> {
        match self {
            Outcome::Created(id) | Outcome::Updated(id) | Outcome::Unchanged(id) => Some(id),
            Outcome::Rejected(_) => None,
        }
    }
}

/// A rejected row: its line, its resource type when known, and why.
type Rejection = (usize, Option<Kind>, String);

/// A row ready to send: its body without `id` and `meta`, its id in the file and its match key.
struct Prepared {
    row: Row,
    file_id: Option<String>,
    key: Option<String>,
}

struct Importer<'a> {
    direct: &'a Direct,
    match_by: &'a str,
    jobs: usize,
    bar: indicatif::ProgressBar,
    /// Nanoseconds inside the engine (storage excluded) and in storage, summed over rows.
    guest_ns: AtomicU64,
    storage_ns: AtomicU64,
}

#[derive(Debug, Default)]
struct Report {
    rows: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
    /// (line, resource type, reason), in line order.
    rejected: Vec<Rejection>,
    /// Where the time went, summed over the parallel rows.
    guest_seconds: f64,
    storage_seconds: f64,
}

impl<'a> Importer<'a> {
    fn new(direct: &'a Direct, match_by: &'a str, jobs: usize) -> Importer<'a> {
        // Drawn on stderr, and only when it is a terminal.
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta}")
                .expect("a valid template"),
        );
        Importer { direct, match_by, jobs, bar, guest_ns: AtomicU64::new(0), storage_ns: AtomicU64::new(0) }
    }

    /// The attribute a row of this kind is matched by.
    fn match_attribute(&self, kind: Kind) -> &'static str {
        match (self.match_by, kind) {
            ("externalId", _) => "externalId",
            (_, Kind::User) => "userName",
            (_, Kind::Group) => "displayName",
        }
    }

    fn run(&self, input: Rows) -> Result<Report> {
        let Rows { rows, refused } = input;
        self.bar.set_length((rows.len() + refused.len()) as u64);
        self.bar.inc(refused.len() as u64);
        let mut rejected: Vec<Rejection> =
            refused.into_iter().map(|Refused { line, reason }| (line, None, reason)).collect();
        let (prepared, duplicates) = self.prepare(rows);
        self.bar.inc(duplicates.len() as u64);
        rejected.extend(duplicates);
        let outcomes: Vec<OnceLock<Outcome>> = prepared.iter().map(|_| OnceLock::new()).collect();
        let by_file_id: HashMap<&str, usize> =
            prepared.iter().enumerate().filter_map(|(i, p)| Some((p.file_id.as_deref()?, i))).collect();
        // An empty resource type has nothing to match: every row is a create, with no lookup first.
        let lookup_users = !self.is_empty(Kind::User);
        let lookup_groups = !self.is_empty(Kind::Group);
        let users: Vec<usize> = (0..prepared.len()).filter(|&i| prepared[i].row.kind == Kind::User).collect();
        self.in_parallel(&users, |i| {
            let p = &prepared[i];
            let _ = outcomes[i].set(self.apply(&p.row.body, p, lookup_users));
        });
        // Groups in waves: one naming another group of the file waits until that one is written. The engine
        // looks a group's members up, so each wave starts once what came before is committed.
        self.direct.flush().context("committing the users")?;
        let mut pending: Vec<usize> = (0..prepared.len()).filter(|&i| prepared[i].row.kind == Kind::Group).collect();
        while !pending.is_empty() {
            let waits_for = |i: usize| {
                members_of(&prepared[i].row.body)
                    .filter_map(|v| by_file_id.get(v.as_str()).copied())
                    .any(|j| prepared[j].row.kind == Kind::Group && j != i && outcomes[j].get().is_none())
            };
            let (ready, waiting): (Vec<usize>, Vec<usize>) = pending.iter().partition(|&&i| !waits_for(i));
            if ready.is_empty() {
                for &i in &waiting {
                    let _ = outcomes[i].set(Outcome::Rejected(
                        "its members include groups of the file that include it (circular membership)".into(),
                    ));
                    self.bar.inc(1);
                }
                break;
            }
            self.in_parallel(&ready, |i| {
                let p = &prepared[i];
                let outcome = match remap_members(i, &prepared, &by_file_id, &outcomes) {
                    Ok(body) => self.apply(&body, p, lookup_groups),
                    Err(reason) => Outcome::Rejected(reason),
                };
                let _ = outcomes[i].set(outcome);
            });
            self.direct.flush().context("committing the groups")?;
            pending = waiting;
        }
        self.bar.finish_and_clear();
        let mut report = Report { rows: prepared.len() + rejected.len(), ..Default::default() };
        for (p, o) in prepared.iter().zip(&outcomes) {
            match o.get() {
                Some(Outcome::Created(_)) => report.created += 1,
                Some(Outcome::Updated(_)) => report.updated += 1,
                Some(Outcome::Unchanged(_)) => report.unchanged += 1,
                Some(Outcome::Rejected(reason)) => rejected.push((p.row.line, Some(p.row.kind), reason.clone())),
                None => rejected.push((p.row.line, Some(p.row.kind), "not processed".into())),
            }
        }
        rejected.sort_by_key(|(line, _, _)| *line);
        report.rejected = rejected;
        report.guest_seconds = self.guest_ns.load(Ordering::Relaxed) as f64 / 1e9;
        report.storage_seconds = self.storage_ns.load(Ordering::Relaxed) as f64 / 1e9;
        Ok(report)
    }

    /// Takes `id` and `meta` out of each body, and refuses a row whose match key or id repeats an earlier row's:
    /// the file would say two things about one resource.
    fn prepare(&self, rows: Vec<Row>) -> (Vec<Prepared>, Vec<Rejection>) {
        let mut keys: HashMap<(&'static str, String), usize> = HashMap::new();
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut prepared = Vec::with_capacity(rows.len());
        let mut duplicates = Vec::new();
        for mut row in rows {
            let file_id = row.body.remove("id").and_then(|v| v.as_str().map(str::to_string));
            row.body.remove("meta");
            if row.kind == Kind::User {
                // Computed from the Groups' members, never written.
                row.body.remove("groups");
            }
            let attr = self.match_attribute(row.kind);
            let key = scimkit_guest::names::member(&row.body, attr).and_then(Value::as_str).map(str::to_string);
            if let Some(k) = &key {
                // userName and displayName are compared without regard to case, as the engine's uniqueness does.
                let norm = if attr == "externalId" { k.clone() } else { k.to_lowercase() };
                if let Some(first) = keys.insert((row.kind.name(), norm), row.line) {
                    duplicates.push((row.line, Some(row.kind), format!("{attr} {k:?} is also on line {first}")));
                    continue;
                }
            }
            if let Some(id) = &file_id {
                if let Some(first) = ids.insert(id.clone(), row.line) {
                    duplicates.push((row.line, Some(row.kind), format!("id {id:?} is also on line {first}")));
                    continue;
                }
            }
            prepared.push(Prepared { row, file_id, key });
        }
        (prepared, duplicates)
    }

    fn call(&self, method: &str, path: &str, query: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, answer, usage) = call_measured(&self.direct.provider, method, path, query, body);
        self.guest_ns.fetch_add(usage.guest.as_nanos() as u64, Ordering::Relaxed);
        self.storage_ns.fetch_add(usage.storage.time.as_nanos() as u64, Ordering::Relaxed);
        (status, answer)
    }

    fn is_empty(&self, kind: Kind) -> bool {
        let (status, body) = self.call("GET", kind.endpoint(), "count=0", None);
        status == 200 && body["totalResults"].as_u64() == Some(0)
    }

    fn in_parallel(&self, items: &[usize], work: impl Fn(usize) + Sync) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.jobs.min(items.len()) {
                s.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = items.get(k) else { break };
                    work(i);
                    self.bar.inc(1);
                });
            }
        });
    }

    /// Creates the row's resource, or replaces the one it matches (unless that one already says the same).
    fn apply(&self, body: &Map<String, Value>, p: &Prepared, lookup: bool) -> Outcome {
        let kind = p.row.kind;
        let body = Value::Object(body.clone());
        let current = match (&p.key, lookup) {
            (Some(key), true) => match self.find(kind, key) {
                Ok(found) => found,
                Err(reason) => return Outcome::Rejected(reason),
            },
            _ => None,
        };
        // The answer is not read: skip computing a User's groups or listing a Group's members.
        let quiet = "excludedAttributes=groups,members";
        match current {
            None => match self.call("POST", kind.endpoint(), quiet, Some(&body)) {
                (201, reply) => reply["id"].as_str().map_or_else(
                    || Outcome::Rejected("the engine answered without an id".into()),
                    |id| Outcome::Created(id.into()),
                ),
                (status, reply) => Outcome::Rejected(error_text(status, &reply)),
            },
            Some(current) => {
                let id = current["id"].as_str().unwrap_or_default().to_string();
                if comparable(&current) == comparable(&body) {
                    return Outcome::Unchanged(id);
                }
                match self.call("PUT", &format!("{}/{id}", kind.endpoint()), quiet, Some(&body)) {
                    (200, _) => Outcome::Updated(id),
                    (status, reply) => Outcome::Rejected(error_text(status, &reply)),
                }
            }
        }
    }

    /// The one resource whose match attribute equals `key`, through the engine's filter.
    fn find(&self, kind: Kind, key: &str) -> Result<Option<Value>, String> {
        let attr = self.match_attribute(kind);
        let filter = format!("{attr} eq {}", Value::String(key.to_string()));
        let query = serde_urlencoded::to_string([("filter", filter.as_str()), ("excludedAttributes", "groups")])
            .map_err(|e| e.to_string())?;
        match self.call("GET", kind.endpoint(), &query, None) {
            (200, mut body) => {
                match body["Resources"].as_array_mut().map(std::mem::take).unwrap_or_default().as_mut_slice() {
                    [] => Ok(None),
                    [one] => Ok(Some(one.take())),
                    many => Err(format!("{attr} {key:?} matches {} resources", many.len())),
                }
            }
            (status, body) => Err(format!("looking up {attr} {key:?}: {}", error_text(status, &body))),
        }
    }
}

/// A resource as compared for "unchanged": without what the server sets (`id`, `meta`, computed `groups`, a
/// member's `$ref`, and its `type`, which the engine resolves from the id).
fn comparable(resource: &Value) -> Value {
    let mut r = resource.clone();
    if let Some(obj) = r.as_object_mut() {
        for k in ["id", "meta", "groups"] {
            obj.remove(k);
        }
        if let Some(Value::Array(members)) = obj.get_mut("members") {
            for m in members.iter_mut().filter_map(Value::as_object_mut) {
                m.remove("$ref");
                m.remove("type");
            }
        }
    }
    r
}

/// The member values a body names.
fn members_of(body: &Map<String, Value>) -> impl Iterator<Item = String> + '_ {
    body.get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str().map(str::to_string))
}

/// The body with members that name rows of the file rewritten to those rows' ids in the database.
fn remap_members(
    this: usize,
    prepared: &[Prepared],
    by_file_id: &HashMap<&str, usize>,
    outcomes: &[OnceLock<Outcome>],
) -> Result<Map<String, Value>, String> {
    let mut body = prepared[this].row.body.clone();
    let Some(Value::Array(members)) = body.get_mut("members") else { return Ok(body) };
    for m in members.iter_mut().filter_map(Value::as_object_mut) {
        let Some(&j) = m.get("value").and_then(Value::as_str).and_then(|v| by_file_id.get(v)) else { continue };
        let line = prepared[j].row.line;
        if j == this {
            return Err("a group cannot be its own member".into());
        }
        match outcomes[j].get().and_then(Outcome::id) {
            Some(id) => {
                m.insert("value".into(), Value::String(id.to_string()));
                // The engine computes `$ref` from the new id; the member's type, which it told, is kept.
                if m.remove("$ref").is_some() && !m.contains_key("type") {
                    m.insert("type".into(), Value::String(prepared[j].row.kind.name().into()));
                }
            }
            None => {
                return Err(format!(
                    "member {}: its row (line {line}) was rejected",
                    m["value"].as_str().unwrap_or_default()
                ))
            }
        }
    }
    Ok(body)
}

impl Report {
    fn print(&self, args: &ImportArgs, seconds: f64, bulk: bool) {
        let per_second = self.rows as f64 / seconds.max(1e-9);
        if args.json {
            let rejections: Vec<Value> = self
                .rejected
                .iter()
                .map(|(line, kind, reason)| json!({"line": line, "type": kind.map(Kind::name), "reason": reason}))
                .collect();
            let summary = json!({
                "file": args.file.display().to_string(), "tenant": args.target.tenant, "rows": self.rows,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected.len(),
                "rejections": rejections, "seconds": seconds, "perSecond": per_second, "bulkLoad": bulk,
                "guestSeconds": self.guest_seconds, "storageSeconds": self.storage_seconds,
            });
            println!("{summary}");
            return;
        }
        println!(
            "{} rows in {seconds:.1} s ({per_second:.0}/s): {} created, {} updated, {} unchanged, {} rejected",
            self.rows,
            self.created,
            self.updated,
            self.unchanged,
            self.rejected.len()
        );
        const SHOWN: usize = 100;
        for (line, kind, reason) in self.rejected.iter().take(SHOWN) {
            let what = kind.map(|k| format!(" ({})", k.name())).unwrap_or_default();
            println!("  line {line}{what}: {reason}");
        }
        if self.rejected.len() > SHOWN {
            println!("  … and {} more (--json lists them all)", self.rejected.len() - SHOWN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_ignores_what_the_server_sets() {
        let stored = json!({"id": "n1", "meta": {"version": "3"}, "userName": "a", "groups": [{"value": "g"}],
                            "members": [{"value": "u1", "$ref": "http://x/Users/u1"}]});
        let row = json!({"userName": "a", "members": [{"value": "u1"}]});
        assert_eq!(comparable(&stored), comparable(&row));
        assert_ne!(comparable(&stored), comparable(&json!({"userName": "b", "members": [{"value": "u1"}]})));
    }

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(format_of(std::path::Path::new("a.JSONL")).unwrap(), "jsonl");
        assert_eq!(format_of(std::path::Path::new("a.csv")).unwrap(), "csv");
        assert!(format_of(std::path::Path::new("a.txt")).is_err());
    }
}
