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
    /// Time to send a request head (and the TLS handshake), in ms; 0: none. Default
    /// [`DEFAULT_HEADER_READ_TIMEOUT_MS`].
    pub header_read_timeout_ms: Option<u64>,
    /// Time to send a request body once its head is in, in ms (408 past it); 0: none. Default
    /// [`DEFAULT_BODY_READ_TIMEOUT_MS`].
    pub body_read_timeout_ms: Option<u64>,
    /// Time a kept-alive connection may wait for its next request, in ms; 0: none. Default
    /// [`DEFAULT_IDLE_TIMEOUT_MS`].
    pub idle_timeout_ms: Option<u64>,
    /// Connections open at once; more wait until one closes. Default [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: Option<usize>,
    /// PEM certificate chain to serve HTTPS with, beside `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
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

/// Long enough for any client on a slow link, short enough that connections trickling a head in (or, over
/// TLS, never finishing the handshake) are dropped before they add up.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// A request body of the default 1 MiB limit arrives at 35 KiB/s within it.
pub const DEFAULT_BODY_READ_TIMEOUT_MS: u64 = 30_000;
/// Kept-alive connections of a provisioning client that pauses between batches are reused; idle ones do not
/// hold a connection slot for long.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 30_000;
/// Below the usual limit of 1,024 open files per process, leaving room for databases and logs.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// A timeout in ms as configured, else its default; 0 is none.
pub fn timeout(config: Option<u64>, default_ms: u64) -> Option<Duration> {
    Some(config.unwrap_or(default_ms)).filter(|ms| *ms > 0).map(Duration::from_millis)
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
    /// A JSON file of Schema and ResourceType resources (RFC 7643 §6–7) served beside the built-in ones:
    /// extensions of User and Group, and resource types of their own. Relative to the configuration file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schemas: Option<String>,
    /// The conformance profile: `tolerant` (the default) or `strict` (`docs/profiles.md`).
    #[serde(default, skip_serializing_if = "Profile::is_tolerant")]
    pub profile: Profile,
    /// The engine's tolerances (deviations from the RFCs accepted for real clients) enabled, by name; all when
    /// absent. The engine refuses an unknown name at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerances: Option<Vec<String>>,
    /// Requests per second answered, sustained; default [`crate::limits::DEFAULT_RATE_PER_SECOND`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_second: Option<f64>,
    /// Requests answered at once after a quiet spell; default [`crate::limits::DEFAULT_RATE_BURST`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_burst: Option<u32>,
    /// Most resources one search may examine when the database cannot answer its filter or sort alone
    /// (400 `tooMany` past it); default [`DEFAULT_MAX_CANDIDATES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_candidates: Option<u64>,
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
    /// Receivers of the tenant's change events (`[[tenant.events]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<crate::events::Receiver>,
    /// Days a change stays in the journal once every receiver has it; default forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_retention_days: Option<u32>,
    /// Most changes the journal keeps once every receiver has them; default no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_max_rows: Option<u64>,
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

/// A tenant's conformance profile (`docs/profiles.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// What identity providers send is accepted, through the tenant's `tolerances`.
    #[default]
    Tolerant,
    /// The SCIM Interop Profile: no tolerance, unknown attributes refused, PATCH with a path.
    Strict,
}

impl Profile {
    fn is_tolerant(&self) -> bool {
        *self == Profile::Tolerant
    }

    /// The engine's name for it (its `switches.profile`).
    pub fn engine_name(self) -> &'static str {
        match self {
            Profile::Tolerant => "tolerant",
            Profile::Strict => "strict",
        }
    }
}

/// Generous for the filters identity providers send (equalities, which the database answers), while 8 searches
/// at once that it cannot answer stay within a few hundred megabytes (each candidate costs about 2.5 KB).
pub const DEFAULT_MAX_CANDIDATES: u64 = 20_000;

impl TenantConfig {
    pub fn max_candidates(&self) -> u64 {
        self.max_candidates.unwrap_or(DEFAULT_MAX_CANDIDATES)
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
    /// HTTP Digest (RFC 7616, `qop=auth`): the password is kept as the RFC's `H(username:realm:password)`
    /// for each algorithm offered, the realm being `scimkit/<tenant>`.
    Digest {
        username: String,
        /// Offered in this order (old clients take the first challenge): `SHA-256`, `SHA-512-256`, and `MD5`
        /// only when listed. Default `["SHA-256", "SHA-512-256"]`.
        #[serde(default = "default_digest_algorithms")]
        algorithms: Vec<DigestAlgorithm>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ha1_sha256: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ha1_sha512_256: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ha1_md5: Option<String>,
        /// How long a server nonce is accepted; default 5m.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce_ttl: Option<String>,
    },
    /// OAuth 2 authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636): the administrator approves the
    /// client on `/oauth/<tenant>/authorize`; the token endpoint trades the code for an access token and a
    /// refresh token.
    #[serde(rename = "oauth2-code")]
    Oauth2Code {
        client_id: String,
        client_secret_hash: String,
        /// Exact redirect URIs the client may use.
        redirect_uris: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_ttl: Option<String>,
        /// Lifetime of refresh tokens; default 30d.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token_ttl: Option<String>,
    },
    /// No authentication at all: anyone who reaches the server may read and write.
    #[serde(rename = "none")]
    Open,
}

/// A hash function of HTTP Digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum DigestAlgorithm {
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-512-256")]
    Sha512_256,
    #[serde(rename = "MD5")]
    Md5,
}

