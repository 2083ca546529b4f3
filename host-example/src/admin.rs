//! The read-only admin page at `/admin`: tenants, their recent requests (filtered by status, method and
//! path), one request's redacted bodies, and the tenant's users and groups. Plain server-rendered HTML with
//! no external assets; every value shown is escaped.
//!
//! It has its own credential ([`crate::auth::admin`]), its Basic passwords throttled per client address like
//! the SCIM clients' ([`crate::auth::throttle`]). Without one, the page is off.

use crate::app::App;
use crate::forwarded;
use crate::request_log::{Entry, Filter};
use crate::tenants::Tenant;
use axum::extract::{ConnectInfo, Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use scimkit_runtime::bindings::{Query, Stored};
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/", get(overview))
        .route("/admin/tenants/{name}", get(tenant_page))
        .route("/admin/tenants/{name}/requests/{id}", get(request_page))
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value or path segment.
fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|q| q[1..].to_string()).unwrap_or_default()
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}\
pre{background:#f7f7f7;border:1px solid #ddd;padding:8px;overflow:auto;max-height:40em}.s4,.s5{color:#b00;font-weight:bold}\
form{margin:.5em 0}input,select{margin-right:.5em}a{color:#0645ad}";

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · scimkit admin</title><style>{STYLE}</style></head>\
         <body><p><a href=\"/admin\">scimkit admin</a></p><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    let mut resp = (StatusCode::OK, html).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    resp
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut resp = (status, text.to_string()).into_response();
    resp.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
    resp
}

/// Checks the admin credential of `client`: the response to send instead of the page, if any.
fn refusal(app: &App, client: IpAddr, headers: &HeaderMap) -> Option<Response> {
    if !app.admin.enabled() {
        return Some(plain(
            StatusCode::NOT_FOUND,
            "the admin page is off: set a password with `scimkit admin set-password` or SCIMKIT_ADMIN_TOKEN",
        ));
    }
    let accepted = match app.admin.accepts_from(client, headers) {
        Ok(accepted) => accepted,
        Err(wait) => {
            let mut resp =
                plain(StatusCode::TOO_MANY_REQUESTS, "too many failed authentications from this address; retry later");
            resp.headers_mut().insert("retry-after", HeaderValue::from(wait.as_secs()));
            return Some(resp);
        }
    };
    if !accepted {
        let mut resp = plain(StatusCode::UNAUTHORIZED, "admin credentials required");
        resp.headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Basic realm=\"scimkit admin\", charset=\"UTF-8\""));
        return Some(resp);
    }
    None
}

/// Runs blocking reads (argon2, SQLite) off the async workers.
async fn blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "the page could not be made"))
}

/// The client's address, as the SCIM routes see it (behind trusted proxies, the forwarded one).
fn client(app: &App, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    forwarded::client(&app.trusted_proxies, peer, headers).ip()
}

async fn overview(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    blocking(move || {
        if let Some(r) = refusal(&app, client(&app, peer, &headers), &headers) {
            return r;
        }
        let mut b = String::from("<table><tr><th>tenant</th><th>SCIM base</th><th>authentication</th><th>limits</th><th>users</th><th>groups</th><th>logged requests</th></tr>");
        for t in &app.tenants.list {
            let methods: Vec<&str> = t.config.auth.iter().map(|m| m.label()).collect();
            let methods = if methods.is_empty() { "bearer".to_string() } else { methods.join(", ") };
            let logged = t.log.reader().and_then(|r| r.count()).map(|n| n.to_string()).unwrap_or_else(|e| format!("error: {e}"));
            let _ = write!(
                b,
                "<tr><td><a href=\"/admin/tenants/{}\">{}</a>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                enc(&t.name),
                esc(&t.name),
                if t.is_default { " (default)" } else { "" },
                esc(&t.base_url),
                esc(&methods),
                esc(&limits_text(t)),
                total(t, "User"),
                total(t, "Group"),
                esc(&logged)
            );
        }
        b.push_str("</table>");
        page("Tenants", &b)
    })
    .await
}

