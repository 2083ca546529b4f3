//! Conformance gaps found by independent suites and clients, each checked through the whole engine: group
//! members resolved on the way in, duplicate values, filtered-path writes, required extensions, discovery's
//! own schemas, value filters in `attributes`, and the tolerances for unquoted filter literals and core
//! attributes nested under the core URN.

use crate::store::memory::MemoryStore;
use crate::store::{Member, Page, Query, Store, StoreResult, Stored, UniqueKey, Update};
use crate::tests::harness::{Harness, BASE_URL};
use crate::tolerance::{self, Tolerance};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// An engine with only these tolerances enabled.
fn with_tolerances(names: &[&str]) -> Harness {
    Harness::with_config(&json!({"baseUrl": BASE_URL, "switches": {"tolerances": names}}).to_string())
}

fn patch(h: &mut Harness, path: &str, ops: Value) -> crate::tests::harness::Reply {
    h.send(
        "PATCH",
        path,
        Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})),
        &[],
    )
}

/// Counts the reads a request makes, to show that resolving members costs one read per added member.
struct Counting<'s> {
    inner: &'s mut MemoryStore,
    gets: usize,
}

impl Store for Counting<'_> {
    fn get(&mut self, resource_type: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        self.gets += 1;
        self.inner.get(resource_type, id, with_members)
    }
    fn create(&mut self, rt: &str, data: &str, unique: &[UniqueKey], members: &[Member]) -> StoreResult<Stored> {
        self.inner.create(rt, data, unique, members)
    }
    fn update(&mut self, change: &Update) -> StoreResult<Stored> {
        self.inner.update(change)
    }
    fn delete(&mut self, rt: &str, id: &str, if_version: Option<&str>) -> StoreResult<()> {
        self.inner.delete(rt, id, if_version)
    }
    fn search(&mut self, query: &Query) -> StoreResult<Page> {
        self.inner.search(query)
    }
    fn members(&mut self, rt: &str, id: &str, start: u32, count: u32) -> StoreResult<Vec<Member>> {
        self.inner.members(rt, id, start, count)
    }
    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(principal)
    }
}

#[test]
fn members_added_without_type_get_type_and_ref() {
    let mut h = Harness::new();
    let alice = h.user("alice");
    let team = h.create("/Groups", &json!({"displayName": "team"}));
    let group =
        h.post("/Groups", &json!({"displayName": "all", "members": [{"value": alice}, {"value": team}]})).expect(201);
    assert_eq!(
        group["members"],
        json!([
            {"value": alice, "type": "User", "$ref": format!("{BASE_URL}/Users/{alice}")},
            {"value": team, "type": "Group", "$ref": format!("{BASE_URL}/Groups/{team}")}
        ])
    );
    let id = group["id"].as_str().unwrap().to_string();
    let bob = h.user("bob");
    patch(&mut h, &format!("/Groups/{id}"), json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]))
        .expect(204);
    let shown = h.get(&format!("/Groups/{id}?attributes=members")).expect(200);
    assert!(shown["members"]
        .as_array()
        .unwrap()
        .contains(&json!({"value": bob, "type": "User", "$ref": format!("{BASE_URL}/Users/{bob}")})));
    // PUT resolves its members too.
    let put = h.put(&format!("/Groups/{id}"), &json!({"displayName": "all", "members": [{"value": team}]})).expect(200);
    assert_eq!(put["members"][0]["type"], "Group");
}

#[test]
fn a_member_id_that_exists_nowhere_is_refused_and_nothing_is_written() {
    let mut h = Harness::new();
    let alice = h.user("alice");
    let d = h
        .post("/Groups", &json!({"displayName": "g", "members": [{"value": alice}, {"value": "nobody"}]}))
        .expect_error(400, Some("invalidValue"));
    assert!(d.contains("nobody"), "{d}");
    assert_eq!(h.get("/Groups").expect(200)["totalResults"], 0);
    let id = h.create("/Groups", &json!({"displayName": "g", "members": [{"value": alice}]}));
    let path = format!("/Groups/{id}");
    let d = patch(&mut h, &path, json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]))
        .expect_error(400, Some("invalidValue"));
    assert!(d.contains("nobody"), "{d}");
    // A type given is checked: alice is no Group.
    patch(&mut h, &path, json!([{"op": "add", "path": "members", "value": [{"value": alice, "type": "Group"}]}]))
        .expect_error(400, Some("invalidValue"));
    h.put(&path, &json!({"displayName": "g", "members": [{"value": "nobody"}]}))
        .expect_error(400, Some("invalidValue"));
    let shown = h.get(&path).expect(200);
    assert_eq!(
        shown["members"],
        json!([{"value": alice, "type": "User", "$ref": format!("{BASE_URL}/Users/{alice}")}])
    );
}

