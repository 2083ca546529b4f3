use super::{ChangeEvent, Hooks, Operation as O, Refusal, Verdict};
use crate::http::Request;
use crate::store::Store;
use crate::tests::harness::{Harness, Reply};
use serde_json::{json, Value};

/// Records every call; answers `check` with `verdict` (then allows).
#[derive(Default)]
struct Recorder {
    calls: Vec<(&'static str, ChangeEvent)>,
    verdict: Option<Verdict>,
}

impl Hooks for Recorder {
    fn check(&mut self, change: &ChangeEvent) -> Verdict {
        self.calls.push(("check", change.clone()));
        self.verdict.take().unwrap_or(Verdict::Allow)
    }
    fn stage(&mut self, change: &ChangeEvent) {
        self.calls.push(("stage", change.clone()));
    }
    fn changed(&mut self, change: &ChangeEvent, _version: &str) {
        self.calls.push(("changed", change.clone()));
    }
}

impl Recorder {
    fn changed(&mut self) -> Vec<ChangeEvent> {
        let out = self.calls.iter().filter(|(k, _)| *k == "changed").map(|(_, c)| c.clone()).collect();
        self.calls.clear();
        out
    }
}

fn send(h: &mut Harness, hooks: &mut Recorder, method: &str, path: &str, body: Option<Value>) -> Reply {
    let req = Request {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers: vec![("Content-Type".into(), crate::http::SCIM_JSON.into())],
        body: body.map(|b| b.to_string().into_bytes()),
    };
    let resp = h.engine.handle_with_hooks(&mut h.store, hooks, h.now, None, &req);
    let body = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    Reply { status: resp.status, headers: resp.headers, body }
}

fn image(text: &Option<String>) -> Value {
    serde_json::from_str(text.as_deref().expect("an image")).expect("JSON")
}

#[test]
fn every_write_is_checked_staged_then_reported_with_images_without_secrets() {
    let (mut h, mut r) = (Harness::new(), Recorder::default());
    let user = json!({"userName": "ann", "password": "S3cret!", "name": {"givenName": "Ann"}});
    let id = send(&mut h, &mut r, "POST", "/Users", Some(user)).expect(201)["id"].as_str().unwrap().to_string();
    let kinds: Vec<&str> = r.calls.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, ["check", "stage", "changed"]);
    assert_eq!(r.calls[1].1.id, "", "storage has not assigned the id when the change is staged");
    let created = r.changed().remove(0);
    assert_eq!((created.id.as_str(), created.operations.as_slice()), (id.as_str(), &[O::Create][..]));
    let after = image(&created.after);
    assert_eq!((after["id"].as_str(), &after["name"]["givenName"]), (Some(id.as_str()), &json!("Ann")));
    assert!(after.get("password").is_none() && created.before.is_none(), "{after}");
    assert!(created.paths.contains(&"userName".to_string()) && !created.paths.contains(&"password".to_string()));

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "name.givenName", "value": "Anne"},
        {"op": "replace", "path": "active", "value": false}]});
    send(&mut h, &mut r, "PATCH", &format!("/Users/{id}"), Some(patch)).expect(200);
    let patched = r.changed().remove(0);
    assert_eq!(patched.operations, [O::Patch, O::Deactivated]);
    assert_eq!(patched.paths, ["active", "name.givenName"]);
    assert_eq!(image(&patched.before)["name"]["givenName"], "Ann");
    assert_eq!(image(&patched.after)["name"]["givenName"], "Anne");
    assert!(image(&patched.before).get("password").is_none());

    let put = json!({"userName": "ann", "active": true});
    send(&mut h, &mut r, "PUT", &format!("/Users/{id}"), Some(put)).expect(200);
    let replaced = r.changed().remove(0);
    assert_eq!(replaced.operations, [O::Replace, O::Activated]);
    assert_eq!(replaced.paths, ["active", "name.givenName"]);

    send(&mut h, &mut r, "DELETE", &format!("/Users/{id}"), None);
    let deleted = r.changed().remove(0);
    assert_eq!((deleted.operations.as_slice(), deleted.after.is_none()), (&[O::Delete][..], true));
    assert_eq!(image(&deleted.before)["userName"], "ann");
}

