//! `plot`: the comparison's pictures (SVG) from the load driver's JSON lines: throughput per phase for
//! each server, and member-add latency against group size for each server. Medians over runs.

use anyhow::{bail, Result};
use clap::Parser;
use plotters::prelude::*;
use scimkit_bench::{median, read_records, Record};
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Draw throughput.svg and member-add.svg from scimload JSON lines")]
struct Args {
    /// The JSON lines written by scimload --json.
    file: PathBuf,
    /// Directory for the SVG files.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

const COLORS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
];

fn names<'a>(records: &'a [Record], key: impl Fn(&'a Record) -> &'a str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for r in records {
        if !out.contains(&key(r)) {
            out.push(key(r));
        }
    }
    out
}

type Plot = Box<dyn std::error::Error>;

fn throughput(records: &[Record], path: &std::path::Path) -> Result<(), Plot> {
    let servers = names(records, |r| &r.server);
    // The group phase is sequential by design; its throughput is not comparable to the others'.
    let phases: Vec<&str> =
        names(records, |r| &r.phase).into_iter().filter(|p| *p != "group" && !p.starts_with("memberadd")).collect();
    let value = |s: &str, p: &str| {
        median(records.iter().filter(|r| r.server == s && r.phase == p && r.throughput > 0.0).map(|r| r.throughput))
    };
    let all: Vec<f64> =
        servers.iter().flat_map(|s| phases.iter().map(move |p| value(s, p))).filter(|v| v.is_finite()).collect();
    if all.is_empty() {
        return Err("no throughput to draw".into());
    }
    let hi = all.iter().cloned().fold(1.0, f64::max) * 3.0;
    let lo = all.iter().cloned().fold(f64::MAX, f64::min).max(0.1) / 3.0;
    let root = SVGBackend::new(path, (1000, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Throughput per phase (requests/s, log scale; medians over runs)", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..phases.len() as f64, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(phases.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - (i as f64 + 0.5)).abs() < 1e-6 {
                phases.get(i).map(|p| p.to_string()).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("requests/s")
        .draw()?;
    let width = 0.8 / servers.len() as f64;
    for (j, server) in servers.iter().enumerate() {
        let color = COLORS[j % COLORS.len()];
        let bars = phases.iter().enumerate().filter_map(|(i, p)| {
            let v = value(server, p);
            let x0 = i as f64 + 0.1 + j as f64 * width;
            v.is_finite().then(|| Rectangle::new([(x0, lo), (x0 + width * 0.9, v)], color.filled()))
        });
        chart
            .draw_series(bars)?
            .label(*server)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}

fn member_add(records: &[Record], path: &std::path::Path) -> Result<(), Plot> {
    let servers = names(records, |r| &r.server);
    let mut series: Vec<(&str, Vec<(f64, f64)>)> = Vec::new();
    for server in servers {
        let runs: Vec<&Record> = records.iter().filter(|r| r.server == server && r.phase == "group").collect();
        let longest = runs.iter().map(|r| r.extra["p50_by_size"].as_array().map_or(0, Vec::len)).max().unwrap_or(0);
        let bucket = runs.first().and_then(|r| r.extra["bucket"].as_f64()).unwrap_or(100.0);
        let points: Vec<(f64, f64)> = (0..longest)
            .map(|k| {
                let v = median(runs.iter().filter_map(|r| r.extra["p50_by_size"].get(k)?.as_f64()));
                (k as f64 * bucket, v)
            })
            .filter(|(_, v)| v.is_finite() && *v > 0.0)
            .collect();
        if !points.is_empty() {
            series.push((server, points));
        }
    }
    if series.is_empty() {
        return Err("no member-add series to draw (did the group phase succeed anywhere?)".into());
    }
    let xmax = series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x)).fold(1.0, f64::max) + 100.0;
    let ys = || series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y));
    let (lo, hi) = (ys().fold(f64::MAX, f64::min) / 2.0, ys().fold(0.0, f64::max) * 2.0);
    let root = SVGBackend::new(path, (1000, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Adding one member: p50 latency (ms, log scale) against group size", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..xmax, (lo..hi).log_scale())?;
    chart.configure_mesh().x_desc("members in the group").y_desc("p50 ms per 100 adds").draw()?;
    for (j, (server, points)) in series.into_iter().enumerate() {
        let color = COLORS[j % COLORS.len()];
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(server)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let records = read_records(&args.file)?;
    if records.is_empty() {
        bail!("{} holds no results", args.file.display());
    }
    std::fs::create_dir_all(&args.out)?;
    let throughput_svg = args.out.join("throughput.svg");
    throughput(&records, &throughput_svg).map_err(|e| anyhow::anyhow!("{}: {e}", throughput_svg.display()))?;
    println!("wrote {}", throughput_svg.display());
    let member_svg = args.out.join("member-add.svg");
    // Without PATCH anywhere there is no series: say so, the throughput picture still stands.
    match member_add(&records, &member_svg) {
        Ok(()) => println!("wrote {}", member_svg.display()),
        Err(e) => println!("no {}: {e}", member_svg.display()),
    }
    Ok(())
}
