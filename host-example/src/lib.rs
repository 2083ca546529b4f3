//! scimkit's reference host as a library: load the component ([`runtime::Runtime`]), give it a
//! [`storage::Storage`], and answer SCIM requests ([`runtime::Provider`]); or provision a SCIM target from
//! directory attributes ([`provisioning::Provisioner`] over a [`transport::Transport`]). The `scimkit` server
//! is one user: tenants, authentication, limits, the request log and the admin page are its parts.

pub mod admin;
pub mod auth;
pub mod bindings;
pub mod columns;
pub mod commands;
pub mod component;
pub mod config;
pub mod database;
pub mod deadline;
pub mod export;
pub mod import;
pub mod ldif;
pub mod limits;
pub mod lock;
pub mod memory;
pub mod metrics;
pub mod passwords;
pub mod postgresql;
pub mod provision;
pub mod provisioning;
pub mod redact;
pub mod request_log;
pub mod runtime;
pub mod server;
pub mod sqlite;
pub mod storage;
pub mod tenants;
pub mod transport;

mod sql_filter;
