//! The protocol through [`crate::Engine::handle`]: ETags and conditional requests, PUT and DELETE semantics,
//! error statuses, media types and `/Me`.

use crate::http::Request;
use crate::tests::harness::{service, Harness};
use serde_json::json;

const DEVICE_CONFIG: &str = r#"{
    "baseUrl": "https://example.com/scim/v2",
    "schemas": [{"id": "urn:example:Device", "name": "Device", "attributes": [
        {"name": "serial", "required": true, "mutability": "immutable"},
        {"name": "label"}]}],
    "customResourceTypes": [{"id": "Device", "name": "Device", "endpoint": "/Devices", "schema": "urn:example:Device"}]
}"#;

#[test]
fn every_single_resource_answer_has_an_etag_equal_to_meta_version() {
    let mut s = service();
    let created = s.post("/Users", &json!({"userName": "bjensen"}));
    let id = created.body["id"].as_str().unwrap().to_string();
    for a in [created, s.get(&format!("/Users/{id}")), s.put(&format!("/Users/{id}"), &json!({"userName": "bjensen"}))]
    {
        let tag = a.header("ETag").expect("ETag header");
        assert!(tag.starts_with("W/\""), "{tag}");
        assert_eq!(a.body["meta"]["version"], tag);
    }
}

#[test]
fn if_match_guards_put_and_delete() {
    let mut s = service();
    let id = s.user("bjensen");
    let path = format!("/Users/{id}");
    let tag = s.get(&path).header("ETag").unwrap().to_string();
    let body = json!({"userName": "bjensen", "displayName": "B"});
    s.send("PUT", &path, Some(&body), &[("If-Match", "W/\"999\"")]).assert_error(412);
    let ok = s.send("PUT", &path, Some(&body), &[("If-Match", &tag)]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    // The old tag no longer matches.
    s.send("PUT", &path, Some(&body), &[("If-Match", &tag)]).assert_error(412);
    s.send("DELETE", &path, None, &[("If-Match", &tag)]).assert_error(412);
    assert_eq!(s.get(&path).status, 200);
    let star = s.send("PUT", &path, Some(&body), &[("If-Match", "*")]);
    assert_eq!(star.status, 200);
    assert_eq!(s.send("DELETE", &path, None, &[("If-Match", "*")]).status, 204);
    s.get(&path).assert_error(404);
}

#[test]
fn if_none_match_answers_304_while_unchanged() {
    let mut s = service();
    let id = s.user("bjensen");
    let path = format!("/Users/{id}");
    let tag = s.get(&path).header("ETag").unwrap().to_string();
    let same = s.send("GET", &path, None, &[("If-None-Match", &tag)]);
    assert_eq!(same.status, 304);
    assert_eq!(same.header("ETag"), Some(tag.as_str()));
    // Without the weak prefix, and in a list, the tag still matches.
    let bare = tag.trim_start_matches("W/");
    assert_eq!(s.send("GET", &path, None, &[("If-None-Match", &format!("\"x\", {bare}"))]).status, 304);
    s.put(&path, &json!({"userName": "bjensen", "title": "new"}));
    assert_eq!(s.send("GET", &path, None, &[("If-None-Match", &tag)]).status, 200);
}

#[test]
fn put_replaces_keeps_password_ignores_read_only_and_body_id() {
    let mut s = service();
    let id = s.user("bjensen");
    let path = format!("/Users/{id}");
    let first = s.put(&path, &json!({"userName": "bjensen", "password": "s3cret!", "title": "Boss", "nickName": "B"}));
    assert_eq!(first.status, 200);
    let created = first.body["meta"]["created"].clone();
    let replaced = s.put(
        &path,
        &json!({
            "id": "something-else", "userName": "bjensen", "title": "Chief",
            "meta": {"created": "1999-01-01T00:00:00Z", "version": "W/\"0\""}
        }),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let b = &replaced.body;
    assert_eq!(b["id"], id.as_str(), "the body id is read-only and ignored");
    assert_eq!(b["title"], "Chief");
    assert!(b.get("nickName").is_none(), "left out of the PUT, so cleared: {b}");
    assert!(b.get("password").is_none(), "never returned");
    assert_eq!(b["meta"]["created"], created);
    assert!(s.get("/Users/something-else").status == 404);
    let stored = &s.store;
    let data = format!("{stored:?}");
    assert!(data.contains("s3cret!"), "the password is kept when the PUT does not send one");
}

#[test]
fn put_cannot_change_an_immutable_attribute() {
    let mut s = Harness::with_config(DEVICE_CONFIG);
    let a = s.post("/Devices", &json!({"serial": "A-1", "label": "x"}));
    assert_eq!(a.status, 201, "{}", a.body);
    let path = format!("/Devices/{}", a.body["id"].as_str().unwrap());
    let changed = s.put(&path, &json!({"serial": "B-2"}));
    changed.assert_error(400);
    assert_eq!(changed.body["scimType"], "mutability");
    let same = s.put(&path, &json!({"serial": "A-1"}));
    assert_eq!(same.status, 200, "{}", same.body);
    assert!(same.body.get("label").is_none());
}

#[test]
fn delete_is_204_and_the_resource_is_gone_everywhere() {
    let mut s = service();
    let alice = s.user("alice");
    let bob = s.user("bob");
    let g = s.post(
        "/Groups",
        &json!({"displayName": "team", "members": [{"value": alice, "type": "User"}, {"value": bob, "type": "User"}]}),
    );
    let group = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let deleted = s.delete(&format!("/Users/{alice}"));
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_null());
    s.get(&format!("/Users/{alice}")).assert_error(404);
    s.delete(&format!("/Users/{alice}")).assert_error(404);
    assert_eq!(s.get("/Users").body["totalResults"], 1);
    assert_eq!(s.get("/Users?filter=userName+eq+%22alice%22").body["totalResults"], 0);
    let members = s.get(&group).body["members"].clone();
    assert_eq!(
        members,
        json!([{"value": bob, "type": "User", "$ref": format!("https://example.com/scim/v2/Users/{bob}")}])
    );
}

#[test]
fn unknown_ids_are_404_for_every_method() {
    let mut s = service();
    s.get("/Users/nope").assert_error(404);
    s.put("/Users/nope", &json!({"userName": "x"})).assert_error(404);
    s.send(
        "PATCH",
        "/Users/nope",
        Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []})),
        &[],
    )
    .assert_error(404);
    s.delete("/Users/nope").assert_error(404);
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let mut s = service();
    let id = s.user("bjensen");
    for (method, path, allow) in [
        ("POST", "/ServiceProviderConfig", "GET"),
        ("DELETE", "/Schemas", "GET"),
        ("PUT", "/ResourceTypes/User", "GET"),
        ("GET", "/Bulk", "POST"),
        ("GET", "/.search", "POST"),
        ("DELETE", "/Users", "GET, POST"),
        ("POST", &format!("/Users/{id}"), "GET, PUT, PATCH, DELETE"),
    ] {
        let a = s.send(method, path, None, &[]);
        a.assert_error(405);
        assert_eq!(a.header("Allow"), Some(allow), "{method} {path}");
    }
}

