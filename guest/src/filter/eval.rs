//! Evaluation of a checked filter against a rendered resource (RFC 7644 §3.4.2.2), for storage that leaves
//! filtering to the engine and for PATCH value paths.

use super::typed::{Target, Typed};
use crate::schema::Attribute;
use crate::store::{CompareOp, Literal};
use chrono::DateTime;
use serde_json::Value;
use std::cmp::Ordering;

/// Whether `filter` holds for `root`: a resource, or one element when the filter was checked in element scope.
pub fn eval(filter: &Typed, root: &Value) -> bool {
    match filter {
        Typed::Const(b) => *b,
        Typed::And(terms) => terms.iter().all(|t| eval(t, root)),
        Typed::Or(terms) => terms.iter().any(|t| eval(t, root)),
        Typed::Not(inner) => !eval(inner, root),
        Typed::Present(target) => target.values(root).into_iter().any(present),
        Typed::Compare(target, op, literal) => compare(target, *op, literal, root),
        Typed::Element(target, inner) => target.values(root).into_iter().any(|element| eval(inner, element)),
    }
}

/// `pr`: a value that is not null and, for strings, arrays and objects, not empty.
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// `path op literal`. A multi-valued path holds when any of its values does, `ne` included (as storage reads
/// it, per `wit/scim.wit`); an absent attribute satisfies only `eq null`.
fn compare(target: &Target, op: CompareOp, literal: &Literal, root: &Value) -> bool {
    let values = target.values(root);
    match literal {
        Literal::Null if op == CompareOp::Eq => values.is_empty(),
        Literal::Null => !values.is_empty(),
        _ => values.into_iter().any(|v| holds(target.leaf(), op, literal, v)),
    }
}

/// One value against the literal. A value of another JSON type than the schema's never matches.
fn holds(attr: &Attribute, op: CompareOp, literal: &Literal, v: &Value) -> bool {
    let order = match literal {
        Literal::Text(s) => {
            let Some(x) = v.as_str() else { return false };
            return if attr.case_exact { text(op, x, s) } else { text(op, &x.to_lowercase(), &s.to_lowercase()) };
        }
        Literal::Boolean(b) => v.as_bool().map(|x| x.cmp(b)),
        Literal::Integer(n) => match v.as_i64() {
            Some(x) => Some(x.cmp(n)),
            None => v.as_f64().and_then(|x| x.partial_cmp(&(*n as f64))),
        },
        Literal::Decimal(d) => v.as_f64().and_then(|x| x.partial_cmp(d)),
        Literal::DateTime(t) => match (v.as_str().map(DateTime::parse_from_rfc3339), DateTime::parse_from_rfc3339(t)) {
            (Some(Ok(x)), Ok(t)) => Some(x.cmp(&t)),
            _ => None,
        },
        Literal::Null => None,
    };
    order.is_some_and(|o| ordered(op, o))
}

/// A text comparison: `co`, `sw`, `ew` or an order in code points.
fn text(op: CompareOp, x: &str, s: &str) -> bool {
    match op {
        CompareOp::Co => x.contains(s),
        CompareOp::Sw => x.starts_with(s),
        CompareOp::Ew => x.ends_with(s),
        _ => ordered(op, x.cmp(s)),
    }
}

