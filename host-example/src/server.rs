//! The HTTP front: axum routes `/scim/v2/...` to the tenant that serves it, checks the tenant's limits and
//! credentials, passes the request to the tenant's engine, and records it in the tenant's request log.

use crate::admin;
use crate::app::App;
use crate::auth::{self, oauth, throttle};
use crate::config::BASE_PATH;
use crate::forwarded;
use crate::metrics::{self, Refusal};
use crate::request_log::{self, now_ms};
use crate::tenants::Tenant;
use crate::terminal::Escaped;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Extension, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self as mw, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use scimkit_runtime::bindings::{HttpRequest, HttpResponse};
use scimkit_runtime::provider::{error_response, Usage};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(BASE_PATH, any(scim))
        .route(&format!("{BASE_PATH}/{{*rest}}"), any(scim))
        .route("/oauth/token", post(token_default))
        .route("/oauth/{tenant}/token", post(token_named))
        .merge(crate::oauth_code::routes())
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(scrape))
        .merge(admin::routes())
        .layer(mw::from_fn(request_context))
        .with_state(app)
}

/// The id a request is known by: in its span (so in every log line it causes), its request log entry and
/// its answer's `X-Request-Id`.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// A client's `X-Request-Id` is kept when it is 1 to 128 visible ASCII characters; otherwise one is made.
fn request_id(headers: &HeaderMap) -> String {
    let given = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()));
    given.map_or_else(scimkit_runtime::storage::new_id, str::to_string)
}

/// Runs every request in a tracing span with its request id, logs its answer, and echoes the id.
async fn request_context(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %Escaped(req.uri().path()), tenant = tracing::field::Empty);
    let mut resp = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0,
            "answered"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// `GET /metrics`, as `[metrics]` allows.
async fn scrape(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let plain = |status: StatusCode, text: &'static str| {
        (status, [("content-type", "text/plain; charset=utf-8")], text).into_response()
    };
    let peer = forwarded::client(&app.trusted_proxies, peer, &headers);
    match app.metrics.check(peer.ip(), header(&headers, "authorization").as_deref()) {
        Ok(()) => {
            let idle = app.tenants.list.iter().map(|t| (t.name.clone(), t.provider.idle_instances()));
            app.metrics.deliveries(&app.tenants.list);
            (StatusCode::OK, [("content-type", metrics::CONTENT_TYPE)], app.metrics.encode(idle)).into_response()
        }
        Err(Refusal::Disabled) => plain(StatusCode::NOT_FOUND, "metrics are disabled\n"),
        Err(Refusal::Network) => plain(StatusCode::FORBIDDEN, "this client network may not read the metrics\n"),
        Err(Refusal::Token) => {
            let mut r = plain(StatusCode::UNAUTHORIZED, "a bearer token is required\n");
            r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer realm=\"scimkit-metrics\""));
            r
        }
    }
}

/// What the engine, or the host before it, answered; and who was authenticated.
struct Outcome {
    response: HttpResponse,
    principal: Option<String>,
    /// WWW-Authenticate challenges of a 401.
    challenges: Vec<String>,
    /// What the engine spent, when the request reached it.
    usage: Option<Usage>,
}

fn refused(response: HttpResponse) -> Outcome {
    Outcome { response, principal: None, challenges: Vec::new(), usage: None }
}

/// 429 to a client address out of authentication attempts.
fn too_many_failures(wait: std::time::Duration) -> HttpResponse {
    let mut r = error_response(429, "too many failed authentications from this address; retry later");
    r.headers.push(("Retry-After".into(), wait.as_secs().to_string()));
    r
}

/// Requests that reach no tenant are counted under this tenant label.
const NO_TENANT: &str = "-";

