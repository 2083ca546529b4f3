//! `scimkit export`: every User and Group of a tenant, paged through the engine, as JSON lines (what
//! `scimkit import` reads back) or CSV, its cells guarded against formulas ([`crate::formula`]). Users come
//! first, so that a file imported in order has every member before its groups. A User's computed `groups` is
//! left out: the Groups' members say it.

use crate::columns::Column;
use crate::commands::TenantData;
use crate::config::Config;
use crate::database::Database;
use crate::formula;
use crate::import::rows::Kind;
use crate::import::{call, schemas};
use crate::tenants::Direct;
use anyhow::{bail, Context, Result};
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::provider::Provider;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub target: TenantData,
    #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "csv"])]
    pub format: String,
    /// Only this resource type (required for CSV: one header per file).
    #[arg(long = "type", value_parser = ["User", "Group"])]
    pub kind: Option<String>,
    /// CSV: the columns, as attribute paths (default: the common attributes of the type).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Write here instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// Resources asked for per page.
const PAGE: u64 = 500;

fn default_columns(kind: Kind) -> Vec<String> {
    let cols: &[&str] = match kind {
        Kind::User => &[
            "id",
            "userName",
            "externalId",
            "displayName",
            "name.givenName",
            "name.familyName",
            "emails[type eq \"work\"].value",
            "active",
        ],
        Kind::Group => &["id", "displayName", "externalId"],
    };
    cols.iter().map(|c| c.to_string()).collect()
}

pub fn run(args: ExportArgs) -> Result<()> {
    let paths = args.target.at.paths();
    let config = Config::load(&paths)?;
    config.configured_tenant(&args.target.tenant)?;
    let database = Database::resolve(args.target.database.as_deref(), &config)?;
    let db = paths.tenant_db(&args.target.tenant);
    if database == Database::Sqlite && !db.exists() {
        bail!("tenant {} has no database yet ({})", args.target.tenant, db.display());
    }
    let kinds: Vec<Kind> = match args.kind.as_deref() {
        Some("Group") => vec![Kind::Group],
        Some(_) => vec![Kind::User],
        None if args.format == "csv" => bail!("a CSV file holds one resource type: give --type User or --type Group"),
        None => vec![Kind::User, Kind::Group],
    };
    let runtime = Arc::new(Runtime::new(EMBEDDED, Some(&paths.data.join("cache")), GuestLimits::default())?);
    // Large groups are written whole: the page size bounds resources, not their members.
    let limits = json!({"maxMultiValues": 10_000_000});
    let direct = Direct::open(&paths, &config, &database, &args.target.tenant, &runtime, limits, None, 1)?;
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let out = std::io::BufWriter::new(out);
    let mut sink = if args.format == "csv" {
        let kind = kinds[0];
        let names = args.columns.clone().unwrap_or_else(|| default_columns(kind));
        let schemas = schemas(&direct.provider, kind)?;
        let columns: Vec<Column> =
            names.iter().map(|n| Column::parse(n, &schemas).map_err(anyhow::Error::msg)).collect::<Result<_>>()?;
        let mut w = csv::Writer::from_writer(out);
        w.write_record(columns.iter().map(|c| c.header.as_str()))?;
        Sink::Csv(Box::new(w), columns)
    } else {
        Sink::Json(out)
    };
    let mut written = 0u64;
    for kind in kinds {
        each_resource(&direct.provider, kind, |resource| {
            match &mut sink {
                Sink::Csv(w, columns) => w.write_record(columns.iter().map(|c| formula::guard(c.get(&resource))))?,
                Sink::Json(out) => writeln!(out, "{resource}")?,
            }
            written += 1;
            Ok(())
        })?;
    }
    match sink {
        Sink::Csv(mut w, _) => w.flush()?,
        Sink::Json(mut out) => out.flush()?,
    }
    eprintln!("exported {written} resources");
    Ok(())
}

enum Sink {
    Json(std::io::BufWriter<Box<dyn Write>>),
    Csv(Box<csv::Writer<std::io::BufWriter<Box<dyn Write>>>>, Vec<Column>),
}

/// Calls `each` with every resource of `kind`, page by page, following the engine's cursors (RFC 9865): each page
/// costs the same however far the walk has gone, and a resource created or deleted meanwhile cannot make another
/// be skipped or written twice, as index paging could.
fn each_resource(provider: &Provider, kind: Kind, mut each: impl FnMut(Value) -> Result<()>) -> Result<()> {
    let mut cursor = String::new();
    loop {
        let query = format!("cursor={cursor}&count={PAGE}&excludedAttributes=groups");
        let (status, mut page) = call(provider, "GET", kind.endpoint(), &query, None);
        if status != 200 {
            bail!("GET {}?{query}: {status} {}", kind.endpoint(), page["detail"].as_str().unwrap_or(""));
        }
        for item in page["Resources"].as_array_mut().map(std::mem::take).unwrap_or_default() {
            each(item)?;
        }
        match page["nextCursor"].as_str() {
            Some(next) if !next.is_empty() => cursor = encode(next),
            _ => return Ok(()),
        }
    }
}

/// A cursor as a query value: the engine's are URL-safe, but nothing here relies on it.
fn encode(cursor: &str) -> String {
    serde_urlencoded::to_string([("c", cursor)]).map(|s| s[2..].to_string()).unwrap_or_default()
}
