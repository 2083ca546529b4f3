//! `scimkit provision`: principals from an LDIF or JSON file, mapped and sent to a SCIM target, in parallel,
//! with a progress bar and a summary. Running it again with unchanged input sends no write. A principal that
//! fails is tried again with a doubling wait, then queued in the data directory (`queue`) for `--retry`; a run
//! can also push the changes of a tenant's journal (`from_journal`). With `--delete-missing`, the target's Users
//! that no principal yields are then deleted (listed by RFC 9865 cursor when the target offers it).

mod from_journal;
mod queue;

use crate::commands::Location;
use crate::transport::{Counts, HttpTarget};
use anyhow::{bail, Context, Result};
use scimkit_runtime::bindings::{Action, Outcome};
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::provisioning::{mapping_from_toml, Attributes, Provisioner};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["from", "retry", "queued", "from_tenant"])))]
pub struct ProvisionArgs {
    /// Where the queue of failed principals and the journal cursors are kept (provision.sqlite3), and, for
    /// --from-tenant, the tenant's data.
    #[command(flatten)]
    at: Location,
    /// The target's SCIM base URL, e.g. https://app.example.com/scim/v2.
    #[arg(long, env = "SCIMKIT_TARGET")]
    target: String,
    /// The target's bearer token (not needed by --queued).
    #[arg(long, env = "SCIMKIT_TARGET_TOKEN", hide_env_values = true, required_unless_present = "queued")]
    token: Option<String>,
    /// The mapping, TOML (.toml) or JSON; see examples/ldap-mapping.toml (needed by --from and --retry).
    #[arg(long, required_if_eq("retry", "true"))]
    mapping: Option<PathBuf>,
    /// The principals: LDIF (.ldif) or JSON (an array of {"name": "value" | ["values"]}).
    #[arg(long, requires = "mapping")]
    from: Option<PathBuf>,
    /// Provision again the principals queued for this target by earlier runs (with the attributes they had);
    /// those that succeed leave the queue.
    #[arg(long)]
    retry: bool,
    /// Print the principals queued for this target, a line each with its failed runs and last error; send
    /// nothing.
    #[arg(long)]
    queued: bool,
    /// Push the changes in this tenant's journal to the target, in order (Users; a delete deletes), starting
    /// after the last change a previous run applied to this target.
    #[arg(long, value_name = "TENANT")]
    from_tenant: Option<String>,
    /// With --from-tenant: start after this sequence number instead (see `scimkit events list`).
    #[arg(long, requires = "from_tenant")]
    since: Option<i64>,
    /// With --from-tenant: `sqlite` or `postgres://…`, as for `serve` [config: database].
    #[arg(long, env = "SCIMKIT_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// The attribute a User is found by on the target.
    #[arg(long = "match", default_value = "userName", value_parser = ["userName", "externalId"])]
    match_by: String,
    /// How a changed User is written: only what changed (patch), or the whole resource (put).
    #[arg(long, default_value = "patch", value_parser = ["patch", "put"])]
    update: String,
    /// Principals provisioned at once, each by its own engine instance.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Tries per principal (or journaled change) in one run before it is queued (or stops the run).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    attempts: u32,
    /// Wait before the second try, in milliseconds; doubled before each further one.
    #[arg(long, default_value_t = 500)]
    backoff_ms: u64,
    /// Timeout of one HTTP request, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// After provisioning every principal, delete the target's Users that none of them yields (matched by
    /// --match; Users without that attribute are left alone). Not done when a principal failed.
    #[arg(long)]
    delete_missing: bool,
}

/// What happened to each principal, gathered across workers.
#[derive(Default)]
struct Tally {
    created: u64,
    updated: u64,
    unchanged: u64,
    skipped: u64,
    deleted: u64,
    /// Index in the principals, and error.
    failures: Vec<(usize, String)>,
    /// Indexes of the principals provisioned.
    succeeded: Vec<usize>,
    /// Why `--delete-missing` stopped, when it did.
    prune_error: Option<String>,
}

