//! The endpoints of one resource (RFC 7644 §3.3, §3.4.1, §3.5.1, §3.6): create, read, replace and delete.

use crate::conditional::{self, Tags};
use crate::context::{fetch, json_body, projection_of, shown_created, single, stamp_meta, Ctx};
use crate::error::{self as err, ErrorKind, ScimError, ScimResult};
use crate::events::{self, MemberChange, Operation};
use crate::http::{Request, Response};
use crate::resource::{self, etag, location};
use crate::schema::ResourceType;
use crate::store::Update;
use serde_json::{Map, Value};

pub(crate) fn create(ctx: &mut Ctx, rt: &ResourceType, req: &Request) -> ScimResult<Response> {
    let body = json_body(req)?;
    let mut prepared = resource::ingest(ctx.cfg, rt, body, None)?;
    crate::references::check(ctx, rt, &prepared.data)?;
    if let Some(members) = prepared.members.as_mut() {
        resource::resolve_added(ctx.cfg, ctx.store, rt, members)?;
        crate::nesting::check_added(ctx.cfg, ctx.store, rt, None, members)?;
    }
    let projection = projection_of(ctx.cfg, rt, req)?;
    stamp_meta(&mut prepared.data, None, &ctx.now_text());
    let members = prepared.members.clone().unwrap_or_default();
    let delta = MemberChange::of(&members, &[], false);
    let mut change = events::review(ctx, rt, Operation::Create, "", None, &mut prepared, delta)?;
    let projection = projection.with_sent(ctx.cfg, rt, &prepared.data);
    let data = Value::Object(prepared.data).to_string();
    ctx.hooks.stage(&change);
    let mut stored = ctx.store.create(&rt.name, &data, &prepared.unique, &members)?;
    events::created(ctx.cfg, rt, &mut change, &stored)?;
    ctx.hooks.changed(&change, &stored.version);
    stored.members = Some(members);
    let resp = shown_created(ctx, rt, &stored, &projection)?;
    Ok(resp.with_header("Location", location(ctx.cfg, rt, &stored.id)))
}

pub(crate) fn get(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request) -> ScimResult<Response> {
    let projection = projection_of(ctx.cfg, rt, req)?;
    // Members, when shown, are read a page at a time by `single`.
    let stored = fetch(ctx, rt, id, false)?;
    if conditional::none_match(req, &stored.version) {
        return Ok(Response::empty(304).with_header("ETag", etag(&stored.version)));
    }
    single(ctx, rt, 200, &stored, &projection)
}

/// PUT. With `If-Match` (other than `*`) the write is conditional on the version named: a change in between is
/// 412. Without it, the write is still conditional on the version read, so that what the body is checked
/// against (immutable and write-only attributes, `meta.created`) is what it replaces; a change in between is
/// retried from the read, so that the last PUT wins, and only a resource that never stops changing is 409.
pub(crate) fn replace(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request) -> ScimResult<Response> {
    let body = json_body(req)?;
    let strict = req.header("if-match").map(Tags::parse).is_some_and(|t| t != Tags::Any);
    for _ in 0..conditional::ATTEMPTS {
        match replace_once(ctx, rt, id, req, body.clone()) {
            Err(e) if !strict && e.kind == ErrorKind::PreconditionFailed => continue,
            done => return done,
        }
    }
    Err(ScimError::new(ErrorKind::Conflict, "the resource kept changing during the PUT; retry it"))
}

/// One read-check-write round of a PUT; 412 when the version read is no longer the current one.
fn replace_once(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request, body: Value) -> ScimResult<Response> {
    let current = fetch(ctx, rt, id, false)?;
    let mut old: Map<String, Value> = serde_json::from_str(&current.data)
        .map_err(|_| err::internal(format!("stored {} {id} is not a JSON object", rt.name)))?;
    let mut prepared = resource::ingest(ctx.cfg, rt, body, Some(&old))?;
    crate::references::check(ctx, rt, &prepared.data)?;
    if let Some(members) = prepared.members.as_mut() {
        resource::resolve_added(ctx.cfg, ctx.store, rt, members)?;
        crate::nesting::check_added(ctx.cfg, ctx.store, rt, Some(id), members)?;
    }
    let projection = projection_of(ctx.cfg, rt, req)?;
    let created = old.remove("meta").and_then(|m| m.get("created").cloned());
    stamp_meta(&mut prepared.data, created, &ctx.now_text());
    let before = events::image(ctx.cfg, rt, id, &current.data)?;
    let delta = MemberChange::of(prepared.members.as_deref().unwrap_or_default(), &[], prepared.members.is_some());
    let event = events::review(ctx, rt, Operation::Replace, id, Some(&before), &mut prepared, delta)?;
    let projection = projection.with_sent(ctx.cfg, rt, &prepared.data);
    let members = prepared.members;
    let change = Update {
        resource_type: rt.name.clone(),
        id: id.to_string(),
        data: Some(Value::Object(prepared.data).to_string()),
        unique: prepared.unique,
        clear_members: members.is_some(),
        remove_members: vec![],
        add_members: members.clone().unwrap_or_default(),
        if_version: Some(conditional::expected_version(req, &current.version)?),
    };
    ctx.hooks.stage(&event);
    let mut stored = ctx.store.update(&change)?;
    ctx.hooks.changed(&event, &stored.version);
    // The members sent are shown as they are; kept ones, when shown, are read a page at a time by `single`.
    stored.members = members;
    single(ctx, rt, 200, &stored, &projection)
}

pub(crate) fn delete(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request) -> ScimResult<Response> {
    let current = fetch(ctx, rt, id, false)?;
    let if_version = match req.header("if-match") {
        Some(_) => Some(conditional::expected_version(req, &current.version)?),
        None => None,
    };
    let before = events::image(ctx.cfg, rt, id, &current.data)?;
    let change = events::describe(rt, Operation::Delete, id, Some(&before), None, MemberChange::default());
    events::review_plain(ctx, &change)?;
    ctx.hooks.stage(&change);
    ctx.store.delete(&rt.name, id, if_version.as_deref()).map_err(|e| match e {
        crate::store::StoreError::NotFound => err::not_found(format!("{} {id} not found", rt.name)),
        other => ScimError::from(other),
    })?;
    ctx.hooks.changed(&change, "");
    Ok(Response::empty(204))
}
