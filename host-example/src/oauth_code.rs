//! The OAuth 2 authorization endpoint (RFC 6749 §4.1.1, PKCE S256 per RFC 7636) of a tenant with an
//! `oauth2-code` client: `GET /oauth/<tenant>/authorize` shows a consent page where the administrator signs in
//! (the admin credential of [`crate::auth::admin`]) and approves or denies; the browser is then sent back to
//! the client's redirect URI with a single-use code and the client's `state`, or with an error.
//!
//! An unknown client or a redirect URI not registered exactly is told on the page and never redirected to
//! (§4.1.2.1); every other error goes back to the client.

use crate::admin::esc;
use crate::app::App;
use crate::auth::{code, throttle};
use crate::forwarded;
use crate::tenants::Tenant;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/oauth/authorize", get(show_default).post(decide_default))
        .route("/oauth/{tenant}/authorize", get(show_named).post(decide_named))
}

/// The parameters of the grant that the page carries from its request to its form.
const PARAMETERS: &[&str] =
    &["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"];

type Form = Vec<(String, String)>;

fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
}

/// An authorization request whose client and redirect URI are known good.
struct Valid {
    client_id: String,
    redirect_uri: String,
    redirect_given: bool,
    state: Option<String>,
    challenge: String,
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;max-width:34em;margin:3em auto;color:#222}}\
         input{{display:block;margin:.3em 0 .8em;padding:.3em;width:20em}}button{{margin-right:1em;padding:.3em 1em}}\
         .error{{color:#b00}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
    // The form posts here and the answer redirects to the client, so no form-action limit.
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    resp
}

/// Sends the browser back to the client (303), with `params` added to the redirect URI's query.
fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let separator = if uri.contains('?') { '&' } else { '?' };
    let mut resp = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::try_from(format!("{uri}{separator}{query}")) {
        Ok(location) => {
            resp.headers_mut().insert("location", location);
            resp.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
            resp.headers_mut().insert("referrer-policy", HeaderValue::from_static("no-referrer"));
            resp
        }
        Err(_) => page(StatusCode::BAD_REQUEST, "Authorization failed", "<p>The redirect URI is not usable.</p>"),
    }
}

/// An error sent back to the client, with its `state` (§4.1.2.1).
fn client_error(v: &Valid, error: &str, description: &str) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = &v.state {
        params.push(("state", state));
    }
    redirect(&v.redirect_uri, &params)
}

/// Checks a request: its client and redirect URI first (errors shown here), then the rest (errors sent back).
/// The refusal is boxed: a response is large, and the valid case is the common one.
fn validate(tenant: &Tenant, form: &Form) -> Result<Valid, Box<Response>> {
    let shown =
        |text: &str| Box::new(page(StatusCode::BAD_REQUEST, "Authorization failed", &format!("<p>{}</p>", esc(text))));
    for name in PARAMETERS {
        if form.iter().filter(|(k, _)| k == name).count() > 1 {
            return Err(shown(&format!("The request repeats its {name} parameter.")));
        }
    }
    let client = field(form, "client_id").and_then(|id| tenant.auth.code_client_by_id(id));
    let Some(client) = client else { return Err(shown("The client is not registered with this service.")) };
    let given = field(form, "redirect_uri");
    let Some(redirect_uri) = client.redirect_uri(given) else {
        return Err(shown("The redirect URI is not one registered for this client."));
    };
    let v = Valid {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_given: given.is_some(),
        state: field(form, "state").map(str::to_string),
        challenge: field(form, "code_challenge").unwrap_or("").to_string(),
    };
    if field(form, "response_type") != Some("code") {
        return Err(Box::new(client_error(&v, "unsupported_response_type", "only response_type=code is supported")));
    }
    if field(form, "code_challenge_method") != Some("S256") || !code::valid_challenge(&v.challenge) {
        let why = "a PKCE code_challenge with code_challenge_method=S256 is required";
        return Err(Box::new(client_error(&v, "invalid_request", why)));
    }
    Ok(v)
}