#[test]
fn resolving_members_costs_one_read_per_added_member() {
    let mut h = Harness::new();
    let users: Vec<String> = (0..5).map(|i| h.user(&format!("u{i}"))).collect();
    let id = h.create("/Groups", &json!({"displayName": "g"}));
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "add", "path": "members", "value": users.iter().map(|u| json!({"value": u})).collect::<Vec<_>>()}]});
    let req = crate::http::Request {
        method: "PATCH".into(),
        path: format!("/Groups/{id}"),
        query: String::new(),
        headers: vec![("Content-Type".into(), crate::http::SCIM_JSON.into())],
        body: Some(body.to_string().into_bytes()),
    };
    let mut counting = Counting { inner: &mut h.store, gets: 0 };
    let resp = h.engine.handle(&mut counting, h.now, None, &req);
    assert_eq!(resp.status, 204);
    assert_eq!(counting.gets, users.len());
}

#[test]
fn bulk_members_by_bulk_id_are_resolved() {
    let mut h = Harness::new();
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "g", "members": [{"value": "bulkId:u"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "u"}}]});
    let out = h.post("/Bulk", &ops).expect(200);
    assert_eq!(out["Operations"][1]["status"], "201", "{out}");
    let group = h.get("/Groups").expect(200)["Resources"][0].clone();
    assert_eq!(group["members"][0]["type"], "User");
}

#[test]
fn the_same_type_and_value_is_stored_once() {
    let mut h = Harness::new();
    let created = h
        .post(
            "/Users",
            &json!({"userName": "u", "emails": [
        {"value": "a@x.org", "type": "work"}, {"value": "A@X.org", "type": "Work", "primary": true},
        {"value": "a@x.org", "type": "home"}]}),
        )
        .expect(201);
    assert_eq!(
        created["emails"],
        json!([{"value": "a@x.org", "type": "work", "primary": true}, {"value": "a@x.org", "type": "home"}])
    );
    let id = created["id"].as_str().unwrap().to_string();
    let replaced = patch(
        &mut h,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "emails", "value": [
        {"value": "b@x.org", "type": "work"}, {"value": "b@x.org", "type": "work"}]}]),
    )
    .expect(200);
    assert_eq!(replaced["emails"], json!([{"value": "b@x.org", "type": "work"}]));
}

#[test]
fn replace_on_a_filter_that_matches_nothing_follows_the_tolerance() {
    let mut h = Harness::new();
    let id = h.create("/Users", &json!({"userName": "u", "emails": [{"value": "a@x.org", "type": "home"}]}));
    let path = format!("/Users/{id}");
    let op = |filter: &str| json!([{"op": "replace", "path": format!("emails[type eq \"{filter}\"].value"), "value": "w@x.org"}]);
    // No valid element is described: noTarget, never invalidValue.
    patch(&mut h, &path, op("nonexistent")).expect_error(400, Some("noTarget"));
    tolerance::reset();
    let created = patch(&mut h, &path, op("work")).expect(200);
    assert!(created["emails"].as_array().unwrap().contains(&json!({"value": "w@x.org", "type": "work"})));
    assert!(tolerance::fired().contains(&Tolerance::CreateOnFilteredPath));

    let mut strict = with_tolerances(&[]);
    let id = strict.create("/Users", &json!({"userName": "u", "emails": [{"value": "a@x.org", "type": "home"}]}));
    let path = format!("/Users/{id}");
    patch(&mut strict, &path, op("work")).expect_error(400, Some("noTarget"));
    patch(&mut strict, &path, op("nonexistent")).expect_error(400, Some("noTarget"));
    assert_eq!(strict.get(&path).expect(200)["emails"], json!([{"value": "a@x.org", "type": "home"}]));
}

