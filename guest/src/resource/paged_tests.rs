//! A group's members read page by page into a single-resource answer: the same bytes as a whole read, the
//! projection applied to every page, and a whole read again when the group changed between pages.

use super::PAGE;
use crate::http::Request;
use crate::store::memory::MemoryStore;
use crate::store::{Member, Page, Query, Store, StoreResult, Stored, UniqueKey, Update};
use crate::Engine;
use serde_json::{json, Value};

const BASE: &str = r#"{"baseUrl":"https://example.com/scim/v2"}"#;

/// Counts what is read; after `change_after` member pages, another writer adds a member.
#[derive(Default)]
struct Watched {
    inner: MemoryStore,
    gets: Vec<bool>,
    pages: u32,
    change_after: Option<u32>,
}

impl Store for Watched {
    fn get(&mut self, rt: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        self.gets.push(with_members);
        self.inner.get(rt, id, with_members)
    }
    fn create(&mut self, rt: &str, data: &str, unique: &[UniqueKey], members: &[Member]) -> StoreResult<Stored> {
        self.inner.create(rt, data, unique, members)
    }
    fn update(&mut self, change: &Update) -> StoreResult<Stored> {
        self.inner.update(change)
    }
    fn delete(&mut self, rt: &str, id: &str, if_version: Option<&str>) -> StoreResult<()> {
        self.inner.delete(rt, id, if_version)
    }
    fn search(&mut self, query: &Query) -> StoreResult<Page> {
        self.inner.search(query)
    }
    fn members(&mut self, rt: &str, id: &str, start: u32, count: u32) -> StoreResult<Vec<Member>> {
        self.pages += 1;
        let page = self.inner.members(rt, id, start, count);
        if self.change_after == Some(self.pages) {
            let late = Member { value: "late".into(), kind: Some("User".into()), display: None };
            let change =
                Update { resource_type: rt.into(), id: id.into(), add_members: vec![late], ..Update::default() };
            self.inner.update(&change)?;
        }
        page
    }
    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(principal)
    }
}

fn group(store: &mut Watched, size: usize) -> String {
    let members: Vec<Member> = (0..size)
        .map(|i| Member { value: format!("m{i}"), kind: Some("User".into()), display: Some(format!("Member \"{i}\"")) })
        .collect();
    let data = json!({"displayName": "everyone", "externalId": "e", "meta": {"created": "2023-01-01T00:00:00.000Z"}});
    let unique = [UniqueKey { attribute: "displayName".into(), value: "everyone".into() }];
    store.inner.create("Group", &data.to_string(), &unique, &members).expect("created").id
}

fn get(store: &mut Watched, path: &str) -> (u16, Vec<u8>) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let req = Request { method: "GET".into(), path: path.into(), query: query.into(), headers: vec![], body: None };
    let engine = Engine::new(BASE).expect("configuration");
    let resp = engine.handle(store, chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(), None, &req);
    (resp.status, resp.body)
}

fn values(body: &Value) -> Vec<&str> {
    body["members"].as_array().map(|ms| ms.iter().filter_map(|m| m["value"].as_str()).collect()).unwrap_or_default()
}

#[test]
fn a_large_group_is_read_in_pages_into_the_bytes_serde_would_write() {
    let size = 2 * PAGE as usize + 17;
    let mut store = Watched::default();
    let id = group(&mut store, size);
    let (status, body) = get(&mut store, &format!("/Groups/{id}"));
    assert_eq!(status, 200);
    let parsed: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(serde_json::to_vec(&parsed).unwrap(), body, "byte for byte what serde_json writes");
    let expected: Vec<String> = (0..size).map(|i| format!("m{i}")).collect();
    assert_eq!(values(&parsed), expected.iter().map(String::as_str).collect::<Vec<_>>(), "every member once, in order");
    assert_eq!(parsed["members"][3]["$ref"], "https://example.com/scim/v2/Users/m3");
    assert_eq!(parsed["members"][3]["display"], "Member \"3\"");
    assert_eq!(
        (parsed["displayName"].as_str(), parsed["meta"]["version"].as_str()),
        (Some("everyone"), Some("W/\"1\""))
    );
    assert_eq!(store.gets, vec![false, false], "the group, then its version after the pages");
    assert_eq!(store.pages, 3);
}

#[test]
fn every_page_is_projected_and_an_empty_result_leaves_members_out() {
    let mut store = Watched::default();
    let id = group(&mut store, PAGE as usize + 1);
    let (_, body) = get(&mut store, &format!("/Groups/{id}?attributes=members.value"));
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(parsed["members"].as_array().map(Vec::len), Some(PAGE as usize + 1));
    assert!(parsed["members"].as_array().unwrap().iter().all(|m| m.as_object().is_some_and(|o| o.len() == 1)));
    assert!(parsed.get("displayName").is_none());
    let (_, body) = get(&mut store, &format!("/Groups/{id}?excludedAttributes=members.display,externalId"));
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert!(parsed["members"][0].get("display").is_none() && parsed["members"][0]["type"] == "User");
    assert!(parsed.get("externalId").is_none());
    let pages = store.pages;
    let (_, body) = get(&mut store, &format!("/Groups/{id}?excludedAttributes=members"));
    assert!(serde_json::from_slice::<Value>(&body).unwrap().get("members").is_none());
    assert_eq!(store.pages, pages, "members not shown are not read");

    let mut store = Watched::default();
    let empty = group(&mut store, 0);
    let (status, body) = get(&mut store, &format!("/Groups/{empty}"));
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, parsed.get("members")), (200, None), "{parsed}");
    assert_eq!(serde_json::to_vec(&parsed).unwrap(), body);
}

#[test]
fn a_group_changed_between_pages_is_read_again_in_one_piece() {
    let mut store = Watched { change_after: Some(1), ..Watched::default() };
    let id = group(&mut store, PAGE as usize + 5);
    let (status, body) = get(&mut store, &format!("/Groups/{id}"));
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(values(&parsed).len(), PAGE as usize + 6, "the member added meanwhile is there");
    assert_eq!(values(&parsed).last(), Some(&"late"));
    assert_eq!(parsed["meta"]["version"], "W/\"2\"", "the version of what is shown");
    assert_eq!(store.gets, vec![false, false, true]);
}
