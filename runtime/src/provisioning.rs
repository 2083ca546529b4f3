//! The component's `provisioner` and `mapper` as plain Rust objects: each owns one component instance of its
//! own (never a pooled serving instance) holding its configured resource; the provisioner's transport can be
//! replaced between calls. A trap discards the instance and the next call gets a fresh one. The self-test runs
//! on an instance of its own, over a transport too.

use crate::bindings::{
    Check, ConfigError, Engine as Bindings, HostState, Member, Page, Query, Report, ResourceChange, StorageError,
    Stored, UniqueKey,
};
use crate::engine::Runtime;
use crate::provider::refused;
use crate::storage::Storage;
use crate::transport::Transport;
use anyhow::{anyhow, Context};
use std::sync::Arc;
use wasmtime::component::ResourceAny;
use wasmtime::Store;

/// A principal's attributes: name → values.
pub type Attributes = Vec<(String, Vec<String>)>;

type Create = fn(&Bindings, &mut Store<HostState>, &str) -> wasmtime::Result<Result<ResourceAny, ConfigError>>;

/// An instance with its configured resource, rebuilt after a trap.
struct Instance {
    runtime: Arc<Runtime>,
    live: Option<Live>,
    create: Create,
    config: String,
}

struct Live {
    store: Store<HostState>,
    bindings: Bindings,
    resource: ResourceAny,
}

impl Instance {
    fn new(runtime: Arc<Runtime>, config: String, create: Create) -> anyhow::Result<Instance> {
        let mut i = Instance { runtime, live: None, create, config };
        i.live()?;
        Ok(i)
    }

    /// The live instance, instantiated and configured when there is none, armed for one call.
    fn live(&mut self) -> anyhow::Result<&mut Live> {
        if self.live.is_none() {
            let state = HostState::new(Arc::new(NoStorage), self.runtime.store_limits());
            let (mut store, bindings) = self.runtime.instantiate(state)?;
            let resource = (self.create)(&bindings, &mut store, &self.config)
                .map_err(anyhow::Error::from)
                .context("configuring the component")?
                .map_err(refused)?;
            self.live = Some(Live { store, bindings, resource });
        }
        let live = self.live.as_mut().expect("set above");
        self.runtime.arm(&mut live.store);
        Ok(live)
    }

    /// Forgets the instance after a trap, so that the next call gets a fresh one.
    fn trapped(&mut self, what: &str, trap: wasmtime::Error) -> anyhow::Error {
        self.live = None;
        anyhow!("the {what} trapped; instance discarded: {trap:#}")
    }
}

/// The provisioning client over the component.
pub struct Provisioner {
    inner: Instance,
    transport: Option<Box<dyn Transport>>,
}

impl Provisioner {
    /// `config` is the provisioner's JSON configuration (services, mappings), checked now.
    pub fn new(runtime: Arc<Runtime>, config: &str) -> anyhow::Result<Provisioner> {
        let inner = Instance::new(runtime, config.to_string(), |b, s, c| {
            b.scimkit_scim_provisioner().provisioner().call_create(s, c)
        })?;
        Ok(Provisioner { inner, transport: None })
    }

    /// Where the next calls send their requests.
    pub fn set_transport(&mut self, transport: Box<dyn Transport>) {
        self.transport = Some(transport);
    }

    /// Provisions one principal into one service. `Err` only when the instance trapped (it is replaced) or
    /// could not be made; everything else is in the report.
    pub fn provision(&mut self, service: &str, attrs: &Attributes) -> anyhow::Result<Report> {
        let transport = self.transport.take();
        let live = self.inner.live()?;
        live.store.data_mut().transport = transport;
        let result = live.bindings.scimkit_scim_provisioner().provisioner().call_provision(
            &mut live.store,
            live.resource,
            service,
            attrs,
        );
        self.transport = live.store.data_mut().transport.take();
        result.map_err(|trap| self.inner.trapped("provisioner", trap))
    }

