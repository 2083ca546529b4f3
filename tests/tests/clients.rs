//! The identity providers' flows, replayed against `scimkit serve` with each request as the client sends it:
//! Microsoft Entra ID, Okta, and a CAS-like SSO server using a SCIM SDK client.

mod common;

use common::{cli, raw, Resp, Server, TempDir, TOKEN};
use serde_json::{json, Value};
use std::cell::RefCell;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn q(filter: &str) -> String {
    filter.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('[', "%5B").replace(']', "%5D")
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|a| a.iter().map(|m| m["value"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

/// A request the profile refused: the flow's label for it, the status and the `scimType`.
type Refusal = (&'static str, u16, String);

/// A client's flow replayed against one tenant, each request as the client sends it. Under `tolerant` every
/// request must succeed. Under `strict` a refused request is recorded with its error and, where the flow gives
/// one, the same change in its conformant form is sent instead, so that the flow goes on to its next request.
struct Replay {
    s: Server,
    strict: bool,
    refused: RefCell<Vec<Refusal>>,
}

impl Replay {
    fn start(tag: &str, strict: bool) -> (TempDir, Replay) {
        let dir = TempDir::new(tag);
        if strict {
            std::fs::write(dir.0.join("scimkit.toml"), "[[tenant]]\nname = \"default\"\nprofile = \"strict\"\n")
                .unwrap();
        }
        let s = Server::start(&dir.0, &[]);
        (dir, Replay { s, strict, refused: RefCell::new(vec![]) })
    }

    /// Sends `body` (then `conformant` if that was refused under `strict`); the accepted response.
    fn send(&self, label: &'static str, method: &str, path: &str, body: &Value, conformant: Option<Value>) -> Resp {
        let r = self.s.send(method, path, &[], Some(body.to_string()));
        if r.status < 300 || !self.refuse(label, &r) {
            return r;
        }
        let conformant =
            conformant.unwrap_or_else(|| panic!("{label}: refused, and the flow gives no conformant form"));
        let r = self.s.send(method, path, &[], Some(conformant.to_string()));
        assert!(r.status < 300, "{label}, conformant form: {} {}", r.status, r.text);
        r
    }

    /// GET `path` (then `conformant` if that was refused under `strict`).
    fn get(&self, label: &'static str, path: &str, conformant: Option<&str>) -> Resp {
        let r = self.s.get(path);
        if r.status < 300 || !self.refuse(label, &r) {
            return r;
        }
        let r = self.s.get(conformant.unwrap_or_else(|| panic!("{label}: refused, no conformant form")));
        assert_eq!(r.status, 200, "{label}, conformant form: {}", r.text);
        r
    }

    /// A PATCH of `ops` (then of `conformant`); the resource afterwards.
    fn patch(&self, label: &'static str, path: &str, ops: Value, conformant: Option<Value>) -> Value {
        let body = |ops: Value| json!({"schemas": [PATCH_OP], "Operations": ops});
        let r = self.send(label, "PATCH", path, &body(ops), conformant.map(body));
        if r.status == 200 {
            r.json()
        } else {
            self.s.get(path).json()
        }
    }

    /// Records a refusal under `strict`; fails the flow under `tolerant`. False when nothing was refused.
    fn refuse(&self, label: &'static str, r: &Resp) -> bool {
        assert!(self.strict, "{label}: {} {}", r.status, r.text);
        assert_eq!(r.status, 400, "{label}: only the profile's 400s are expected: {}", r.text);
        let scim_type = r.json()["scimType"].as_str().unwrap_or_default().to_string();
        self.refused.borrow_mut().push((label, r.status, scim_type));
        true
    }
}

#[test]
fn entra_id_user_and_group_lifecycle() {
    let (_dir, r) = Replay::start("entra", false);
    entra_id_flow(&r);
}

fn entra_id_flow(r: &Replay) {
    let s = &r.s;
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
    let mut body = json!({
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
    });
    let sent = body.clone();
    body["active"] = json!(true);
    let created = r.send("create user, active \"True\"", "POST", "/Users", &sent, Some(body));
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    let uid = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["active"], true);

    // Matching: by userName (any case), by externalId, by work email (value path then sub-attribute).
    for f in [
        "userName eq \"test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1\"",
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"",
        "UserName eq \"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1\"",
    ] {
        let found = s.get(&format!("/Users/?filter={}", q(f))).json();
        assert_eq!(found["totalResults"], 1, "{f}: {found}");
    }
    let found = r.get(
        "filter emails[type eq \"work\"].value eq …",
        &format!("/Users/?filter={}", q("emails[type eq \"work\"].value eq \"Test_User_fd0ea19b@testuser.com\"")),
        Some(&format!(
            "/Users/?filter={}",
            q("emails[type eq \"work\" and value eq \"Test_User_fd0ea19b@testuser.com\"]")
        )),
    );
    assert_eq!(found.json()["totalResults"], 1, "{}", found.text);
    let plus = s.get("/Users?filter=userName+eq+%22Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1%22").json();
    assert_eq!(plus["totalResults"], 1);

    // Updates: capitalised ops, value path with sub-attribute, path-less add with dotted and URN keys,
    // the manager as a bare id.
    let p = format!("/Users/{uid}");
    let u = r.patch(
        "\"Replace\"/\"Add\" with filtered paths",
        &p,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
            {"op": "Add", "path": "addresses[type eq \"work\"].postalCode", "value": "98052"}
        ]),
        Some(json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "add", "path": "phoneNumbers", "value": [{"type": "mobile", "value": "+1 555 0100"}]},
            {"op": "add", "path": "addresses", "value": [{"type": "work", "locality": "Redmond", "postalCode": "98052"}]}
        ])),
    );
    assert_eq!(u["emails"].as_array().unwrap().len(), 1, "{u}");
    assert_eq!(u["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(u["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
    assert_eq!(u["addresses"].as_array().unwrap().len(), 1, "both ops land in one work address: {u}");
    assert_eq!(u["addresses"][0]["locality"], "Redmond");
    let u = r.patch(
        "path-less \"Add\", manager as a bare id",
        &p,
        json!([
            {"op": "Add", "value": {"displayName": "New Name", "name.givenName": "Barbara",
                                     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984"}},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        ]),
        Some(json!([
            {"op": "add", "path": "displayName", "value": "New Name"},
            {"op": "add", "path": "name.givenName", "value": "Barbara"},
            {"op": "add", "path": format!("{ENT}:employeeNumber"), "value": "701984"},
            {"op": "add", "path": format!("{ENT}:manager"), "value": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
        ])),
    );
    assert_eq!(u["displayName"], "New Name");
    assert_eq!(u["name"]["givenName"], "Barbara");
    assert_eq!(u[ENT]["employeeNumber"], "701984");
    assert_eq!(u[ENT]["manager"]["value"], "26118915-6090-4610-87e4-49d8ca9f808d");
    let u = r.patch(
        "\"Add\" displayName",
        &p,
        json!([{"op": "Add", "path": "displayName", "value": "Replaced By Add"}]),
        Some(json!([{"op": "add", "path": "displayName", "value": "Replaced By Add"}])),
    );
    assert_eq!(u["displayName"], "Replaced By Add");

    // Groups: extra schema URI and client meta on create; members added several per op, Add and Remove in one
    // request; removal by value list removes only those members.
    let mut others = vec![];
    for i in 0..3 {
        others.push(
            s.post("/Users", &json!({"userName": format!("member{i}")})).json()["id"].as_str().unwrap().to_string(),
        );
    }
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Entra Group", "meta": {"resourceType": "Group"}
    });
    let mut conformant = group.clone();
    conformant["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:Group"]);
    let g = r.send("create group with Entra's own schema URI", "POST", "/Groups", &group, Some(conformant));
    assert_eq!(g.status, 201, "{}", g.text);
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let gp = format!("/Groups/{gid}");
    r.patch(
        "\"Add\" members",
        &gp,
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": uid}, {"$ref": null, "value": others[0]}, {"$ref": null, "value": others[1]}]}]),
        Some(json!([{"op": "add", "path": "members", "value": [{"value": uid}, {"value": others[0]}, {"value": others[1]}]}])),
    );
    r.patch(
        "\"Remove\" members by value list",
        &gp,
        json!([
            {"op": "Remove", "path": "members", "value": [{"value": others[0]}]},
            {"op": "Add", "path": "members", "value": [{"value": others[2]}]}
        ]),
        Some(json!([
            {"op": "remove", "path": format!("members[value eq \"{}\"]", others[0])},
            {"op": "add", "path": "members", "value": [{"value": others[2]}]}
        ])),
    );
    let mut expected = vec![uid.clone(), others[1].clone(), others[2].clone()];
    expected.sort();
    assert_eq!(member_ids(&s.get(&gp).json()), expected, "only the listed member is removed");
    let found =
        s.get(&format!("/Groups?excludedAttributes=members&filter={}", q("displayName eq \"entra group\""))).json();
    assert_eq!(found["totalResults"], 1);
    assert!(found["Resources"][0].get("members").is_none());
    r.patch(
        "\"Replace\" displayName",
        &gp,
        json!([{"op": "Replace", "path": "displayName", "value": "Entra Group Renamed"}]),
        Some(json!([{"op": "replace", "path": "displayName", "value": "Entra Group Renamed"}])),
    );
    assert_eq!(s.get(&gp).json()["displayName"], "Entra Group Renamed");

    // Disable: the user stays readable, listable, filterable, and keeps its groups.
    r.patch(
        "\"Replace\" active \"False\"",
        &p,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
        Some(json!([{"op": "replace", "path": "active", "value": false}])),
    );
    let disabled = s.get(&p).json();
    assert_eq!(disabled["active"], false);
    assert_eq!(s.get(&format!("/Users?filter={}", q("active eq false"))).json()["totalResults"], 1);
    assert!(member_ids(&s.get(&gp).json()).contains(&uid));
    r.patch(
        "\"Replace\" active true",
        &p,
        json!([{"op": "Replace", "path": "active", "value": true}]),
        Some(json!([{"op": "replace", "path": "active", "value": true}])),
    );
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
    let (_dir, r) = Replay::start("okta", false);
    okta_flow(&r);
}

fn okta_flow(r: &Replay) {
    let s = &r.s;
    // Connector test and existence checks: counts are JSON integers.
    for path in ["/Users?startIndex=1&count=2", "/Groups?startIndex=1&count=100"] {
        let r = s.get(path).json();
        assert!(r["totalResults"].is_u64() && r["startIndex"].is_u64() && r["itemsPerPage"].is_u64(), "{r}");
    }
    let none =
        s.get(&format!("/Users?filter={}&startIndex=1&count=100", q("userName eq \"test.user@okta.local\""))).json();
    assert_eq!(none["totalResults"], 0);

    let created = r.send(
        "create user",
        "POST",
        "/Users",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [], "password": "1mz050nq", "active": true
        }),
        None,
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    assert!(user.get("password").is_none(), "password is never returned");
    let uid = user["id"].as_str().unwrap().to_string();
    let p = format!("/Users/{uid}");

    // Update: GET, then PUT of the server's own representation, which must not drop anything.
    let mut got = s.get(&p).json();
    got["name"]["givenName"] = json!("Tess");
    let put = r.send("PUT of the server's representation", "PUT", &p, &got, None);
    assert_eq!(put.status, 200, "{}", put.text);
    let after = put.json();
    assert_eq!(after["name"]["givenName"], "Tess");
    for key in ["emails", "displayName", "locale", "externalId", "active"] {
        assert_eq!(after[key], got[key], "{key} kept");
    }

    // Group push: create, add, remove-by-filter plus add in one PATCH, rename with the id in the value,
    // replace members with [].
    let second = s.post("/Users", &json!({"userName": "second@okta.local"})).json()["id"].as_str().unwrap().to_string();
    let g = r.send(
        "create group",
        "POST",
        "/Groups",
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}),
        None,
    );
    assert_eq!(g.status, 201, "{}", g.text);
    let gid = g.json()["id"].as_str().unwrap().to_string();
    let gp = format!("/Groups/{gid}");
    r.patch(
        "add members",
        &gp,
        json!([{"op": "add", "path": "members", "value": [{"value": uid, "display": "test.user@okta.local"}]}]),
        None,
    );
    r.patch(
        "remove by filter, add",
        &gp,
        json!([
            {"op": "remove", "path": format!("members[value eq \"{uid}\"]")},
            {"op": "add", "path": "members", "value": [{"value": second, "display": "second@okta.local"}]}
        ]),
        None,
    );
    assert_eq!(member_ids(&s.get(&gp).json()), vec![second.clone()]);
    let renamed = r.patch(
        "rename, path-less with the id",
        &gp,
        json!([{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}}]),
        Some(json!([{"op": "replace", "path": "displayName", "value": "Test SCIMv2 renamed"}])),
    );
    assert_eq!(renamed["displayName"], "Test SCIMv2 renamed");
    r.patch("replace members with []", &gp, json!([{"op": "replace", "path": "members", "value": []}]), None);
    assert!(member_ids(&s.get(&gp).json()).is_empty());

    // Deactivate; users are never deleted by Okta.
    r.patch(
        "deactivate, path-less",
        &p,
        json!([{"op": "replace", "value": {"active": false}}]),
        Some(json!([{"op": "replace", "path": "active", "value": false}])),
    );
    assert_eq!(s.get(&p).json()["active"], false);

    // Rejections are SCIM JSON with the error schema.
    let rejected = raw("GET", &s.url("/Users"), &[("Authorization", "non-token".into())], None);
    rejected.assert_error(401, None);
    // gzip is honoured or cleanly ignored.
    let gz = raw(
        "GET",
        &s.url("/Users"),
        &[("Authorization", format!("Bearer {TOKEN}")), ("Accept-Encoding", "gzip".into())],
        None,
    );
    assert_eq!(gz.status, 200);
}