async fn scim(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(rid): Extension<RequestId>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let _in_flight = app.metrics.in_flight();
    let (parts, body) = req.into_parts();
    let peer = forwarded::client(&app.trusted_proxies, peer, &parts.headers);
    let rest = parts.uri.path().strip_prefix(BASE_PATH).unwrap_or("");
    let Some((tenant, path)) = app.tenants.resolve(rest).map(|(t, p)| (t.clone(), p)) else {
        app.metrics.request(NO_TENANT, parts.method.as_str(), 404, started.elapsed(), None);
        return to_http(error_response(404, "no SCIM service at this path"), &[]);
    };
    tracing::Span::current().record("tenant", tenant.name.as_str());
    if let Err(wait) = tenant.limits.take() {
        app.metrics.request(&tenant.name, parts.method.as_str(), 429, started.elapsed(), None);
        let mut over = error_response(429, "too many requests for this SCIM service; retry later");
        over.headers.push(("Retry-After".into(), wait.as_secs().to_string()));
        return to_http(over, &[]);
    }
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let target = format!("{}{path}{query}", tenant.base_path);
    let authorization = header(&parts.headers, "authorization");
    let (outcome, body) = match admit(&tenant, peer, parts.method.as_str(), target, authorization).await {
        Err(refusal) => (*refusal, Bytes::new()),
        Ok(principal) => match read_body(&parts.headers, Body::new(body), app.max_body_bytes).await {
            None => {
                let detail = format!("the body exceeds the limit of {} bytes", app.max_body_bytes);
                app.metrics.request(&tenant.name, parts.method.as_str(), 413, started.elapsed(), None);
                let outcome = Outcome { principal: Some(principal), ..refused(error_response(413, &detail)) };
                return too_large(finish(&tenant, peer, rid, parts, Bytes::new(), outcome, started));
            }
            Some(body) => {
                let request = HttpRequest {
                    method: parts.method.as_str().to_string(),
                    path,
                    query: parts.uri.query().unwrap_or("").to_string(),
                    headers: parts
                        .headers
                        .iter()
                        .filter(|(k, _)| *k != "authorization")
                        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                        .collect(),
                    body: (!body.is_empty()).then(|| body.to_vec()),
                };
                (engine(&tenant, principal, request).await, body)
            }
        },
    };
    app.metrics.request(
        &tenant.name,
        parts.method.as_str(),
        outcome.response.status,
        started.elapsed(),
        outcome.usage.as_ref(),
    );
    finish(&tenant, peer, rid, parts, body, outcome, started)
}

/// The client's network, then its credentials: before the body is read, so that a client without valid
/// credentials cannot make the server take in (and hold) a body. Basic credentials cost a password hash, which
/// runs on the blocking pool, never on an async worker; bearer tokens are cheap to check where they are.
/// `target` is the request URI as the client sent it, which Digest credentials sign.
async fn admit(
    t: &Arc<Tenant>,
    peer: SocketAddr,
    method: &str,
    target: String,
    authorization: Option<String>,
) -> Result<String, Box<Outcome>> {
    if !t.limits.allows_peer(peer.ip()) {
        return Err(Box::new(refused(error_response(403, "this client network is not allowed"))));
    }
    let authorization = authorization.as_deref();
    if !auth::is_password(authorization) {
        return t.auth.check(authorization, method, &target).map_err(|why| unauthenticated(t, authorization, why));
    }
    let (tenant, method, authorization) = (t.clone(), method.to_string(), authorization.map(str::to_string));
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| check_password(&tenant, peer, authorization.as_deref(), &method, &target))
    })
    .await
    .unwrap_or_else(|e| {
        tracing::error!("authentication task failed: {e}");
        Err(Box::new(refused(error_response(500, "the request could not be completed"))))
    })
}

/// Passwords (Basic, Digest), checked only while the client address has attempts left.
fn check_password(
    t: &Tenant,
    peer: SocketAddr,
    authorization: Option<&str>,
    method: &str,
    target: &str,
) -> Result<String, Box<Outcome>> {
    let attempt = throttle::attempt(peer.ip()).map_err(|wait| Box::new(refused(too_many_failures(wait))))?;
    let principal =
        t.auth.check(authorization, method, target).map_err(|why| unauthenticated(t, authorization, why))?;
    attempt.succeeded();
    Ok(principal)
}

