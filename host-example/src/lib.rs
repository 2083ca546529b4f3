//! scimkit's reference server over [`scimkit_runtime`]: the HTTP server (its connections, plain or TLS), tenants,
//! authentication, limits, SQL storage (SQLite, PostgreSQL), the request log, metrics, the admin page, and the
//! commands (import, export, provision, selftest) of the `scimkit` binary.

pub mod admin;
pub mod app;
pub mod auth;
pub mod columns;
pub mod commands;
pub mod config;
pub mod database;
pub mod events;
pub mod export;
pub mod formula;
pub mod forwarded;
pub mod import;
pub mod limits;
pub mod listener;
pub mod lock;
pub mod metrics;
pub mod oauth_code;
pub mod passwords;
pub mod postgresql;
pub mod provision;
pub mod request_log;
pub mod schemas_file;
pub mod selftest;
pub mod server;
pub mod sqlite;
pub mod sqlite_memory;
pub mod tenants;
pub mod terminal;
pub mod tls;
pub mod transport;

mod sql_filter;

/// The request log's redaction, a crate of its own so that it can be fuzzed against the engine.
pub use scimkit_redact as redact;

/// A fresh random secret (256 bits, hex), e.g. a tenant's cursor signing key.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}
