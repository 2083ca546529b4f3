//! Cursor paging (RFC 9865): `cursor` and `count` on a list or `.search` of one resource type.
//!
//! A cursor names a position, not an offset: the sort value and id of the last resource a page showed, so
//! that a walk neither skips nor repeats a resource that exists throughout it, whatever is created or deleted
//! meanwhile. Storage resumes from it (`query.keyset`, an index walk in SQL); a host that does not is given
//! every match and the engine resumes itself. A cursor is bound to its query (type, filter, sort) and signed
//! with the configured key (HMAC-SHA256) together with its expiry: a changed, foreign or expired cursor is
//! 400 `invalidCursor` or `expiredCursor`.

use super::list::{bounded, page_size, ListParams};
use crate::config::CursorKey;
use crate::context::{shown_all, shows_members, Ctx};
use crate::error::{self as err, ScimResult};
use crate::filter::{self, SortSpec, SortValue};
use crate::http::Response;
use crate::projection::Projection;
use crate::resource::render;
use crate::schema::{discovery, ResourceType};
use crate::store::{Applied, Keyset, Literal, Position, Query, Stored};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::cmp::Ordering;

/// Where a walk resumes, as the cursor carries it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resume {
    /// The last shown resource's sort leaf (none without `sortBy` or without a value).
    pub value: Option<Value>,
    pub id: String,
}

pub(crate) fn list(ctx: &mut Ctx, rt: &ResourceType, p: &ListParams, token: &str) -> ScimResult<Response> {
    let cfg = ctx.cfg;
    let key = cfg.pagination.cursor_key.as_ref().ok_or_else(|| {
        err::invalid_value("this service provider does not page by cursor (RFC 9865); page with startIndex")
    })?;
    let bound = binding(rt, p);
    let now = ctx.now.timestamp();
    let resume = if token.is_empty() { None } else { Some(open(key, &bound, token, now)?) };
    let count = page_size(cfg, p);
    let projection = Projection::new(cfg, rt, &p.attributes, &p.excluded)?;
    let flat = p.filter.as_ref().map(|f| filter::flatten(cfg, rt, f)).transpose()?;
    let spec = p.sort_by.as_deref().map(|s| SortSpec::resolve(cfg, rt, s)).transpose()?;
    let after = resume.as_ref().map(|r| Position { value: literal(r.value.as_ref()), id: r.id.clone() });
    let query = Query {
        resource_type: rt.name.clone(),
        filter: flat,
        sort: spec.as_ref().map(|s| s.key(p.descending)),
        start_index: 1,
        count: u32::MAX,
        without_members: !shows_members(cfg, rt, &projection),
        keyset: Some(Keyset { after, count: count.saturating_add(1) }),
    };
    let page = ctx.store.search(&query)?;
    let (mut items, total) = match page.applied {
        Applied::Keyset => (page.items, page.total.unwrap_or_default()),
        applied => {
            let check = if applied == Applied::Nothing { p.filter.as_ref() } else { None };
            let order = Order { spec: spec.as_ref(), descending: p.descending };
            resume_here(ctx, rt, page.items, check, order, resume.as_ref(), count as usize + 1)?
        }
    };
    let more = items.len() > count as usize;
    items.truncate(count as usize);
    let rendered = items.iter().map(|s| render(cfg, rt, s)).collect::<ScimResult<Vec<_>>>()?;
    let next = match (more, rendered.last(), items.last()) {
        (true, Some(last), Some(stored)) => {
            let value = spec.as_ref().and_then(|s| s.leaf(last)).filter(|v| !v.is_null()).cloned();
            let expires = now.saturating_add(i64::from(cfg.pagination.cursor_timeout));
            Some(seal(key, &bound, &Resume { value, id: stored.id.clone() }, expires))
        }
        _ => None,
    };
    let resources = shown_all(ctx, rt, rendered, &projection)?;
    let mut body = json!({
        "schemas": [discovery::LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(next) = next {
        body["nextCursor"] = json!(next);
    }
    Ok(Response::json(200, &body))
}

/// The keyset order: by sort value (missing last), then id byte by byte; `descending` reverses both.
#[derive(Clone, Copy)]
struct Order<'a> {
    spec: Option<&'a SortSpec<'a>>,
    descending: bool,
}

impl Order<'_> {
    fn cmp(&self, a: &(SortValue, String), b: &(SortValue, String)) -> Ordering {
        let o = a.0.cmp(&b.0).then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()));
        if self.descending {
            o.reverse()
        } else {
            o
        }
    }

    fn key(&self, leaf: Option<&Value>, id: &str) -> (SortValue, String) {
        let value = match self.spec {
            Some(spec) => spec.typed_leaf(leaf),
            None => SortValue::Missing,
        };
        (value, id.to_string())
    }
}

