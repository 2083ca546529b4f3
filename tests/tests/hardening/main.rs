//! Hardening, end to end against the real server: hostile bodies and limits, slow connections, HTTPS, races,
//! crashes, secrets and guest traps. Every loop is bounded in count and time; every server listens on loopback
//! only.

#[path = "../common/mod.rs"]
mod common;

mod connections;
mod crash;
mod limits;
mod races;
mod secrets;
mod tls;
mod traps;
mod wire;

use serde_json::{json, Value};

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}
