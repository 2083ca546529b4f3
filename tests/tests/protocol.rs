//! Protocol completeness, end to end: Bulk, ETags and conditional requests, PUT and DELETE semantics, error
//! statuses, media types and /Me.

mod common;

use common::{raw, Resp, Server, TempDir, TOKEN};
use serde_json::{json, Value};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

fn bulk(s: &Server, ops: Value, fail_on_errors: Option<u64>) -> Resp {
    let mut body = json!({"schemas": [BULK_REQUEST], "Operations": ops});
    if let Some(n) = fail_on_errors {
        body["failOnErrors"] = json!(n);
    }
    s.post("/Bulk", &body)
}

fn post_user(bulk_id: &str, name: &str) -> Value {
    json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": user(name)})
}

fn results(r: &Resp) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
    body["Operations"].as_array().unwrap().clone()
}

/// The path below the SCIM base of a `location`.
fn relative(s: &Server, location: &Value) -> String {
    location.as_str().unwrap().strip_prefix(&s.base).unwrap().to_string()
}

#[test]
fn bulk_creates_users_and_a_group_whose_members_reference_them() {
    let dir = TempDir::new("bulk-refs");
    let s = Server::start(&dir.0, &[]);
    let ops = results(&bulk(
        &s,
        json!([
            post_user("alice", "alice"),
            {"method": "POST", "path": "/Groups", "bulkId": "team", "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "team",
                "members": [{"value": "bulkId:alice", "type": "User"}, {"value": "bulkId:bob", "type": "User"}]}},
            post_user("bob", "bob"),
            {"method": "PUT", "path": "/Users/bulkId:bob", "data": {"userName": "bob", "title": "Builder"}},
        ]),
        None,
    ));
    assert_eq!(ops.len(), 4);
    for op in &ops[..3] {
        assert_eq!(op["status"], "201", "{op}");
        assert!(op["location"].as_str().unwrap().starts_with(&s.base), "{op}");
        assert!(op["version"].as_str().unwrap().starts_with("W/\""), "{op}");
    }
    assert_eq!(ops[3]["status"], "200", "{}", ops[3]);
    assert_eq!(ops[3]["location"], ops[2]["location"]);
    let group = s.get(&relative(&s, &ops[1]["location"])).json();
    let ids: Vec<&str> = group["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    let id_of = |op: &Value| op["location"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert_eq!(ids, vec![id_of(&ops[0]), id_of(&ops[2])]);
    assert_eq!(s.get(&relative(&s, &ops[2]["location"])).json()["title"], "Builder");
}

#[test]
fn bulk_circular_references_are_refused_with_409() {
    let dir = TempDir::new("bulk-cycle");
    let s = Server::start(&dir.0, &[]);
    let group = |id: &str, other: &str| {
        json!({"method": "POST", "path": "/Groups", "bulkId": id,
               "data": {"displayName": id, "members": [{"value": format!("bulkId:{other}"), "type": "Group"}]}})
    };
    let ops = results(&bulk(&s, json!([group("a", "b"), group("b", "a"), post_user("u", "carol")]), None));
    for op in &ops[..2] {
        assert_eq!(op["status"], "409", "{op}");
        assert_eq!(op["response"]["status"], "409");
        assert!(op["response"]["detail"].as_str().unwrap().contains("circular"), "{op}");
    }
    assert_eq!(ops[2]["status"], "201");
    assert_eq!(s.get("/Groups").json()["totalResults"], 0);
}

#[test]
fn bulk_fail_on_errors_stops_processing() {
    let dir = TempDir::new("bulk-fail");
    let s = Server::start(&dir.0, &[]);
    let ops = results(&bulk(
        &s,
        json!([
            post_user("1", "same"),
            post_user("2", "same"),
            {"method": "PATCH", "path": "/Users/bulkId:1", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "title", "value": "x"}]}},
            post_user("3", "never"),
        ]),
        Some(1),
    ));
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(ops[1]["status"], "409");
    assert_eq!(ops[1]["response"]["scimType"], "uniqueness");
    assert!(ops[1].get("location").is_none(), "a failed POST has no location");
    assert_eq!(s.get("/Users").json()["totalResults"], 1);

    // Without failOnErrors everything runs, and each operation reports its own outcome.
    let ops = results(&bulk(&s, json!([post_user("4", "same"), post_user("5", "other")]), None));
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["409", "201"]);
}

