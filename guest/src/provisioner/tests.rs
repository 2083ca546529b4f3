//! The provisioner against a real SCIM server in-process: a fake transport routes each request into an
//! [`Engine`](crate::Engine) over a [`MemoryStore`](crate::store::memory::MemoryStore).

use super::*;
use crate::mapper::Attributes;
use crate::tests::harness::Harness;
use serde_json::json;

/// The in-process target. Without `patch`, it plays a server that offers no PATCH (advertised as such, and
/// answered with an error).
struct Target {
    h: Harness,
    patch: bool,
    log: Vec<(String, String)>,
    down: bool,
    /// Another client creates each group just before the provisioner does.
    race: bool,
    /// Another client changes a group between the provisioner's read and its PUT, this many times.
    meddle: u32,
    /// Pages lists only by RFC 9865 cursor (announced so), refusing `startIndex` with 400.
    cursor_only: bool,
}

impl Target {
    fn new(patch: bool) -> Target {
        Target { h: Harness::new(), patch, log: vec![], down: false, race: false, meddle: 0, cursor_only: false }
    }

    fn writes(&self) -> Vec<&str> {
        self.log.iter().filter(|(m, _)| m != "GET").map(|(m, _)| m.as_str()).collect()
    }

    fn user(&mut self, user_name: &str) -> Value {
        let found =
            self.h.get(&format!("/Users?filter={}", run::encode(&format!("userName eq \"{user_name}\"")))).expect(200);
        found["Resources"][0].clone()
    }

    fn group_members(&mut self, name: &str) -> Vec<String> {
        let found =
            self.h.get(&format!("/Groups?filter={}", run::encode(&format!("displayName eq \"{name}\"")))).expect(200);
        let members = found["Resources"][0]["members"].as_array().cloned().unwrap_or_default();
        members.iter().map(|m| m["value"].as_str().unwrap().to_string()).collect()
    }

    fn route(&mut self, req: Request) -> Response {
        let target = format!("{}?{}", req.path, req.query);
        let body: Option<Value> = req.body.as_ref().map(|b| serde_json::from_slice(b).unwrap());
        let extra: Vec<(&str, &str)> =
            req.headers.iter().filter(|(k, _)| k == "If-Match").map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if self.cursor_only {
            if let Some(reply) = self.cursor_page(&req) {
                return reply;
            }
        }
        let reply = match (self.patch, req.method.as_str(), req.path.as_str()) {
            (false, "GET", "/ServiceProviderConfig") => {
                let mut r = self.h.get(&target);
                r.body["patch"]["supported"] = json!(false);
                r
            }
            (false, "PATCH", path) => self.h.send("PATCH", &format!("/Nowhere{path}"), None, &[]),
            (_, "POST", "/Groups") if self.race => {
                let name = body.as_ref().unwrap()["displayName"].clone();
                self.h.post("/Groups", &json!({"schemas": [crate::schema::GROUP], "displayName": name})).expect(201);
                self.h.post("/Groups", body.as_ref().unwrap())
            }
            (_, "PUT", path) if self.meddle > 0 && path.starts_with("/Groups/") => {
                self.meddle -= 1;
                let mut g = self.h.get(path).expect(200);
                g["externalId"] = json!(format!("touched{}", self.meddle));
                self.h.put(path, &g).expect(200);
                self.h.send("PUT", &target, body.as_ref(), &extra)
            }
            (_, m, _) => self.h.send(m, &target, body.as_ref(), &extra),
        };
        let headers = reply.headers.clone();
        let body = if reply.body.is_null() { vec![] } else { reply.body.to_string().into_bytes() };
        Response { status: reply.status, headers, body }
    }
}

