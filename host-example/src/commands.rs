//! The management commands: `scimkit tenant …`, `scimkit token …`, `scimkit logs`, `scimkit admin …`. They
//! edit the configuration file and the tenants' databases directly; a running server sees revocations and
//! new log entries at once, and new or removed tenants when it restarts.

use crate::auth::basic::hash_password;
use crate::auth::{jwt, BearerToken};
use crate::config::BASE_PATH;
use crate::config::{
    bounded_duration, check_tenant_name, parse_duration, AuthMethod, Config, DigestAlgorithm, Editor, PasswordPolicy,
    Paths, TenantConfig, MAX_TOKEN_TTL,
};
use crate::request_log::{format_time, Entry, Filter, Reader, FOLLOW_INTERVAL};
use crate::sqlite::SqliteStorage;
use crate::terminal::Escaped;
use anyhow::{bail, Context, Result};
use ipnet::IpNet;
use std::io::Write;

/// Where the data and the configuration are; shared by every command.
#[derive(clap::Args, Clone)]
pub struct Location {
    /// Data directory (databases, keys, component cache); created when missing.
    #[arg(long, default_value = "./scimkit-data", env = "SCIMKIT_DATA")]
    pub data: std::path::PathBuf,
    /// Configuration file; default <data>/scimkit.toml when it exists.
    #[arg(long, env = "SCIMKIT_CONFIG")]
    pub config: Option<std::path::PathBuf>,
}

impl Location {
    pub fn paths(&self) -> Paths {
        Paths::new(self.data.clone(), self.config.clone())
    }
}

