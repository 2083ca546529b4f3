use crate::http::Request;
use crate::store::memory::MemoryStore;
use crate::store::{Applied, FilterNode, Literal, Member, Page, Query, Store, StoreResult, Stored, UniqueKey, Update};
use crate::tests::harness::Harness;
use serde_json::{json, Value};

/// The in-memory store, counting Group searches; with `filters`, it applies the `members.value eq` filters
/// the engine sends for `groups` (as a SQL host does), else it applies nothing.
struct Counting {
    inner: MemoryStore,
    filters: bool,
    group_searches: usize,
    /// Gets and searches of Users that asked for members (a User has none).
    user_member_loads: usize,
}

impl Counting {
    fn new(h: &mut Harness, filters: bool) -> Counting {
        Counting { inner: std::mem::take(&mut h.store), filters, group_searches: 0, user_member_loads: 0 }
    }
}

/// The member ids a `members.value eq` filter (or an `or` of them) asks for.
fn wanted(q: &Query) -> Vec<String> {
    let f = q.filter.as_ref().expect("groups are searched with a filter");
    let id = |n: &FilterNode| match n {
        FilterNode::Compare(c) if c.path == "members.value" => match &c.value {
            Literal::Text(t) => t.clone(),
            other => panic!("unexpected literal {other:?}"),
        },
        other => panic!("unexpected node {other:?}"),
    };
    match &f.nodes[f.root as usize] {
        FilterNode::AnyOf(children) => children.iter().map(|&i| id(&f.nodes[i as usize])).collect(),
        single => vec![id(single)],
    }
}

