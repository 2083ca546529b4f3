//! `benchtable`: the comparison's table from the load driver's JSON lines. Per phase: each server's
//! median throughput over the runs, and the reference server's throughput divided by each other server's,
//! computed within each run (same machine state) and then the median over runs taken; and each server's median
//! CPU time per request (the server process's user and system time over the phase, divided by its requests).
//! Then issue 24's targets, each met or missed in this run. With `--write FILE` the same text replaces what
//! stands between the `<!-- benchtable -->` and `<!-- /benchtable -->` lines of FILE (BENCHMARKS.md).

use anyhow::{bail, Context, Result};
use clap::Parser;
use scimkit_bench::{median, read_records, Record};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Print the comparison table (Markdown) from scimload JSON lines")]
struct Args {
    /// The JSON lines written by scimload --json.
    file: PathBuf,
    /// The server the ratios are about.
    #[arg(long, default_value = "scimkit")]
    reference: String,
    /// The run's machine and settings (compare.sh's machine.txt), shown above the table.
    #[arg(long)]
    machine: Option<PathBuf>,
    /// Writes the output between the `<!-- benchtable -->` and `<!-- /benchtable -->` lines of this file.
    #[arg(long)]
    write: Option<PathBuf>,
}

const BEGIN: &str = "<!-- benchtable -->";
const END: &str = "<!-- /benchtable -->";

