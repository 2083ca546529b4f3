//! scimkit's runtime: load the component once ([`engine::Runtime`]), give it a [`storage::Storage`] and answer
//! SCIM requests ([`provider::Provider`]); or map directory attributes and provision a SCIM target
//! ([`provisioning::Mapper`], [`provisioning::Provisioner`] over a [`transport::Transport`]).
//!
//! No HTTP server, database or command line: the reference server, the native library for C, PHP and Java,
//! and any Rust application build on this crate.

pub mod bindings;
pub mod component;
pub mod deadline;
pub mod engine;
pub mod events;
pub mod ldif;
pub mod memory;
pub mod provider;
pub mod provisioning;
pub mod storage;
pub mod transport;
