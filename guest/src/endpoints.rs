//! Routing and the resource endpoints (RFC 7644 §3): create, read, replace, delete and list.

use crate::conditional;
use crate::config::Config;
use crate::error::{self as err, ErrorKind, ScimError, ScimResult};
use crate::filter::{self, Filter};
use crate::http::{Request, Response};
use crate::membership;
use crate::projection::Projection;
use crate::resource::{self, etag, location, render};
use crate::schema::{discovery, ResourceType};
use crate::store::{Applied, Query, Store, Stored, Update};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

/// Everything one request works with.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub store: &'a mut dyn Store,
    pub now: DateTime<Utc>,
    pub principal: Option<&'a str>,
}

impl Ctx<'_> {
    pub(crate) fn now_text(&self) -> String {
        self.now.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

pub fn handle(ctx: &mut Ctx, req: &Request) -> Response {
    match route(ctx, req) {
        Ok(resp) => resp,
        Err(e) => {
            let resp = Response::error(&e);
            match crate::allow::allowed(ctx.cfg, &req.path) {
                Some(methods) if e.kind == ErrorKind::MethodNotAllowed => resp.with_header("Allow", methods),
                _ => resp,
            }
        }
    }
}

fn route(ctx: &mut Ctx, req: &Request) -> ScimResult<Response> {
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let limit = match segments.as_slice() {
        ["Bulk"] => ctx.cfg.limits.bulk_max_payload_bytes,
        _ => ctx.cfg.limits.max_body_bytes,
    };
    if req.body.as_ref().is_some_and(|b| b.len() > limit) {
        return Err(err::payload_too_large(format!("the body exceeds the limit of {limit} bytes")));
    }
    let method = req.method.to_ascii_uppercase();
    let cfg = ctx.cfg;
    let get_only = |m: &str| if m == "GET" { Ok(()) } else { Err(err::method_not_allowed(format!("{m} is not allowed here; use GET"))) };
    match segments.as_slice() {
        ["ServiceProviderConfig"] => {
            get_only(&method)?;
            Ok(Response::json(200, &discovery::service_provider_config(cfg)))
        }
        ["ResourceTypes"] | ["ResourceTypes", _] => {
            get_only(&method)?;
            Ok(Response::json(200, &discovery::resource_types(cfg, segments.get(1).copied())?))
        }
        ["Schemas"] | ["Schemas", _] => {
            get_only(&method)?;
            Ok(Response::json(200, &discovery::schemas(cfg, segments.get(1).copied())?))
        }
        ["Bulk"] => crate::bulk::handle(ctx, req),
        ["Me", ..] => {
            let target = crate::me::target(ctx, req)?;
            route(ctx, &target)
        }
        [".search"] => match method.as_str() {
            "POST" => search_all(ctx, ListParams::from_search_body(cfg, req)?),
            m => Err(err::method_not_allowed(format!("{m} is not allowed on /.search; use POST"))),
        },
        [endpoint, rest @ ..] if rest.len() <= 1 => {
            let rt = cfg
                .registry
                .by_endpoint(endpoint)
                .ok_or_else(|| err::not_found(format!("no endpoint /{endpoint}")))?;
            match (rest.first().copied(), method.as_str()) {
                (None, "GET") => list(ctx, rt, ListParams::from_query(cfg, req)?),
                (None, "POST") => create(ctx, rt, req),
                (Some(".search"), "POST") => list(ctx, rt, ListParams::from_search_body(cfg, req)?),
                (Some(id), "GET") => get(ctx, rt, id, req),
                (Some(id), "PUT") => replace(ctx, rt, id, req),
                (Some(id), "DELETE") => delete(ctx, rt, id, req),
                (Some(id), "PATCH") => crate::patch::patch(ctx, rt, id, req),
                (_, m) => Err(err::method_not_allowed(format!("{m} is not allowed on {}", req.path))),
            }
        }
        _ => Err(err::not_found(format!("no endpoint {}", req.path))),
    }
}

/// The JSON body of a request: 415 when declared as something else, 400 `invalidSyntax` when malformed.
pub fn json_body(req: &Request) -> ScimResult<Value> {
    crate::media::check_content_type(req)?;
    let body = req.body.as_deref().unwrap_or_default();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(err::invalid_syntax("the request needs a JSON body"));
    }
    serde_json::from_slice(body).map_err(|e| err::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

pub(crate) fn single(ctx: &mut Ctx, rt: &ResourceType, status: u16, stored: &Stored, projection: &Projection) -> ScimResult<Response> {
    let body = shown(ctx, rt, render(ctx.cfg, rt, stored)?, projection)?;
    Ok(Response::json(status, &body).with_header("ETag", etag(&stored.version)))
}

/// A rendered resource as the client sees it: computed attributes added (only when they will be shown),
/// then the projection applied.
pub(crate) fn shown(ctx: &mut Ctx, rt: &ResourceType, resource: Value, projection: &Projection) -> ScimResult<Value> {
    let mut all = shown_all(ctx, rt, vec![resource], projection)?;
    Ok(all.pop().expect("one in, one out"))
}

/// [`shown`] for a page of resources, with the computed `groups` of the whole page found together.
fn shown_all(ctx: &mut Ctx, rt: &ResourceType, mut resources: Vec<Value>, projection: &Projection) -> ScimResult<Vec<Value>> {
    if membership::computes_groups(ctx.cfg, rt) && projection.may_show_core("groups") {
        let ids: Vec<&str> = resources.iter().map(|r| r.get("id").and_then(Value::as_str).unwrap_or_default()).collect();
        let groups = membership::groups_of_each(ctx.cfg, ctx.store, &ids)?;
        for (resource, groups) in resources.iter_mut().zip(groups) {
            if !groups.is_empty() {
                resource["groups"] = Value::Array(groups);
            }
        }
    }
    Ok(resources.into_iter().map(|r| projection.apply(ctx.cfg, rt, r)).collect())
}

/// True when the response shows `members`: only then storage is asked to load them (a User has none, and
/// loading nothing still costs a SQL host one query per resource).
pub(crate) fn shows_members(cfg: &Config, rt: &ResourceType, projection: &Projection) -> bool {
    resource::has_members(cfg, rt) && !projection.excludes_members()
}

pub(crate) fn projection_of(cfg: &Config, rt: &ResourceType, req: &Request) -> Projection {
    let params = req.params();
    let find = |name: &str| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    Projection::from_params(cfg, rt, find("attributes"), find("excludedAttributes"))
}

pub(crate) fn stamp_meta(data: &mut Map<String, Value>, created: Option<Value>, now: &str) {
    let created = created.unwrap_or_else(|| json!(now));
    data.insert("meta".into(), json!({"created": created, "lastModified": now}));
}

fn create(ctx: &mut Ctx, rt: &ResourceType, req: &Request) -> ScimResult<Response> {
    let body = json_body(req)?;
    let mut prepared = resource::ingest(ctx.cfg, rt, body, None)?;
    let projection = projection_of(ctx.cfg, rt, req).with_sent(ctx.cfg, rt, &prepared.data);
    stamp_meta(&mut prepared.data, None, &ctx.now_text());
    let data = Value::Object(prepared.data).to_string();
    let members = prepared.members.unwrap_or_default();
    let mut stored = ctx.store.create(&rt.name, &data, &prepared.unique, &members)?;
    stored.members = Some(members);
    let resp = single(ctx, rt, 201, &stored, &projection)?;
    Ok(resp.with_header("Location", location(ctx.cfg, rt, &stored.id)))
}

pub(crate) fn fetch(ctx: &mut Ctx, rt: &ResourceType, id: &str, with_members: bool) -> ScimResult<Stored> {
    ctx.store
        .get(&rt.name, id, with_members)?
        .ok_or_else(|| err::not_found(format!("{} {id} not found", rt.name)))
}

fn get(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request) -> ScimResult<Response> {
    let projection = projection_of(ctx.cfg, rt, req);
    let stored = fetch(ctx, rt, id, shows_members(ctx.cfg, rt, &projection))?;
    if conditional::none_match(req, &stored.version) {
        return Ok(Response::empty(304).with_header("ETag", etag(&stored.version)));
    }
    single(ctx, rt, 200, &stored, &projection)
}

fn replace(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request) -> ScimResult<Response> {
    let body = json_body(req)?;
    let current = fetch(ctx, rt, id, false)?;
    let mut old: Map<String, Value> = serde_json::from_str(&current.data)
        .map_err(|_| err::internal(format!("stored {} {id} is not a JSON object", rt.name)))?;
    let mut prepared = resource::ingest(ctx.cfg, rt, body, Some(&old))?;
    let projection = projection_of(ctx.cfg, rt, req).with_sent(ctx.cfg, rt, &prepared.data);
    let created = old.remove("meta").and_then(|m| m.get("created").cloned());
    stamp_meta(&mut prepared.data, created, &ctx.now_text());
    let members = prepared.members;
    let change = Update {
        resource_type: rt.name.clone(),
        id: id.to_string(),
        data: Some(Value::Object(prepared.data).to_string()),
        unique: prepared.unique,
        clear_members: members.is_some(),
        remove_members: vec![],
        add_members: members.clone().unwrap_or_default(),
        // Without If-Match the write is still conditional on the version read, so a concurrent change is
        // never silently overwritten.
        if_version: Some(conditional::expected_version(req, &current.version)?),
    };
    let mut stored = ctx.store.update(&change)?;
    stored.members = match members {
        Some(m) => Some(m),
        None if shows_members(ctx.cfg, rt, &projection) => {
            fetch(ctx, rt, id, true)?.members
        }
        None => None,
    };
    single(ctx, rt, 200, &stored, &projection)
}

fn delete(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request) -> ScimResult<Response> {
    let if_version = match req.header("if-match") {
        Some(_) => Some(conditional::expected_version(req, &fetch(ctx, rt, id, false)?.version)?),
        None => None,
    };
    ctx.store.delete(&rt.name, id, if_version.as_deref()).map_err(|e| match e {
        crate::store::StoreError::NotFound => err::not_found(format!("{} {id} not found", rt.name)),
        other => ScimError::from(other),
    })?;
    Ok(Response::empty(204))
}

/// The parameters of a list or search (RFC 7644 §3.4.2).
#[derive(Debug, Default)]
pub struct ListParams {
    pub filter: Option<Filter>,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub start_index: u32,
    pub count: Option<u32>,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

impl ListParams {
    fn from_query(cfg: &Config, req: &Request) -> ScimResult<ListParams> {
        let mut p = ListParams { start_index: 1, ..Default::default() };
        for (key, value) in req.params() {
            match key.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(parse_filter(cfg, &value)?),
                "sortby" => p.sort_by = Some(value),
                "sortorder" => p.descending = sort_order(&value)?,
                "startindex" => p.start_index = start_index(&value)?,
                "count" => p.count = Some(count(&value)?),
                "attributes" => p.attributes = value.split(',').map(str::to_string).collect(),
                "excludedattributes" => p.excluded = value.split(',').map(str::to_string).collect(),
                _ => {}
            }
        }
        Ok(p)
    }

    fn from_search_body(cfg: &Config, req: &Request) -> ScimResult<ListParams> {
        let body = json_body(req)?;
        let Value::Object(obj) = body else { return Err(err::invalid_syntax("a search request must be an object")) };
        let mut p = ListParams { start_index: 1, ..Default::default() };
        let text = |v: &Value| v.as_str().map(str::to_string).ok_or_else(|| err::invalid_value("expected a string"));
        let list = |v: &Value| -> ScimResult<Vec<String>> {
            match v {
                Value::Array(items) => items.iter().map(text).collect(),
                Value::String(s) => Ok(s.split(',').map(str::to_string).collect()),
                _ => Err(err::invalid_value("expected a list of attribute names")),
            }
        };
        let number = |v: &Value| match v {
            Value::Number(n) => Ok(n.to_string()),
            Value::String(s) => Ok(s.clone()),
            _ => Err(err::invalid_value("expected a number")),
        };
        for (key, value) in &obj {
            match key.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(parse_filter(cfg, &text(value)?)?),
                "sortby" => p.sort_by = Some(text(value)?),
                "sortorder" => p.descending = sort_order(&text(value)?)?,
                "startindex" => p.start_index = start_index(&number(value)?)?,
                "count" => p.count = Some(count(&number(value)?)?),
                "attributes" => p.attributes = list(value)?,
                "excludedattributes" => p.excluded = list(value)?,
                _ => {}
            }
        }
        Ok(p)
    }
}

/// A filter within the configured length and nesting limits.
fn parse_filter(cfg: &Config, text: &str) -> ScimResult<Filter> {
    filter::parse_filter_with(text, cfg.limits.max_filter_length, cfg.limits.max_filter_depth)
}

fn sort_order(v: &str) -> ScimResult<bool> {
    match v.to_ascii_lowercase().as_str() {
        "ascending" => Ok(false),
        "descending" => Ok(true),
        _ => Err(err::bad_request(format!("sortOrder must be ascending or descending, not {v:?}"))),
    }
}

/// RFC 7644 §3.4.2.4: a startIndex below 1 is taken as 1.
fn start_index(v: &str) -> ScimResult<u32> {
    let n: i64 = v.trim().parse().map_err(|_| err::bad_request(format!("startIndex must be an integer, not {v:?}")))?;
    Ok(n.clamp(1, u32::MAX as i64) as u32)
}

/// RFC 7644 §3.4.2.4: a negative count is taken as 0.
fn count(v: &str) -> ScimResult<u32> {
    let n: i64 = v.trim().parse().map_err(|_| err::bad_request(format!("count must be an integer, not {v:?}")))?;
    Ok(n.clamp(0, u32::MAX as i64) as u32)
}

fn list_response(start_index: u32, total: u64, resources: Vec<Value>) -> Response {
    let body = json!({
        "schemas": [discovery::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    Response::json(200, &body)
}

fn page_size(cfg: &Config, p: &ListParams) -> u32 {
    p.count.unwrap_or(cfg.limits.max_results).min(cfg.limits.max_results)
}

fn list(ctx: &mut Ctx, rt: &ResourceType, p: ListParams) -> ScimResult<Response> {
    let count = page_size(ctx.cfg, &p);
    let (resources, total) = query_type(ctx, rt, &p, p.start_index, count)?;
    Ok(list_response(p.start_index, total, resources))
}

/// `POST /.search` at the root: every resource type, one after the other, paged as one list.
fn search_all(ctx: &mut Ctx, p: ListParams) -> ScimResult<Response> {
    let count = page_size(ctx.cfg, &p);
    let types: Vec<ResourceType> = ctx.cfg.registry.resource_types.clone();
    let mut skip = u64::from(p.start_index - 1);
    let (mut resources, mut total) = (Vec::new(), 0u64);
    for rt in &types {
        let want = count.saturating_sub(resources.len() as u32);
        let start = u32::try_from(skip + 1).unwrap_or(u32::MAX);
        let (items, n) = query_type(ctx, rt, &p, start, want)?;
        skip = skip.saturating_sub(n);
        total += n;
        resources.extend(items);
    }
    Ok(list_response(p.start_index, total, resources))
}

/// One page of one resource type, projected, and the total number of matches.
fn query_type(ctx: &mut Ctx, rt: &ResourceType, p: &ListParams, start_index: u32, count: u32) -> ScimResult<(Vec<Value>, u64)> {
    let cfg = ctx.cfg;
    let projection = Projection::new(cfg, rt, &p.attributes, &p.excluded);
    let flat = p.filter.as_ref().map(|f| filter::flatten(cfg, rt, f)).transpose()?;
    let sort_spec = p.sort_by.as_deref().map(|s| filter::SortSpec::resolve(cfg, rt, s)).transpose()?;
    let sort = sort_spec.as_ref().map(|s| s.key(p.descending));
    let query = Query {
        resource_type: rt.name.clone(),
        filter: flat,
        sort,
        start_index,
        count,
        without_members: !shows_members(cfg, rt, &projection),
    };
    let page = ctx.store.search(&query)?;
    let (items, total) = match page.applied {
        Applied::Everything => {
            let total = page.total.unwrap_or(page.items.len() as u64);
            let rendered = page.items.iter().map(|s| render(cfg, rt, s)).collect::<ScimResult<Vec<_>>>()?;
            (rendered, total)
        }
        applied => {
            let mut rendered = Vec::with_capacity(page.items.len());
            for s in &page.items {
                let r = render(cfg, rt, s)?;
                let keep = match (&p.filter, applied) {
                    (Some(f), Applied::Nothing) => filter::matches(cfg, rt, f, &r)?,
                    _ => true,
                };
                if keep {
                    rendered.push(r);
                }
            }
            if let Some(spec) = &sort_spec {
                sort_values(&mut rendered, spec, p.descending);
            }
            let total = rendered.len() as u64;
            let skip = (start_index - 1) as usize;
            let page: Vec<Value> = rendered.into_iter().skip(skip).take(count as usize).collect();
            (page, total)
        }
    };
    Ok((shown_all(ctx, rt, items, &projection)?, total))
}

/// Orders rendered resources by `sortBy` (RFC 7644 §3.4.2.3), keeping creation order among equals; resources
/// without the attribute come last ascending, first descending.
fn sort_values(items: &mut [Value], spec: &filter::SortSpec, descending: bool) {
    if descending {
        items.sort_by_cached_key(|v| std::cmp::Reverse(spec.value(v)));
    } else {
        items.sort_by_cached_key(|v| spec.value(v));
    }
}
