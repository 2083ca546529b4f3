//! `scimkit events list|replay`: read a tenant's change journal, and send part of it again to its receivers.

use super::journal::Journal;
use crate::commands::Location;
use crate::config::Config;
use crate::database::Database;
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub at: Location,
    #[arg(long)]
    pub tenant: String,
    /// Only the changes after this sequence number (list), or send again every change after it (replay).
    #[arg(long, default_value_t = 0)]
    pub since: i64,
    /// `sqlite` or `postgres://…`, as for `serve` [config: database].
    #[arg(long, env = "SCIMKIT_DATABASE", hide_env_values = true)]
    pub database: Option<String>,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub events: EventsArgs,
    /// Only this receiver's URL; default every receiver of the tenant.
    #[arg(long)]
    pub receiver: Option<String>,
}

fn open(args: &EventsArgs) -> Result<(Config, Arc<dyn Journal>)> {
    let paths = args.at.paths();
    let config = Config::load(&paths)?;
    if !config.tenants().iter().any(|t| t.name == args.tenant) {
        bail!("no tenant {}", args.tenant);
    }
    let journal: Arc<dyn Journal> = match Database::resolve(args.database.as_deref(), &config)? {
        Database::Sqlite => {
            let db = paths.tenant_db(&args.tenant);
            if !db.exists() {
                bail!("tenant {} has no database at {}", args.tenant, db.display());
            }
            Arc::new(crate::sqlite::SqliteStorage::open(&db).with_context(|| format!("opening {}", db.display()))?)
        }
        Database::Postgres(url) => Arc::new(crate::postgresql::PostgresStorage::open(&url, &args.tenant)?),
        Database::Memory => bail!("memory keeps no journal after the server stops"),
    };
    Ok((config, journal))
}

/// Prints the journal after `--since`, one JSON line per change: its sequence number, event id, time and change.
pub fn list(args: &EventsArgs, out: &mut dyn Write) -> Result<()> {
    let (_, journal) = open(args)?;
    let mut since = args.since;
    loop {
        let batch = journal.after(since, 1000)?;
        let Some(last) = batch.last() else { return Ok(()) };
        since = last.seq;
        for e in batch {
            let line = serde_json::json!({ "sequence": e.seq, "eventId": e.event_id, "time": e.at, "change": e.body });
            writeln!(out, "{line}")?;
        }
    }
}

/// Moves the receivers' cursors back to `--since`: a running server sends every later change again, in order,
/// with the same event ids.
pub fn replay(args: &ReplayArgs, out: &mut dyn Write) -> Result<()> {
    let (config, journal) = open(&args.events)?;
    let tenant = config.tenants().into_iter().find(|t| t.name == args.events.tenant).expect("checked in open");
    let urls: Vec<String> = tenant
        .events
        .iter()
        .map(|r| r.url.clone())
        .filter(|u| args.receiver.as_ref().is_none_or(|only| only == u))
        .collect();
    if urls.is_empty() {
        bail!("tenant {} has no such receiver in [[tenant.events]]", tenant.name);
    }
    for url in urls {
        journal.rewind(&url, args.events.since)?;
        writeln!(out, "{url}: changes after {} will be sent again", args.events.since)?;
    }
    Ok(())
}
