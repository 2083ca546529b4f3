//! A User's life: create, read, replace, patch (when announced), uniqueness and delete.

use super::{user, Suite};
use serde_json::json;

pub fn run(s: &mut Suite) {
    let Some(endpoint) = s.announced.users.clone() else {
        for name in ["create", "read", "replace", "patch", "uniqueness", "delete"] {
            s.skip(&format!("users: {name}"), "RFC 7644 §3", "not announced: no User resource type");
        }
        return;
    };
    let created = s.new_user("user").and_then(|(path, r)| {
        let location = r.str("/meta/location").ok_or("expected meta.location in the created User")?;
        match r.header("Location") {
            Some(l) if l == location => {}
            other => {
                return Err(format!("expected a Location header equal to meta.location {location}, saw {other:?}"))
            }
        }
        if r.str("/meta/resourceType") != Some("User") {
            return Err(format!("expected meta.resourceType User, saw {}", r.body["meta"]["resourceType"]));
        }
        Ok((path, r.str("/userName").unwrap_or_default().to_string()))
    });
    let Some((path, user_name)) = s.record("users: create", "RFC 7644 §3.3", created) else {
        for name in ["read", "replace", "patch", "uniqueness"] {
            s.skip(&format!("users: {name}"), "RFC 7644 §3", "needs users: create, which failed");
        }
        return delete(s);
    };
    s.user = Some(path.clone());
    let read = s.get(&path).and_then(|r| {
        r.status_in(&[200])?;
        same(r.str("/userName"), &user_name, "userName")?;
        same(r.str("/id"), path.rsplit('/').next().unwrap_or_default(), "id")
    });
    s.record("users: read", "RFC 7644 §3.4.1", read);

    let mut replacement = user(&user_name);
    replacement["displayName"] = json!("Replaced Name");
    let replaced = s.call("PUT", &path, Some(&replacement), &[]).and_then(|r| {
        r.status_in(&[200])?;
        same(r.str("/displayName"), "Replaced Name", "displayName in the answer")?;
        let again = s.get(&path)?;
        same(again.str("/displayName"), "Replaced Name", "displayName read back")
    });
    s.record("users: replace", "RFC 7644 §3.5.1", replaced);

    patch(s, &path);

    let duplicate = s.create(&endpoint, &user(&user_name)).and_then(|r| r.error(409, Some("uniqueness")));
    s.record("users: uniqueness", "RFC 7644 §3.3, §3.12", duplicate);
    delete(s);
}

/// PATCH `replace`, `add` and `remove` (with a value filter), each read back.
fn patch(s: &mut Suite, path: &str) {
    if !s.announced.patch {
        for op in ["replace", "add", "remove"] {
            s.skip(&format!("users: patch {op}"), "RFC 7644 §3.5.2", "not announced: patch.supported is false");
        }
        return;
    }
    let replaced =
        s.patch(path, json!([{"op": "replace", "path": "displayName", "value": "Patched Name"}])).and_then(|r| {
            r.status_in(&[200, 204])?;
            same(s.get(path)?.str("/displayName"), "Patched Name", "displayName read back")
        });
    s.record("users: patch replace", "RFC 7644 §3.5.2.3", replaced);

    let home = "home-address@example.com";
    let added = s
        .patch(path, json!([{"op": "add", "path": "emails", "value": [{"value": home, "type": "home"}]}]))
        .and_then(|r| {
            r.status_in(&[200, 204])?;
            let emails = s.get(path)?.body["emails"].clone();
            let values: Vec<&str> =
                emails.as_array().into_iter().flatten().filter_map(|e| e["value"].as_str()).collect();
            if values.len() == 2 && values.contains(&home) {
                Ok(())
            } else {
                Err(format!("expected the work email and {home} after the add, saw {emails}"))
            }
        });
    s.record("users: patch add", "RFC 7644 §3.5.2.1", added);

    // Both emails first, by PUT, so that this check does not depend on the add.
    let removed = s.get(path).and_then(|r| {
        let mut both = user(r.str("/userName").unwrap_or_default());
        both["emails"] = json!([both["emails"][0], {"value": home, "type": "home"}]);
        s.call("PUT", path, Some(&both), &[])?.status_in(&[200])?;
        s.patch(path, json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]))?.status_in(&[200, 204])?;
        let emails = s.get(path)?.body["emails"].clone();
        let types: Vec<&str> = emails.as_array().into_iter().flatten().filter_map(|e| e["type"].as_str()).collect();
        if types == ["work"] {
            Ok(())
        } else {
            Err(format!("expected only the work email after removing emails[type eq \"home\"], saw {emails}"))
        }
    });
    s.record("users: patch remove", "RFC 7644 §3.5.2.2", removed);
}

/// A User of its own is deleted, then answers 404.
fn delete(s: &mut Suite) {
    let deleted = s.new_user("gone").and_then(|(path, _)| {
        s.delete(&path)?.status_in(&[204])?;
        s.get(&path)?.error(404, None).map_err(|e| format!("after DELETE: {e}"))
    });
    s.record("users: delete", "RFC 7644 §3.6", deleted);
}

/// `Ok` when `seen` is `expected`.
pub fn same(seen: Option<&str>, expected: &str, what: &str) -> Result<(), String> {
    if seen == Some(expected) {
        Ok(())
    } else {
        Err(format!("expected {what} {expected:?}, saw {}", seen.map_or("none".into(), |v| format!("{v:?}"))))
    }
}
