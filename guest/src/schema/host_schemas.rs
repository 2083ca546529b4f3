//! A host-defined extension on User, from configuration JSON alone: validated, stored, returned, projected,
//! unique where declared, and listed by discovery.

use crate::tests::harness::{Harness, BASE_URL};
use serde_json::{json, Value};

const APP: &str = "urn:example:params:scim:schemas:extension:app:2.0:User";

fn config() -> String {
    config_with(false)
}

fn config_with(required_extension: bool) -> String {
    json!({
        "baseUrl": BASE_URL,
        "schemas": [{
            "id": APP, "name": "AppUser", "description": "Application data of a user",
            "attributes": [
                {"name": "badge", "type": "integer", "mutability": "immutable"},
                {"name": "score", "type": "decimal"},
                {"name": "vip", "type": "boolean"},
                {"name": "hiredAt", "type": "dateTime"},
                {"name": "avatar", "type": "binary"},
                {"name": "homepage", "type": "reference", "referenceTypes": ["external"]},
                {"name": "tags", "multiValued": true},
                {"name": "login", "uniqueness": "server"},
                {"name": "apiKey", "mutability": "writeOnly", "returned": "never"},
                {"name": "seat", "type": "complex", "subAttributes": [
                    {"name": "building", "required": true},
                    {"name": "serial", "mutability": "immutable", "caseExact": true}
                ]}
            ]
        }],
        "extensions": {"User": [{"schema": APP, "required": required_extension}]}
    })
    .to_string()
}

fn full() -> Value {
    json!({"badge": 3, "score": 4.5, "vip": true, "hiredAt": "2020-02-03T04:05:06Z", "avatar": "aGVsbG8=",
           "homepage": "https://example.com/u", "tags": ["a", "b"], "login": "Ann", "apiKey": "k",
           "seat": {"building": "B1", "serial": "S-1"}})
}

#[test]
fn stored_returned_and_projected() {
    let mut h = Harness::with_config(&config());
    let created = h.post("/Users", &json!({"userName": "ann", APP: full()})).expect(201);
    let mut expected = full();
    expected.as_object_mut().unwrap().remove("apiKey");
    assert_eq!(created[APP], expected);
    assert_eq!(created["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", APP]));
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(h.get(&format!("/Users/{id}")).expect(200), created);
    let some = h.get(&format!("/Users/{id}?attributes={APP}:badge,{APP}:seat.building")).expect(200);
    assert_eq!(some[APP], json!({"badge": 3, "seat": {"building": "B1"}}));
    let listed = h.get(&format!("/Users?excludedAttributes={APP}")).expect(200);
    assert!(listed["Resources"][0].get(APP).is_none());
}

#[test]
fn integer_accepts_whole_floats_only() {
    let mut h = Harness::with_config(&config());
    let got = h.post("/Users", &json!({"userName": "a", APP: {"badge": 3.0}})).expect(201);
    assert_eq!(got[APP]["badge"], json!(3));
    assert!(got[APP]["badge"].is_i64());
    let d = h.post("/Users", &json!({"userName": "b", APP: {"badge": 3.5}})).expect_error(400, Some("invalidValue"));
    assert_eq!(d, format!("{APP}:badge: expected an integer"));
}

#[test]
fn each_type_is_checked() {
    let cases = [
        ("score", json!("high"), "expected a decimal number"),
        ("vip", json!(1), "expected a boolean"),
        ("hiredAt", json!("2020-02-03"), "expected an xsd:dateTime"),
        ("avatar", json!("***"), "expected base64"),
        ("homepage", json!(5), "expected a reference"),
        ("tags", json!([1]), "expected a string"),
    ];
    for (name, value, why) in cases {
        let mut h = Harness::with_config(&config());
        let d = h.post("/Users", &json!({"userName": "a", APP: {name: value}})).expect_error(400, Some("invalidValue"));
        assert!(d.starts_with(&format!("{APP}:{name}: {why}")), "{d}");
    }
}