#[test]
fn cas_like_provisioner_with_a_scim_sdk_client() {
    let (_dir, r) = Replay::start("cas", false);
    cas_flow(&r);
}

fn cas_flow(r: &Replay) {
    let s = &r.s;
    let search = s.get(&format!("/Users?count=1&filter={}", q("userName eq \"casuser\""))).json();
    assert_eq!(search["totalResults"], 0);
    let user = r.send("create user", "POST", "/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "casuser",
        "name": {"givenName": "CAS", "familyName": "User"}, "emails": [{"value": "casuser@example.org", "type": "work"}], "active": true}), None).json();
    let uid = user["id"].as_str().unwrap().to_string();

    // Members with only $ref holding the bare id; lists include members by default.
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "students", "members": [{"$ref": uid}]});
    let mut conformant = group.clone();
    conformant["members"] = json!([{"value": uid}]);
    let g = r.send("create group, members by $ref alone", "POST", "/Groups", &group, Some(conformant));
    assert_eq!(g.status, 201, "{}", g.text);
    let listed = s.get(&format!("/Groups?filter={}", q("displayName eq \"students\""))).json();
    let group = listed["Resources"][0].clone();
    assert_eq!(member_ids(&group), vec![uid.clone()]);

    // The listed group PUT back with a member appended.
    let other = s.post("/Users", &json!({"userName": "other"})).json()["id"].as_str().unwrap().to_string();
    let mut put = group.clone();
    put["members"].as_array_mut().unwrap().push(json!({"value": other}));
    let gid = group["id"].as_str().unwrap();
    let replaced = r.send("PUT of the listed group, a member appended", "PUT", &format!("/Groups/{gid}"), &put, None);
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let mut expected = vec![uid.clone(), other];
    expected.sort();
    assert_eq!(member_ids(&replaced.json()), expected);
    assert_eq!(
        r.get("filter members.$ref eq", &format!("/Groups?filter={}", q(&format!("members.$ref eq \"{uid}\""))), None)
            .status,
        200
    );
    assert_eq!(
        s.get(&format!("/Groups?filter={}", q(&format!("members.value eq \"{uid}\"")))).json()["totalResults"],
        1
    );

    // The user, searched with count=1 and PUT back as listed with groups: [] — memberships stay.
    let listed = s.get(&format!("/Users?count=1&filter={}", q("userName eq \"casuser\""))).json();
    let mut u = listed["Resources"][0].clone();
    u["groups"] = json!([]);
    u["displayName"] = json!("CAS User");
    assert_eq!(r.send("PUT of the listed user, groups: []", "PUT", &format!("/Users/{uid}"), &u, None).status, 200);
    assert!(member_ids(&s.get(&format!("/Groups/{gid}")).json()).contains(&uid));
    let again = s.get(&format!("/Users/{uid}")).json();
    assert_eq!(again["groups"][0]["value"], gid, "{again}");
}

