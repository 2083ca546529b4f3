//! The server's configuration: one TOML file (`scimkit.toml`), every key optional, so a first run needs none.
//!
//! The file is read at start; the management commands (`scimkit tenant …`, `scimkit admin …`) edit it in
//! place, keeping the operator's comments and layout.

use anyhow::{bail, Context, Result};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file's name in the data directory, read when no `--config` is given.
pub const FILE_NAME: &str = "scimkit.toml";
/// The tenant served at `/scim/v2` unless `default_tenant` says otherwise; its files are the data directory's
/// own, as before tenants existed.
pub const DEFAULT_TENANT: &str = "default";

/// Where SCIM is served; a tenant other than the default one answers below it, at `/scim/v2/<name>`.
pub const BASE_PATH: &str = "/scim/v2";

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default 127.0.0.1:8080).
    pub listen: Option<SocketAddr>,
    /// Public URL of `/scim/v2`, for `meta.location` behind a proxy; tenants get `<base_url>/<name>`.
    pub base_url: Option<String>,
    /// Where users and groups are kept: `sqlite` (default), `memory` or a `postgres://` URL.
    pub database: Option<String>,
    /// Reverse proxies (CIDR) whose `Forwarded`/`X-Forwarded-For` headers name the client; default none.
    pub trusted_proxies: Vec<IpNet>,
    /// Name of the tenant served at `/scim/v2`; empty: none. Default `default`.
    pub default_tenant: Option<String>,
    pub engine: EngineConfig,
    pub log: LogConfig,
    pub admin: AdminConfig,
    pub metrics: MetricsConfig,
    #[serde(rename = "tenant")]
    pub tenants: Vec<TenantConfig>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub pool: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub guest_memory_mb: Option<usize>,
    pub guest_fuel: Option<u64>,
    /// Wall-clock limit per request inside the engine; 0: none. Default [`DEFAULT_REQUEST_TIMEOUT_MS`].
    pub request_timeout_ms: Option<u64>,
}

/// A request that runs longer inside the engine is answered 503: one request scanning a large tenant must not
/// hold an engine instance and its memory indefinitely.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;

/// The engine's wall-clock limit per request: the flag, else the configuration, else the default; 0 is none.
pub fn request_deadline(flag: Option<u64>, config: Option<u64>) -> Option<Duration> {
    Some(flag.or(config).unwrap_or(DEFAULT_REQUEST_TIMEOUT_MS)).filter(|ms| *ms > 0).map(Duration::from_millis)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Requests older than this are deleted; 0 keeps them forever.
    pub retention_days: u32,
    /// At most this many requests are kept per tenant; 0: no limit.
    pub max_rows: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { retention_days: 30, max_rows: 100_000 }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Argon2 hash of the admin password (user `admin`); set by `scimkit admin set-password`.
    pub password_hash: Option<String>,
}

/// `GET /metrics`: on by default; with neither a token nor networks set, readable from the loopback
/// interface only (the series name every tenant), unless `open`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// SHA-256 (hex) of a bearer token the scraper must present; `SCIMKIT_METRICS_TOKEN` gives it in clear.
    pub token_sha256: Option<String>,
    /// Client networks allowed to scrape; empty: any when a token is set, else loopback only.
    pub allow_networks: Vec<IpNet>,
    /// Readable by any client with no token: for a server only a trusted network reaches.
    pub open: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true, token_sha256: None, allow_networks: Vec::new(), open: false }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// Public URL of this tenant's SCIM base; default `<base_url>/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Only reads (GET, and POST to `.search`) are allowed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// The resource types served (`User`, `Group`); default all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<Vec<String>>,
    /// Client networks allowed to connect; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_networks: Vec<IpNet>,
    /// What happens to a `password` a client sends with a User.
    #[serde(default)]
    pub passwords: PasswordPolicy,
    /// What a successful PATCH answers.
    #[serde(default, skip_serializing_if = "PatchResponse::is_auto")]
    pub patch_response: PatchResponse,
    /// Requests per second answered, sustained; default [`crate::limits::DEFAULT_RATE_PER_SECOND`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_second: Option<f64>,
    /// Requests answered at once after a quiet spell; default [`crate::limits::DEFAULT_RATE_BURST`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_burst: Option<u32>,
    #[serde(default)]
    pub auth: Vec<AuthMethod>,
    /// The roles a User may hold, served read-only at `/Roles`; empty: no `Role` resource type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<CatalogEntry>,
    /// The entitlements a User may hold, served read-only at `/Entitlements`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<CatalogEntry>,
    /// Whether a Group may hold Groups; default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested_groups: Option<bool>,
    /// Longest chain of nested groups; default 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_group_depth: Option<u32>,
    /// A User's enterprise `manager` must name an existing User.
    #[serde(default, skip_serializing_if = "is_false")]
    pub manager_must_exist: bool,
}