    /// Deletes the target's Users that none of `principals` yields, listing them by cursor when the target
    /// offers it. `Err` as for [`Provisioner::provision`].
    pub fn prune(&mut self, service: &str, principals: &[Attributes]) -> anyhow::Result<Report> {
        let transport = self.transport.take();
        let live = self.inner.live()?;
        live.store.data_mut().transport = transport;
        let result = live.bindings.scimkit_scim_provisioner().provisioner().call_prune(
            &mut live.store,
            live.resource,
            service,
            principals,
        );
        self.transport = live.store.data_mut().transport.take();
        result.map_err(|trap| self.inner.trapped("provisioner", trap))
    }
}

/// The attribute mapper over the component.
pub struct Mapper {
    inner: Instance,
}

impl Mapper {
    /// `mapping` is a mapping as JSON, checked now.
    pub fn new(runtime: Arc<Runtime>, mapping: &str) -> anyhow::Result<Mapper> {
        let inner =
            Instance::new(runtime, mapping.to_string(), |b, s, c| b.scimkit_scim_mapper().mapper().call_create(s, c))?;
        Ok(Mapper { inner })
    }

    /// The User then its derived Groups, as JSON texts; `Ok(Err)` is a mapping failure.
    pub fn to_resources(&mut self, attrs: &Attributes) -> anyhow::Result<Result<Vec<String>, String>> {
        let live = self.inner.live()?;
        let r = live.bindings.scimkit_scim_mapper().mapper().call_to_resources(&mut live.store, live.resource, attrs);
        r.map_err(|trap| self.inner.trapped("mapper", trap))
    }

    /// One SCIM resource (JSON) to flat attributes; `Ok(Err)` when it is not a JSON object.
    pub fn to_attributes(&mut self, resource: &str) -> anyhow::Result<Result<Attributes, String>> {
        let live = self.inner.live()?;
        let r =
            live.bindings.scimkit_scim_mapper().mapper().call_to_attributes(&mut live.store, live.resource, resource);
        r.map_err(|trap| self.inner.trapped("mapper", trap))
    }
}

/// A mapping written in TOML (as in `scimkit.toml` and the examples), as the JSON the engine takes.
pub fn mapping_from_toml(text: &str) -> anyhow::Result<serde_json::Value> {
    toml::from_str::<serde_json::Value>(text).context("not valid TOML")
}

/// A provisioning or mapping instance serves nothing: storage is never called, and refuses if it were.
struct NoStorage;

impl Storage for NoStorage {
    fn get(&self, _: &str, _: &str, _: bool) -> Result<Option<Stored>, StorageError> {
        Err(StorageError::Unsupported)
    }
    fn create(&self, _: &str, _: &str, _: &[UniqueKey], _: &[Member]) -> Result<Stored, StorageError> {
        Err(StorageError::Unsupported)
    }
    fn update(&self, _: &ResourceChange) -> Result<Stored, StorageError> {
        Err(StorageError::Unsupported)
    }
    fn delete(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), StorageError> {
        Err(StorageError::Unsupported)
    }
    fn search(&self, _: &Query) -> Result<Page, StorageError> {
        Err(StorageError::Unsupported)
    }
    fn members(&self, _: &str, _: &str, _: u32, _: u32) -> Result<Vec<Member>, StorageError> {
        Err(StorageError::Unsupported)
    }
}

/// Runs the engine's conformance checks (the WIT `selftest`) against the SCIM server behind `transport`, on an
/// instance of its own. `tag` makes the names of what the checks create unique. `Err` only when the instance
/// could not be made or trapped; a failing target is in the checks.
pub fn selftest(runtime: &Runtime, transport: Box<dyn Transport>, tag: &str) -> anyhow::Result<Vec<Check>> {
    let mut state = HostState::new(Arc::new(NoStorage), runtime.store_limits());
    state.transport = Some(transport);
    let (mut store, bindings) = runtime.instantiate(state)?;
    runtime.arm(&mut store);
    let checks = bindings.scimkit_scim_selftest().call_run(&mut store, tag);
    checks.map_err(|trap| anyhow!("the self-test trapped: {trap:#}"))
}
