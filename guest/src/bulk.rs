//! `POST /Bulk` (RFC 7644 §3.7): many operations in one request. Each operation becomes an ordinary request
//! routed like any other, so it behaves exactly as it would alone; this module only orders the operations,
//! resolves `bulkId` references and collects the results.
//!
//! Decisions:
//! - Operations run in request order, except that one referring to a `bulkId` created by a later POST waits
//!   until that POST has run (RFC 7644 §3.7.2).
//! - Circular references are refused (the RFC allows 409 instead of resolving them): every operation of the
//!   cycle answers 409 naming the cycle; operations that depend on a failed POST answer 409 too.
//! - A reference to a `bulkId` that no POST of the request defines is 400 `invalidValue`, as is a `bulkId`
//!   defined twice. A POST without `bulkId` is accepted; it simply cannot be referred to.
//! - Results are listed in request order; with `failOnErrors`, operations not run are left out.
//! - Successful results carry no `response` body; failed ones carry the SCIM error body. So nothing is read
//!   to build one: a Group PATCH answers 204 as it would alone (see `patch`), and a PUT is run without
//!   reading back members.

use crate::config::Config;
use crate::context::{json_body, Ctx};
use crate::error::{self as err, ErrorKind, ScimError, ScimResult};
use crate::http::{Request, Response, SCIM_JSON};
use crate::names::member;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// How a reference to the resource created by a POST of the same request is written.
const REFERENCE: &str = "bulkId:";

/// One operation as the client sent it.
struct Operation {
    /// Upper-case; empty when missing.
    method: String,
    bulk_id: Option<String>,
    version: Option<String>,
    path: String,
    data: Option<Value>,
    /// The bulkIds it refers to, in its path or anywhere in its data.
    refs: Vec<String>,
    /// Why it cannot run; it is still reported at its place.
    invalid: Option<ScimError>,
}

/// What became of the POST that defines a bulkId.
enum Created {
    Id(String),
    Failed,
}

/// How one operation is answered: the router, passed in so that this module does not depend on it.
pub type Route = fn(&mut Ctx, &Request) -> Response;

pub fn handle(ctx: &mut Ctx, req: &Request, route: Route) -> ScimResult<Response> {
    let method = req.method.to_ascii_uppercase();
    if method != "POST" {
        return Err(err::method_not_allowed(format!("{method} is not allowed on /Bulk; use POST")));
    }
    let (ops, fail_on_errors) = parse(ctx.cfg, json_body(req)?)?;
    let results = run(ctx, route, &ops, fail_on_errors);
    Ok(Response::json(200, &json!({"schemas": [BULK_RESPONSE], "Operations": results})))
}

/// The operations and `failOnErrors`. Faults of the whole request are errors here; faults of one operation
/// are kept in it, to be reported at its place.
fn parse(cfg: &Config, body: Value) -> ScimResult<(Vec<Operation>, Option<usize>)> {
    let Value::Object(obj) = body else {
        return Err(err::invalid_syntax("a bulk request must be a JSON object"));
    };
    if let Some(schemas) = member(&obj, "schemas") {
        let named = schemas
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST))));
        if !named {
            return Err(err::invalid_syntax(format!("schemas must contain {BULK_REQUEST}")));
        }
    }
    let items = match member(&obj, "Operations") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(err::invalid_syntax("Operations must be an array")),
        None => return Err(err::invalid_syntax("a bulk request needs Operations")),
    };
    let max = cfg.limits.bulk_max_operations as usize;
    if items.len() > max {
        return Err(err::payload_too_large(format!(
            "the bulk request has {} operations; maxOperations is {max}",
            items.len()
        )));
    }
    let fail_on_errors = match member(&obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n >= 1 => Some(n),
            _ => return Err(err::invalid_value("failOnErrors must be a positive integer")),
        },
    };
    let mut ops: Vec<Operation> = items.iter().map(operation).collect();
    check_bulk_ids(&mut ops);
    Ok((ops, fail_on_errors))
}

fn operation(item: &Value) -> Operation {
    let obj = item.as_object();
    let text = |name: &str| obj.and_then(|o| member(o, name)).and_then(Value::as_str).map(str::to_string);
    let mut op = Operation {
        method: text("method").unwrap_or_default().to_ascii_uppercase(),
        bulk_id: text("bulkId"),
        version: text("version"),
        path: text("path").unwrap_or_default(),
        data: obj.and_then(|o| member(o, "data")).cloned(),
        refs: Vec::new(),
        invalid: None,
    };
    match check(obj, &op) {
        Ok(()) => op.refs = references(&op),
        Err(e) => op.invalid = Some(e),
    }
    op
}

