//! `scimload`: a bounded SCIM load driver. Runs phases against any SCIM base URL and prints, for each,
//! throughput, median and 99th-percentile latency, and errors. Every phase stops by itself: timed phases
//! after `--seconds`, counted ones after their count or a deadline.

use anyhow::{bail, Result};
use clap::Parser;
use scimkit_bench::{encode, user, Client, Stats};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
#[command(about = "Bounded SCIM load phases against one server")]
struct Args {
    /// SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2
    #[arg(long)]
    base: String,
    #[arg(long, default_value = "")]
    token: String,
    /// Name of the server in the output.
    #[arg(long, default_value = "server")]
    label: String,
    /// Phases to run, in order.
    #[arg(long, value_delimiter = ',', default_value = "seed,get,filter,complex,list,patch,getput,group")]
    phases: Vec<String>,
    /// Users created by the seed phase.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Members added one PATCH at a time by the group phase.
    #[arg(long, default_value_t = 1000)]
    members: usize,
    /// Seconds per timed phase.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    threads: usize,
    /// Appends one JSON object per phase to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Run number, recorded in the JSON lines so that repeated runs can be told apart.
    #[arg(long, default_value_t = 1)]
    run: u64,
    /// Group sizes for the memberadd phase: groups named `size-<n>` that already hold users 0..n.
    #[arg(long, value_delimiter = ',', default_value = "0,10000,100000")]
    sizes: Vec<usize>,
    /// Members per PATCH when the entra phase fills its large group.
    #[arg(long, default_value_t = 1000)]
    chunk: usize,
    /// The server's process id, to report its CPU time per request and its resident memory (Linux).
    #[arg(long)]
    pid: Option<u32>,
}

/// Member-add latencies are summarised per this many added members (the group's size before the add).
const BUCKET: usize = 100;

/// A per-thread pseudo-random sequence (xorshift): cheap, and no shared state.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

struct Seeded {
    ids: Vec<String>,
}

fn timed(args: &Args, f: impl Fn(&Client, &mut Rng) -> Result<bool> + Sync) -> Stats {
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let total = Mutex::new(Stats::default());
    std::thread::scope(|s| {
        for t in 0..args.threads {
            let (total, f) = (&total, &f);
            s.spawn(move || {
                let client = Client::new(&args.base, &args.token);
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((t as u64 + 1) * 0x1000_0001));
                let mut local = Stats::default();
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    match f(&client, &mut rng) {
                        Ok(true) => local.latencies.push(t0.elapsed()),
                        _ => local.errors += 1,
                    }
                }
                total.lock().unwrap().merge(local);
            });
        }
    });
    let mut stats = total.into_inner().unwrap();
    stats.elapsed = started.elapsed();
    stats
}

fn seed(args: &Args) -> Result<(Stats, Seeded)> {
    let next = AtomicU64::new(0);
    let ids = Mutex::new(vec![String::new(); args.users]);
    let total = Mutex::new(Stats::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            s.spawn(|| {
                let client = Client::new(&args.base, &args.token);
                let mut local = Stats::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= args.users {
                        break;
                    }
                    let t0 = Instant::now();
                    match client.send("POST", "/Users", Some(&user(i))) {
                        Ok(r) if r.status == 201 => {
                            local.latencies.push(t0.elapsed());
                            ids.lock().unwrap()[i] = r.json()["id"].as_str().unwrap_or_default().to_string();
                        }
                        _ => local.errors += 1,
                    }
                }
                total.lock().unwrap().merge(local);
            });
        }
    });
    let mut stats = total.into_inner().unwrap();
    stats.elapsed = started.elapsed();
    let ids: Vec<String> = ids.into_inner().unwrap().into_iter().filter(|i| !i.is_empty()).collect();
    if ids.is_empty() {
        bail!("seeding created no user");
    }
    Ok((stats, Seeded { ids }))
}

/// The request Microsoft Entra ID sends to add members to a group: no query parameters, `$ref` null.
fn entra_add(members: &[String]) -> Value {
    let values: Vec<Value> = members.iter().map(|m| json!({"$ref": null, "value": m})).collect();
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": values}]})
}

fn add_member(client: &Client, gid: &str, member: &str) -> Result<bool> {
    let r = client.send("PATCH", &format!("/Groups/{gid}"), Some(&entra_add(&[member.to_string()])))?;
    Ok(r.status == 200 || r.status == 204)
}

/// Medians of consecutive slices of `BUCKET` latencies, in milliseconds.
fn bucket_medians(latencies: &[Duration]) -> Vec<f64> {
    latencies.chunks(BUCKET).map(|c| Stats { latencies: c.to_vec(), ..Default::default() }.quantile_ms(0.5)).collect()
}

