//! Routing (RFC 7644 §3): a request's method and path decide which handler answers it.

use crate::context::Ctx;
use crate::error::{self as err, ErrorKind, ScimResult};
use crate::handlers::{crud, list};
use crate::http::{Request, Response};
use crate::schema::discovery;

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
    let get_only = |m: &str| {
        if m == "GET" {
            Ok(())
        } else {
            Err(err::method_not_allowed(format!("{m} is not allowed here; use GET")))
        }
    };
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
        ["Bulk"] => crate::bulk::handle(ctx, req, handle),
        ["Me", ..] => {
            let target = crate::me::target(ctx, req)?;
            route(ctx, &target)
        }
        [".search"] => match method.as_str() {
            "POST" => list::search_all(ctx, list::ListParams::from_search_body(cfg, req)?),
            m => Err(err::method_not_allowed(format!("{m} is not allowed on /.search; use POST"))),
        },
        [endpoint, rest @ ..] if rest.len() <= 1 => {
            let rt =
                cfg.registry.by_endpoint(endpoint).ok_or_else(|| err::not_found(format!("no endpoint /{endpoint}")))?;
            if rest.first() != Some(&".search") {
                crate::catalog::refuse_write(ctx, rt, &method)?;
            }
            match (rest.first().copied(), method.as_str()) {
                (None, "GET") => list::list(ctx, rt, list::ListParams::from_query(cfg, req)?),
                (None, "POST") => crud::create(ctx, rt, req),
                (Some(".search"), "POST") => list::list(ctx, rt, list::ListParams::from_search_body(cfg, req)?),
                (Some(id), "GET") => crud::get(ctx, rt, id, req),
                (Some(id), "PUT") => crud::replace(ctx, rt, id, req),
                (Some(id), "DELETE") => crud::delete(ctx, rt, id, req),
                (Some(id), "PATCH") => crate::patch::patch(ctx, rt, id, req),
                (_, m) => Err(err::method_not_allowed(format!("{m} is not allowed on {}", req.path))),
            }
        }
        _ => Err(err::not_found(format!("no endpoint {}", req.path))),
    }
}
