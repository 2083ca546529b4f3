//! `scimgen`: fills a new scimkit data directory with many users and a few large groups, fast, for
//! measuring `scimkit serve` at scale. Users go through the engine in-process (the same component the
//! server embeds), so what is stored is exactly what the server would store; the storage is in its bulk-load
//! mode until the end. Groups `size-<n>` hold users 0..n; their members are written as the deltas a
//! member-add PATCH gives storage, in large chunks.

use anyhow::{bail, Context, Result};
use clap::Parser;
use scimkit_bench::user;
use scimkit_host::sqlite::SqliteStorage;
use scimkit_runtime::bindings::{HttpRequest, Member, ResourceChange};
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::provider::Provider;
use scimkit_runtime::storage::Storage;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Generate users and large groups into a new scimkit data directory")]
struct Args {
    /// The data directory to create (as for `scimkit serve --data`); it must not hold a database yet.
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    users: usize,
    /// Sizes of the groups `size-<n>` to create.
    #[arg(long, value_delimiter = ',', default_value = "0,10000,100000")]
    sizes: Vec<usize>,
    /// Threads running the engine; storage writes are serialised anyway.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Writes per transaction while loading.
    #[arg(long, default_value_t = 20_000)]
    batch: usize,
}

/// Members written per storage update.
const MEMBER_CHUNK: usize = 10_000;

fn post(provider: &Provider, path: &str, body: &Value) -> Result<String> {
    let req = HttpRequest {
        method: "POST".into(),
        path: path.into(),
        query: "excludedAttributes=members,groups".into(),
        headers: vec![("content-type".into(), "application/scim+json".into())],
        body: Some(body.to_string().into_bytes()),
    };
    let resp = provider.handle(None, req);
    let reply: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    match (resp.status, reply["id"].as_str()) {
        (201, Some(id)) => Ok(id.to_string()),
        (status, _) => bail!("POST {path}: {status} {}", String::from_utf8_lossy(&resp.body)),
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(max) = args.sizes.iter().max().filter(|m| **m > args.users) {
        bail!("a group of {max} needs as many users");
    }
    let db = args.data.join("scimkit.sqlite3");
    if db.exists() {
        bail!("{} exists already: generate into a new data directory", db.display());
    }
    std::fs::create_dir_all(&args.data).with_context(|| format!("creating {}", args.data.display()))?;
    let started = Instant::now();
    let runtime = Arc::new(Runtime::new(EMBEDDED, Some(&args.data.join("cache")), GuestLimits::default())?);
    let storage = Arc::new(SqliteStorage::open_bulk(&db, args.batch)?);
    let config = json!({"baseUrl": "http://127.0.0.1/scim/v2"}).to_string();
    let provider = Provider::new(runtime, config, storage.clone(), args.threads)?;

    let next = AtomicUsize::new(0);
    let ids = Mutex::new(vec![String::new(); args.users]);
    let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let t_users = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..args.threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= args.users || failed.lock().unwrap().is_some() {
                    break;
                }
                match post(&provider, "/Users", &user(i)) {
                    Ok(id) => ids.lock().unwrap()[i] = id,
                    Err(e) => *failed.lock().unwrap() = Some(e),
                }
                if (i + 1).is_multiple_of(100_000) {
                    eprintln!("{} users, {:.0}/s", i + 1, (i + 1) as f64 / t_users.elapsed().as_secs_f64());
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(e);
    }
    storage.flush()?;
    let users_s = t_users.elapsed().as_secs_f64();
    let ids = ids.into_inner().unwrap();

    let t_groups = Instant::now();
    let mut members_written = 0usize;
    for size in &args.sizes {
        let group =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("size-{size}")});
        let gid = post(&provider, "/Groups", &group)?;
        for chunk in ids[..*size].chunks(MEMBER_CHUNK) {
            let add =
                chunk.iter().map(|id| Member { value: id.clone(), kind: Some("User".into()), display: None }).collect();
            let change = ResourceChange {
                resource_type: "Group".into(),
                id: gid.clone(),
                data: None,
                unique: vec![],
                clear_members: false,
                remove_members: vec![],
                add_members: add,
                if_version: None,
            };
            storage.update(&change).map_err(|e| anyhow::anyhow!("adding members: {e:?}"))?;
            members_written += chunk.len();
        }
    }
    let groups_s = t_groups.elapsed().as_secs_f64();
    let t_finish = Instant::now();
    storage.finish_bulk()?;
    let finish_s = t_finish.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&db)?.len();
    println!(
        "{} users in {users_s:.1} s ({:.0} users/s), {} groups with {members_written} members in {groups_s:.1} s ({:.0} members/s), \
         finishing (ANALYZE, checkpoint) {finish_s:.1} s; total {:.1} s; database {:.0} MiB",
        args.users,
        args.users as f64 / users_s,
        args.sizes.len(),
        members_written as f64 / groups_s.max(1e-9),
        started.elapsed().as_secs_f64(),
        bytes as f64 / (1 << 20) as f64
    );
    Ok(())
}
