use super::*;
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Value {
    json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],"id":"1","userName":"bjensen",
           "password":"secret","name":{"givenName":"Barbara","familyName":"Jensen"},
           "emails":[{"value":"b@x","type":"work","primary":true},{"value":"c@x","type":"home"}],
           ENTERPRISE:{"employeeNumber":"7","department":"R&D","manager":{"value":"9","$ref":"../Users/9"}},
           "meta":{"resourceType":"User","created":"2024-01-01T00:00:00Z","version":"W/\"1\""}})
}

fn project(attrs: &[&str], excluded: &[&str]) -> Value {
    let cfg = Config::test();
    let rt = cfg.registry.resource_type("User").unwrap();
    let s = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Projection::new(&cfg, rt, &s(attrs), &s(excluded)).unwrap().apply(&cfg, rt, user())
}

#[test]
fn password_is_never_returned() {
    assert!(project(&[], &[]).get("password").is_none());
    assert!(project(&["password"], &[]).get("password").is_none());
}

#[test]
fn attributes_keeps_id_and_schemas() {
    let v = project(&["userName"], &[]);
    assert_eq!(v["userName"], "bjensen");
    assert_eq!(v["id"], "1");
    assert_eq!(v["schemas"].as_array().unwrap().len(), 2);
    assert!(v.get("emails").is_none() && v.get("meta").is_none());
}

#[test]
fn sub_attribute_and_urn_paths() {
    let v =
        project(&["name.givenName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"], &[]);
    assert_eq!(v["name"], json!({"givenName":"Barbara"}));
    assert_eq!(v[ENTERPRISE], json!({"employeeNumber":"7"}));
}

#[test]
fn sub_attribute_of_multi_valued() {
    let v = project(&["emails.value"], &[]);
    assert_eq!(v["emails"], json!([{"value":"b@x"},{"value":"c@x"}]));
}

#[test]
fn extension_sub_attribute() {
    let v = project(&["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"], &[]);
    assert_eq!(v[ENTERPRISE], json!({"manager":{"value":"9"}}));
}

#[test]
fn whole_extension() {
    let v = project(&[ENTERPRISE], &[]);
    assert_eq!(v[ENTERPRISE], user()[ENTERPRISE]);
    assert!(v.get("userName").is_none());
    let v = project(&[], &[ENTERPRISE]);
    assert!(v.get(ENTERPRISE).is_none());
    assert_eq!(v["userName"], "bjensen");
}

#[test]
fn core_urn_qualified_and_whole_core() {
    let v = project(&["urn:ietf:params:scim:schemas:core:2.0:User:userName"], &[]);
    assert_eq!(v["userName"], "bjensen");
    let v = project(&["urn:ietf:params:scim:schemas:core:2.0:User"], &[]);
    assert_eq!(v["userName"], "bjensen");
    assert!(v.get(ENTERPRISE).is_none() && v.get("password").is_none());
}

#[test]
fn meta_sub_attributes() {
    let v = project(&["meta.created"], &[]);
    assert_eq!(v["meta"], json!({"created":"2024-01-01T00:00:00Z"}));
    let v = project(&[], &["meta.version"]);
    assert_eq!(v["meta"], json!({"resourceType":"User","created":"2024-01-01T00:00:00Z"}));
}

#[test]
fn names_are_matched_without_case() {
    let v = project(
        &["USERNAME", "Name.GivenName", "urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:User:EMPLOYEENUMBER"],
        &[],
    );
    assert_eq!(v["userName"], "bjensen");
    assert_eq!(v["name"], json!({"givenName":"Barbara"}));
    assert_eq!(v[ENTERPRISE], json!({"employeeNumber":"7"}));
}

#[test]
fn excluded_attributes() {
    let v = project(&[], &["emails", "name.familyName", "id"]);
    assert!(v.get("emails").is_none());
    assert_eq!(v["name"], json!({"givenName":"Barbara"}));
    assert_eq!(v["userName"], "bjensen");
    assert_eq!(v["id"], "1", "id is returned always");
}

