//! Nested groups, roles and entitlements through the real server: the same hierarchy on SQLite, in memory and
//! on PostgreSQL (`SCIMKIT_TEST_POSTGRES`; `tests/run.sh` starts a server), each answering it from its own
//! storage (a recursive query, or a walk).

mod common;

use common::{postgres, postgres_database, raw, skip_part, Server, TempDir};
use serde_json::{json, Value};

/// The default tenant with groups nested at most three deep, roles and an entitlement.
const CONFIG: &str = r#"
[[tenant]]
name = "default"
max_group_depth = 3

[[tenant.roles]]
id = "admin"
display_name = "Administrator"

[[tenant.roles]]
id = "viewer"
display_name = "Viewer"

[[tenant.entitlements]]
id = "pro"
display_name = "Pro licence"
type = "License"
"#;

fn configured(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::write(dir.0.join("scimkit.toml"), CONFIG).unwrap();
    dir
}

fn create(s: &Server, path: &str, body: Value) -> String {
    let r = s.post(path, &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_string()
}

fn user(s: &Server, name: &str) -> String {
    create(s, "/Users", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}))
}

fn group(s: &Server, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    create(
        s,
        "/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members}),
    )
}

fn add_member(s: &Server, group: &str, member: &str) -> common::Resp {
    let ops = json!([{"op": "add", "path": "members", "value": [{"value": member}]}]);
    s.patch(
        &format!("/Groups/{group}"),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
    )
}

/// (display, type) of a user's `groups`.
fn groups_of(s: &Server, id: &str) -> Vec<(String, String)> {
    let u = s.get(&format!("/Users/{id}")).json();
    u["groups"]
        .as_array()
        .map(|gs| {
            gs.iter().map(|g| (g["display"].as_str().unwrap().into(), g["type"].as_str().unwrap().into())).collect()
        })
        .unwrap_or_default()
}

fn users_in(s: &Server, group: &str) -> Vec<String> {
    let page = s.get(&format!("/Users?filter=groups.value%20eq%20%22{group}%22"));
    assert_eq!(page.status, 200, "{}", page.text);
    let mut ids: Vec<String> =
        page.json()["Resources"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

fn pair(display: &str, kind: &str) -> (String, String) {
    (display.into(), kind.into())
}

/// `top` ⊃ `middle` ⊃ `bottom` ⊃ alice, bob directly in `top`: direct and indirect groups, filters by
/// `groups.value`, a refused cycle, the depth limit, and a deleted group leaving its parent.
fn hierarchy(s: &Server) {
    let alice = user(s, "alice");
    let bob = user(s, "bob");
    user(s, "carol");
    let bottom = group(s, "bottom", &[&alice]);
    let middle = group(s, "middle", &[&bottom]);
    let top = group(s, "top", &[&middle, &bob]);

    assert_eq!(groups_of(s, &alice), [pair("bottom", "direct"), pair("middle", "indirect"), pair("top", "indirect")]);
    assert_eq!(groups_of(s, &bob), [pair("top", "direct")]);
    let listed = s.get("/Users?filter=userName%20eq%20%22alice%22").json();
    assert_eq!(listed["Resources"][0]["groups"].as_array().map(Vec::len), Some(3), "a page shows the same");

    let mut both = vec![alice.clone(), bob.clone()];
    both.sort();
    assert_eq!(users_in(s, &top), both);
    assert_eq!(users_in(s, &middle), std::slice::from_ref(&alice));
    assert!(users_in(s, "no-such-group").is_empty());

    let cycle = add_member(s, &bottom, &top);
    cycle.assert_error(400, Some("invalidValue"));
    let detail = cycle.json()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains(&format!("{top} > {middle} > {bottom} > {top}")), "{detail}");

    let above = group(s, "above", &[]);
    let deep = add_member(s, &above, &top);
    deep.assert_error(400, Some("invalidValue"));
    assert!(deep.text.contains("at most 3"), "{}", deep.text);
    assert_eq!(groups_of(s, &alice).len(), 3, "refused writes changed nothing");

    assert_eq!(s.delete(&format!("/Groups/{middle}")).status, 204);
    let members = s.get(&format!("/Groups/{top}")).json()["members"].clone();
    let values: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    assert_eq!(values, [bob.as_str()], "the deleted group left its parent");
    assert_eq!(groups_of(s, &alice), [pair("bottom", "direct")]);
}

#[test]
fn nested_groups_on_sqlite() {
    let dir = configured("nested_sqlite");
    hierarchy(&Server::start(&dir.0, &[]));
}

#[test]
fn nested_groups_in_memory() {
    let dir = configured("nested_memory");
    hierarchy(&Server::start(&dir.0, &["--database", "memory"]));
}

#[test]
fn nested_groups_on_postgres() {
    if skip_part("postgres", postgres().is_some(), "SCIMKIT_TEST_POSTGRES is not set (tests/run.sh starts a server)") {
        return;
    }
    let dir = configured("nested_pg");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let db = postgres_database(&format!("nested_{}_{nanos}", std::process::id()));
    hierarchy(&Server::start_with_env(&dir.0, &[], &[("SCIMKIT_DATABASE", db.as_str())]));
}

#[test]
fn roles_and_entitlements_from_the_configuration() {
    let dir = configured("roles");
    let s = Server::start(&dir.0, &[]);
    let types = s.get("/ResourceTypes").json();
    let names: Vec<&str> = types["Resources"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["User", "Group", "Role", "Entitlement"]);
    let roles = s.get("/Roles").json();
    assert_eq!(roles["totalResults"], 2);
    assert_eq!(roles["Resources"][0]["displayName"], "Administrator");
    assert_eq!(s.get("/Entitlements/pro").json()["type"], "License");
    assert_eq!(s.post("/Roles", &json!({"displayName": "x"})).status, 405);

    let schema = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
    let unknown = s.post("/Users", &json!({"schemas": schema, "userName": "a", "roles": [{"value": "root"}]}));
    unknown.assert_error(400, Some("invalidValue"));
    let ok = s.post(
        "/Users",
        &json!({"schemas": schema, "userName": "a", "roles": [{"value": "admin"}],
                                       "entitlements": [{"value": "pro"}]}),
    );
    assert_eq!(ok.status, 201, "{}", ok.text);

    // Entra's bare manager id, on POST and PATCH.
    let boss = ok.json()["id"].as_str().unwrap().to_string();
    let id = create(&s, "/Users", json!({"schemas": schema, "userName": "b", "manager": boss}));
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(s.get(&format!("/Users/{id}")).json()[enterprise]["manager"], json!({"value": boss}));
    let patched = s.patch(
        &format!("/Users/{id}"),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "manager", "value": id}]}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()[enterprise]["manager"], json!({"value": id}));
    // Each is the tolerance unqualified-manager, counted for the tenant.
    let metrics = raw("GET", &format!("{}/metrics", s.root()), &[], None).text;
    let line = "scimkit_tolerances_total{tenant=\"default\",tolerance=\"unqualified-manager\"} 2";
    assert!(metrics.contains(line), "{line} in {metrics}");
}
