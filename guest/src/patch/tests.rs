//! PATCH through `Engine::handle`, against the in-memory store: every operation and path form, the bodies real
//! clients send, errors, atomicity, preconditions and membership at scale; and PUT's retry of a lost race, which
//! shares PATCH's.

use crate::conditional::ATTEMPTS;
use crate::http::{Request, Response};
use crate::store::memory::MemoryStore;
use crate::store::{Member, Page, Query, Store, StoreResult, Stored, UniqueKey, Update};
use crate::Engine;
use serde_json::{json, Value};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const BASE: &str = r#"{"baseUrl":"https://example.com/scim/v2"}"#;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
}

fn request(method: &str, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: body.map(|b| b.to_string().into_bytes()),
    }
}

fn json_of(resp: &Response) -> Value {
    serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
}

/// An engine and a store, driven like a client would.
struct Api<S: Store> {
    engine: Engine,
    store: S,
}

impl Api<MemoryStore> {
    fn new() -> Self {
        Api::with(BASE, MemoryStore::new())
    }
}

impl<S: Store> Api<S> {
    fn with(config: &str, store: S) -> Self {
        Api { engine: Engine::new(config).expect("test configuration"), store }
    }

    fn call(&mut self, method: &str, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Response {
        self.engine.handle(&mut self.store, now(), None, &request(method, path, body, headers))
    }

    fn create(&mut self, endpoint: &str, body: Value) -> String {
        let resp = self.call("POST", endpoint, Some(&body), &[]);
        assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
        json_of(&resp)["id"].as_str().unwrap_or_default().to_string()
    }

    fn patch(&mut self, path: &str, ops: Value) -> (u16, Value) {
        let resp = self.call("PATCH", path, Some(&patch_body(ops)), &[]);
        (resp.status, json_of(&resp))
    }

    fn get(&mut self, path: &str) -> Value {
        json_of(&self.call("GET", path, None, &[]))
    }
}

fn patch_body(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

fn barbara() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "userName": "bjensen", "displayName": "Babs", "title": "Tour Guide", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@home.example", "type": "home", "primary": true},
                   {"value": "b@work.example", "type": "work"}],
        "phoneNumbers": [{"value": "555-1", "type": "work"}],
        "password": "secret",
        ENT: {"employeeNumber": "1", "department": "Tours"}
    })
}

