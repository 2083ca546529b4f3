//! Journal retention: `events_retention_days` and `events_max_rows` of a tenant prune the changes every
//! receiver has (up to the lowest cursor of its `[[tenant.events]]`), never one still to be delivered. The server
//! prunes at start and then every few minutes; `scimkit events prune` does it once.

use super::journal::{now_seconds, Journal};
use super::Receiver;
use crate::config::TenantConfig;
use std::sync::Arc;
use std::time::Duration;

/// How often a running server prunes a tenant's journal.
const EVERY: Duration = Duration::from_secs(600);

/// What a tenant keeps of its journal once delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub days: Option<u32>,
    pub max_rows: Option<u64>,
}

impl Retention {
    /// The tenant's retention, None when it keeps everything.
    pub fn of(t: &TenantConfig) -> Option<Retention> {
        let r = Retention { days: t.events_retention_days, max_rows: t.events_max_rows };
        (r.days.is_some() || r.max_rows.is_some()).then_some(r)
    }
}

/// Prunes once; returns how many changes it deleted.
pub fn prune(journal: &dyn Journal, receivers: &[Receiver], r: Retention) -> anyhow::Result<u64> {
    let mut delivered = journal.last()?;
    for receiver in receivers {
        delivered = delivered.min(journal.cursor(&receiver.url)?);
    }
    let older_than = r.days.map(|d| now_seconds() - i64::from(d) * 86_400);
    journal.prune(delivered, older_than, r.max_rows)
}

/// Prunes the tenant's journal now and every [`EVERY`], in a thread of its own.
pub fn start(tenant: &str, receivers: &[Receiver], journal: Arc<dyn Journal>, r: Retention) {
    let (tenant, receivers) = (tenant.to_string(), receivers.to_vec());
    std::thread::Builder::new()
        .name(format!("retention-{tenant}"))
        .spawn(move || loop {
            match prune(journal.as_ref(), &receivers, r) {
                Ok(0) => {}
                Ok(n) => tracing::info!(tenant = %tenant, "pruned {n} delivered changes from the journal"),
                Err(e) => tracing::warn!(tenant = %tenant, "pruning the journal failed: {e:#}"),
            }
            std::thread::sleep(EVERY);
        })
        .expect("starting the retention thread");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteStorage;

    fn receiver(url: &str) -> Receiver {
        toml::from_str(&format!("url = \"{url}\"\nsecret = \"0123456789abcdef\"")).unwrap()
    }

    #[test]
    fn only_delivered_changes_past_the_retention_are_pruned() {
        let dir = std::env::temp_dir().join(format!("scimkit-retention-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("t.sqlite3");
        let journal = SqliteStorage::open(&db).unwrap();
        {
            // Ten changes, 1–6 written ten days ago, 7–10 now.
            let conn = rusqlite::Connection::open(&db).unwrap();
            for seq in 1..=10 {
                let at = now_seconds() - if seq <= 6 { 10 * 86_400 } else { 0 };
                conn.execute(
                    "INSERT INTO events (event_id, at, body) VALUES (?1, ?2, '{}')",
                    rusqlite::params![format!("e{seq}"), at],
                )
                .unwrap();
            }
        }
        let (a, b) = (receiver("http://127.0.0.1:1/a"), receiver("http://127.0.0.1:1/b"));
        journal.rewind(&a.url, 9).unwrap();
        journal.rewind(&b.url, 4).unwrap();
        let seqs = || journal.after(0, 100).unwrap().iter().map(|e| e.seq).collect::<Vec<_>>();

        // b has only 1–4: the older 5 and 6 stay for it.
        let week = Retention { days: Some(7), max_rows: None };
        assert_eq!(prune(&journal, &[a.clone(), b.clone()], week).unwrap(), 4);
        assert_eq!(seqs(), vec![5, 6, 7, 8, 9, 10]);
        // Keep 1 row, with a at 7: 8 and 9 are past it but undelivered, and stay.
        journal.rewind(&a.url, 7).unwrap();
        let one = Retention { days: None, max_rows: Some(1) };
        assert_eq!(prune(&journal, std::slice::from_ref(&a), one).unwrap(), 3);
        assert_eq!(seqs(), vec![8, 9, 10]);
        // Nothing delivered is left: nothing more goes, however short the retention.
        let least = Retention { days: Some(1), max_rows: Some(1) };
        assert_eq!(prune(&journal, std::slice::from_ref(&a), least).unwrap(), 0);
        assert_eq!(seqs(), vec![8, 9, 10]);
        // Without receivers every change counts as delivered.
        assert_eq!(prune(&journal, &[], Retention { days: None, max_rows: Some(1) }).unwrap(), 2);
        assert_eq!(seqs(), vec![10]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