#[test]
fn a_required_extension_is_enforced_on_every_write() {
    const APP: &str = "urn:example:params:scim:schemas:extension:app:2.0:User";
    let config = json!({"baseUrl": BASE_URL,
        "schemas": [{"id": APP, "name": "App", "attributes": [{"name": "badge"}, {"name": "team"}]}],
        "extensions": {"User": [{"schema": APP, "required": true}]}});
    let mut h = Harness::with_config(&config.to_string());
    let d = h.post("/Users", &json!({"userName": "u"})).expect_error(400, Some("invalidValue"));
    assert!(d.contains(APP), "{d}");
    h.post("/Users", &json!({"userName": "u", APP: {}})).expect_error(400, Some("invalidValue"));
    h.post("/Users", &json!({"userName": "u", APP: {"badge": null}})).expect_error(400, Some("invalidValue"));
    let id = h.create("/Users", &json!({"userName": "u", APP: {"badge": "7"}}));
    let flat = h.create("/Users", &json!({"userName": "v", format!("{APP}:badge"): "8"}));
    let path = format!("/Users/{id}");
    h.put(&path, &json!({"userName": "u"})).expect_error(400, Some("invalidValue"));
    patch(&mut h, &path, json!([{"op": "remove", "path": APP}])).assert_error(400);
    patch(&mut h, &path, json!([{"op": "remove", "path": format!("{APP}:badge")}])).assert_error(400);
    patch(&mut h, &path, json!([{"op": "replace", "path": APP, "value": null}])).assert_error(400);
    assert_eq!(h.get(&path).expect(200)[APP]["badge"], "7");
    assert_eq!(h.get(&format!("/Users/{flat}")).expect(200)[APP]["badge"], "8");
}

