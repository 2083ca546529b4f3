//! A resource type of the operator's own, declared in a tenant's `schemas` file, with every attribute type and
//! characteristic of RFC 7643 §2 and §7, end to end through `scimkit serve`: one test per group of
//! characteristics.

mod common;

use common::{cli, Server, TempDir};
use serde_json::{json, Value};

const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RT: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const DEVICE: &str = "urn:example:scim:schemas:Device";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn q(filter: &str) -> String {
    filter.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('[', "%5B").replace(']', "%5D")
}

/// The Device schema: one attribute per type and characteristic.
fn device_schema(extra: Value) -> Value {
    let mut attributes = json!([
        {"name": "serial", "required": true, "caseExact": true, "mutability": "immutable", "uniqueness": "server"},
        {"name": "label", "caseExact": false, "uniqueness": "server"},
        {"name": "ports", "type": "integer"},
        {"name": "weight", "type": "decimal"},
        {"name": "firmware", "type": "binary"},
        {"name": "owner", "type": "reference", "referenceTypes": ["User"]},
        {"name": "homepage", "type": "reference", "referenceTypes": ["external"]},
        {"name": "bought", "type": "dateTime"},
        {"name": "enabled", "type": "boolean"},
        {"name": "place", "type": "complex", "subAttributes": [
            {"name": "building"}, {"name": "floor", "type": "integer"}]},
        {"name": "tags", "multiValued": true},
        {"name": "assetTag", "mutability": "readOnly"},
        {"name": "secret", "mutability": "writeOnly", "returned": "never"},
        {"name": "model", "returned": "always"},
        {"name": "notes", "returned": "request"}
    ]);
    if let Value::Array(more) = extra {
        attributes.as_array_mut().unwrap().extend(more);
    }
    json!([
        {"schemas": [SCHEMA], "id": DEVICE, "name": "Device", "attributes": attributes},
        {"schemas": [RT], "id": "Device", "name": "Device", "endpoint": "/Devices", "schema": DEVICE}
    ])
}

fn start() -> (TempDir, Server) {
    let dir = TempDir::new("custom-types");
    std::fs::write(dir.0.join("schemas.json"), device_schema(json!([])).to_string()).unwrap();
    std::fs::write(dir.0.join("scimkit.toml"), "[[tenant]]\nname = \"default\"\nschemas = \"schemas.json\"\n").unwrap();
    let s = Server::start(&dir.0, &[]);
    (dir, s)
}

fn count(s: &Server, filter: &str) -> u64 {
    let r = s.get(&format!("/Devices?filter={}", q(filter)));
    assert_eq!(r.status, 200, "{filter}: {}", r.text);
    r.json()["totalResults"].as_u64().unwrap()
}

fn patch(s: &Server, path: &str, ops: Value) -> common::Resp {
    s.patch(path, &json!({"schemas": [PATCH_OP], "Operations": ops}))
}