/// Grows a new group one PATCH (one member) at a time, in order, until `--members` or a deadline.
fn group_growth(args: &Args, seeded: &Seeded) -> Result<(Stats, Value)> {
    let client = Client::new(&args.base, &args.token);
    let g = client.send("POST", "/Groups", Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("growth-{}-{}", std::process::id(), args.run)})))?;
    if g.status != 201 {
        bail!("creating the group failed: {} {}", g.status, g.body);
    }
    let gid = g.json()["id"].as_str().unwrap_or_default().to_string();
    let mut stats = Stats::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds * 12.0);
    for i in 0..args.members {
        if Instant::now() > deadline {
            break;
        }
        let member = seeded.ids.get(i).cloned().unwrap_or_else(|| format!("member-{i}"));
        let t0 = Instant::now();
        match add_member(&client, &gid, &member) {
            Ok(true) => stats.latencies.push(t0.elapsed()),
            _ => stats.errors += 1,
        }
    }
    stats.elapsed = started.elapsed();
    let buckets = bucket_medians(&stats.latencies);
    let (first, last) = (buckets.first().copied().unwrap_or(f64::NAN), buckets.last().copied().unwrap_or(f64::NAN));
    Ok((
        stats,
        json!({"first100_p50_ms": first, "last100_p50_ms": last, "ratio": last / first, "bucket": BUCKET, "p50_by_size": buckets}),
    ))
}

/// The id of the one resource a filter finds, asking for nothing but the id.
fn find_id(client: &Client, endpoint: &str, filter: &str) -> Result<String> {
    let r = client.send(
        "GET",
        &format!("/{endpoint}?filter={}&attributes=id&excludedAttributes=members", encode(filter)),
        None,
    )?;
    match r.json()["Resources"][0]["id"].as_str() {
        Some(id) if r.status == 200 => Ok(id.to_string()),
        _ => bail!("no {endpoint} matches {filter}: {} {}", r.status, r.body),
    }
}

/// Member-add latency at fixed group sizes: for each `size-<n>` group (holding users 0..n), adds
/// `--members` users it does not hold yet, one PATCH each. One result per size.
fn member_add(args: &Args) -> Result<Vec<(String, Stats)>> {
    let client = Client::new(&args.base, &args.token);
    let mut out = Vec::new();
    for (k, size) in args.sizes.iter().enumerate() {
        let gid = find_id(&client, "Groups", &format!("displayName eq \"size-{size}\""))?;
        // Users from the upper half, a distinct slice per group and run: never already members.
        let first = args.users / 2 + (k + args.sizes.len() * (args.run as usize - 1)) * args.members;
        let members = (first..first + args.members)
            .map(|i| find_id(&client, "Users", &format!("userName eq \"user{i}\"")))
            .collect::<Result<Vec<_>>>()?;
        let mut stats = Stats::default();
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(args.seconds * 4.0);
        for m in &members {
            if Instant::now() > deadline {
                break;
            }
            let t0 = Instant::now();
            match add_member(&client, &gid, m) {
                Ok(true) => stats.latencies.push(t0.elapsed()),
                _ => stats.errors += 1,
            }
        }
        stats.elapsed = started.elapsed();
        out.push((format!("memberadd@{size}"), stats));
    }
    Ok(out)
}

/// The ids of users `user0` .. `user<n-1>`, in that order, read a page at a time.
fn user_ids(client: &Client, n: usize) -> Result<Vec<String>> {
    let mut ids = vec![String::new(); n];
    let mut start = 1;
    loop {
        let r = client.send("GET", &format!("/Users?attributes=userName&startIndex={start}&count=1000"), None)?;
        let page = r.json();
        let items = page["Resources"].as_array().cloned().unwrap_or_default();
        for u in &items {
            let index =
                u["userName"].as_str().and_then(|n| n.strip_prefix("user")).and_then(|i| i.parse::<usize>().ok());
            if let (Some(i), Some(id)) = (index, u["id"].as_str()) {
                if i < n {
                    ids[i] = id.to_string();
                }
            }
        }
        if items.is_empty() || r.status != 200 {
            break;
        }
        start += items.len();
    }
    if let Some(i) = ids.iter().position(String::is_empty) {
        bail!("user{i} is missing: load {n} users first (scimfile, then scimkit import)");
    }
    Ok(ids)
}

