//! scimkit's engine: every piece of SCIM logic, independent of how it is hosted.
//!
//! The same code runs natively (unit tests, against [`store::memory::MemoryStore`]) and as the WebAssembly
//! component (`component`, against the host's imported storage).

pub mod allow;
pub mod bulk;
pub mod catalog;
pub mod conditional;
pub mod config;
pub mod context;
pub mod error;
pub mod events;
pub mod filter;
pub mod handlers;
pub mod http;
pub mod mapper;
pub mod me;
pub mod media;
pub mod membership;
pub mod names;
pub mod nesting;
pub mod patch;
pub mod path;
pub mod projection;
pub mod provisioner;
pub mod quirks;
pub mod references;
pub mod resource;
pub mod router;
pub mod rows;
pub mod schema;
pub mod selftest;
pub mod store;
mod syntax;
#[cfg(test)]
mod tests;
pub mod tolerance;

#[cfg(target_arch = "wasm32")]
mod component;

use chrono::{DateTime, Utc};

/// One configured engine. Cheap to call: configuration is parsed once, in [`Engine::new`].
pub struct Engine {
    pub config: config::Config,
}

impl Engine {
    pub fn new(config_json: &str) -> Result<Engine, String> {
        Ok(Engine { config: config::Config::from_json(config_json)? })
    }

    /// Answers one request. Every failure is a SCIM error response; nothing here panics on client input.
    pub fn handle(
        &self,
        store: &mut dyn store::Store,
        now: DateTime<Utc>,
        principal: Option<&str>,
        req: &http::Request,
    ) -> http::Response {
        self.handle_with_hooks(store, &mut events::NoHooks, now, principal, req)
    }

    /// [`Engine::handle`], telling `hooks` of every write and asking them first.
    pub fn handle_with_hooks(
        &self,
        store: &mut dyn store::Store,
        hooks: &mut dyn events::Hooks,
        now: DateTime<Utc>,
        principal: Option<&str>,
        req: &http::Request,
    ) -> http::Response {
        let mut mapped;
        let store: &mut dyn store::Store = match &self.config.rows {
            Some(m) => {
                mapped = rows::RowStore::new(m, store);
                &mut mapped
            }
            None => store,
        };
        let mut catalog = catalog::CatalogStore::new(&self.config.catalog, store);
        let store: &mut dyn store::Store = &mut catalog;
        tolerance::reset();
        let mut ctx = context::Ctx { cfg: &self.config, store, hooks, now, principal };
        let resp = router::handle(&mut ctx, req);
        let fired = tolerance::fired();
        if !self.config.switches.report_tolerances || fired.is_empty() {
            return resp;
        }
        let names: Vec<&str> = fired.iter().map(|t| t.name()).collect();
        resp.with_header(tolerance::REPORT_HEADER, names.join(","))
    }
}