#[test]
fn schemas_lists_the_discovery_schemas() {
    let mut h = Harness::new();
    let all = h.get("/Schemas").expect(200);
    let ids: Vec<&str> = all["Resources"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    for urn in ["ServiceProviderConfig", "ResourceType", "Schema"]
        .map(|n| format!("urn:ietf:params:scim:schemas:core:2.0:{n}"))
    {
        assert!(ids.contains(&urn.as_str()), "{ids:?}");
        assert_eq!(h.get(&format!("/Schemas/{urn}")).expect(200)["id"], urn);
    }
    assert_eq!(all["totalResults"], 6);
}

#[test]
fn a_value_filter_in_attributes_is_answered_or_refused() {
    let mut h = Harness::new();
    let id = h.create(
        "/Users",
        &json!({"userName": "u", "emails": [
        {"value": "w@x.org", "type": "work"}, {"value": "h@x.org", "type": "home"}]}),
    );
    let one = h.get(&format!("/Users/{id}?attributes=emails%5Btype+eq+%22work%22%5D")).expect(200);
    assert_eq!(one["emails"], json!([{"value": "w@x.org", "type": "work"}]));
    assert_eq!(one["id"], id.as_str());
    assert!(one.get("userName").is_none());
    let listed = h.get("/Users?attributes=emails%5Btype+eq+%22work%22%5D.value").expect(200);
    assert_eq!(listed["Resources"][0]["emails"], json!([{"value": "w@x.org"}]));
    h.get(&format!("/Users/{id}?attributes=emails%5Btype+eq%5D")).expect_error(400, Some("invalidFilter"));
    h.get("/Users?attributes=userName%5Bvalue+eq+%22u%22%5D").expect_error(400, Some("invalidFilter"));
    // A PATCH with a projection it cannot apply writes nothing.
    patch(
        &mut h,
        &format!("/Users/{id}?attributes=emails%5Btype+eq%5D"),
        json!([{"op": "replace", "path": "displayName", "value": "D"}]),
    )
    .assert_error(400);
    assert!(h.get(&format!("/Users/{id}")).expect(200).get("displayName").is_none());
}

#[test]
fn unquoted_filter_literals_are_a_named_tolerance() {
    let mut h = Harness::new();
    h.user("jdoe");
    tolerance::reset();
    assert_eq!(h.get("/Users?filter=userName+eq+jdoe").expect(200)["totalResults"], 1);
    assert!(tolerance::fired().contains(&Tolerance::UnquotedFilterLiteral));
    let seven = "meta.created+gt+2015-10-10T14:38:21.8617979-07:00";
    assert_eq!(h.get(&format!("/Users?filter={seven}")).expect(200)["totalResults"], 1);
    assert_eq!(
        h.get("/Users?filter=meta.created+gt+%222015-10-10T14:38:21.8617979-07:00%22").expect(200)["totalResults"],
        1
    );
    // Literals keep their kind; quoted text is unchanged.
    assert_eq!(h.get("/Users?filter=active+eq+true+or+userName+eq+%22jdoe%22").expect(200)["totalResults"], 1);
    assert_eq!(h.get("/Users?filter=(userName+eq+JDOE)").expect(200)["totalResults"], 1);

    let mut strict = with_tolerances(&[]);
    strict.user("jdoe");
    strict.get("/Users?filter=userName+eq+jdoe").expect_error(400, Some("invalidFilter"));
    strict.get(&format!("/Users?filter={seven}")).expect_error(400, Some("invalidFilter"));
    assert_eq!(strict.get("/Users?filter=userName+eq+%22jdoe%22").expect(200)["totalResults"], 1);
}

#[test]
fn core_attributes_nested_under_the_core_urn_are_a_named_tolerance() {
    let body =
        json!({"schemas": [USER], USER: {"userName": "bjensen", "name": {"givenName": "Barbara"}}, "displayName": "B"});
    let mut h = Harness::new();
    tolerance::reset();
    let created = h.post("/Users", &body).expect(201);
    assert_eq!(
        (created["userName"].as_str(), created["name"]["givenName"].as_str()),
        (Some("bjensen"), Some("Barbara"))
    );
    assert_eq!(created["displayName"], "B");
    assert!(created.get(USER).is_none());
    assert!(tolerance::fired().contains(&Tolerance::CoreSchemaObject));
    h.post("/Users", &json!({USER: "bjensen"})).expect_error(400, Some("invalidValue"));
    with_tolerances(&[]).post("/Users", &body).expect_error(400, Some("invalidValue"));
}

#[test]
fn each_tolerance_can_be_switched_off() {
    let mut strict = with_tolerances(&[]);
    strict.post("/Users", &json!({"userName": "a", "active": "True"})).expect_error(400, Some("invalidValue"));
    strict
        .post("/Users", &json!({"userName": "a", "emails": {"value": "a@x.org"}}))
        .expect_error(400, Some("invalidValue"));
    strict
        .post("/Users", &json!({"userName": "a", ENTERPRISE: {"manager": "26118915"}}))
        .expect_error(400, Some("invalidValue"));
    let id = strict.user("a");
    let path = format!("/Users/{id}");
    patch(&mut strict, &path, json!([{"op": "Replace", "path": "active", "value": false}]))
        .expect_error(400, Some("invalidSyntax"));
    strict
        .send("PATCH", &path, Some(&json!({"Operations": [{"op": "replace", "path": "active", "value": false}]})), &[])
        .expect_error(400, Some("invalidSyntax"));
    patch(&mut strict, &path, json!([{"op": "replace", "value": {"id": id, "displayName": "x"}}]))
        .expect_error(400, Some("mutability"));
    patch(&mut strict, &path, json!([{"op": "remove", "path": "emails", "value": [{"value": "a@x.org"}]}]))
        .expect_error(400, Some("invalidSyntax"));
    strict
        .get("/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22a%22")
        .expect_error(400, Some("invalidFilter"));

    let mut tolerant = Harness::new();
    tolerance::reset();
    let made = tolerant
        .post("/Users", &json!({"userName": "a", "active": "True", "emails": {"value": "a@x.org"}}))
        .expect(201);
    assert_eq!((made["active"].clone(), made["emails"][0]["value"].clone()), (json!(true), json!("a@x.org")));
    let fired = tolerance::fired();
    assert!(fired.contains(&Tolerance::BooleanString) && fired.contains(&Tolerance::SingleValueAsList), "{fired:?}");
    assert!(!fired.contains(&Tolerance::OperationNameCase), "{fired:?}");
}

#[test]
fn the_tolerances_a_request_used_are_reported_when_asked() {
    let config = json!({"baseUrl": BASE_URL, "switches": {"reportTolerances": true}});
    let mut h = Harness::with_config(&config.to_string());
    let made = h.post("/Users", &json!({"userName": "a", "active": "True"}));
    assert_eq!(made.header(tolerance::REPORT_HEADER), Some("boolean-string"));
    let id = made.body["id"].as_str().unwrap().to_string();
    let patched = h.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(&json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]})),
        &[],
    );
    assert_eq!(
        patched.header(tolerance::REPORT_HEADER),
        Some("boolean-string,operation-name-case,patch-without-schemas")
    );
    assert_eq!(h.get(&format!("/Users/{id}")).header(tolerance::REPORT_HEADER), None);
    // Not asked: never sent.
    let mut quiet = Harness::new();
    assert_eq!(
        quiet.post("/Users", &json!({"userName": "a", "active": "True"})).header(tolerance::REPORT_HEADER),
        None
    );
}

