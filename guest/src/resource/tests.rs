//! Validation through the engine, one test per characteristic and its rejection path.

use super::*;
use crate::config::Config;

fn user_rt(cfg: &Config) -> &ResourceType {
    cfg.registry.resource_type("User").unwrap()
}

#[test]
fn canonicalises_names_and_drops_read_only() {
    let cfg = Config::test();
    let body = json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "USERNAME":"bjensen","id":"x","meta":{"created":"2000-01-01T00:00:00Z"},
        "Emails":[{"Value":"b@example.com","TYPE":"Work","primary":true}], "active":"True"});
    let p = ingest(&cfg, user_rt(&cfg), body, None).unwrap();
    assert_eq!(p.data["userName"], "bjensen");
    assert_eq!(p.data["emails"][0]["type"], "work");
    assert_eq!(p.data["active"], true);
    assert!(!p.data.contains_key("id") && !p.data.contains_key("meta"));
    assert_eq!(p.unique, vec![UniqueKey { attribute: "userName".into(), value: "bjensen".into() }]);
}

#[test]
fn missing_required_attribute_is_invalid_value() {
    let cfg = Config::test();
    let e = ingest(&cfg, user_rt(&cfg), json!({"displayName":"x"}), None).unwrap_err();
    assert_eq!(e.kind.scim_type(), Some("invalidValue"));
    assert!(e.detail.contains("userName"));
}

#[test]
fn wrong_type_names_the_attribute() {
    let cfg = Config::test();
    let e = ingest(&cfg, user_rt(&cfg), json!({"userName":"a","active":3}), None).unwrap_err();
    assert!(e.detail.contains("active"), "{}", e.detail);
}

#[test]
fn two_primaries_are_refused() {
    let cfg = Config::test();
    let body = json!({"userName":"a","emails":[{"value":"a","primary":true},{"value":"b","primary":true}]});
    assert!(ingest(&cfg, user_rt(&cfg), body, None).is_err());
}

#[test]
fn members_are_kept_apart() {
    let cfg = Config::test();
    let rt = cfg.registry.resource_type("Group").unwrap();
    let body = json!({"displayName":"g","members":[{"value":"1","type":"User"},{"$ref":"2"},{"value":"1"}]});
    let p = ingest(&cfg, rt, body, None).unwrap();
    let members = p.members.unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[1].value, "2");
    assert!(!p.data.contains_key("members"));
}

// Through the engine: each characteristic's rejection path, with its status, scimType and detail.

use crate::tests::harness::{Harness, BASE_URL};
use serde_json::Value;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn rejected(h: &mut Harness, body: Value) -> String {
    h.post("/Users", &body).expect_error(400, Some("invalidValue"))
}

#[test]
fn type_string() {
    let d = rejected(&mut Harness::new(), json!({"userName":"a","displayName":7}));
    assert_eq!(d, "displayName: expected a string");
}

#[test]
fn type_boolean() {
    let d = rejected(&mut Harness::new(), json!({"userName":"a","active":"yes"}));
    assert!(d.starts_with("active: expected a boolean"), "{d}");
}

#[test]
fn type_binary() {
    let d = rejected(&mut Harness::new(), json!({"userName":"a","x509Certificates":[{"value":"not base64!"}]}));
    assert!(d.starts_with("x509Certificates.value: expected base64"), "{d}");
}

#[test]
fn type_reference() {
    let d = rejected(&mut Harness::new(), json!({"userName":"a","profileUrl":{"href":"x"}}));
    assert!(d.starts_with("profileUrl: expected a reference"), "{d}");
}

#[test]
fn type_complex() {
    let d = rejected(&mut Harness::new(), json!({"userName":"a","name":[{"givenName":"x"}]}));
    assert_eq!(d, "name: expected a single value, not a list");
    let d = rejected(&mut Harness::new(), json!({"userName":"a","emails":[true]}));
    assert_eq!(d, "emails.value: expected a string", "a bare value is taken as the complex value's `value`");
}

#[test]
fn type_in_extension_names_the_full_path() {
    let d = rejected(&mut Harness::new(), json!({"userName":"a", ENTERPRISE: {"manager": {"value": 26118915}}}));
    assert_eq!(d, format!("{ENTERPRISE}:manager.value: expected a string"));
    let d = rejected(&mut Harness::new(), json!({"userName":"a", ENTERPRISE: "x"}));
    assert!(d.starts_with(ENTERPRISE), "{d}");
}

