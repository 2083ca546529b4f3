//! The compiled component, shared by every provider, mapper and provisioner of a process.

use crate::bindings::{Engine as Bindings, EnginePre, HostState};
use crate::component::{self, Origin};
use crate::deadline;
use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, Instant};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};

/// Limits applied to every instance.
#[derive(Debug, Clone)]
pub struct GuestLimits {
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Fuel per call (roughly, wasm instructions); none: unlimited.
    pub fuel: Option<u64>,
    /// Wall-clock time per request, enforced by epoch interruption; none: unlimited.
    pub deadline: Option<Duration>,
}

impl Default for GuestLimits {
    fn default() -> Self {
        GuestLimits { memory_bytes: 256 << 20, fuel: None, deadline: None }
    }
}

/// The compiled component, ready to instantiate.
pub struct Runtime {
    engine: wasmtime::Engine,
    pre: EnginePre<HostState>,
    limits: GuestLimits,
    /// Where the component came from and how long loading took, for the start-up log.
    pub origin: Origin,
    pub load_time: Duration,
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
        // those calls trap, which the callers handle like any other trap.
        linker.define_unknown_imports_as_traps(&component)?;
        let pre = EnginePre::new(linker.instantiate_pre(&component)?)?;
        Ok(Runtime { engine, pre, limits, origin, load_time })
    }

    /// A fresh instance over `state`, within the memory limit. Setting up is not a request: fuel and
    /// deadline are unlimited until [`Runtime::arm`] is called before each call.
    pub(crate) fn instantiate(&self, state: HostState) -> Result<(Store<HostState>, Bindings)> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        if self.limits.fuel.is_some() {
            store.set_fuel(u64::MAX)?;
        }
        if self.limits.deadline.is_some() {
            store.set_epoch_deadline(u64::MAX / 2);
        }
        let bindings =
            self.pre.instantiate(&mut store).map_err(anyhow::Error::from).context("instantiating the component")?;
        Ok((store, bindings))
    }

    /// Gives `store` the fuel and deadline of one call.
    pub(crate) fn arm(&self, store: &mut Store<HostState>) {
        if let Some(fuel) = self.limits.fuel {
            if let Err(e) = store.set_fuel(fuel) {
                tracing::error!("setting fuel: {e:#}");
            }
        }
        if let Some(limit) = self.limits.deadline {
            store.set_epoch_deadline(deadline::ticks(limit));
        }
    }

    pub(crate) fn store_limits(&self) -> StoreLimits {
        StoreLimitsBuilder::new().memory_size(self.limits.memory_bytes).build()
    }
}