fn new_group(client: &Client, name: &str) -> Result<String> {
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name});
    let g = client.send("POST", "/Groups", Some(&body))?;
    if g.status != 201 {
        bail!("creating group {name}: {} {}", g.status, g.body);
    }
    Ok(g.json()["id"].as_str().unwrap_or_default().to_string())
}

/// The server's peak and current resident memory in MiB (Linux `/proc`), when its process id is known.
fn server_memory(pid: Option<u32>) -> Value {
    let Some(status) = pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok()) else {
        return Value::Null;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
    };
    json!({"peak_rss_mib": field("VmHWM:").map(|k| k / 1024.0), "rss_mib": field("VmRSS:").map(|k| k / 1024.0)})
}

/// Group membership at real-client scale, with the request Entra ID sends (no query parameters): fills a new
/// group with `--sizes`' largest size in PATCHes of `--chunk` members (total time, server memory), reads it
/// once, then adds `--members` single members alternately to it and to a new empty group, and compares the
/// medians and the response bytes of the two.
fn entra(args: &Args) -> Result<Vec<(String, Stats, Value)>> {
    let client = Client::new(&args.base, &args.token);
    let size = args.sizes.iter().copied().max().unwrap_or(0);
    let ids = user_ids(&client, size + 2 * args.members)?;
    let tag = format!("{}-{}", std::process::id(), args.run);
    let (big, empty) =
        (new_group(&client, &format!("entra-big-{tag}"))?, new_group(&client, &format!("entra-empty-{tag}"))?);
    let mut out = Vec::new();

    let mut fill = Stats::default();
    let started = Instant::now();
    for chunk in ids[..size].chunks(args.chunk.max(1)) {
        let t0 = Instant::now();
        match client.send("PATCH", &format!("/Groups/{big}"), Some(&entra_add(chunk))) {
            Ok(r) if r.status == 200 || r.status == 204 => fill.latencies.push(t0.elapsed()),
            _ => fill.errors += 1,
        }
    }
    fill.elapsed = started.elapsed();
    let extra = json!({"members": size, "chunk": args.chunk, "total_s": fill.elapsed.as_secs_f64(), "server": server_memory(args.pid)});
    out.push((format!("entra-fill@{size}"), fill, extra));

    let mut read = Stats::default();
    let t0 = Instant::now();
    let got = client.send("GET", &format!("/Groups/{big}"), None)?;
    read.latencies.push(t0.elapsed());
    read.elapsed = t0.elapsed();
    let listed = got.json()["members"].as_array().map_or(0, Vec::len);
    if got.status != 200 || listed != size {
        read.errors += 1;
    }
    let extra = json!({"members_listed": listed, "bytes": got.body.len(), "server": server_memory(args.pid)});
    out.push((format!("entra-get@{size}"), read, extra));

    let (mut into_big, mut into_empty) = (Stats::default(), Stats::default());
    let mut replies: Vec<(u16, String)> = Vec::new();
    let started = Instant::now();
    for i in 0..args.members {
        for (gid, member, stats) in
            [(&big, &ids[size + 2 * i], &mut into_big), (&empty, &ids[size + 2 * i + 1], &mut into_empty)]
        {
            let t0 = Instant::now();
            match client.send("PATCH", &format!("/Groups/{gid}"), Some(&entra_add(std::slice::from_ref(member)))) {
                Ok(r) if r.status == 200 || r.status == 204 => {
                    stats.latencies.push(t0.elapsed());
                    replies.push((r.status, r.body));
                }
                _ => stats.errors += 1,
            }
        }
    }
    into_big.elapsed = started.elapsed();
    into_empty.elapsed = into_big.elapsed;
    let ratio = into_big.quantile_ms(0.5) / into_empty.quantile_ms(0.5);
    let identical = replies.windows(2).all(|w| w[0] == w[1]);
    let extra = json!({"median_ratio_big_to_empty": ratio, "identical_responses": identical,
        "status": replies.first().map(|r| r.0), "bytes": replies.first().map(|r| r.1.len()), "server": server_memory(args.pid)});
    out.push(("entra-add@0".to_string(), into_empty, Value::Null));
    out.push((format!("entra-add@{size}"), into_big, extra));
    Ok(out)
}

/// The server's CPU time so far, user and system, all threads, in seconds (Linux `/proc/<pid>/stat`).
fn server_cpu(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| ticks / per_second as f64)
}

/// Microseconds of server CPU per request (failed ones included) between two readings of [`server_cpu`].
fn cpu_per_request(before: Option<f64>, after: Option<f64>, stats: &Stats) -> Option<f64> {
    let requests = stats.latencies.len() as u64 + stats.errors;
    Some((after? - before?) * 1e6 / requests.max(1) as f64)
}