/// Whether `op` accepts a value that compares to the literal as `o`.
fn ordered(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{barbara, config, group_type, tour_guides, user_type};
    use super::super::{matches, matches_element, parse_filter};
    use crate::error::ErrorKind;
    use serde_json::json;

    /// (filter, whether Barbara Jensen of RFC 7643 §8.2 matches).
    const USER: &[(&str, bool)] = &[
        // Strings: userName is caseExact false, id and externalId caseExact true.
        (r#"userName eq "bjensen@example.com""#, true),
        (r#"userName eq "BJENSEN@EXAMPLE.COM""#, true),
        (r#"USERNAME eq "bjensen@example.com""#, true),
        (r#"userName eq "bjensen""#, false),
        (r#"userName ne "bjensen""#, true),
        (r#"userName ne "BJensen@Example.com""#, false),
        (r#"userName co "JENSEN""#, true),
        (r#"userName sw "BJ""#, true),
        (r#"userName ew "@EXAMPLE.COM""#, true),
        (r#"userName ew "@example.org""#, false),
        (r#"userName gt "a""#, true),
        (r#"userName gt "C""#, false),
        (r#"userName ge "bjensen@example.com""#, true),
        (r#"userName lt "c""#, true),
        (r#"userName le "B""#, false),
        (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
        (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
        (r#"externalId eq "701984""#, true),
        (r#"externalId sw "70""#, true),
        (r#"displayName eq "babs jensen""#, true),
        (r#"title pr"#, true),
        (r#"nickName pr"#, true),
        (r#"entitlements pr"#, false),
        (r#"userType eq "Employee""#, true),
        (r#"userType eq "employee""#, true),
        (r#"title pr and userType eq "Employee""#, true),
        (r#"title pr and userType eq "Intern""#, false),
        (r#"title pr or userType eq "Intern""#, true),
        // Sub-attributes, with and without the core schema URN.
        (r#"name.familyName eq "Jensen""#, true),
        (r#"name.familyName co "ens""#, true),
        (r#"name.FAMILYNAME eq "jensen""#, true),
        (r#"name.givenName sw "Bar""#, true),
        (r#"name.formatted co "III""#, true),
        (r#"name.middleName pr"#, true),
        (r#"name pr"#, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Jensen""#, true),
        (r#"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName eq "bjensen@example.com""#, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Smith""#, false),
        // The enterprise extension lives under its URN.
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#, true),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1""#, false),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr"#, true),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "tour""#, true),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
            true,
        ),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName eq "john smith""#, true),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
            true,
        ),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr"#, true),
        // Without the URN, an extension attribute is not a core one.
        (r#"employeeNumber eq "701984""#, false),
        // Multi-valued: any value; a complex attribute alone compares its value.
        (r#"emails eq "babs@jensen.org""#, true),
        (r#"emails co "example.com""#, true),
        (r#"emails.value co "example.org""#, false),
        (r#"emails.value ew "@JENSEN.ORG""#, true),
        (r#"emails.type eq "home""#, true),
        (r#"emails.type eq "other""#, false),
        (r#"emails.type ne "work""#, true),
        (r#"emails.primary eq true"#, true),
        (r#"emails.display pr"#, false),
        (r#"emails pr"#, true),
        (r#"ims pr"#, true),
        (r#"entitlements pr"#, false),
        (r#"roles eq "admin""#, false),
        (r#"phoneNumbers.value sw "555-555-4""#, true),
        (r#"phoneNumbers[type eq "mobile" and value ew "4444"]"#, true),
        (r#"phoneNumbers[type eq "mobile" and value ew "5555"]"#, false),
        (r#"addresses.locality eq "hollywood""#, true),
        (r#"addresses.postalCode sw "916""#, true),
        (r#"addresses[type eq "home" and streetAddress co "Blvd"]"#, true),
        (r#"addresses[type eq "work" and streetAddress co "Blvd"]"#, false),
        (r#"addresses[type eq "work" and primary eq true]"#, true),
        (r#"addresses[type eq "home" and primary eq true]"#, false),
        (r#"addresses[not (primary pr)]"#, true),
        (r#"addresses[country eq "USA" and not (type eq "home")]"#, true),
        (r#"groups.display eq "Tour Guides""#, true),
        (r#"groups.$ref co "/Groups/""#, true),
        (r#"groups[value eq "e9e30dba-f08f-4109-8486-d5c6a331660a"]"#, true),
        (r#"photos[type eq "thumbnail" and value ew "/T"]"#, true),
        (r#"x509Certificates.value sw "MIID""#, true),
        // Value paths: the conditions must hold for the same element.
        (r#"emails[type eq "work" and value co "@example.com"]"#, true),
        (r#"emails[type eq "work" and value co "@jensen.org"]"#, false),
        (r#"emails[type eq "home" and value co "@jensen.org"]"#, true),
        (r#"emails[type eq "work" or type eq "other"]"#, true),
        (r#"emails[not (type eq "work")]"#, true),
        (r#"emails[type eq "WORK"]"#, true),
        (r#"emails[primary eq true and type eq "home"]"#, false),
        (r#"emails[primary eq false]"#, false),
        (r#"emails[primary ne true]"#, false),
        (r#"emails[primary eq null]"#, true),
        (r#"emails[display pr]"#, false),
        (r#"EMAILS[TYPE EQ "work"]"#, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]"#, true),
        (r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#, true),
        (r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#, true),
        (r#"emails[type eq "home" and value co "@example.com"] or ims[type eq "xmpp"]"#, false),
        // The quirk: the same element carries both.
        (r#"emails[type eq "work"].value eq "bjensen@example.com""#, true),
        (r#"emails[type eq "work"].value eq "babs@jensen.org""#, false),
        (r#"emails[type eq "home"].value eq "babs@jensen.org""#, true),
        // Booleans.
        (r#"active eq true"#, true),
        (r#"active eq false"#, false),
        (r#"active ne false"#, true),
        (r#"active eq TRUE"#, true),
        (r#"active pr"#, true),
        // Date-times compare as instants.
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
        (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
        (r#"meta.lastModified eq "2011-05-13T04:42:34Z""#, true),
        (r#"meta.lastModified eq "2011-05-13T04:42:34.000Z""#, true),
        (r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, true),
        (r#"meta.lastModified eq "2011-05-12T23:42:34-05:00""#, true),
        (r#"meta.lastModified gt "2011-05-13T05:42:34+02:00""#, true),
        (r#"meta.lastModified lt "2011-05-13T07:42:34+02:00""#, true),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true),
        (r#"meta.lastModified ne "2011-05-13T04:42:34Z""#, false),
        (r#"meta.lastModified gt "2011-05-13T04:42:33.999Z""#, true),
        (r#"meta.created lt "2011-01-01T00:00:00Z""#, true),
        (r#"meta.created gt "2010-01-23T04:56:21Z" and meta.created lt "2010-01-23T04:56:23Z""#, true),
        (r#"meta.resourceType eq "User""#, true),
        (r#"meta.resourceType eq "user""#, false),
        (r#"meta.location co "/Users/""#, true),
        (r#"meta.version pr"#, true),
        // null, presence and absence.
        (r#"title eq null"#, false),
        (r#"title ne null"#, true),
        (r#"entitlements.value eq null"#, true),
        (r#"entitlements.value ne null"#, false),
        (r#"entitlements.value ne "x""#, false),
        (r#"name.honorificPrefix ne null"#, true),
        (r#"emails.display eq null"#, true),
        // Unknown attributes match nothing, in any position.
        (r#"bogus eq "x""#, false),
        (r#"bogus pr"#, false),
        (r#"not (bogus pr)"#, true),
        (r#"bogus pr or userName pr"#, true),
        (r#"bogus pr and userName pr"#, false),
        (r#"name.bogus eq "x""#, false),
        (r#"bogus[value eq 1]"#, false),
        (r#"emails[bogus eq "x"]"#, false),
        (r#"emails[not (bogus eq "x")]"#, true),
        (r#"urn:example:unknown:employeeNumber eq "701984""#, false),
        (r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName pr"#, false),
        // Precedence and negation over real values.
        (r#"userName eq "x" or title pr and nickName pr"#, true),
        (r#"(userName eq "x" or title pr) and entitlements pr"#, false),
        (r#"userName eq "x" or title pr and entitlements pr"#, false),
        (r#"title pr and entitlements pr or nickName pr"#, true),
        (r#"not (userName eq "x" or title eq "x") and active eq true"#, true),
        (r#"not (userName pr)"#, false),
        (r#"not (not (userName pr))"#, true),
        (r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, false),
        (r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, true),
        (r#"userName EQ "BJENSEN@example.com" AND active Eq True"#, true),
    ];

    #[test]
    fn barbara_jensen() {
        let cfg = config();
        let rt = user_type(&cfg);
        let user = barbara();
        for (text, expected) in USER {
            let f = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let got = matches(&cfg, rt, &f, &user).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, *expected, "{text}");
            // The canonical text means the same.
            let again = parse_filter(&f.to_string()).unwrap();
            assert_eq!(matches(&cfg, rt, &again, &user).unwrap(), *expected, "{f}");
        }
    }

    /// (filter, whether the group of RFC 7643 §8.4 matches).
    const GROUP: &[(&str, bool)] = &[
        (r#"displayName eq "tour guides""#, true),
        (r#"displayName eq "Admins""#, false),
        (r#"members pr"#, true),
        (r#"members eq "2819c223-7f76-453a-919d-413861904646""#, true),
        (r#"members.value eq "2819c223-7f76-453a-919d-413861904646""#, true),
        (r#"members.value eq "00000000""#, false),
        (r#"members.$ref ew "/Users/902c246b-6245-4190-8e05-00816be7344a""#, true),
        (r#"members.type eq "User""#, true),
        (r#"members.type eq "Group""#, false),
        (r#"members.display co "pepperidge""#, true),
        (r#"members[value eq "902c246b-6245-4190-8e05-00816be7344a" and display sw "Mandy"]"#, true),
        (r#"members[value eq "902c246b-6245-4190-8e05-00816be7344a" and display sw "Babs"]"#, false),
        (r#"members[$ref co "/Users/" and type eq "User"]"#, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName sw "Tour""#, true),
        (r#"userName pr"#, false),
        (r#"meta.resourceType eq "Group""#, true),
        (r#"id eq "e9e30dba-f08f-4109-8486-d5c6a331660a""#, true),
    ];

    #[test]
    fn tour_guides_group() {
        let cfg = config();
        let rt = group_type(&cfg);
        let group = tour_guides();
        for (text, expected) in GROUP {
            let f = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(matches(&cfg, rt, &f, &group).unwrap(), *expected, "{text}");
        }
        let empty = json!({"id": "1", "displayName": "Empty", "members": []});
        assert!(!matches(&cfg, rt, &parse_filter("members pr").unwrap(), &empty).unwrap());
        assert!(matches(&cfg, rt, &parse_filter("members eq null").unwrap(), &empty).unwrap());
    }

    /// Filters whose operator or literal does not fit the attribute: 400 invalidFilter.
    const MISUSED: &[&str] = &[
        r#"active gt true"#,
        r#"active lt false"#,
        r#"active co "t""#,
        r#"active eq "true""#,
        r#"active eq 1"#,
        r#"emails.primary ge true"#,
        r#"meta.lastModified co "2011""#,
        r#"meta.lastModified sw "2011""#,
        r#"meta.lastModified gt "yesterday""#,
        r#"meta.lastModified gt "2011-05-13""#,
        r#"meta.created eq 1305261754"#,
        r#"userName eq 1"#,
        r#"userName eq true"#,
        r#"userName gt null"#,
        r#"title co null"#,
        r#"name eq "Jensen""#,
        r#"name co "J""#,
        r#"userName[value eq "x"]"#,
        r#"emails[type gt true]"#,
        r#"emails[primary co "t"]"#,
        r#"bogus pr or active gt true"#,
        r#"not (active le true)"#,
        // Never returned, so never searched: a prefix search would read a stored hash out (RFC 7643 §7).
        r#"password pr"#,
        r#"password sw "$argon2id$""#,
        r#"PassWord eq "x""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:password co "a""#,
        r#"userName pr or password pr"#,
        r#"not (password ne null)"#,
    ];

    #[test]
    fn misused_types_are_invalid_filters() {
        let cfg = config();
        let rt = user_type(&cfg);
        for text in MISUSED {
            let f = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let e = matches(&cfg, rt, &f, &barbara()).expect_err(text);
            assert_eq!(e.kind, ErrorKind::InvalidFilter, "{text}");
            // Refused whatever the resource holds, and for storage alike.
            assert!(matches(&cfg, rt, &f, &json!({})).is_err(), "{text}");
            assert!(super::super::flatten(&cfg, rt, &f).is_err(), "{text}");
        }
    }

    #[test]
    fn numbers_compare_as_numbers() {
        let mut cfg = config();
        for attr in [json!({"name": "level", "type": "integer"}), json!({"name": "score", "type": "decimal"})] {
            cfg.registry.add_attribute(crate::schema::USER, serde_json::from_value(attr).unwrap());
        }
        let rt = user_type(&cfg);
        let user = json!({"level": 10, "score": 2.5});
        let cases = [
            ("level eq 10", true),
            ("level gt 9", true),
            ("level gt 10", false),
            ("level ge 1e1", true),
            ("level lt 10.5", true),
            ("level eq -10", false),
            ("level gt -1", true),
            ("score eq 2.5", true),
            ("score gt 2", true),
            ("score lt 25e-1", false),
            ("score le 2.5E0", true),
            ("score ne 2.5", false),
            ("score gt -0.5", true),
        ];
        for (text, expected) in cases {
            assert_eq!(matches(&cfg, rt, &parse_filter(text).unwrap(), &user).unwrap(), expected, "{text}");
        }
        for bad in [r#"level eq "10""#, "level co 1", "score sw 2", "score eq true"] {
            assert!(matches(&cfg, rt, &parse_filter(bad).unwrap(), &user).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_match_without_case() {
        let cfg = config();
        let rt = user_type(&cfg);
        let user = json!({"USERNAME": "x", "Name": {"FamilyName": "J"},
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"EmployeeNumber": "7"}});
        for text in [
            r#"userName eq "X""#,
            r#"name.familyName eq "j""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7""#,
        ] {
            assert!(matches(&cfg, rt, &parse_filter(text).unwrap(), &user).unwrap(), "{text}");
        }
    }

    #[test]
    fn one_element_at_a_time() {
        let cfg = config();
        let rt = user_type(&cfg);
        let emails = cfg.registry.attribute(rt, None, "emails").unwrap().1;
        let user = barbara();
        let elements = user["emails"].as_array().unwrap();
        let cases = [
            (r#"type eq "work""#, [true, false]),
            (r#"type eq "WORK" and value ew "example.com""#, [true, false]),
            (r#"not (primary eq true)"#, [false, true]),
            (r#"primary pr"#, [true, false]),
            (r#"value co "jensen""#, [true, true]),
            (r#"bogus pr"#, [false, false]),
        ];
        for (text, expected) in cases {
            let f = parse_filter(text).unwrap();
            for (element, want) in elements.iter().zip(expected) {
                assert_eq!(matches_element(&cfg, rt, emails, &f, element).unwrap(), want, "{text} on {element}");
            }
        }
        let f = parse_filter("primary gt true").unwrap();
        assert!(matches_element(&cfg, rt, emails, &f, &elements[0]).is_err());
    }
}