pub fn run(args: ProvisionArgs) -> Result<()> {
    let mut queue = queue::Queue::open(&args.at.data)?;
    if args.queued {
        return print_queue(&queue, &args.target, args.json, &mut std::io::stdout());
    }
    let token = args.token.as_deref().context("--token is needed")?;
    let timeout = Duration::from_secs(args.timeout);
    if let Some(tenant) = &args.from_tenant {
        let (_, journal) = crate::events::cli::open_journal(&args.at, args.database.as_deref(), tenant)?;
        return from_tenant(&args, journal.as_ref(), &queue, tenant, token);
    }
    let mapping = read_mapping(args.mapping.as_deref().context("--mapping is needed")?)?;
    let principals = match &args.from {
        Some(from) => read_principals(from)?,
        None => queue.list(&args.target)?.into_iter().map(|q| (q.principal, q.attributes)).collect(),
    };
    let config = json!({"services": {"cli": {"enabled": true, "mapping": mapping, "match": args.match_by, "update": args.update}}}).to_string();
    let runtime = Arc::new(Runtime::new(EMBEDDED, None, GuestLimits::default())?);
    // Refuses a bad mapping before any request is sent.
    Provisioner::new(runtime.clone(), &config)?;

    let counts = Arc::new(Counts::default());
    let tally = Mutex::new(Tally::default());
    let bar = indicatif::ProgressBar::new(principals.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta}").expect("a valid template"),
    );
    let started = Instant::now();
    let jobs = args.jobs.clamp(1, 64);
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..jobs)
            .map(|w| {
                let (runtime, config, counts, tally, bar, principals) =
                    (runtime.clone(), &config, counts.clone(), &tally, &bar, &principals);
                let target = HttpTarget::new(&args.target, token, timeout, counts);
                let (attempts, backoff) = (args.attempts, Duration::from_millis(args.backoff_ms));
                scope.spawn(move || -> Result<()> {
                    let mut p = Provisioner::new(runtime, config)?;
                    p.set_transport(Box::new(target));
                    for (i, (_, attrs)) in principals.iter().enumerate().skip(w).step_by(jobs) {
                        let (mut tries, mut wait) = (1, backoff);
                        let outcome = loop {
                            let outcome = p
                                .provision("cli", attrs)
                                .map(|r| r.outcome)
                                .unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
                            if !matches!(outcome, Outcome::Failed(_)) || tries == attempts {
                                break outcome;
                            }
                            std::thread::sleep(wait);
                            (tries, wait) = (tries + 1, wait * 2);
                        };
                        let mut t = tally.lock().unwrap();
                        if !matches!(outcome, Outcome::Failed(_)) {
                            t.succeeded.push(i);
                        }
                        match outcome {
                            Outcome::Created => t.created += 1,
                            Outcome::Updated => t.updated += 1,
                            Outcome::Unchanged => t.unchanged += 1,
                            Outcome::Skipped => t.skipped += 1,
                            Outcome::Failed(e) => t.failures.push((i, e)),
                        }
                        bar.inc(1);
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| anyhow::anyhow!("a provisioning worker panicked"))??;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let mut t = tally.into_inner().unwrap();
    let failed = t.failures.iter().map(|(i, e)| (principals[*i].0.as_str(), &principals[*i].1, Some(e.as_str())));
    let provisioned = t.succeeded.iter().map(|i| (principals[*i].0.as_str(), &principals[*i].1, None));
    queue.record(&args.target, failed.chain(provisioned))?;
    if args.delete_missing && t.failures.is_empty() {
        let target = HttpTarget::new(&args.target, token, Duration::from_secs(args.timeout), counts.clone());
        prune(runtime, &config, Box::new(target), &principals, &mut t)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let summary = json!({
        "principals": principals.len(),
        "created": t.created, "updated": t.updated, "unchanged": t.unchanged, "skipped": t.skipped, "deleted": t.deleted,
        "failed": t.failures.len(),
        "failures": t.failures.iter().map(|(i, e)| json!({"principal": principals[*i].0, "error": e})).collect::<Vec<_>>(),
        "deleteMissingError": t.prune_error,
        "requests": {"GET": n(&counts.get), "POST": n(&counts.post), "PUT": n(&counts.put), "PATCH": n(&counts.patch), "DELETE": n(&counts.delete)},
        "writes": counts.writes(),
        "seconds": seconds,
        "perSecond": principals.len() as f64 / seconds.max(1e-9),
    });
    if args.json {
        println!("{summary}");
    } else {
        println!(
            "{} principals in {seconds:.1} s ({:.0}/s): {} created, {} updated, {} unchanged, {} skipped, {} deleted, {} failed; {} writes",
            principals.len(),
            summary["perSecond"].as_f64().unwrap_or(0.0),
            t.created,
            t.updated,
            t.unchanged,
            t.skipped,
            t.deleted,
            t.failures.len(),
            counts.writes()
        );
        for (i, e) in t.failures.iter().take(20) {
            println!("  failed {}: {e}", principals[*i].0);
        }
    }
    if let Some(e) = &t.prune_error {
        bail!("--delete-missing stopped: {e}");
    }
    if !t.failures.is_empty() {
        bail!("{} principals failed and are queued: `scimkit provision --retry` tries them again", t.failures.len());
    }
    Ok(())
}

/// `--queued`: a line per principal queued for `target` (its name, failed runs, last failure and error), or
/// JSON lines. The queued attributes are not shown.
fn print_queue(queue: &queue::Queue, target: &str, json: bool, out: &mut dyn std::io::Write) -> Result<()> {
    for q in queue.list(target)? {
        if json {
            let line = json!({"principal": q.principal, "attempts": q.attempts, "failedAt": q.failed_at, "error": q.last_error});
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{}\tfailed {} run(s), last at {}\t{}", q.principal, q.attempts, q.failed_at, q.last_error)?;
        }
    }
    Ok(())
}

/// `--from-tenant`: pushes the tenant's journal and prints what it did.
fn from_tenant(
    args: &ProvisionArgs,
    journal: &dyn crate::events::journal::Journal,
    queue: &queue::Queue,
    tenant: &str,
    token: &str,
) -> Result<()> {
    let counts = Arc::new(Counts::default());
    let run = from_journal::Run {
        journal,
        queue,
        source: tenant,
        target_url: &args.target,
        target: HttpTarget::new(&args.target, token, Duration::from_secs(args.timeout), counts.clone()),
        match_by: &args.match_by,
        since: args.since,
        attempts: args.attempts,
        backoff: Duration::from_millis(args.backoff_ms),
    };
    let done = run.push()?;
    if args.json {
        let summary = json!({
            "created": done.created, "updated": done.updated, "deleted": done.deleted, "skipped": done.skipped,
            "sequence": done.cursor, "writes": counts.writes(),
        });
        println!("{summary}");
    } else {
        println!(
            "tenant {tenant} up to change {}: {} created, {} updated, {} deleted, {} skipped; {} writes",
            done.cursor,
            done.created,
            done.updated,
            done.deleted,
            done.skipped,
            counts.writes()
        );
    }
    Ok(())
}

/// Deletes the target's Users that no principal yields; a failed walk or deletion is a failure of the run.
fn prune(
    runtime: Arc<Runtime>,
    config: &str,
    target: Box<HttpTarget>,
    principals: &[(String, Attributes)],
    t: &mut Tally,
) -> Result<()> {
    let mut p = Provisioner::new(runtime, config)?;
    p.set_transport(target);
    let all: Vec<Attributes> = principals.iter().map(|(_, a)| a.clone()).collect();
    let report = p.prune("cli", &all)?;
    t.deleted =
        report.steps.iter().filter(|s| s.action == Action::Delete && matches!(s.status, Some(200 | 204))).count()
            as u64;
    if let Outcome::Failed(e) = report.outcome {
        t.prune_error = Some(e);
    }
    Ok(())
}

/// A mapping file as JSON: TOML is converted, so both say the same thing in the same structure.
pub fn read_mapping(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
        mapping_from_toml(&text).with_context(|| format!("reading {}", path.display()))
    } else {
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
    }
}

/// Principals with a name for the summary (the DN, else the first value seen).
pub fn read_principals(path: &Path) -> Result<Vec<(String, Attributes)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ldif")) {
        let entries = scimkit_runtime::ldif::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        return Ok(entries.into_iter().map(|e| (e.dn, e.attrs)).collect());
    }
    let items: Vec<serde_json::Map<String, Value>> =
        serde_json::from_str(&text).with_context(|| format!("{}: expected an array of objects", path.display()))?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, obj)| {
            let attrs = obj
                .into_iter()
                .map(|(k, v)| {
                    let values = match v {
                        Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
                        one => scalar(&one).map(|s| vec![s]),
                    };
                    values.map(|v| (k.clone(), v)).with_context(|| {
                        format!("{}: principal {i}, {k}: values must be text, numbers or booleans", path.display())
                    })
                })
                .collect::<Result<Attributes>>()?;
            Ok((format!("#{i}"), attrs))
        })
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}
