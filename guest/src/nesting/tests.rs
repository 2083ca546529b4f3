//! Nested groups through the engine, over the in-memory store (which has no `ancestors`: the engine walks).

use crate::tests::harness::{Harness, BASE_URL};
use serde_json::{json, Value};

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

#[test]
fn a_member_typed_as_a_user_is_not_taken_for_a_group() {
    let config = json!({"baseUrl": BASE_URL, "switches": {"nestedGroups": false}});
    let mut h = Harness::with_config(&config.to_string());
    let inner = h.create("/Groups", &json!({"displayName": "inner"}));
    let outer = h.create("/Groups", &json!({"displayName": "outer"}));
    let typed = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members",
                                                          "value": [{"value": inner, "type": "User"}]}]});
    h.send("PATCH", &format!("/Groups/{outer}"), Some(&typed), &[]).expect(204);
    let as_group = json!({"displayName": "third", "members": [{"value": outer, "type": "Group"}]});
    h.post("/Groups", &as_group).expect_error(400, Some("invalidValue"));
}