fn unauthenticated(t: &Tenant, authorization: Option<&str>, why: auth::Refused) -> Box<Outcome> {
    let presented_bearer = authorization.is_some_and(|a| a.trim().to_ascii_lowercase().starts_with("bearer "));
    Box::new(Outcome {
        challenges: t.auth.challenges(presented_bearer, why.stale),
        ..refused(error_response(401, "authentication required or not accepted"))
    })
}

/// The tenant's limits on what may be done, then its engine. A read runs on the async worker that took the
/// request: handing it to another thread (the blocking pool, `block_in_place`) cost more CPU than the read
/// itself (BENCHMARKS.md, "The request path"). A write waits for its transaction's disk sync, which must not
/// hold an async worker: it runs on the blocking pool, where the writers of one group commit wait together.
/// On PostgreSQL every call runs there: its client cannot run on an async worker.
async fn engine(t: &Arc<Tenant>, principal: String, request: HttpRequest) -> Outcome {
    if let Some(why) = t.limits.refusal(&request.method, &request.path) {
        return Outcome { principal: Some(principal), ..refused(error_response(403, &why)) };
    }
    let (response, usage) = if request.method == "GET" && t.reads_on_worker {
        t.provider.handle_measured(None, request)
    } else {
        let t = t.clone();
        let span = tracing::Span::current();
        let call = move || span.in_scope(|| t.provider.handle_measured(None, request));
        tokio::task::spawn_blocking(call).await.unwrap_or_else(|e| {
            tracing::error!("request task failed: {e}");
            (error_response(500, "the request could not be completed"), Usage::default())
        })
    };
    Outcome { response, principal: Some(principal), challenges: Vec::new(), usage: Some(usage) }
}

/// What is read and dropped of a body past its limit, at most, so that a client still sending sees the 413
/// instead of a connection reset under its feet; a body declared larger is answered at once.
const DRAIN_MAX: usize = 16 << 20;

/// The body when it is at most `limit` bytes; none when it is larger or its reading fails.
async fn read_body(headers: &HeaderMap, mut body: Body, limit: usize) -> Option<Bytes> {
    let declared = header(headers, "content-length").and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(DRAIN_MAX)) {
        return None;
    }
    let (mut kept, mut seen) = (Vec::new(), 0usize);
    while let Some(frame) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(data) = frame.ok()?.into_data() else { continue };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            kept.extend_from_slice(&data);
        } else if seen > limit.saturating_add(DRAIN_MAX) {
            break;
        }
    }
    (seen <= limit).then(|| Bytes::from(kept))
}

