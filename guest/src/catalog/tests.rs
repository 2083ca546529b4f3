//! Roles and entitlements through the engine: discovery, reads, read-only, and the values a User may name.

use crate::store::Store;
use crate::tests::harness::{Harness, BASE_URL};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn listed() -> Harness {
    Harness::with_config(
        &json!({
            "baseUrl": BASE_URL,
            "roles": [{"id": "admin", "displayName": "Administrator"}, {"id": "viewer", "displayName": "Viewer"}],
            "entitlements": [{"id": "pro", "displayName": "Pro licence", "type": "License"}],
        })
        .to_string(),
    )
}

fn names(list: &Value) -> Vec<&str> {
    list["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect()
}

#[test]
fn resource_types_list_role_and_entitlement_only_when_configured() {
    let types = listed().get("/ResourceTypes").expect(200);
    let role = types["Resources"].as_array().unwrap().iter().find(|t| t["name"] == "Role").expect("Role listed");
    assert_eq!(role["endpoint"], "/Roles");
    assert_eq!(role["schema"], super::ROLE);
    assert!(types["Resources"].as_array().unwrap().iter().any(|t| t["name"] == "Entitlement"));
    let plain = Harness::new().get("/ResourceTypes").expect(200);
    assert_eq!(names(&plain), ["User", "Group"]);
    Harness::new().get("/Roles").expect_error(404, None);
}

#[test]
fn listed_values_are_served_filtered_and_shown_as_canonical_values() {
    let mut h = listed();
    let all = h.get("/Roles").expect(200);
    assert_eq!(names(&all), ["admin", "viewer"]);
    assert_eq!(all["Resources"][0]["schemas"], json!([super::ROLE]));
    assert_eq!(all["Resources"][0]["displayName"], "Administrator");
    let one = h.get("/Roles?filter=displayName%20eq%20%22viewer%22").expect(200);
    assert_eq!(names(&one), ["viewer"]);
    let pro = h.get("/Entitlements/pro").expect(200);
    assert_eq!((pro["type"].as_str(), pro["meta"]["resourceType"].as_str()), (Some("License"), Some("Entitlement")));
    h.get("/Entitlements/nope").expect_error(404, None);
    let user = h.get(&format!("/Schemas/{}", crate::schema::USER)).expect(200);
    let roles = user["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "roles").unwrap();
    assert_eq!(roles["subAttributes"][0]["canonicalValues"], json!(["admin", "viewer"]));
}

#[test]
fn clients_cannot_write_them() {
    let mut h = listed();
    let reply = h.post("/Roles", &json!({"displayName": "x"}));
    assert_eq!(reply.header("Allow"), Some("GET"));
    reply.expect_error(405, None);
    h.delete("/Roles/admin").expect_error(405, None);
    h.put("/Entitlements/pro", &json!({"displayName": "x"})).expect_error(405, None);
    assert_eq!(names(&h.get("/Roles").expect(200)).len(), 2);
}

#[test]
fn a_user_naming_an_unknown_role_is_refused_on_every_write() {
    let mut h = listed();
    let detail = h
        .post("/Users", &json!({"userName": "a", "roles": [{"value": "root"}]}))
        .expect_error(400, Some("invalidValue"));
    assert!(detail.contains("roles.value") && detail.contains("root"), "{detail}");
    let id = h.create(
        "/Users",
        &json!({"userName": "a", "roles": [{"value": "admin"}],
                                         "entitlements": [{"value": "pro"}]}),
    );
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "add", "path": "roles", "value": [{"value": "root"}]}]});
    h.send("PATCH", &format!("/Users/{id}"), Some(&patch), &[]).expect_error(400, Some("invalidValue"));
    h.put(&format!("/Users/{id}"), &json!({"userName": "a", "entitlements": [{"value": "free"}]}))
        .expect_error(400, Some("invalidValue"));
    let user = h.get(&format!("/Users/{id}")).expect(200);
    assert_eq!(user["roles"], json!([{"value": "admin"}]));
}

