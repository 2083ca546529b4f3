//! The host's side of the WIT `events` interface: [`Hooks`], a plain Rust trait whose methods do nothing by
//! default. The change the engine stages before a write is handed to the storage call that writes it (see
//! [`crate::storage::Storage::create_journaled`]), so that a journal can share that call's transaction.

pub use crate::bindings::{ChangeEvent, EventOperation, Refusal, Verdict};

/// What a host does with the engine's changes; see the WIT `events` interface. Called from the thread serving
/// the request, never while storage is writing.
pub trait Hooks: Send + Sync {
    /// Before every write: allow it (the default), adjust the resource written, or refuse it.
    fn check(&self, _change: &ChangeEvent) -> Verdict {
        Verdict::Allow
    }

    /// After every successful write, with the resource's new version (empty for a delete).
    fn changed(&self, _change: &ChangeEvent, _version: &str) {}
}

/// A host without hooks.
pub struct NoHooks;

impl Hooks for NoHooks {}

impl EventOperation {
    /// The name used in journals and deliveries: `create`, `members-added`, …
    pub fn name(&self) -> &'static str {
        match self {
            EventOperation::Create => "create",
            EventOperation::Replace => "replace",
            EventOperation::Patch => "patch",
            EventOperation::Delete => "delete",
            EventOperation::MembersAdded => "members-added",
            EventOperation::MembersRemoved => "members-removed",
            EventOperation::Activated => "activated",
            EventOperation::Deactivated => "deactivated",
        }
    }
}