#[test]
fn required_sub_attribute_of_a_present_value() {
    let mut h = Harness::with_config(&config());
    let d = h
        .post("/Users", &json!({"userName": "a", APP: {"seat": {"serial": "x"}}}))
        .expect_error(400, Some("invalidValue"));
    assert_eq!(d, format!("{APP}:seat.building is required"));
    h.post("/Users", &json!({"userName": "a", APP: {"vip": false}})).expect(201);
}

#[test]
fn immutable_and_write_only_on_replace() {
    let mut h = Harness::with_config(&config());
    let id = h.create("/Users", &json!({"userName": "a", APP: full()}));
    let path = format!("/Users/{id}");
    let d = h.put(&path, &json!({"userName": "a", APP: {"badge": 4}})).expect_error(400, Some("mutability"));
    assert_eq!(d, format!("{APP}:badge is immutable: once set it cannot change"));
    let d = h
        .put(&path, &json!({"userName": "a", APP: {"seat": {"building": "B2", "serial": "s-1"}}}))
        .expect_error(400, Some("mutability"));
    assert_eq!(d, format!("{APP}:seat.serial is immutable: once set it cannot change"));
    let got = h.put(&path, &json!({"userName": "a", APP: {"seat": {"building": "B2"}, "vip": false}})).expect(200);
    assert_eq!(
        got[APP],
        json!({"badge": 3, "vip": false, "seat": {"building": "B2", "serial": "S-1"}}),
        "immutable values kept"
    );
    let stored = crate::store::Store::get(&mut h.store, "User", &id, false).unwrap().unwrap();
    let data: Value = serde_json::from_str(&stored.data).unwrap();
    assert_eq!(data[APP]["apiKey"], "k", "the write-only value is kept");
}

#[test]
fn extension_uniqueness() {
    let mut h = Harness::with_config(&config());
    h.create("/Users", &json!({"userName": "a", APP: {"login": "Ann"}}));
    let d = h.post("/Users", &json!({"userName": "b", APP: {"login": "ANN"}})).expect_error(409, Some("uniqueness"));
    assert!(d.starts_with(&format!("{APP}:login")), "{d}");
}

#[test]
fn discovery_lists_the_extension() {
    let mut h = Harness::with_config(&config());
    let schemas = h.get("/Schemas").expect(200);
    assert_eq!(schemas["totalResults"], 7);
    let app = h.get(&format!("/Schemas/{APP}")).expect(200);
    assert_eq!(app["name"], "AppUser");
    let seat = &app["attributes"][9];
    assert_eq!(seat["subAttributes"][1]["mutability"], "immutable");
    assert_eq!(app["attributes"][8]["returned"], "never");
    let user = h.get("/ResourceTypes/User").expect(200);
    assert_eq!(user["schemaExtensions"][1], json!({"schema": APP, "required": false}));
}

#[test]
fn required_extension() {
    let mut h = Harness::with_config(&config_with(true));
    let d = h.post("/Users", &json!({"userName": "a"})).expect_error(400, Some("invalidValue"));
    assert_eq!(d, format!("{APP}: the extension is required for User"));
}

#[test]
fn bad_host_schemas_are_refused_at_configure_time() {
    let with = |attrs: Value| {
        let text = json!({"baseUrl": BASE_URL, "schemas": [{"id": APP, "name": "A", "attributes": attrs}],
                          "extensions": {"User": [{"schema": APP}]}});
        crate::Engine::new(&text.to_string()).err().unwrap_or_default()
    };
    assert!(with(json!([{"name": "x"}, {"name": "X"}])).contains(&format!("{APP}:X")));
    assert!(with(json!([{"name": "c", "type": "complex"}])).contains(&format!("{APP}:c")));
    let nested = json!([{"name": "c", "type": "complex", "subAttributes": [{"name": "d", "type": "complex", "subAttributes": [{"name": "e"}]}]}]);
    assert!(with(nested).contains(&format!("{APP}:c.d")));
    assert!(with(json!([{"name": "ok"}])).is_empty());
    let e =
        crate::Engine::new(&json!({"baseUrl": BASE_URL, "extensions": {"User": [{"schema": "urn:none"}]}}).to_string())
            .err()
            .unwrap();
    assert!(e.contains("urn:none"), "{e}");
}
