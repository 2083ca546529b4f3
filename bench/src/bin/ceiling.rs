//! `ceiling`: the server's own HTTP stack with no SCIM work. hyper on tokio, configured as `scimkit serve`'s
//! (a multi-threaded tokio runtime with its default workers, hyper-util's connection builder with upgrades,
//! keep-alive, mimalloc as its allocator), answering every request with a fixed SCIM body. Driven by the same
//! load driver as a real server, it gives the ceiling of the machine, the client, the loopback network and the
//! HTTP layer: a SCIM server on this stack cannot be faster.

use anyhow::{bail, Context, Result};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

/// The allocator `scimkit serve` runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "A fixed-answer HTTP server on the server's HTTP stack: the ceiling for the SCIM load driver")]
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

/// The answer to a request: what the driver checks is the status, an `id` on creation, and `totalResults` on
/// lists (one match, as for `userName eq`). The request's body is read in full first, as a server does.
async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let _ = req.into_body().collect().await;
    let (status, body) = match method.as_str() {
        "POST" => (StatusCode::CREATED, USER.to_string()),
        "DELETE" => (StatusCode::NO_CONTENT, String::new()),
        "GET" => (
            StatusCode::OK,
            format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{USER}]}}"#
            ),
        ),
        _ => (StatusCode::OK, USER.to_string()),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/scim+json"));
    Ok(resp)
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("the ceiling server listens on loopback only");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        println!("ceiling serving on http://{}", listener.local_addr()?);
        let serve = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(answer);
                    let builder = Builder::new(TokioExecutor::new());
                    let _ = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).await;
                });
            }
        };
        tokio::select! {
            _ = serve => {}
            _ = tokio::time::sleep(Duration::from_secs(args.lifetime)) => {}
        }
        Ok(())
    })
}
