//! Deleting the target's Users that no principal yields any more: the directory's side of a full
//! reconciliation. The target's Users are listed (by cursor where it offers it, see [`super::listing`]) with only
//! their match attribute; a User without one was not made from the directory and is left alone.

use super::run::{encode, Run};
use super::{listing, Action, MatchBy};
use serde_json::Value;
use std::collections::BTreeSet;

/// Deletes every User at the target whose match attribute is not among `keep`. `userName` compares without
/// regard to case (RFC 7643 §4.1.1: not case-exact); `externalId` compares exactly.
pub fn prune(run: &mut Run, match_by: MatchBy, keep: &[String]) -> Result<(), String> {
    let attr = match_by.attr();
    let fold = |k: &str| if match_by == MatchBy::UserName { k.to_lowercase() } else { k.to_string() };
    let keep: BTreeSet<String> = keep.iter().map(|k| fold(k)).collect();
    let users = listing::all(run, "/Users", &format!("attributes={}", encode(attr)))?;
    for user in users {
        let Some(key) = user.get(attr).and_then(Value::as_str) else { continue };
        if keep.contains(&fold(key)) {
            continue;
        }
        let id = user.get("id").and_then(Value::as_str).ok_or("the target listed a User without an id")?;
        // Gone meanwhile (404) is what was wanted.
        run.call(Action::Delete, "DELETE", &format!("/Users/{}", encode(id)), None, &[], &[200, 204, 404])?;
        run.note(format!("{attr} {key:?} is no principal's"));
    }
    Ok(())
}