/// A 413 ends the connection: what remains of the body, if anything, is not read.
fn too_large(mut resp: Response) -> Response {
    resp.headers_mut().insert("connection", HeaderValue::from_static("close"));
    resp
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The answer to the client, and the request handed to the tenant's request log as it came: the log's writer
/// redacts it, off the request path. Bodies are shared, not copied, and kept only for authenticated requests:
/// anyone can send the others, as many as they like.
#[allow(clippy::too_many_arguments)]
fn finish(
    tenant: &Tenant,
    peer: SocketAddr,
    request_id: RequestId,
    parts: Parts,
    request_body: Bytes,
    outcome: Outcome,
    started: Instant,
) -> Response {
    let Outcome { response: HttpResponse { status, headers, body }, principal, challenges, .. } = outcome;
    let body = Bytes::from(body);
    let keep = principal.is_some();
    // A successful read answers what the database already holds: keeping its body would make every list cost a
    // copy, a redaction and a write of up to a page of resources, for nothing an audit needs.
    let read = parts.method == Method::GET || parts.uri.path().ends_with("/.search");
    let keep_response = keep && !(read && status < 400);
    let response_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .filter(|_| keep_response);
    tenant.log.record(request_log::Request {
        at_ms: now_ms(),
        client: peer.ip(),
        principal,
        method: parts.method,
        uri: parts.uri,
        status,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        headers: parts.headers,
        request_body: if keep { request_body } else { Bytes::new() },
        response_type,
        response_body: if keep_response { body.clone() } else { Bytes::new() },
        request_id: request_id.0,
    });
    http_response(status, headers, body, &challenges)
}

async fn token_default(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(rid): Extension<RequestId>,
    req: Request,
) -> Response {
    token(app, None, peer, rid, req).await
}

async fn token_named(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(rid): Extension<RequestId>,
    req: Request,
) -> Response {
    token(app, Some(name), peer, rid, req).await
}

/// The OAuth token endpoint of a tenant; its requests are logged with the tenant's others.
async fn token(app: Arc<App>, name: Option<String>, peer: SocketAddr, rid: RequestId, req: Request) -> Response {
    let started = Instant::now();
    let _in_flight = app.metrics.in_flight();
    let Some(tenant) = app.tenants.for_token_endpoint(name.as_deref()).cloned() else {
        return to_http(oauth_response(404, serde_json::json!({"error": "invalid_request"})), &[]);
    };
    let (parts, body) = req.into_parts();
    let peer = forwarded::client(&app.trusted_proxies, peer, &parts.headers);
    let Some(body) = read_body(&parts.headers, Body::new(body), 64 * 1024).await else {
        return too_large(to_http(oauth_response(413, serde_json::json!({"error": "invalid_request"})), &[]));
    };
    let authorization = header(&parts.headers, "authorization");
    let t = tenant.clone();
    let form = body.clone();
    let reply = tokio::task::spawn_blocking(move || {
        if !t.limits.allows_peer(peer.ip()) {
            return oauth::Reply {
                status: 403,
                body: serde_json::json!({"error": "access_denied"}),
                challenge_basic: false,
                retry_after: None,
            };
        }
        // A client secret costs a password hash: only while the client address has attempts left.
        let attempt = match throttle::attempt(peer.ip()) {
            Ok(attempt) => attempt,
            Err(wait) => return oauth::throttled(wait),
        };
        let reply = oauth::token(&t.auth, authorization.as_deref(), &form);
        if reply.status == 200 {
            attempt.succeeded();
        }
        reply
    })
    .await
    .unwrap_or_else(|_| oauth::Reply {
        status: 500,
        body: serde_json::json!({"error": "server_error"}),
        challenge_basic: false,
        retry_after: None,
    });
    let challenges = if reply.status == 401 && reply.challenge_basic {
        vec![format!("Basic realm=\"scimkit/{}\"", tenant.name)]
    } else {
        vec![]
    };
    let mut response = oauth_response(reply.status, reply.body);
    if let Some(wait) = reply.retry_after {
        response.headers.push(("Retry-After".into(), wait.as_secs().to_string()));
    }
    let principal = (reply.status == 200).then(|| "oauth2-client".to_string());
    let outcome = Outcome { response, principal, challenges, usage: None };
    app.metrics.request(&tenant.name, parts.method.as_str(), outcome.response.status, started.elapsed(), None);
    finish(&tenant, peer, rid, parts, body, outcome, started)
}

/// Token endpoint answers are never cached (RFC 6749 §5.1).
fn oauth_response(status: u16, body: serde_json::Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("Content-Type".into(), "application/json".into()), ("Cache-Control".into(), "no-store".into())],
        body: body.to_string().into_bytes(),
    }
}

fn to_http(resp: HttpResponse, challenges: &[String]) -> Response {
    http_response(resp.status, resp.headers, Bytes::from(resp.body), challenges)
}

fn http_response(status: u16, headers: Vec<(String, String)>, body: Bytes, challenges: &[String]) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = (status, body).into_response();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            out.headers_mut().insert(k, v);
        }
    }
    for c in challenges {
        if let Ok(v) = HeaderValue::try_from(c.as_str()) {
            out.headers_mut().append("www-authenticate", v);
        }
    }
    out
}