impl Target {
    /// The cursor-only target's own answers: its ServiceProviderConfig, and list pages, a cursor being the
    /// 1-based index of the page's first item (opaque to the client). `None`: answered by the engine.
    fn cursor_page(&mut self, req: &Request) -> Option<Response> {
        let json = |status: u16, body: Value| Response { status, headers: vec![], body: body.to_string().into_bytes() };
        if req.path == "/ServiceProviderConfig" {
            let mut spc = self.h.get("/ServiceProviderConfig").expect(200);
            spc["pagination"] =
                json!({"cursor": true, "index": false, "defaultPaginationMethod": "cursor", "maxPageSize": 150});
            return Some(json(200, spc));
        }
        let params = crate::http::parse_query(&req.query);
        if params.iter().any(|(k, _)| k == "startIndex") {
            let error = json!({"schemas": [crate::error::ERROR_SCHEMA], "status": "400", "scimType": "invalidValue",
                "detail": "this target pages by cursor only"});
            return Some(json(400, error));
        }
        let cursor = params.iter().find(|(k, _)| k == "cursor")?.1.clone();
        let start: u64 = if cursor.is_empty() { 1 } else { cursor.trim_start_matches('c').parse().ok()? };
        let rest: Vec<String> =
            params.iter().filter(|(k, _)| k != "cursor").map(|(k, v)| format!("{k}={}", run::encode(v))).collect();
        let mut page = self.h.get(&format!("{}?{}&startIndex={start}", req.path, rest.join("&"))).expect(200);
        let n = page["Resources"].as_array().map_or(0, Vec::len) as u64;
        if let Some(obj) = page.as_object_mut() {
            obj.remove("startIndex");
            if n > 0 && start + n <= obj["totalResults"].as_u64().unwrap() {
                obj.insert("nextCursor".into(), json!(format!("c{}", start + n)));
            }
        }
        Some(json(200, page))
    }
}

impl Transport for Target {
    fn send(&mut self, req: Request) -> Result<Response, String> {
        if self.down {
            return Err("connection refused".into());
        }
        assert_eq!(
            req.headers.iter().find(|(k, _)| k == "Accept").map(|(_, v)| v.as_str()),
            Some("application/scim+json")
        );
        self.log.push((req.method.clone(), req.path.clone()));
        Ok(self.route(req))
    }
}

fn config(enabled: bool, update: &str, match_by: &str) -> String {
    json!({"services": {
        "app1": {"enabled": enabled, "update": update, "match": match_by, "mapping": {
            "attributes": [
                {"target": "userName", "from": "uid"},
                {"target": "externalId", "template": "dir-${employeeNumber}"},
                {"target": "name.givenName", "from": "givenName"},
                {"target": "name.familyName", "from": "sn"},
                {"target": "displayName", "template": "${givenName} ${sn}"},
                {"target": "emails[type eq \"work\"].value", "from": "mail"},
                {"target": "emails[type eq \"work\"].primary", "value": true},
                {"target": "phoneNumbers[type eq \"work\"].value", "from": "telephoneNumber"},
                {"target": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "from": "employeeNumber"}
            ],
            "groups": [
                {"from": "establishment", "name": "etab-${value}"},
                {"from": "class", "name": "class-${value}"}
            ],
            "managedGroupPrefix": "etab-"
        }},
        "app2": {"enabled": false, "mapping": {}}
    }})
    .to_string()
}

fn person(uid: &str, given: &str, etab: &str) -> Attributes {
    let a = |k: &str, v: &[&str]| (k.to_string(), v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    vec![
        a("uid", &[uid]),
        a("GIVENNAME", &[given]),
        a("sn", &["Doe"]),
        a("mail", &[&format!("{uid}@example.org")]),
        a("telephoneNumber", &["+1 555 0100", "+1 555 0101"]),
        a("employeeNumber", &[&format!("n-{uid}")]),
        a("establishment", &[etab]),
        a("class", &["3A", "3B"]),
    ]
}

fn actions(r: &Report) -> Vec<Action> {
    r.steps.iter().map(|s| s.action).collect()
}

#[test]
fn creates_then_sends_nothing_when_unchanged() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(true);
    let r = p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
    assert_eq!(r.outcome, Outcome::Created, "{r:?}");
    use Action::*;
    assert_eq!(
        actions(&r),
        [Search, Create, SearchGroup, CreateGroup, SearchGroup, CreateGroup, SearchGroup, CreateGroup]
    );
    let user = t.user("jdoe");
    assert_eq!(user["name"], json!({"givenName": "Jane", "familyName": "Doe"}));
    assert_eq!(user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "n-jdoe");
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(t.group_members("class-3B"), std::slice::from_ref(&id));

    // A second principal joins the existing groups.
    let r = p.provision("app1", &person("rroe", "Rick", "E1"), &mut t);
    assert_eq!(
        actions(&r),
        [Search, Create, SearchGroup, Discover, AddMember, SearchGroup, AddMember, SearchGroup, AddMember]
    );
    assert_eq!(t.group_members("etab-E1").len(), 2);

    t.log.clear();
    for uid in ["jdoe", "rroe"] {
        let r = p.provision("app1", &person(uid, if uid == "jdoe" { "Jane" } else { "Rick" }, "E1"), &mut t);
        assert_eq!((r.outcome.clone(), actions(&r)), (Outcome::Unchanged, vec![Search, Unchanged]), "{r:?}");
    }
    assert_eq!(t.log.len(), 2, "one search each, nothing else: {:?}", t.log);
}

