//! scimkit's reference host as a library: load the component ([`runtime::Runtime`]), give it a
//! [`storage::Storage`], and answer SCIM requests ([`runtime::Provider`]); or provision a SCIM target from
//! directory attributes ([`provisioning::Provisioner`] over a [`transport::Transport`]). The `scimkit` server
//! and its `provision` command are users.

pub mod auth;
pub mod bindings;
pub mod component;
pub mod deadline;
pub mod ldif;
pub mod memory;
pub mod provision;
pub mod provisioning;
pub mod runtime;
pub mod server;
pub mod sqlite;
pub mod storage;
pub mod transport;

mod sql_filter;