#[test]
fn a_refusal_is_the_answer_and_nothing_is_staged_or_written() {
    let (mut h, mut r) = (Harness::new(), Recorder::default());
    r.verdict = Some(Verdict::Refuse(Refusal {
        status: 400,
        scim_type: Some("invalidValue".into()),
        detail: "userName admin is reserved".into(),
    }));
    let reply = send(&mut h, &mut r, "POST", "/Users", Some(json!({"userName": "admin"})));
    assert_eq!(reply.expect_error(400, Some("invalidValue")), "userName admin is reserved");
    assert_eq!(r.calls.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["check"]);
    assert_eq!(h.get("/Users").expect(200)["totalResults"], 0);

    r.verdict = Some(Verdict::Refuse(Refusal { status: 403, scim_type: Some("x".into()), detail: "no".into() }));
    let reply = send(&mut h, &mut r, "POST", "/Users", Some(json!({"userName": "b"})));
    assert_eq!(reply.expect_error(403, None), "no");
    r.verdict = Some(Verdict::Refuse(Refusal { status: 200, scim_type: None, detail: "odd".into() }));
    send(&mut h, &mut r, "POST", "/Users", Some(json!({"userName": "c"}))).assert_error(500);
}

#[test]
fn an_adjustment_is_validated_and_written_keeping_the_password() {
    let (mut h, mut r) = (Harness::new(), Recorder::default());
    r.verdict = Some(Verdict::Adjust(json!({"userName": "bob", "title": "Staff"}).to_string()));
    let body = json!({"userName": "bob", "password": "pw-1234"});
    let created = send(&mut h, &mut r, "POST", "/Users", Some(body)).expect(201);
    assert_eq!(created["title"], "Staff");
    let id = created["id"].as_str().unwrap();
    let stored = h.store.get("User", id, false).unwrap().expect("stored").data;
    assert!(stored.contains("\"title\":\"Staff\"") && stored.contains("pw-1234"), "{stored}");
    assert_eq!(image(&r.changed()[0].after)["title"], "Staff");

    r.verdict = Some(Verdict::Adjust(json!({"userName": 42}).to_string()));
    let detail = send(&mut h, &mut r, "PUT", &format!("/Users/{id}"), Some(json!({"userName": "bob"})))
        .expect_error(400, Some("invalidValue"));
    assert!(detail.starts_with("the application's adjustment: "), "{detail}");
}

#[test]
fn membership_changes_and_bulk_operations_are_events_of_their_own() {
    let (mut h, mut r) = (Harness::new(), Recorder::default());
    let (a, b) = (h.user("a"), h.user("b"));
    let group = h.create("/Groups", &json!({"displayName": "g", "members": [{"value": a}]}));
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": b}]},
        {"op": "remove", "path": format!("members[value eq \"{a}\"]")}]});
    send(&mut h, &mut r, "PATCH", &format!("/Groups/{group}"), Some(patch)).expect(204);
    let change = r.changed().remove(0);
    assert_eq!(change.operations, [O::Patch, O::MembersAdded, O::MembersRemoved]);
    assert_eq!((change.members_added, change.members_removed), (vec![b.clone()], vec![a.clone()]));
    assert_eq!(change.paths, ["members"]);

    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "c"}},
        {"method": "PATCH", "path": format!("/Users/{a}"), "data": {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]}},
        {"method": "DELETE", "path": format!("/Users/{b}")}]});
    send(&mut h, &mut r, "POST", "/Bulk", Some(bulk)).expect(200);
    let ops: Vec<Vec<O>> = r.changed().into_iter().map(|c| c.operations).collect();
    assert_eq!(ops, [vec![O::Create], vec![O::Patch, O::Deactivated], vec![O::Delete]]);
}