impl DigestAlgorithm {
    /// Its name in challenges and in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha512_256 => "SHA-512-256",
            DigestAlgorithm::Md5 => "MD5",
        }
    }
}

fn default_digest_algorithms() -> Vec<DigestAlgorithm> {
    vec![DigestAlgorithm::Sha256, DigestAlgorithm::Sha512_256]
}

/// The longest `token_ttl` accepted: an access token cannot be taken back from a client that holds it
/// except by revocation, so it should not outlive a working day.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// The longest `refresh_token_ttl` accepted.
pub const MAX_REFRESH_TOKEN_TTL: Duration = Duration::from_secs(365 * 86_400);
/// The longest `nonce_ttl` accepted.
pub const MAX_NONCE_TTL: Duration = Duration::from_secs(3600);

/// A duration key checked against its ceiling; `path` names the key in errors.
pub fn bounded_duration(text: &str, ceiling: Duration, path: &str) -> Result<Duration> {
    let d = parse_duration(text).with_context(|| path.to_string())?;
    if d > ceiling {
        bail!("{path}: {text} is above the ceiling of {}s", ceiling.as_secs());
    }
    Ok(d)
}

impl AuthMethod {
    /// Whether the tenant signs tokens for it (and so keeps a signing key and token records).
    pub fn signs_tokens(&self) -> bool {
        matches!(self, AuthMethod::Jwt | AuthMethod::Oauth2 { .. } | AuthMethod::Oauth2Code { .. })
    }

    pub fn label(&self) -> &'static str {
        match self {
            AuthMethod::Bearer { .. } => "bearer",
            AuthMethod::Basic { .. } => "basic",
            AuthMethod::Jwt => "jwt",
            AuthMethod::Oauth2 { .. } => "oauth2",
            AuthMethod::Digest { .. } => "digest",
            AuthMethod::Oauth2Code { .. } => "oauth2-code",
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
            schemas: None,
            profile: Profile::Tolerant,
            tolerances: None,
            rate_limit_per_second: None,
            rate_limit_burst: None,
            max_candidates: None,
            auth: Vec::new(),
            roles: Vec::new(),
            entitlements: Vec::new(),
            nested_groups: None,
            max_group_depth: None,
            manager_must_exist: false,
            events: Vec::new(),
            events_retention_days: None,
            events_max_rows: None,
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

    /// A tenant's request log: a database of its own, so that its writes neither wait for the tenant's writes
    /// nor make every reader of the tenant's data read its pages again.
    pub fn tenant_log(&self, name: &str) -> PathBuf {
        self.tenant_dir(name).join("requests.sqlite3")
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
            for (i, m) in t.auth.iter().enumerate() {
                check_method(m, &format!("tenant {}: auth[{i}]", t.name))?;
            }
            for r in &t.events {
                r.check().with_context(|| format!("tenant {}", t.name))?;
            }
            if t.events_retention_days == Some(0) || t.events_max_rows == Some(0) {
                bail!("tenant {}: events_retention_days and events_max_rows must be at least 1", t.name);
            }
        }
        if let Some(name) = self.default_tenant.as_deref().filter(|n| !n.is_empty()) {
            check_tenant_name(name).context("default_tenant")?;
        }
        if self.max_connections.is_some_and(|n| !(1..=1_000_000).contains(&n)) {
            bail!("max_connections must be between 1 and 1000000");
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            bail!("tls_cert and tls_key go together: set both or neither");
        }
        Ok(())
    }

    /// The public URL of `/scim/v2` as configured, without the command line's say: for the commands that
    /// open a tenant's engine beside the server.
    pub fn served_base_url(&self) -> String {
        let listen = self.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let scheme = if self.tls_cert.is_some() { "https" } else { "http" };
        self.base_url.clone().unwrap_or_else(|| format!("{scheme}://{listen}{}", BASE_PATH))
    }

