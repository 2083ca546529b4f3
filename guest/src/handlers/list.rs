//! Listing and searching (RFC 7644 §3.4.2, §3.4.3): filter, sort, page and project the resources of one type or
//! of all of them.

use crate::config::{Config, PaginationMethod};
use crate::context::{json_body, shown_all, shown_page, shows_members, to_json, Ctx};
use crate::error::{self as err, ScimResult};
use crate::filter::{self, Filter};
use crate::http::{Request, Response};
use crate::membership;
use crate::projection::Projection;
use crate::resource::render;
use crate::schema::{discovery, ResourceType};
use crate::store::{Applied, Query, Stored};
use serde_json::Value;

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
    /// RFC 9865 `cursor`: empty for the first page of a cursor walk.
    pub cursor: Option<String>,
    /// The filter as the client wrote it, which a cursor is bound to.
    pub filter_text: Option<String>,
    start_index_given: bool,
}

impl ListParams {
    pub(crate) fn from_query(cfg: &Config, req: &Request) -> ScimResult<ListParams> {
        let mut p = ListParams { start_index: 1, ..Default::default() };
        for (key, value) in req.params() {
            match key.to_ascii_lowercase().as_str() {
                "filter" => {
                    p.filter = Some(parse_filter(cfg, &value)?);
                    p.filter_text = Some(value);
                }
                "sortby" => p.sort_by = Some(value),
                "sortorder" => p.descending = sort_order(&value)?,
                "startindex" => (p.start_index, p.start_index_given) = (start_index(&value)?, true),
                "cursor" => p.cursor = Some(value),
                "count" => p.count = Some(count(&value)?),
                "attributes" => p.attributes = value.split(',').map(str::to_string).collect(),
                "excludedattributes" => p.excluded = value.split(',').map(str::to_string).collect(),
                _ => {}
            }
        }
        p.paging(cfg)
    }

    pub(crate) fn from_search_body(cfg: &Config, req: &Request) -> ScimResult<ListParams> {
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
                "filter" => {
                    p.filter_text = Some(text(value)?);
                    p.filter = Some(parse_filter(cfg, &text(value)?)?);
                }
                "sortby" => p.sort_by = Some(text(value)?),
                "sortorder" => p.descending = sort_order(&text(value)?)?,
                "startindex" => (p.start_index, p.start_index_given) = (start_index(&number(value)?)?, true),
                "cursor" => p.cursor = Some(text(value)?),
                "count" => p.count = Some(count(&number(value)?)?),
                "attributes" => p.attributes = list(value)?,
                "excludedattributes" => p.excluded = list(value)?,
                _ => {}
            }
        }
        p.paging(cfg)
    }
}

impl ListParams {
    /// RFC 9865: `startIndex` and `cursor` exclude each other; without either, the configured default.
    fn paging(mut self, cfg: &Config) -> ScimResult<ListParams> {
        if self.cursor.is_some() && self.start_index_given {
            return Err(err::invalid_value("startIndex and cursor cannot be used together (RFC 9865): choose one"));
        }
        if self.cursor.is_none()
            && !self.start_index_given
            && cfg.pagination.default_pagination_method == PaginationMethod::Cursor
        {
            self.cursor = Some(String::new());
        }
        Ok(self)
    }
}

/// A filter within the configured length and nesting limits.
fn parse_filter(cfg: &Config, text: &str) -> ScimResult<Filter> {
    filter::parse_filter_for(cfg, text)
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

/// The ListResponse (RFC 7644 §3.4.2), written around the page's resources, each already JSON text.
fn list_response(start_index: u32, total: u64, resources: Vec<Vec<u8>>) -> Response {
    let mut body = Vec::with_capacity(resources.iter().map(|r| r.len() + 1).sum::<usize>() + 160);
    // The schema URN needs no escaping in JSON.
    body.extend_from_slice(b"{\"schemas\":[\"");
    body.extend_from_slice(discovery::LIST_RESPONSE.as_bytes());
    body.extend_from_slice(b"\"]");
    let counts =
        format!(",\"totalResults\":{total},\"startIndex\":{start_index},\"itemsPerPage\":{},", resources.len());
    body.extend_from_slice(counts.as_bytes());
    body.extend_from_slice(b"\"Resources\":[");
    for (i, resource) in resources.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(resource);
    }
    body.extend_from_slice(b"]}");
    Response::json_bytes(200, body)
}

pub(crate) fn page_size(cfg: &Config, p: &ListParams) -> u32 {
    p.count.unwrap_or(cfg.limits.max_results).min(cfg.limits.max_results)
}

pub(crate) fn list(ctx: &mut Ctx, rt: &ResourceType, p: ListParams) -> ScimResult<Response> {
    if let Some(token) = &p.cursor {
        return super::cursor::list(ctx, rt, &p, token);
    }
    let count = page_size(ctx.cfg, &p);
    let (resources, total) = query_type(ctx, rt, &p, p.start_index, count)?;
    Ok(list_response(p.start_index, total, resources))
}