/// JSON pointer into the resource; `null` in a case means "absent".
type Want = Vec<(&'static str, Value)>;

fn check(case: &str, got: &Value, want: &Want) {
    for (pointer, expected) in want {
        let found = got.pointer(pointer).cloned().unwrap_or(Value::Null);
        assert_eq!(&found, expected, "{case}: {pointer} in {got}");
    }
}

/// A pointer into the enterprise extension.
macro_rules! ent {
    ($p:literal) => {
        concat!("/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", $p)
    };
}

/// Operation × path form, on the user above. Each case is one request; `Err` names the expected `scimType`.
fn user_cases() -> Vec<(&'static str, Value, Result<Want, &'static str>)> {
    let ent_employee = format!("{ENT}:employeeNumber");
    vec![
        ("add, no path", json!([{"op":"add","value":{"nickName":"B"}}]), Ok(vec![("/nickName", json!("B"))])),
        (
            "add, no path, dotted and URN keys (Entra ID)",
            json!([{"op":"Add","value":{"name.givenName":"B", ent_employee.clone():"7"}}]),
            Ok(vec![
                ("/name/givenName", json!("B")),
                ("/name/familyName", json!("Jensen")),
                (ent!("/employeeNumber"), json!("7")),
            ]),
        ),
        (
            "add, no path, extension object",
            json!([{"op":"add","value":{ENT:{"costCenter":"4"}}}]),
            Ok(vec![(ent!("/costCenter"), json!("4")), (ent!("/employeeNumber"), json!("1"))]),
        ),
        (
            "add on a single value replaces it",
            json!([{"op":"add","path":"title","value":"Boss"}]),
            Ok(vec![("/title", json!("Boss"))]),
        ),
        (
            "add attr.sub",
            json!([{"op":"add","path":"name.middleName","value":"J"}]),
            Ok(vec![("/name/middleName", json!("J")), ("/name/givenName", json!("Barbara"))]),
        ),
        (
            "add appends to a multi-valued attribute",
            json!([{"op":"add","path":"emails","value":[{"value":"n@x.example","type":"other"}]}]),
            Ok(vec![("/emails/2/value", json!("n@x.example")), ("/emails/0/value", json!("b@home.example"))]),
        ),
        (
            "add of an equal value adds nothing",
            json!([{"op":"add","path":"emails","value":[{"value":"B@WORK.example","type":"Work"}]}]),
            Ok(vec![("/emails/2", Value::Null), ("/emails/1/value", json!("b@work.example"))]),
        ),
        (
            "add primary takes it from the others",
            json!([{"op":"add","path":"emails","value":{"value":"p@x.example","primary":true}}]),
            Ok(vec![("/emails/0/primary", json!(false)), ("/emails/2/primary", json!(true))]),
        ),
        (
            "add URN path",
            json!([{"op":"add","path":format!("{ENT}:department"),"value":"Sales"}]),
            Ok(vec![(ent!("/department"), json!("Sales"))]),
        ),
        (
            "add on a filtered sub-attribute",
            json!([{"op":"add","path":"emails[type eq \"work\"].display","value":"Work"}]),
            Ok(vec![("/emails/1/display", json!("Work")), ("/emails/0/display", Value::Null)]),
        ),
        (
            "add manager as a bare id (Entra ID)",
            json!([{"op":"Add","path":format!("{ENT}:manager"),"value":"26118915"}]),
            Ok(vec![(ent!("/manager/value"), json!("26118915"))]),
        ),
        (
            "add null adds nothing",
            json!([{"op":"add","path":"nickName","value":null}]),
            Ok(vec![("/nickName", Value::Null)]),
        ),
        (
            "replace, no path (Okta)",
            json!([{"op":"replace","value":{"active":false}}]),
            Ok(vec![("/active", json!(false))]),
        ),
        (
            "replace a boolean sent as a string (Entra ID)",
            json!([{"op":"Replace","path":"active","value":"False"}]),
            Ok(vec![("/active", json!(false))]),
        ),
        (
            "replace, no path, boolean as a string",
            json!([{"op":"Replace","value":{"active":"True"}}]),
            Ok(vec![("/active", json!(true))]),
        ),
        (
            "replace attr",
            json!([{"op":"replace","path":"displayName","value":"X"}]),
            Ok(vec![("/displayName", json!("X"))]),
        ),
        (
            "replace attr.sub",
            json!([{"op":"replace","path":"name.familyName","value":"J"}]),
            Ok(vec![("/name/familyName", json!("J")), ("/name/givenName", json!("Barbara"))]),
        ),
        (
            "replace a complex value keeps sub-attributes not given",
            json!([{"op":"replace","path":"name","value":{"givenName":"Bee"}}]),
            Ok(vec![("/name/givenName", json!("Bee")), ("/name/familyName", json!("Jensen"))]),
        ),
        (
            "replace a multi-valued attribute replaces all values",
            json!([{"op":"replace","path":"emails","value":[{"value":"o@x.example"}]}]),
            Ok(vec![("/emails/0/value", json!("o@x.example")), ("/emails/1", Value::Null)]),
        ),
        (
            "replace filtered",
            json!([{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w2@x.example"}}]),
            Ok(vec![
                ("/emails/1/value", json!("w2@x.example")),
                ("/emails/1/type", json!("work")),
                ("/emails/0/value", json!("b@home.example")),
            ]),
        ),
        (
            "replace filtered sub-attribute (Entra ID)",
            json!([{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}]),
            Ok(vec![("/emails/1/value", json!("x@y")), ("/emails/2", Value::Null)]),
        ),
        (
            "replace filtered, no match, creates the element",
            json!([{"op":"Replace","path":"emails[type eq \"other\"].value","value":"o@x"}]),
            Ok(vec![("/emails/2", json!({"type":"other","value":"o@x"}))]),
        ),
        (
            "add filtered, no match, creates the address",
            json!([{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Berlin"}]),
            Ok(vec![("/addresses/0", json!({"type":"work","locality":"Berlin"}))]),
        ),
        (
            "replace filtered, no match, creates the phone number",
            json!([{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"555-2"}]),
            Ok(vec![
                ("/phoneNumbers/1", json!({"type":"mobile","value":"555-2"})),
                ("/phoneNumbers/0/value", json!("555-1")),
            ]),
        ),
        (
            "operations on one filter land in one element",
            json!([
                {"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Berlin"},
                {"op":"Add","path":"addresses[type eq \"work\"].postalCode","value":"10115"},
                {"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"Main St 1"}]),
            Ok(vec![
                (
                    "/addresses/0",
                    json!({"type":"work","locality":"Berlin","postalCode":"10115","streetAddress":"Main St 1"}),
                ),
                ("/addresses/1", Value::Null),
            ]),
        ),
        (
            "replace URN path",
            json!([{"op":"replace","path":ent_employee.clone(),"value":"8"}]),
            Ok(vec![(ent!("/employeeNumber"), json!("8"))]),
        ),
        (
            "replace with null unassigns",
            json!([{"op":"replace","path":"title","value":null}]),
            Ok(vec![("/title", Value::Null)]),
        ),
        (
            "replace with [] unassigns",
            json!([{"op":"replace","path":"phoneNumbers","value":[]}]),
            Ok(vec![("/phoneNumbers", Value::Null)]),
        ),
        (
            "names in any case",
            json!([{"op":"REPLACE","path":"NAME.GIVENNAME","value":"Bee"}]),
            Ok(vec![("/name/givenName", json!("Bee"))]),
        ),
        (
            "meta and unknown attributes in a value are ignored",
            json!([{"op":"replace","value":{"meta":{"created":"2000-01-01T00:00:00Z"},"title":"T","bogus":"x","gone":null}}]),
            Ok(vec![("/title", json!("T")), ("/bogus", Value::Null)]),
        ),
        (
            "unknown path is ignored",
            json!([{"op":"add","path":"bogus","value":"x"}]),
            Ok(vec![("/bogus", Value::Null)]),
        ),
        (
            "primary as a filtered sub-attribute takes it from the others",
            json!([{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}]),
            Ok(vec![("/emails/0/primary", json!(false)), ("/emails/1/primary", json!(true))]),
        ),
        (
            "remove attr",
            json!([{"op":"remove","path":"title"}]),
            Ok(vec![("/title", Value::Null), ("/displayName", json!("Babs"))]),
        ),
        (
            "remove attr.sub",
            json!([{"op":"remove","path":"name.givenName"}]),
            Ok(vec![("/name/givenName", Value::Null), ("/name/familyName", json!("Jensen"))]),
        ),
        (
            "remove filtered",
            json!([{"op":"remove","path":"emails[type eq \"work\"]"}]),
            Ok(vec![("/emails/1", Value::Null), ("/emails/0/type", json!("home"))]),
        ),
        (
            "remove filtered sub-attribute",
            json!([{"op":"remove","path":"emails[type eq \"work\"].value"}]),
            Ok(vec![("/emails/1", json!({"type":"work"}))]),
        ),
        (
            "remove every value by filter leaves the attribute unassigned",
            json!([{"op":"remove","path":"phoneNumbers[type eq \"work\"]"}]),
            Ok(vec![("/phoneNumbers", Value::Null)]),
        ),
        (
            "remove URN path",
            json!([{"op":"remove","path":ent_employee.clone()}]),
            Ok(vec![(ent!("/employeeNumber"), Value::Null), (ent!("/department"), json!("Tours"))]),
        ),
        ("remove a whole extension", json!([{"op":"remove","path":ENT}]), Ok(vec![(ent!(""), Value::Null)])),
        (
            "remove the listed values only",
            json!([{"op":"remove","path":"emails","value":[{"value":"b@work.example"}]}]),
            Ok(vec![("/emails/1", Value::Null), ("/emails/0/value", json!("b@home.example"))]),
        ),
        (
            "remove an unassigned attribute is a no-op",
            json!([{"op":"remove","path":"nickName"}]),
            Ok(vec![("/userName", json!("bjensen"))]),
        ),
        (
            "remove with a filter that matches nothing is a no-op",
            json!([{"op":"remove","path":"emails[type eq \"other\"]"}]),
            Ok(vec![("/emails/1/type", json!("work"))]),
        ),
        (
            "remove then add in one request",
            json!([{"op":"remove","path":"title"},{"op":"add","path":"title","value":"New"}]),
            Ok(vec![("/title", json!("New"))]),
        ),
        (
            "remove a write-only attribute",
            json!([{"op":"remove","path":"password"}]),
            Ok(vec![("/password", Value::Null)]),
        ),
        // Errors.
        ("malformed path", json!([{"op":"add","path":"emails[type eq","value":"x"}]), Err("invalidPath")),
        (
            "sub-attribute of a simple attribute",
            json!([{"op":"add","path":"userName.x","value":"x"}]),
            Err("invalidPath"),
        ),
        (
            "filter on a single-valued attribute",
            json!([{"op":"replace","path":"title[value eq \"x\"]","value":"x"}]),
            Err("invalidPath"),
        ),
        (
            "filter misusing a type",
            json!([{"op":"replace","path":"emails[primary gt \"x\"].value","value":"x"}]),
            Err("invalidPath"),
        ),
        ("remove without a path", json!([{"op":"remove","value":{"title":"x"}}]), Err("noTarget")),
        (
            "replace, no match, filter not describing an element",
            json!([{"op":"replace","path":"emails[value co \"zz\"].display","value":"x"}]),
            Err("noTarget"),
        ),
        ("replace id", json!([{"op":"replace","path":"id","value":"x"}]), Err("mutability")),
        (
            "replace a read-only sub-attribute",
            json!([{"op":"replace","path":"meta.created","value":"2000-01-01T00:00:00Z"}]),
            Err("mutability"),
        ),
        (
            "add to a read-only attribute",
            json!([{"op":"add","path":"groups","value":[{"value":"g"}]}]),
            Err("mutability"),
        ),
        (
            "another id in a value",
            json!([{"op":"replace","value":{"id":"someone-else","title":"x"}}]),
            Err("mutability"),
        ),
        ("remove a required attribute", json!([{"op":"remove","path":"userName"}]), Err("mutability")),
        (
            "replace a required attribute with null",
            json!([{"op":"replace","path":"userName","value":null}]),
            Err("mutability"),
        ),
        ("wrong type", json!([{"op":"replace","path":"active","value":3}]), Err("invalidValue")),
        (
            "not a canonical value",
            json!([{"op":"add","path":"emails","value":[{"value":"a@b","type":"pigeon"}]}]),
            Err("invalidValue"),
        ),
        ("no-path value not an object", json!([{"op":"add","value":"x"}]), Err("invalidValue")),
        (
            "two primaries",
            json!([{"op":"replace","path":"emails","value":[{"value":"a","primary":true},{"value":"b","primary":true}]}]),
            Err("invalidValue"),
        ),
        (
            "a list for one element",
            json!([{"op":"replace","path":"emails[type eq \"work\"]","value":[{"value":"a"},{"value":"b"}]}]),
            Err("invalidValue"),
        ),
        ("unknown op", json!([{"op":"copy","path":"title","value":"x"}]), Err("invalidSyntax")),
        ("add without a value", json!([{"op":"add","path":"title"}]), Err("invalidSyntax")),
        ("no operations", json!([]), Err("invalidSyntax")),
    ]
}

#[test]
fn every_operation_and_path_form() {
    for (name, ops, want) in user_cases() {
        let mut api = Api::new();
        let id = api.create("/Users", barbara());
        let before = api.get(&format!("/Users/{id}"));
        let (status, body) = api.patch(&format!("/Users/{id}"), ops);
        let after = api.get(&format!("/Users/{id}"));
        match want {
            Ok(fields) => {
                assert_eq!(status, 200, "{name}: {body}");
                check(name, &body, &fields);
                check(name, &after, &fields);
            }
            Err(scim_type) => {
                assert_eq!(status, 400, "{name}: {body}");
                assert_eq!(body["scimType"], scim_type, "{name}: {body}");
                assert_eq!(before, after, "{name}: a failed PATCH must write nothing");
            }
        }
    }
}

#[test]
fn patch_body_structure() {
    let mut api = Api::new();
    let id = api.create("/Users", barbara());
    let path = format!("/Users/{id}");
    let send = |api: &mut Api<MemoryStore>, body: Value| {
        let resp = api.call("PATCH", &path, Some(&body), &[]);
        (resp.status, json_of(&resp)["scimType"].clone())
    };
    let ops = json!([{"op":"replace","path":"title","value":"x"}]);
    assert_eq!(send(&mut api, json!({"schemas":["urn:x"],"Operations":ops})), (400, json!("invalidSyntax")));
    assert_eq!(
        send(&mut api, json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})),
        (400, json!("invalidSyntax"))
    );
    assert_eq!(send(&mut api, json!([1])), (400, json!("invalidSyntax")));
    assert_eq!(send(&mut api, json!({"Operations":ops})).0, 200, "schemas may be left out");
    assert_eq!(
        send(&mut api, json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":ops})).0,
        200
    );
}

#[test]
fn the_exact_entra_id_user_bodies() {
    let mut api = Api::new();
    let id = api.create("/Users", barbara());
    let path = format!("/Users/{id}");
    for body in [
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}"#,
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}]}"#,
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","value":{"name.givenName":"B","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"}}]}"#,
    ] {
        let req = Request { body: Some(body.as_bytes().to_vec()), ..request("PATCH", &path, None, &[]) };
        let resp = api.engine.handle(&mut api.store, now(), None, &req);
        assert_eq!(resp.status, 200, "{body}: {}", String::from_utf8_lossy(&resp.body));
    }
    let user = api.get(&path);
    assert_eq!(user["active"], false);
    assert_eq!(user["emails"][1], json!({"type":"work","value":"x@y"}));
    assert_eq!(user["name"]["givenName"], "B");
    assert_eq!(user[ENT]["employeeNumber"], "7");
}

#[test]
fn unknown_attributes_rejected_when_configured() {
    let mut api = Api::with(
        r#"{"baseUrl":"https://example.com/scim/v2","switches":{"unknownAttributes":"reject"}}"#,
        MemoryStore::new(),
    );
    let id = api.create("/Users", json!({"userName":"a"}));
    let (status, body) = api.patch(&format!("/Users/{id}"), json!([{"op":"add","path":"bogus","value":"x"}]));
    assert_eq!((status, body["scimType"].clone()), (400, json!("invalidPath")));
    let (status, body) = api.patch(&format!("/Users/{id}"), json!([{"op":"add","value":{"bogus":"x"}}]));
    assert_eq!((status, body["scimType"].clone()), (400, json!("invalidValue")));
    let (status, _) = api.patch(&format!("/Users/{id}"), json!([{"op":"add","value":{"bogus":null,"title":"t"}}]));
    assert_eq!(status, 200, "an unknown attribute with null names nothing to change");
}

#[test]
fn immutable_attributes_are_set_once() {
    let config = r#"{"baseUrl":"https://example.com/scim/v2",
        "schemas":[{"id":"urn:example:badge","name":"Badge","attributes":[{"name":"badge","mutability":"immutable"}]}],
        "extensions":{"User":[{"schema":"urn:example:badge"}]}}"#;
    let mut api = Api::with(config, MemoryStore::new());
    let id = api.create("/Users", json!({"userName":"a"}));
    let path = format!("/Users/{id}");
    let (status, _) = api.patch(&path, json!([{"op":"add","path":"urn:example:badge:badge","value":"B1"}]));
    assert_eq!(status, 200, "an unset immutable attribute may be set");
    let (status, _) = api.patch(&path, json!([{"op":"replace","path":"urn:example:badge:badge","value":"B1"}]));
    assert_eq!(status, 200, "setting the same value changes nothing");
    for op in [
        json!({"op":"replace","path":"urn:example:badge:badge","value":"B2"}),
        json!({"op":"remove","path":"urn:example:badge:badge"}),
    ] {
        let (status, body) = api.patch(&path, json!([op]));
        assert_eq!((status, body["scimType"].clone()), (400, json!("mutability")), "{op}");
    }
}

#[test]
fn atomic_when_a_later_operation_fails() {
    let mut api = Api::new();
    let id = api.create("/Users", barbara());
    let path = format!("/Users/{id}");
    let before = api.call("GET", &path, None, &[]);
    let (status, body) = api.patch(
        &path,
        json!([
        {"op":"replace","path":"title","value":"Changed"},
        {"op":"replace","path":"active","value":"maybe"}]),
    );
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap_or_default().starts_with("Operations[1]"), "{body}");
    let after = api.call("GET", &path, None, &[]);
    assert_eq!(before.header("ETag"), after.header("ETag"));
    assert_eq!(json_of(&after)["title"], "Tour Guide");
}

#[test]
fn unchanged_resource_is_not_written() {
    let mut api = Api::new();
    let id = api.create("/Users", barbara());
    let path = format!("/Users/{id}");
    let resp =
        api.call("PATCH", &path, Some(&patch_body(json!([{"op":"replace","path":"title","value":"Tour Guide"}]))), &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("ETag"), Some("W/\"1\""));
}

#[test]
fn if_match_and_etag() {
    let mut api = Api::new();
    let id = api.create("/Users", barbara());
    let path = format!("/Users/{id}");
    let body = patch_body(json!([{"op":"replace","path":"title","value":"x"}]));
    let stale = api.call("PATCH", &path, Some(&body), &[("If-Match", "W/\"7\"")]);
    assert_eq!(stale.status, 412);
    assert_eq!(api.get(&path)["title"], "Tour Guide");
    let ok = api.call("PATCH", &path, Some(&body), &[("If-Match", "W/\"1\"")]);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("ETag"), Some("W/\"2\""));
    assert_eq!(json_of(&ok)["meta"]["version"], "W/\"2\"");
}

#[test]
fn response_honours_projection_and_no_content() {
    let mut api = Api::new();
    let id = api.create("/Users", barbara());
    let ops = patch_body(json!([{"op":"replace","path":"title","value":"x"}]));
    let resp = api.call("PATCH", &format!("/Users/{id}?attributes=title"), Some(&ops), &[]);
    let body = json_of(&resp);
    assert_eq!(body["title"], "x");
    assert!(body.get("userName").is_none() && body.get("password").is_none());

    let config = r#"{"baseUrl":"https://example.com/scim/v2","switches":{"patchResponse":"noContent"}}"#;
    let mut api = Api::with(config, MemoryStore::new());
    let id = api.create("/Users", barbara());
    let resp = api.call("PATCH", &format!("/Users/{id}"), Some(&ops), &[]);
    assert_eq!((resp.status, resp.body.len()), (204, 0));
    assert_eq!(resp.header("ETag"), Some("W/\"2\""));
}

/// A store that lets another writer in before the first `times` updates.
struct Racing {
    inner: MemoryStore,
    times: usize,
}

impl Store for Racing {
    fn get(&mut self, rt: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        self.inner.get(rt, id, with_members)
    }
    fn create(&mut self, rt: &str, data: &str, unique: &[UniqueKey], members: &[Member]) -> StoreResult<Stored> {
        self.inner.create(rt, data, unique, members)
    }
    fn update(&mut self, change: &Update) -> StoreResult<Stored> {
        if self.times > 0 {
            self.times -= 1;
            let current =
                self.inner.get(&change.resource_type, &change.id, false)?.ok_or(crate::store::StoreError::NotFound)?;
            let mut data: Value = serde_json::from_str(&current.data).unwrap_or_default();
            data["nickName"] = json!(format!("other writer {}", self.times));
            let theirs = Update { data: Some(data.to_string()), if_version: None, ..change.clone() };
            self.inner.update(&Update {
                clear_members: false,
                remove_members: vec![],
                add_members: vec![],
                ..theirs
            })?;
        }
        self.inner.update(change)
    }
    fn delete(&mut self, rt: &str, id: &str, if_version: Option<&str>) -> StoreResult<()> {
        self.inner.delete(rt, id, if_version)
    }
    fn search(&mut self, query: &Query) -> StoreResult<Page> {
        self.inner.search(query)
    }
    fn members(&mut self, rt: &str, id: &str, start: u32, count: u32) -> StoreResult<Vec<Member>> {
        self.inner.members(rt, id, start, count)
    }
    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(principal)
    }
}

#[test]
fn concurrent_change_is_retried_never_lost() {
    let mut api = Api::with(BASE, Racing { inner: MemoryStore::new(), times: 0 });
    let id = api.create("/Users", barbara());
    let path = format!("/Users/{id}");
    api.store.times = 2;
    let (status, body) = api.patch(&path, json!([{"op":"replace","path":"title","value":"mine"}]));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["title"], "mine");
    assert_eq!(body["nickName"], "other writer 0", "the other writer's change survives");

    api.store.times = ATTEMPTS - 1;
    let (status, body) = api.patch(&path, json!([{"op":"replace","path":"title","value":"busy"}]));
    assert_eq!((status, &body["title"]), (200, &json!("busy")), "a writer in between each round but the last: {body}");

    api.store.times = ATTEMPTS;
    let (status, _) = api.patch(&path, json!([{"op":"replace","path":"title","value":"again"}]));
    assert_eq!(status, 409, "a resource that keeps changing is a conflict");

    api.store.times = 1;
    let version = api.get(&path)["meta"]["version"].as_str().unwrap_or_default().to_string();
    let body = patch_body(json!([{"op":"replace","path":"title","value":"x"}]));
    let resp = api.call("PATCH", &path, Some(&body), &[("If-Match", &version)]);
    assert_eq!(resp.status, 412, "with If-Match, a change in between is not retried");
}

