//! `scimkit provision`: principals from an LDIF or JSON file, mapped and sent to a SCIM target, in parallel,
//! with a progress bar and a summary. Running it again with unchanged input sends no write. With
//! `--delete-missing`, the target's Users that no principal yields are then deleted (listed by RFC 9865 cursor
//! when the target offers it).

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
pub struct ProvisionArgs {
    /// The target's SCIM base URL, e.g. https://app.example.com/scim/v2.
    #[arg(long, env = "SCIMKIT_TARGET")]
    target: String,
    /// The target's bearer token.
    #[arg(long, env = "SCIMKIT_TARGET_TOKEN", hide_env_values = true)]
    token: String,
    /// The mapping, TOML (.toml) or JSON; see examples/ldap-mapping.toml.
    #[arg(long)]
    mapping: PathBuf,
    /// The principals: LDIF (.ldif) or JSON (an array of {"name": "value" | ["values"]}).
    #[arg(long)]
    from: PathBuf,
    /// The attribute a User is found by on the target.
    #[arg(long = "match", default_value = "userName", value_parser = ["userName", "externalId"])]
    match_by: String,
    /// How a changed User is written: only what changed (patch), or the whole resource (put).
    #[arg(long, default_value = "patch", value_parser = ["patch", "put"])]
    update: String,
    /// Principals provisioned at once, each by its own engine instance.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
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
    failures: Vec<(String, String)>,
}

pub fn run(args: ProvisionArgs) -> Result<()> {
    let mapping = read_mapping(&args.mapping)?;
    let principals = read_principals(&args.from)?;
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
                let target = HttpTarget::new(&args.target, &args.token, Duration::from_secs(args.timeout), counts);
                scope.spawn(move || -> Result<()> {
                    let mut p = Provisioner::new(runtime, config)?;
                    p.set_transport(Box::new(target));
                    for (name, attrs) in principals.iter().skip(w).step_by(jobs) {
                        let outcome = p
                            .provision("cli", attrs)
                            .map(|r| r.outcome)
                            .unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
                        let mut t = tally.lock().unwrap();
                        match outcome {
                            Outcome::Created => t.created += 1,
                            Outcome::Updated => t.updated += 1,
                            Outcome::Unchanged => t.unchanged += 1,
                            Outcome::Skipped => t.skipped += 1,
                            Outcome::Failed(e) => t.failures.push((name.clone(), e)),
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
    if args.delete_missing && t.failures.is_empty() {
        let target = HttpTarget::new(&args.target, &args.token, Duration::from_secs(args.timeout), counts.clone());
        prune(runtime, &config, Box::new(target), &principals, &mut t)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let summary = json!({
        "principals": principals.len(),
        "created": t.created, "updated": t.updated, "unchanged": t.unchanged, "skipped": t.skipped, "deleted": t.deleted,
        "failed": t.failures.len(),
        "failures": t.failures.iter().map(|(p, e)| json!({"principal": p, "error": e})).collect::<Vec<_>>(),
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
        for (p, e) in t.failures.iter().take(20) {
            println!("  failed {p}: {e}");
        }
    }
    if !t.failures.is_empty() {
        bail!("{} principals failed", t.failures.len());
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
        t.failures.push(("--delete-missing".into(), e));
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
