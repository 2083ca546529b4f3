//! The checks against the engine itself in-process (they must all pass, under both profiles), and against
//! targets that answer wrongly (the right check must fail, with its section).

use super::*;
use crate::http::Response;
use crate::tests::harness::Harness;
use serde_json::json;

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// A missing resource answers 200 with a body.
    FoundWhenMissing,
    /// Errors come without `scimType`.
    NoScimType,
    /// PATCH answers 204 and changes nothing.
    PatchIgnored,
    /// `/ServiceProviderConfig` announces nothing optional and `/ResourceTypes` lists no Group.
    Minimal,
    /// A `sw` filter is answered as `eq`: nothing found.
    NoStartsWith,
}

struct Target {
    h: Harness,
    fault: Fault,
    down: bool,
}

impl Target {
    fn new(fault: Fault) -> Target {
        Target { h: Harness::new(), fault, down: false }
    }

    fn strict() -> Target {
        let config = json!({"baseUrl": crate::tests::harness::BASE_URL, "switches": {"profile": "strict"}});
        Target { h: Harness::with_config(&config.to_string()), fault: Fault::None, down: false }
    }
}

impl Transport for Target {
    fn send(&mut self, req: Request) -> Result<Response, String> {
        if self.down {
            return Err("unreachable: connection refused".into());
        }
        assert_eq!(req.header("Accept"), Some(SCIM_JSON));
        let mut req = req;
        if self.fault == Fault::NoStartsWith {
            req.query = req.query.replace("%20sw%20", "%20eq%20");
        }
        if self.fault == Fault::PatchIgnored && req.method == "PATCH" {
            return Ok(Response::empty(204));
        }
        let mut resp = self.h.engine.handle(&mut self.h.store, self.h.now, None, &req);
        let mut body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        match self.fault {
            Fault::FoundWhenMissing if resp.status == 404 => {
                resp.status = 200;
                body = json!({"schemas": [crate::schema::USER], "id": "ghost", "userName": "ghost"});
            }
            Fault::NoScimType => {
                body.as_object_mut().map(|o| o.remove("scimType"));
            }
            Fault::Minimal if req.path == "/ServiceProviderConfig" => {
                for f in ["patch", "bulk", "sort", "etag", "filter"] {
                    body[f]["supported"] = json!(false);
                }
            }
            Fault::Minimal if req.path == "/ResourceTypes" => {
                body["Resources"].as_array_mut().unwrap().retain(|t| t["name"] != "Group");
            }
            _ => {}
        }
        if !body.is_null() {
            resp.body = body.to_string().into_bytes();
        }
        Ok(resp)
    }
}

fn failed(checks: &[Check]) -> Vec<(&str, &str)> {
    checks.iter().filter(|c| c.verdict == Verdict::Failed).map(|c| (c.name.as_str(), c.section.as_str())).collect()
}

fn verdict<'c>(checks: &'c [Check], name: &str) -> &'c Check {
    checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check {name}"))
}

/// Nothing of the run is left on the target.
fn assert_clean(t: &mut Target) {
    for endpoint in ["/Users", "/Groups"] {
        assert_eq!(t.h.get(endpoint).expect(200)["totalResults"], 0, "{endpoint} left behind");
    }
}

#[test]
fn the_engine_passes_every_check_under_both_profiles() {
    for mut target in [Target::new(Fault::None), Target::strict()] {
        let checks = run(&mut target, "t1");
        assert_eq!(failed(&checks), vec![], "{checks:#?}");
        let skipped: Vec<&Check> = checks.iter().filter(|c| c.verdict == Verdict::Skipped).collect();
        assert_eq!(skipped, Vec::<&Check>::new(), "the engine announces everything");
        assert!(checks.len() >= 35, "only {} checks ran", checks.len());
        assert_clean(&mut target);
    }
}

#[test]
fn a_resource_found_after_delete_fails_the_delete_check() {
    let checks = run(&mut Target::new(Fault::FoundWhenMissing), "t2");
    let delete = verdict(&checks, "users: delete");
    assert_eq!((delete.verdict, delete.section.as_str()), (Verdict::Failed, "RFC 7644 §3.6"));
    assert!(delete.detail.contains("expected status 404, saw 200"), "{}", delete.detail);
    assert_eq!(verdict(&checks, "errors: missing resource 404").verdict, Verdict::Failed);
    assert_eq!(verdict(&checks, "groups: delete").verdict, Verdict::Failed);
}