/// Each client's flow against a `strict` tenant: exactly these requests are refused, each with the error the
/// profile gives (`docs/profiles.md` lists them); the same change sent in its conformant form is accepted, and
/// the rest of the flow passes unchanged.
#[test]
fn client_flows_under_the_strict_profile() {
    let refused = |flow: fn(&Replay), tag: &str| {
        let (_dir, r) = Replay::start(tag, true);
        flow(&r);
        r.refused.into_inner()
    };
    let e = |label: &'static str, t: &str| (label, 400, t.to_string());
    assert_eq!(
        refused(entra_id_flow, "strict-entra"),
        vec![
            e("create user, active \"True\"", "invalidValue"),
            e("filter emails[type eq \"work\"].value eq …", "invalidFilter"),
            e("\"Replace\"/\"Add\" with filtered paths", "invalidSyntax"),
            e("path-less \"Add\", manager as a bare id", "invalidSyntax"),
            e("\"Add\" displayName", "invalidSyntax"),
            e("create group with Entra's own schema URI", "invalidSyntax"),
            e("\"Add\" members", "invalidSyntax"),
            e("\"Remove\" members by value list", "invalidSyntax"),
            e("\"Replace\" displayName", "invalidSyntax"),
            e("\"Replace\" active \"False\"", "invalidSyntax"),
            e("\"Replace\" active true", "invalidSyntax"),
        ]
    );
    assert_eq!(
        refused(okta_flow, "strict-okta"),
        vec![e("rename, path-less with the id", "invalidSyntax"), e("deactivate, path-less", "invalidSyntax")]
    );
    assert_eq!(refused(cas_flow, "strict-cas"), vec![e("create group, members by $ref alone", "invalidValue")]);
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
    s.patch(&format!("/Users/{uid}"), &no_path).assert_error(400, Some("invalidSyntax"));
    s.get(&format!("/Users?filter={}", q("userName eq jdoe"))).assert_error(400, Some("invalidFilter"));
    s.get(&format!("/Users?filter={}", q("favouriteColour eq \"blue\""))).assert_error(400, Some("invalidFilter"));
    let group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "urn:example:vendor"], "displayName": "g"});
    s.post("/Groups", &group).assert_error(400, Some("invalidSyntax"));
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
    common::schemas_file::a_tenant_serves_the_schemas_of_its_file(&[]);
}

