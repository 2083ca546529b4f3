//! The server's connections: an accept loop over HTTP/1.1 (plain or TLS) that bounds how many connections
//! are open at once and how long each may take to send a request head or body or stay idle between requests,
//! so that clients that connect and send slowly, or not at all, cannot hold the server.

use crate::tls::Certificates;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// How long a connection may take over each part of its life, and how many may be open; a timeout of `None`
/// is no limit.
#[derive(Debug, Clone)]
pub struct Limits {
    /// From accepting a connection (TLS handshake included), or from its first byte after an idle spell, to
    /// the end of the request head.
    pub header_read: Option<Duration>,
    /// From the end of the head to the end of the body; past it the request is answered 408 and the
    /// connection closed.
    pub body_read: Option<Duration>,
    /// From the end of a response to the first byte of the next request on the same connection.
    pub idle: Option<Duration>,
    /// Connections open at once; further ones wait in the listen queue until one closes.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets every connection
/// finish the request it is answering, and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<Arc<Certificates>>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        // A slot first: past the limit, connections wait in the kernel's queue, not in memory here.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or memory: wait rather than spin; a refused connection is
                    // the client's business.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let (router, limits, tls, stopping) = (router.clone(), limits.clone(), tls.clone(), stopping.clone());
        tokio::spawn(async move {
            connection(tcp, peer, router, &limits, tls, stopping).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every slot back means every connection closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &Limits,
    tls: Option<Arc<Certificates>>,
    stopping: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let clock = Arc::new(Clock::new());
    let Some(certs) = tls else {
        return drive(tcp, peer, router, limits, clock, stopping).await;
    };
    // The handshake spends the header-read budget, which starts at the accept.
    let handshake = certs.acceptor().accept(tcp);
    let stream = match limits.header_read {
        Some(limit) => match tokio::time::timeout_at(clock.started() + limit, handshake).await {
            Ok(done) => done,
            Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
        },
        None => handshake.await,
    };
    match stream {
        Ok(stream) => drive(stream, peer, router, limits, clock, stopping).await,
        Err(e) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
    }
}

/// Serves HTTP/1.1 requests on one connection until the client closes it, a timeout ends it, or the server
/// stops.
async fn drive<S>(
    io: S,
    peer: SocketAddr,
    router: Router,
    limits: &Limits,
    clock: Arc<Clock>,
    mut stopping: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let body_read = limits.body_read;
    let service = {
        let clock = clock.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            answer(req, peer, router.clone(), body_read, Busy::begin(clock.clone()))
        })
    };
    let io = TokioIo::new(Watched { inner: io, clock: clock.clone() });
    let conn = hyper::server::conn::http1::Builder::new().header_read_timeout(None).serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        done = conn.as_mut() => {
            if let Err(e) = done {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        }
        // No request is in flight: dropping the connection closes it.
        _ = clock.expired(limits) => tracing::debug!(%peer, "connection closed: too slow or idle too long"),
        _ = async { drop(stopping.wait_for(|stop| *stop).await) } => {
            // The request being answered is finished; a head still arriving keeps its deadline.
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = clock.expired(limits) => {}
            }
        }
    }
}

/// One request through the router, answered 408 when its body has not all arrived within `body_read`.
async fn answer(
    req: Request<Incoming>,
    peer: SocketAddr,
    router: Router,
    body_read: Option<Duration>,
    busy: Busy,
) -> Result<Response<Body>, std::convert::Infallible> {
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(ConnectInfo(peer));
    let done = Arc::new(AtomicBool::new(false));
    let body = Body::new(Watchful::new(body, done.clone()));
    let routed = router.oneshot(Request::from_parts(parts, body));
    let resp = match body_read {
        None => routed.await?,
        Some(limit) => tokio::select! {
            biased;
            resp = routed => resp?,
            _ = body_late(Instant::now() + limit, &done) => {
                tracing::info!(%peer, "request body too slow: answered 408");
                request_timeout(limit)
            }
        },
    };
    Ok(resp.map(|body| Body::new(Answering { inner: body, _busy: busy })))
}

