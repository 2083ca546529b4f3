//! `scimkit`: the reference SCIM 2.0 server, and the commands that manage its tenants, tokens and logs.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use scimkit_host::app::App;
use scimkit_host::auth::admin::Admin;
use scimkit_host::commands::{self, AddTenant, Location, LogsArgs};
use scimkit_host::config::Config;
use scimkit_host::config::{timeout, BASE_PATH};
use scimkit_host::config::{
    DEFAULT_BODY_READ_TIMEOUT_MS, DEFAULT_HEADER_READ_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS,
};
use scimkit_host::database::Database;
use scimkit_host::listener::{self, Limits};
use scimkit_host::metrics::Metrics;
use scimkit_host::server::router;
use scimkit_host::tenants::{Notice, Settings, Tenants};
use scimkit_host::tls::Certificates;
use scimkit_runtime::component::{Origin, EMBEDDED};
use scimkit_runtime::engine::{GuestLimits, Runtime};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small buffers across
/// threads (hyper, the JSON of bodies, the engine's answers), where the C allocator spent a tenth of the
/// server's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "scimkit", version, about = "A SCIM 2.0 server on the scimkit engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Logs on stderr: text, or JSON lines (one object per event, with the request's span fields).
    #[arg(long, global = true, env = "SCIMKIT_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve SCIM at http(s)://<listen>/scim/v2 (the default tenant) and /scim/v2/<tenant>.
    Serve(ServeArgs),
    /// Provision a SCIM target from an LDIF or JSON file of principals through a mapping, again from the queue
    /// of those that failed (--retry), or from the change journal of a tenant (--from-tenant).
    Provision(scimkit_host::provision::ProvisionArgs),
    /// Run the engine's conformance checks (RFC 7643/7644) against any SCIM server.
    ///
    /// Prints each check and `N passed, M failed, K skipped`, each failure with its RFC section and what was
    /// expected and seen; exits non-zero when one failed. Checks follow what the server announces (a feature
    /// it does not announce is skipped). What they create is named selftest-<unique>-… and deleted at the end.
    Selftest(scimkit_host::selftest::SelftestArgs),
    /// Load Users and Groups from a file (JSON lines, CSV or LDIF) into a tenant, through the engine.
    Import(scimkit_host::import::ImportArgs),
    /// Write a tenant's Users and Groups as JSON lines or CSV.
    Export(scimkit_host::export::ExportArgs),
    /// Manage tenants (identity servers): each has its own base path, credentials and database.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Issue, list and revoke long-lived signed tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the request log.
    Logs {
        #[command(flatten)]
        at: Location,
        #[command(flatten)]
        args: LogsArgs,
    },
    /// Manage the admin page's credential.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Read a tenant's change journal, or send its changes again to the tenant's event receivers.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Print the journal as JSON lines: sequence number, event id, time and change.
    List(scimkit_host::events::cli::EventsArgs),
    /// Send every change after --since again (a running server delivers them, in order, same event ids).
    Replay(scimkit_host::events::cli::ReplayArgs),
    /// Delete the changes every receiver has that are past the tenant's events_retention_days or
    /// events_max_rows (a running server does it every ten minutes); --since is not used.
    Prune(scimkit_host::events::cli::EventsArgs),
}

