//! Errors and their `scimType`: a missing resource, a missing required value, malformed JSON, a bad filter,
//! PATCH without a target and with a malformed path.

use super::{filter, Suite};
use crate::schema::USER;
use serde_json::json;

pub fn run(s: &mut Suite) {
    let Some(endpoint) = s.announced.users.clone() else {
        return s.skip("errors", "RFC 7644 §3.12", "not announced: no User resource type");
    };
    let r = s.get(&format!("{endpoint}/selftest-no-such-id")).and_then(|r| r.error(404, None));
    s.record("errors: missing resource 404", "RFC 7644 §3.4.1, §3.12", r);

    let body = json!({"schemas": [USER], "displayName": "No userName"});
    let r = s.create(&endpoint, &body).and_then(|r| r.error(400, Some("invalidValue")));
    s.record("errors: required userName missing, invalidValue", "RFC 7643 §4.1.1, RFC 7644 §3.12", r);

    let r = s
        .send_raw("POST", &endpoint, Some(b"{\"schemas\": [".to_vec()), &[])
        .and_then(|r| r.error(400, Some("invalidSyntax")));
    s.record("errors: malformed JSON, invalidSyntax", "RFC 7644 §3.12", r);

    if s.announced.filter {
        let r =
            s.get(&format!("{endpoint}?{}", filter("userName eq"))).and_then(|r| r.error(400, Some("invalidFilter")));
        s.record("errors: malformed filter, invalidFilter", "RFC 7644 §3.4.2.2, §3.12", r);
    } else {
        s.skip(
            "errors: malformed filter, invalidFilter",
            "RFC 7644 §3.4.2.2, §3.12",
            "not announced: filter.supported is false",
        );
    }

    let names = [
        ("errors: PATCH remove without path, noTarget", "RFC 7644 §3.5.2.2"),
        ("errors: PATCH malformed path, invalidPath", "RFC 7644 §3.5.2, §3.12"),
    ];
    let why = match (&s.user, s.announced.patch) {
        (_, false) => Some("not announced: patch.supported is false"),
        (None, true) => Some("needs users: create"),
        (Some(_), true) => None,
    };
    if let Some(why) = why {
        return names.iter().for_each(|(n, sec)| s.skip(n, sec, why));
    }
    let path = s.user.clone().unwrap_or_default();
    let r = s.patch(&path, json!([{"op": "remove"}])).and_then(|r| r.error(400, Some("noTarget")));
    s.record(names[0].0, names[0].1, r);
    let r = s
        .patch(&path, json!([{"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}]))
        .and_then(|r| r.error(400, Some("invalidPath")));
    s.record(names[1].0, names[1].1, r);
}
