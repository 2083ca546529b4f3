//! Identity servers (tenants): each has its own base path, credentials, limits, database, request log and
//! engine provider, and shares nothing else with the others but the compiled component.

use crate::auth::{jwt, Authenticator, BearerToken, Method};
use crate::config::BASE_PATH;
use crate::config::{AuthMethod, Config, LogConfig, PasswordPolicy, Paths, TenantConfig};
use crate::database::Database;
use crate::events::deliver;
use crate::events::journal::Journal;
use crate::events::retention::{self, Retention};
use crate::limits::Limits;
use crate::passwords::PasswordGuard;
use crate::postgresql::PostgresStorage;
use crate::request_log::RequestLog;
use crate::sqlite::SqliteStorage;
use anyhow::{bail, Context, Result};
use scimkit_runtime::engine::Runtime;
use scimkit_runtime::memory::MemoryStorage;
use scimkit_runtime::provider::Provider;
use scimkit_runtime::storage::Storage;
use std::sync::Arc;

/// Server-wide settings a tenant is built with.
pub struct Settings {
    /// Public URL of `/scim/v2`.
    pub base_url: String,
    pub pool: usize,
    pub max_body_bytes: usize,
    pub log: LogConfig,
    /// `SCIM_TOKEN`: the default tenant's bearer token.
    pub scim_token: Option<String>,
    /// Where users and groups are kept; the request log and signing keys stay in the tenant's SQLite file.
    pub database: Database,
}

pub struct Tenant {
    pub name: String,
    pub is_default: bool,
    /// Where it is served: `/scim/v2` or `/scim/v2/<name>`.
    pub base_path: String,
    pub base_url: String,
    pub config: TenantConfig,
    pub provider: Provider,
    pub storage: Arc<dyn Storage>,
    pub auth: Authenticator,
    pub limits: Limits,
    pub log: RequestLog,
    /// Delivery state of each `[[tenant.events]]` receiver.
    pub deliveries: Vec<Arc<deliver::State>>,
    /// Whether a read may run on an async worker: SQLite and memory answer in place, while the PostgreSQL client
    /// drives a runtime of its own, which cannot start on a thread that already drives one.
    pub reads_on_worker: bool,
}

pub struct Tenants {
    pub list: Vec<Arc<Tenant>>,
}

/// Something to tell the operator once at start (a generated token, an open tenant).
pub enum Notice {
    GeneratedToken { tenant: String, token: String },
    Open { tenant: String },
}

impl Tenants {
    pub fn open(
        paths: &Paths,
        config: &Config,
        runtime: &Arc<Runtime>,
        settings: &Settings,
    ) -> Result<(Tenants, Vec<Notice>)> {
        let default = config.default_name();
        let mut list = Vec::new();
        let mut notices = Vec::new();
        for t in config.tenants() {
            let is_default = default == Some(t.name.as_str());
            let tenant = open_tenant(paths, t, is_default, runtime, settings, &mut notices)?;
            list.push(Arc::new(tenant));
        }
        Ok((Tenants { list }, notices))
    }