fn check(obj: Option<&Map<String, Value>>, op: &Operation) -> ScimResult<()> {
    let obj = obj.ok_or_else(|| err::invalid_syntax("each operation must be a JSON object"))?;
    for name in ["method", "bulkId", "version", "path"] {
        if member(obj, name).is_some_and(|v| !v.is_string() && !v.is_null()) {
            return Err(err::invalid_syntax(format!("{name} must be a string")));
        }
    }
    match op.method.as_str() {
        "POST" | "PUT" | "PATCH" | "DELETE" => {}
        "" => return Err(err::invalid_syntax("an operation needs a method")),
        m => return Err(err::method_not_allowed(format!("{m} is not a bulk method; use POST, PUT, PATCH or DELETE"))),
    }
    if !op.path.starts_with('/') {
        return Err(err::invalid_syntax("an operation needs a path starting with /, such as /Users"));
    }
    if op.path.split(['/', '?']).find(|s| !s.is_empty()).is_some_and(|s| s.eq_ignore_ascii_case("Bulk")) {
        return Err(err::invalid_value("a bulk operation cannot target /Bulk"));
    }
    if op.bulk_id.as_deref() == Some("") {
        return Err(err::invalid_value("bulkId must not be empty"));
    }
    Ok(())
}

/// The bulkIds named by `bulkId:<id>` as a path segment or as a whole string value anywhere in the data.
fn references(op: &Operation) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    let mut note = |s: &str| {
        if let Some(id) = s.strip_prefix(REFERENCE) {
            if !refs.iter().any(|r| r == id) {
                refs.push(id.to_string());
            }
        }
    };
    op.path.split(['/', '?']).for_each(&mut note);
    if let Some(data) = &op.data {
        visit_strings(data, &mut note);
    }
    refs
}

fn visit_strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| visit_strings(i, f)),
        Value::Object(obj) => obj.values().for_each(|i| visit_strings(i, f)),
        _ => {}
    }
}

/// The POST defining each bulkId: the first one naming it.
fn definers(ops: &[Operation]) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let (Some(id), "POST") = (op.bulk_id.as_deref(), op.method.as_str()) {
            out.entry(id).or_insert(i);
        }
    }
    out
}

/// A bulkId defined twice, and a reference to a bulkId nobody defines, make their operation invalid.
fn check_bulk_ids(ops: &mut [Operation]) {
    let definer: BTreeMap<String, usize> = definers(ops).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for (i, op) in ops.iter_mut().enumerate() {
        if op.invalid.is_some() {
            continue;
        }
        if let (Some(id), "POST") = (&op.bulk_id, op.method.as_str()) {
            if definer.get(id) != Some(&i) {
                op.invalid = Some(err::invalid_value(format!("bulkId {id} is already used by an earlier operation")));
                continue;
            }
        }
        if let Some(r) = op.refs.iter().find(|r| !definer.contains_key(*r)) {
            op.invalid =
                Some(err::invalid_value(format!("{REFERENCE}{r} does not name a POST operation of this request")));
        }
    }
}

fn run(ctx: &mut Ctx, route: Route, ops: &[Operation], fail_on_errors: Option<usize>) -> Vec<Value> {
    let definer = definers(ops);
    let mut created: BTreeMap<&str, Created> = BTreeMap::new();
    let mut circular: BTreeMap<usize, String> = BTreeMap::new();
    let mut results: Vec<Option<Value>> = vec![None; ops.len()];
    let mut errors = 0;
    while fail_on_errors.is_none_or(|max| errors < max) {
        let pending = |i: &usize| results[*i].is_none();
        let ready = (0..ops.len()).filter(pending).find(|i| {
            ops[*i].invalid.is_some()
                || circular.contains_key(i)
                || ops[*i].refs.iter().all(|r| created.contains_key(r.as_str()))
        });
        let Some(i) = ready else {
            // Every pending operation waits on another: the first one leads into a cycle.
            match (0..ops.len()).find(pending) {
                Some(first) => circular.extend(cycle(ops, &definer, &created, first)),
                None => break,
            }
            continue;
        };
        let op = &ops[i];
        let (path, resp) = match (&op.invalid, circular.get(&i)) {
            (Some(e), _) => (None, Response::error(e)),
            (None, Some(detail)) => (None, Response::error(&ScimError::new(ErrorKind::Conflict, detail.clone()))),
            (None, None) => dispatch(ctx, route, op, &created),
        };
        if resp.status >= 400 {
            errors += 1;
        }
        if let Some(id) = op.bulk_id.as_deref().filter(|id| definer.get(id) == Some(&i)) {
            let outcome = match (resp.status, created_id(&resp)) {
                (201, Some(new_id)) => Created::Id(new_id),
                _ => Created::Failed,
            };
            created.insert(id, outcome);
        }
        results[i] = Some(result(ctx.cfg, op, path.as_deref(), &resp));
    }
    results.into_iter().flatten().collect()
}

