//! Test-only code: the harness that drives an engine against an in-memory store, and the tests that go through
//! the whole engine rather than one module.

mod conformance;
pub mod harness;
mod hostile;
mod protocol;
