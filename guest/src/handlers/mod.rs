//! The resource endpoints the router sends requests to; `/Bulk`, `/Me` and PATCH have modules of their own.

pub mod crud;
mod cursor;
pub mod list;
