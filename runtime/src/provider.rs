//! A SCIM service provider over the component: one configuration, one storage, and a pool of instances
//! (each holding its `service-provider` resource) reused across requests; traps contained to the request
//! that caused them.

use crate::bindings::{Caller, ConfigError, Engine as Bindings, HostState, HttpRequest, HttpResponse, StorageUse};
use crate::engine::Runtime;
use crate::events::{Hooks, NoHooks};
use crate::storage::Storage;
use anyhow::{anyhow, Context, Result};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

/// What one request cost inside the engine.
#[derive(Debug, Default, Clone)]
pub struct Usage {
    /// Time in the guest's own code, storage calls excluded.
    pub guest: Duration,
    pub storage: StorageUse,
    /// The tolerances the request used, by name, when the configuration's `switches.reportTolerances` asks the
    /// engine to report them.
    pub tolerances: Vec<String>,
}

/// The response header in which the engine reports the tolerances a request used; taken out of the response.
const TOLERANCES_HEADER: &str = "scimkit-tolerances";

/// Takes the engine's tolerance report out of a response.
fn take_tolerances(resp: &mut HttpResponse) -> Vec<String> {
    let mut names = Vec::new();
    resp.headers.retain(|(name, value)| {
        let report = name.eq_ignore_ascii_case(TOLERANCES_HEADER);
        if report {
            names.extend(value.split(',').filter(|n| !n.is_empty()).map(str::to_string));
        }
        !report
    });
    names
}

/// One instance and the configured service inside it.
struct Slot {
    store: Store<HostState>,
    bindings: Bindings,
    service: ResourceAny,
}

/// One configured SCIM service: an engine configuration, a storage, and a pool of idle instances.
pub struct Provider {
    runtime: Arc<Runtime>,
    config: String,
    storage: Arc<dyn Storage>,
    hooks: Arc<dyn Hooks>,
    idle: Mutex<Vec<Slot>>,
    max_idle: usize,
}

impl Provider {
    /// Checks the configuration by making a first instance, which is kept for the first request.
    pub fn new(runtime: Arc<Runtime>, config: String, storage: Arc<dyn Storage>, max_idle: usize) -> Result<Provider> {
        Provider::with_hooks(runtime, config, storage, Arc::new(NoHooks), max_idle)
    }

    /// [`Provider::new`] whose engine tells `hooks` of every write and asks them first.
    pub fn with_hooks(
        runtime: Arc<Runtime>,
        config: String,
        storage: Arc<dyn Storage>,
        hooks: Arc<dyn Hooks>,
        max_idle: usize,
    ) -> Result<Provider> {
        let idle = Mutex::new(Vec::new());
        let provider = Provider { runtime, config, storage, hooks, idle, max_idle: max_idle.max(1) };
        let slot = provider.instantiate()?;
        provider.idle.lock().unwrap().push(slot);
        Ok(provider)
    }

    fn instantiate(&self) -> Result<Slot> {
        let mut state = HostState::new(self.storage.clone(), self.runtime.store_limits());
        state.hooks = self.hooks.clone();
        let (mut store, bindings) = self.runtime.instantiate(state)?;
        let service = bindings
            .scimkit_scim_provider()
            .service_provider()
            .call_create(&mut store, &self.config)
            .map_err(anyhow::Error::from)
            .context("configuring the component")?
            .map_err(refused)?;
        Ok(Slot { store, bindings, service })
    }

    /// Answers one SCIM request. A trap (a guest fault, or a limit reached) discards the instance and
    /// answers 500 (503 past the deadline); the next request gets a healthy instance.
    pub fn handle(&self, principal: Option<String>, req: HttpRequest) -> HttpResponse {
        self.handle_measured(principal, req).0
    }

    /// [`Self::handle`], with what the request cost: time inside the guest, and storage's share.
    pub fn handle_measured(&self, principal: Option<String>, req: HttpRequest) -> (HttpResponse, Usage) {
        let slot = self.idle.lock().unwrap().pop();
        let mut slot = match slot.map(Ok).unwrap_or_else(|| self.instantiate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("cannot instantiate the component: {e:#}");
                return (error_response(500, "the SCIM engine could not start"), Usage::default());
            }
        };
        self.runtime.arm(&mut slot.store);
        let who = Caller { principal };
        slot.store.data_mut().storage_use = StorageUse::default();
        slot.store.data_mut().staged = None;
        let started = Instant::now();
        let result = slot.bindings.scimkit_scim_provider().service_provider().call_handle(
            &mut slot.store,
            slot.service,
            &who,
            &req,
        );
        let elapsed = started.elapsed();
        let storage = std::mem::take(&mut slot.store.data_mut().storage_use);
        let mut usage = Usage { guest: elapsed.saturating_sub(storage.time), storage, tolerances: Vec::new() };
        let response = match result {
            Ok(mut resp) => {
                usage.tolerances = take_tolerances(&mut resp);
                let mut idle = self.idle.lock().unwrap();
                if idle.len() < self.max_idle {
                    idle.push(slot);
                }
                resp
            }
            Err(trap) => {
                tracing::error!(method = %req.method, path = %req.path, "the engine trapped; instance discarded: {trap:#}");
                match trap.downcast_ref::<wasmtime::Trap>() {
                    Some(wasmtime::Trap::Interrupt) => {
                        error_response(503, "the request took longer than the server allows")
                    }
                    _ => error_response(500, "the request could not be completed"),
                }
            }
        };
        (response, usage)
    }

    /// Idle instances kept for reuse now.
    pub fn idle_instances(&self) -> usize {
        self.idle.lock().unwrap().len()
    }
}

/// A refused configuration, as an error that says which part was wrong.
pub(crate) fn refused(e: ConfigError) -> anyhow::Error {
    match e {
        ConfigError::NotJson(m) => anyhow!("the configuration is not a JSON object: {m}"),
        ConfigError::Invalid(m) => anyhow!("the engine refused its configuration: {m}"),
    }
}

/// An RFC 7644 error body made by the host, for failures outside the engine.
pub fn error_response(status: u16, detail: &str) -> HttpResponse {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.to_string(),
        "detail": detail,
    });
    HttpResponse {
        status,
        headers: vec![("Content-Type".into(), "application/scim+json".into())],
        body: body.to_string().into_bytes(),
    }
}
