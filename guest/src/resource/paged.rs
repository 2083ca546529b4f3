//! The body of one resource whose members are shown, with its members read from storage a page at a time and
//! written straight into the body: a request holds the body and one page of members, never the whole list
//! as values besides it (a group of 100,000 members would otherwise be held three times over).
//!
//! Pages are read by position, several storage calls apart: when the resource's version has moved by the
//! last page, the body may mix two states, and the caller reads the list again in one piece instead.

use super::member_json;
use crate::config::Config;
use crate::error::ScimResult;
use crate::projection::Projection;
use crate::schema::ResourceType;
use crate::store::Store;
use serde_json::{json, Map, Value};

/// Members read per storage call: large enough that positional paging stays cheap for storage, small enough
/// that a page is a few megabytes.
const PAGE: u32 = 10_000;

/// A member with every sub-attribute, standing for the members while the rest of the resource is projected:
/// `members` is still there afterwards when the projection shows any of them.
pub fn placeholder() -> Value {
    json!([{"value": "", "$ref": "", "type": "", "display": ""}])
}

/// `shown` as JSON, byte for byte as `serde_json` writes it, with its `members` replaced by the stored ones,
/// projected; left out when none is shown. `None` when the resource changed while its pages were read.
pub fn body(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    id: &str,
    version: &str,
    shown: &Map<String, Value>,
    projection: &Projection,
) -> ScimResult<Option<Vec<u8>>> {
    let mut out = Vec::new();
    out.push(b'{');
    let (mut first, mut paged) = (true, false);
    for (key, value) in shown {
        let mark = out.len();
        if !first {
            out.push(b',');
        }
        write_json(&mut out, key);
        out.push(b':');
        let written = match key.as_str() {
            "members" => {
                paged = true;
                members(cfg, store, rt, id, projection, &mut out)?
            }
            _ => {
                write_json(&mut out, value);
                true
            }
        };
        if written {
            first = false;
        } else {
            out.truncate(mark);
        }
    }
    out.push(b'}');
    if !paged {
        return Ok(Some(out));
    }
    let now = store.get(&rt.name, id, false)?.map(|s| s.version);
    Ok((now.as_deref() == Some(version)).then_some(out))
}

#[cfg(test)]
#[path = "paged_tests.rs"]
mod tests;

/// Writes the members as a JSON array, page by page; false when no member shows anything.
fn members(
    cfg: &Config,
    store: &mut dyn Store,
    rt: &ResourceType,
    id: &str,
    projection: &Projection,
    out: &mut Vec<u8>,
) -> ScimResult<bool> {
    let mut written = 0usize;
    let mut start = 1u32;
    loop {
        let page = store.members(&rt.name, id, start, PAGE)?;
        let read = page.len() as u32;
        let values = Value::Array(page.iter().map(|m| member_json(cfg, m)).collect());
        drop(page);
        let projected = projection.apply(cfg, rt, json!({ "members": values }));
        if let Some(Value::Array(items)) = projected.get("members") {
            for item in items {
                out.push(if written == 0 { b'[' } else { b',' });
                write_json(out, item);
                written += 1;
            }
        }
        if read < PAGE {
            break;
        }
        start = start.saturating_add(PAGE);
    }
    if written > 0 {
        out.push(b']');
    }
    Ok(written > 0)
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("a JSON value always serialises");
}