#[test]
fn one_changed_attribute_is_exactly_one_patch() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(true);
    p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
    t.log.clear();
    let r = p.provision("app1", &person("jdoe", "Janet", "E1"), &mut t);
    assert_eq!(r.outcome, Outcome::Updated, "{r:?}");
    assert_eq!(t.writes(), ["PATCH"], "{:?}", t.log);
    let patch = r.steps.iter().find(|s| s.action == Action::Patch).unwrap();
    assert_eq!(patch.detail, "changed: name.givenName, displayName");
    assert_eq!(t.user("jdoe")["displayName"], "Janet Doe");
    t.log.clear();
    assert_eq!(p.provision("app1", &person("jdoe", "Janet", "E1"), &mut t).outcome, Outcome::Unchanged);
    assert!(t.writes().is_empty());
}

#[test]
fn without_patch_on_the_target_it_replaces() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(false);
    p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
    p.provision("app1", &person("rroe", "Rick", "E1"), &mut t);
    assert_eq!(t.group_members("class-3A").len(), 2, "members added by read and PUT");
    t.log.clear();
    let mut changed = person("jdoe", "Jane", "E1");
    changed[4].1.pop();
    let r = p.provision("app1", &changed, &mut t);
    assert_eq!(t.writes(), ["PUT"], "{r:?}");
    assert_eq!(t.user("jdoe")["phoneNumbers"], json!([{"type": "work", "value": "+1 555 0100"}]));
    assert_eq!(t.user("jdoe")["groups"].as_array().unwrap().len(), 3, "a PUT keeps the memberships");
    t.log.clear();
    assert_eq!(p.provision("app1", &changed, &mut t).outcome, Outcome::Unchanged);
    assert!(t.writes().is_empty());
}

#[test]
fn managed_groups_follow_the_attribute() {
    for patch in [true, false] {
        let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
        let mut t = Target::new(patch);
        p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
        let id = t.user("jdoe")["id"].as_str().unwrap().to_string();
        let mut moved = person("jdoe", "Jane", "E2");
        moved[7].1 = vec!["4C".into()];
        let r = p.provision("app1", &moved, &mut t);
        assert!(actions(&r).contains(&Action::RemoveMember), "{r:?}");
        assert_eq!(t.group_members("etab-E1"), Vec::<String>::new(), "left the managed group");
        assert_eq!(t.group_members("etab-E2"), std::slice::from_ref(&id));
        assert_eq!(t.group_members("class-3A"), std::slice::from_ref(&id), "unmanaged groups are never left");
        t.log.clear();
        assert_eq!(p.provision("app1", &moved, &mut t).outcome, Outcome::Unchanged);
        assert!(t.writes().is_empty());
    }
}

#[test]
fn put_mode_matches_by_external_id() {
    let mut p = Provisioner::from_json(&config(true, "put", "externalId")).unwrap();
    let mut t = Target::new(true);
    p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
    t.log.clear();
    // A renamed account is the same principal, found by its external id (from employeeNumber).
    let mut renamed = person("jdoe", "Jane", "E1");
    renamed[0].1 = vec!["jane.doe".into()];
    let r = p.provision("app1", &renamed, &mut t);
    assert_eq!(r.outcome, Outcome::Updated, "{r:?}");
    assert!(r.steps[0].path.contains("externalId%20eq%20%22dir-n-jdoe%22"), "{:?}", r.steps[0]);
    assert_eq!(t.writes(), ["PUT"], "PUT even though the target takes PATCH");
    assert_eq!(t.user("jane.doe")["emails"][0]["value"], "jdoe@example.org");
}

