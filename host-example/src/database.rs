//! Where the tenants' users and groups are kept (`--database`): SQLite files in the data directory (the
//! default), PostgreSQL (one schema per tenant in one database, shared by several server processes), or
//! memory (tests and demos: nothing survives the process).

use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Database {
    Sqlite,
    Memory,
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl std::str::FromStr for Database {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Database> {
        match s {
            "" | "sqlite" => Ok(Database::Sqlite),
            "memory" => Ok(Database::Memory),
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                // Checked now, so that a typo fails at start and not at the first tenant.
                url.parse::<postgres::Config>().map_err(|e| anyhow::anyhow!("database: not a PostgreSQL URL: {e}"))?;
                Ok(Database::Postgres(url.to_string()))
            }
            _ => bail!("database: use sqlite, memory or a postgres://… URL"),
        }
    }
}

impl Database {
    /// The `--database` flag (or `SCIMKIT_DATABASE`), else the configuration file's `database`, else SQLite.
    pub fn resolve(flag: Option<&str>, config: &crate::config::Config) -> Result<Database> {
        flag.or(config.database.as_deref()).unwrap_or("sqlite").parse()
    }

    /// What the log says at start; never a password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite => "SQLite, one file per tenant in the data directory".into(),
            Database::Memory => "MEMORY ONLY: users and groups are lost when the server stops".into(),
            Database::Postgres(url) => {
                let config: postgres::Config = url.parse().expect("checked when parsed");
                format!("PostgreSQL at {}, one schema per tenant", crate::postgresql::describe(&config))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Database;

    #[test]
    fn names_and_urls_parse_and_the_password_is_not_shown() {
        assert_eq!("sqlite".parse::<Database>().unwrap(), Database::Sqlite);
        assert_eq!("memory".parse::<Database>().unwrap(), Database::Memory);
        let pg: Database = "postgres://scim:Secret-77@db.example.com:5433/scim".parse().unwrap();
        let shown = pg.describe();
        assert!(shown.contains("db.example.com:5433/scim") && !shown.contains("Secret-77"), "{shown}");
        assert!("mysql://x".parse::<Database>().is_err());
        assert!("postgres://x:notaport/db".parse::<Database>().is_err());
    }
}