/// Each type (RFC 7643 §2.3) is checked on the way in, stored as sent, and filtered by its own comparison.
#[test]
fn each_attribute_type_is_checked_stored_and_filtered() {
    let (_dir, s) = start();
    let device = json!({"serial": "SN-1", "ports": 4, "weight": 1.5, "firmware": "aGVsbG8=",
        "owner": "https://example.com/scim/v2/Users/2819c223", "homepage": "https://vendor.example/d/1",
        "bought": "2024-01-02T03:04:05Z", "enabled": true, "place": {"building": "B", "floor": 2}, "tags": ["a", "b"]});
    let made = s.post("/Devices", &device);
    assert_eq!(made.status, 201, "{}", made.text);
    let shown = made.json();
    for key in ["ports", "weight", "firmware", "owner", "homepage", "enabled", "place", "tags"] {
        assert_eq!(shown[key], device[key], "{key}: {shown}");
    }
    assert!(shown["bought"].as_str().unwrap().starts_with("2024-01-02T03:04:05"), "{shown}");

    for (bad, why) in [
        (json!({"ports": 1.5}), "an integer has no fraction"),
        (json!({"ports": "4"}), "an integer is a JSON number"),
        (json!({"weight": "heavy"}), "a decimal is a JSON number"),
        (json!({"firmware": "not base64!"}), "binary is base64"),
        (json!({"bought": "yesterday"}), "dateTime is xsd:dateTime"),
        (json!({"enabled": 1}), "a boolean is true or false"),
        (json!({"place": {"floor": 2.5}}), "a sub-attribute is checked by its own type"),
        (json!({"place": [{"building": "B"}]}), "a single complex value is not a list"),
        (json!({"homepage": 7}), "a reference is a string"),
    ] {
        let mut body = bad.clone();
        body["serial"] = json!("SN-X");
        let r = s.post("/Devices", &body);
        assert_eq!((r.status, r.json()["scimType"].as_str()), (400, Some("invalidValue")), "{why}: {bad} {}", r.text);
    }
    assert_eq!(count(&s, "serial eq \"SN-X\""), 0, "nothing refused was written");

    s.post(
        "/Devices",
        &json!({"serial": "SN-2", "ports": 16, "weight": 0.25, "bought": "2020-06-01T00:00:00Z",
        "enabled": false, "place": {"building": "A", "floor": 1}}),
    );
    assert_eq!(count(&s, "ports gt 8"), 1);
    assert_eq!(count(&s, "ports eq 4"), 1);
    assert_eq!(count(&s, "weight lt 1"), 1);
    assert_eq!(count(&s, "weight ge 1.5"), 1);
    assert_eq!(count(&s, "bought gt \"2023-01-01T00:00:00Z\""), 1);
    assert_eq!(count(&s, "enabled eq false"), 1);
    assert_eq!(count(&s, "place.floor eq 2 and place.building eq \"B\""), 1);
    assert_eq!(count(&s, "owner eq \"https://example.com/scim/v2/Users/2819c223\""), 1);
    assert_eq!(count(&s, "tags eq \"b\""), 1);
    s.get(&format!("/Devices?filter={}", q("ports gt \"eight\""))).assert_error(400, Some("invalidFilter"));
}

/// readOnly is the server's (ignored when sent, refused as a PATCH target); immutable is set once; writeOnly is
/// accepted and never shown (RFC 7643 §7 `mutability`).
#[test]
fn mutability_read_only_immutable_and_write_only() {
    let (_dir, s) = start();
    let made = s.post("/Devices", &json!({"serial": "SN-1", "assetTag": "client says", "secret": "s3cret"}));
    assert_eq!(made.status, 201, "{}", made.text);
    let shown = made.json();
    assert!(shown.get("assetTag").is_none(), "a readOnly value sent by the client is ignored: {shown}");
    assert!(shown.get("secret").is_none(), "writeOnly is never returned: {shown}");
    let path = format!("/Devices/{}", shown["id"].as_str().unwrap());

    patch(&s, &path, json!([{"op": "replace", "path": "assetTag", "value": "x"}]))
        .assert_error(400, Some("mutability"));
    patch(&s, &path, json!([{"op": "replace", "path": "serial", "value": "SN-9"}]))
        .assert_error(400, Some("mutability"));
    s.put(&path, &json!({"serial": "SN-9"})).assert_error(400, Some("mutability"));
    let same = s.put(&path, &json!({"serial": "SN-1", "label": "kept"}));
    assert_eq!(same.status, 200, "immutable: the same value may be sent again: {}", same.text);
    let r = patch(&s, &path, json!([{"op": "replace", "path": "secret", "value": "n3w"}]));
    assert!(r.status == 200 || r.status == 204, "writeOnly is writable: {}", r.text);
    let now = s.get(&path).json();
    assert_eq!((now["serial"].as_str(), now.get("secret")), (Some("SN-1"), None), "{now}");
    assert_eq!(count(&s, "serial eq \"SN-9\""), 0);
}

