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
    open_journal(&args.at, args.database.as_deref(), &args.tenant)
}

/// The configuration and the journal of `tenant`, in the database `serve` would use.
pub fn open_journal(at: &Location, database: Option<&str>, tenant: &str) -> Result<(Config, Arc<dyn Journal>)> {
    let paths = at.paths();
    let config = Config::load(&paths)?;
    if !config.tenants().iter().any(|t| t.name == tenant) {
        bail!("no tenant {tenant}");
    }
    let journal: Arc<dyn Journal> = match Database::resolve(database, &config)? {
        Database::Sqlite => {
            let db = paths.tenant_db(tenant);
            if !db.exists() {
                bail!("tenant {tenant} has no database at {}", db.display());
            }
            Arc::new(crate::sqlite::SqliteStorage::open(&db).with_context(|| format!("opening {}", db.display()))?)
        }
        Database::Postgres(url) => Arc::new(crate::postgresql::PostgresStorage::open(&url, tenant)?),
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

/// Prunes the tenant's journal once by its `events_retention_days` and `events_max_rows`.
pub fn prune(args: &EventsArgs, out: &mut dyn Write) -> Result<()> {
    let (config, journal) = open(args)?;
    let tenant = config.tenants().into_iter().find(|t| t.name == args.tenant).expect("checked in open");
    let Some(r) = super::retention::Retention::of(&tenant) else {
        bail!("tenant {} sets neither events_retention_days nor events_max_rows", tenant.name);
    };
    let n = super::retention::prune(journal.as_ref(), &tenant.events, r)?;
    writeln!(out, "pruned {n} delivered changes")?;
    Ok(())
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