    /// The tenant serving a path below `/scim/v2`, and the path below that tenant's base.
    pub fn resolve(&self, rest: &str) -> Option<(&Arc<Tenant>, String)> {
        let trimmed = rest.trim_start_matches('/');
        let (first, below) =
            trimmed.split_once('/').map(|(a, b)| (a, format!("/{b}"))).unwrap_or((trimmed, "/".into()));
        if let Some(t) = self.list.iter().find(|t| !t.is_default && t.name == first) {
            return Some((t, below));
        }
        let t = self.list.iter().find(|t| t.is_default)?;
        Some((t, if rest.is_empty() { "/".into() } else { rest.to_string() }))
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<Tenant>> {
        self.list.iter().find(|t| t.name == name)
    }

    /// The tenant whose OAuth token endpoint this is (`None`: the default tenant's, `/oauth/token`).
    pub fn for_token_endpoint(&self, name: Option<&str>) -> Option<&Arc<Tenant>> {
        match name {
            None => self.list.iter().find(|t| t.is_default),
            Some(n) => self.list.iter().find(|t| !t.is_default && t.name == n),
        }
    }
}

fn open_tenant(
    paths: &Paths,
    t: TenantConfig,
    is_default: bool,
    runtime: &Arc<Runtime>,
    settings: &Settings,
    notices: &mut Vec<Notice>,
) -> Result<Tenant> {
    let name = t.name.clone();
    let dir = paths.tenant_dir(&name);
    crate::config::create_private_dir(&dir)?;
    let db = paths.tenant_db(&name);
    let auth = authenticator(&t, is_default, &dir, &db, settings, notices)
        .with_context(|| format!("tenant {name}: authentication"))?;
    let (base_path, default_url) = if is_default {
        (BASE_PATH.to_string(), settings.base_url.clone())
    } else {
        (format!("{BASE_PATH}/{name}"), format!("{}/{name}", settings.base_url.trim_end_matches('/')))
    };
    let base_url = t.base_url.clone().unwrap_or(default_url);
    let max = t.max_candidates();
    let (storage, journal, cursor_key): (Arc<dyn Storage>, Option<Arc<dyn Journal>>, String) = match &settings.database
    {
        Database::Sqlite => {
            let sqlite = SqliteStorage::open(&db)
                .with_context(|| format!("tenant {name}: opening {}", db.display()))?
                .with_max_candidates(max);
            let sqlite = Arc::new(sqlite);
            let key = sqlite.cursor_key().to_string();
            (guarded(sqlite.clone(), t.passwords), Some(sqlite), key)
        }
        // One process: a key of its own.
        Database::Memory => (guarded(MemoryStorage::new(), t.passwords), None, crate::new_secret()),
        Database::Postgres(url) => {
            let pg = PostgresStorage::open(url, &name)
                .with_context(|| format!("tenant {name}: opening its schema"))?
                .with_max_candidates(max);
            let pg = Arc::new(pg);
            let key = pg.cursor_key().to_string();
            (guarded(pg.clone(), t.passwords), Some(pg), key)
        }
    };
    // A bulk request is a body like any other: the host's limit is also the advertised maxPayloadSize.
    let limits =
        serde_json::json!({ "maxBodyBytes": settings.max_body_bytes, "bulkMaxPayloadBytes": settings.max_body_bytes });
    let wake = Arc::new(deliver::Wake::default());
    let config =
        engine_config(paths, &t, &base_url, limits, &auth, &cursor_key).with_context(|| format!("tenant {name}"))?;
    let provider = Provider::with_hooks(runtime.clone(), config, storage.clone(), wake.clone(), settings.pool)
        .with_context(|| configured_from(paths, &t))?;
    let deliveries = match journal {
        Some(journal) => {
            if let Some(r) = Retention::of(&t) {
                retention::start(&name, &t.events, journal.clone(), r);
            }
            deliver::start(&name, &base_url, &t.events, journal, wake)
        }
        None if !t.events.is_empty() => bail!("tenant {name}: events need a database that keeps a journal"),
        None => Vec::new(),
    };
    let log = RequestLog::open(&paths.tenant_log(&name), &db, settings.log.clone())
        .with_context(|| format!("tenant {name}: request log"))?;
    if auth.is_open() {
        notices.push(Notice::Open { tenant: name.clone() });
    }
    Ok(Tenant {
        name,
        is_default,
        base_path,
        base_url,
        limits: Limits::new(&t),
        config: t,
        provider,
        storage,
        auth,
        log,
        deliveries,
        reads_on_worker: !matches!(settings.database, Database::Postgres(_)),
    })
}

fn guarded<S: Storage + 'static>(storage: S, policy: PasswordPolicy) -> Arc<dyn Storage> {
    Arc::new(PasswordGuard::new(storage, policy))
}

/// The configuration a tenant's engine instances are configured with.
fn engine_config(
    paths: &Paths,
    t: &TenantConfig,
    base_url: &str,
    mut limits: serde_json::Value,
    auth: &Authenticator,
    cursor_key: &str,
) -> Result<String> {
    limits["maxCandidates"] = serde_json::json!(t.max_candidates());
    let mut config = serde_json::json!({
        "baseUrl": base_url,
        "limits": limits,
        "switches": {
            "patchResponse": t.patch_response.engine_name(),
            "nestedGroups": t.nested_groups.unwrap_or(true),
            "managerMustExist": t.manager_must_exist,
            "profile": t.profile.engine_name(),
            "reportTolerances": true,
        },
        // Cursor paging (RFC 9865), signed with the tenant's key from its database.
        "pagination": { "cursorKey": cursor_key },
    });
    // `/ServiceProviderConfig` lists exactly the methods this tenant accepts: none for an open tenant.
    config["authenticationSchemes"] = serde_json::json!(auth.schemes());
    if let Some(names) = &t.tolerances {
        config["switches"]["tolerances"] = serde_json::json!(names);
    }
    if let Some(types) = &t.resource_types {
        config["resourceTypes"] = serde_json::json!(types);
    }
    if let Some(depth) = t.max_group_depth {
        config["limits"]["maxGroupDepth"] = serde_json::json!(depth);
    }
    if !t.roles.is_empty() {
        config["roles"] = t.roles.iter().map(|e| e.engine_json()).collect();
    }
    if !t.entitlements.is_empty() {
        config["entitlements"] = t.entitlements.iter().map(|e| e.engine_json()).collect();
    }
    if let Some(named) = &t.schemas {
        let file = crate::schemas_file::locate(&paths.config, named);
        for (key, value) in crate::schemas_file::engine_part(&file)? {
            config[key] = value;
        }
    }
    Ok(config.to_string())
}

