use super::*;
use serde_json::json;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A typical directory person, with names in the directory's own case.
fn person() -> Attributes {
    let a = |k: &str, v: &[&str]| (k.to_string(), v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    vec![
        a("UID", &["alovelace"]),
        a("givenName", &["Ada"]),
        a("sn", &["Lovelace"]),
        a("mail", &[" Ada@Example.org ", "ada@home.example"]),
        a("telephoneNumber", &["+44 1", "+44 2"]),
        a("employeeNumber", &["1815"]),
        a("departmentNumber", &["math;engines"]),
        a("establishment", &["ETAB1"]),
        a("classe", &["3A", "3B"]),
        a("loginDisabled", &["FALSE"]),
    ]
}

fn mapping() -> Mapping {
    Mapping::from_value(json!({
        "attributes": [
            {"target": "userName", "from": "uid", "transform": "lower"},
            {"target": "externalId", "template": "dir:${uid}"},
            {"target": "name.givenName", "from": "givenName"},
            {"target": "name.familyName", "from": "sn"},
            {"target": "displayName", "template": "${givenName} ${sn}"},
            {"target": "emails[type eq \"work\"].value", "from": "mail", "transform": ["trim", "lower"]},
            {"target": "emails[type eq \"work\"].primary", "value": true},
            {"target": "phoneNumbers[type eq \"work\"].value", "from": "telephoneNumber"},
            {"target": "active", "from": "loginDisabled", "as": "boolean"},
            {"target": format!("{ENT}:employeeNumber"), "from": "employeeNumber"},
            {"target": format!("{ENT}:department"), "from": "departmentNumber", "transform": [{"split": ";"}, {"join": ", "}]},
            {"target": "title", "from": "title"},
            {"target": "title", "value": "member"}
        ],
        "groups": [
            {"from": "establishment", "name": "etab-${value}", "transform": "lower"},
            {"from": "classe", "name": "class-${value} (${sn})"}
        ],
        "managedGroupPrefix": "etab-"
    }))
    .unwrap()
}

#[test]
fn maps_a_person_to_a_user_and_groups() {
    let out = mapping().to_resources(&person()).unwrap();
    assert_eq!(
        out[0],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "userName": "alovelace",
            "externalId": "dir:alovelace",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "displayName": "Ada Lovelace",
            "emails": [
                {"type": "work", "value": "ada@example.org", "primary": true},
                {"type": "work", "value": "ada@home.example"}
            ],
            "phoneNumbers": [{"type": "work", "value": "+44 1"}, {"type": "work", "value": "+44 2"}],
            "active": false,
            "title": "member",
            ENT: {"employeeNumber": "1815", "department": "math, engines"}
        })
    );
    let names: Vec<&str> = out[1..].iter().map(|g| g["displayName"].as_str().unwrap()).collect();
    assert_eq!(names, ["etab-etab1", "class-3A (Lovelace)", "class-3B (Lovelace)"]);
    assert_eq!(out[1]["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:Group"]));
}

#[test]
fn missing_attributes_leave_nothing_behind() {
    let attrs = vec![("uid".to_string(), vec!["x".to_string()])];
    let out = mapping().to_resources(&attrs).unwrap();
    assert_eq!(out.len(), 1, "no group without its attribute");
    assert_eq!(
        out[0],
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x", "externalId": "dir:x", "title": "member"})
    );
}

#[test]
fn a_bad_typed_value_names_the_target() {
    let attrs = vec![("loginDisabled".to_string(), vec!["maybe".to_string()])];
    let e = mapping().to_resources(&attrs).unwrap_err();
    assert!(e.contains("active") && e.contains("maybe"), "{e}");
}

#[test]
fn list_targets_collect_every_value() {
    let m = Mapping::from_value(json!({"attributes": [{"target": "urn:x:Ext:tags", "from": "tag", "list": true}]}))
        .unwrap();
    let attrs = vec![("tag".to_string(), vec!["a".to_string(), "b".to_string(), "a".to_string()])];
    assert_eq!(m.to_resources(&attrs).unwrap()[0]["urn:x:Ext"], json!({"tags": ["a", "b"]}));
}

#[test]
fn the_reverse_reads_back_what_is_reversible() {
    let m = mapping();
    let mut user = m.to_resources(&person()).unwrap().remove(0);
    user["groups"] = json!([{"value": "1", "display": "etab-etab1"}, {"value": "2", "display": "unrelated"}]);
    let attrs = m.to_attributes(&user);
    let get = |k: &str| values_of(&attrs, k);
    assert_eq!(get("uid"), ["alovelace"]);
    assert_eq!(get("givenName"), ["Ada"]);
    assert_eq!(get("mail"), ["ada@example.org", "ada@home.example"]);
    assert_eq!(get("telephoneNumber"), ["+44 1", "+44 2"]);
    assert_eq!(get("employeeNumber"), ["1815"]);
    assert_eq!(get("departmentNumber"), ["math;engines"]);
    assert_eq!(get("loginDisabled"), ["false"]);
    assert_eq!(get("establishment"), ["etab1"]);
    assert_eq!(get("title"), ["member"], "read back through the sourced rule; the constant has no source");
}

#[test]
fn configuration_errors_name_the_rule() {
    let cases = [
        (json!({"attributes": [{"target": "a", "from": "x", "value": 1}]}), "attributes[0] (a)"),
        (json!({"attributes": [{"target": "a..b", "from": "x"}]}), "attributes[0]"),
        (json!({"attributes": [{"target": "a.b", "from": "x", "list": true}]}), "list"),
        (json!({"attributes": [{"target": "a", "from": "x", "transform": ["rot13"]}]}), "rot13"),
        (json!({"groups": [{"from": "ou", "name": "${"}]}), "groups[0]"),
        (json!({"attributes": [], "extra": 1}), "extra"),
        (json!({"managedGroupPrefix": ""}), "managedGroupPrefix"),
        (json!({"attributes": [{"target": "a", "from": "x", "as": "date"}]}), "date"),
    ];
    for (config, expected) in cases {
        let e = Mapping::from_value(config.clone()).unwrap_err();
        assert!(e.contains(expected), "{config}: {e}");
    }
    assert!(Mapping::from_json("{").unwrap_err().contains("JSON"));
}

#[test]
fn managed_groups_are_those_with_the_prefix() {
    let m = mapping();
    assert!(m.manages_group("etab-x"));
    assert!(!m.manages_group("class-x"));
    assert!(!Mapping::from_value(json!({})).unwrap().manages_group("anything"));
}