/// What the IPSIE SCIM profile asks beyond the interop profile, on a `strict` tenant reached with OAuth 2 client
/// credentials (IPSIE §4.1): the user filters of §6.1.7, the group filters of §6.2.5, `/Bulk` (§4.3), 50 member
/// operations in one PATCH (§6.2.6), a deleted userName free for a new user (§5.2).
#[test]
fn the_ipsie_profile_on_a_strict_tenant() {
    let dir = TempDir::new("ipsie");
    let (ok, out, err) = cli(&dir.0, &["tenant", "add", "ipsie", "--auth", "oauth2"], None);
    assert!(ok, "tenant add: {err}");
    let secret = |key: &str| out.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("{key} in {out}"));
    let (client_id, client_secret) = (secret("oauth2 client_id: "), secret("oauth2 client_secret: "));
    let config = dir.0.join("scimkit.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("name = \"ipsie\"\n"), "{text}");
    std::fs::write(&config, text.replace("name = \"ipsie\"\n", "name = \"ipsie\"\nprofile = \"strict\"\n")).unwrap();
    let s = Server::start(&dir.0, &[]);

    let form = format!("grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}");
    let headers = [("Content-Type", "application/x-www-form-urlencoded".to_string())];
    let token = raw("POST", &format!("{}/oauth/ipsie/token", s.root()), &headers, Some(form.into_bytes()));
    assert_eq!(token.status, 200, "{}", token.text);
    let bearer = format!("Bearer {}", token.json()["access_token"].as_str().unwrap());
    let scim = |method: &str, path: &str, body: Option<Value>| {
        let headers = [("Authorization", bearer.clone()), ("Content-Type", "application/scim+json".to_string())];
        raw(method, &format!("{}/scim/v2/ipsie{path}", s.root()), &headers, body.map(|b| b.to_string().into_bytes()))
    };
    let config = scim("GET", "/ServiceProviderConfig", None).json();
    assert_eq!(config["interopProfileConformant"], true, "{config}");
    assert_eq!(config["bulk"]["supported"], true, "{config}");
    assert!(config["authenticationSchemes"].to_string().contains("OAuth 2.0 client credentials"), "{config}");

    // /Bulk: 50 users and a group in one request.
    let mut ops: Vec<Value> = (0..50)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": {"userName": format!("member{i}")}}))
        .collect();
    ops.push(json!({"method": "POST", "path": "/Users", "bulkId": "bjensen", "data": {
        "userName": "bjensen", "externalId": "ext-bjensen", "displayName": "Barbara Jensen", "active": true,
        "emails": [{"type": "work", "value": "bjensen@example.com"}]}}));
    ops.push(json!({"method": "POST", "path": "/Groups", "bulkId": "staff", "data": {
        "displayName": "Staff", "externalId": "ext-staff", "members": [{"value": "bulkId:bjensen"}]}}));
    let bulk = scim(
        "POST",
        "/Bulk",
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})),
    );
    assert_eq!(bulk.status, 200, "{}", bulk.text);
    let results = bulk.json()["Operations"].as_array().unwrap().clone();
    assert!(results.iter().all(|r| r["status"] == "201"), "{results:?}");
    let id_of = |r: &Value| r["location"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let (uid, gid) = (id_of(&results[50]), id_of(&results[51]));

    // The filters each level requires, as the profile writes them.
    let count = |path: &str, filter: &str| {
        let r = scim("GET", &format!("{path}?filter={}", q(filter)), None);
        assert_eq!(r.status, 200, "{filter}: {}", r.text);
        r.json()["totalResults"].as_u64().unwrap()
    };
    for filter in [
        "userName eq \"BJensen\"",
        "externalId eq \"ext-bjensen\"",
        "emails[value eq \"bjensen@example.com\"]",
        "emails[type eq \"work\" and value eq \"bjensen@example.com\"]",
    ] {
        assert_eq!(count("/Users", filter), 1, "{filter}");
    }
    for filter in ["displayName eq \"Staff\"", "externalId eq \"ext-staff\"", &format!("members[value eq \"{uid}\"]")] {
        assert_eq!(count("/Groups", filter), 1, "{filter}");
    }

    // 50 member operations in one PATCH.
    let adds: Vec<Value> =
        results[..50].iter().map(|r| json!({"op": "add", "path": "members", "value": [{"value": id_of(r)}]})).collect();
    let patched = scim("PATCH", &format!("/Groups/{gid}"), Some(json!({"schemas": [PATCH_OP], "Operations": adds})));
    assert!(patched.status == 200 || patched.status == 204, "{}", patched.text);
    assert_eq!(member_ids(&scim("GET", &format!("/Groups/{gid}"), None).json()).len(), 51);

    // Deactivation and reactivation (§5.1), deletion, and the userName free again.
    for active in [false, true] {
        let op = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]});
        let r = scim("PATCH", &format!("/Users/{uid}"), Some(op));
        assert_eq!((r.status, r.json()["active"].as_bool()), (200, Some(active)), "{}", r.text);
    }
    assert_eq!(scim("DELETE", &format!("/Users/{uid}"), None).status, 204);
    scim("GET", &format!("/Users/{uid}"), None).assert_error(404, None);
    assert_eq!(count("/Groups", &format!("members[value eq \"{uid}\"]")), 0);
    assert_eq!(scim("POST", "/Users", Some(json!({"userName": "bjensen"}))).status, 201);
}