#[test]
fn disabled_unknown_and_unreachable_services_report_without_panicking() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(true);
    let r = p.provision("app2", &person("jdoe", "Jane", "E1"), &mut t);
    assert_eq!((r.outcome.clone(), actions(&r)), (Outcome::Skipped, vec![Action::Skipped]));
    let r = p.provision("nope", &person("jdoe", "Jane", "E1"), &mut t);
    assert!(matches!(r.outcome, Outcome::Failed(_)), "{r:?}");
    assert!(t.log.is_empty());
    let r = p.provision("app1", &[("mail".into(), vec!["x@y".into()])], &mut t);
    assert_eq!(r.outcome, Outcome::Failed("the mapping gives no userName".into()));
    t.down = true;
    let r = p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
    assert!(matches!(&r.outcome, Outcome::Failed(e) if e.contains("connection refused")), "{r:?}");
    assert_eq!(r.steps.len(), 1);
}

#[test]
fn target_errors_carry_the_targets_detail() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(true);
    let mut bad = person("jdoe", "Jane", "E1");
    bad[3].1 = Vec::new();
    bad.push(("mail".into(), vec!["not-an-address".into()]));
    let r = p.provision("app1", &bad, &mut t);
    // Whatever the target accepts, a refusal must surface as a failed report with a reason.
    if let Outcome::Failed(e) = &r.outcome {
        assert!(e.starts_with("POST /Users: 4"), "{r:?}");
    }
    let e = Provisioner::from_json(
        r#"{"services": {"a": {"enabled": true, "mapping": {"attributes": [{"target": "x"}]}}}}"#,
    )
    .err()
    .unwrap();
    assert!(e.starts_with("services.a.attributes[0]"), "{e}");
}

#[test]
fn a_group_created_meanwhile_is_joined() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(true);
    t.race = true;
    let r = p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
    assert_eq!(r.outcome, Outcome::Created, "{r:?}");
    let id = t.user("jdoe")["id"].as_str().unwrap().to_string();
    for g in ["etab-E1", "class-3A", "class-3B"] {
        assert_eq!(t.group_members(g), std::slice::from_ref(&id), "{g}");
    }
}

#[test]
fn a_group_changed_between_read_and_put_is_read_again() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(false);
    p.provision("app1", &person("jdoe", "Jane", "E1"), &mut t);
    t.meddle = 2;
    let r = p.provision("app1", &person("rroe", "Rick", "E1"), &mut t);
    assert_eq!(r.outcome, Outcome::Created, "{r:?}");
    assert_eq!(r.steps.iter().filter(|s| s.status == Some(412)).count(), 2, "{r:?}");
    assert_eq!(t.group_members("etab-E1").len(), 2);
    assert_eq!(t.group_members("class-3A").len(), 2);
}

/// `n` Users at the target, `u000`…, the first four with an externalId.
fn seed(t: &mut Target, n: usize) {
    for i in 0..n {
        let mut user = json!({"schemas": [crate::schema::USER], "userName": format!("u{i:03}")});
        if i < 4 {
            user["externalId"] = json!(format!("dir-n-u{i:03}"));
        }
        t.h.post("/Users", &user).expect(201);
    }
}

fn user_names(t: &mut Target) -> Vec<String> {
    let all = t.h.get("/Users?attributes=userName&count=1000").expect(200);
    all["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap().to_string()).collect()
}

fn list_paths(r: &Report) -> Vec<&str> {
    r.steps.iter().filter(|s| s.action == Action::List).map(|s| s.path.as_str()).collect()
}

#[test]
fn prune_follows_cursors_on_a_target_that_pages_only_by_cursor() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(true);
    t.cursor_only = true;
    seed(&mut t, 450);
    // userName is not case-exact: U001 keeps u001.
    let keep: Vec<_> =
        (0..300).map(|i| person(&format!("{}{i:03}", if i == 1 { "U" } else { "u" }), "A", "E1")).collect();
    let r = p.prune("app1", &keep, &mut t);
    assert_eq!(r.outcome, Outcome::Updated, "{r:?}");
    let lists = list_paths(&r);
    // 450 users in pages of the target's maxPageSize (150, below the client's 200); the first asks by empty cursor.
    let pages = ["", "c151", "c301"].map(|c| format!("/Users?attributes=userName&count=150&cursor={c}"));
    assert_eq!(lists, pages);
    assert!(r.steps.iter().all(|s| !s.path.contains("startIndex")), "{r:?}");
    assert_eq!(r.steps.iter().filter(|s| s.action == Action::Delete).count(), 150);
    let left = user_names(&mut t);
    assert_eq!(left, (0..300).map(|i| format!("u{i:03}")).collect::<Vec<_>>());

    // Nothing stray left: one walk, no write; the target's abilities were remembered.
    t.log.clear();
    let r = p.prune("app1", &keep, &mut t);
    assert_eq!((r.outcome.clone(), t.writes().len()), (Outcome::Unchanged, 0), "{r:?}");
    assert!(t.log.iter().all(|(_, path)| path == "/Users"), "{:?}", t.log);
}