#[derive(Subcommand)]
enum TenantCommand {
    Add {
        #[command(flatten)]
        at: Location,
        #[command(flatten)]
        args: Box<AddTenant>,
    },
    List {
        #[command(flatten)]
        at: Location,
    },
    Remove {
        #[command(flatten)]
        at: Location,
        name: String,
        /// Also delete the tenant's database and keys.
        #[arg(long)]
        delete_data: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new token on standard output.
    Issue {
        #[command(flatten)]
        at: Location,
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Lifetime: 90d, 10y, ...
        #[arg(long, default_value = "1y")]
        valid_for: String,
        /// Who the token is for, as shown in the request log.
        #[arg(long, default_value = "client")]
        subject: String,
    },
    List {
        #[command(flatten)]
        at: Location,
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    Revoke {
        #[command(flatten)]
        at: Location,
        /// The tenant that issued the token; required, since a token revoked at another tenant stays valid.
        #[arg(long)]
        tenant: String,
        /// The token's id (`jti`): an issued token or an OAuth access token.
        #[arg(required_unless_present = "client", conflicts_with = "client")]
        jti: Option<String>,
        /// Instead, every access and refresh token issued to this OAuth client until now.
        #[arg(long)]
        client: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the password of user `admin`; generated and printed unless --password-stdin.
    SetPassword {
        #[command(flatten)]
        at: Location,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    at: Location,
    /// Address to listen on [config: listen; default 127.0.0.1:8080].
    #[arg(long, env = "SCIMKIT_LISTEN")]
    listen: Option<SocketAddr>,
    /// The default tenant's bearer token. When unset and none is configured, one is generated on first start
    /// and printed once.
    #[arg(long, env = "SCIM_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The public URL of /scim/v2, used in meta.location [config: base_url; default http://<listen>/scim/v2, or
    /// https with --tls-cert].
    #[arg(long, env = "SCIMKIT_BASE_URL")]
    base_url: Option<String>,
    /// Where users and groups are kept: `sqlite` (files in the data directory), `memory` (lost on exit; for
    /// tests and demos) or `postgres://user:password@host:port/database` (one schema per tenant, shared by
    /// several servers) [config: database; default sqlite].
    #[arg(long, env = "SCIMKIT_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// A component to load instead of the embedded one.
    #[arg(long)]
    component: Option<PathBuf>,
    /// Idle engine instances kept for reuse, per tenant [config: engine.pool; default 16].
    #[arg(long)]
    pool: Option<usize>,
    /// Largest request body, in bytes [config: engine.max_body_bytes; default 1 MiB].
    #[arg(long)]
    max_body_bytes: Option<usize>,
    /// Memory cap per engine instance, in MiB [config: engine.guest_memory_mb; default 256].
    #[arg(long)]
    guest_memory_mb: Option<usize>,
    /// Fuel per request (about one unit per wasm instruction) [config: engine.guest_fuel; default unlimited].
    #[arg(long)]
    guest_fuel: Option<u64>,
    /// Wall-clock limit per request inside the engine, in milliseconds (503 past it); 0: none
    /// [config: engine.request_timeout_ms; default 30000].
    #[arg(long)]
    request_timeout_ms: Option<u64>,
    /// Serve HTTPS with this PEM certificate chain (the server's certificate first); read again on SIGHUP
    /// [config: tls_cert].
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert [config: tls_key].
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn main() -> Result<()> {
    // Before anything opens a database.
    let sqlite_memory = scimkit_host::sqlite_memory::configure();
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if cli.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    if let Err(e) = sqlite_memory {
        tracing::warn!("{e:#}");
    }
    let out = &mut std::io::stdout();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Provision(args) => scimkit_host::provision::run(args),
        Command::Selftest(args) => scimkit_host::selftest::run(args),
        Command::Import(args) => scimkit_host::import::run(args),
        Command::Export(args) => scimkit_host::export::run(args),
        Command::Tenant(TenantCommand::Add { at, args }) => commands::tenant_add(&at.paths(), &args, out),
        Command::Tenant(TenantCommand::List { at }) => commands::tenant_list(&at.paths(), out),
        Command::Tenant(TenantCommand::Remove { at, name, delete_data }) => {
            commands::tenant_remove(&at.paths(), &name, delete_data, out)
        }
        Command::Token(TokenCommand::Issue { at, tenant, valid_for, subject }) => {
            commands::token_issue(&at.paths(), &tenant, &valid_for, &subject, out, &mut std::io::stderr())
        }
        Command::Token(TokenCommand::List { at, tenant }) => commands::token_list(&at.paths(), &tenant, out),
        Command::Token(TokenCommand::Revoke { at, tenant, jti, client }) => match (jti, client) {
            (_, Some(client)) => commands::token_revoke_client(&at.paths(), &tenant, &client, out),
            (Some(jti), None) => commands::token_revoke(&at.paths(), &tenant, &jti, out),
            (None, None) => anyhow::bail!("name the token's jti or --client"),
        },
        Command::Logs { at, args } => commands::logs(&at.paths(), &args, out),
        Command::Events(EventsCommand::List(args)) => scimkit_host::events::cli::list(&args, out),
        Command::Events(EventsCommand::Replay(args)) => scimkit_host::events::cli::replay(&args, out),
        Command::Events(EventsCommand::Prune(args)) => scimkit_host::events::cli::prune(&args, out),
        Command::Admin(AdminCommand::SetPassword { at, password_stdin }) => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("reading the password")?;
                Some(s.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            commands::admin_set_password(&at.paths(), password, out)
        }
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    let paths = args.at.paths();
    scimkit_host::config::create_private_dir(&paths.data)?;
    let config = Config::load(&paths)?;
    let _serving = scimkit_host::lock::serving(&paths)?;
    // A flag or environment variable wins over the file, which wins over the default.
    let listen = args.listen.or(config.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let e = &config.engine;
    let max_body_bytes = args.max_body_bytes.or(e.max_body_bytes).unwrap_or(1 << 20);
    let limits = GuestLimits {
        memory_bytes: args.guest_memory_mb.or(e.guest_memory_mb).unwrap_or(256) << 20,
        fuel: args.guest_fuel.or(e.guest_fuel),
        deadline: scimkit_host::config::request_deadline(args.request_timeout_ms, e.request_timeout_ms),
    };
    let tls = match (args.tls_cert.or(config.tls_cert.clone()), args.tls_key.or(config.tls_key.clone())) {
        (Some(cert), Some(key)) => Some(Arc::new(Certificates::load(&cert, &key)?)),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let connections = Limits {
        header_read: timeout(config.header_read_timeout_ms, DEFAULT_HEADER_READ_TIMEOUT_MS),
        body_read: timeout(config.body_read_timeout_ms, DEFAULT_BODY_READ_TIMEOUT_MS),
        idle: timeout(config.idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS),
        max_connections: config.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
    };
    let database = Database::resolve(args.database.as_deref(), &config)?;
    match database {
        Database::Memory => tracing::warn!("storage: {}", database.describe()),
        _ => tracing::info!("storage: {}", database.describe()),
    }
    let wasm = match &args.component {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => EMBEDDED.to_vec(),
    };
    let runtime = Arc::new(Runtime::new(&wasm, Some(&paths.data.join("cache")), limits)?);
    let how = match runtime.origin {
        Origin::Cache => "loaded from cache",
        Origin::Compiled => "compiled",
    };
    tracing::info!("component {how} in {:.1} ms", runtime.load_time.as_secs_f64() * 1000.0);
    let settings = Settings {
        base_url: args
            .base_url
            .or(config.base_url.clone())
            .unwrap_or_else(|| format!("{scheme}://{listen}{BASE_PATH}")),
        pool: args.pool.or(e.pool).unwrap_or(16),
        max_body_bytes,
        log: config.log.clone(),
        scim_token: args.token,
        database,
    };
    let (tenants, notices) = Tenants::open(&paths, &config, &runtime, &settings)?;
    for n in notices {
        match n {
            Notice::GeneratedToken { tenant, token } => {
                println!("Generated a SCIM bearer token for tenant {tenant} (shown only now; only its hash is kept): {token}")
            }
            Notice::Open { tenant } => {
                tracing::warn!("tenant {tenant} accepts requests WITHOUT authentication (method = \"none\")")
            }
        }
    }
    let admin_token = std::env::var("SCIMKIT_ADMIN_TOKEN").ok();
    let admin = Admin::new(config.admin.password_hash.clone(), admin_token.as_deref());
    let admin_on = admin.enabled();
    let served: Vec<String> = tenants.list.iter().map(|t| format!("{} at {}", t.name, t.base_url)).collect();
    let metrics = Metrics::new(&config.metrics, std::env::var("SCIMKIT_METRICS_TOKEN").ok().as_deref())?;
    let app =
        Arc::new(App { tenants, max_body_bytes, admin, metrics, trusted_proxies: config.trusted_proxies.clone() });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        for s in served {
            tracing::info!("serving SCIM tenant {s}");
        }
        if admin_on {
            tracing::info!("admin page at {scheme}://{listen}/admin");
        }
        if let Some(certs) = &tls {
            tokio::spawn(certs.clone().reload_on_hangup());
        }
        listener::serve(listener, router(app), connections, tls, shutdown()).await;
        Ok(())
    })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