#[test]
fn multi_valued() {
    let mut h = Harness::new();
    let d = rejected(&mut h, json!({"userName":"a","emails":[[{"value":"x"}]]}));
    assert_eq!(d, "emails: a list cannot hold lists");
    let single = h.post("/Users", &json!({"userName":"a","emails":{"value":"a@x"}})).expect(201);
    assert_eq!(single["emails"], json!([{"value":"a@x"}]), "a single value is taken as a list of one");
}

#[test]
fn required() {
    let d = rejected(&mut Harness::new(), json!({"displayName":"x"}));
    assert_eq!(d, "userName is required");
    let mut h = Harness::new();
    let d = h.post("/Groups", &json!({"members": []})).expect_error(400, Some("invalidValue"));
    assert_eq!(d, "displayName is required");
}

#[test]
fn canonical_values() {
    let mut h = Harness::new();
    let d = rejected(&mut h, json!({"userName":"a","emails":[{"value":"x","type":"office"}]}));
    assert!(d.starts_with("emails.type: \"office\" is not one of the canonical values work, home, other"), "{d}");
    let ok = h.post("/Users", &json!({"userName":"a","emails":[{"value":"x","type":"WORK"}]})).expect(201);
    assert_eq!(ok["emails"][0]["type"], "work", "matched without case (caseExact false), written canonically");
}

#[test]
fn case_exact_and_uniqueness() {
    let mut h = Harness::new();
    h.create("/Users", &json!({"userName":"BJensen"}));
    let d = h.post("/Users", &json!({"userName":"bjensen"})).expect_error(409, Some("uniqueness"));
    assert!(d.starts_with("userName"), "{d}");
    let other = h.create("/Users", &json!({"userName":"other"}));
    let d = h.put(&format!("/Users/{other}"), &json!({"userName":"BJENSEN"})).expect_error(409, Some("uniqueness"));
    assert!(d.starts_with("userName"), "{d}");
    h.create("/Groups", &json!({"displayName":"Admins"}));
    h.post("/Groups", &json!({"displayName":"admins"})).expect_error(409, Some("uniqueness"));
}

#[test]
fn primary_at_most_once() {
    let d = rejected(
        &mut Harness::new(),
        json!({"userName":"a","emails":[{"value":"a","primary":true},{"value":"b","primary":"True"}]}),
    );
    assert_eq!(d, "emails: at most one value may have primary set to true");
}

#[test]
fn read_only_is_ignored() {
    let mut h = Harness::new();
    let body = json!({"userName":"a","id":"mine","meta":{"created":"2000-01-01T00:00:00Z","version":"W/\"9\"","location":"x"},
                      "groups":[{"value":"g"}], ENTERPRISE: {"manager": {"value":"m","displayName":"Boss"}}});
    let got = h.post("/Users", &body).expect(201);
    assert_ne!(got["id"], "mine");
    assert!(got.get("groups").is_none());
    assert_eq!(got[ENTERPRISE]["manager"], json!({"value":"m"}));
    assert_eq!(got["meta"]["created"], "2024-01-02T03:04:05.000Z");
    assert_eq!(got["meta"]["location"], format!("{BASE_URL}/Users/{}", got["id"].as_str().unwrap()));
}

#[test]
fn meta_is_maintained_by_the_engine() {
    let mut h = Harness::new();
    let id = h.create("/Users", &json!({"userName":"a"}));
    h.advance(60);
    let put = json!({"userName":"a","meta":{"created":"1999-01-01T00:00:00Z","lastModified":"1999-01-01T00:00:00Z"}});
    let got = h.put(&format!("/Users/{id}"), &put).expect(200);
    assert_eq!(got["meta"]["created"], "2024-01-02T03:04:05.000Z");
    assert_eq!(got["meta"]["lastModified"], "2024-01-02T03:05:05.000Z");
    assert_eq!(got["meta"]["version"], "W/\"2\"");
    assert_eq!(got["meta"]["resourceType"], "User");
}

