//! Every resource of a target's endpoint, page by page: by cursor (RFC 9865: `cursor` and `count` in the query,
//! `nextCursor` in the ListResponse) when the target's `/ServiceProviderConfig` announces `pagination.cursor`,
//! else by index (RFC 7644 §3.4.2.4: `startIndex`). A target that pages only by cursor refuses `startIndex`,
//! so the method is chosen before the first page, never by trying.
//!
//! Bounded: a cursor the target already gave, or more than [`MAX_PAGES`] pages, stops the walk with an error
//! instead of looping on a target that never says it is done.

use super::run::{encode, Run};
use super::Action;
use serde_json::Value;
use std::collections::BTreeSet;

/// Resources asked for per page, or the target's `maxPageSize` if smaller (a target may answer fewer).
pub const PAGE_SIZE: u32 = 200;

/// Pages walked at most: 20 million resources at the full page size.
pub const MAX_PAGES: u32 = 100_000;

/// How to ask for the next page.
enum Position {
    /// RFC 9865: the first page is asked by an empty cursor.
    Cursor(String),
    /// RFC 7644: 1-based.
    Index(u64),
}

/// All resources at `endpoint`, `query` (percent-encoded, e.g. `attributes=userName`) added to every page's.
/// Gathered whole before the caller acts on them: deleting while paging by index would shift the items after
/// each deletion and skip some.
pub fn all(run: &mut Run, endpoint: &str, query: &str) -> Result<Vec<Value>, String> {
    let abilities = run.abilities()?;
    let size = abilities.max_page.map_or(PAGE_SIZE, |m| m.min(PAGE_SIZE));
    let mut position = if abilities.cursor { Position::Cursor(String::new()) } else { Position::Index(1) };
    // Not a HashSet: the component is given no random seed.
    let mut cursors_seen = BTreeSet::new();
    let mut items = Vec::new();
    for page in 1..=MAX_PAGES {
        let at = match &position {
            Position::Cursor(c) => format!("cursor={}", encode(c)),
            Position::Index(i) => format!("startIndex={i}"),
        };
        let target = format!("{endpoint}?{query}&count={size}&{at}");
        let reply = run.call(Action::List, "GET", &target, None, &[], &[200])?;
        let mut body = reply.body;
        let found = match body.get_mut("Resources").map(Value::take) {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(found)) => found,
            Some(_) => return Err(format!("GET {target}: Resources is not an array")),
        };
        let n = found.len();
        items.extend(found);
        position = match position {
            Position::Cursor(_) => match body.get("nextCursor") {
                None | Some(Value::Null) => break,
                Some(Value::String(next)) if next.is_empty() => break,
                Some(Value::String(next)) => {
                    if !cursors_seen.insert(next.clone()) {
                        return Err(format!("GET {target}: the target gave the cursor {next:?} again"));
                    }
                    Position::Cursor(next.clone())
                }
                Some(_) => return Err(format!("GET {target}: nextCursor is not a string")),
            },
            Position::Index(i) => {
                let total = body.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
                let next = i + n as u64;
                if n == 0 || next > total {
                    break;
                }
                Position::Index(next)
            }
        };
        run.note(format!("page {page}: {n} resources"));
        if page == MAX_PAGES {
            return Err(format!("{endpoint} did not end within {MAX_PAGES} pages"));
        }
    }
    run.note(format!("last page; {} resources in all", items.len()));
    Ok(items)
}