#[test]
fn bulk_limits_are_advertised_and_max_operations_is_413() {
    let dir = TempDir::new("bulk-limits");
    let s = Server::start(&dir.0, &[]);
    let spc = s.get("/ServiceProviderConfig").json();
    assert_eq!(spc["bulk"]["supported"], true);
    let max = spc["bulk"]["maxOperations"].as_u64().unwrap();
    assert_eq!(spc["bulk"]["maxPayloadSize"], 1 << 20);
    let ops: Vec<Value> = (0..=max).map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")})).collect();
    let r = bulk(&s, json!(ops), None);
    r.assert_error(413, None);
    assert!(r.json()["detail"].as_str().unwrap().contains("maxOperations"));
    s.get("/Bulk").assert_error(405, None);
}

#[test]
fn etags_if_match_412_and_if_none_match_304() {
    let dir = TempDir::new("etags");
    let s = Server::start(&dir.0, &[]);
    let created = s.post("/Users", &user("bjensen"));
    let tag = created.header("etag").unwrap().to_string();
    assert_eq!(created.json()["meta"]["version"], tag.as_str());
    let path = format!("/Users/{}", created.json()["id"].as_str().unwrap());

    let read = s.send("GET", &path, &[("If-None-Match", &tag)], None);
    assert_eq!(read.status, 304);
    assert_eq!(read.header("etag"), Some(tag.as_str()));

    let body = Some(json!({"userName": "bjensen", "title": "T"}).to_string());
    s.send("PUT", &path, &[("If-Match", "W/\"nope\"")], body.clone()).assert_error(412, None);
    let put = s.send("PUT", &path, &[("If-Match", &tag)], body.clone());
    assert_eq!(put.status, 200, "{}", put.text);
    let new_tag = put.header("etag").unwrap().to_string();
    assert_ne!(new_tag, tag);
    assert_eq!(put.json()["meta"]["version"], new_tag.as_str());
    assert_eq!(s.send("GET", &path, &[("If-None-Match", &tag)], None).status, 200);

    s.send("DELETE", &path, &[("If-Match", &tag)], None).assert_error(412, None);
    assert_eq!(s.send("PUT", &path, &[("If-Match", "*")], body).status, 200);
    assert_eq!(s.send("DELETE", &path, &[("If-Match", "*")], None).status, 204);
}