/// What a tenant's engine was configured from, for the message when it refuses: its schemas file, if any.
fn configured_from(paths: &Paths, t: &TenantConfig) -> String {
    match &t.schemas {
        Some(named) => {
            format!("tenant {} (schemas {})", t.name, crate::schemas_file::locate(&paths.config, named).display())
        }
        None => format!("tenant {}", t.name),
    }
}

/// One tenant's engine over its database, without credentials or request log: what `scimkit import` and
/// `scimkit export` drive, beside a running server or instead of one.
pub struct Direct {
    pub provider: Provider,
    /// The database while in SQLite's bulk-load mode, to be finished.
    bulk: Option<Arc<SqliteStorage>>,
}

impl Direct {
    /// Opens tenant `name`'s database; `bulk`: in SQLite's bulk-load mode (only while no server uses it),
    /// committing every `bulk` writes. `limits` are the engine's, `pool` its idle instances.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        paths: &Paths,
        config: &Config,
        database: &Database,
        name: &str,
        runtime: &Arc<Runtime>,
        limits: serde_json::Value,
        bulk: Option<usize>,
        pool: usize,
    ) -> Result<Direct> {
        let t = config.configured_tenant(name)?;
        let dir = paths.tenant_dir(name);
        crate::config::create_private_dir(&dir)?;
        let (storage, bulk, cursor_key) = match database {
            Database::Sqlite => {
                let db = paths.tenant_db(name);
                let sqlite = match bulk {
                    Some(batch) => SqliteStorage::open_bulk(&db, batch),
                    None => SqliteStorage::open(&db),
                };
                let sqlite = Arc::new(sqlite.with_context(|| format!("tenant {name}: opening {}", db.display()))?);
                let key = sqlite.cursor_key().to_string();
                (guarded(sqlite.clone(), t.passwords), bulk.map(|_| sqlite), key)
            }
            Database::Postgres(url) => {
                let pg =
                    PostgresStorage::open(url, name).with_context(|| format!("tenant {name}: opening its schema"))?;
                let key = pg.cursor_key().to_string();
                (guarded(pg, t.passwords), None, key)
            }
            Database::Memory => {
                bail!("memory keeps nothing after the command: import and export need sqlite or postgres://…")
            }
        };
        let base_url = match (&t.base_url, config.default_name() == Some(name)) {
            (Some(url), _) => url.clone(),
            (None, true) => config.served_base_url(),
            (None, false) => format!("{}/{name}", config.served_base_url().trim_end_matches('/')),
        };
        let methods = t.auth.iter().map(Method::from_config).collect::<Result<_>>()?;
        let auth = Authenticator::new(name, methods, None);
        let config = engine_config(paths, &t, &base_url, limits, &auth, &cursor_key)
            .with_context(|| format!("tenant {name}"))?;
        let provider =
            Provider::new(runtime.clone(), config, storage, pool).with_context(|| configured_from(paths, &t))?;
        Ok(Direct { provider, bulk })
    }

    /// Commits the pending writes of a bulk load, so that the engine's reads see them (a group's members are
    /// looked up). Nothing to do otherwise.
    pub fn flush(&self) -> Result<()> {
        match &self.bulk {
            Some(sqlite) => sqlite.flush(),
            None => Ok(()),
        }
    }

    /// Ends a bulk load: from then on every write is durable. Nothing to do otherwise.
    pub fn finish(&self) -> Result<()> {
        match &self.bulk {
            Some(sqlite) => sqlite.finish_bulk(),
            None => Ok(()),
        }
    }
}

fn authenticator(
    t: &TenantConfig,
    is_default: bool,
    dir: &std::path::Path,
    db: &std::path::Path,
    settings: &Settings,
    notices: &mut Vec<Notice>,
) -> Result<Authenticator> {
    let mut methods: Vec<Method> = t.auth.iter().map(Method::from_config).collect::<Result<_>>()?;
    if is_default {
        let env = settings.scim_token.as_deref().filter(|s| !s.is_empty());
        if let Some(token) = env {
            // SCIM_TOKEN is the default tenant's bearer token, in place of any configured one.
            methods.retain(|m| !matches!(m, Method::Bearer(_)));
            methods.push(Method::Bearer(BearerToken::from_secret(token)));
        } else if methods.is_empty() {
            let (token, generated) = BearerToken::load_or_create(None, dir)?;
            if let Some(secret) = generated {
                notices.push(Notice::GeneratedToken { tenant: t.name.clone(), token: secret });
            }
            methods.push(Method::Bearer(token));
        }
    }
    if methods.is_empty() {
        bail!("no method configured: add an [[tenant.auth]] entry (method = \"none\" to accept anyone)");
    }
    let signs = t.auth.iter().any(AuthMethod::signs_tokens);
    let signer = if signs { Some(jwt::Signer::open(&t.name, dir, db)?) } else { None };
    Ok(Authenticator::new(&t.name, methods, signer))
}