/// One tenant's users and groups, wherever they are kept: what `import` and `export` work on.
#[derive(clap::Args, Clone)]
pub struct TenantData {
    #[command(flatten)]
    pub at: Location,
    /// Where users and groups are kept, as for `scimkit serve`: `sqlite` or a `postgres://…` URL
    /// [config: database; default sqlite].
    #[arg(long, env = "SCIMKIT_DATABASE", hide_env_values = true)]
    pub database: Option<String>,
    /// A tenant the configuration holds; any other name is refused.
    #[arg(long, default_value = crate::config::DEFAULT_TENANT)]
    pub tenant: String,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuthKind {
    Bearer,
    Basic,
    Jwt,
    Oauth2,
    /// OAuth 2 authorization code grant with PKCE.
    #[value(name = "oauth2-code")]
    Oauth2Code,
    Digest,
    None,
}

#[derive(clap::Args)]
pub struct AddTenant {
    /// Lower-case letters, digits and '-'; served at /scim/v2/<name>.
    pub name: String,
    /// Authentication methods (repeatable); default: bearer and jwt. Secrets are generated and shown once.
    #[arg(long = "auth", value_enum)]
    pub auth: Vec<AuthKind>,
    /// User name for `--auth basic` and `--auth digest`.
    #[arg(long, default_value = "scim")]
    pub username: String,
    /// Digest algorithms offered, in this order (repeatable); default SHA-256 then SHA-512-256. MD5 only for
    /// old clients.
    #[arg(long = "digest-algorithm", value_parser = ["SHA-256", "SHA-512-256", "MD5"])]
    pub digest_algorithms: Vec<String>,
    /// Client id for `--auth oauth2` and `--auth oauth2-code`; default the tenant's name.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Redirect URI of the `--auth oauth2-code` client (repeatable; matched exactly).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Lifetime of OAuth access tokens, like 1h (at most 24h).
    #[arg(long)]
    pub token_ttl: Option<String>,
    /// Serve this tenant at /scim/v2 instead of the current default.
    #[arg(long)]
    pub default: bool,
    /// Allow only reads.
    #[arg(long)]
    pub read_only: bool,
    /// Resource types served, comma-separated (User,Group).
    #[arg(long, value_delimiter = ',')]
    pub resource_types: Option<Vec<String>>,
    /// Client networks allowed (CIDR, repeatable); default any.
    #[arg(long = "allow-network")]
    pub allow_networks: Vec<IpNet>,
    /// What to do with passwords clients send: hash (argon2) or drop.
    #[arg(long, default_value = "hash", value_parser = ["hash", "drop"])]
    pub passwords: String,
}

fn secret() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// Adds a tenant to the configuration and creates its database; prints its generated credentials once.
pub fn tenant_add(paths: &Paths, a: &AddTenant, out: &mut impl Write) -> Result<()> {
    check_tenant_name(&a.name)?;
    let config = Config::load(paths)?;
    if config.tenants.iter().any(|t| t.name == a.name) {
        bail!("tenant {} exists already", a.name);
    }
    let mut t = TenantConfig::new(&a.name);
    t.read_only = a.read_only;
    t.resource_types = a.resource_types.clone();
    t.allow_networks = a.allow_networks.clone();
    t.passwords = if a.passwords == "drop" { PasswordPolicy::Drop } else { PasswordPolicy::Hash };
    let kinds = if a.auth.is_empty() { vec![AuthKind::Bearer, AuthKind::Jwt] } else { a.auth.clone() };
    let mut shown = Vec::new();
    for kind in kinds {
        t.auth.push(match kind {
            AuthKind::Bearer => {
                let token = secret();
                shown.push(("bearer token", token.clone()));
                AuthMethod::Bearer { token_sha256: BearerToken::from_secret(&token).hash_hex() }
            }
            AuthKind::Basic => {
                let password = secret();
                shown.push(("basic username", a.username.clone()));
                shown.push(("basic password", password.clone()));
                AuthMethod::Basic { username: a.username.clone(), password_hash: hash_password(&password)? }
            }
            AuthKind::Jwt => AuthMethod::Jwt,
            AuthKind::Oauth2 => {
                let id = a.client_id.clone().unwrap_or_else(|| a.name.clone());
                let client_secret = secret();
                if let Some(ttl) = &a.token_ttl {
                    bounded_duration(ttl, MAX_TOKEN_TTL, "--token-ttl")?;
                }
                shown.push(("oauth2 client_id", id.clone()));
                shown.push(("oauth2 client_secret", client_secret.clone()));
                AuthMethod::Oauth2 {
                    client_id: id,
                    client_secret_hash: hash_password(&client_secret)?,
                    token_ttl: a.token_ttl.clone(),
                }
            }
            AuthKind::Oauth2Code => {
                let id = a.client_id.clone().unwrap_or_else(|| a.name.clone());
                let client_secret = secret();
                if let Some(ttl) = &a.token_ttl {
                    bounded_duration(ttl, MAX_TOKEN_TTL, "--token-ttl")?;
                }
                if a.redirect_uris.is_empty() {
                    bail!("--auth oauth2-code needs the client's --redirect-uri");
                }
                shown.push(("oauth2-code client_id", id.clone()));
                shown.push(("oauth2-code client_secret", client_secret.clone()));
                AuthMethod::Oauth2Code {
                    client_id: id,
                    client_secret_hash: hash_password(&client_secret)?,
                    redirect_uris: a.redirect_uris.clone(),
                    token_ttl: a.token_ttl.clone(),
                    refresh_token_ttl: None,
                }
            }
            AuthKind::Digest => digest_method(a, &mut shown),
            AuthKind::None => AuthMethod::Open,
        });
    }
    let mut editor = Editor::open(paths)?;
    editor.add_tenant(&t)?;
    if a.default {
        editor.set("default_tenant", &a.name);
    }
    crate::config::create_private_dir(&paths.tenant_dir(&a.name))?;
    SqliteStorage::open(&paths.tenant_db(&a.name)).context("creating the tenant's database")?;
    if t.auth.iter().any(AuthMethod::signs_tokens) {
        jwt::Signer::open(&a.name, &paths.tenant_dir(&a.name), &paths.tenant_db(&a.name))?;
    }
    editor.save()?;
    let base = if a.default { BASE_PATH.to_string() } else { format!("{BASE_PATH}/{}", a.name) };
    writeln!(out, "tenant: {}", a.name)?;
    writeln!(out, "scim base path: {base}")?;
    for (k, v) in &shown {
        writeln!(out, "{k}: {v}")?;
    }
    let oauth = if a.default { "/oauth".to_string() } else { format!("/oauth/{}", a.name) };
    if t.auth.iter().any(|m| matches!(m, AuthMethod::Oauth2 { .. } | AuthMethod::Oauth2Code { .. })) {
        writeln!(out, "oauth2 token endpoint: {oauth}/token")?;
    }
    if t.auth.iter().any(|m| matches!(m, AuthMethod::Oauth2Code { .. })) {
        writeln!(out, "oauth2 authorization endpoint: {oauth}/authorize")?;
    }
    if !shown.is_empty() {
        writeln!(out, "(secrets are shown only now; only their hashes are kept)")?;
    }
    writeln!(out, "restart the server to serve it")?;
    Ok(())
}

/// A Digest account with a generated password, kept as the RFC's hash for each algorithm offered.
fn digest_method(a: &AddTenant, shown: &mut Vec<(&'static str, String)>) -> AuthMethod {
    let password = secret();
    let realm = crate::auth::realm(&a.name);
    let algorithms: Vec<DigestAlgorithm> = if a.digest_algorithms.is_empty() {
        vec![DigestAlgorithm::Sha256, DigestAlgorithm::Sha512_256]
    } else {
        a.digest_algorithms
            .iter()
            .map(|n| match n.as_str() {
                "SHA-512-256" => DigestAlgorithm::Sha512_256,
                "MD5" => DigestAlgorithm::Md5,
                _ => DigestAlgorithm::Sha256,
            })
            .collect()
    };
    let ha1 = |alg| algorithms.contains(&alg).then(|| crate::auth::digest::ha1(alg, &a.username, &realm, &password));
    shown.push(("digest username", a.username.clone()));
    shown.push(("digest password", password.clone()));
    shown.push(("digest realm", realm.clone()));
    AuthMethod::Digest {
        username: a.username.clone(),
        ha1_sha256: ha1(DigestAlgorithm::Sha256),
        ha1_sha512_256: ha1(DigestAlgorithm::Sha512_256),
        ha1_md5: ha1(DigestAlgorithm::Md5),
        algorithms,
        nonce_ttl: None,
    }
}

pub fn tenant_list(paths: &Paths, out: &mut impl Write) -> Result<()> {
    let config = Config::load(paths)?;
    let default = config.default_name();
    for t in config.tenants() {
        let is_default = default == Some(t.name.as_str());
        let path = if is_default { BASE_PATH.to_string() } else { format!("{BASE_PATH}/{}", t.name) };
        let methods: Vec<&str> = t.auth.iter().map(AuthMethod::label).collect();
        let methods =
            if methods.is_empty() { "bearer (SCIM_TOKEN or generated)".to_string() } else { methods.join(",") };
        writeln!(out, "{}\t{path}\t{methods}\t{}", t.name, paths.tenant_db(&t.name).display())?;
    }
    Ok(())
}

/// Removes a tenant from the configuration; its data stays unless `delete_data`.
pub fn tenant_remove(paths: &Paths, name: &str, delete_data: bool, out: &mut impl Write) -> Result<()> {
    check_tenant_name(name)?;
    let config = Config::load(paths)?;
    let mut editor = Editor::open(paths)?;
    let listed = editor.remove_tenant(name)?;
    let is_default = config.default_name() == Some(name);
    if !listed && !is_default {
        bail!("no tenant {name}");
    }
    if is_default {
        // Otherwise the implicit default tenant would be served again.
        editor.set("default_tenant", "");
    }
    editor.save()?;
    writeln!(out, "removed tenant {name} from {}", paths.config.display())?;
    if delete_data {
        let dir = paths.tenant_dir(name);
        if dir == paths.data {
            bail!(
                "the tenant's files are the data directory's own: remove {} by hand",
                paths.tenant_db(name).display()
            );
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        writeln!(out, "deleted {}", dir.display())?;
    }
    Ok(())
}

/// The signer of a tenant the configuration names: a misspelt or crafted name opens nothing, so it creates no
/// directory and reaches no path outside the data directory.
/// `issuing`: for `token issue` and `token list`, which need `jwt`; revocation takes any signed-token method.
fn signer_of(paths: &Paths, tenant: &str, issuing: bool) -> Result<jwt::Signer> {
    let t = Config::load(paths)?.configured_tenant(tenant)?;
    let accepted =
        if issuing { t.auth.contains(&AuthMethod::Jwt) } else { t.auth.iter().any(AuthMethod::signs_tokens) };
    if !accepted {
        bail!("tenant {tenant} does not accept issued tokens: add an [[tenant.auth]] entry with method = \"jwt\"");
    }
    jwt::Signer::open(tenant, &paths.tenant_dir(tenant), &paths.tenant_db(tenant))
}

/// Issues a long-lived token: the token on `out`, its id and expiry on `info`.
pub fn token_issue(
    paths: &Paths,
    tenant: &str,
    valid_for: &str,
    subject: &str,
    out: &mut impl Write,
    info: &mut impl Write,
) -> Result<()> {
    let valid_for = parse_duration(valid_for).context("--valid-for")?;
    let (token, claims) = signer_of(paths, tenant, true)?.issue(jwt::Kind::Token, subject, valid_for)?;
    writeln!(out, "{token}")?;
    writeln!(info, "jti {} for {subject}, valid until {}", claims.jti, format_time(claims.exp as i64 * 1000))?;
    Ok(())
}

/// Revokes every token of an OAuth client (access and refresh tokens) issued until now.
pub fn token_revoke_client(paths: &Paths, tenant: &str, client_id: &str, out: &mut impl Write) -> Result<()> {
    let signer = signer_of(paths, tenant, false)?;
    let refresh = signer.revoke_client(client_id)?;
    writeln!(out, "revoked the access tokens of client {client_id} and its {refresh} refresh tokens")?;
    Ok(())
}

pub fn token_revoke(paths: &Paths, tenant: &str, jti: &str, out: &mut impl Write) -> Result<()> {
    let signer = signer_of(paths, tenant, false)?;
    if signer.revoke(jti)? {
        writeln!(out, "revoked {jti}")?;
    } else {
        writeln!(out, "{jti} was already revoked")?;
    }
    Ok(())
}

pub fn token_list(paths: &Paths, tenant: &str, out: &mut impl Write) -> Result<()> {
    for t in signer_of(paths, tenant, true)?.list()? {
        let state = if t.revoked {
            "revoked"
        } else if t.expires_at < jwt::now() {
            "expired"
        } else {
            "valid"
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{state}",
            t.jti,
            t.subject,
            format_time(t.issued_at as i64 * 1000),
            format_time(t.expires_at as i64 * 1000)
        )?;
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct LogsArgs {
    /// Only this tenant; default all.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Keep printing new requests.
    #[arg(long, short)]
    pub follow: bool,
    /// A status (404) or class (4xx).
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub method: Option<String>,
    /// Only paths containing this.
    #[arg(long)]
    pub path: Option<String>,
    /// How many of the latest requests to print first.
    #[arg(long, short = 'n', default_value_t = 50)]
    pub limit: u32,
    /// Also print the (redacted) bodies.
    #[arg(long)]
    pub bodies: bool,
}

/// One entry per line; what clients sent is escaped (see [`crate::terminal`]).
fn print_entry(out: &mut impl Write, tenant: &str, e: &Entry, bodies: bool) -> Result<()> {
    writeln!(
        out,
        "{} {tenant} {} {} {} {} {:.1}ms {} {}",
        e.time(),
        Escaped(&e.client),
        Escaped(&e.method),
        Escaped(&e.path),
        e.status,
        e.duration_ms,
        Escaped(e.principal.as_deref().unwrap_or("-")),
        Escaped(e.request_id.as_deref().unwrap_or("-"))
    )?;
    if bodies {
        for (label, body) in [("request", &e.request_body), ("response", &e.response_body)] {
            if let Some(b) = body {
                let lines: Vec<String> = b.split('\n').map(|l| Escaped(l).to_string()).collect();
                writeln!(out, "  {label}: {}", lines.join("\n  "))?;
            }
        }
    }
    Ok(())
}

/// Prints the request logs, oldest first; with `follow`, keeps printing until interrupted.
pub fn logs(paths: &Paths, a: &LogsArgs, out: &mut impl Write) -> Result<()> {
    let config = Config::load(paths)?;
    let names: Vec<String> = match &a.tenant {
        Some(t) => vec![config.configured_tenant(t)?.name],
        None => config.tenants().into_iter().map(|t| t.name).collect(),
    };
    let filter = Filter {
        status: a.status.clone(),
        method: a.method.clone(),
        path: a.path.clone(),
        after: None,
        limit: a.limit,
    };
    let mut readers = Vec::new();
    let mut merged: Vec<(String, Entry)> = Vec::new();
    for name in names {
        let db = paths.tenant_log(&name);
        if !db.exists() {
            continue;
        }
        let reader = Reader::open(&db)?;
        let entries = reader.list(&filter)?;
        let last = entries.first().map(|e| e.id).unwrap_or(0);
        merged.extend(entries.into_iter().map(|e| (name.clone(), e)));
        readers.push((name, reader, last));
    }
    merged.sort_by_key(|(_, e)| (e.at_ms, e.id));
    let skip = merged.len().saturating_sub(a.limit as usize);
    for (name, e) in &merged[skip..] {
        print_entry(out, name, e, a.bodies)?;
    }
    out.flush()?;
    if !a.follow {
        return Ok(());
    }
    // Follows until the process is stopped.
    loop {
        std::thread::sleep(FOLLOW_INTERVAL);
        for (name, reader, last) in &mut readers {
            let new = reader.list(&Filter { after: Some(*last), limit: 1000, ..filter.clone() })?;
            for e in &new {
                print_entry(out, name, e, a.bodies)?;
                *last = e.id;
            }
        }
        out.flush()?;
    }
}

/// Sets the admin password: read from `password`, or generated and printed.
pub fn admin_set_password(paths: &Paths, password: Option<String>, out: &mut impl Write) -> Result<()> {
    let (password, generated) = match password {
        Some(p) if p.len() >= 8 => (p, false),
        Some(_) => bail!("the password must have at least 8 characters"),
        None => (secret(), true),
    };
    let mut editor = Editor::open(paths)?;
    editor.set_admin_hash(&hash_password(&password)?);
    editor.save()?;
    if generated {
        writeln!(out, "admin password (shown only now): {password}")?;
    }
    writeln!(out, "the admin page is at /admin, user {}; restart the server to apply", crate::auth::admin::USER)?;
    Ok(())
}
