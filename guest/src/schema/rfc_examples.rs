//! The RFC 7643 §8 examples, POSTed and read back through the engine: only what the server manages may
//! differ (id, meta), write-only and read-only input (password, groups, manager.displayName) is not echoed.

use crate::tests::harness::{fixture, Harness, BASE_URL};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// POSTs a fixture, GETs it back, checks the server-managed parts and returns the rest with the expected
/// fixture (both without id and meta).
fn round_trip(h: &mut Harness, endpoint: &str, name: &str) -> (Value, Value, String) {
    let mut sent = fixture(name);
    let created = h.post(endpoint, &sent).expect(201);
    let id = created["id"].as_str().unwrap().to_string();
    assert_ne!(id, sent["id"], "the client's id is not taken");
    let mut got = h.get(&format!("{endpoint}/{id}")).expect(200);
    assert_eq!(got, created, "GET answers what POST answered");
    let meta = got.as_object_mut().unwrap().remove("meta").unwrap();
    let resource_type = sent["meta"]["resourceType"].clone();
    assert_eq!(meta["resourceType"], resource_type);
    assert_eq!(meta["location"], format!("{BASE_URL}{endpoint}/{id}"));
    assert_eq!(meta["created"], "2024-01-02T03:04:05.000Z", "the server's clock, not the client's meta");
    assert_eq!(meta["lastModified"], meta["created"]);
    assert_eq!(meta["version"], "W/\"1\"");
    let obj = got.as_object_mut().unwrap();
    assert_eq!(obj.remove("id").unwrap(), id);
    let expected = sent.as_object_mut().unwrap();
    expected.remove("id");
    expected.remove("meta");
    (Value::Object(expected.clone()), got, id)
}

#[test]
fn minimal_user_8_1() {
    let mut h = Harness::new();
    let (expected, got, _) = round_trip(&mut h, "/Users", "rfc7643_8_1_minimal_user.json");
    assert_eq!(got, expected);
}

fn without_server_managed(mut user: Value) -> Value {
    let obj = user.as_object_mut().unwrap();
    assert!(obj.remove("password").is_some());
    assert!(obj.remove("groups").is_some());
    user
}

#[test]
fn full_user_8_2() {
    let mut h = Harness::new();
    let (expected, got, _) = round_trip(&mut h, "/Users", "rfc7643_8_2_full_user.json");
    assert_eq!(got, without_server_managed(expected));
}

#[test]
fn enterprise_user_8_3() {
    let mut h = Harness::new();
    let (expected, got, _) = round_trip(&mut h, "/Users", "rfc7643_8_3_enterprise_user.json");
    let mut expected = without_server_managed(expected);
    let manager = expected[ENTERPRISE]["manager"].as_object_mut().unwrap();
    assert!(manager.remove("displayName").is_some(), "manager.displayName is read-only");
    assert_eq!(got, expected);
    assert_eq!(got["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]));
}

#[test]
fn group_8_4() {
    let mut h = Harness::new();
    // The members the example names exist, as the engine checks.
    for id in ["2819c223-7f76-453a-919d-413861904646", "902c246b-6245-4190-8e05-00816be7344a"] {
        h.store.insert("User", id, r#"{"userName":"member"}"#);
    }
    let (expected, got, _) = round_trip(&mut h, "/Groups", "rfc7643_8_4_group.json");
    let mut expected = expected;
    for m in expected["members"].as_array_mut().unwrap() {
        m["type"] = json!("User");
    }
    assert_eq!(got, expected, "members come back with the type their $ref names");
}

#[test]
fn user_shows_the_groups_it_is_a_member_of() {
    let mut h = Harness::new();
    let user = h.create("/Users", &fixture("rfc7643_8_1_minimal_user.json"));
    let other = h.create("/Users", &json!({"userName": "other"}));
    let group =
        h.create("/Groups", &json!({"displayName": "Tour Guides", "members": [{"value": user, "type": "User"}]}));
    h.create("/Groups", &json!({"displayName": "Others", "members": [{"value": other}]}));
    let got = h.get(&format!("/Users/{user}")).expect(200);
    assert_eq!(
        got["groups"],
        json!([{"value": group, "$ref": format!("{BASE_URL}/Groups/{group}"), "type": "direct", "display": "Tour Guides"}])
    );
    let listed = h.get("/Users?attributes=groups.display").expect(200);
    assert_eq!(listed["Resources"][0]["groups"], json!([{"display": "Tour Guides"}]));
    assert_eq!(listed["Resources"][1]["groups"], json!([{"display": "Others"}]));
    let alone = h.create("/Users", &json!({"userName": "alone"}));
    assert!(h.get(&format!("/Users/{alone}")).expect(200).get("groups").is_none());
    assert!(h.get(&format!("/Users/{user}?excludedAttributes=groups")).expect(200).get("groups").is_none());
}