#[test]
fn put_replaces_the_resource_and_ignores_read_only_values() {
    let dir = TempDir::new("put");
    let s = Server::start(&dir.0, &[]);
    let mut first = user("bjensen");
    first["nickName"] = json!("Babs");
    first["password"] = json!("t0p-Secret");
    let created = s.post("/Users", &first).json();
    let id = created["id"].as_str().unwrap();
    let replaced = s.put(
        &format!("/Users/{id}"),
        &json!({
            "id": "another-id", "userName": "bjensen", "title": "Chief", "meta": {"created": "2000-01-01T00:00:00Z"}
        }),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let r = replaced.json();
    assert_eq!(r["id"], id);
    assert_eq!(r["title"], "Chief");
    assert!(r.get("nickName").is_none(), "left out, so cleared: {r}");
    assert!(r.get("password").is_none(), "never returned: {r}");
    assert_eq!(r["meta"]["created"], created["meta"]["created"]);
    s.get("/Users/another-id").assert_error(404, None);
}

#[test]
fn delete_removes_the_user_from_its_groups() {
    let dir = TempDir::new("delete");
    let s = Server::start(&dir.0, &[]);
    let alice = s.post("/Users", &user("alice")).json()["id"].as_str().unwrap().to_string();
    let bob = s.post("/Users", &user("bob")).json()["id"].as_str().unwrap().to_string();
    let group =
        s.post("/Groups", &json!({"displayName": "team", "members": [{"value": alice}, {"value": bob}]})).json();
    let gpath = format!("/Groups/{}", group["id"].as_str().unwrap());
    let before = s.get(&gpath).header("etag").unwrap().to_string();

    let deleted = s.delete(&format!("/Users/{alice}"));
    assert_eq!(deleted.status, 204);
    assert!(deleted.text.is_empty());
    s.get(&format!("/Users/{alice}")).assert_error(404, None);
    assert_eq!(s.get("/Users?filter=userName%20eq%20%22alice%22").json()["totalResults"], 0);
    let after = s.get(&gpath);
    let body = after.json();
    let members: Vec<&str> = body["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    assert_eq!(members, vec![bob.as_str()]);
    assert_ne!(after.header("etag").unwrap(), before, "a membership change is a new version");
}

#[test]
fn error_statuses_have_scim_bodies() {
    let dir = TempDir::new("proto-errors");
    let mut s = Server::start(&dir.0, &["--max-body-bytes", "2000"]);
    s.get("/NoSuchEndpoint").assert_error(404, None);
    s.get("/Users/a/b").assert_error(404, None);
    for id_path in ["/Users/unknown", "/Groups/unknown"] {
        s.get(id_path).assert_error(404, None);
        s.put(id_path, &json!({"userName": "x", "displayName": "x"})).assert_error(404, None);
        s.patch(id_path, &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}))
            .assert_error(404, None);
        s.delete(id_path).assert_error(404, None);
    }
    for (method, path, allow) in [
        ("POST", "/ServiceProviderConfig", "GET"),
        ("PUT", "/Schemas", "GET"),
        ("DELETE", "/ResourceTypes/User", "GET"),
        ("DELETE", "/Users", "GET, POST"),
    ] {
        let r = s.send(method, path, &[], Some("{}".into()));
        r.assert_error(405, None);
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
    s.send("POST", "/Users", &[], Some("{not json".into())).assert_error(400, Some("invalidSyntax"));
    s.send("POST", "/Users", &[("Content-Type", "application/xml")], Some("<user/>".into())).assert_error(415, None);
    // Past the host's limit: refused before the engine sees it.
    let big = json!({"userName": "big", "displayName": "x".repeat(5000)});
    s.post("/Users", &big).assert_error(413, None);
    assert!(s.alive());
    assert_eq!(s.get("/Users").json()["totalResults"], 0);
}

#[test]
fn json_media_types_are_accepted_and_answers_are_scim_json() {
    let dir = TempDir::new("media");
    let s = Server::start(&dir.0, &[]);
    for (i, ct) in ["application/json", "application/scim+json; charset=utf-8", "application/json;charset=UTF-8"]
        .iter()
        .enumerate()
    {
        let r = s.send("POST", "/Users", &[("Content-Type", ct)], Some(user(&format!("u{i}")).to_string()));
        assert_eq!(r.status, 201, "{ct}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/scim+json"));
        let id = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(r.header("location"), Some(s.url(&format!("/Users/{id}")).as_str()));
    }
    // No Content-Type at all is read as JSON.
    let headers = vec![("Authorization", format!("Bearer {TOKEN}"))];
    let r = raw("POST", &s.url("/Users"), &headers, Some(user("plain").to_string().into_bytes()));
    assert_eq!(r.status, 201, "{}", r.text);
    s.send("POST", "/Users", &[("Content-Type", "application/json; charset=iso-8859-1")], Some(user("l").to_string()))
        .assert_error(415, None);
    assert_eq!(s.get("/Users").header("content-type"), Some("application/scim+json"));
}

#[test]
fn me_is_501_on_the_reference_host() {
    let dir = TempDir::new("me");
    let s = Server::start(&dir.0, &[]);
    for method in ["GET", "PUT", "PATCH", "DELETE", "POST"] {
        let r = s.send(method, "/Me", &[], Some(user("me").to_string()));
        r.assert_error(501, None);
    }
}