/// The cycle reached from the stuck operation `first`, following each operation's first unresolved reference
/// to the POST defining it: each operation of the cycle, with a detail naming the cycle.
fn cycle(
    ops: &[Operation],
    definer: &BTreeMap<&str, usize>,
    created: &BTreeMap<&str, Created>,
    first: usize,
) -> Vec<(usize, String)> {
    let mut path = vec![first];
    let mut at = first;
    for _ in 0..=ops.len() {
        let next = ops[at]
            .refs
            .iter()
            .find(|r| !created.contains_key(r.as_str()))
            .and_then(|r| definer.get(r.as_str()).copied());
        let Some(next) = next else { break };
        if let Some(start) = path.iter().position(|&p| p == next) {
            let members = &path[start..];
            let mut names: Vec<String> =
                members.iter().map(|&m| format!("{REFERENCE}{}", ops[m].bulk_id.as_deref().unwrap_or(""))).collect();
            names.push(names[0].clone());
            let detail = format!("circular bulkId references cannot be resolved: {}", names.join(" → "));
            return members.iter().map(|&m| (m, detail.clone())).collect();
        }
        path.push(next);
        at = next;
    }
    vec![(first, "the operation waits on a bulkId that cannot be resolved".to_string())]
}

/// Runs one operation through the ordinary routing, its references replaced by the ids they stand for.
/// Returns the path it ran on, and the response.
fn dispatch(
    ctx: &mut Ctx,
    route: Route,
    op: &Operation,
    created: &BTreeMap<&str, Created>,
) -> (Option<String>, Response) {
    let mut ids = BTreeMap::new();
    for r in &op.refs {
        match created.get(r.as_str()) {
            Some(Created::Id(id)) => {
                ids.insert(r.as_str(), id.as_str());
            }
            _ => {
                let e = ScimError::new(
                    ErrorKind::Conflict,
                    format!("{REFERENCE}{r} cannot be resolved: the operation creating it failed"),
                );
                return (None, Response::error(&e));
            }
        }
    }
    let resolve = |s: &str| s.strip_prefix(REFERENCE).and_then(|r| ids.get(r)).map(|id| id.to_string());
    let (raw_path, query) = op.path.split_once('?').unwrap_or((&op.path, ""));
    let route_path =
        raw_path.split('/').map(|seg| resolve(seg).unwrap_or_else(|| seg.to_string())).collect::<Vec<_>>().join("/");
    let mut data = op.data.clone();
    if let Some(d) = data.as_mut() {
        replace_strings(d, &resolve);
    }
    let mut headers = vec![("Content-Type".to_string(), SCIM_JSON.to_string())];
    if let Some(v) = &op.version {
        headers.push(("If-Match".to_string(), v.clone()));
    }
    // A successful result carries no body: a PUT need not read back the members its body left out.
    let query = match (op.method.as_str(), query) {
        ("PUT", "") => "excludedAttributes=members",
        (_, q) => q,
    };
    let req = Request {
        method: op.method.clone(),
        path: route_path.clone(),
        query: query.to_string(),
        headers,
        body: data.map(|d| d.to_string().into_bytes()),
    };
    let resp = route(ctx, &req);
    (Some(route_path), resp)
}

fn replace_strings(v: &mut Value, resolve: &impl Fn(&str) -> Option<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = resolve(s) {
                *s = id;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| replace_strings(i, resolve)),
        Value::Object(obj) => obj.values_mut().for_each(|i| replace_strings(i, resolve)),
        _ => {}
    }
}

fn created_id(resp: &Response) -> Option<String> {
    let body: Value = serde_json::from_slice(&resp.body).ok()?;
    body.get("id")?.as_str().map(str::to_string)
}