/// PUT shares the retry: without If-Match a change in between is retried and this PUT is the last write; with
/// If-Match it is 412 (RFC 7644 §3.14).
#[test]
fn a_put_without_if_match_is_retried_and_wins_with_if_match_it_is_412() {
    let mut api = Api::with(BASE, Racing { inner: MemoryStore::new(), times: 0 });
    let id = api.create("/Users", barbara());
    let path = format!("/Users/{id}");
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen", "title": "put"});
    api.store.times = ATTEMPTS - 1;
    let resp = api.call("PUT", &path, Some(&body), &[]);
    let answer = json_of(&resp);
    assert_eq!(resp.status, 200, "{answer}");
    let stored = api.get(&path);
    assert_eq!((&stored["title"], &stored["nickName"]), (&json!("put"), &Value::Null), "the PUT wrote last: {stored}");
    assert_eq!(stored["meta"]["version"], answer["meta"]["version"]);

    api.store.times = 1;
    let resp = api.call("PUT", &path, Some(&body), &[("If-Match", "*")]);
    assert_eq!(resp.status, 200, "If-Match: * only asks that the resource exist");

    api.store.times = 1;
    let version = api.get(&path)["meta"]["version"].as_str().unwrap_or_default().to_string();
    let resp = api.call("PUT", &path, Some(&body), &[("If-Match", &version)]);
    assert_eq!(resp.status, 412, "with If-Match, a change in between is not retried");
    assert_eq!(api.get(&path)["nickName"], "other writer 0", "the other writer's change stays");

    api.store.times = ATTEMPTS;
    let resp = api.call("PUT", &path, Some(&body), &[]);
    assert_eq!((resp.status, json_of(&resp)["status"].as_str()), (409, Some("409")), "a resource that never settles");
}

