//! The component's `provisioner` and `mapper` as plain Rust objects: each owns one component instance of its
//! own (never a pooled serving instance), configured once; the provisioner's transport can be replaced
//! between calls. A trap discards the instance and the next call gets a fresh one.

use crate::bindings::{
    Engine as Bindings, HostState, Member, Page, Query, Report, ResourceChange, StorageError, Stored, UniqueKey,
};
use crate::runtime::Runtime;
use crate::storage::Storage;
use crate::transport::Transport;
use anyhow::anyhow;
use std::sync::Arc;
use wasmtime::Store;

/// A principal's attributes: name → values.
pub type Attributes = Vec<(String, Vec<String>)>;

/// An instance with its configuration, rebuilt after a trap.
struct Instance {
    runtime: Arc<Runtime>,
    live: Option<(Store<HostState>, Bindings)>,
    configure: fn(&Bindings, &mut Store<HostState>, &str) -> wasmtime::Result<Result<(), String>>,
    config: String,
}

impl Instance {
    fn new(
        runtime: Arc<Runtime>,
        config: String,
        configure: fn(&Bindings, &mut Store<HostState>, &str) -> wasmtime::Result<Result<(), String>>,
    ) -> anyhow::Result<Instance> {
        let mut i = Instance { runtime, live: None, configure, config };
        i.live()?;
        Ok(i)
    }

    /// The live instance, instantiated and configured when there is none.
    fn live(&mut self) -> anyhow::Result<&mut (Store<HostState>, Bindings)> {
        if self.live.is_none() {
            let state =
                HostState::new(Arc::new(NoStorage), self.runtime.store_limits());
            let (mut store, bindings) = self.runtime.instantiate(state)?;
            (self.configure)(&bindings, &mut store, &self.config)?
                .map_err(|e| anyhow!("the configuration was refused: {e}"))?;
            self.live = Some((store, bindings));
        }
        let live = self.live.as_mut().expect("set above");
        if let Some(fuel) = self.runtime.fuel() {
            live.0.set_fuel(fuel)?;
        }
        Ok(live)
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
        let inner =
            Instance::new(runtime, config.to_string(), |b, s, c| b.scimkit_scim_provisioner().call_configure(s, c))?;
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
        let (store, bindings) = self.inner.live()?;
        store.data_mut().transport = transport;
        let result = bindings.scimkit_scim_provisioner().call_provision(&mut *store, service, attrs);
        self.transport = store.data_mut().transport.take();
        result.map_err(|trap| {
            self.inner.live = None;
            anyhow!("the provisioner trapped; instance discarded: {trap:#}")
        })
    }
}

/// The attribute mapper over the component.
pub struct Mapper {
    inner: Instance,
}

impl Mapper {
    /// `mapping` is a mapping as JSON, checked now.
    pub fn new(runtime: Arc<Runtime>, mapping: &str) -> anyhow::Result<Mapper> {
        Ok(Mapper {
            inner: Instance::new(runtime, mapping.to_string(), |b, s, c| b.scimkit_scim_mapper().call_configure(s, c))?,
        })
    }

    /// The User then its derived Groups, as JSON texts; `Ok(Err)` is a mapping failure.
    pub fn to_resources(&mut self, attrs: &Attributes) -> anyhow::Result<Result<Vec<String>, String>> {
        let (store, bindings) = self.inner.live()?;
        let r = bindings.scimkit_scim_mapper().call_to_resources(&mut *store, attrs);
        r.map_err(|trap| {
            self.inner.live = None;
            anyhow!("the mapper trapped; instance discarded: {trap:#}")
        })
    }

    /// One SCIM resource (JSON) to flat attributes; `Ok(Err)` when it is not a JSON object.
    pub fn to_attributes(&mut self, resource: &str) -> anyhow::Result<Result<Attributes, String>> {
        let (store, bindings) = self.inner.live()?;
        let r = bindings.scimkit_scim_mapper().call_to_attributes(&mut *store, resource);
        r.map_err(|trap| {
            self.inner.live = None;
            anyhow!("the mapper trapped; instance discarded: {trap:#}")
        })
    }
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