/// The engine's own keyset walk over every match storage gave: the first `take` after `resume`, and the
/// number of matches. Costs the number of candidates, bounded by `maxCandidates` (400 `tooMany`).
fn resume_here(
    ctx: &Ctx,
    rt: &ResourceType,
    candidates: Vec<Stored>,
    check: Option<&filter::Filter>,
    order: Order,
    resume: Option<&Resume>,
    take: usize,
) -> ScimResult<(Vec<Stored>, u64)> {
    let cfg = ctx.cfg;
    bounded(cfg, candidates.len())?;
    let from = resume.map(|r| order.key(r.value.as_ref(), &r.id));
    let mut total = 0u64;
    let mut keyed = Vec::new();
    for stored in candidates {
        let resource = render(cfg, rt, &stored)?;
        if let Some(f) = check {
            if !filter::matches(cfg, rt, f, &resource)? {
                continue;
            }
        }
        total += 1;
        let key = order.key(order.spec.and_then(|s| s.leaf(&resource)), &stored.id);
        if from.as_ref().is_none_or(|from| order.cmp(&key, from) == Ordering::Greater) {
            keyed.push((key, stored));
        }
    }
    keyed.sort_by(|a, b| order.cmp(&a.0, &b.0));
    keyed.truncate(take);
    Ok((keyed.into_iter().map(|(_, s)| s).collect(), total))
}

/// What a cursor is bound to: the resource type and the query's filter and order, as the client wrote them.
fn binding(rt: &ResourceType, p: &ListParams) -> Vec<u8> {
    let parts = json!([rt.name, p.filter_text, p.sort_by.as_deref().map(str::to_ascii_lowercase), p.descending]);
    parts.to_string().into_bytes()
}

fn mac(key: &CursorKey, bound: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any length");
    mac.update(&(bound.len() as u64).to_be_bytes());
    mac.update(bound);
    mac.update(payload);
    mac
}

/// `base64url(payload).base64url(HMAC(key, binding ‖ payload))`, the payload holding the position and expiry.
pub(crate) fn seal(key: &CursorKey, bound: &[u8], resume: &Resume, expires: i64) -> String {
    let payload = json!({"e": expires, "v": resume.value, "i": resume.id}).to_string().into_bytes();
    let tag = mac(key, bound, &payload).finalize().into_bytes();
    format!("{}.{}", B64.encode(&payload), B64.encode(tag))
}

/// The position a cursor names; 400 `invalidCursor` unless this service issued it for this very query,
/// 400 `expiredCursor` once its time is past. The signature is checked before anything in it is believed.
pub(crate) fn open(key: &CursorKey, bound: &[u8], token: &str, now: i64) -> ScimResult<Resume> {
    let invalid = || {
        err::invalid_cursor(
            "the cursor was not issued by this service provider for this query (same resource type, filter, \
             sortBy and sortOrder), or was altered; leave cursor empty to start again",
        )
    };
    let (payload, tag) = token.split_once('.').ok_or_else(invalid)?;
    let payload = B64.decode(payload).map_err(|_| invalid())?;
    let tag = B64.decode(tag).map_err(|_| invalid())?;
    mac(key, bound, &payload).verify_slice(&tag).map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&payload).map_err(|_| invalid())?;
    let (Some(expires), Some(id)) = (v["e"].as_i64(), v["i"].as_str()) else { return Err(invalid()) };
    if now > expires {
        return Err(err::expired_cursor(
            "the cursor has expired (see cursorTimeout in /ServiceProviderConfig); leave cursor empty to start again",
        ));
    }
    let value = Some(v["v"].clone()).filter(|v| !v.is_null());
    Ok(Resume { value, id: id.to_string() })
}

/// A sort leaf as storage compares it (`position.value`).
fn literal(v: Option<&Value>) -> Literal {
    match v {
        Some(Value::String(s)) => Literal::Text(s.clone()),
        Some(Value::Bool(b)) => Literal::Boolean(*b),
        Some(Value::Number(n)) => {
            n.as_i64().map_or_else(|| Literal::Decimal(n.as_f64().unwrap_or_default()), Literal::Integer)
        }
        _ => Literal::Null,
    }
}