#[test]
fn service_provider_config_offers_patch() {
    let mut api = Api::new();
    assert_eq!(api.get("/ServiceProviderConfig")["patch"]["supported"], true);
}

/// Three users and a group holding the first two.
fn group_with_members(api: &mut Api<impl Store>) -> (String, [String; 3]) {
    let users = ["u1", "u2", "u3"].map(|n| api.create("/Users", json!({"userName": n})));
    let members: Vec<Value> = users[..2].iter().map(|u| json!({"value": u, "type": "User"})).collect();
    let group = api.create("/Groups", json!({"displayName": "Tour Guides", "members": members}));
    (group, users)
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["value"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn group_membership_forms() {
    type Case = (&'static str, fn(&[String; 3], &str) -> Value, Result<fn(&[String; 3]) -> Vec<String>, &'static str>);
    let cases: Vec<Case> = vec![
        (
            "add (Entra ID, with a null $ref)",
            |u, _| json!([{"op":"Add","path":"members","value":[{"$ref":null,"value":u[2]}]}]),
            Ok(|u| vec![u[0].clone(), u[1].clone(), u[2].clone()]),
        ),
        (
            "add an existing member does not duplicate it",
            |u, _| json!([{"op":"add","path":"members","value":[{"value":u[0]}]}]),
            Ok(|u| vec![u[0].clone(), u[1].clone()]),
        ),
        (
            "add, no path",
            |u, _| json!([{"op":"add","value":{"members":[{"value":u[2]}]}}]),
            Ok(|u| vec![u[0].clone(), u[1].clone(), u[2].clone()]),
        ),
        (
            "remove the listed members (Entra ID)",
            |u, _| json!([{"op":"Remove","path":"members","value":[{"value":u[0]}]}]),
            Ok(|u| vec![u[1].clone()]),
        ),
        (
            "remove by filter, then add (Okta)",
            |u, _| {
                json!([
                {"op":"remove","path":format!("members[value eq \"{}\"]", u[0])},
                {"op":"add","path":"members","value":[{"value":u[2]},{"value":u[0]}]}])
            },
            Ok(|u| vec![u[0].clone(), u[1].clone(), u[2].clone()]),
        ),
        (
            "remove by filter",
            |u, _| json!([{"op":"remove","path":format!("members[value eq \"{}\"]", u[1])}]),
            Ok(|u| vec![u[0].clone()]),
        ),
        (
            "remove by an or of values",
            |u, _| json!([{"op":"remove","path":format!("members[value eq \"{}\" or value eq \"{}\"]", u[0], u[1])}]),
            Ok(|_| vec![]),
        ),
        (
            "remove by another filter loads the members",
            |_, _| json!([{"op":"remove","path":"members[type eq \"User\"]"}]),
            Ok(|_| vec![]),
        ),
        ("remove all", |_, _| json!([{"op":"remove","path":"members"}]), Ok(|_| vec![])),
        (
            "replace with [] empties the group (Okta)",
            |_, _| json!([{"op":"replace","path":"members","value":[]}]),
            Ok(|_| vec![]),
        ),
        (
            "replace",
            |u, _| json!([{"op":"replace","path":"members","value":[{"value":u[2]}]}]),
            Ok(|u| vec![u[2].clone()]),
        ),
        (
            "replace one member by filter",
            |u, _| json!([{"op":"replace","path":format!("members[value eq \"{}\"]", u[0]),"value":[{"value":u[2]}]}]),
            Ok(|u| vec![u[1].clone(), u[2].clone()]),
        ),
        (
            "rename with the group's own id in the value (Okta)",
            |_, g| json!([{"op":"replace","value":{"id":g,"displayName":"new"}}]),
            Ok(|u| vec![u[0].clone(), u[1].clone()]),
        ),
        (
            "a member's sub-attribute",
            |u, _| json!([{"op":"replace","path":format!("members[value eq \"{}\"].display", u[0]),"value":"x"}]),
            Err("mutability"),
        ),
        (
            "add with a filter",
            |u, _| json!([{"op":"add","path":"members[type eq \"User\"]","value":[{"value":u[2]}]}]),
            Err("invalidPath"),
        ),
        (
            "a member without an id",
            |_, _| json!([{"op":"add","path":"members","value":[{"display":"x"}]}]),
            Err("invalidValue"),
        ),
    ];
    for (name, ops, want) in cases {
        let mut api = Api::new();
        let (group, users) = group_with_members(&mut api);
        let path = format!("/Groups/{group}");
        let (status, body) = api.patch(&path, ops(&users, &group));
        let after = api.get(&path);
        match want {
            Ok(members) => {
                assert_eq!(status, 204, "{name}: a group's PATCH answers no body: {body}");
                let mut expected = members(&users);
                expected.sort();
                assert_eq!(member_ids(&after), expected, "{name}: stored");
            }
            Err(scim_type) => {
                assert_eq!((status, body["scimType"].as_str()), (400, Some(scim_type)), "{name}: {body}");
                assert_eq!(member_ids(&after), member_ids(&json!({"members":[{"value":users[0]},{"value":users[1]}]})));
            }
        }
    }
}

#[test]
fn group_rename_keeps_members_and_refuses_another_id() {
    let mut api = Api::new();
    let (group, _) = group_with_members(&mut api);
    let path = format!("/Groups/{group}");
    let (status, _) = api.patch(&path, json!([{"op":"replace","value":{"id":group,"displayName":"Renamed"}}]));
    assert_eq!(status, 204);
    let body = api.get(&path);
    assert_eq!(body["displayName"], "Renamed");
    assert_eq!(body["members"].as_array().map(Vec::len), Some(2));
    let (status, body) = api.patch(&path, json!([{"op":"replace","value":{"id":"other","displayName":"X"}}]));
    assert_eq!((status, body["scimType"].as_str()), (400, Some("mutability")));
}

/// Records what the engine asks of storage.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    /// `with_members` of every `get`.
    gets: Vec<bool>,
    member_pages: usize,
    updates: Vec<Update>,
}

impl Store for Counting {
    fn get(&mut self, rt: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        self.gets.push(with_members);
        self.inner.get(rt, id, with_members)
    }
    fn create(&mut self, rt: &str, data: &str, unique: &[UniqueKey], members: &[Member]) -> StoreResult<Stored> {
        self.inner.create(rt, data, unique, members)
    }
    fn update(&mut self, change: &Update) -> StoreResult<Stored> {
        self.updates.push(change.clone());
        self.inner.update(change)
    }
    fn delete(&mut self, rt: &str, id: &str, if_version: Option<&str>) -> StoreResult<()> {
        self.inner.delete(rt, id, if_version)
    }
    fn search(&mut self, query: &Query) -> StoreResult<Page> {
        self.inner.search(query)
    }
    fn members(&mut self, rt: &str, id: &str, start: u32, count: u32) -> StoreResult<Vec<Member>> {
        self.member_pages += 1;
        self.inner.members(rt, id, start, count)
    }
    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(principal)
    }
}

