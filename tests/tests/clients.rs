//! The identity providers' flows, replayed against `scimkit serve` with each request as the client sends it:
//! Microsoft Entra ID, Okta, and a CAS-like SSO server using a SCIM SDK client.

mod common;

use common::{cli, raw, Server, TempDir, TOKEN};
use serde_json::{json, Value};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn q(filter: &str) -> String {
    filter.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('[', "%5B").replace(']', "%5D")
}

fn patch(s: &Server, path: &str, ops: Value) -> Value {
    let r = s.patch(path, &json!({"schemas": [PATCH_OP], "Operations": ops}));
    assert!(r.status == 200 || r.status == 204, "PATCH {path}: {} {}", r.status, r.text);
    if r.status == 200 {
        r.json()
    } else {
        s.get(path).json()
    }
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|a| a.iter().map(|m| m["value"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn entra_id_user_and_group_lifecycle() {
    let dir = TempDir::new("entra");
    let s = Server::start(&dir.0, &[]);

    // "Test connection": a random user and group that do not exist.
    let probe = s.get(&format!("/Users?filter={}", q("userName eq \"ffd4e1ef-4e39-4fc2-8a4c-4a8f3b1c9e2d\"")));
    assert_eq!(probe.status, 200);
    assert_eq!(probe.json()["totalResults"], 0);
    let probe = s.get(&format!(
        "/Groups?excludedAttributes=members&filter={}",
        q("displayName eq \"a2f5c1e7-8b3d-4c6a-9e1f-0d7b2a4c6e8f\"")
    ));
    assert_eq!(probe.json()["totalResults"], 0);

    // Create, as Entra sends it: both schemas, client meta, an empty roles list, booleans as strings.
    let created = s.post(
        "/Users",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            "addresses": null,
            "department": null
        }),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    let uid = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["active"], true);

    // Matching: by userName (any case), by externalId, by work email (value path then sub-attribute).
    for f in [
        "userName eq \"test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1\"",
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"",
        "emails[type eq \"work\"].value eq \"Test_User_fd0ea19b@testuser.com\"",
        "UserName eq \"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1\"",
    ] {
        let found = s.get(&format!("/Users/?filter={}", q(f))).json();
        assert_eq!(found["totalResults"], 1, "{f}: {found}");
    }
    let plus = s.get("/Users?filter=userName+eq+%22Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1%22").json();
    assert_eq!(plus["totalResults"], 1);

    // Updates: capitalised ops, value path with sub-attribute, path-less add with dotted and URN keys,
    // the manager as a bare id.
    let p = format!("/Users/{uid}");
    let u = patch(
        &s,
        &p,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
            {"op": "Add", "path": "addresses[type eq \"work\"].postalCode", "value": "98052"}
        ]),
    );
    assert_eq!(u["emails"].as_array().unwrap().len(), 1, "{u}");
    assert_eq!(u["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(u["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
    assert_eq!(u["addresses"].as_array().unwrap().len(), 1, "both ops land in one work address: {u}");
    assert_eq!(u["addresses"][0]["locality"], "Redmond");
    let u = patch(
        &s,
        &p,
        json!([
            {"op": "Add", "value": {"displayName": "New Name", "name.givenName": "Barbara",
                                     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984"}},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        ]),
    );
    assert_eq!(u["displayName"], "New Name");
    assert_eq!(u["name"]["givenName"], "Barbara");
    assert_eq!(u[ENT]["employeeNumber"], "701984");
    assert_eq!(u[ENT]["manager"]["value"], "26118915-6090-4610-87e4-49d8ca9f808d");
    let u = patch(&s, &p, json!([{"op": "Add", "path": "displayName", "value": "Replaced By Add"}]));
    assert_eq!(u["displayName"], "Replaced By Add");

    // Groups: extra schema URI and client meta on create; members added several per op, Add and Remove in one
    // request; removal by value list removes only those members.
    let mut others = vec![];
    for i in 0..3 {
        others.push(
            s.post("/Users", &json!({"userName": format!("member{i}")})).json()["id"].as_str().unwrap().to_string(),
        );
    }
    let g = s.post("/Groups", &json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Entra Group", "meta": {"resourceType": "Group"}
    }));
    assert_eq!(g.status, 201, "{}", g.text);
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let gp = format!("/Groups/{gid}");
    patch(
        &s,
        &gp,
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": uid}, {"$ref": null, "value": others[0]}, {"$ref": null, "value": others[1]}]}]),
    );
    patch(
        &s,
        &gp,
        json!([
            {"op": "Remove", "path": "members", "value": [{"value": others[0]}]},
            {"op": "Add", "path": "members", "value": [{"value": others[2]}]}
        ]),
    );
    let mut expected = vec![uid.clone(), others[1].clone(), others[2].clone()];
    expected.sort();
    assert_eq!(member_ids(&s.get(&gp).json()), expected, "only the listed member is removed");
    let found =
        s.get(&format!("/Groups?excludedAttributes=members&filter={}", q("displayName eq \"entra group\""))).json();
    assert_eq!(found["totalResults"], 1);
    assert!(found["Resources"][0].get("members").is_none());
    patch(&s, &gp, json!([{"op": "Replace", "path": "displayName", "value": "Entra Group Renamed"}]));
    assert_eq!(s.get(&gp).json()["displayName"], "Entra Group Renamed");

    // Disable: the user stays readable, listable, filterable, and keeps its groups.
    patch(&s, &p, json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let disabled = s.get(&p).json();
    assert_eq!(disabled["active"], false);
    assert_eq!(s.get(&format!("/Users?filter={}", q("active eq false"))).json()["totalResults"], 1);
    assert!(member_ids(&s.get(&gp).json()).contains(&uid));
    patch(&s, &p, json!([{"op": "Replace", "path": "active", "value": true}]));
    assert_eq!(s.get(&p).json()["active"], true);

    // Unique userName, case-insensitively; unique group displayName.
    s.post("/Users", &json!({"userName": "TEST_USER_AB6490EE-1E48-479E-A20B-2D77186B5DD1"}))
        .assert_error(409, Some("uniqueness"));
    s.post("/Groups", &json!({"displayName": "entra group renamed"})).assert_error(409, Some("uniqueness"));

    // Delete: gone everywhere, and from its groups.
    assert_eq!(s.delete(&p).status, 204);
    s.get(&p).assert_error(404, None);
    assert!(!member_ids(&s.get(&gp).json()).contains(&uid));
    assert_eq!(s.delete(&gp).status, 204);
}

#[test]
fn okta_user_and_group_push() {
    let dir = TempDir::new("okta");
    let s = Server::start(&dir.0, &[]);

    // Connector test and existence checks: counts are JSON integers.
    for path in ["/Users?startIndex=1&count=2", "/Groups?startIndex=1&count=100"] {
        let r = s.get(path).json();
        assert!(r["totalResults"].is_u64() && r["startIndex"].is_u64() && r["itemsPerPage"].is_u64(), "{r}");
    }
    let none =
        s.get(&format!("/Users?filter={}&startIndex=1&count=100", q("userName eq \"test.user@okta.local\""))).json();
    assert_eq!(none["totalResults"], 0);

    let created = s.post(
        "/Users",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [], "password": "1mz050nq", "active": true
        }),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    assert!(user.get("password").is_none(), "password is never returned");
    let uid = user["id"].as_str().unwrap().to_string();
    let p = format!("/Users/{uid}");

    // Update: GET, then PUT of the server's own representation, which must not drop anything.
    let mut got = s.get(&p).json();
    got["name"]["givenName"] = json!("Tess");
    let put = s.put(&p, &got);
    assert_eq!(put.status, 200, "{}", put.text);
    let after = put.json();
    assert_eq!(after["name"]["givenName"], "Tess");
    for key in ["emails", "displayName", "locale", "externalId", "active"] {
        assert_eq!(after[key], got[key], "{key} kept");
    }

    // Group push: create, add, remove-by-filter plus add in one PATCH, rename with the id in the value,
    // replace members with [].
    let second = s.post("/Users", &json!({"userName": "second@okta.local"})).json()["id"].as_str().unwrap().to_string();
    let g = s.post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}));
    assert_eq!(g.status, 201, "{}", g.text);
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let gp = format!("/Groups/{gid}");
    patch(
        &s,
        &gp,
        json!([{"op": "add", "path": "members", "value": [{"value": uid, "display": "test.user@okta.local"}]}]),
    );
    patch(
        &s,
        &gp,
        json!([
            {"op": "remove", "path": format!("members[value eq \"{uid}\"]")},
            {"op": "add", "path": "members", "value": [{"value": second, "display": "second@okta.local"}]}
        ]),
    );
    assert_eq!(member_ids(&s.get(&gp).json()), vec![second.clone()]);
    let renamed =
        patch(&s, &gp, json!([{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}}]));
    assert_eq!(renamed["displayName"], "Test SCIMv2 renamed");
    patch(&s, &gp, json!([{"op": "replace", "path": "members", "value": []}]));
    assert!(member_ids(&s.get(&gp).json()).is_empty());

    // Deactivate; users are never deleted by Okta.
    patch(&s, &p, json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(s.get(&p).json()["active"], false);

    // Rejections are SCIM JSON with the error schema.
    let r = raw("GET", &s.url("/Users"), &[("Authorization", "non-token".into())], None);
    r.assert_error(401, None);
    // gzip is honoured or cleanly ignored.
    let r = raw(
        "GET",
        &s.url("/Users"),
        &[("Authorization", format!("Bearer {TOKEN}")), ("Accept-Encoding", "gzip".into())],
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn cas_like_provisioner_with_a_scim_sdk_client() {
    let dir = TempDir::new("cas");
    let s = Server::start(&dir.0, &[]);

    let search = s.get(&format!("/Users?count=1&filter={}", q("userName eq \"casuser\""))).json();
    assert_eq!(search["totalResults"], 0);
    let user = s.post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "casuser",
        "name": {"givenName": "CAS", "familyName": "User"}, "emails": [{"value": "casuser@example.org", "type": "work"}], "active": true})).json();
    let uid = user["id"].as_str().unwrap().to_string();

    // Members with only $ref holding the bare id; lists include members by default.
    let g = s.post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "students", "members": [{"$ref": uid}]}));
    assert_eq!(g.status, 201, "{}", g.text);
    let listed = s.get(&format!("/Groups?filter={}", q("displayName eq \"students\""))).json();
    let group = listed["Resources"][0].clone();
    assert_eq!(member_ids(&group), vec![uid.clone()]);

    // The listed group PUT back with a member appended.
    let other = s.post("/Users", &json!({"userName": "other"})).json()["id"].as_str().unwrap().to_string();
    let mut put = group.clone();
    put["members"].as_array_mut().unwrap().push(json!({"value": other}));
    let gid = group["id"].as_str().unwrap();
    let r = s.put(&format!("/Groups/{gid}"), &put);
    assert_eq!(r.status, 200, "{}", r.text);
    let mut expected = vec![uid.clone(), other];
    expected.sort();
    assert_eq!(member_ids(&r.json()), expected);
    assert_eq!(s.get(&format!("/Groups?filter={}", q(&format!("members.$ref eq \"{uid}\"")))).status, 200);
    assert_eq!(
        s.get(&format!("/Groups?filter={}", q(&format!("members.value eq \"{uid}\"")))).json()["totalResults"],
        1
    );

    // The user, searched with count=1 and PUT back as listed with groups: [] — memberships stay.
    let listed = s.get(&format!("/Users?count=1&filter={}", q("userName eq \"casuser\""))).json();
    let mut u = listed["Resources"][0].clone();
    u["groups"] = json!([]);
    u["displayName"] = json!("CAS User");
    assert_eq!(s.put(&format!("/Users/{uid}"), &u).status, 200);
    assert!(member_ids(&s.get(&format!("/Groups/{gid}")).json()).contains(&uid));
    let again = s.get(&format!("/Users/{uid}")).json();
    assert_eq!(again["groups"][0]["value"], gid, "{again}");
}

