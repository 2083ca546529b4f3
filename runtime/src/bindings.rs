//! The host side of the WIT world `engine`: generated bindings, implemented once by [`HostState`], which
//! forwards storage calls to a plain [`Storage`](crate::storage::Storage).

use crate::events::{Hooks, NoHooks};
use crate::storage::Storage;
use crate::transport::Transport;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::StoreLimits;

wasmtime::component::bindgen!({ path: "../wit", world: "engine", additional_derives: [PartialEq] });

pub use exports::scimkit::scim::provider::Caller;
pub use exports::scimkit::scim::provisioner::{Action, Outcome, Report, Step};
pub use exports::scimkit::scim::selftest::{Check, CheckVerdict};
pub use scimkit::scim::configuration::ConfigError;
pub use scimkit::scim::events::{ChangeEvent, Operation as EventOperation, Refusal, Verdict};
pub use scimkit::scim::http_types::{HttpRequest, HttpResponse};
pub use scimkit::scim::query_types::{
    CompareOp, Comparison, Filter, FilterNode, Keyset, Literal, Position, Query, SortKey,
};
pub use scimkit::scim::storage::{Ancestry, Applied, Member, Page, ResourceChange, StorageError, Stored, UniqueKey};
pub use scimkit::scim::transport::TransportError;

/// What one component instance's store holds.
pub struct HostState {
    pub storage: Arc<dyn Storage>,
    pub limits: StoreLimits,
    /// Where the provisioner's requests go; none for a serving instance.
    pub transport: Option<Box<dyn Transport>>,
    /// What the current call spent in storage, so that the guest's own time can be told apart.
    pub storage_use: StorageUse,
    pub hooks: Arc<dyn Hooks>,
    /// The change the next storage write carries (`events.stage`); taken by that write whatever its outcome.
    pub staged: Option<ChangeEvent>,
}

/// Time spent in storage calls and the errors they returned, during one call into the guest.
#[derive(Debug, Default, Clone)]
pub struct StorageUse {
    pub time: Duration,
    /// The kind of each error returned (`conflict`, `unavailable`, …).
    pub errors: Vec<&'static str>,
}

impl StorageError {
    /// A short name for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            StorageError::NotFound => "not_found",
            StorageError::Conflict(_) => "conflict",
            StorageError::PreconditionFailed => "precondition_failed",
            StorageError::Unavailable(_) => "unavailable",
            StorageError::Unsupported => "unsupported",
            StorageError::Other(_) => "other",
        }
    }
}

impl Page {
    /// The number of matches, when storage applied everything and so counted them.
    pub fn total(&self) -> Option<u64> {
        match self.applied {
            Applied::Everything(total) | Applied::Keyset(total) => Some(total),
            Applied::FilterOnly | Applied::Nothing => None,
        }
    }
}

impl HostState {
    pub fn new(storage: Arc<dyn Storage>, limits: StoreLimits) -> HostState {
        HostState {
            storage,
            limits,
            transport: None,
            storage_use: StorageUse::default(),
            hooks: Arc::new(NoHooks),
            staged: None,
        }
    }

    fn measure<T>(&mut self, f: impl FnOnce(&dyn Storage) -> Result<T, StorageError>) -> Result<T, StorageError> {
        let started = Instant::now();
        let result = f(&*self.storage);
        self.storage_use.time += started.elapsed();
        if let Err(e) = &result {
            self.storage_use.errors.push(e.kind());
        }
        result
    }
}

impl scimkit::scim::storage::Host for HostState {
    fn get(&mut self, resource_type: String, id: String, with_members: bool) -> Result<Option<Stored>, StorageError> {
        self.measure(|s| s.get(&resource_type, &id, with_members))
    }

    fn create(
        &mut self,
        resource_type: String,
        data: String,
        unique: Vec<UniqueKey>,
        members: Vec<Member>,
    ) -> Result<Stored, StorageError> {
        let staged = self.staged.take();
        self.measure(|s| s.create_journaled(&resource_type, &data, &unique, &members, staged.as_ref()))
    }

    fn update(&mut self, change: ResourceChange) -> Result<Stored, StorageError> {
        let staged = self.staged.take();
        self.measure(|s| s.update_journaled(&change, staged.as_ref()))
    }

    fn delete(&mut self, resource_type: String, id: String, if_version: Option<String>) -> Result<(), StorageError> {
        let staged = self.staged.take();
        self.measure(|s| s.delete_journaled(&resource_type, &id, if_version.as_deref(), staged.as_ref()))
    }

    fn search(&mut self, q: Query) -> Result<Page, StorageError> {
        self.measure(|s| s.search(&q))
    }

    fn members(
        &mut self,
        resource_type: String,
        id: String,
        start_index: u32,
        count: u32,
    ) -> Result<Vec<Member>, StorageError> {
        self.measure(|s| s.members(&resource_type, &id, start_index, count))
    }

    fn resolve_principal(&mut self, principal: String) -> Result<Option<(String, String)>, StorageError> {
        self.measure(|s| s.resolve_principal(&principal))
    }

    fn ancestors(
        &mut self,
        resource_type: String,
        ids: Vec<String>,
        max_depth: u32,
    ) -> Result<Vec<Ancestry>, StorageError> {
        self.measure(|s| s.ancestors(&resource_type, &ids, max_depth))
    }
}

impl scimkit::scim::clock::Host for HostState {
    fn now(&mut self) -> scimkit::scim::clock::Instant {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        scimkit::scim::clock::Instant { seconds: d.as_secs() as i64, nanoseconds: d.subsec_nanos() }
    }
}

impl scimkit::scim::transport::Host for HostState {
    fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        match &mut self.transport {
            Some(t) => t.send(req),
            None => Err(TransportError::Unreachable("this instance has no provisioning transport".into())),
        }
    }
}

impl scimkit::scim::events::Host for HostState {
    fn check(&mut self, change: ChangeEvent) -> Verdict {
        self.hooks.check(&change)
    }

    fn stage(&mut self, change: ChangeEvent) {
        self.staged = Some(change);
    }

    fn changed(&mut self, change: ChangeEvent, version: String) {
        self.hooks.changed(&change, &version)
    }
}

impl scimkit::scim::query_types::Host for HostState {}
impl scimkit::scim::http_types::Host for HostState {}
impl scimkit::scim::configuration::Host for HostState {}