    /// The name of the tenant served at `/scim/v2`, if any.
    pub fn default_name(&self) -> Option<&str> {
        match self.default_tenant.as_deref() {
            None => Some(DEFAULT_TENANT),
            Some("") => None,
            Some(name) => Some(name),
        }
    }

    /// The configured tenant `name`: how every command given a tenant name reaches it. A name against the
    /// naming rule (`../../x`) or one the configuration does not hold is refused before anything is opened
    /// or created, so no command writes outside the data directory or makes a tenant up.
    pub fn configured_tenant(&self, name: &str) -> Result<TenantConfig> {
        check_tenant_name(name)?;
        self.tenants().into_iter().find(|t| t.name == name).with_context(|| format!("no tenant {name}"))
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

/// One authentication method's keys, beyond their types; `at` names it in errors.
fn check_method(m: &AuthMethod, at: &str) -> Result<()> {
    match m {
        AuthMethod::Oauth2 { token_ttl, .. } => {
            if let Some(ttl) = token_ttl {
                bounded_duration(ttl, MAX_TOKEN_TTL, &format!("{at}.token_ttl"))?;
            }
        }
        AuthMethod::Oauth2Code { token_ttl, refresh_token_ttl, redirect_uris, .. } => {
            if let Some(ttl) = token_ttl {
                bounded_duration(ttl, MAX_TOKEN_TTL, &format!("{at}.token_ttl"))?;
            }
            if let Some(ttl) = refresh_token_ttl {
                bounded_duration(ttl, MAX_REFRESH_TOKEN_TTL, &format!("{at}.refresh_token_ttl"))?;
            }
            if redirect_uris.is_empty() {
                bail!("{at}.redirect_uris: at least one redirect URI is needed");
            }
            for uri in redirect_uris {
                let ok = (uri.starts_with("https://") || uri.starts_with("http://")) && !uri.contains('#');
                if !ok {
                    bail!("{at}.redirect_uris: {uri:?} must be an absolute http(s) URI without a fragment");
                }
            }
        }
        AuthMethod::Digest { algorithms, ha1_sha256, ha1_sha512_256, ha1_md5, nonce_ttl, .. } => {
            if algorithms.is_empty() {
                bail!("{at}.algorithms: at least one algorithm is needed");
            }
            for a in algorithms {
                let (key, hash, len) = match a {
                    DigestAlgorithm::Sha256 => ("ha1_sha256", ha1_sha256, 64),
                    DigestAlgorithm::Sha512_256 => ("ha1_sha512_256", ha1_sha512_256, 64),
                    DigestAlgorithm::Md5 => ("ha1_md5", ha1_md5, 32),
                };
                let ok = hash.as_deref().is_some_and(|h| h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit()));
                if !ok {
                    bail!("{at}.{key}: {} is offered, so its hash ({len} hex digits) is needed", a.name());
                }
            }
            if let Some(ttl) = nonce_ttl {
                bounded_duration(ttl, MAX_NONCE_TTL, &format!("{at}.nonce_ttl"))?;
            }
        }
        AuthMethod::Bearer { .. } | AuthMethod::Basic { .. } | AuthMethod::Jwt | AuthMethod::Open => {}
    }
    Ok(())
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
    fn connections_have_timeouts_unless_told_otherwise() {
        assert_eq!(timeout(None, 10_000), Some(Duration::from_secs(10)));
        assert_eq!(timeout(Some(250), 10_000), Some(Duration::from_millis(250)));
        assert_eq!(timeout(Some(0), 10_000), None);
        assert!(toml::from_str::<Config>("max_connections = 0").unwrap().check().is_err());
        assert!(toml::from_str::<Config>("tls_cert = \"c.pem\"").unwrap().check().is_err());
        let tls: Config = toml::from_str("tls_cert = \"c.pem\"\ntls_key = \"k.pem\"").unwrap();
        tls.check().unwrap();
        assert!(tls.served_base_url().starts_with("https://"));
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
    fn token_lifetimes_have_a_ceiling_named_by_its_key() {
        let text = |ttl: &str| {
            format!(
                "[[tenant]]\nname = \"acme\"\n[[tenant.auth]]\nmethod = \"jwt\"\n[[tenant.auth]]\nmethod = \"oauth2\"\n\
                 client_id = \"c\"\nclient_secret_hash = \"h\"\ntoken_ttl = \"{ttl}\"\n"
            )
        };
        toml::from_str::<Config>(&text("24h")).unwrap().check().unwrap();
        let err = toml::from_str::<Config>(&text("25h")).unwrap().check().unwrap_err().to_string();
        assert!(err.contains("tenant acme: auth[1].token_ttl") && err.contains("ceiling"), "{err}");
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