/// A Group's PATCH answers 204 unless the client asks for a projection; a tenant's `patch_response` changes it.
#[test]
fn what_a_patch_answers_follows_the_tenant_setting() {
    let add = |id: &str| json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}]}]});
    let rename =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]});
    let start = |setting: Option<&str>| {
        let dir = TempDir::new("patch-response");
        if let Some(value) = setting {
            std::fs::write(
                dir.0.join("scimkit.toml"),
                format!("[[tenant]]\nname = \"default\"\npatch_response = \"{value}\"\n"),
            )
            .unwrap();
        }
        let s = Server::start(&dir.0, &[]);
        let uid =
            s.post("/Users", &json!({"userName": "member@example.com"})).json()["id"].as_str().unwrap().to_string();
        let gid = s.post("/Groups", &json!({"displayName": "Staff"})).json()["id"].as_str().unwrap().to_string();
        (dir, s, uid, gid)
    };

    let (_dir, s, uid, gid) = start(None);
    let r = s.patch(&format!("/Groups/{gid}"), &add(&uid));
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert!(r.header("etag").is_some());
    let r = s.patch(&format!("/Groups/{gid}?excludedAttributes=members"), &add(&uid));
    assert_eq!((r.status, r.json()["displayName"].as_str(), r.json().get("members")), (200, Some("Staff"), None));
    let r = s.patch(&format!("/Users/{uid}"), &rename);
    assert_eq!(
        (r.status, r.json()["displayName"].as_str()),
        (200, Some("Renamed")),
        "a User's PATCH answers the resource"
    );

    let (_dir, s, uid, gid) = start(Some("resource"));
    let r = s.patch(&format!("/Groups/{gid}"), &add(&uid));
    assert_eq!((r.status, member_ids(&r.json())), (200, vec![uid.clone()]));

    let (_dir, s, uid, _) = start(Some("no-content"));
    assert_eq!(s.patch(&format!("/Users/{uid}"), &rename).status, 204);
}

