//! Nested groups through the engine, over the in-memory store (which has no `ancestors`: the engine walks).

use crate::http::Request;
use crate::store::memory::MemoryStore;
use crate::store::{FilterNode, FlatFilter, Member, Page, Query, Store, StoreResult, Stored, UniqueKey, Update};
use crate::tests::harness::{Harness, BASE_URL};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn add_member(h: &mut Harness, group: &str, member: &str) -> crate::tests::harness::Reply {
    let body =
        json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]});
    h.send("PATCH", &format!("/Groups/{group}"), Some(&body), &[])
}

/// (group display name, type) of a user's `groups`, in the order shown.
fn groups_of(h: &mut Harness, user: &str) -> Vec<(String, String)> {
    let u = h.get(&format!("/Users/{user}")).expect(200);
    u["groups"]
        .as_array()
        .map(|gs| {
            gs.iter().map(|g| (g["display"].as_str().unwrap().into(), g["type"].as_str().unwrap().into())).collect()
        })
        .unwrap_or_default()
}

fn pair(name: &str, kind: &str) -> (String, String) {
    (name.to_string(), kind.to_string())
}

/// `top` ⊃ `middle` ⊃ `bottom` ⊃ alice; bob directly in `top`.
fn hierarchy(h: &mut Harness) -> (String, String, [String; 3]) {
    let alice = h.user("alice");
    let bob = h.user("bob");
    let bottom = h.create("/Groups", &json!({"displayName": "bottom", "members": [{"value": alice}]}));
    let middle =
        h.create("/Groups", &json!({"displayName": "middle", "members": [{"value": bottom, "type": "Group"}]}));
    let top = h.create("/Groups", &json!({"displayName": "top", "members": [{"value": middle}, {"value": bob}]}));
    (alice, bob, [bottom, middle, top])
}

#[test]
fn a_three_level_hierarchy_lists_direct_and_indirect_groups() {
    let mut h = Harness::new();
    let (alice, bob, _) = hierarchy(&mut h);
    assert_eq!(
        groups_of(&mut h, &alice),
        [pair("bottom", "direct"), pair("middle", "indirect"), pair("top", "indirect")]
    );
    assert_eq!(groups_of(&mut h, &bob), [pair("top", "direct")]);
    // A page of users shows the same as each user alone.
    let page = h.get("/Users?filter=userName%20eq%20%22alice%22").expect(200);
    assert_eq!(page["Resources"][0]["groups"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_cycle_is_refused_and_named() {
    let mut h = Harness::new();
    let (alice, _, [bottom, middle, top]) = hierarchy(&mut h);
    let detail = add_member(&mut h, &bottom, &top).expect_error(400, Some("invalidValue"));
    assert!(detail.contains(&format!("{top} > {middle} > {bottom} > {top}")), "{detail}");
    let detail = add_member(&mut h, &middle, &middle).expect_error(400, Some("invalidValue"));
    assert!(detail.contains("cycle"), "{detail}");
    let put = json!({"displayName": "top", "members": [{"value": top}]});
    h.put(&format!("/Groups/{top}"), &put).expect_error(400, Some("invalidValue"));
    assert_eq!(groups_of(&mut h, &alice).len(), 3, "nothing was written");
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let config = json!({"baseUrl": BASE_URL, "limits": {"maxGroupDepth": 3}});
    let mut h = Harness::with_config(&config.to_string());
    let (_, _, [bottom, _, top]) = hierarchy(&mut h);
    let above = h.create("/Groups", &json!({"displayName": "above"}));
    let detail = add_member(&mut h, &above, &top).expect_error(400, Some("invalidValue"));
    assert!(detail.contains("4 levels") && detail.contains("at most 3"), "{detail}");
    let below = h.create("/Groups", &json!({"displayName": "below"}));
    add_member(&mut h, &bottom, &below).expect_error(400, Some("invalidValue"));
    // A new group holding the top of a 3-level chain is as deep.
    let body = json!({"displayName": "new", "members": [{"value": top}]});
    h.post("/Groups", &body).expect_error(400, Some("invalidValue"));
    let user = h.user("carol");
    add_member(&mut h, &bottom, &user).expect(204);
}

#[test]
fn filter_by_groups_value_finds_direct_and_indirect_members() {
    let mut h = Harness::new();
    let (alice, bob, [bottom, middle, top]) = hierarchy(&mut h);
    h.user("carol");
    let users_in = |h: &mut Harness, g: &str| -> Vec<String> {
        let page = h.get(&format!("/Users?filter=groups.value%20eq%20%22{g}%22")).expect(200);
        page["Resources"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(users_in(&mut h, &top), [alice.clone(), bob]);
    assert_eq!(users_in(&mut h, &middle), std::slice::from_ref(&alice));
    assert_eq!(users_in(&mut h, &bottom), [alice]);
    assert!(users_in(&mut h, "nope").is_empty());
}

#[test]
fn deleting_a_group_removes_it_from_its_parents() {
    let mut h = Harness::new();
    let (alice, _, [_, middle, top]) = hierarchy(&mut h);
    h.delete(&format!("/Groups/{middle}")).expect(204);
    let members = h.get(&format!("/Groups/{top}")).expect(200)["members"].clone();
    assert_eq!(members.as_array().map(Vec::len), Some(1));
    assert_eq!(groups_of(&mut h, &alice), [pair("bottom", "direct")]);
}

#[test]
fn nested_members_are_refused_when_switched_off() {
    let config = json!({"baseUrl": BASE_URL, "switches": {"nestedGroups": false}});
    let mut h = Harness::with_config(&config.to_string());
    let inner = h.create("/Groups", &json!({"displayName": "inner"}));
    let outer = h.create("/Groups", &json!({"displayName": "outer"}));
    let detail = add_member(&mut h, &outer, &inner).expect_error(400, Some("invalidValue"));
    assert!(detail.contains(&inner) && detail.contains("nested"), "{detail}");
    let user = h.user("u");
    add_member(&mut h, &outer, &user).expect(204);
    let body: Value = json!({"displayName": "third", "members": [{"value": inner}]});
    h.post("/Groups", &body).expect_error(400, Some("invalidValue"));
}

/// Reads a request makes, and ids that a host numbering users and groups per table also gives to a User.
struct SharedIds<'s> {
    inner: &'s mut MemoryStore,
    also_users: Vec<String>,
    gets: usize,
    searches_by_id: usize,
}

impl Store for SharedIds<'_> {
    fn get(&mut self, resource_type: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        self.gets += 1;
        if resource_type == "User" && self.also_users.iter().any(|u| u == id) {
            let data = json!({"schemas": [USER], "userName": format!("user-{id}")}).to_string();
            return Ok(Some(Stored { id: id.into(), version: "1".into(), data, members: None }));
        }
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
        let by_id = |f: &FlatFilter| f.nodes.iter().any(|n| matches!(n, FilterNode::Compare(c) if c.path == "id"));
        if query.filter.as_ref().is_some_and(by_id) {
            self.searches_by_id += 1;
        }
        self.inner.search(query)
    }
    fn members(&mut self, rt: &str, id: &str, start: u32, count: u32) -> StoreResult<Vec<Member>> {
        self.inner.members(rt, id, start, count)
    }
    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(principal)
    }
}

fn request(method: &str, path: &str, body: &Value) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers: vec![("Content-Type".into(), crate::http::SCIM_JSON.into())],
        body: Some(body.to_string().into_bytes()),
    }
}

