//! `scimkit selftest URL --token T`: the engine's own conformance checks against any SCIM server, through the
//! provisioning transport. Prints one line per check and `N passed, M failed, K skipped`; fails when a check
//! failed.

use crate::transport::{Counts, HttpTarget};
use anyhow::{bail, Result};
use scimkit_runtime::bindings::{Check, CheckVerdict as Verdict};
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(clap::Args)]
pub struct SelftestArgs {
    /// The server's SCIM base URL, e.g. https://app.example.com/scim/v2.
    url: String,
    /// The server's bearer token.
    #[arg(long, env = "SCIMKIT_TARGET_TOKEN", hide_env_values = true)]
    token: String,
    /// Timeout of one HTTP request, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Print each check as a JSON line (name, section, verdict, detail) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SelftestArgs) -> Result<()> {
    let runtime = Runtime::new(EMBEDDED, None, GuestLimits::default())?;
    let target =
        HttpTarget::new(&args.url, &args.token, Duration::from_secs(args.timeout), Arc::new(Counts::default()));
    let checks = scimkit_runtime::provisioning::selftest(&runtime, Box::new(target), &tag())?;
    let failed = report(&checks, args.json, &mut std::io::stdout())?;
    if failed > 0 {
        bail!("{failed} conformance checks failed against {}", args.url);
    }
    Ok(())
}

/// Unique per run, so that what the checks create never meets another run's.
fn tag() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}-{}", now.as_millis(), std::process::id())
}

/// Writes the checks and the summary; returns the number failed.
pub fn report(checks: &[Check], json: bool, out: &mut dyn Write) -> Result<usize> {
    let count = |v: Verdict| checks.iter().filter(|c| c.verdict == v).count();
    for c in checks {
        if json {
            let verdict = match c.verdict {
                Verdict::Passed => "passed",
                Verdict::Failed => "failed",
                Verdict::Skipped => "skipped",
            };
            let line =
                serde_json::json!({"name": c.name, "section": c.section, "verdict": verdict, "detail": c.detail});
            writeln!(out, "{line}")?;
            continue;
        }
        match c.verdict {
            Verdict::Passed => writeln!(out, "ok      {}", c.name)?,
            Verdict::Failed => writeln!(out, "FAILED  {} ({}): {}", c.name, c.section, c.detail)?,
            Verdict::Skipped => writeln!(out, "skipped {}: {}", c.name, c.detail)?,
        }
    }
    let (passed, failed, skipped) = (count(Verdict::Passed), count(Verdict::Failed), count(Verdict::Skipped));
    if !json {
        writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped")?;
    }
    Ok(failed)
}