#[test]
fn unknown_endpoints_are_404() {
    let mut s = service();
    for path in ["/", "/Nothing", "/Users/1/extra", "/Schemas/urn:nope"] {
        s.get(path).assert_error(404);
    }
}

#[test]
fn bodies_malformed_or_not_json_or_too_large() {
    let mut s = Harness::with_config(r#"{"baseUrl":"https://example.com/scim/v2","limits":{"maxBodyBytes":200}}"#);
    let req = |ct: &str, body: &str| Request {
        method: "POST".into(),
        path: "/Users".into(),
        headers: vec![("Content-Type".into(), ct.into())],
        body: Some(body.as_bytes().to_vec()),
        ..Default::default()
    };
    let a = s.raw(&req("application/scim+json", "{\"userName\":"));
    a.assert_error(400);
    assert_eq!(a.body["scimType"], "invalidSyntax");
    s.raw(&req("text/plain", "{\"userName\":\"a\"}")).assert_error(415);
    s.raw(&req("application/json; charset=latin1", "{\"userName\":\"a\"}")).assert_error(415);
    let big = format!("{{\"userName\":\"{}\"}}", "x".repeat(300));
    s.raw(&req("application/scim+json", &big)).assert_error(413);
}

#[test]
fn json_and_scim_json_with_charset_are_accepted_and_answers_are_scim_json() {
    let mut s = service();
    for (i, ct) in ["application/json", "application/scim+json; charset=utf-8", "application/json;charset=UTF-8"]
        .iter()
        .enumerate()
    {
        let a = s.send("POST", "/Users", Some(&json!({"userName": format!("u{i}")})), &[("Content-Type", ct)]);
        assert_eq!(a.status, 201, "{ct}: {}", a.body);
        assert_eq!(a.header("Content-Type"), Some("application/scim+json"));
        let id = a.body["id"].as_str().unwrap();
        assert_eq!(a.header("Location"), Some(format!("https://example.com/scim/v2/Users/{id}").as_str()));
    }
    assert_eq!(s.get("/Users").header("Content-Type"), Some("application/scim+json"));
    assert_eq!(s.get("/Nothing").header("Content-Type"), Some("application/scim+json"));
}

#[test]
fn me_is_501_without_principal_support_or_without_principal() {
    let mut s = service();
    s.principal = Some("bjensen".into());
    let a = s.get("/Me");
    a.assert_error(501);
    assert!(a.body["detail"].as_str().unwrap().contains("principal"));
    s.store.principals.insert("someone".into(), ("User".into(), "1".into()));
    s.principal = None;
    s.get("/Me").assert_error(501);
}

#[test]
fn me_is_the_principal_s_own_resource() {
    let mut s = service();
    let id = s.user("bjensen");
    s.store.principals.insert("bjensen@idp".into(), ("User".into(), id.clone()));
    s.principal = Some("bjensen@idp".into());
    let me = s.get("/Me?attributes=userName");
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], id.as_str());
    assert_eq!(me.body["userName"], "bjensen");
    assert!(me.header("ETag").is_some());
    let put = s.put("/Me", &json!({"userName": "bjensen", "displayName": "Babs"}));
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(s.get(&format!("/Users/{id}")).body["displayName"], "Babs");
    s.post("/Me", &json!({"userName": "x"})).assert_error(501);
    s.get("/Me/extra").assert_error(404);
    assert_eq!(s.delete("/Me").status, 204);
    s.get("/Me").assert_error(404);
    s.principal = Some("stranger".into());
    s.get("/Me").assert_error(404);
}

