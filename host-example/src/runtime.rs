//! The engine over the component: one compiled component, a pool of configured instances reused across
//! requests, and traps contained to the request that caused them.

use crate::bindings::{Caller, Engine as Bindings, EnginePre, HostState, HttpRequest, HttpResponse, StorageUse};
use crate::component::{self, Origin};
use crate::deadline;
use crate::storage::Storage;
use anyhow::{Context, Result};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Store, StoreLimitsBuilder};

/// Limits applied to every instance.
#[derive(Debug, Clone)]
pub struct GuestLimits {
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Fuel per request (roughly, wasm instructions); none: unlimited.
    pub fuel: Option<u64>,
    /// Wall-clock time per request, enforced by epoch interruption; none: unlimited.
    pub deadline: Option<Duration>,
}

impl Default for GuestLimits {
    fn default() -> Self {
        GuestLimits { memory_bytes: 256 << 20, fuel: None, deadline: None }
    }
}

/// The compiled component, ready to instantiate. Shared by every tenant.
pub struct Runtime {
    engine: wasmtime::Engine,
    pre: EnginePre<HostState>,
    limits: GuestLimits,
    /// Where the component came from and how long loading took, for the start-up log.
    pub origin: Origin,
    pub load_time: std::time::Duration,
}

impl Runtime {
    /// Loads `wasm` (normally [`component::EMBEDDED`]), using `cache_dir` for the precompiled form.
    pub fn new(wasm: &[u8], cache_dir: Option<&Path>, limits: GuestLimits) -> Result<Runtime> {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(limits.fuel.is_some());
        config.epoch_interruption(limits.deadline.is_some());
        let engine = wasmtime::Engine::new(&config).map_err(anyhow::Error::from).context("creating the wasm engine")?;
        if limits.deadline.is_some() {
            deadline::start_ticker(&engine).context("starting the epoch ticker")?;
        }
        let started = Instant::now();
        let (component, origin) = component::load(&engine, wasm, cache_dir)?;
        let load_time = started.elapsed();
        let mut linker = Linker::<HostState>::new(&engine);
        Bindings::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        // The guest's standard library imports WASI (stdio, environment) that it only reaches when failing:
        // those calls trap, which the pool handles like any other trap.
        linker.define_unknown_imports_as_traps(&component)?;
        let pre = EnginePre::new(linker.instantiate_pre(&component)?)?;
        Ok(Runtime { engine, pre, limits, origin, load_time })
    }
}

impl Runtime {
    /// A fresh instance over `state`, within the configured limits (memory, fuel), not yet configured.
    pub(crate) fn instantiate(&self, state: HostState) -> Result<(Store<HostState>, Bindings)> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        if let Some(fuel) = self.limits.fuel {
            store.set_fuel(fuel)?;
        }
        let bindings = self.pre.instantiate(&mut store).map_err(anyhow::Error::from).context("instantiating the component")?;
        Ok((store, bindings))
    }

    pub(crate) fn store_limits(&self) -> wasmtime::StoreLimits {
        StoreLimitsBuilder::new().memory_size(self.limits.memory_bytes).build()
    }

    /// Fuel to give before each call, when metered.
    pub(crate) fn fuel(&self) -> Option<u64> {
        self.limits.fuel
    }
}

/// What one request cost inside the engine.
#[derive(Debug, Default, Clone)]
pub struct Usage {
    /// Time in the guest's own code, storage calls excluded.
    pub guest: Duration,
    pub storage: StorageUse,
}

struct Slot {
    store: Store<HostState>,
    bindings: Bindings,
}

/// One configured SCIM service: an engine configuration, a storage, and a pool of idle instances.
pub struct Provider {
    runtime: Arc<Runtime>,
    config: String,
    storage: Arc<dyn Storage>,
    idle: Mutex<Vec<Slot>>,
    max_idle: usize,
}

impl Provider {
    /// Checks the configuration by configuring a first instance, which is kept for the first request.
    pub fn new(runtime: Arc<Runtime>, config: String, storage: Arc<dyn Storage>, max_idle: usize) -> Result<Provider> {
        let provider = Provider { runtime, config, storage, idle: Mutex::new(Vec::new()), max_idle: max_idle.max(1) };
        let slot = provider.instantiate()?;
        provider.idle.lock().unwrap().push(slot);
        Ok(provider)
    }

    fn instantiate(&self) -> Result<Slot> {
        let rt = &self.runtime;
        let limits = StoreLimitsBuilder::new().memory_size(rt.limits.memory_bytes).build();
        let mut store = Store::new(&rt.engine, HostState::new(self.storage.clone(), limits));
        store.limiter(|s| &mut s.limits);
        if rt.limits.fuel.is_some() {
            store.set_fuel(u64::MAX)?;
        }
        // Configuring is not a request: no deadline until `handle` sets one.
        if rt.limits.deadline.is_some() {
            store.set_epoch_deadline(u64::MAX / 2);
        }
        let bindings = rt.pre.instantiate(&mut store).map_err(anyhow::Error::from).context("instantiating the component")?;
        bindings
            .scimkit_scim_provider()
            .call_configure(&mut store, &self.config)?
            .map_err(|e| anyhow::anyhow!("the engine refused its configuration: {e}"))?;
        Ok(Slot { store, bindings })
    }

    /// Answers one SCIM request. A trap (a guest fault, or a limit reached) discards the instance and
    /// answers 500; the next request gets a healthy instance.
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
                return (internal_error("the SCIM engine could not start"), Usage::default());
            }
        };
        if let Some(fuel) = self.runtime.limits.fuel {
            if let Err(e) = slot.store.set_fuel(fuel) {
                tracing::error!("setting fuel: {e:#}");
            }
        }
        if let Some(limit) = self.runtime.limits.deadline {
            slot.store.set_epoch_deadline(deadline::ticks(limit));
        }
        let who = Caller { principal };
        slot.store.data_mut().storage_use = StorageUse::default();
        let started = Instant::now();
        let result = slot.bindings.scimkit_scim_provider().call_handle(&mut slot.store, &who, &req);
        let elapsed = started.elapsed();
        let storage = std::mem::take(&mut slot.store.data_mut().storage_use);
        let usage = Usage { guest: elapsed.saturating_sub(storage.time), storage };
        let response = match result {
            Ok(resp) => {
                let mut idle = self.idle.lock().unwrap();
                if idle.len() < self.max_idle {
                    idle.push(slot);
                }
                resp
            }
            Err(trap) => {
                tracing::error!(method = %req.method, path = %req.path, "the engine trapped; instance discarded: {trap:#}");
                match trap.downcast_ref::<wasmtime::Trap>() {
                    Some(wasmtime::Trap::Interrupt) => error_response(503, "the request took longer than the server allows"),
                    _ => internal_error("the request could not be completed"),
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

fn internal_error(detail: &str) -> HttpResponse {
    error_response(500, detail)
}