fn big_group(config: &str) -> (Api<Counting>, String) {
    let mut api = Api::with(config, Counting::default());
    let members: Vec<Member> =
        (0..100_000).map(|i| Member { value: format!("m{i}"), kind: Some("User".into()), display: None }).collect();
    let data = json!({"displayName": "everyone", "meta": {"created": "2023-01-01T00:00:00.000Z"}}).to_string();
    let unique = [UniqueKey { attribute: "displayName".into(), value: "everyone".into() }];
    let stored = api.store.inner.create("Group", &data, &unique, &members).expect("created");
    // The members the tests add exist.
    for id in ["newcomer", "m6"] {
        api.store.inner.insert("User", id, r#"{"userName":"member"}"#);
    }
    (api, stored.id)
}

#[test]
fn a_group_of_100000_members_is_patched_with_the_delta_only() {
    let ops = patch_body(json!([
        {"op":"Add","path":"members","value":[{"$ref":null,"value":"newcomer"}]},
        {"op":"remove","path":"members[value eq \"m5\"]"},
        {"op":"Remove","path":"members","value":[{"value":"m6"}]},
        {"op":"replace","path":"displayName","value":"all of us"}]));
    let (mut api, id) = big_group(BASE);
    let resp = api.call("PATCH", &format!("/Groups/{id}?excludedAttributes=members"), Some(&ops), &[]);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let body = json_of(&resp);
    assert!(body.get("members").is_none());
    assert_eq!(body["displayName"], "all of us");
    assert_eq!(api.store.gets, vec![false, false], "the group, then the added member; never the member list");
    assert_eq!(api.store.member_pages, 0);
    let [update] = api.store.updates.as_slice() else { panic!("one write, got {}", api.store.updates.len()) };
    assert!(!update.clear_members);
    assert_eq!(update.remove_members, vec!["m5".to_string(), "m6".to_string()]);
    assert_eq!(update.add_members.iter().map(|m| m.value.as_str()).collect::<Vec<_>>(), vec!["newcomer"]);
    assert_eq!(update.if_version.as_deref(), Some("1"));
    let stored = api.store.inner.get("Group", &id, true).ok().flatten().and_then(|s| s.members).unwrap_or_default();
    assert_eq!(stored.len(), 99_999);

    let config = r#"{"baseUrl":"https://example.com/scim/v2","switches":{"patchResponse":"noContent"}}"#;
    let (mut api, id) = big_group(config);
    let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(&ops), &[]);
    assert_eq!(resp.status, 204);
    assert_eq!(api.store.gets, vec![false, false], "204 reads nothing back");
    let (mut api, id) = big_group(BASE);
    let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(&ops), &[]);
    assert_eq!((resp.status, api.store.gets.as_slice()), (204, &[false, false][..]), "204 by default for a group");

    let config = r#"{"baseUrl":"https://example.com/scim/v2","switches":{"patchResponse":"resource"}}"#;
    let (mut api, id) = big_group(config);
    let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(&ops), &[]);
    assert_eq!(json_of(&resp)["members"].as_array().map(Vec::len), Some(99_999));
    assert_eq!(
        api.store.gets,
        vec![false, false, false],
        "the group and the added member before the write, its version after the member pages"
    );
    assert_eq!(api.store.member_pages, 10, "members are read back a page at a time to show them");
}