/// One role or entitlement a tenant offers (what Okta discovers at `/Roles` and `/Entitlements`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// The value a User's `roles[].value` (or `entitlements[].value`) names it by.
    pub id: String,
    pub display_name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl CatalogEntry {
    /// The engine's form of it.
    pub fn engine_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({ "id": self.id, "displayName": self.display_name });
        if let Some(k) = &self.kind {
            v["type"] = serde_json::json!(k);
        }
        if let Some(d) = &self.description {
            v["description"] = serde_json::json!(d);
        }
        v
    }
}

/// What a successful PATCH answers (RFC 7644 §3.5.2 allows 200 with the resource or 204).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchResponse {
    /// 204 for a Group (its members could be many) unless the client asks for `attributes` or
    /// `excludedAttributes`; 200 with the resource for a User.
    #[default]
    Auto,
    /// Always 200 with the resource.
    Resource,
    /// Always 204.
    NoContent,
}

impl PatchResponse {
    fn is_auto(&self) -> bool {
        *self == PatchResponse::Auto
    }

    /// The engine's name for it (its `switches.patchResponse`).
    pub fn engine_name(self) -> &'static str {
        match self {
            PatchResponse::Auto => "auto",
            PatchResponse::Resource => "resource",
            PatchResponse::NoContent => "noContent",
        }
    }
}

fn is_false(b: &bool) -> bool {
    !b
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordPolicy {
    /// Stored as an argon2 hash.
    #[default]
    Hash,
    /// Not stored at all.
    Drop,
}

/// One way a client may authenticate to a tenant. A tenant accepts any of its methods.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthMethod {
    /// A static bearer token, kept as its SHA-256 (hex).
    Bearer { token_sha256: String },
    /// HTTP Basic with an argon2-hashed password.
    Basic { username: String, password_hash: String },
    /// Long-lived signed tokens issued by `scimkit token issue`.
    Jwt,
    /// OAuth 2 client credentials: the token endpoint trades them for a short-lived token.
    Oauth2 {
        client_id: String,
        client_secret_hash: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_ttl: Option<String>,
    },
    /// No authentication at all: anyone who reaches the server may read and write.
    #[serde(rename = "none")]
    Open,
}

impl AuthMethod {
    pub fn label(&self) -> &'static str {
        match self {
            AuthMethod::Bearer { .. } => "bearer",
            AuthMethod::Basic { .. } => "basic",
            AuthMethod::Jwt => "jwt",
            AuthMethod::Oauth2 { .. } => "oauth2",
            AuthMethod::Open => "none",
        }
    }
}

impl TenantConfig {
    pub fn new(name: &str) -> TenantConfig {
        TenantConfig {
            name: name.to_string(),
            base_url: None,
            read_only: false,
            resource_types: None,
            allow_networks: Vec::new(),
            passwords: PasswordPolicy::Hash,
            patch_response: PatchResponse::Auto,
            rate_limit_per_second: None,
            rate_limit_burst: None,
            auth: Vec::new(),
            roles: Vec::new(),
            entitlements: Vec::new(),
            nested_groups: None,
            max_group_depth: None,
            manager_must_exist: false,
        }
    }
}

/// Where things are: the data directory and the configuration file.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data: PathBuf,
    pub config: PathBuf,
    /// The file was named on the command line, so it must exist.
    pub config_required: bool,
}

impl Paths {
    pub fn new(data: PathBuf, config: Option<PathBuf>) -> Paths {
        match config {
            Some(config) => Paths { data, config, config_required: true },
            None => Paths { config: data.join(FILE_NAME), data, config_required: false },
        }
    }

