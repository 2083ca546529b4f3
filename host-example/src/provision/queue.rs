//! The provisioning client's own state, in `<data>/provision.sqlite3`: the principals that failed against a
//! target (with their attributes, so `--retry` needs no input file) and, for runs driven from a tenant's
//! journal, the last sequence number applied to each target.

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use scimkit_runtime::provisioning::Attributes;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS provision_queue (
    target TEXT NOT NULL,
    principal TEXT NOT NULL,
    attributes TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    failed_at INTEGER NOT NULL,
    PRIMARY KEY (target, principal)
);
CREATE TABLE IF NOT EXISTS provision_cursors (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (source, target)
);
";

/// A principal waiting to be provisioned again.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub principal: String,
    pub attributes: Attributes,
    /// Runs in which it failed.
    pub attempts: i64,
    pub last_error: String,
    /// Seconds since the Unix epoch.
    pub failed_at: i64,
}

pub struct Queue {
    conn: Connection,
}

impl Queue {
    /// Opens (and creates) the client's database in the data directory.
    pub fn open(data: &Path) -> Result<Queue> {
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        let path = data.join("provision.sqlite3");
        let conn = Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        // It holds the queued principals' attributes: readable by its owner only, as the tenants' databases.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA).with_context(|| format!("preparing {}", path.display()))?;
        Ok(Queue { conn })
    }

    /// Records a run's outcomes for `target`: a principal that failed is queued (or counts one more failure,
    /// with its newest error); one that was provisioned leaves the queue. `error` is None for a success.
    pub fn record<'a>(
        &mut self,
        target: &str,
        outcomes: impl IntoIterator<Item = (&'a str, &'a Attributes, Option<&'a str>)>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (principal, attributes, error) in outcomes {
            match error {
                None => {
                    tx.prepare_cached("DELETE FROM provision_queue WHERE target = ?1 AND principal = ?2")?
                        .execute(params![target, principal])?;
                }
                Some(error) => {
                    tx.prepare_cached(
                        "INSERT INTO provision_queue (target, principal, attributes, attempts, last_error, failed_at)
                         VALUES (?1, ?2, ?3, 1, ?4, ?5)
                         ON CONFLICT (target, principal) DO UPDATE SET attributes = excluded.attributes,
                             attempts = attempts + 1, last_error = excluded.last_error, failed_at = excluded.failed_at",
                    )?
                    .execute(params![
                        target,
                        principal,
                        serde_json::to_string(attributes)?,
                        error,
                        crate::events::journal::now_seconds()
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// What is queued for `target`, oldest failure first.
    pub fn list(&self, target: &str) -> Result<Vec<Queued>> {
        let mut stmt = self.conn.prepare(
            "SELECT principal, attributes, attempts, last_error, failed_at FROM provision_queue
             WHERE target = ?1 ORDER BY failed_at, principal",
        )?;
        let rows = stmt.query_map(params![target], |r| {
            let attributes: String = r.get(1)?;
            Ok((r.get(0)?, attributes, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.map(|row| {
            let (principal, attributes, attempts, last_error, failed_at): (String, String, i64, String, i64) = row?;
            let attributes = serde_json::from_str(&attributes)
                .with_context(|| format!("the queued attributes of {principal} are not readable"))?;
            Ok(Queued { principal, attributes, attempts, last_error, failed_at })
        })
        .collect()
    }

    /// The last journal sequence number of tenant `source` applied to `target` (0 before any).
    pub fn cursor(&self, source: &str, target: &str) -> Result<i64> {
        let seq = self
            .conn
            .query_row(
                "SELECT seq FROM provision_cursors WHERE source = ?1 AND target = ?2",
                params![source, target],
                |r| r.get(0),
            )
            .optional()?;
        Ok(seq.unwrap_or(0))
    }

    pub fn set_cursor(&self, source: &str, target: &str, seq: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO provision_cursors (source, target, seq) VALUES (?1, ?2, ?3)
             ON CONFLICT (source, target) DO UPDATE SET seq = excluded.seq",
            params![source, target, seq],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_per_target_and_a_success_leaves_the_queue() {
        let dir = std::env::temp_dir().join(format!("scimkit-queue-{}", std::process::id()));
        let mut q = Queue::open(&dir).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("provision.sqlite3")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let attrs: Attributes = vec![("uid".into(), vec!["a".into()])];
        q.record("https://t1", [("uid=a", &attrs, Some("503")), ("uid=b", &attrs, None)]).unwrap();
        q.record("https://t1", [("uid=a", &attrs, Some("504"))]).unwrap();
        q.record("https://t2", [("uid=a", &attrs, Some("401"))]).unwrap();
        let t1 = q.list("https://t1").unwrap();
        assert_eq!((t1.len(), t1[0].attempts, t1[0].last_error.as_str()), (1, 2, "504"));
        assert_eq!(t1[0].attributes, attrs);
        q.record("https://t1", [("uid=a", &attrs, None)]).unwrap();
        assert!(q.list("https://t1").unwrap().is_empty());
        assert_eq!(q.list("https://t2").unwrap().len(), 1, "another target's queue is its own");
        assert_eq!(q.cursor("acme", "https://t1").unwrap(), 0);
        q.set_cursor("acme", "https://t1", 7).unwrap();
        q.set_cursor("acme", "https://t1", 9).unwrap();
        assert_eq!(q.cursor("acme", "https://t1").unwrap(), 9);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