fn limits_text(t: &Tenant) -> String {
    let c = &t.config;
    let mut parts = Vec::new();
    if c.read_only {
        parts.push("read-only".to_string());
    }
    if let Some(types) = &c.resource_types {
        parts.push(format!("types: {}", types.join(", ")));
    }
    if !c.allow_networks.is_empty() {
        parts.push(format!(
            "networks: {}",
            c.allow_networks.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    parts.push(format!("passwords: {:?}", c.passwords).to_lowercase());
    parts.join("; ")
}

fn search(t: &Tenant, rtype: &str, count: u32) -> Result<(Vec<Stored>, u64), String> {
    let q =
        Query { resource_type: rtype.into(), filter: None, sort: None, start_index: 1, count, without_members: true };
    let page = t.storage.search(&q).map_err(|e| format!("{e:?}"))?;
    let total = page.total().unwrap_or(page.items.len() as u64);
    let mut items = page.items;
    items.truncate(count as usize);
    Ok((items, total))
}

fn total(t: &Tenant, rtype: &str) -> String {
    search(t, rtype, 0).map(|(_, n)| n.to_string()).unwrap_or_else(|e| esc(&e))
}

#[derive(serde::Deserialize)]
struct LogParams {
    status: Option<String>,
    method: Option<String>,
    path: Option<String>,
}

async fn tenant_page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
    UrlQuery(p): UrlQuery<LogParams>,
) -> Response {
    blocking(move || {
        if let Some(r) = refusal(&app, client(&app, peer, &headers), &headers) {
            return r;
        }
        let Some(t) = app.tenants.by_name(&name) else { return plain(StatusCode::NOT_FOUND, "no such tenant") };
        let filter = Filter { status: p.status.clone(), method: p.method.clone(), path: p.path.clone(), after: None, limit: 100 };
        let mut b = format!("<p>SCIM base: <code>{}</code></p>", esc(&t.base_url));
        deliveries(&mut b, t);
        b.push_str("<h2>Recent requests</h2>");
        let methods = ["", "GET", "POST", "PUT", "PATCH", "DELETE"];
        let method_options: String = methods
            .iter()
            .map(|m| {
                let sel = if p.method.as_deref().unwrap_or("").eq_ignore_ascii_case(m) { " selected" } else { "" };
                format!("<option value=\"{m}\"{sel}>{}</option>", if m.is_empty() { "any method" } else { m })
            })
            .collect();
        let _ = write!(
            b,
            "<form method=\"get\"><label>status <input name=\"status\" size=\"5\" placeholder=\"4xx\" value=\"{}\"></label>\
             <select name=\"method\">{method_options}</select><label>path contains <input name=\"path\" value=\"{}\"></label>\
             <button type=\"submit\">filter</button></form>",
            esc(p.status.as_deref().unwrap_or("")),
            esc(p.path.as_deref().unwrap_or(""))
        );
        match t.log.reader().and_then(|r| r.list(&filter)) {
            Err(e) => {
                let _ = write!(b, "<p class=\"s4\">{}</p>", esc(&format!("{e:#}")));
            }
            Ok(entries) if entries.is_empty() => b.push_str("<p>No request matches.</p>"),
            Ok(entries) => {
                b.push_str("<table id=\"requests\"><tr><th>time (UTC)</th><th>client</th><th>principal</th><th>method</th><th>path</th><th>status</th><th>ms</th></tr>");
                for e in entries {
                    let _ = write!(
                        b,
                        "<tr><td><a class=\"request\" href=\"/admin/tenants/{}/requests/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"s{}\">{}</td><td>{:.1}</td></tr>",
                        enc(&t.name),
                        e.id,
                        esc(&e.time()),
                        esc(&e.client),
                        esc(e.principal.as_deref().unwrap_or("")),
                        esc(&e.method),
                        esc(&e.path),
                        e.status / 100,
                        e.status,
                        e.duration_ms
                    );
                }
                b.push_str("</table>");
            }
        }
        resources(&mut b, t, "User", "Users", &["userName", "displayName", "active", "externalId"]);
        resources(&mut b, t, "Group", "Groups", &["displayName", "externalId"]);
        page(&format!("Tenant {}", t.name), &b)
    })
    .await
}

const SHOWN: u32 = 100;

/// The state of each event receiver: delivered, waiting, failed attempts and the last error.
fn deliveries(b: &mut String, t: &Tenant) {
    use std::sync::atomic::Ordering::Relaxed;
    if t.deliveries.is_empty() {
        return;
    }
    b.push_str("<h2>Event receivers</h2><table id=\"events\"><tr><th>receiver</th><th>format</th><th>delivered</th><th>pending</th><th>failed attempts</th><th>rejected</th><th>last error</th></tr>");
    for d in &t.deliveries {
        let error = d.last_error.lock().unwrap().clone().unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.url),
            d.format,
            d.delivered.load(Relaxed),
            d.pending(),
            d.failures.load(Relaxed),
            d.rejected.load(Relaxed),
            esc(&error)
        );
    }
    b.push_str("</table>");
}

