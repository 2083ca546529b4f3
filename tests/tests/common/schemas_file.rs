//! The tenant `schemas` file, checked end to end against a server on SQLite or (with `env` naming a
//! `SCIMKIT_DATABASE`) on PostgreSQL.

use super::{cli, Server, TempDir};
use serde_json::{json, Value};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn q(filter: &str) -> String {
    filter.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('[', "%5B").replace(']', "%5D")
}

/// An Entra custom extension on User and a resource type of its own, each served by discovery, validated by its
/// characteristics, stored and filtered; an invalid file stops the start, naming it.
pub fn a_tenant_serves_the_schemas_of_its_file(env: &[(&str, &str)]) {
    const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
    const RT: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    const EXT: &str = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    const DEVICE: &str = "urn:example:scim:schemas:Device";
    let file = json!([
        {"schemas": [SCHEMA], "id": EXT, "name": "CustomExtension", "attributes": [{"name": "costCenter"}]},
        {"schemas": [SCHEMA], "id": DEVICE, "name": "Device", "attributes": [
            {"name": "serial", "required": true, "caseExact": true, "mutability": "immutable", "uniqueness": "server"},
            {"name": "weight", "type": "decimal"}, {"name": "ports", "type": "integer"},
            {"name": "firmware", "type": "binary"}, {"name": "owner", "type": "reference", "referenceTypes": ["User"]},
            {"name": "bought", "type": "dateTime"}, {"name": "active", "type": "boolean"},
            {"name": "secret", "mutability": "writeOnly", "returned": "never"},
            {"name": "place", "type": "complex", "subAttributes": [{"name": "building"}, {"name": "floor", "type": "integer"}]}]},
        {"schemas": [RT], "id": "Device", "name": "Device", "endpoint": "/Devices", "schema": DEVICE},
        {"schemas": [RT], "id": "User", "name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
         "schemaExtensions": [{"schema": ENT, "required": false}, {"schema": EXT, "required": false}]}
    ]);
    let dir = TempDir::new("schemas-file");
    std::fs::write(dir.0.join("schemas.json"), file.to_string()).unwrap();
    std::fs::write(dir.0.join("scimkit.toml"), "[[tenant]]\nname = \"default\"\nschemas = \"schemas.json\"\n").unwrap();
    let s = Server::start_with_env(&dir.0, &[], env);
    let ids: Vec<Value> =
        s.get("/Schemas").json()["Resources"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect();
    assert!(ids.contains(&json!(EXT)) && ids.contains(&json!(DEVICE)), "{ids:?}");
    assert_eq!(s.get("/ResourceTypes/Device").json()["endpoint"], "/Devices");

    let user = s.post("/Users", &json!({"userName": "u", EXT: {"costCenter": "42"}}));
    assert_eq!((user.status, user.json()[EXT]["costCenter"].as_str()), (201, Some("42")), "{}", user.text);
    let found = s.get(&format!("/Users?filter={}", q(&format!("{EXT}:costCenter eq \"42\""))));
    assert_eq!(found.json()["totalResults"], 1, "{}", found.text);

    let device = json!({"serial": "SN-1", "weight": 1.5, "ports": 4, "firmware": "aGVsbG8=", "owner": "https://x.example/Users/1",
        "bought": "2024-01-02T03:04:05Z", "active": true, "secret": "s", "place": {"building": "B", "floor": 2}});
    let made = s.post("/Devices", &device);
    assert_eq!(made.status, 201, "{}", made.text);
    let shown = made.json();
    assert_eq!((shown["place"]["floor"].clone(), shown.get("secret")), (json!(2), None), "{shown}");
    s.post("/Devices", &device).assert_error(409, Some("uniqueness"));
    s.post("/Devices", &json!({"serial": "SN-2", "ports": 4.5})).assert_error(400, Some("invalidValue"));
    s.post("/Devices", &json!({"serial": "SN-2", "firmware": "not base64!"})).assert_error(400, Some("invalidValue"));
    s.post("/Devices", &json!({"weight": 2})).assert_error(400, Some("invalidValue"));
    let count = |filter: &str| s.get(&format!("/Devices?filter={}", q(filter))).json()["totalResults"].clone();
    assert_eq!(count("serial eq \"SN-1\""), 1);
    assert_eq!(count("serial eq \"sn-1\""), 0, "caseExact");
    assert_eq!(count("weight gt 1 and place.floor eq 2"), 1);
    let id = shown["id"].as_str().unwrap();
    s.put(&format!("/Devices/{id}"), &json!({"serial": "SN-9"})).assert_error(400, Some("mutability"));

    let bad = TempDir::new("schemas-file-bad");
    std::fs::write(bad.0.join("broken.json"), "[{\"schemas\": [\"urn:x\"]}]").unwrap();
    std::fs::write(bad.0.join("scimkit.toml"), "[[tenant]]\nname = \"default\"\nschemas = \"broken.json\"\n").unwrap();
    let rows = bad.0.join("users.jsonl");
    std::fs::write(&rows, "{\"userName\": \"u\"}\n").unwrap();
    let (ok, _, stderr) = cli(&bad.0, &["import", rows.to_str().unwrap()], None);
    assert!(!ok && stderr.contains("broken.json"), "{stderr}");
}