#[test]
fn members_loading_follows_the_projection() {
    let cfg = Config::test();
    let rt = cfg.registry.resource_type("Group").unwrap();
    let p = |a: &str, e: &str| {
        Projection::from_params(&cfg, rt, Some(a).filter(|s| !s.is_empty()), Some(e).filter(|s| !s.is_empty())).unwrap()
    };
    assert!(!p("", "").excludes_members());
    assert!(p("displayName", "").excludes_members());
    assert!(!p("members.value", "").excludes_members());
    assert!(p("", "members").excludes_members());
    assert!(!p("", "members.display").excludes_members());
}

fn request_schema_config() -> Config {
    let ext = json!({"id":"urn:example:x","name":"X","attributes":[
        {"name":"token","returned":"request"},
        {"name":"pin","mutability":"writeOnly"},
        {"name":"code","type":"complex","subAttributes":[{"name":"v"},{"name":"secret","returned":"never"},{"name":"hint","returned":"request"}]}]});
    let text = json!({"baseUrl":"https://e.com","schemas":[ext],"extensions":{"User":[{"schema":"urn:example:x"}]}})
        .to_string();
    Config::from_json(&text).unwrap()
}

#[test]
fn returned_request_and_write_only() {
    let cfg = request_schema_config();
    let rt = cfg.registry.resource_type("User").unwrap();
    let res = json!({"id":"1","userName":"u","urn:example:x":{"token":"t","pin":"1","code":{"v":"a","secret":"s","hint":"h"}}});
    let s = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let plain = Projection::default().apply(&cfg, rt, res.clone());
    assert_eq!(plain["urn:example:x"], json!({"code":{"v":"a"}}));
    let asked = Projection::new(&cfg, rt, &s(&["urn:example:x:token", "urn:example:x:pin", "urn:example:x:code"]), &[])
        .unwrap()
        .apply(&cfg, rt, res.clone());
    assert_eq!(asked["urn:example:x"], json!({"token":"t","code":{"v":"a","hint":"h"}}));
    let data = res.as_object().unwrap().clone();
    let sent = Projection::default().with_sent(&cfg, rt, &data).apply(&cfg, rt, res);
    assert_eq!(sent["urn:example:x"], json!({"token":"t","code":{"v":"a"}}));
}

#[test]
fn a_value_filter_in_attributes_selects_elements() {
    assert_eq!(
        project(&[r#"emails[type eq "work"]"#], &[])["emails"],
        json!([{"value":"b@x","type":"work","primary":true}])
    );
    assert_eq!(project(&[r#"emails[type eq "work"].value"#], &[])["emails"], json!([{"value":"b@x"}]));
    assert_eq!(project(&[r#"EMAILS[TYPE EQ "HOME"]"#], &[])["emails"], json!([{"value":"c@x","type":"home"}]));
    assert!(project(&[r#"emails[type eq "other"]"#], &[]).get("emails").is_none());
    // Asked whole as well: every element.
    assert_eq!(project(&["emails", r#"emails[type eq "work"]"#], &[])["emails"].as_array().unwrap().len(), 2);
    assert_eq!(project(&[], &[r#"emails[type eq "work"]"#])["emails"], json!([{"value":"c@x","type":"home"}]));
    assert_eq!(
        project(&[], &[r#"emails[type eq "work"].primary"#])["emails"],
        json!([{"value":"b@x","type":"work"},{"value":"c@x","type":"home"}])
    );
}

#[test]
fn a_value_filter_that_cannot_select_is_400() {
    let cfg = Config::test();
    let rt = cfg.registry.resource_type("User").unwrap();
    for bad in [r#"emails[type eq "work""#, r#"emails[primary gt "x"]"#, r#"userName[value eq "a"]"#] {
        let e = Projection::new(&cfg, rt, &[bad.to_string()], &[]).unwrap_err();
        assert_eq!((e.status(), e.kind.scim_type()), (400, Some("invalidFilter")), "{bad}: {}", e.detail);
        assert!(Projection::new(&cfg, rt, &[], &[bad.to_string()]).is_err(), "{bad}");
    }
}
