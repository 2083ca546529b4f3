//! Cursor paging (RFC 9865) through the whole engine, over the memory store, which leaves the keyset walk to
//! the engine.

use super::harness::Harness;
use serde_json::{json, Value};

const CONFIG: &str = r#"{"baseUrl":"https://example.com/scim/v2","pagination":{"cursorKey":"a key of sixteen or more","cursorTimeout":60}}"#;

fn names(page: &Value) -> Vec<String> {
    page["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap().to_string()).collect()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Walks `query` by cursor, `count` at a time, calling `between` after each page; the names in walk order.
fn walk(h: &mut Harness, query: &str, count: u32, mut between: impl FnMut(&mut Harness, usize)) -> Vec<String> {
    let (mut seen, mut cursor, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let page = h.get(&format!("/Users?{query}&count={count}&cursor={}", enc(&cursor))).expect(200);
        assert!(page.get("startIndex").is_none(), "a cursor page has no startIndex");
        seen.extend(names(&page));
        pages += 1;
        between(h, pages);
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return seen,
        }
    }
}

#[test]
fn a_walk_sees_every_resource_that_exists_throughout_it_once_in_order() {
    let mut h = Harness::with_config(CONFIG);
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(h.create("/Users", &json!({"userName": format!("u{i}"), "title": format!("t{}", i % 3)})));
    }
    let deleted = ids[..4].to_vec();
    let seen = walk(&mut h, "sortBy=title&sortOrder=descending", 3, |h, page| {
        // Between pages: one user deleted, one created, all over the order.
        h.delete(&format!("/Users/{}", deleted[page - 1])).expect(204);
        h.create("/Users", &json!({"userName": format!("new{page}"), "title": format!("t{page}")}));
    });
    for i in 4..10 {
        assert_eq!(seen.iter().filter(|n| **n == format!("u{i}")).count(), 1, "u{i} in {seen:?}");
    }
    let title = |n: &String| match n.strip_prefix("new") {
        Some(page) => page.to_string(),
        None => (n[1..].parse::<u32>().unwrap() % 3).to_string(),
    };
    let titles: Vec<String> = seen.iter().map(title).collect();
    assert!(titles.windows(2).all(|w| w[0] >= w[1]), "descending by title: {seen:?}");
}

#[test]
fn the_last_page_has_no_next_cursor_and_an_empty_cursor_starts_over() {
    let mut h = Harness::with_config(CONFIG);
    for i in 0..4 {
        h.user(&format!("u{i}"));
    }
    let first = h.get("/Users?cursor=&count=2").expect(200);
    assert_eq!((first["totalResults"].as_u64(), first["itemsPerPage"].as_u64()), (Some(4), Some(2)));
    let next = first["nextCursor"].as_str().unwrap();
    let second = h.get(&format!("/Users?cursor={}&count=2", enc(next))).expect(200);
    assert_eq!(second["itemsPerPage"].as_u64(), Some(2));
    assert!(second.get("nextCursor").is_none(), "the last page: {second}");
    let mut all = names(&first);
    all.extend(names(&second));
    all.sort();
    assert_eq!(all, ["u0", "u1", "u2", "u3"]);
    let searched = h.post(
        "/Users/.search",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "cursor": next, "count": 2}),
    );
    assert_eq!(names(&searched.expect(200)), names(&second), ".search takes the same cursor");
}

#[test]
fn a_cursor_altered_or_for_another_query_or_key_is_invalid() {
    let mut h = Harness::with_config(CONFIG);
    for i in 0..3 {
        h.user(&format!("u{i}"));
    }
    let next = h.get("/Users?cursor=&count=1").expect(200)["nextCursor"].as_str().unwrap().to_string();
    let (payload, tag) = next.split_once('.').unwrap();
    let mut altered = payload.to_string().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = format!("{}.{tag}", String::from_utf8(altered).unwrap());
    for bad in [altered.as_str(), "garbage", "a.b", &format!("{payload}.")] {
        let detail = h.get(&format!("/Users?cursor={}&count=1", enc(bad))).expect_error(400, Some("invalidCursor"));
        assert!(detail.contains("leave cursor empty"), "{detail}");
    }
    h.get(&format!("/Users?cursor={}&count=1&filter=userName%20pr", enc(&next)))
        .expect_error(400, Some("invalidCursor"));
    h.get(&format!("/Users?cursor={}&count=1&sortBy=userName", enc(&next))).expect_error(400, Some("invalidCursor"));
    h.get(&format!("/Groups?cursor={}&count=1", enc(&next))).expect_error(400, Some("invalidCursor"));
    let mut other = Harness::with_config(&CONFIG.replace("sixteen", "seventeen"));
    other.user("u0");
    other.get(&format!("/Users?cursor={}&count=1", enc(&next))).expect_error(400, Some("invalidCursor"));
}

#[test]
fn a_cursor_expires_after_the_timeout() {
    let mut h = Harness::with_config(CONFIG);
    h.user("a");
    h.user("b");
    let next = h.get("/Users?cursor=&count=1").expect(200)["nextCursor"].as_str().unwrap().to_string();
    h.advance(60);
    h.get(&format!("/Users?cursor={}&count=1", enc(&next))).expect(200);
    h.advance(1);
    h.get(&format!("/Users?cursor={}&count=1", enc(&next))).expect_error(400, Some("expiredCursor"));
}

#[test]
fn start_index_and_cursor_together_are_refused_and_index_paging_stays() {
    let mut h = Harness::with_config(CONFIG);
    h.user("a");
    h.get("/Users?cursor=&startIndex=1").expect_error(400, Some("invalidValue"));
    let page = h.get("/Users?startIndex=1&count=1").expect(200);
    assert_eq!((page["startIndex"].as_u64(), page.get("nextCursor")), (Some(1), None));
}

#[test]
fn service_provider_config_describes_pagination() {
    let mut h = Harness::with_config(CONFIG);
    let spc = h.get("/ServiceProviderConfig").expect(200);
    assert_eq!(
        spc["pagination"],
        json!({"cursor": true, "index": true, "defaultPaginationMethod": "index", "defaultPageSize": 1000,
               "maxPageSize": 1000, "cursorTimeout": 60})
    );
    let mut plain = Harness::new();
    assert_eq!(plain.get("/ServiceProviderConfig").expect(200)["pagination"]["cursor"], json!(false));
    plain.get("/Users?cursor=").expect_error(400, Some("invalidValue"));
}

#[test]
fn cursor_as_the_default_method_pages_a_bare_list_by_cursor() {
    let cfg = CONFIG.replace(r#""cursorTimeout":60"#, r#""cursorTimeout":60,"defaultPaginationMethod":"cursor""#);
    let mut h = Harness::with_config(&cfg);
    h.user("a");
    h.user("b");
    let page = h.get("/Users?count=1").expect(200);
    assert!(page["nextCursor"].is_string() && page.get("startIndex").is_none(), "{page}");
    let no_key = r#"{"baseUrl":"https://x","pagination":{"defaultPaginationMethod":"cursor"}}"#;
    assert!(crate::config::Config::from_json(no_key).unwrap_err().contains("cursorKey"));
    let short = r#"{"baseUrl":"https://x","pagination":{"cursorKey":"short"}}"#;
    assert!(crate::config::Config::from_json(short).unwrap_err().contains("16"));
}