/// returned: `always` even when not asked for, `request` only when asked for, `never` not even then
/// (RFC 7643 §7 `returned`, RFC 7644 §3.4.2.5).
#[test]
fn returned_always_request_and_never() {
    let (_dir, s) = start();
    let made =
        s.post("/Devices", &json!({"serial": "SN-1", "model": "M1", "notes": "fragile", "secret": "x", "ports": 2}));
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json()["id"].as_str().unwrap().to_string();
    let path = format!("/Devices/{id}");

    let plain = s.get(&path).json();
    assert_eq!((plain["model"].as_str(), plain.get("notes"), plain.get("secret")), (Some("M1"), None, None), "{plain}");
    let asked = s.get(&format!("{path}?attributes=notes,secret")).json();
    assert_eq!((asked["notes"].as_str(), asked.get("secret")), (Some("fragile"), None), "{asked}");
    assert_eq!(asked["model"], "M1", "always comes with any projection: {asked}");
    assert!(asked.get("ports").is_none(), "{asked}");
    let excluded = s.get(&format!("{path}?excludedAttributes=model,ports")).json();
    assert_eq!((excluded["model"].as_str(), excluded.get("ports")), (Some("M1"), None), "{excluded}");
    let listed = s.get(&format!("/Devices?filter={}&attributes=notes", q("notes eq \"fragile\""))).json();
    assert_eq!(listed["Resources"][0]["notes"], "fragile", "{listed}");
    assert_eq!(listed["Resources"][0]["model"], "M1", "{listed}");
    // A never-returned value does not leak through a filter either.
    s.get(&format!("/Devices?filter={}", q("secret eq \"x\""))).assert_error(400, Some("invalidFilter"));
}

/// caseExact rules filtering and uniqueness alike (RFC 7643 §2.2, §7): `serial` (caseExact) tells `SN-1` from
/// `sn-1` in both; `label` (not caseExact) does not, in both.
#[test]
fn case_exact_in_filters_and_uniqueness() {
    let (_dir, s) = start();
    assert_eq!(s.post("/Devices", &json!({"serial": "SN-1", "label": "Lab One"})).status, 201);
    assert_eq!(count(&s, "serial eq \"SN-1\""), 1);
    assert_eq!(count(&s, "serial eq \"sn-1\""), 0);
    assert_eq!(count(&s, "serial sw \"sn\""), 0);
    assert_eq!(count(&s, "label eq \"LAB ONE\""), 1);
    assert_eq!(count(&s, "label co \"one\""), 1);
    s.post("/Devices", &json!({"serial": "SN-1"})).assert_error(409, Some("uniqueness"));
    let other_case = s.post("/Devices", &json!({"serial": "sn-1"}));
    assert_eq!(other_case.status, 201, "caseExact: another value: {}", other_case.text);
    s.post("/Devices", &json!({"serial": "SN-2", "label": "LAB ONE"})).assert_error(409, Some("uniqueness"));
    assert_eq!(count(&s, "serial eq \"SN-2\""), 0);
}

/// A schemas file that RFC 7643 does not allow stops the start, naming the file and what is at fault: a complex
/// sub-attribute, a type RFC 7643 §2.3 does not have, sub-attributes on a simple attribute.
#[test]
fn a_schemas_file_outside_rfc_7643_is_refused() {
    for (extra, named) in [
        (
            json!([{"name": "nested", "type": "complex", "subAttributes": [
            {"name": "inner", "type": "complex", "subAttributes": [{"name": "x"}]}]}]),
            "nested",
        ),
        (json!([{"name": "odd", "type": "float"}]), "float"),
        (json!([{"name": "size", "type": "integer", "subAttributes": [{"name": "x"}]}]), "size"),
    ] {
        let dir = TempDir::new("custom-types-bad");
        std::fs::write(dir.0.join("devices.json"), device_schema(extra).to_string()).unwrap();
        std::fs::write(dir.0.join("scimkit.toml"), "[[tenant]]\nname = \"default\"\nschemas = \"devices.json\"\n")
            .unwrap();
        let rows = dir.0.join("users.jsonl");
        std::fs::write(&rows, "{\"userName\": \"u\"}\n").unwrap();
        let (ok, _, stderr) = cli(&dir.0, &["import", rows.to_str().unwrap()], None);
        assert!(!ok && stderr.contains("devices.json") && stderr.contains(named), "{named}: {stderr}");
    }
}
