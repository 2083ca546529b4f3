//! scimkit's reference host as a library: load the component ([`runtime::Runtime`]), give it a
//! [`storage::Storage`], and answer SCIM requests ([`runtime::Provider`]). The `scimkit` server is one user.

pub mod auth;
pub mod bindings;
pub mod component;
pub mod deadline;
pub mod memory;
pub mod runtime;
pub mod server;
pub mod sqlite;
pub mod storage;

mod sql_filter;