#[test]
fn write_only_is_kept_on_put_and_never_returned() {
    let mut h = Harness::new();
    let created = h.post("/Users", &json!({"userName":"a","password":"s3cret"})).expect(201);
    assert!(created.get("password").is_none());
    let id = created["id"].as_str().unwrap().to_string();
    let got = h.put(&format!("/Users/{id}"), &json!({"userName":"a","displayName":"A"})).expect(200);
    assert!(got.get("password").is_none());
    let stored = crate::store::Store::get(&mut h.store, "User", &id, false).unwrap().unwrap();
    let data: Value = serde_json::from_str(&stored.data).unwrap();
    assert_eq!(data["password"], "s3cret");
    assert!(h.get(&format!("/Users/{id}?attributes=password")).expect(200).get("password").is_none());
}

#[test]
fn immutable_members_sub_attributes_do_not_block_membership_changes() {
    let mut h = Harness::new();
    let u1 = h.create("/Users", &json!({"userName":"a"}));
    let u2 = h.create("/Users", &json!({"userName":"b"}));
    let g = h.create("/Groups", &json!({"displayName":"g","members":[{"value":u1}]}));
    let got =
        h.put(&format!("/Groups/{g}"), &json!({"displayName":"g","members":[{"value":u2,"type":"User"}]})).expect(200);
    assert_eq!(got["members"], json!([{"value":u2,"$ref":format!("{BASE_URL}/Users/{u2}"),"type":"User"}]));
}

#[test]
fn schemas_list_is_informational() {
    let mut h = Harness::new();
    let body =
        json!({"schemas":["urn:example:idp:custom","urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"});
    let got = h.post("/Groups", &body).expect(201);
    assert_eq!(got["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:Group"]));
    let got = h.post("/Users", &json!({"userName":"a", "schemas": [ENTERPRISE]})).expect(201);
    assert_eq!(
        got["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"]),
        "no extension values, no extension URN"
    );
    let got =
        h.post("/Users", &json!({"userName":"b", ENTERPRISE.to_uppercase(): {"EMPLOYEENUMBER": "7"}})).expect(201);
    assert_eq!(got["schemas"][1], ENTERPRISE);
    assert_eq!(got[ENTERPRISE], json!({"employeeNumber":"7"}), "URN and names written canonically");
    let d = h.post("/Users", &json!({"userName":"c","schemas":"x"})).expect_error(400, Some("invalidSyntax"));
    assert!(d.contains("schemas"), "{d}");
}

#[test]
fn flat_urn_keys() {
    let mut h = Harness::new();
    let body =
        json!({"urn:ietf:params:scim:schemas:core:2.0:User:userName":"a", format!("{ENTERPRISE}:department"): "R&D"});
    let got = h.post("/Users", &body).expect(201);
    assert_eq!(got["userName"], "a");
    assert_eq!(got[ENTERPRISE], json!({"department":"R&D"}));
}

fn rejecting() -> Harness {
    Harness::with_config(&json!({"baseUrl": BASE_URL, "switches": {"unknownAttributes": "reject"}}).to_string())
}

#[test]
fn unknown_attributes_ignored_by_default() {
    let mut h = Harness::new();
    let body = json!({"userName":"a","shoeSize":42,"name":{"nick":"x","givenName":"A"},
                      ENTERPRISE:{"badge":1,"department":"R&D"},"urn:example:unknown":{"x":1}});
    let got = h.post("/Users", &body).expect(201);
    assert_eq!(got["name"], json!({"givenName":"A"}));
    assert_eq!(got[ENTERPRISE], json!({"department":"R&D"}));
    assert!(got.get("shoeSize").is_none() && got.get("urn:example:unknown").is_none());
}

#[test]
fn unknown_attributes_rejected_everywhere_by_the_switch() {
    let cases = [
        (json!({"userName":"a","shoeSize":42}), "shoeSize".to_string()),
        (json!({"userName":"a","name":{"nick":"x"}}), "name.nick".to_string()),
        (json!({"userName":"a","emails":[{"value":"x","label":"y"}]}), "emails.label".to_string()),
        (json!({"userName":"a",ENTERPRISE:{"badge":1}}), format!("{ENTERPRISE}:badge")),
        (json!({"userName":"a","urn:example:unknown":{"x":1}}), "urn:example:unknown".to_string()),
    ];
    for (body, path) in cases {
        let d = rejecting().post("/Users", &body).expect_error(400, Some("invalidValue"));
        assert_eq!(d, format!("{path}: no such attribute in the schema"));
    }
    let nulls = json!({"userName":"a","shoeSize":null,"name":{"nick":null},ENTERPRISE:{"badge":null}});
    rejecting().post("/Users", &nulls).expect(201);
}
