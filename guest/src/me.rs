//! `/Me` (RFC 7644 §3.11): an alias for the resource of the authenticated principal, resolved by the host's
//! `resolve-principal`. The request is rewritten to that resource's own path and routed as usual, so `/Me`
//! behaves exactly like `/Users/<id>`.

use crate::context::Ctx;
use crate::error::{self as err, ScimResult};
use crate::http::Request;
use crate::store::StoreError;

/// The request `req` (whose path starts with `/Me`) aimed at the principal's resource.
///
/// - POST is 501: RFC 7644 §3.11 leaves creating through `/Me` to the provider, and this one does not.
/// - No principal (an anonymous or technical client) is 501 too: for this caller `/Me` is not available,
///   which is what RFC 7644 §3.11 answers with 501; a 404 would wrongly suggest a resource went missing.
/// - A host without principals (`unsupported`) is 501; a principal without a resource is 404.
pub fn target(ctx: &mut Ctx, req: &Request) -> ScimResult<Request> {
    let method = req.method.to_ascii_uppercase();
    match method.as_str() {
        "GET" | "PUT" | "PATCH" | "DELETE" => {}
        "POST" => {
            return Err(err::not_implemented("creating a resource through /Me is not supported; POST to its endpoint"))
        }
        m => return Err(err::method_not_allowed(format!("{m} is not allowed on /Me"))),
    }
    let principal = ctx
        .principal
        .ok_or_else(|| err::not_implemented("/Me is not available: the request carries no authenticated principal"))?;
    let (type_name, id) = ctx
        .store
        .resolve_principal(principal)
        .map_err(|e| match e {
            StoreError::Unsupported => {
                err::not_implemented("/Me is not supported: this host does not map principals to resources")
            }
            other => other.into(),
        })?
        .ok_or_else(|| err::not_found("no resource is associated with the authenticated principal"))?;
    let rt = ctx
        .cfg
        .registry
        .resource_type(&type_name)
        .filter(|rt| !rt.endpoint.trim_start_matches('/').eq_ignore_ascii_case("Me"))
        .ok_or_else(|| err::internal(format!("the principal resolves to the unserved resource type {type_name}")))?;
    let rest = req.path.trim_start_matches('/').get(2..).unwrap_or("");
    let path = format!("/{}/{id}{rest}", rt.endpoint.trim_matches('/'));
    Ok(Request { path, ..req.clone() })
}