/// A list under the default projection is written from the stored text; every resource in it is the same JSON
/// a GET of that resource answers: hidden and `returned: request` attributes, stored keys the schema lacks,
/// empty values, extensions, members and the computed `groups` included.
#[test]
fn a_listed_resource_is_what_its_get_answers() {
    let mut h = Harness::new();
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let full = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ent],
        "userName": "bjensen", "password": "t1meMa$heen", "displayName": "Babs \"B\" Jensen", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen\u{e9}"},
        "emails": [{"value": "b@work.example", "type": "work", "primary": true}, {"value": "b@home.example"}],
        "phoneNumbers": [{"value": "555-1", "type": "work"}], "x509Certificates": [{"value": "MIIC"}],
        ent: {"employeeNumber": "701984", "manager": {"value": "boss"}}
    });
    let bjensen = h.create("/Users", &full);
    let plain = h.user("plain");
    h.create("/Groups", &json!({"displayName": "Tour", "members": [{"value": bjensen}, {"value": plain}]}));
    h.create("/Groups", &json!({"displayName": "Solo", "members": [{"value": bjensen}]}));
    // Stored as another writer of the database may have left them: keys the schema lacks, empty values,
    // an escaped key, a stored `groups` and `id`.
    let odd = [
        r#"{"userName":"odd1","nickName":null,"emails":[],"ims":[{}],"addresses":[{"street":"x","type":"work"}],"unknown":1}"#,
        r#"{"userName":"odd2","name":{},"emails":[{"value":"a@b.c","secret":"s"}],"groups":[{"value":"g"}],"id":"x"}"#,
        r#"{"userName":"odd3","title":"t","user\u004eame2":"y","meta":{"created":"2020-01-01T00:00:00Z"}}"#,
        r#"{"userName":"odd4","roles":["admin"],"name":"flat","photos":{"value":"https://p.example/1"}}"#,
    ];
    for data in odd {
        crate::store::Store::create(&mut h.store, "User", data, &[], &[]).expect("stored");
    }
    for query in ["", "?startIndex=2&count=3", "?filter=userName%20pr", "?sortBy=userName"] {
        let list = h.get(&format!("/Users{query}")).expect(200);
        let listed = list["Resources"].as_array().expect("Resources");
        assert!(!listed.is_empty(), "{query}");
        for resource in listed {
            let id = resource["id"].as_str().expect("an id");
            assert_eq!(resource, &h.get(&format!("/Users/{id}")).expect(200), "{query}");
        }
    }
    let listed = h.get("/Users?count=2").expect(200);
    assert_eq!(listed["Resources"][0]["groups"].as_array().map(Vec::len), Some(2), "{listed}");
    assert_eq!(listed["Resources"][0].get("password"), None);
    assert_eq!((listed["totalResults"].as_u64(), listed["itemsPerPage"].as_u64()), (Some(6), Some(2)));
    let groups = h.get("/Groups").expect(200);
    for group in groups["Resources"].as_array().expect("Resources") {
        let id = group["id"].as_str().expect("an id");
        assert_eq!(group, &h.get(&format!("/Groups/{id}")).expect(200));
    }
}