#[test]
fn the_strict_profile_follows_the_interop_profile() {
    let config = json!({"baseUrl": BASE_URL, "switches": {"profile": "strict", "tolerances": ["boolean-string"]}});
    let mut h = Harness::with_config(&config.to_string());
    assert_eq!(h.get("/ServiceProviderConfig").expect(200)["interopProfileConformant"], true);
    assert!(Harness::new().get("/ServiceProviderConfig").expect(200).get("interopProfileConformant").is_none());
    let d = h.post("/Users", &json!({"userName": "a", "nickname2": "x"})).expect_error(400, Some("invalidSyntax"));
    assert!(d.contains("nickname2"), "{d}");
    // No tolerance, whatever the list says.
    h.post("/Users", &json!({"userName": "a", "active": "True"})).expect_error(400, Some("invalidValue"));
    let id = h.user("Alice");
    let path = format!("/Users/{id}");
    patch(&mut h, &path, json!([{"op": "replace", "value": {"displayName": "A"}}]))
        .expect_error(400, Some("invalidSyntax"));
    // A remove without a path keeps the error RFC 7644 §3.5.2.2 names for it.
    patch(&mut h, &path, json!([{"op": "remove"}])).expect_error(400, Some("noTarget"));
    patch(&mut h, &path, json!([{"op": "replace", "path": "displayName", "value": "A"}])).expect(200);
    // An extension's object may name its own schema, as libraries that model it as a resource write it; any
    // other `schemas` there is an unknown attribute.
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let own = json!({"schemas": [ent], "employeeNumber": "7"});
    patch(&mut h, &path, json!([{"op": "add", "path": ent, "value": own}])).expect(200);
    assert_eq!(h.get(&path).expect(200)[ent], json!({"employeeNumber": "7"}));
    let other = json!({"schemas": ["urn:example:other"], "employeeNumber": "8"});
    patch(&mut h, &path, json!([{"op": "replace", "path": ent, "value": other}]))
        .expect_error(400, Some("invalidSyntax"));
    h.post("/Users", &json!({"userName": "b", ent: {"schemas": [ent], "costCenter": "4"}})).expect(201);
    // A filter on an attribute the resource type does not have is refused (tolerant: it matches nothing).
    for filter in ["bogus+eq+%22x%22", "emails%5Bbogus+eq+%22x%22%5D", "name.bogus+pr"] {
        h.get(&format!("/Users?filter={filter}")).expect_error(400, Some("invalidFilter"));
        assert_eq!(Harness::new().get(&format!("/Users?filter={filter}")).expect(200)["totalResults"], 0);
    }
    // A schema URI the resource type does not have is refused (tolerant: informational).
    let schemas = json!(["urn:ietf:params:scim:schemas:core:2.0:User", "urn:example:vendor:User"]);
    h.post("/Users", &json!({"schemas": schemas, "userName": "c"})).expect_error(400, Some("invalidSyntax"));
    Harness::new().post("/Users", &json!({"schemas": schemas, "userName": "c"})).expect(201);
    // Case rules: what a filter finds without case, uniqueness refuses without case.
    assert_eq!(h.get("/Users?filter=userName+eq+%22ALICE%22").expect(200)["totalResults"], 1);
    h.post("/Users", &json!({"userName": "ALICE"})).expect_error(409, Some("uniqueness"));
    // DELETE deletes: 404 afterwards, and the userName is free again.
    h.delete(&path).expect(204);
    h.get(&path).expect_error(404, None);
    h.post("/Users", &json!({"userName": "alice"})).expect(201);
}
