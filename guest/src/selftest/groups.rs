//! A Group's life with members (when Groups are announced): create, read, filter, patch members, replace, delete.

use super::users::same;
use super::{filter, Suite};
use crate::schema::GROUP;
use serde_json::{json, Value};

const CHECKS: [(&str, &str); 7] = [
    ("groups: create with a member", "RFC 7644 §3.3, RFC 7643 §4.2"),
    ("groups: read", "RFC 7644 §3.4.1"),
    ("groups: filter displayName", "RFC 7644 §3.4.2.2"),
    ("groups: patch add member", "RFC 7644 §3.5.2.1"),
    ("groups: patch remove member", "RFC 7644 §3.5.2.2"),
    ("groups: replace", "RFC 7644 §3.5.1"),
    ("groups: delete", "RFC 7644 §3.6"),
];

pub fn run(s: &mut Suite) {
    let (Some(endpoint), Some(user)) = (s.announced.groups.clone(), s.user.clone()) else {
        let why =
            if s.announced.groups.is_none() { "not announced: no Group resource type" } else { "needs users: create" };
        return CHECKS.iter().for_each(|(n, sec)| s.skip(n, sec, why));
    };
    let [create, read, find, add, remove, replace, delete] = CHECKS;
    let member = user.rsplit('/').next().unwrap_or_default().to_string();
    let name = s.unique("group");
    let body = json!({"schemas": [GROUP], "displayName": name, "members": [{"value": member}]});
    let created = s.create(&endpoint, &body).and_then(|r| {
        r.status_in(&[201])?;
        members_are(&r.body, &[&member])?;
        r.str("/id").map(|id| format!("{endpoint}/{id}")).ok_or_else(|| format!("expected an id, saw {}", r.body))
    });
    let Some(path) = s.record(create.0, create.1, created) else {
        return CHECKS[1..].iter().for_each(|(n, sec)| s.skip(n, sec, "needs groups: create with a member"));
    };
    let r = s.get(&path).and_then(|r| {
        r.status_in(&[200])?;
        same(r.str("/displayName"), &name, "displayName")?;
        members_are(&r.body, &[&member])
    });
    s.record(read.0, read.1, r);
    if s.announced.filter {
        let r = s.get(&format!("{endpoint}?{}", filter(&format!("displayName eq \"{name}\"")))).and_then(|r| {
            r.status_in(&[200])?;
            let ids: Vec<&str> =
                r.body["Resources"].as_array().into_iter().flatten().filter_map(|g| g["id"].as_str()).collect();
            match (r.body["totalResults"].as_u64(), ids.as_slice()) {
                (Some(1), [id]) if path.ends_with(&format!("/{id}")) => Ok(()),
                _ => Err(format!("expected this group alone, saw {}", r.body)),
            }
        });
        s.record(find.0, find.1, r);
    } else {
        s.skip(find.0, find.1, "not announced: filter.supported is false");
    }
    if s.announced.patch {
        let other = s.new_user("member").map(|(p, _)| p.rsplit('/').next().unwrap_or_default().to_string());
        let r = other.clone().and_then(|other| {
            s.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": other}]}]))?
                .status_in(&[200, 204])?;
            members_are(&s.get(&path)?.body, &[&member, &other])
        });
        s.record(add.0, add.1, r);
        let r = other.and_then(|other| {
            let op = json!([{"op": "remove", "path": format!("members[value eq \"{other}\"]")}]);
            s.patch(&path, op)?.status_in(&[200, 204])?;
            members_are(&s.get(&path)?.body, &[&member])
        });
        s.record(remove.0, remove.1, r);
    } else {
        for (n, sec) in [add, remove] {
            s.skip(n, sec, "not announced: patch.supported is false");
        }
    }
    let renamed = format!("{name}-renamed");
    let body = json!({"schemas": [GROUP], "displayName": renamed, "members": [{"value": member}]});
    let r = s.call("PUT", &path, Some(&body), &[]).and_then(|r| {
        r.status_in(&[200])?;
        let again = s.get(&path)?;
        same(again.str("/displayName"), &renamed, "displayName read back")?;
        members_are(&again.body, &[&member])
    });
    s.record(replace.0, replace.1, r);
    let r = s.delete(&path).and_then(|r| {
        r.status_in(&[204])?;
        s.get(&path)?.error(404, None).map_err(|e| format!("after DELETE: {e}"))
    });
    s.record(delete.0, delete.1, r);
}

/// The group's members are exactly these ids.
fn members_are(group: &Value, ids: &[&str]) -> Result<(), String> {
    let mut seen: Vec<&str> =
        group["members"].as_array().into_iter().flatten().filter_map(|m| m["value"].as_str()).collect();
    let mut want = ids.to_vec();
    seen.sort();
    want.sort();
    if seen == want {
        Ok(())
    } else {
        Err(format!("expected members {want:?}, saw {}", group["members"]))
    }
}