/// One entry of the BulkResponse (RFC 7644 §3.7.3): `status` as a string, `location` except for a failed
/// POST, `version` when the resource has one, and the error body of a failure.
fn result(cfg: &Config, op: &Operation, path: Option<&str>, resp: &Response) -> Value {
    let mut out = Map::new();
    out.insert("method".into(), json!(op.method));
    if let Some(id) = &op.bulk_id {
        out.insert("bulkId".into(), json!(id));
    }
    let location = match (resp.header("Location"), path) {
        (Some(loc), _) => Some(loc.to_string()),
        (None, Some(p)) if op.method != "POST" => Some(format!("{}{p}", cfg.base_url)),
        _ => None,
    };
    if let Some(loc) = location {
        out.insert("location".into(), json!(loc));
    }
    if let Some(tag) = resp.header("ETag") {
        out.insert("version".into(), json!(tag));
    }
    out.insert("status".into(), json!(resp.status.to_string()));
    if resp.status >= 400 {
        out.insert("response".into(), serde_json::from_slice(&resp.body).unwrap_or(Value::Null));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use crate::tests::harness::{service, Harness, Reply};
    use serde_json::{json, Value};

    fn bulk(s: &mut Harness, ops: Value, fail_on_errors: Option<u64>) -> Reply {
        let mut body = json!({"schemas": [super::BULK_REQUEST], "Operations": ops});
        if let Some(n) = fail_on_errors {
            body["failOnErrors"] = json!(n);
        }
        s.post("/Bulk", &body)
    }

    fn user_op(bulk_id: &str, name: &str) -> Value {
        json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": {"userName": name}})
    }

    #[test]
    fn references_to_earlier_and_later_posts_are_resolved() {
        let mut s = service();
        let a = bulk(
            &mut s,
            json!([
                user_op("u1", "alice"),
                {"method": "POST", "path": "/Groups", "bulkId": "g1",
                 "data": {"displayName": "team", "members": [{"value": "bulkId:u1", "type": "User"}, {"value": "bulkId:u2", "type": "User"}]}},
                user_op("u2", "bob"),
            ]),
            None,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["schemas"][0], super::BULK_RESPONSE);
        let ops = a.body["Operations"].as_array().unwrap();
        assert_eq!(ops.len(), 3);
        for op in ops {
            assert_eq!(op["status"], "201", "{op}");
            assert!(op["version"].as_str().unwrap().starts_with("W/"), "{op}");
            assert!(op.get("response").is_none());
        }
        assert_eq!(ops[1]["bulkId"], "g1");
        let group = ops[1]["location"].as_str().unwrap().trim_start_matches("https://example.com/scim/v2").to_string();
        let members = s.get(&group).body["members"].clone();
        let ids: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
        let user_id = |op: &Value| op["location"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        assert_eq!(ids, vec![user_id(&ops[0]), user_id(&ops[2])]);
    }

    #[test]
    fn references_in_paths_and_version_as_if_match() {
        let mut s = service();
        let a = bulk(
            &mut s,
            json!([
                {"method": "PUT", "path": "/Users/bulkId:u1", "data": {"userName": "alice", "title": "Dr"}},
                user_op("u1", "alice"),
                {"method": "DELETE", "path": "/Users/bulkId:u1", "version": "W/\"1\""},
            ]),
            None,
        );
        let ops = a.body["Operations"].as_array().unwrap().clone();
        assert_eq!(ops[0]["status"], "200", "{}", a.body);
        assert_eq!(ops[0]["version"], "W/\"2\"");
        assert_eq!(ops[0]["location"], ops[1]["location"]);
        assert_eq!(ops[2]["status"], "412", "the version is sent as If-Match: {}", a.body);
        assert_eq!(ops[2]["response"]["status"], "412");
        assert_eq!(s.get("/Users").body["Resources"][0]["title"], "Dr");
    }

    #[test]
    fn circular_references_are_409_naming_the_cycle() {
        let mut s = service();
        let group = |id: &str, other: &str| json!({"method": "POST", "path": "/Groups", "bulkId": id, "data": {"displayName": id, "members": [{"value": format!("bulkId:{other}")}]}});
        let a = bulk(
            &mut s,
            json!([
                group("a", "b"),
                group("b", "a"),
                {"method": "PUT", "path": "/Groups/bulkId:a", "data": {"displayName": "a2"}},
                user_op("u", "carol"),
                group("self", "self"),
            ]),
            None,
        );
        let ops = a.body["Operations"].as_array().unwrap();
        assert_eq!(ops.len(), 5);
        for i in [0, 1, 4] {
            assert_eq!(ops[i]["status"], "409", "{}", ops[i]);
            let detail = ops[i]["response"]["detail"].as_str().unwrap();
            assert!(detail.contains("circular"), "{detail}");
        }
        assert!(ops[0]["response"]["detail"].as_str().unwrap().contains("bulkId:a → bulkId:b → bulkId:a"));
        assert!(ops[0].get("location").is_none());
        assert_eq!(ops[2]["status"], "409");
        assert!(ops[2]["response"]["detail"].as_str().unwrap().contains("bulkId:a"));
        assert_eq!(ops[3]["status"], "201");
        assert_eq!(s.get("/Groups").body["totalResults"], 0);
    }

    #[test]
    fn fail_on_errors_stops_after_that_many_errors() {
        let mut s = service();
        let ops = json!([
            user_op("1", "dup"),
            user_op("2", "dup"),
            {"method": "DELETE", "path": "/Users/missing"},
            user_op("3", "later"),
        ]);
        let a = bulk(&mut s, ops.clone(), Some(2));
        let results = a.body["Operations"].as_array().unwrap();
        let statuses: Vec<&str> = results.iter().map(|o| o["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, vec!["201", "409", "404"]);
        assert_eq!(results[1]["response"]["scimType"], "uniqueness");
        assert_eq!(results[2]["location"], "https://example.com/scim/v2/Users/missing");
        assert_eq!(s.get("/Users").body["totalResults"], 1);
        // Without failOnErrors every operation runs.
        let mut fresh = service();
        assert_eq!(bulk(&mut fresh, ops, None).body["Operations"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn limits_are_advertised_and_enforced_with_413() {
        let config =
            r#"{"baseUrl":"https://example.com/scim/v2","limits":{"bulkMaxOperations":2,"bulkMaxPayloadBytes":600}}"#;
        let mut s = Harness::with_config(config);
        let spc = s.get("/ServiceProviderConfig").body;
        assert_eq!(spc["bulk"], json!({"supported": true, "maxOperations": 2, "maxPayloadSize": 600}));
        let a = bulk(&mut s, json!([user_op("1", "a"), user_op("2", "b"), user_op("3", "c")]), None);
        a.assert_error(413);
        assert!(a.body["detail"].as_str().unwrap().contains("maxOperations"));
        assert_eq!(s.get("/Users").body["totalResults"], 0, "nothing ran");
        let long = "x".repeat(600);
        bulk(&mut s, json!([user_op("1", &long)]), None).assert_error(413);
    }

    #[test]
    fn faulty_operations_are_reported_in_place() {
        let mut s = service();
        let a = bulk(
            &mut s,
            json!([
                {"method": "GET", "path": "/Users"},
                {"path": "/Users"},
                "not an object",
                {"method": "POST", "path": "Users", "bulkId": "x"},
                {"method": "POST", "path": "/Bulk", "data": {}},
                user_op("dup", "a"),
                user_op("dup", "b"),
                {"method": "PUT", "path": "/Users/bulkId:ghost", "data": {"userName": "g"}},
                {"method": "POST", "path": "/Users", "bulkId": "y", "data": "not an object"},
                {"method": "post", "path": "/Users", "data": {"userName": "no-bulk-id"}},
            ]),
            None,
        );
        let statuses: Vec<&str> =
            a.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, vec!["405", "400", "400", "400", "400", "201", "400", "400", "400", "201"], "{}", a.body);
        let ops = &a.body["Operations"];
        assert!(ops[7]["response"]["detail"].as_str().unwrap().contains("ghost"));
        assert_eq!(ops[9]["method"], "POST");
    }

    #[test]
    fn an_operation_answers_as_the_single_request_would() {
        let mut s = service();
        let id = s.user("alice");
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Dr"}]});
        let alone = s.send("PATCH", &format!("/Users/{id}"), Some(&patch), &[]);
        let a = bulk(
            &mut s,
            json!([
                {"method": "PATCH", "path": format!("/Users/{id}"), "data": patch},
                {"method": "PUT", "path": "/Users/missing", "data": {"userName": "x"}},
            ]),
            None,
        );
        let ops = &a.body["Operations"];
        assert_eq!(ops[0]["status"], alone.status.to_string(), "{}", a.body);
        assert_eq!(ops[1]["status"], "404");
        assert_eq!(ops[1]["response"], s.put("/Users/missing", &json!({"userName": "x"})).body);
    }

    #[test]
    fn malformed_bulk_requests_are_400() {
        let mut s = service();
        s.post("/Bulk", &json!({"schemas": [super::BULK_REQUEST]})).assert_error(400);
        s.post("/Bulk", &json!({"schemas": ["urn:wrong"], "Operations": []})).assert_error(400);
        s.post("/Bulk", &json!([1])).assert_error(400);
        s.post("/Bulk", &json!({"Operations": [], "failOnErrors": 0})).assert_error(400);
        let empty = s.post("/Bulk", &json!({"Operations": []}));
        assert_eq!(empty.status, 200);
        assert_eq!(empty.body["Operations"], json!([]));
    }
}