fn consent(tenant: &Tenant, form: &Form, status: StatusCode, message: Option<&str>) -> Response {
    let client = field(form, "client_id").unwrap_or("");
    let mut hidden = String::new();
    for name in PARAMETERS {
        if let Some(value) = field(form, name) {
            hidden.push_str(&format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", esc(value)));
        }
    }
    let message = message.map(|m| format!("<p class=\"error\" id=\"error\">{}</p>", esc(m))).unwrap_or_default();
    let body = format!(
        "<p>The application <strong id=\"client\">{client}</strong> asks to read and change the users and groups of \
         <strong>{tenant}</strong>.</p><p>Sign in as the administrator to answer.</p>{message}\
         <form method=\"post\">{hidden}\
         <label>User name<input name=\"username\" value=\"admin\" autocomplete=\"username\"></label>\
         <label>Password<input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\"></label>\
         <button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></form>",
        client = esc(client),
        tenant = esc(&tenant.name),
    );
    page(status, "Authorize access", &body)
}

fn tenant_of(app: &App, name: Option<&str>) -> Option<Arc<Tenant>> {
    app.tenants.for_token_endpoint(name).cloned()
}

fn no_tenant() -> Response {
    page(StatusCode::NOT_FOUND, "Authorization failed", "<p>There is no such service.</p>")
}

async fn show_default(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    show(app, None, query)
}

async fn show_named(State(app): State<Arc<App>>, Path(name): Path<String>, RawQuery(query): RawQuery) -> Response {
    show(app, Some(name), query)
}

fn show(app: Arc<App>, name: Option<String>, query: Option<String>) -> Response {
    let Some(tenant) = tenant_of(&app, name.as_deref()) else { return no_tenant() };
    let Ok(form) = serde_urlencoded::from_str::<Form>(query.as_deref().unwrap_or("")) else {
        return page(StatusCode::BAD_REQUEST, "Authorization failed", "<p>The request does not parse.</p>");
    };
    if let Err(refusal) = validate(&tenant, &form) {
        return *refusal;
    }
    if !app.admin.enabled() {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Authorization unavailable",
            "<p>No administrator can approve: set a password with <code>scimkit admin set-password</code>.</p>",
        );
    }
    consent(&tenant, &form, StatusCode::OK, None)
}

async fn decide_default(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    decide(app, None, peer, headers, body).await
}

async fn decide_named(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    decide(app, Some(name), peer, headers, body).await
}

/// The consent form's answer: deny, or sign in and approve.
async fn decide(app: Arc<App>, name: Option<String>, peer: SocketAddr, headers: HeaderMap, body: Bytes) -> Response {
    let Some(tenant) = tenant_of(&app, name.as_deref()) else { return no_tenant() };
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(&body) else {
        return page(StatusCode::BAD_REQUEST, "Authorization failed", "<p>The form does not parse.</p>");
    };
    let v = match validate(&tenant, &form) {
        Ok(v) => v,
        Err(refusal) => return *refusal,
    };
    if field(&form, "decision") != Some("approve") {
        return client_error(&v, "access_denied", "the administrator denied the request");
    }
    let peer = forwarded::client(&app.trusted_proxies, peer, &headers);
    // The admin password costs a hash: only while the address has attempts left, as for SCIM clients.
    let attempt = match throttle::attempt(peer.ip()) {
        Ok(a) => a,
        Err(wait) => {
            let mut r =
                consent(&tenant, &form, StatusCode::TOO_MANY_REQUESTS, Some("Too many failed sign-ins; retry later."));
            if let Ok(v) = HeaderValue::try_from(wait.as_secs().to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            return r;
        }
    };
    let (user, password) =
        (field(&form, "username").unwrap_or("").to_string(), field(&form, "password").unwrap_or("").to_string());
    let checker = app.clone();
    let signed_in =
        tokio::task::spawn_blocking(move || checker.admin.accepts_password(&user, &password)).await.unwrap_or(false);
    if !signed_in {
        return consent(&tenant, &form, StatusCode::FORBIDDEN, Some("The user name or password is wrong."));
    }
    attempt.succeeded();
    let approval = code::Approval {
        client_id: v.client_id.clone(),
        redirect_uri: v.redirect_uri.clone(),
        redirect_given: v.redirect_given,
        challenge: v.challenge.clone(),
    };
    let Some(code) = tenant.auth.codes.issue(approval) else {
        return client_error(&v, "temporarily_unavailable", "too many authorizations are waiting; retry later");
    };
    tracing::info!(tenant = %tenant.name, client = %v.client_id, "the administrator approved an authorization request");
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &v.state {
        params.push(("state", state));
    }
    redirect(&v.redirect_uri, &params)
}