impl Store for Counting {
    fn get(&mut self, rt: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>> {
        self.user_member_loads += usize::from(rt == "User" && with_members);
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
    fn search(&mut self, q: &Query) -> StoreResult<Page> {
        if q.resource_type != "Group" {
            self.user_member_loads += usize::from(q.resource_type == "User" && !q.without_members);
            return self.inner.search(q);
        }
        self.group_searches += 1;
        if !self.filters {
            return self.inner.search(q);
        }
        let ids = wanted(q);
        let mut items = self.inner.search(&Query { without_members: false, ..q.clone() })?.items;
        items.retain(|g| g.members.as_ref().is_some_and(|ms| ms.iter().any(|m| ids.contains(&m.value))));
        if q.without_members {
            items.iter_mut().for_each(|g| g.members = None);
        }
        Ok(Page { items, total: None, applied: Applied::FilterOnly })
    }
    fn members(&mut self, rt: &str, id: &str, start_index: u32, count: u32) -> StoreResult<Vec<Member>> {
        self.inner.members(rt, id, start_index, count)
    }
    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(principal)
    }
}

fn get(h: &Harness, store: &mut Counting, target: &str) -> Value {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let req = Request { method: "GET".into(), path: path.into(), query: query.into(), headers: vec![], body: None };
    let resp = h.engine.handle(store, h.now, None, &req);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    serde_json::from_slice(&resp.body).expect("JSON")
}

/// Five users; with `grouped`, two groups: one holding users 0 and 2, one holding 2 and 3.
fn directory(grouped: bool) -> (Harness, Vec<String>) {
    let mut h = Harness::new();
    let users: Vec<String> = (0..5).map(|i| h.user(&format!("user{i}"))).collect();
    h.create("/Groups", &json!({"displayName": "no members"}));
    if grouped {
        let members = |ids: &[usize]| ids.iter().map(|&i| json!({"value": users[i]})).collect::<Vec<_>>();
        h.create("/Groups", &json!({"displayName": "a", "members": members(&[0, 2])}));
        h.create("/Groups", &json!({"displayName": "b", "members": members(&[2, 3])}));
    }
    (h, users)
}

/// The list page with the Group searches it took, and each user as `GET /Users/{id}` shows it.
fn page_and_singles(h: &Harness, store: &mut Counting, users: &[String]) -> (Vec<Value>, usize, Vec<Value>) {
    let page = get(h, store, "/Users?count=50");
    let for_page = std::mem::take(&mut store.group_searches);
    let singles: Vec<Value> = users.iter().map(|id| get(h, store, &format!("/Users/{id}"))).collect();
    (page["Resources"].as_array().expect("Resources").clone(), for_page, singles)
}

fn group_names(user: &Value) -> Vec<&str> {
    user["groups"].as_array().map(|gs| gs.iter().map(|g| g["display"].as_str().unwrap()).collect()).unwrap_or_default()
}

#[test]
fn a_page_without_memberships_asks_storage_once() {
    let (mut h, users) = directory(false);
    let mut store = Counting::new(&mut h, true);
    let (page, searches, singles) = page_and_singles(&h, &mut store, &users);
    assert_eq!(searches, 1);
    assert_eq!(store.group_searches, users.len(), "a single user takes one search");
    assert_eq!(page, singles);
    assert!(page.iter().all(|u| u.get("groups").is_none()));
}

#[test]
fn a_page_with_memberships_attributes_each_group_to_its_members() {
    let (mut h, users) = directory(true);
    let mut store = Counting::new(&mut h, true);
    let (page, searches, singles) = page_and_singles(&h, &mut store, &users);
    // One search for the page finds groups; attributing them takes one per user; one more finds that those
    // groups are in no group (nested groups).
    assert_eq!(searches, 2 + users.len());
    assert_eq!(page, singles);
    let names: Vec<Vec<&str>> = page.iter().map(group_names).collect();
    assert_eq!(names, vec![vec!["a"], vec![], vec!["a", "b"], vec!["b"], vec![]]);
}

#[test]
fn a_host_that_filters_nothing_is_asked_twice_per_page() {
    let (mut h, users) = directory(true);
    let mut store = Counting::new(&mut h, false);
    let (page, searches, singles) = page_and_singles(&h, &mut store, &users);
    // Once without members (what a filtering host answers), once with them to check membership here; the
    // same again for the groups of the groups found (nested groups).
    assert_eq!(searches, 4);
    assert_eq!(page, singles);
    let names: Vec<Vec<&str>> = page.iter().map(group_names).collect();
    assert_eq!(names, vec![vec!["a"], vec![], vec!["a", "b"], vec!["b"], vec![]]);
}

#[test]
fn groups_are_not_searched_when_not_shown() {
    let (mut h, _) = directory(true);
    let mut store = Counting::new(&mut h, true);
    get(&h, &mut store, "/Users?attributes=userName");
    get(&h, &mut store, "/Users?excludedAttributes=groups");
    assert_eq!(store.group_searches, 0);
}

#[test]
fn members_are_loaded_only_for_resources_that_show_them() {
    let (mut h, users) = directory(true);
    let group = h.create("/Groups", &json!({"displayName": "c", "members": [{"value": users[1]}]}));
    let mut store = Counting::new(&mut h, false);
    get(&h, &mut store, "/Users?count=50");
    get(&h, &mut store, &format!("/Users/{}", users[0]));
    assert_eq!(store.user_member_loads, 0);
    let shown = get(&h, &mut store, &format!("/Groups/{group}"));
    assert_eq!(shown["members"][0]["value"], json!(users[1]));
    let listed = get(&h, &mut store, "/Groups?filter=displayName%20eq%20%22c%22");
    assert_eq!(listed["Resources"][0]["members"][0]["value"], json!(users[1]));
}

#[test]
fn a_created_resource_is_in_no_group_and_none_is_searched() {
    let (mut h, users) = directory(true);
    let mut store = Counting::new(&mut h, true);
    let post = |store: &mut Counting, path: &str, body: Value| {
        let req = Request {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: vec![("content-type".into(), "application/scim+json".into())],
            body: Some(body.to_string().into_bytes()),
        };
        let resp = h.engine.handle(store, h.now, None, &req);
        assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
        serde_json::from_slice::<Value>(&resp.body).expect("JSON")
    };
    let user = post(&mut store, "/Users", json!({"userName": "newcomer"}));
    let group = post(&mut store, "/Groups", json!({"displayName": "new", "members": [{"value": users[0]}]}));
    assert_eq!(store.group_searches, 0);
    assert!(user.get("groups").is_none(), "{user}");
    assert_eq!(group["members"][0]["value"], json!(users[0]));
}
