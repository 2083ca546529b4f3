//! The HTTP front: axum routes `/scim/v2/...` to the engine, after authentication.

use crate::auth::BearerToken;
use crate::bindings::{HttpRequest, HttpResponse};
use crate::runtime::{error_response, Provider};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use std::sync::Arc;

pub const BASE_PATH: &str = "/scim/v2";

pub struct App {
    pub provider: Provider,
    pub token: BearerToken,
    /// Bodies larger than this are refused before reaching the engine.
    pub max_body_bytes: usize,
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(BASE_PATH, any(scim))
        .route(&format!("{BASE_PATH}/{{*rest}}"), any(scim))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(app)
}

async fn scim(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let auth = parts.headers.get("authorization").and_then(|v| v.to_str().ok());
    if !app.token.accepts(auth) {
        let mut resp = to_http(error_response(401, "authentication required: send Authorization: Bearer <token>"));
        resp.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer realm=\"scimkit\""));
        return resp;
    }
    let body = match to_bytes(Body::new(body), app.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return to_http(error_response(413, &format!("the body exceeds the limit of {} bytes", app.max_body_bytes))),
    };
    let path = parts.uri.path().strip_prefix(BASE_PATH).unwrap_or("/");
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: if path.is_empty() { "/".into() } else { path.to_string() },
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .filter(|(k, _)| *k != "authorization")
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: (!body.is_empty()).then(|| body.to_vec()),
    };
    let app2 = app.clone();
    match tokio::task::spawn_blocking(move || app2.provider.handle(None, request)).await {
        Ok(resp) => to_http(resp),
        Err(e) => {
            tracing::error!("request task failed: {e}");
            to_http(error_response(500, "the request could not be completed"))
        }
    }
}

fn to_http(resp: HttpResponse) -> Response {
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = (status, resp.body).into_response();
    for (k, v) in resp.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            out.headers_mut().insert(k, v);
        }
    }
    out
}