fn report(args: &Args, phase: &str, stats: &Stats, cpu_us: Option<f64>, extra: Value) -> Result<()> {
    println!(
        "{:<12} {:<15} {:>8} {:>10.0} {:>9.2} {:>9.2} {:>7} {:>9} {}",
        args.label,
        phase,
        stats.latencies.len(),
        stats.throughput(),
        stats.quantile_ms(0.5),
        stats.quantile_ms(0.99),
        stats.errors,
        cpu_us.map_or("-".to_string(), |c| format!("{c:.0}")),
        if extra.is_null() { String::new() } else { extra.to_string() }
    );
    if let Some(path) = &args.json {
        let line = json!({"server": args.label, "run": args.run, "phase": phase, "requests": stats.latencies.len(),
            "throughput": stats.throughput(), "p50_ms": stats.quantile_ms(0.5), "p99_ms": stats.quantile_ms(0.99),
            "errors": stats.errors, "server_cpu_us": cpu_us, "extra": extra});
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    println!(
        "{:<12} {:<15} {:>8} {:>10} {:>9} {:>9} {:>7} {:>9}",
        "server", "phase", "requests", "req/s", "p50 ms", "p99 ms", "errors", "cpu µs/r"
    );
    let mut seeded: Option<Seeded> = None;
    for phase in &args.phases {
        let ids = || seeded.as_ref().map(|s| s.ids.clone()).unwrap_or_default();
        let n = args.users.max(1);
        let cpu_before = server_cpu(args.pid);
        let stats = match phase.as_str() {
            "seed" => {
                let (stats, s) = seed(&args)?;
                seeded = Some(s);
                stats
            }
            "get" => {
                let ids = ids();
                timed(&args, |c, r| {
                    Ok(c.send("GET", &format!("/Users/{}", ids[r.below(ids.len())]), None)?.status == 200)
                })
            }
            "filter" => timed(&args, |c, r| {
                let f = encode(&format!("userName eq \"user{}\"", r.below(n)));
                let reply = c.send("GET", &format!("/Users?filter={f}"), None)?;
                Ok(reply.status == 200 && reply.json()["totalResults"] == 1)
            }),
            "substring" => timed(&args, |c, r| {
                let f = encode(&format!("emails.value co \"user{}@\"", r.below(n)));
                let reply = c.send("GET", &format!("/Users?filter={f}"), None)?;
                Ok(reply.status == 200 && reply.json()["totalResults"] == 1)
            }),
            "complex" => timed(&args, |c, r| {
                let f = encode(&format!(
                    "emails[type eq \"work\" and value co \"user{}@\"] and active eq true",
                    r.below(n)
                ));
                Ok(c.send("GET", &format!("/Users?filter={f}"), None)?.status == 200)
            }),
            "list" => timed(&args, |c, r| {
                Ok(c.send("GET", &format!("/Users?startIndex={}&count=50", r.below(n) + 1), None)?.status == 200)
            }),
            "patch" => {
                let ids = ids();
                timed(&args, |c, r| {
                    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "displayName", "value": format!("name {}", r.below(1000))}]});
                    Ok(c.send("PATCH", &format!("/Users/{}", ids[r.below(ids.len())]), Some(&body))?.status == 200)
                })
            }
            "getput" => {
                let ids = ids();
                timed(&args, |c, r| {
                    let path = format!("/Users/{}", ids[r.below(ids.len())]);
                    let got = c.send("GET", &path, None)?;
                    if got.status != 200 {
                        return Ok(false);
                    }
                    Ok(c.send("PUT", &path, Some(&got.json()))?.status == 200)
                })
            }
            "group" => {
                let s = seeded.as_ref().map(|s| Seeded { ids: s.ids.clone() }).unwrap_or(Seeded { ids: vec![] });
                let (stats, extra) = group_growth(&args, &s)?;
                report(&args, phase, &stats, cpu_per_request(cpu_before, server_cpu(args.pid), &stats), extra)?;
                continue;
            }
            "memberadd" => {
                for (name, stats) in member_add(&args)? {
                    report(&args, &name, &stats, None, Value::Null)?;
                }
                continue;
            }
            "entra" => {
                for (name, stats, extra) in entra(&args)? {
                    report(&args, &name, &stats, None, extra)?;
                }
                continue;
            }
            other => bail!("unknown phase {other}"),
        };
        report(&args, phase, &stats, cpu_per_request(cpu_before, server_cpu(args.pid), &stats), Value::Null)?;
    }
    Ok(())
}