/// Names in order of first appearance.
fn ordered<'a>(records: &'a [Record], key: impl Fn(&'a Record) -> &'a str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for r in records {
        let k = key(r);
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

fn fmt(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "—".into()
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut out = String::new();
    if let Some(machine) = &args.machine {
        let text = std::fs::read_to_string(machine).with_context(|| machine.display().to_string())?;
        writeln!(out, "```\n{}\n```\n", text.trim_end())?;
    }
    table(&args, &mut out)?;
    print!("{out}");
    if let Some(file) = &args.write {
        let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
        let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
            bail!("{} has no {BEGIN} … {END} lines", file.display());
        };
        if end < begin {
            bail!("{}: {END} comes before {BEGIN}", file.display());
        }
        let updated = format!("{}{BEGIN}\n{out}{}", &text[..begin], &text[end..]);
        std::fs::write(file, updated).with_context(|| file.display().to_string())?;
    }
    Ok(())
}

fn table(args: &Args, out: &mut String) -> Result<()> {
    let records = read_records(&args.file)?;
    if records.is_empty() {
        bail!("{} holds no results", args.file.display());
    }
    let servers = ordered(&records, |r| &r.server);
    if !servers.contains(&args.reference.as_str()) {
        bail!("no results for {}", args.reference);
    }
    let others: Vec<&str> = servers.iter().copied().filter(|s| *s != args.reference).collect();
    let phases = ordered(&records, |r| &r.phase);
    let mut runs: Vec<u64> = records.iter().map(|r| r.run).collect();
    runs.sort_unstable();
    runs.dedup();
    let find = |server: &str, phase: &str| -> Vec<&Record> {
        records.iter().filter(|r| r.server == server && r.phase == phase).collect()
    };

    let mut header = format!("| phase | {} req/s | {} p50 / p99 ms |", args.reference, args.reference);
    for o in &others {
        header.push_str(&format!(" {o} req/s |"));
    }
    for o in &others {
        header.push_str(&format!(" {} ÷ {o} |", args.reference));
    }
    let all: Vec<&str> = std::iter::once(args.reference.as_str()).chain(others.iter().copied()).collect();
    header.push_str(&format!(" server CPU µs per request ({}) |", all.join(" / ")));
    writeln!(out, "{header}")?;
    writeln!(out, "|{}", " --- |".repeat(2 + 2 * others.len() + 2))?;
    for phase in &phases {
        let mine = find(&args.reference, phase);
        let cell = |rs: &[&Record]| -> String {
            if rs.is_empty() {
                return "—".into();
            }
            let errors: u64 = rs.iter().map(|r| r.errors).sum();
            let t = fmt(median(rs.iter().map(|r| r.throughput)), 0);
            if errors > 0 {
                format!("{t} ({errors} err)")
            } else {
                t
            }
        };
        let mut row = format!(
            "| {phase} | {} | {} / {} |",
            cell(&mine),
            fmt(median(mine.iter().map(|r| r.p50_ms)), 2),
            fmt(median(mine.iter().map(|r| r.p99_ms)), 2)
        );
        for o in &others {
            row.push_str(&format!(" {} |", cell(&find(o, phase))));
        }
        for o in &others {
            let theirs = find(o, phase);
            // Within one run only: both numbers saw the same machine state.
            let ratios = mine.iter().filter_map(|m| {
                let t = theirs.iter().find(|t| t.run == m.run)?;
                (t.throughput > 0.0 && m.throughput > 0.0).then(|| m.throughput / t.throughput)
            });
            row.push_str(&format!(" {} |", fmt(median(ratios), 2)));
        }
        let cpu: Vec<String> =
            all.iter().map(|s| fmt(median(find(s, phase).iter().map(|r| r.server_cpu_us)), 0)).collect();
        row.push_str(&format!(" {} |", cpu.join(" / ")));
        writeln!(out, "{row}")?;
    }
    let growth: Vec<(&str, Vec<&Record>)> =
        servers.iter().map(|s| (*s, find(s, "group"))).filter(|(_, g)| !g.is_empty()).collect();
    if !growth.is_empty() {
        writeln!(out)?;
        writeln!(out, "| group growth | members added | first 100: p50 ms | last 100: p50 ms | last ÷ first |")?;
        writeln!(out, "| --- | --- | --- | --- | --- |")?;
        for (server, rs) in growth {
            let added = median(rs.iter().map(|r| {
                r.extra["p50_by_size"].as_array().map_or(0, Vec::len) as f64 * r.extra["bucket"].as_f64().unwrap_or(0.0)
            }));
            let get = |k: &str| median(rs.iter().map(|r| r.extra[k].as_f64().unwrap_or(f64::NAN)));
            writeln!(
                out,
                "| {server} | ≤ {} | {} | {} | {} |",
                fmt(added, 0),
                fmt(get("first100_p50_ms"), 2),
                fmt(get("last100_p50_ms"), 2),
                fmt(get("ratio"), 2)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Medians over {} run(s); a ratio above 1 means {} is faster. \"err\": failed requests (not counted as throughput).", runs.len(), args.reference)?;
    targets(&records, &args.reference, out)
}

/// Issue 24's targets: each a ratio within one run (or a CPU time), the median over the runs, met or missed.
fn targets(records: &[Record], me: &str, out: &mut String) -> Result<()> {
    // (run, throughput, server CPU µs) of each run of a server's phase.
    let per_run = |server: &str, phase: &str| -> Vec<(u64, f64, f64)> {
        records
            .iter()
            .filter(|r| r.server == server && r.phase == phase)
            .map(|r| (r.run, r.throughput, r.server_cpu_us))
            .collect()
    };
    let ratio = |a: (&str, &str), b: (&str, &str)| -> Vec<f64> {
        let (mine, theirs) = (per_run(a.0, a.1), per_run(b.0, b.1));
        mine.iter().filter_map(|m| theirs.iter().find(|t| t.0 == m.0 && t.1 > 0.0).map(|t| m.1 / t.1)).collect()
    };
    let rows: Vec<(&str, Vec<f64>, f64, bool)> = vec![
        ("`GET /Users/{id}` ≥ 35 % of the ceiling", ratio((me, "get"), ("ceiling", "get")), 0.35, true),
        ("server CPU per `GET /Users/{id}` ≤ 120 µs", per_run(me, "get").iter().map(|r| r.2).collect(), 120.0, false),
        ("`POST /Users` ≥ 3× scimmy", ratio((me, "seed"), ("scimmy", "seed")), 3.0, true),
        ("PATCH replace ≥ 4× scimmy", ratio((me, "patch"), ("scimmy", "patch")), 4.0, true),
        ("complex filter ≥ 25 % of `GET /Users/{id}`", ratio((me, "complex"), (me, "get")), 0.25, true),
        ("a page of 50 ≥ 25 % of `GET /Users/{id}`", ratio((me, "list"), (me, "get")), 0.25, true),
    ];
    writeln!(out)?;
    writeln!(out, "| target (issue 24) | median | runs | |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for (name, values, bound, at_least) in rows {
        if values.is_empty() {
            continue;
        }
        let m = median(values.iter().copied());
        let met = if at_least { m >= bound } else { m <= bound };
        // Ratios to two places, microseconds whole.
        let digits = if at_least { 2 } else { 0 };
        let each: Vec<String> = values.iter().map(|v| fmt(*v, digits)).collect();
        let verdict = if met { "**met**" } else { "**missed**" };
        writeln!(out, "| {name} | {} | {} | {verdict} |", fmt(m, digits), each.join(", "))?;
    }
    Ok(())
}
