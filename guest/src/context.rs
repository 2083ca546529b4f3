//! What every request handler works with: the request context and the helpers that read a request's body and
//! parameters, load a resource and shape the response.

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::http::{Request, Response};
use crate::membership;
use crate::projection::{verbatim, Projection};
use crate::resource::{self, etag, paged, render};
use crate::schema::ResourceType;
use crate::store::{Store, Stored};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

/// Everything one request works with.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub store: &'a mut dyn Store,
    /// The host's say on writes, and what it is told of them.
    pub hooks: &'a mut dyn crate::events::Hooks,
    pub now: DateTime<Utc>,
    pub principal: Option<&'a str>,
}

impl Ctx<'_> {
    pub(crate) fn now_text(&self) -> String {
        self.now.to_rfc3339_opts(SecondsFormat::Millis, true)
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

/// One resource as the response shows it. Members that storage did not send, when shown, are read from
/// storage a page at a time.
pub(crate) fn single(
    ctx: &mut Ctx,
    rt: &ResourceType,
    status: u16,
    stored: &Stored,
    projection: &Projection,
) -> ScimResult<Response> {
    if stored.members.is_none() && shows_members(ctx.cfg, rt, projection) {
        return single_paged(ctx, rt, status, stored, projection);
    }
    let body = shown(ctx, rt, render(ctx.cfg, rt, stored)?, projection)?;
    Ok(Response::json(status, &body).with_header("ETag", etag(&stored.version)))
}

/// A resource just created, as the response shows it. It is in no group yet (its id is new), so its computed
/// `groups` are not looked for: that search cost a User's creation a tenth of its time.
pub(crate) fn shown_created(
    ctx: &Ctx,
    rt: &ResourceType,
    stored: &Stored,
    projection: &Projection,
) -> ScimResult<Response> {
    let body = projection.apply(ctx.cfg, rt, render(ctx.cfg, rt, stored)?);
    Ok(Response::json(201, &body).with_header("ETag", etag(&stored.version)))
}

/// [`single`] with the members written into the body page by page (`resource::paged`); when the resource
/// changed while they were read, it is read again whole, members included, so that what is shown is one state.
fn single_paged(
    ctx: &mut Ctx,
    rt: &ResourceType,
    status: u16,
    stored: &Stored,
    projection: &Projection,
) -> ScimResult<Response> {
    let cfg = ctx.cfg;
    let mut resource = render(cfg, rt, stored)?;
    resource["members"] = paged::placeholder();
    let Value::Object(shown) = shown(ctx, rt, resource, projection)? else {
        return Err(err::internal("a rendered resource is a JSON object"));
    };
    match paged::body(cfg, ctx.store, rt, &stored.id, &stored.version, &shown, projection)? {
        Some(body) => Ok(Response::json_bytes(status, body).with_header("ETag", etag(&stored.version))),
        None => {
            let whole = fetch(ctx, rt, &stored.id, true)?;
            single(ctx, rt, status, &whole, projection)
        }
    }
}

/// A rendered resource as the client sees it: computed attributes added (only when they will be shown),
/// then the projection applied.
pub(crate) fn shown(ctx: &mut Ctx, rt: &ResourceType, resource: Value, projection: &Projection) -> ScimResult<Value> {
    let mut all = shown_all(ctx, rt, vec![resource], projection)?;
    Ok(all.pop().expect("one in, one out"))
}

/// [`shown`] for a page of resources, with the computed `groups` of the whole page found together.
pub(crate) fn shown_all(
    ctx: &mut Ctx,
    rt: &ResourceType,
    mut resources: Vec<Value>,
    projection: &Projection,
) -> ScimResult<Vec<Value>> {
    let ids: Vec<&str> = resources.iter().map(|r| r.get("id").and_then(Value::as_str).unwrap_or_default()).collect();
    if let Some(groups) = groups_shown(ctx, rt, &ids, projection)? {
        for (resource, groups) in resources.iter_mut().zip(groups) {
            if !groups.is_empty() {
                resource["groups"] = Value::Array(groups);
            }
        }
    }
    Ok(resources.into_iter().map(|r| projection.apply(ctx.cfg, rt, r)).collect())
}

/// A page of stored resources as the client sees them, each as JSON text: under the default projection
/// written from the stored text (`projection::verbatim`), otherwise rendered and projected.
pub(crate) fn shown_page(
    ctx: &mut Ctx,
    rt: &ResourceType,
    items: &[Stored],
    projection: &Projection,
) -> ScimResult<Vec<Vec<u8>>> {
    let cfg = ctx.cfg;
    if projection.is_default() {
        let ids: Vec<&str> = items.iter().map(|s| s.id.as_str()).collect();
        let groups = groups_shown(ctx, rt, &ids, projection)?.unwrap_or_else(|| vec![Vec::new(); items.len()]);
        let mut page = Vec::with_capacity(items.len());
        let mut writer = verbatim::PageWriter::new(cfg, rt, projection);
        for (stored, groups) in items.iter().zip(groups) {
            let mut text = Vec::with_capacity(stored.data.len() + 256);
            if writer.write(stored, &groups, &mut text)?.is_none() {
                let mut resource = render(cfg, rt, stored)?;
                if !groups.is_empty() {
                    resource["groups"] = Value::Array(groups);
                }
                text = to_json(&projection.apply(cfg, rt, resource));
            }
            page.push(text);
        }
        return Ok(page);
    }
    let rendered = items.iter().map(|s| render(cfg, rt, s)).collect::<ScimResult<Vec<_>>>()?;
    Ok(shown_all(ctx, rt, rendered, projection)?.iter().map(to_json).collect())
}

pub(crate) fn to_json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a JSON value always serialises")
}

/// The computed `groups` of each of `ids`, when the type has them and the projection may show them.
fn groups_shown(
    ctx: &mut Ctx,
    rt: &ResourceType,
    ids: &[&str],
    projection: &Projection,
) -> ScimResult<Option<Vec<Vec<Value>>>> {
    if !(membership::computes_groups(ctx.cfg, rt) && projection.may_show_core("groups")) {
        return Ok(None);
    }
    membership::groups_of_each(ctx.cfg, ctx.store, ids).map(Some)
}

/// True when the response shows `members`: only then storage is asked to load them (a User has none, and
/// loading nothing still costs a SQL host one query per resource).
pub(crate) fn shows_members(cfg: &Config, rt: &ResourceType, projection: &Projection) -> bool {
    resource::has_members(cfg, rt) && !projection.excludes_members()
}

pub(crate) fn projection_of(cfg: &Config, rt: &ResourceType, req: &Request) -> ScimResult<Projection> {
    let params = req.params();
    let find = |name: &str| crate::names::pair(&params, name).map(String::as_str);
    Projection::from_params(cfg, rt, find("attributes"), find("excludedAttributes"))
}

pub(crate) fn stamp_meta(data: &mut Map<String, Value>, created: Option<Value>, now: &str) {
    let created = created.unwrap_or_else(|| json!(now));
    data.insert("meta".into(), json!({"created": created, "lastModified": now}));
}

pub(crate) fn fetch(ctx: &mut Ctx, rt: &ResourceType, id: &str, with_members: bool) -> ScimResult<Stored> {
    ctx.store.get(&rt.name, id, with_members)?.ok_or_else(|| err::not_found(format!("{} {id} not found", rt.name)))
}
