//! Loading the scimkit component: compiled once, then cached on disk as a precompiled `.cwasm`.
//!
//! The cache key covers the component's bytes and the engine's compatibility hash (wasmtime version and
//! every setting that changes generated code), since a `.cwasm` only loads into an identical build.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// The component built with this binary (see build.rs).
pub static EMBEDDED: &[u8] = include_bytes!(env!("SCIMKIT_COMPONENT"));

/// How the component was obtained, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Deserialised from the on-disk cache.
    Cache,
    /// Compiled now (and written to the cache when one is configured).
    Compiled,
}

pub fn cache_path(engine: &Engine, wasm: &[u8], dir: &Path) -> PathBuf {
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut h = Sha256::new();
    h.update(wasm);
    h.update(compat.finish().to_le_bytes());
    dir.join(format!("scimkit-{}.cwasm", &hex::encode(h.finalize())[..32]))
}

/// Loads the component, from `cache_dir` when a matching `.cwasm` is there, else by compiling it.
pub fn load(engine: &Engine, wasm: &[u8], cache_dir: Option<&Path>) -> Result<(Component, Origin)> {
    let Some(dir) = cache_dir else {
        return Ok((
            Component::new(engine, wasm).map_err(anyhow::Error::from).context("compiling the component")?,
            Origin::Compiled,
        ));
    };
    let path = cache_path(engine, wasm, dir);
    if path.exists() {
        // SAFETY: the file is one this host wrote for this exact engine configuration (the key says so); a
        // file that is not, or is damaged, is refused by wasmtime's header checks and recompiled below.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok((c, Origin::Cache)),
            Err(e) => tracing::warn!("cached component {} refused, recompiling: {e:#}", path.display()),
        }
    }
    let component = Component::new(engine, wasm).map_err(anyhow::Error::from).context("compiling the component")?;
    let bytes = component.serialize().map_err(anyhow::Error::from).context("serialising the compiled component")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Written under a temporary name, then renamed: a reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("renaming {}", tmp.display()))?;
    Ok((component, Origin::Compiled))
}
