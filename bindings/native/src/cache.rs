//! Compiled components and configured instance pools, kept for the life of the process.
//!
//! Scripting hosts (PHP) create an engine on every request; finding the pool again here is what makes
//! instances outlive the request, so a request costs one `handle`, not a compile and an instantiation.

use crate::storage::{CallbackHooks, CallbackStorage};
use anyhow::{Context, Result};
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::provider::Provider;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// Enough for a few configurations (tenants, base URLs) per process; the oldest is dropped past it.
const MAX_PROVIDERS: usize = 16;
/// Idle instances per configuration: one per concurrent request of a threaded caller.
const MAX_IDLE: usize = 4;

/// A component file as loaded: a rebuilt file (new size or time) is loaded again.
#[derive(Clone, PartialEq)]
struct Source {
    path: Option<PathBuf>,
    len: u64,
    modified: Option<SystemTime>,
    cache_dir: Option<PathBuf>,
}

static RUNTIMES: Mutex<Vec<(Source, Arc<Runtime>)>> = Mutex::new(Vec::new());
static PROVIDERS: Mutex<Vec<(Source, String, Arc<Provider>)>> = Mutex::new(Vec::new());

/// A panic elsewhere never makes the caches unusable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn source(component: Option<&Path>, cache_dir: Option<&Path>) -> Result<Source> {
    let (len, modified) = match component {
        Some(p) => {
            let meta = std::fs::metadata(p).with_context(|| format!("reading {}", p.display()))?;
            (meta.len(), meta.modified().ok())
        }
        None => (EMBEDDED.len() as u64, None),
    };
    // Next to the component by default: one precompiled file per component, found by every process.
    let cache_dir =
        cache_dir.map(Path::to_path_buf).or_else(|| component.and_then(Path::parent).map(Path::to_path_buf));
    Ok(Source { path: component.map(Path::to_path_buf), len, modified, cache_dir })
}

fn runtime(src: &Source) -> Result<Arc<Runtime>> {
    if let Some((_, rt)) = lock(&RUNTIMES).iter().find(|(s, _)| s == src) {
        return Ok(rt.clone());
    }
    let wasm = match &src.path {
        Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        None => EMBEDDED.to_vec(),
    };
    // An unwritable cache directory only costs the compile: fall back to compiling in memory.
    let rt = Runtime::new(&wasm, src.cache_dir.as_deref(), GuestLimits::default())
        .or_else(|_| Runtime::new(&wasm, None, GuestLimits::default()))?;
    let rt = Arc::new(rt);
    let mut all = lock(&RUNTIMES);
    all.retain(|(s, _)| s.path != src.path || s.cache_dir != src.cache_dir);
    all.push((src.clone(), rt.clone()));
    Ok(rt)
}

/// The pool for this component and configuration, created (and the configuration checked) on first use.
pub fn provider(component: Option<&Path>, cache_dir: Option<&Path>, config: &str) -> Result<Arc<Provider>> {
    let src = source(component, cache_dir)?;
    if let Some((_, _, p)) = lock(&PROVIDERS).iter().find(|(s, c, _)| s == &src && c == config) {
        return Ok(p.clone());
    }
    let (storage, hooks) = (Arc::new(CallbackStorage), Arc::new(CallbackHooks));
    let provider = Arc::new(Provider::with_hooks(runtime(&src)?, config.to_string(), storage, hooks, MAX_IDLE)?);
    let mut all = lock(&PROVIDERS);
    all.retain(|(s, c, _)| !(s == &src && c == config));
    if all.len() >= MAX_PROVIDERS {
        all.remove(0);
    }
    all.push((src, config.to_string(), provider.clone()));
    Ok(provider)
}

/// The compiled component alone, for the provisioner and the mapper (Java): compiled once with the pools'.
pub fn shared_runtime(component: Option<&Path>, cache_dir: Option<&Path>) -> Result<Arc<Runtime>> {
    runtime(&source(component, cache_dir)?)
}
