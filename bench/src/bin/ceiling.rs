//! `ceiling`: a bare HTTP/1.1 server that answers every request with a fixed SCIM body, doing no SCIM work.
//! Driven by the same load driver as a real server, it gives the ceiling of the machine, the client and
//! the loopback network: no server can be faster through the same path.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "A fixed-answer HTTP server: the ceiling for the SCIM load driver")]
struct Args {
    /// Address to listen on; loopback only.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Exits by itself after this many seconds, even when nobody stops it.
    #[arg(long, default_value_t = 3600)]
    lifetime: u64,
}

/// A user as a SCIM server returns it, so that the bytes on the wire are close to a real answer.
const USER: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646","userName":"user1","name":{"givenName":"Given1","familyName":"Family1"},"emails":[{"value":"user1@example.com","type":"work","primary":true}],"active":false,"meta":{"resourceType":"User","created":"2024-01-01T00:00:00.000Z","lastModified":"2024-01-01T00:00:00.000Z","location":"http://127.0.0.1/scim/v2/Users/2819c223-7f76-453a-919d-413861904646","version":"W/\"1\""}}"#;

/// The answer to a request: what the driver checks is the status, an `id` on creation, and
/// `totalResults` on lists (one match, as for `userName eq`).
fn answer(method: &str) -> (u16, &'static str, String) {
    match method {
        "POST" => (201, "Created", USER.to_string()),
        "DELETE" => (204, "No Content", String::new()),
        "GET" => (
            200,
            "OK",
            format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{USER}]}}"#
            ),
        ),
        _ => (200, "OK", USER.to_string()),
    }
}

/// Serves one keep-alive connection until the client closes it.
fn serve(stream: TcpStream) -> Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let method = line.split(' ').next().unwrap_or("").to_string();
        let mut length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().context("content-length")?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("chunked bodies are not supported");
            } else if name.eq_ignore_ascii_case("connection") && value.trim().eq_ignore_ascii_case("close") {
                close = true;
            }
        }
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
        let (status, reason, text) = answer(&method);
        write!(
            out,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        )?;
        out.flush()?;
        if close {
            return Ok(());
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("the ceiling server listens on loopback only");
    }
    let listener = TcpListener::bind(args.listen).with_context(|| format!("listening on {}", args.listen))?;
    println!("ceiling serving on http://{}", listener.local_addr()?);
    let end = Instant::now() + Duration::from_secs(args.lifetime);
    std::thread::spawn(move || {
        std::thread::sleep(end.saturating_duration_since(Instant::now()));
        std::process::exit(0);
    });
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream));
    }
    Ok(())
}
