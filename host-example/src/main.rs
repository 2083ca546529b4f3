//! `scimkit`: the reference SCIM 2.0 server.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use scimkit_host::auth::BearerToken;
use scimkit_host::component::{Origin, EMBEDDED};
use scimkit_host::runtime::{GuestLimits, Provider, Runtime};
use scimkit_host::server::{router, App, BASE_PATH};
use scimkit_host::sqlite::SqliteStorage;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "scimkit", version, about = "A SCIM 2.0 server on the scimkit engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve SCIM at http://<listen>/scim/v2.
    Serve(ServeArgs),
    /// Provision a SCIM target from an LDIF or JSON file of principals, through a mapping.
    Provision(scimkit_host::provision::ProvisionArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "SCIMKIT_LISTEN")]
    listen: SocketAddr,
    /// Data directory (database, component cache, token hash); created when missing.
    #[arg(long, default_value = "./scimkit-data", env = "SCIMKIT_DATA")]
    data: PathBuf,
    /// The bearer token clients must send. When unset, one is generated on first start and printed once.
    #[arg(long, env = "SCIM_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The public base URL, used in meta.location; default http://<listen>/scim/v2.
    #[arg(long, env = "SCIMKIT_BASE_URL")]
    base_url: Option<String>,
    /// A component to load instead of the embedded one.
    #[arg(long)]
    component: Option<PathBuf>,
    /// Idle engine instances kept for reuse.
    #[arg(long, default_value_t = 16)]
    pool: usize,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Memory cap per engine instance, in MiB.
    #[arg(long, default_value_t = 256)]
    guest_memory_mb: usize,
    /// Fuel per request (about one unit per wasm instruction); unlimited when unset.
    #[arg(long)]
    guest_fuel: Option<u64>,
    /// Wall-clock limit per request inside the engine, in milliseconds (503 past it); unlimited when unset.
    #[arg(long)]
    request_timeout_ms: Option<u64>,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Provision(args) => scimkit_host::provision::run(args),
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data).with_context(|| format!("creating {}", args.data.display()))?;
    let (token, generated) = BearerToken::load_or_create(args.token.as_deref(), &args.data)?;
    if let Some(secret) = generated {
        println!("Generated a SCIM bearer token (shown only now; only its hash is kept): {secret}");
    }
    let wasm = match &args.component {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => EMBEDDED.to_vec(),
    };
    let limits = GuestLimits {
        memory_bytes: args.guest_memory_mb << 20,
        fuel: args.guest_fuel,
        deadline: args.request_timeout_ms.map(std::time::Duration::from_millis),
    };
    let runtime = Arc::new(Runtime::new(&wasm, Some(&args.data.join("cache")), limits)?);
    let how = match runtime.origin {
        Origin::Cache => "loaded from cache",
        Origin::Compiled => "compiled",
    };
    tracing::info!("component {how} in {:.1} ms", runtime.load_time.as_secs_f64() * 1000.0);
    let storage = Arc::new(SqliteStorage::open(&args.data.join("scimkit.sqlite3"))?);
    let base_url = args.base_url.unwrap_or_else(|| format!("http://{}{BASE_PATH}", args.listen));
    // A bulk request is a body like any other: the host's limit is also the advertised maxPayloadSize.
    let limits = serde_json::json!({ "maxBodyBytes": args.max_body_bytes, "bulkMaxPayloadBytes": args.max_body_bytes });
    let config = serde_json::json!({ "baseUrl": base_url, "limits": limits }).to_string();
    let provider = Provider::new(runtime, config, storage, args.pool)?;
    let app = Arc::new(App { provider, token, max_body_bytes: args.max_body_bytes });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
        tracing::info!("serving SCIM at {base_url}");
        axum::serve(listener, router(app)).with_graceful_shutdown(shutdown()).await?;
        Ok(())
    })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