/// Completes at `deadline` if the request body is still awaited then; else never.
async fn body_late(deadline: Instant, done: &AtomicBool) {
    tokio::time::sleep_until(deadline).await;
    if done.load(Ordering::Acquire) {
        std::future::pending::<()>().await;
    }
}

/// 408 with a SCIM error; the connection closes, since the rest of the body is not read.
fn request_timeout(limit: Duration) -> Response<Body> {
    let detail = format!("the request body did not arrive within {} ms", limit.as_millis());
    let error = scimkit_runtime::provider::error_response(StatusCode::REQUEST_TIMEOUT.as_u16(), &detail);
    let mut resp = Response::new(Body::from(error.body));
    *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
    for (name, value) in error.headers {
        if let (Ok(name), Ok(value)) = (header::HeaderName::try_from(name), HeaderValue::try_from(value)) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Where a connection is in its life, for its timeouts.
#[derive(Clone, Copy)]
enum Phase {
    /// Reading a request head (or the TLS handshake) since then.
    Head(Instant),
    /// Answering this many requests; the body timeout is the request's own.
    Busy(usize),
    /// Between requests since then, nothing received yet.
    Idle(Instant),
}

struct Clock {
    phase: Mutex<Phase>,
    started: Instant,
    changed: Notify,
}

impl Clock {
    fn new() -> Clock {
        let started = Instant::now();
        Clock { phase: Mutex::new(Phase::Head(started)), started, changed: Notify::new() }
    }

    fn started(&self) -> Instant {
        self.started
    }

    fn set(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        *phase = change(*phase);
        drop(phase);
        self.changed.notify_one();
    }

    /// The first byte after an idle spell starts a request head.
    fn received(&self) {
        let idle = matches!(*self.phase.lock().unwrap_or_else(|e| e.into_inner()), Phase::Idle(_));
        if idle {
            self.set(|p| if let Phase::Idle(_) = p { Phase::Head(Instant::now()) } else { p });
        }
    }

    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        match *self.phase.lock().unwrap_or_else(|e| e.into_inner()) {
            Phase::Head(since) => limits.header_read.map(|d| since + d),
            Phase::Idle(since) => limits.idle.map(|d| since + d),
            Phase::Busy(_) => None,
        }
    }

    /// Completes when the connection has been reading a head, or idle, for longer than it may.
    async fn expired(&self, limits: &Limits) {
        loop {
            match self.deadline(limits) {
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => {}
                    _ = self.changed.notified() => {}
                },
                None => self.changed.notified().await,
            }
        }
    }
}

/// A request being answered, from its head until its response is written (or abandoned).
struct Busy(Arc<Clock>);

impl Busy {
    fn begin(clock: Arc<Clock>) -> Busy {
        clock.set(|p| match p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
        Busy(clock)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.set(|p| match p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// The connection's stream, telling the clock when bytes arrive.
struct Watched<S> {
    inner: S,
    clock: Arc<Clock>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.received();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that says when it is no longer awaited: read to its end, failed, or dropped.
struct Watchful {
    inner: Incoming,
    done: Arc<AtomicBool>,
}

impl Watchful {
    fn new(inner: Incoming, done: Arc<AtomicBool>) -> Watchful {
        if http_body::Body::is_end_stream(&inner) {
            done.store(true, Ordering::Release);
        }
        Watchful { inner, done }
    }
}

impl http_body::Body for Watchful {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let finished = match &polled {
            Poll::Ready(None | Some(Err(_))) => true,
            Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            Poll::Pending => false,
        };
        if finished {
            self.done.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Watchful {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
    }
}

/// A response body that keeps its request [`Busy`] until it is written or dropped.
struct Answering {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Answering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