#[test]
fn prune_pages_by_index_when_the_target_announces_no_cursor() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(false);
    seed(&mut t, 420);
    let keep: Vec<_> =
        (0..420u32).filter(|i| i.is_multiple_of(2)).map(|i| person(&format!("u{i:03}"), "A", "E1")).collect();
    let r = p.prune("app1", &keep, &mut t);
    assert_eq!(r.outcome, Outcome::Updated, "{r:?}");
    let lists = list_paths(&r);
    assert_eq!(lists, [1, 201, 401].map(|i| format!("/Users?attributes=userName&count=200&startIndex={i}")));
    // Gathered before deleting: deleting while paging by index would have skipped every other stray.
    let left = user_names(&mut t);
    assert_eq!(left, (0..420u32).filter(|i| i.is_multiple_of(2)).map(|i| format!("u{i:03}")).collect::<Vec<_>>());
}

#[test]
fn prune_by_external_id_leaves_users_without_one_alone() {
    let mut p = Provisioner::from_json(&config(true, "patch", "externalId")).unwrap();
    let mut t = Target::new(true);
    t.cursor_only = true;
    seed(&mut t, 6);
    // u000 and u001 are principals (externalId dir-n-u000, dir-n-u001); u002, u003 have another's; u004, u005 none.
    let r = p.prune("app1", &[person("u000", "A", "E1"), person("u001", "A", "E1")], &mut t);
    assert_eq!(r.outcome, Outcome::Updated, "{r:?}");
    assert_eq!(user_names(&mut t), ["u000", "u001", "u004", "u005"]);
}

#[test]
fn prune_sends_nothing_when_a_principal_does_not_map() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Target::new(true);
    seed(&mut t, 3);
    let r = p.prune("app1", &[person("u000", "A", "E1"), vec![("mail".into(), vec!["x@y".into()])]], &mut t);
    assert_eq!(r.outcome, Outcome::Failed("principal 1: the mapping gives no userName".into()), "{r:?}");
    assert!(t.log.is_empty(), "{:?}", t.log);
    assert_eq!(p.prune("app2", &[], &mut t).outcome, Outcome::Skipped);
    assert_eq!(user_names(&mut t).len(), 3);
}

/// A cursor target that never ends: each page holds one stray User and a `nextCursor`, always the same one
/// when `repeat`, else a new one each time.
struct Endless {
    repeat: bool,
    pages: u32,
    deletes: u32,
}

impl Transport for Endless {
    fn send(&mut self, req: Request) -> Result<Response, String> {
        let body = match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/ServiceProviderConfig") => json!({"patch": {"supported": true}, "pagination": {"cursor": true}}),
            ("GET", "/Users") => {
                self.pages += 1;
                let next = if self.repeat { "again".to_string() } else { format!("p{}", self.pages) };
                json!({"totalResults": 1, "Resources": [{"id": "x", "userName": "stray"}], "nextCursor": next})
            }
            _ => {
                self.deletes += 1;
                json!({})
            }
        };
        Ok(Response { status: 200, headers: vec![], body: body.to_string().into_bytes() })
    }
}

#[test]
fn a_repeated_cursor_or_a_walk_that_never_ends_fails_before_any_delete() {
    let mut p = Provisioner::from_json(&config(true, "patch", "userName")).unwrap();
    let mut t = Endless { repeat: true, pages: 0, deletes: 0 };
    let r = p.prune("app1", &[], &mut t);
    assert!(matches!(&r.outcome, Outcome::Failed(e) if e.contains("gave the cursor \"again\" again")), "{r:?}");
    assert_eq!((t.pages, t.deletes), (2, 0));

    let mut t = Endless { repeat: false, pages: 0, deletes: 0 };
    let r = p.prune("app1", &[], &mut t);
    assert!(matches!(&r.outcome, Outcome::Failed(e) if e.contains("did not end within 100000 pages")), "{r:?}");
    assert_eq!((t.pages, t.deletes), (listing::MAX_PAGES, 0));
}
