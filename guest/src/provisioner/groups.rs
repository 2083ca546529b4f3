//! A user's derived groups: each must exist and hold the user; groups the mapping manages but no longer
//! yields must not. The target's User `groups` (RFC 7643 §4.1.2) tells what it holds now, so an unchanged
//! principal costs no group request at all.

use super::run::{Run, PATCH_OP};
use super::Action;
use crate::mapper::Mapping;
use crate::schema::GROUP;
use serde_json::{json, Value};

pub fn reconcile(
    run: &mut Run,
    mapping: &Mapping,
    user_id: &str,
    wanted: &[String],
    current: &[Value],
) -> Result<(), String> {
    let held: Vec<(&str, &str)> = current
        .iter()
        .filter_map(|g| Some((g.get("value")?.as_str()?, g.get("display").and_then(Value::as_str).unwrap_or(""))))
        .collect();
    for name in wanted {
        if held.iter().any(|(_, d)| d.eq_ignore_ascii_case(name)) {
            continue;
        }
        match run.find(Action::SearchGroup, "/Groups", "displayName", name, Some("displayName"))? {
            Some(group) => {
                let gid = group["id"].as_str().ok_or("the target answered a Group without an id")?;
                change_member(run, gid, user_id, true)?;
            }
            None => {
                let body = json!({"schemas": [GROUP], "displayName": name, "members": [{"value": user_id}]});
                let created = run.call(Action::CreateGroup, "POST", "/Groups", Some(&body), &[], &[201, 409])?;
                if created.status == 201 {
                    run.note(format!("created {name} holding the user"));
                    continue;
                }
                // Created meanwhile by a concurrent provisioning call: join it.
                run.note(format!("{name} was created meanwhile"));
                let group = run.find(Action::SearchGroup, "/Groups", "displayName", name, Some("displayName"))?;
                let gid = group
                    .as_ref()
                    .and_then(|g| g["id"].as_str())
                    .ok_or_else(|| format!("group {name:?} conflicts but cannot be found"))?;
                change_member(run, gid, user_id, true)?;
            }
        }
    }
    for (gid, display) in held {
        if mapping.manages_group(display) && !wanted.iter().any(|w| w.eq_ignore_ascii_case(display)) {
            change_member(run, gid, user_id, false)?;
        }
    }
    Ok(())
}

/// Read-and-PUT attempts on a group that others are changing at the same time.
const MAX_ATTEMPTS: u32 = 8;

/// Adds or removes one member: a PATCH, or, on a target without PATCH, a read and a conditional PUT.
fn change_member(run: &mut Run, gid: &str, user_id: &str, add: bool) -> Result<(), String> {
    let path = format!("/Groups/{gid}");
    let action = if add { Action::AddMember } else { Action::RemoveMember };
    if run.patch_supported()? {
        let op = if add {
            json!({"op": "add", "path": "members", "value": [{"value": user_id}]})
        } else {
            json!({"op": "remove", "path": format!("members[value eq {}]", Value::String(user_id.into()))})
        };
        run.call(action, "PATCH", &path, Some(&json!({"schemas": [PATCH_OP], "Operations": [op]})), &[], &[200, 204])?;
    } else {
        // Conditional: a concurrent change between read and write (412) makes it read again.
        for attempt in 1.. {
            let read = run.call(Action::ReadGroup, "GET", &path, None, &[], &[200])?;
            let mut group = read.body;
            let mut members: Vec<Value> = group.get("members").and_then(Value::as_array).cloned().unwrap_or_default();
            members.retain(|m| m.get("value").and_then(Value::as_str) != Some(user_id));
            if add {
                members.push(json!({"value": user_id}));
            }
            if let Some(obj) = group.as_object_mut() {
                obj.remove("id");
                obj.remove("meta");
                obj.insert("members".into(), Value::Array(members));
            }
            let if_match: Vec<(&str, String)> = read.etag.map(|e| ("If-Match", e)).into_iter().collect();
            let ok: &[u16] = if attempt < MAX_ATTEMPTS { &[200, 412] } else { &[200] };
            if run.call(action, "PUT", &path, Some(&group), &if_match, ok)?.status == 200 {
                break;
            }
            run.note("changed meanwhile; reading again");
        }
    }
    run.note(user_id.to_string());
    Ok(())
}
