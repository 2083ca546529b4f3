//! Filters, paging and sorting over three Users of this run, found by their common `userName` prefix.

use super::{filter, has, Reply, Suite};
use crate::schema::discovery::LIST_RESPONSE;
use serde_json::Value;

pub fn run(s: &mut Suite) {
    const CHECKS: [(&str, &str); 5] = [
        ("filter: eq", "RFC 7644 §3.4.2.2"),
        ("filter: userName without case", "RFC 7643 §4.1.1, RFC 7644 §3.4.2.2"),
        ("filter: sw and", "RFC 7644 §3.4.2.2"),
        ("paging: startIndex and count", "RFC 7644 §3.4.2.4"),
        ("paging: count=0", "RFC 7644 §3.4.2.4"),
    ];
    let Some(endpoint) = s.announced.users.clone().filter(|_| s.announced.filter) else {
        let why = if s.announced.users.is_none() {
            "not announced: no User resource type"
        } else {
            "not announced: filter.supported is false"
        };
        for (name, section) in CHECKS {
            s.skip(name, section, why);
        }
        return sort(s, None, &[]);
    };
    let prefix = format!("{}list-", s.prefix());
    let mut names = vec![];
    for n in 1..=3 {
        match s.new_user(&format!("list-{n}-")) {
            Ok((_, r)) => names.push(r.str("/userName").unwrap_or_default().to_string()),
            Err(e) => {
                for (name, section) in CHECKS {
                    s.skip(name, section, &format!("needs three Users, and one could not be created: {e}"));
                }
                return sort(s, None, &[]);
            }
        }
    }
    let [eq, case, and, paging, zero] = CHECKS;
    let all = format!("userName sw \"{prefix}\"");

    let r = list(s, &format!("{endpoint}?{}", filter(&format!("userName eq \"{}\"", names[1]))))
        .and_then(|(r, found)| expect(&r, &found, 1, &names[1..2]));
    s.record(eq.0, eq.1, r);
    let r = list(s, &format!("{endpoint}?{}", filter(&format!("USERNAME eq \"{}\"", names[1].to_uppercase()))))
        .and_then(|(r, found)| expect(&r, &found, 1, &names[1..2]));
    s.record(case.0, case.1, r);
    let r = list(s, &format!("{endpoint}?{}", filter(&format!("{all} and active eq true"))))
        .and_then(|(r, found)| expect(&r, &found, 3, &names));
    s.record(and.0, and.1, r);

    let r = list(s, &format!("{endpoint}?{}&startIndex=1&count=2", filter(&all))).and_then(|(r, first)| {
        page(&r, &first, 3, 1, 2)?;
        let (r, second) = list(s, &format!("{endpoint}?{}&startIndex=3&count=2", filter(&all)))?;
        page(&r, &second, 3, 3, 1)?;
        match first.iter().find(|n| second.contains(n)) {
            Some(twice) => Err(format!("expected disjoint pages, saw {twice} on both")),
            None => Ok(()),
        }
    });
    s.record(paging.0, paging.1, r);
    let r = s.get(&format!("{endpoint}?{}&count=0", filter(&all))).and_then(|r| {
        r.status_in(&[200])?;
        if r.body["totalResults"] != 3 {
            return Err(format!("expected totalResults 3, saw {}", r.body["totalResults"]));
        }
        match r.body.get("Resources").and_then(Value::as_array) {
            Some(items) if !items.is_empty() => Err(format!("expected no Resources, saw {}", items.len())),
            _ => Ok(()),
        }
    });
    s.record(zero.0, zero.1, r);
    sort(s, Some(&endpoint), &names);
}

/// `sortBy=userName` both ways, when announced.
fn sort(s: &mut Suite, endpoint: Option<&str>, names: &[String]) {
    let section = "RFC 7644 §3.4.2.3";
    if !s.announced.sort {
        return s.skip("sort: sortBy and sortOrder", section, "not announced: sort.supported is false");
    }
    let Some(endpoint) = endpoint else {
        return s.skip("sort: sortBy and sortOrder", section, "needs the filter checks' Users");
    };
    let all = filter(&format!("userName sw \"{}list-\"", s.prefix()));
    let r = list(s, &format!("{endpoint}?{all}&sortBy=userName&sortOrder=descending")).and_then(|(r, found)| {
        r.status_in(&[200])?;
        let reversed: Vec<String> = names.iter().rev().cloned().collect();
        in_order(&found, &reversed, "descending")?;
        let (_, found) = list(s, &format!("{endpoint}?{all}&sortBy=userName&sortOrder=ascending"))?;
        in_order(&found, names, "ascending")
    });
    s.record("sort: sortBy and sortOrder", section, r);
}

fn in_order(found: &[String], expected: &[String], how: &str) -> Result<(), String> {
    if found == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?} ({how}), saw {found:?}"))
    }
}

/// A ListResponse and the `userName`s it holds, in order.
fn list(s: &mut Suite, target: &str) -> Result<(Reply, Vec<String>), String> {
    let r = s.get(target)?;
    r.status_in(&[200])?;
    if !has(&r.body["schemas"], LIST_RESPONSE) {
        return Err(format!("expected a ListResponse (schemas holding {LIST_RESPONSE}), saw {}", r.body));
    }
    let items = r.body["Resources"].as_array().cloned().unwrap_or_default();
    let names = items.iter().map(|u| u["userName"].as_str().unwrap_or_default().to_string()).collect();
    Ok((r, names))
}

/// `totalResults` and exactly these users, in any order.
fn expect(r: &Reply, found: &[String], total: u64, names: &[String]) -> Result<(), String> {
    let mut sorted = found.to_vec();
    sorted.sort();
    if r.body["totalResults"] != total || sorted != names {
        return Err(format!(
            "expected totalResults {total} and {names:?}, saw {} and {found:?}",
            r.body["totalResults"]
        ));
    }
    Ok(())
}

/// One page: `totalResults`, `startIndex`, `itemsPerPage` and the number of items.
fn page(r: &Reply, found: &[String], total: u64, start: u64, items: u64) -> Result<(), String> {
    let b = &r.body;
    if b["totalResults"] != total
        || b["startIndex"] != start
        || b["itemsPerPage"] != items
        || found.len() as u64 != items
    {
        return Err(format!(
            "expected totalResults {total}, startIndex {start}, itemsPerPage {items} and {items} Resources, saw {}, {}, {} and {}",
            b["totalResults"], b["startIndex"], b["itemsPerPage"], found.len()
        ));
    }
    Ok(())
}