#[test]
fn each_added_member_is_looked_up_once_and_its_resolved_type_decides_nesting() {
    let mut h = Harness::new();
    let alice = h.user("alice");
    let inner = h.create("/Groups", &json!({"displayName": "inner"}));
    let outer = h.create("/Groups", &json!({"displayName": "outer"}));
    let typed = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members",
        "value": [{"value": alice, "type": "User"}, {"value": inner, "type": "Group"}]}]});
    let mut store = SharedIds { inner: &mut h.store, also_users: vec![], gets: 0, searches_by_id: 0 };
    let resp = h.engine.handle(&mut store, h.now, None, &request("PATCH", &format!("/Groups/{outer}"), &typed));
    assert_eq!(resp.status, 204, "{}", String::from_utf8_lossy(&resp.body));
    // One read per typed member (the nested one then walked up by `members.value`), no second lookup by id.
    assert_eq!((store.gets, store.searches_by_id), (2, 0));
    assert_eq!(groups_of(&mut h, &alice), [pair("outer", "direct")]);

    // An untyped id that the host also gives to a User is the User's: no nesting, hence no cycle even though
    // it is `outer`'s own id.
    let third = h.create("/Groups", &json!({"displayName": "third", "members": [{"value": inner}]}));
    let untyped = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members",
        "value": [{"value": outer}]}]});
    let mut store = SharedIds { inner: &mut h.store, also_users: vec![outer.clone()], gets: 0, searches_by_id: 0 };
    let resp = h.engine.handle(&mut store, h.now, None, &request("PATCH", &format!("/Groups/{outer}"), &untyped));
    assert_eq!(resp.status, 204, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!((store.gets, store.searches_by_id), (1, 0), "looked up as a User, found, not again as a Group");
    let shown = h.get(&format!("/Groups/{outer}?attributes=members")).expect(200);
    assert!(shown["members"].as_array().unwrap().iter().any(|m| m["value"] == outer && m["type"] == "User"));
    // Resolved as a Group, the same id closes a cycle: third > inner and inner > third.
    add_member(&mut h, &inner, &third).expect_error(400, Some("invalidValue"));
}

#[test]
fn with_nesting_off_a_member_resolved_as_a_group_is_refused() {
    let config = json!({"baseUrl": BASE_URL, "switches": {"nestedGroups": false}});
    let mut h = Harness::with_config(&config.to_string());
    let inner = h.create("/Groups", &json!({"displayName": "inner"}));
    let outer = h.create("/Groups", &json!({"displayName": "outer"}));
    for member in [json!({"value": inner}), json!({"value": inner, "type": "Group"})] {
        let body = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [member]}]});
        let detail =
            h.send("PATCH", &format!("/Groups/{outer}"), Some(&body), &[]).expect_error(400, Some("invalidValue"));
        assert!(detail.contains("nested"), "{detail}");
    }
    // Typed as a User, a group's id names no User.
    let as_user = json!({"displayName": "third", "members": [{"value": outer, "type": "User"}]});
    let detail = h.post("/Groups", &as_user).expect_error(400, Some("invalidValue"));
    assert!(detail.contains("no User"), "{detail}");
}