/// Per tenant: under `tolerant` (the default) each tolerance a client needs is counted in /metrics and the
/// engine's report never reaches the client; `tolerances` keeps only those listed; `strict` refuses what only
/// a tolerance accepts and advertises the interop profile.
#[test]
fn profiles_and_tolerances_per_tenant() {
    let start = |toml: &str| {
        let dir = TempDir::new("profile");
        std::fs::write(dir.0.join("scimkit.toml"), format!("[[tenant]]\nname = \"default\"\n{toml}")).unwrap();
        let s = Server::start(&dir.0, &[]);
        (dir, s)
    };
    let entra_user = json!({"userName": "jdoe", "active": "True"});
    let replace = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});

    let (_dir, s) = start("");
    let created = s.post("/Users", &entra_user);
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.header("scimkit-tolerances").is_none(), "the engine's report is the host's");
    let uid = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.patch(&format!("/Users/{uid}"), &replace).status, 200);
    assert_eq!(s.get(&format!("/Users?filter={}", q("userName eq jdoe"))).json()["totalResults"], 1);
    assert!(s.get("/ServiceProviderConfig").json().get("interopProfileConformant").is_none());
    let metrics = raw("GET", &format!("{}/metrics", s.root()), &[], None).text;
    for (tolerance, times) in [("boolean-string", 2), ("operation-name-case", 1), ("unquoted-filter-literal", 1)] {
        let line = format!("scimkit_tolerances_total{{tenant=\"default\",tolerance=\"{tolerance}\"}} {times}");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }

    let (_dir, s) = start("tolerances = [\"boolean-string\"]\n");
    let created = s.post("/Users", &entra_user);
    assert_eq!(created.status, 201, "{}", created.text);
    let uid = created.json()["id"].as_str().unwrap().to_string();
    s.patch(&format!("/Users/{uid}"), &replace).assert_error(400, Some("invalidSyntax"));

    let (_dir, s) = start("profile = \"strict\"\n");
    assert_eq!(s.get("/ServiceProviderConfig").json()["interopProfileConformant"], true);
    s.post("/Users", &entra_user).assert_error(400, Some("invalidValue"));
    s.post("/Users", &json!({"userName": "jdoe", "favouriteColour": "blue"})).assert_error(400, Some("invalidSyntax"));
    let uid = s.post("/Users", &json!({"userName": "jdoe"})).json()["id"].as_str().unwrap().to_string();
    let no_path = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"displayName": "J"}}]});
    s.patch(&format!("/Users/{uid}"), &no_path).assert_error(400, Some("invalidPath"));
    s.get(&format!("/Users?filter={}", q("userName eq jdoe"))).assert_error(400, Some("invalidFilter"));
}