#[test]
fn an_error_without_scim_type_fails_with_its_section() {
    let checks = run(&mut Target::new(Fault::NoScimType), "t3");
    let unique = verdict(&checks, "users: uniqueness");
    assert_eq!((unique.verdict, unique.section.as_str()), (Verdict::Failed, "RFC 7644 §3.3, §3.12"));
    assert_eq!(unique.detail, "expected scimType uniqueness, saw none");
    let filter = verdict(&checks, "errors: malformed filter, invalidFilter");
    assert_eq!(filter.verdict, Verdict::Failed);
    // A 404 needs no scimType: it still passes.
    assert_eq!(verdict(&checks, "errors: missing resource 404").verdict, Verdict::Passed);
}

#[test]
fn an_ignored_patch_fails_each_patch_check() {
    let mut target = Target::new(Fault::PatchIgnored);
    let checks = run(&mut target, "t4");
    let replace = verdict(&checks, "users: patch replace");
    assert_eq!((replace.verdict, replace.section.as_str()), (Verdict::Failed, "RFC 7644 §3.5.2.3"));
    assert_eq!(replace.detail, "expected displayName read back \"Patched Name\", saw \"Replaced Name\"");
    for name in ["users: patch add", "users: patch remove", "groups: patch add member"] {
        assert_eq!(verdict(&checks, name).verdict, Verdict::Failed, "{name}");
    }
    assert_eq!(verdict(&checks, "errors: PATCH remove without path, noTarget").verdict, Verdict::Failed);
    assert_clean(&mut target);
}

#[test]
fn a_broken_filter_fails_the_filter_and_paging_checks() {
    let checks = run(&mut Target::new(Fault::NoStartsWith), "t5");
    assert_eq!(verdict(&checks, "filter: eq").verdict, Verdict::Passed);
    for name in ["filter: sw and", "paging: startIndex and count", "paging: count=0", "sort: sortBy and sortOrder"] {
        let c = verdict(&checks, name);
        assert_eq!(c.verdict, Verdict::Failed, "{name}");
        assert!(c.section.starts_with("RFC 7644 §3.4.2"), "{}", c.section);
    }
}

#[test]
fn what_is_not_announced_is_skipped_not_failed() {
    let mut target = Target::new(Fault::Minimal);
    let checks = run(&mut target, "t6");
    assert_eq!(failed(&checks), vec![], "{checks:#?}");
    for name in [
        "users: patch replace",
        "bulk: POST and a failing operation",
        "etags: If-None-Match",
        "groups: read",
        "filter: eq",
        "sort: sortBy and sortOrder",
    ] {
        let c = verdict(&checks, name);
        assert_eq!(c.verdict, Verdict::Skipped, "{name}");
        assert!(c.detail.starts_with("not announced"), "{name}: {}", c.detail);
    }
    assert_eq!(verdict(&checks, "users: replace").verdict, Verdict::Passed);
    assert_clean(&mut target);
}

#[test]
fn an_unreachable_target_fails_discovery_and_stops() {
    let mut target = Target::new(Fault::None);
    target.down = true;
    let checks = run(&mut target, "t7");
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["discovery: /ServiceProviderConfig", "discovery: /ResourceTypes", "cleanup"]);
    assert_eq!(checks[0].detail, "GET /ServiceProviderConfig: unreachable: connection refused");
    assert_eq!(checks[2].verdict, Verdict::Passed);
}

#[test]
fn names_are_unique_per_tag_and_keep_only_safe_characters() {
    let mut target = Target::new(Fault::None);
    let mut s = Suite::new(&mut target, "a b/c?-9");
    assert_eq!(s.unique("user"), "selftest-abc-9-user1");
    assert_eq!(s.unique("user"), "selftest-abc-9-user2");
    assert_eq!(Suite::new(&mut target, "/?").prefix(), "selftest-run-");
}