    /// A tenant's own directory: its database and signing key. The `default` tenant keeps the data
    /// directory's own files, so that data written before tenants existed stays where it is.
    pub fn tenant_dir(&self, name: &str) -> PathBuf {
        if name == DEFAULT_TENANT {
            self.data.clone()
        } else {
            self.data.join("tenants").join(name)
        }
    }

    pub fn tenant_db(&self, name: &str) -> PathBuf {
        self.tenant_dir(name).join("scimkit.sqlite3")
    }
}

/// SCIM endpoint names a tenant name must not shadow under `/scim/v2/`.
const RESERVED: &[&str] =
    &["users", "groups", "me", "schemas", "resourcetypes", "serviceproviderconfig", "bulk", ".search"];

pub fn check_tenant_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!("tenant name {name:?}: use 1 to 63 lower-case letters, digits and '-', starting with a letter");
    }
    if RESERVED.contains(&name) {
        bail!("tenant name {name:?} is a SCIM endpoint name");
    }
    Ok(())
}

impl Config {
    /// Reads the file; a missing file is the empty configuration unless it was named explicitly.
    pub fn load(paths: &Paths) -> Result<Config> {
        let text = match std::fs::read_to_string(&paths.config) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !paths.config_required => {
                return Ok(Config::default())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", paths.config.display())),
        };
        let config: Config = toml::from_str(&text).with_context(|| format!("in {}", paths.config.display()))?;
        config.check().with_context(|| format!("in {}", paths.config.display()))?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for t in &self.tenants {
            check_tenant_name(&t.name)?;
            if !seen.insert(t.name.as_str()) {
                bail!("tenant {} is defined twice", t.name);
            }
            for m in &t.auth {
                if let AuthMethod::Oauth2 { token_ttl: Some(ttl), .. } = m {
                    parse_duration(ttl).with_context(|| format!("tenant {}: token_ttl", t.name))?;
                }
            }
        }
        if let Some(name) = self.default_tenant.as_deref().filter(|n| !n.is_empty()) {
            check_tenant_name(name).context("default_tenant")?;
        }
        Ok(())
    }

    /// The public URL of `/scim/v2` as configured, without the command line's say: for the commands that
    /// open a tenant's engine beside the server.
    pub fn served_base_url(&self) -> String {
        let listen = self.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        self.base_url.clone().unwrap_or_else(|| format!("http://{listen}{}", BASE_PATH))
    }

    /// The name of the tenant served at `/scim/v2`, if any.
    pub fn default_name(&self) -> Option<&str> {
        match self.default_tenant.as_deref() {
            None => Some(DEFAULT_TENANT),
            Some("") => None,
            Some(name) => Some(name),
        }
    }

    /// Every tenant served: the listed ones, plus the default tenant when it is not listed (it then takes the
    /// default settings and the bearer token of `SCIM_TOKEN` or the data directory).
    pub fn tenants(&self) -> Vec<TenantConfig> {
        let mut all = self.tenants.clone();
        if let Some(name) = self.default_name() {
            if !all.iter().any(|t| t.name == name) {
                all.insert(0, TenantConfig::new(name));
            }
        }
        all
    }
}

/// Edits of the file that keep its comments: each loads the document, changes one part, and writes it back.
pub struct Editor {
    path: PathBuf,
    doc: toml_edit::DocumentMut,
}

impl Editor {
    pub fn open(paths: &Paths) -> Result<Editor> {
        let text = match std::fs::read_to_string(&paths.config) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", paths.config.display())),
        };
        let doc = text.parse().with_context(|| format!("in {}", paths.config.display()))?;
        Ok(Editor { path: paths.config.clone(), doc })
    }

    pub fn add_tenant(&mut self, tenant: &TenantConfig) -> Result<()> {
        let mut table = toml_edit::ser::to_document(tenant).context("encoding the tenant")?.as_table().clone();
        // Written as [[tenant.auth]] sections, like the example file, rather than one long inline array.
        if let Some(item) = table.get_mut("auth") {
            match std::mem::take(item).into_array_of_tables() {
                Ok(sections) => *item = toml_edit::Item::ArrayOfTables(sections),
                Err(original) => *item = original,
            }
        }
        let list = self.doc.entry("tenant").or_insert(toml_edit::Item::ArrayOfTables(Default::default()));
        let list = list.as_array_of_tables_mut().context("`tenant` is not a list of [[tenant]] tables")?;
        list.push(table);
        Ok(())
    }

    /// Removes the tenant's table; false when it was not listed.
    pub fn remove_tenant(&mut self, name: &str) -> Result<bool> {
        let Some(list) = self.doc.get_mut("tenant") else { return Ok(false) };
        let list = list.as_array_of_tables_mut().context("`tenant` is not a list of [[tenant]] tables")?;
        let before = list.len();
        list.retain(|t| t.get("name").and_then(|n| n.as_str()) != Some(name));
        Ok(list.len() != before)
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.doc[key] = toml_edit::value(value);
    }

    pub fn set_admin_hash(&mut self, hash: &str) {
        if self.doc.get("admin").is_none() {
            self.doc["admin"] = toml_edit::table();
        }
        self.doc["admin"]["password_hash"] = toml_edit::value(hash);
    }

    /// Writes the file (mode 0600: it holds password hashes), checking first that it still loads.
    pub fn save(&self) -> Result<()> {
        let text = self.doc.to_string();
        let config: Config = toml::from_str(&text).context("the edited configuration does not load")?;
        config.check()?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        write_private(&self.path, text.as_bytes())
    }
}