/// Group members are resolved against the database: added without `type` they come back with `type` and
/// `$ref`; an id that names nothing is refused and nothing is written.
#[test]
fn group_members_are_resolved_against_the_database() {
    let dir = TempDir::new("members");
    let s = Server::start(&dir.0, &[]);
    let uid = s.post("/Users", &json!({"userName": "member"})).json()["id"].as_str().unwrap().to_string();
    let sub = s.post("/Groups", &json!({"displayName": "sub"})).json()["id"].as_str().unwrap().to_string();
    let g = s.post("/Groups", &json!({"displayName": "all", "members": [{"value": uid}, {"value": sub}]}));
    assert_eq!(g.status, 201, "{}", g.text);
    let members = g.json()["members"].clone();
    assert_eq!(members[0]["type"], "User", "{members}");
    assert_eq!(members[0]["$ref"], s.url(&format!("/Users/{uid}")), "{members}");
    assert_eq!(members[1]["type"], "Group", "{members}");
    s.post("/Groups", &json!({"displayName": "dangling", "members": [{"value": "no-such-id"}]}))
        .assert_error(400, Some("invalidValue"));
    assert_eq!(s.get(&format!("/Groups?filter={}", q("displayName eq \"dangling\""))).json()["totalResults"], 0);
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": "no-such-id"}]}]});
    s.patch(&format!("/Groups/{gid}"), &add).assert_error(400, Some("invalidValue"));
    assert_eq!(member_ids(&s.get(&format!("/Groups/{gid}")).json()).len(), 2);
    let schemas = s.get("/Schemas").json();
    assert_eq!(schemas["totalResults"], 6, "{schemas}");
}

/// A tenant's `schemas` file: an Entra custom extension on User and a resource type of its own, each served by
/// discovery, validated by its characteristics, stored and filtered; an invalid file stops the start, naming it.
#[test]
fn a_tenant_serves_the_schemas_of_its_file() {
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
    let s = Server::start(&dir.0, &[]);
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