#[test]
fn missing_resource_and_malformed_body() {
    let mut api = Api::new();
    let ops = patch_body(json!([{"op":"replace","path":"title","value":"x"}]));
    assert_eq!(api.call("PATCH", "/Users/nobody", Some(&ops), &[]).status, 404);
    let id = api.create("/Users", barbara());
    let req = Request { body: Some(b"{not json".to_vec()), ..request("PATCH", &format!("/Users/{id}"), None, &[]) };
    let resp = api.engine.handle(&mut api.store, now(), None, &req);
    assert_eq!((resp.status, json_of(&resp)["scimType"].as_str()), (400, Some("invalidSyntax")));
}

#[test]
fn uniqueness_is_checked_on_the_patched_body() {
    let mut api = Api::new();
    api.create("/Groups", json!({"displayName": "Taken"}));
    let id = api.create("/Groups", json!({"displayName": "Mine"}));
    let (status, body) =
        api.patch(&format!("/Groups/{id}"), json!([{"op":"replace","path":"displayName","value":"taken"}]));
    assert_eq!((status, body["scimType"].as_str()), (409, Some("uniqueness")));
}

#[test]
fn member_adds_and_removes_by_id_are_one_unconditional_delta_without_a_read() {
    let entra = patch_body(json!([{"op":"Add","path":"members","value":[{"$ref":null,"value":"newcomer"}]}]));
    let okta = patch_body(json!([
        {"op":"remove","path":"members[value eq \"m5\"]"},
        {"op":"add","path":"members","value":[{"value":"m6","display":"six"}]}]));
    for ops in [&entra, &okta] {
        let (mut api, id) = big_group(BASE);
        let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(ops), &[]);
        assert_eq!((resp.status, resp.body.len()), (204, 0), "{ops}");
        assert_eq!(resp.header("ETag"), Some("W/\"2\""));
        // One read per added member, to resolve it; the group itself is not read.
        assert!(api.store.gets == [false] && api.store.member_pages == 0, "{ops}: {:?}", api.store.gets);
        let [update] = api.store.updates.as_slice() else { panic!("one write") };
        assert_eq!((update.data.as_deref(), update.if_version.as_deref()), (None, None), "{ops}");
    }

    // Asked for a projection: 200 with it, members read only when shown.
    let (mut api, id) = big_group(BASE);
    let resp = api.call("PATCH", &format!("/Groups/{id}?attributes=displayName"), Some(&entra), &[]);
    assert_eq!((resp.status, json_of(&resp)["displayName"].as_str()), (200, Some("everyone")));
    assert!(json_of(&resp).get("members").is_none());
    assert_eq!(api.store.gets, [false]);

    // If-Match is honoured; `*` only asks that the group exist.
    let (mut api, id) = big_group(BASE);
    let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(&entra), &[("If-Match", "W/\"7\"")]);
    assert_eq!(resp.status, 412);
    let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(&entra), &[("If-Match", "W/\"1\"")]);
    assert_eq!(resp.status, 204);
    assert_eq!(api.store.updates.last().and_then(|u| u.if_version.as_deref()), Some("1"));
    let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(&entra), &[("If-Match", "*")]);
    assert_eq!(resp.status, 204);
    assert_eq!(api.call("PATCH", "/Groups/nobody", Some(&entra), &[("If-Match", "*")]).status, 404);
    assert_eq!(api.call("PATCH", "/Groups/nobody", Some(&entra), &[]).status, 404);
    let bad = patch_body(json!([{"op":"add","path":"members","value":[{"display":"no id"}]}]));
    assert_eq!(api.call("PATCH", "/Groups/nobody", Some(&bad), &[]).status, 404, "an unknown id first");
    let resp = api.call("PATCH", &format!("/Groups/{id}"), Some(&bad), &[]);
    assert_eq!((resp.status, json_of(&resp)["scimType"].as_str()), (400, Some("invalidValue")));
}

#[test]
fn a_membership_delta_never_loses_a_race_and_a_body_change_stays_conditional() {
    let mut api = Api::with(BASE, Racing { inner: MemoryStore::new(), times: 0 });
    let group = api.create("/Groups", json!({"displayName": "crowd"}));
    let (u1, u2) = (api.create("/Users", json!({"userName": "u1"})), api.create("/Users", json!({"userName": "u2"})));
    let path = format!("/Groups/{group}");
    api.store.times = 10;
    let (status, _) = api.patch(&path, json!([{"op":"add","path":"members","value":[{"value":u1}]}]));
    assert_eq!(status, 204, "another writer in between changes nothing for a delta");
    api.store.times = ATTEMPTS;
    let (status, _) = api.patch(
        &path,
        json!([
        {"op":"add","path":"members","value":[{"value":u2}]},
        {"op":"replace","path":"displayName","value":"renamed"}]),
    );
    assert_eq!(status, 409, "a body change is read-modify-write");
    api.store.times = 0;
    assert_eq!(member_ids(&api.get(&path)), vec![u1]);
}
