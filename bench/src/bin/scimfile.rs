//! `scimfile`: writes generated users (the same as `scimgen` loads) as a file for `scimkit import`: JSON
//! lines, or CSV with a header row of attribute paths.

use anyhow::Result;
use clap::Parser;
use scimkit_bench::user;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Write generated users as JSON lines or CSV, for scimkit import")]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "csv"])]
    format: String,
    #[arg(long, short = 'o')]
    output: PathBuf,
}

const CSV_HEADER: &str =
    "userName,name.givenName,name.familyName,emails[type eq \"work\"].value,emails[type eq \"work\"].primary,active";

fn main() -> Result<()> {
    let args = Args::parse();
    let mut out = BufWriter::new(std::fs::File::create(&args.output)?);
    if args.format == "csv" {
        writeln!(out, "{CSV_HEADER}")?;
    }
    for i in 0..args.users {
        let u = user(i);
        if args.format == "csv" {
            let e = &u["emails"][0];
            let cells = [
                &u["userName"],
                &u["name"]["givenName"],
                &u["name"]["familyName"],
                &e["value"],
                &e["primary"],
                &u["active"],
            ];
            let text: Vec<String> =
                cells.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect();
            writeln!(out, "{}", text.join(","))?;
        } else {
            writeln!(out, "{u}")?;
        }
    }
    out.flush()?;
    Ok(())
}
