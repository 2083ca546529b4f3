//! `benchtable`: the comparison's table from the load driver's JSON lines. Per phase: each server's
//! median throughput over the runs, and the reference server's throughput divided by each other server's,
//! computed within each run (same machine state) and then the median over runs taken; and each server's median
//! CPU time per request (the server process's user and system time over the phase, divided by its requests).

use anyhow::{bail, Result};
use clap::Parser;
use scimkit_bench::{median, read_records, Record};
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Print the comparison table (Markdown) from scimload JSON lines")]
struct Args {
    /// The JSON lines written by scimload --json.
    file: PathBuf,
    /// The server the ratios are about.
    #[arg(long, default_value = "scimkit")]
    reference: String,
}

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
    println!("{header}");
    println!("|{}", " --- |".repeat(2 + 2 * others.len() + 2));
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
        println!("{row}");
    }
    let growth: Vec<(&str, Vec<&Record>)> =
        servers.iter().map(|s| (*s, find(s, "group"))).filter(|(_, g)| !g.is_empty()).collect();
    if !growth.is_empty() {
        println!();
        println!("| group growth | members added | first 100: p50 ms | last 100: p50 ms | last ÷ first |");
        println!("| --- | --- | --- | --- | --- |");
        for (server, rs) in growth {
            let added = median(rs.iter().map(|r| {
                r.extra["p50_by_size"].as_array().map_or(0, Vec::len) as f64 * r.extra["bucket"].as_f64().unwrap_or(0.0)
            }));
            let get = |k: &str| median(rs.iter().map(|r| r.extra[k].as_f64().unwrap_or(f64::NAN)));
            println!(
                "| {server} | ≤ {} | {} | {} | {} |",
                fmt(added, 0),
                fmt(get("first100_p50_ms"), 2),
                fmt(get("last100_p50_ms"), 2),
                fmt(get("ratio"), 2)
            );
        }
    }
    println!();
    println!("Medians over {} run(s); a ratio above 1 means {} is faster. \"err\": failed requests (not counted as throughput).", runs.len(), args.reference);
    Ok(())
}