fn resources(b: &mut String, t: &Tenant, rtype: &str, title: &str, columns: &[&str]) {
    let (items, total) = match search(t, rtype, SHOWN) {
        Ok(r) => r,
        Err(e) => {
            let _ = write!(b, "<h2>{title}</h2><p class=\"s4\">{}</p>", esc(&e));
            return;
        }
    };
    let _ = write!(b, "<h2>{title} ({total})</h2>");
    if items.is_empty() {
        b.push_str("<p>None.</p>");
        return;
    }
    if total > u64::from(SHOWN) {
        let _ = write!(b, "<p>The first {SHOWN} are shown.</p>");
    }
    let _ = write!(b, "<table id=\"{}\"><tr><th>id</th>", title.to_lowercase());
    for c in columns {
        let _ = write!(b, "<th>{c}</th>");
    }
    b.push_str("</tr>");
    for item in items {
        let data: serde_json::Value = serde_json::from_str(&item.data).unwrap_or_default();
        let _ = write!(b, "<tr><td>{}</td>", esc(&item.id));
        for c in columns {
            let v = match &data[*c] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(b, "<td>{}</td>", esc(&v));
        }
        b.push_str("</tr>");
    }
    b.push_str("</table>");
}

async fn request_page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, i64)>,
) -> Response {
    blocking(move || {
        if let Some(r) = refusal(&app, client(&app, peer, &headers), &headers) {
            return r;
        }
        let Some(t) = app.tenants.by_name(&name) else { return plain(StatusCode::NOT_FOUND, "no such tenant") };
        let entry: Entry = match t.log.reader().and_then(|r| r.get(id)) {
            Ok(Some(e)) => e,
            Ok(None) => return plain(StatusCode::NOT_FOUND, "no such request (it may have been pruned)"),
            Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}")),
        };
        let mut b = format!("<p><a href=\"/admin/tenants/{}\">back to {}</a></p><table>", enc(&t.name), esc(&t.name));
        for (k, v) in [
            ("time (UTC)", entry.time()),
            ("client", entry.client.clone()),
            ("principal", entry.principal.clone().unwrap_or_default()),
            ("request", format!("{} {}", entry.method, entry.path)),
            ("status", entry.status.to_string()),
            ("duration", format!("{:.1} ms", entry.duration_ms)),
            ("request id", entry.request_id.clone().unwrap_or_default()),
        ] {
            let _ = write!(b, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
        }
        b.push_str("</table><h2>Request headers</h2><table>");
        let headers: Vec<(String, String)> = serde_json::from_str(&entry.request_headers).unwrap_or_default();
        for (k, v) in headers {
            let _ = write!(b, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
        }
        let none = "(none)".to_string();
        let _ = write!(
            b,
            "</table><h2>Request body</h2><pre id=\"request-body\">{}</pre><h2>Response body</h2><pre id=\"response-body\">{}</pre>",
            esc(entry.request_body.as_ref().unwrap_or(&none)),
            esc(entry.response_body.as_ref().unwrap_or(&none))
        );
        page(&format!("Request {} of {}", entry.id, t.name), &b)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(esc("<script>\"a\"&'b'</script>"), "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;");
        assert_eq!(enc("a b/c"), "a+b%2Fc");
    }
}