/// Creates a directory, and any missing parent, for its owner only (0700): data and tenant directories hold
/// PII, password hashes and the request log. A directory that exists keeps its mode: it may be the user's own.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes a file readable by its owner only, replacing it atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// `90s`, `30m`, `12h`, `7d`, `10y` (365 days).
pub fn parse_duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().with_context(|| format!("{text:?} is not a duration like 90s, 30m, 12h, 7d or 10y"))?;
    let unit_secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "y" => 365 * 86_400,
        _ => bail!("{text:?}: the unit must be s, m, h, d or y"),
    };
    n.checked_mul(unit_secs).map(Duration::from_secs).with_context(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_example_loads() {
        let config: Config = toml::from_str(include_str!("../scimkit.example.toml")).unwrap();
        config.check().unwrap();
        assert!(config.tenants.len() >= 2);
    }

    #[test]
    fn an_empty_file_serves_the_default_tenant() {
        let config: Config = toml::from_str("").unwrap();
        let tenants = config.tenants();
        assert_eq!(tenants.len(), 1);
        assert_eq!(tenants[0].name, DEFAULT_TENANT);
    }

    #[test]
    fn requests_have_a_deadline_unless_told_otherwise() {
        assert_eq!(request_deadline(None, None), Some(Duration::from_millis(DEFAULT_REQUEST_TIMEOUT_MS)));
        assert_eq!(request_deadline(None, Some(500)), Some(Duration::from_millis(500)));
        assert_eq!(request_deadline(Some(20), Some(500)), Some(Duration::from_millis(20)));
        assert_eq!(request_deadline(None, Some(0)), None);
        assert_eq!(request_deadline(Some(0), None), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10y").unwrap(), Duration::from_secs(10 * 365 * 86_400));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("99999999999999999999y").is_err());
    }

    #[test]
    fn tenant_names_cannot_shadow_endpoints() {
        assert!(check_tenant_name("acme-2").is_ok());
        for bad in ["users", "Users", "", "2x", "a/b", "me"] {
            assert!(check_tenant_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn editing_keeps_comments_and_round_trips() {
        let dir = std::env::temp_dir().join(format!("scimkit-config-{}", scimkit_runtime::storage::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), "# mine\nlisten = \"127.0.0.1:9000\"\n").unwrap();
        let paths = Paths::new(dir.clone(), None);
        let mut ed = Editor::open(&paths).unwrap();
        let mut t = TenantConfig::new("acme");
        t.auth = vec![AuthMethod::Jwt, AuthMethod::Bearer { token_sha256: "ab".into() }];
        ed.add_tenant(&t).unwrap();
        ed.set_admin_hash("$argon2id$x");
        ed.save().unwrap();
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).unwrap();
        assert!(text.starts_with("# mine"), "{text}");
        let loaded = Config::load(&paths).unwrap();
        assert_eq!(loaded.tenants[0].auth, t.auth);
        assert_eq!(loaded.admin.password_hash.as_deref(), Some("$argon2id$x"));
        let mut ed = Editor::open(&paths).unwrap();
        assert!(ed.remove_tenant("acme").unwrap());
        ed.save().unwrap();
        assert!(Config::load(&paths).unwrap().tenants.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