#[test]
fn values_kept_by_storage_are_looked_up() {
    let mut h = Harness::with_config(&json!({"baseUrl": BASE_URL, "roles": "storage"}).to_string());
    let role = h.store.create("Role", r#"{"displayName":"Auditor"}"#, &[], &[]).unwrap();
    assert_eq!(names(&h.get("/Roles").expect(200)), [role.id.as_str()]);
    h.post("/Users", &json!({"userName": "a", "roles": [{"value": "nope"}]})).expect_error(400, Some("invalidValue"));
    h.create("/Users", &json!({"userName": "a", "roles": [{"value": role.id}]}));
    h.post("/Roles", &json!({"displayName": "x"})).expect_error(405, None);
}

#[test]
fn a_bare_manager_id_is_the_enterprise_manager() {
    let mut h = Harness::new();
    let boss = h.user("boss");
    let id = h.create("/Users", &json!({"userName": "a", "manager": boss}));
    assert_eq!(h.get(&format!("/Users/{id}")).expect(200)[ENTERPRISE]["manager"], json!({"value": boss}));
    let other = h.user("other");
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "manager", "value": other}]});
    let patched = h.send("PATCH", &format!("/Users/{id}"), Some(&patch), &[]).expect(200);
    assert_eq!(patched[ENTERPRISE]["manager"], json!({"value": other}));
}

/// Each reply of an engine that reports its tolerances, with the names it reported.
fn reported(h: &mut Harness, method: &str, path: &str, body: &Value) -> (u16, Value, String) {
    let reply = h.send(method, path, Some(body), &[]);
    let names = reply.header(crate::tolerance::REPORT_HEADER).unwrap_or_default().to_string();
    (reply.status, reply.body, names)
}

#[test]
fn the_unqualified_manager_is_a_named_tolerance_reported_switchable_and_off_when_strict() {
    let config = |switches: Value| json!({"baseUrl": BASE_URL, "switches": switches}).to_string();
    let mut h = Harness::with_config(&config(json!({"reportTolerances": true})));
    let boss = h.user("boss");
    let (status, body, names) = reported(&mut h, "POST", "/Users", &json!({"userName": "a", "manager": boss}));
    assert_eq!((status, body[ENTERPRISE]["manager"].clone()), (201, json!({"value": boss})));
    assert!(names.contains("unqualified-manager") && names.contains("bare-complex-value"), "{names}");
    // Qualified, the manager uses no tolerance of this kind.
    let qualified = json!({"userName": "b", ENTERPRISE: {"manager": {"value": boss}}});
    let (status, _, names) = reported(&mut h, "POST", "/Users", &qualified);
    assert_eq!(status, 201);
    assert!(!names.contains("unqualified-manager"), "{names}");

    // Switched off (the other tolerances kept), `manager` is an unknown attribute: ignored by default, never
    // taken for the enterprise manager.
    let mut off = Harness::with_config(&config(json!({"tolerances": ["bare-complex-value"]})));
    let boss = off.user("boss");
    let created = off.post("/Users", &json!({"userName": "a", "manager": boss})).expect(201);
    assert!(created.get(ENTERPRISE).is_none(), "{created}");
    // Under `strict`, the unknown attribute is refused.
    let mut strict = Harness::with_config(&config(json!({"profile": "strict"})));
    let boss = strict.user("boss");
    strict.post("/Users", &json!({"userName": "a", "manager": boss})).expect_error(400, Some("invalidSyntax"));
}

#[test]
fn the_manager_must_exist_when_switched_on() {
    let config = json!({"baseUrl": BASE_URL, "switches": {"managerMustExist": true}});
    let mut h = Harness::with_config(&config.to_string());
    let detail =
        h.post("/Users", &json!({"userName": "a", "manager": "ghost"})).expect_error(400, Some("invalidValue"));
    assert!(detail.contains("manager") && detail.contains("ghost"), "{detail}");
    let boss = h.user("boss");
    h.create("/Users", &json!({"userName": "a", "manager": boss}));
    // Off by default: the id is stored as sent.
    Harness::new().create("/Users", &json!({"userName": "a", "manager": "ghost"}));
}

#[test]
fn a_bad_catalog_configuration_is_named() {
    let twice =
        json!({"baseUrl": BASE_URL, "roles": [{"id": "a", "displayName": "A"}, {"id": "A", "displayName": "B"}]});
    let e = crate::config::Config::from_json(&twice.to_string()).unwrap_err();
    assert!(e.contains("roles[1].id"), "{e}");
    let e = crate::config::Config::from_json(&json!({"baseUrl": BASE_URL, "roles": "elsewhere"}).to_string());
    assert!(e.is_err());
}
