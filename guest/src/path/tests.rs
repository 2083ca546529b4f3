//! Paths parse, print and parse back to the same path; every consumer reads them through these parsers.

use super::*;
use crate::filter::{CompValue, CompareOp, Filter};

fn path(urn: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath { urn: urn.map(str::to_string), name: name.to_string(), sub: sub.map(str::to_string) }
}

fn eq(name: &str, v: &str) -> Filter {
    Filter::Compare(path(None, name, None), CompareOp::Eq, CompValue::Str(v.to_string()))
}

#[test]
fn patch_paths() {
    let cases: &[(&str, &str)] = &[
        ("userName", "userName"),
        ("name.givenName", "name.givenName"),
        ("  emails  ", "emails"),
        (r#"emails[type eq "work"]"#, r#"emails[type eq "work"]"#),
        (r#"emails[type eq "work"].value"#, r#"emails[type eq "work"].value"#),
        (
            r#"EMAILS[TYPE EQ "work" AND primary EQ true].display"#,
            r#"EMAILS[TYPE eq "work" and primary eq true].display"#,
        ),
        (r#"members[value eq "2819c223"]"#, r#"members[value eq "2819c223"]"#),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ),
        (r#"addresses[type eq "work"].streetAddress"#, r#"addresses[type eq "work"].streetAddress"#),
    ];
    for (input, canonical) in cases {
        let p = parse_path(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(&p.to_string(), canonical);
        assert_eq!(parse_path(&p.to_string()).unwrap(), p);
    }
    let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
    assert_eq!(p.attr, path(None, "emails", None));
    assert_eq!(p.filter, Some(eq("type", "work")));
    assert_eq!(p.sub.as_deref(), Some("value"));
    for bad in [
        "",
        "emails[",
        "emails[type eq \"work\"",
        "emails[type eq \"work\"].",
        "a b",
        "name.givenName[value pr]",
        "emails[type eq 1] eq 2",
        "a.b.c",
    ] {
        let e = parse_path(bad).expect_err(bad);
        assert!(e.contains("at character offset"), "{bad}: {e}");
    }
}

/// Every shape of path: parsed, printed, and parsed again, the text is canonical and the path unchanged.
#[test]
fn paths_round_trip() {
    for text in [
        "userName",
        "$ref",
        "members.$ref",
        "x-custom_attr1.sub-2",
        "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        r#"emails[type eq "work"]"#,
        r#"emails[type eq "work:x"].value"#,
        r#"emails[primary eq true].value"#,
        r#"emails[not (type eq "work") or value ew "@example.com"].display"#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "a]b"].value"#,
        r#"addresses[postalCode sw "916" and not (country eq "CA")].streetAddress"#,
        r#"x[a eq 1.5 and b eq null and c eq -0.25].y"#,
    ] {
        let p = parse_path(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let printed = p.to_string();
        assert_eq!(printed, text);
        assert_eq!(parse_path(&printed).unwrap(), p, "{text}");
    }
    for text in
        ["userName", "name.givenName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"]
    {
        let p = parse_attr_path(text, 100).unwrap();
        assert_eq!(p.to_string(), text);
        assert_eq!(parse_attr_path(&p.to_string(), 100).unwrap(), p);
    }
}

#[test]
fn the_simplest_value_filter_is_a_selector() {
    let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
    assert_eq!(p.selector(), Some(("type", &CompValue::Str("work".into()))));
    assert_eq!(p.sub_attr(), Some("value"));
    assert_eq!(parse_path("name.givenName").unwrap().sub_attr(), Some("givenName"));
    for other in ["emails.value", r#"emails[type ne "work"].value"#, r#"emails[type eq "a" or type eq "b"].value"#] {
        assert_eq!(parse_path(other).unwrap().selector(), None, "{other}");
    }
}

#[test]
fn attribute_paths_refuse_brackets_and_are_bounded() {
    assert!(parse_attr_path(r#"emails[type eq "work"]"#, 100).is_err());
    assert!(parse_attr_path("userName", 7).unwrap_err().contains("at most 7"));
    let nested = format!("a[{}b pr{}]", "(".repeat(40), ")".repeat(40));
    assert!(parse_path(&nested).unwrap_err().contains("levels of nesting"));
}