/// `POST /.search` at the root: every resource type, one after the other, paged as one list.
pub(crate) fn search_all(ctx: &mut Ctx, p: ListParams) -> ScimResult<Response> {
    if p.cursor.as_deref().is_some_and(|c| !c.is_empty()) {
        return Err(err::invalid_value("cursor paging is per resource type: POST /Users/.search or /Groups/.search"));
    }
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
fn query_type(
    ctx: &mut Ctx,
    rt: &ResourceType,
    p: &ListParams,
    start_index: u32,
    count: u32,
) -> ScimResult<(Vec<Vec<u8>>, u64)> {
    let cfg = ctx.cfg;
    let projection = Projection::new(cfg, rt, &p.attributes, &p.excluded)?;
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
        keyset: None,
    };
    let page = ctx.store.search(&query)?;
    let check = match page.applied {
        Applied::Nothing => p.filter.as_ref(),
        _ => None,
    };
    let window = Window { skip: (start_index - 1) as usize, count: count as usize };
    if page.applied == Applied::Everything {
        let total = page.total.unwrap_or(page.items.len() as u64);
        return Ok((shown_page(ctx, rt, &page.items, &projection)?, total));
    }
    if check.is_none() && sort_spec.is_none() {
        // Nothing left to test or order: the page is a window of the candidates, none rendered in vain.
        bounded(cfg, page.items.len())?;
        let total = page.items.len() as u64;
        let items: Vec<Stored> = page.items.into_iter().skip(window.skip).take(window.count).collect();
        return Ok((shown_page(ctx, rt, &items, &projection)?, total));
    }
    // A filter on the computed `groups` the host did not apply is checked on computed groups.
    let groups = match (check, &query.filter) {
        (Some(_), Some(f)) if names_groups(f) && membership::computes_groups(cfg, rt) => {
            bounded(cfg, page.items.len())?;
            let ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
            Some(membership::groups_of_each(cfg, ctx.store, &ids)?)
        }
        _ => None,
    };
    let sort = sort_spec.as_ref().map(|s| (s, p.descending));
    let (items, total) = finish(cfg, rt, page.items, groups, check, sort, window)?;
    Ok((shown_all(ctx, rt, items, &projection)?.iter().map(to_json).collect(), total))
}

/// Whether a flat filter names the computed `groups`.
fn names_groups(f: &crate::store::FlatFilter) -> bool {
    use crate::store::FilterNode;
    f.nodes.iter().any(|n| match n {
        FilterNode::Present(p) | FilterNode::ElementMatch(p, _) => p == "groups" || p.starts_with("groups."),
        FilterNode::Compare(c) => c.path.starts_with("groups."),
        _ => false,
    })
}

/// The part of the matches a page shows.
#[derive(Clone, Copy)]
struct Window {
    skip: usize,
    count: usize,
}

impl Window {
    fn holds(&self, index: usize) -> bool {
        index >= self.skip && index - self.skip < self.count
    }
}

/// Filters, sorts and pages the candidates storage left to the engine. Each candidate is rendered and
/// checked one at a time and only what the page shows is kept rendered (with `sortBy`, each match's sort
/// key), so that memory follows the page, not the candidates. More candidates than `maxCandidates` is 400
/// `tooMany` (RFC 7644 §3.4.2.2), before any is examined. `groups`, when given, are the candidates' computed
/// `groups` (same order), for a filter that names them.
fn finish(
    cfg: &Config,
    rt: &ResourceType,
    candidates: Vec<Stored>,
    mut groups: Option<Vec<Vec<Value>>>,
    check: Option<&Filter>,
    sort: Option<(&filter::SortSpec, bool)>,
    window: Window,
) -> ScimResult<(Vec<Value>, u64)> {
    bounded(cfg, candidates.len())?;
    let mut total = 0usize;
    let mut page = Vec::new();
    let mut keyed = Vec::new();
    for (i, stored) in candidates.into_iter().enumerate() {
        let mut resource = render(cfg, rt, &stored)?;
        if let Some(gs) = groups.as_mut().map(|g| std::mem::take(&mut g[i])).filter(|g| !g.is_empty()) {
            resource["groups"] = Value::Array(gs);
        }
        if let Some(f) = check {
            if !filter::matches(cfg, rt, f, &resource)? {
                continue;
            }
        }
        match sort {
            Some((spec, _)) => keyed.push((spec.value(&resource), stored)),
            None if window.holds(total) => page.push(resource),
            None => {}
        }
        total += 1;
    }
    if let Some((_, descending)) = sort {
        // Stable: equal keys keep creation order.
        if descending {
            keyed.sort_by(|a, b| b.0.cmp(&a.0));
        } else {
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
        }
        page = keyed
            .iter()
            .skip(window.skip)
            .take(window.count)
            .map(|(_, stored)| render(cfg, rt, stored))
            .collect::<ScimResult<_>>()?;
    }
    Ok((page, total as u64))
}

/// 400 `tooMany` when a search hands the engine more candidates than it may examine.
pub(crate) fn bounded(cfg: &Config, candidates: usize) -> ScimResult<()> {
    let max = cfg.limits.max_candidates;
    if candidates as u64 > max {
        return Err(err::too_many(format!(
            "the filter or sortBy would have the server examine more than {max} resources; narrow the filter \
             (an eq, sw or co on an indexed attribute) or drop sortBy on a sub-attribute"
        )));
    }
    Ok(())
}
