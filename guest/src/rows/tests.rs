use super::*;
use crate::http::Request;
use crate::store::memory::MemoryStore;
use crate::store::{
    Applied, CompareOp, Comparison, FilterNode, FlatFilter, Literal, Page, Query, SortKey, Store, StoreResult, Stored,
};
use crate::Engine;
use serde_json::json;

const MAPPING: &str = r#"{
  "User": {"id": "id", "columns": {
    "userName": "username", "name.givenName": "firstname", "name.familyName": "lastname",
    "emails[type eq \"work\"].value": "email", "active": {"column": "active", "type": "boolean01"},
    "meta.created": {"column": "created_at", "type": "sqlDateTime"}}},
  "Group": {"columns": {"displayName": "name"}}}"#;

fn engine() -> Engine {
    Engine::new(&format!(r#"{{"baseUrl":"https://x/scim/v2","mapping":{MAPPING}}}"#)).unwrap()
}

fn send(e: &Engine, store: &mut dyn Store, method: &str, path: &str, query: &str, body: Option<Value>) -> (u16, Value) {
    let req = Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![],
        body: body.map(|b| b.to_string().into_bytes()),
    };
    let now = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:20:30.123Z").unwrap().to_utc();
    let resp = e.handle(store, now, None, &req);
    (resp.status, serde_json::from_slice(&resp.body).unwrap_or(Value::Null))
}

fn bjensen() -> Value {
    json!({"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"title":"Boss",
        "emails":[{"value":"b@example.com","type":"work","primary":true}],"active":true})
}

#[test]
fn rows_hold_host_columns_and_read_back_as_scim() {
    let (e, mut store) = (engine(), MemoryStore::new());
    let (status, created) = send(&e, &mut store, "POST", "/Users", "", Some(bjensen()));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let row: Value = serde_json::from_str(&store.get("User", id, false).unwrap().unwrap().data).unwrap();
    assert_eq!(
        row,
        json!({"username":"bjensen","firstname":"Barbara","lastname":"Jensen","email":"b@example.com",
            "active":1,"created_at":"2024-05-01 10:20:30"})
    );
    let (status, got) = send(&e, &mut store, "GET", &format!("/Users/{id}"), "", None);
    assert_eq!(status, 200);
    assert_eq!(got["name"], json!({"givenName":"Barbara","familyName":"Jensen"}));
    assert_eq!(got["emails"], json!([{"type":"work","value":"b@example.com"}]));
    assert_eq!(got["active"], true);
    assert_eq!(got["meta"]["created"], "2024-05-01T10:20:30Z");
    assert!(got.get("title").is_none(), "an attribute without a column is not stored");
}

#[test]
fn an_email_without_type_still_fills_the_only_email_column() {
    let (e, mut store) = (engine(), MemoryStore::new());
    let body = json!({"userName":"a","emails":[{"value":"h@x","type":"home"},{"value":"a@x"}],"active":"False"});
    let (_, created) = send(&e, &mut store, "POST", "/Users", "", Some(body));
    let row: Value =
        serde_json::from_str(&store.get("User", created["id"].as_str().unwrap(), false).unwrap().unwrap().data)
            .unwrap();
    assert_eq!((&row["email"], &row["active"], &row["firstname"]), (&json!("a@x"), &json!(0), &Value::Null));
}

#[test]
fn conflicts_are_keyed_by_column_and_reported_by_attribute() {
    let (e, mut store) = (engine(), MemoryStore::new());
    send(&e, &mut store, "POST", "/Users", "", Some(bjensen()));
    let (status, body) = send(&e, &mut store, "POST", "/Users", "", Some(json!({"userName":"BJensen"})));
    assert_eq!(status, 409);
    assert!(body["detail"].as_str().unwrap().starts_with("userName"), "{body}");
    let (status, _) = send(&e, &mut store, "POST", "/Groups", "", Some(json!({"displayName":"g"})));
    assert_eq!(status, 201);
}

#[test]
fn unmapped_types_and_host_rows_with_extra_columns() {
    let cfg = r#"{"baseUrl":"https://x","mapping":{"Group":{"columns":{"displayName":"name"}}}}"#;
    let (e, mut store) = (Engine::new(cfg).unwrap(), MemoryStore::new());
    let (_, u) = send(&e, &mut store, "POST", "/Users", "", Some(bjensen()));
    let raw = store.get("User", u["id"].as_str().unwrap(), false).unwrap().unwrap().data;
    assert!(raw.contains("\"userName\""), "an unmapped type stores SCIM: {raw}");
    let tm = e.config.rows.as_ref().unwrap().get("Group").unwrap();
    let scim = tm.to_scim(json!({"id": 7, "name": "staff", "unrelated": 1}).as_object().unwrap());
    assert_eq!(Value::Object(scim), json!({"displayName": "staff"}));
}

#[test]
fn configuration_errors_name_the_rule() {
    let bad = [
        (r#"{"User":{"columns":{"nickName2":"n"}}}"#, "nickName2"),
        (r#"{"User":{"columns":{"emails[type eq work].value":"e"}}}"#, "emails[type eq work].value"),
        (r#"{"User":{"columns":{"name":"n"}}}"#, "sub-attribute"),
        (r#"{"User":{"columns":{"userName":"a","USERNAME":"b"}}}"#, "mapped twice"),
        (r#"{"User":{"columns":{"active":{"column":"a","type":"bit"}}}}"#, "bit"),
        (r#"{"Device":{"columns":{}}}"#, "Device"),
        (r#"{"User":{"columns":{"meta.location":"l"}}}"#, "meta.location"),
    ];
    for (mapping, needle) in bad {
        let err = Engine::new(&format!(r#"{{"baseUrl":"x","mapping":{mapping}}}"#)).err().unwrap();
        assert!(err.contains(needle), "{mapping}: {err}");
    }
}

fn user_mapping() -> Table {
    engine().config.rows.unwrap().get("User").unwrap().clone()
}

fn cmp(path: &str, op: CompareOp, value: Literal) -> FilterNode {
    FilterNode::Compare(Comparison { path: path.into(), op, value, case_exact: false })
}

fn query(nodes: Vec<FilterNode>, sort: Option<&str>) -> Query {
    let root = nodes.len() as u32 - 1;
    Query {
        resource_type: "User".into(),
        filter: Some(FlatFilter { nodes, root }),
        sort: sort.map(|p| SortKey { path: p.into(), descending: false, case_exact: false }),
        start_index: 11,
        count: 10,
        without_members: true,
        keyset: None,
    }
}

fn text(s: &str) -> Literal {
    Literal::Text(s.into())
}

#[test]
fn expressible_filters_name_columns_and_keep_paging() {
    let q = query(
        vec![
            cmp("userName", CompareOp::Eq, text("b")),
            cmp("active", CompareOp::Eq, Literal::Boolean(true)),
            FilterNode::AllOf(vec![0, 1]),
        ],
        Some("name.familyName"),
    );
    let (sent, exact) = query::translate(&user_mapping(), &q);
    assert!(exact);
    let f = sent.filter.unwrap();
    assert_eq!(f.nodes[0], cmp("username", CompareOp::Eq, text("b")));
    assert_eq!(f.nodes[1], cmp("active", CompareOp::Eq, Literal::Integer(1)));
    assert_eq!(f.nodes[2], FilterNode::AllOf(vec![0, 1]));
    assert_eq!((sent.start_index, sent.count, sent.sort.unwrap().path.as_str()), (11, 10, "lastname"));
}

#[test]
fn an_unmapped_comparison_is_dropped_from_and_and_asks_for_every_candidate() {
    let q = query(
        vec![
            cmp("userName", CompareOp::Eq, text("b")),
            cmp("title", CompareOp::Eq, text("x")),
            FilterNode::AllOf(vec![0, 1]),
        ],
        None,
    );
    let (sent, exact) = query::translate(&user_mapping(), &q);
    assert!(!exact);
    assert_eq!(sent.filter.unwrap().nodes, vec![cmp("username", CompareOp::Eq, text("b"))]);
    assert_eq!((sent.start_index, sent.count, sent.sort), (1, u32::MAX, None));
}

#[test]
fn or_and_not_around_an_unmapped_comparison_send_no_filter() {
    let tm = user_mapping();
    let or = query(
        vec![
            cmp("userName", CompareOp::Eq, text("b")),
            cmp("title", CompareOp::Eq, text("x")),
            FilterNode::AnyOf(vec![0, 1]),
        ],
        None,
    );
    assert_eq!(
        query::translate(&tm, &or),
        (Query { filter: None, start_index: 1, count: u32::MAX, ..or.clone() }, false)
    );
    let not = query(vec![cmp("title", CompareOp::Eq, text("x")), FilterNode::Negate(0)], None);
    assert!(query::translate(&tm, &not).0.filter.is_none());
    let not_mapped = query(vec![cmp("userName", CompareOp::Eq, text("x")), FilterNode::Negate(0)], None);
    let (sent, exact) = query::translate(&tm, &not_mapped);
    assert!(exact);
    assert_eq!(sent.filter.unwrap().nodes[1], FilterNode::Negate(0));
}

#[test]
fn multi_valued_paths_present_and_element_match() {
    let tm = user_mapping();
    let (sent, exact) = query::translate(&tm, &query(vec![cmp("emails.value", CompareOp::Co, text("@x"))], None));
    assert!(exact);
    assert_eq!(sent.filter.unwrap().nodes, vec![cmp("email", CompareOp::Co, text("@x"))]);
    let (_, exact) = query::translate(&tm, &query(vec![cmp("emails.type", CompareOp::Eq, text("work"))], None));
    assert!(!exact, "the selector is not a column");
    let em = query(vec![cmp("value", CompareOp::Ew, text(".org")), FilterNode::ElementMatch("emails".into(), 0)], None);
    assert_eq!(query::translate(&tm, &em).0.filter.unwrap().nodes, vec![cmp("email", CompareOp::Ew, text(".org"))]);
    let (sent, exact) = query::translate(&tm, &query(vec![FilterNode::Present("name".into())], None));
    assert!(exact);
    let nodes = sent.filter.unwrap().nodes;
    assert_eq!(nodes.len(), 3);
    assert!(matches!(&nodes[2], FilterNode::AnyOf(c) if c == &vec![0, 1]));
    let when = query(vec![cmp("meta.created", CompareOp::Gt, Literal::DateTime("2024-01-02T03:04:05Z".into()))], None);
    let (sent, _) = query::translate(&tm, &when);
    assert_eq!(sent.filter.unwrap().nodes, vec![cmp("created_at", CompareOp::Gt, text("2024-01-02 03:04:05"))]);
    let (_, exact) = query::translate(&tm, &query(vec![cmp("userName", CompareOp::Eq, text("b"))], Some("title")));
    assert!(!exact, "a sort without a column is done by the engine");
}

/// A host that claims to have applied everything and returns every row: the engine must not believe it
/// when the filter could not be sent whole.
struct Boastful {
    inner: MemoryStore,
    seen: Vec<Query>,
}

impl Store for Boastful {
    fn get(&mut self, t: &str, id: &str, m: bool) -> StoreResult<Option<Stored>> {
        self.inner.get(t, id, m)
    }
    fn create(
        &mut self,
        t: &str,
        d: &str,
        u: &[crate::store::UniqueKey],
        m: &[crate::store::Member],
    ) -> StoreResult<Stored> {
        self.inner.create(t, d, u, m)
    }
    fn update(&mut self, c: &crate::store::Update) -> StoreResult<Stored> {
        self.inner.update(c)
    }
    fn delete(&mut self, t: &str, id: &str, v: Option<&str>) -> StoreResult<()> {
        self.inner.delete(t, id, v)
    }
    fn search(&mut self, q: &Query) -> StoreResult<Page> {
        self.seen.push(q.clone());
        let page = self.inner.search(q)?;
        Ok(Page { total: Some(page.items.len() as u64), applied: Applied::Everything, ..page })
    }
    fn members(&mut self, t: &str, id: &str, s: u32, c: u32) -> StoreResult<Vec<crate::store::Member>> {
        self.inner.members(t, id, s, c)
    }
    fn resolve_principal(&mut self, p: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(p)
    }
}

#[test]
fn the_engine_filters_sorts_and_pages_when_the_query_was_not_sent_whole() {
    let e = engine();
    let mut store = Boastful { inner: MemoryStore::new(), seen: vec![] };
    for name in ["carol", "alice", "bob"] {
        send(&e, &mut store, "POST", "/Users", "", Some(json!({"userName": name})));
    }
    let (_, list) = send(&e, &mut store, "GET", "/Users", "filter=userName%20eq%20%22bob%22&sortBy=title", None);
    assert_eq!((list["totalResults"].as_u64(), list["Resources"][0]["userName"].as_str()), (Some(1), Some("bob")));
    // The last User query: a User's computed `groups` adds searches of Groups after it.
    let last_user_query = |seen: &[Query]| seen.iter().rev().find(|q| q.resource_type == "User").cloned().unwrap();
    let sent = last_user_query(&store.seen);
    assert_eq!((sent.start_index, sent.count, &sent.sort), (1, u32::MAX, &None));
    assert_eq!(
        sent.filter.as_ref().unwrap().nodes,
        vec![FilterNode::Compare(Comparison {
            path: "username".into(),
            op: CompareOp::Eq,
            value: text("bob"),
            case_exact: false
        })]
    );
    let (_, exact) = send(&e, &mut store, "GET", "/Users", "filter=userName%20eq%20%22bob%22&count=5", None);
    assert_eq!(exact["totalResults"], 3, "an exact query trusts the host's answer");
    assert_eq!(last_user_query(&store.seen).count, 5);
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn engine_with_rest() -> Engine {
    let mut mapping: Value = serde_json::from_str(MAPPING).unwrap();
    mapping["User"]["rest"] = json!("extra");
    mapping["Group"]["rest"] = json!("extra");
    Engine::new(&json!({"baseUrl": "https://x/scim/v2", "mapping": mapping}).to_string()).unwrap()
}

fn stored_row(store: &mut MemoryStore, t: &str, id: &str) -> Map<String, Value> {
    serde_json::from_str(&store.get(t, id, false).unwrap().unwrap().data).unwrap()
}

#[test]
fn the_rest_column_keeps_what_no_column_holds_and_reads_back_whole() {
    let (e, mut store) = (engine_with_rest(), MemoryStore::new());
    let body = json!({"userName":"bjensen","title":"Boss","name":{"givenName":"Barbara","formatted":"Ms B"},
        "emails":[{"value":"h@x","type":"home"},{"value":"b@x","type":"Work","primary":true}],
        ENTERPRISE: {"department":"R&D","manager":{"value":"m1"}}});
    let (status, created) = send(&e, &mut store, "POST", "/Users", "", Some(body));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let row = stored_row(&mut store, "User", id);
    assert_eq!(
        (&row["username"], &row["email"], &row["firstname"]),
        (&json!("bjensen"), &json!("b@x"), &json!("Barbara"))
    );
    let rest: Value = serde_json::from_str(row["extra"].as_str().unwrap()).unwrap();
    assert_eq!(
        rest,
        json!({"title":"Boss","name":{"formatted":"Ms B"},"emails":[{"value":"h@x","type":"home"},{"type":"work","primary":true}],
            ENTERPRISE: {"department":"R&D","manager":{"value":"m1"}},"meta":{"lastModified":"2024-05-01T10:20:30.123Z"}}),
        "only what no column holds, the emptied work email keeping its place"
    );
    let (_, got) = send(&e, &mut store, "GET", &format!("/Users/{id}"), "", None);
    assert_eq!(got["title"], "Boss");
    assert_eq!(got["name"], json!({"givenName":"Barbara","formatted":"Ms B"}));
    assert_eq!(got["emails"], json!([{"value":"h@x","type":"home"},{"value":"b@x","type":"work","primary":true}]));
    assert_eq!(got[ENTERPRISE]["department"], "R&D");
    assert_eq!(got["schemas"][1], ENTERPRISE);
}

#[test]
fn patch_and_put_of_attributes_without_a_column_stick() {
    let (e, mut store) = (engine_with_rest(), MemoryStore::new());
    let (_, created) =
        send(&e, &mut store, "POST", "/Users", "", Some(json!({"userName":"a","emails":[{"value":"a@x"}]})));
    let at = format!("/Users/{}", created["id"].as_str().unwrap());
    let patch = json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
        {"op":"add","path":format!("{ENTERPRISE}:department"),"value":"Sales"},
        {"op":"replace","path":"emails[type eq \"work\"].primary","value":true}]});
    let (status, patched) = send(&e, &mut store, "PATCH", &at, "", Some(patch));
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched[ENTERPRISE]["department"], "Sales");
    assert_eq!(
        patched["emails"],
        json!([{"value":"a@x","type":"work","primary":true}]),
        "one email, found again by its type"
    );
    let (_, put) = send(&e, &mut store, "PUT", &at, "", Some(json!({"userName":"a","nickName":"Al"})));
    assert_eq!((&put["nickName"], put.get(ENTERPRISE), put.get("emails")), (&json!("Al"), None, None));
    let row = stored_row(&mut store, "User", created["id"].as_str().unwrap());
    let rest: Value = serde_json::from_str(row["extra"].as_str().unwrap()).unwrap();
    assert_eq!(
        rest,
        json!({"nickName":"Al","meta":{"lastModified":"2024-05-01T10:20:30.123Z"}}),
        "meta.lastModified has no column here"
    );
    let (_, found) = send(&e, &mut store, "GET", "/Users", "filter=nickName%20eq%20%22al%22", None);
    assert_eq!(found["totalResults"], 1, "the engine filters on what only the rest holds");
}

#[test]
fn without_rest_nothing_changes_and_a_rest_must_be_its_own_column() {
    let (e, mut store) = (engine(), MemoryStore::new());
    let (_, created) = send(&e, &mut store, "POST", "/Users", "", Some(bjensen()));
    assert!(!stored_row(&mut store, "User", created["id"].as_str().unwrap()).contains_key("extra"));
    let (_, g) = send(&e, &mut store, "POST", "/Groups", "", Some(json!({"displayName":"g"})));
    assert_eq!(
        stored_row(&mut store, "Group", g["id"].as_str().unwrap()),
        json!({"name":"g"}).as_object().unwrap().clone()
    );
    for rest in ["username", "id", ""] {
        let cfg = json!({"baseUrl":"x","mapping":{"User":{"columns":{"userName":"username"},"rest":rest}}});
        let err = Engine::new(&cfg.to_string()).err().unwrap();
        assert!(err.contains("rest"), "{rest}: {err}");
    }
    let tm = engine_with_rest().config.rows.unwrap().get("Group").unwrap().clone();
    let row = json!({"name":"staff","extra":{"externalId":"e"}});
    assert_eq!(
        Value::Object(tm.to_scim(row.as_object().unwrap())),
        json!({"externalId":"e","displayName":"staff"}),
        "a decoded rest too"
    );
}

fn group_mapping() -> Table {
    engine().config.rows.unwrap().get("Group").unwrap().clone()
}

fn member_eq(id: &str) -> FilterNode {
    FilterNode::Compare(Comparison {
        path: "members.value".into(),
        op: CompareOp::Eq,
        value: text(id),
        case_exact: true,
    })
}

#[test]
fn a_membership_equality_is_sent_under_its_reserved_path() {
    let tm = group_mapping();
    let single = query(vec![member_eq("u1")], None);
    let (sent, exact) = query::translate(&tm, &single);
    assert!(exact);
    assert_eq!(sent.filter.unwrap().nodes, vec![member_eq("u1")]);
    assert_eq!((sent.start_index, sent.count), (11, 10), "an exact query keeps its paging");

    let page_of_users =
        query(vec![member_eq("u1"), member_eq("u2"), member_eq("u3"), FilterNode::AnyOf(vec![0, 1, 2])], None);
    let (sent, exact) = query::translate(&tm, &page_of_users);
    assert!(exact);
    assert_eq!(sent.filter.unwrap().nodes, page_of_users.filter.unwrap().nodes);

    let named = query(
        vec![cmp("displayName", CompareOp::Sw, text("Ad")), member_eq("u1"), FilterNode::AllOf(vec![0, 1])],
        None,
    );
    let (sent, exact) = query::translate(&tm, &named);
    assert!(exact);
    assert_eq!(
        sent.filter.unwrap().nodes,
        vec![cmp("name", CompareOp::Sw, text("Ad")), member_eq("u1"), FilterNode::AllOf(vec![0, 1])]
    );

    // A client's path in any case still names the relation.
    let upper = query(vec![cmp("MEMBERS.VALUE", CompareOp::Eq, text("u1"))], None);
    assert_eq!(
        query::translate(&tm, &upper).0.filter.unwrap().nodes,
        vec![cmp("members.value", CompareOp::Eq, text("u1"))]
    );
}

#[test]
fn other_membership_comparisons_are_left_to_the_engine() {
    let tm = group_mapping();
    for op in [CompareOp::Ne, CompareOp::Co, CompareOp::Sw, CompareOp::Gt] {
        let (sent, exact) = query::translate(&tm, &query(vec![cmp("members.value", op, text("u1"))], None));
        assert!(!exact && sent.filter.is_none(), "{op:?}");
    }
    let (_, exact) = query::translate(&tm, &query(vec![cmp("members.display", CompareOp::Eq, text("Babs"))], None));
    assert!(!exact);
    let element =
        query(vec![cmp("value", CompareOp::Eq, text("u1")), FilterNode::ElementMatch("members".into(), 0)], None);
    assert!(!query::translate(&tm, &element).1);
    // One inexpressible alternative makes the whole `or` a question for the engine.
    let or = query(
        vec![member_eq("u1"), cmp("members.value", CompareOp::Co, text("u")), FilterNode::AnyOf(vec![0, 1])],
        None,
    );
    assert_eq!(query::translate(&tm, &or).0.filter, None);
    // Inside an `and`, the inexpressible part is dropped and the membership still narrows.
    let and = query(
        vec![member_eq("u1"), cmp("members.display", CompareOp::Eq, text("B")), FilterNode::AllOf(vec![0, 1])],
        None,
    );
    let (sent, exact) = query::translate(&tm, &and);
    assert!(!exact);
    assert_eq!(sent.filter.unwrap().nodes, vec![member_eq("u1")]);
}

#[test]
fn no_column_may_take_the_membership_path() {
    let err = Engine::new(r#"{"baseUrl":"x","mapping":{"Group":{"columns":{"displayName":"members.value"}}}}"#)
        .err()
        .unwrap();
    assert!(err.contains("reserved"), "{err}");
}

/// A host that answers the membership path from its relation, and says it applied everything.
struct Relational {
    inner: Boastful,
}

impl Store for Relational {
    fn get(&mut self, t: &str, id: &str, m: bool) -> StoreResult<Option<Stored>> {
        self.inner.get(t, id, m)
    }
    fn create(
        &mut self,
        t: &str,
        d: &str,
        u: &[crate::store::UniqueKey],
        m: &[crate::store::Member],
    ) -> StoreResult<Stored> {
        self.inner.create(t, d, u, m)
    }
    fn update(&mut self, c: &crate::store::Update) -> StoreResult<Stored> {
        self.inner.update(c)
    }
    fn delete(&mut self, t: &str, id: &str, v: Option<&str>) -> StoreResult<()> {
        self.inner.delete(t, id, v)
    }
    fn search(&mut self, q: &Query) -> StoreResult<Page> {
        let mut page = self.inner.search(q)?;
        if let Some([FilterNode::Compare(c)]) = q.filter.as_ref().map(|f| f.nodes.as_slice()) {
            let Literal::Text(member) = &c.value else { panic!("a text id") };
            if c.path != "members.value" {
                return Ok(page);
            }
            let mut with_members = q.clone();
            with_members.without_members = false;
            let all = self.inner.inner.search(&with_members)?.items;
            let holds =
                |id: &str| all.iter().any(|g| g.id == id && g.members.iter().flatten().any(|m| &m.value == member));
            page.items.retain(|g| holds(&g.id));
            page.total = Some(page.items.len() as u64);
        }
        Ok(page)
    }
    fn members(&mut self, t: &str, id: &str, s: u32, c: u32) -> StoreResult<Vec<crate::store::Member>> {
        self.inner.members(t, id, s, c)
    }
    fn resolve_principal(&mut self, p: &str) -> StoreResult<Option<(String, String)>> {
        self.inner.resolve_principal(p)
    }
}

#[test]
fn a_users_groups_come_from_one_membership_query_the_host_answers() {
    let e = engine();
    let mut store = Relational { inner: Boastful { inner: MemoryStore::new(), seen: vec![] } };
    let (_, user) = send(&e, &mut store, "POST", "/Users", "", Some(json!({"userName": "bjensen"})));
    let id = user["id"].as_str().unwrap();
    let (_, admins) =
        send(&e, &mut store, "POST", "/Groups", "", Some(json!({"displayName": "Admins", "members": [{"value": id}]})));
    send(&e, &mut store, "POST", "/Groups", "", Some(json!({"displayName": "Others"})));
    store.inner.seen.clear();
    let (status, got) = send(&e, &mut store, "GET", &format!("/Users/{id}"), "", None);
    assert_eq!(
        (status, got["groups"][0]["display"].as_str(), got["groups"].as_array().map(Vec::len)),
        (200, Some("Admins"), Some(1))
    );
    let group_searches: Vec<_> = store.inner.seen.iter().filter(|q| q.resource_type == "Group").collect();
    // The host's exact answer is not searched again; one more search finds that Admins is in no group.
    assert_eq!(group_searches.len(), 2);
    assert_eq!(group_searches[0].filter.as_ref().unwrap().nodes, vec![member_eq(id)]);
    assert_eq!(group_searches[1].filter.as_ref().unwrap().nodes, vec![member_eq(admins["id"].as_str().unwrap())]);
    assert!(group_searches.iter().all(|q| q.without_members));
}

#[test]
fn a_host_that_ignores_the_membership_path_still_gives_the_right_groups() {
    let e = engine();
    let mut store = MemoryStore::new();
    let (_, user) = send(&e, &mut store, "POST", "/Users", "", Some(json!({"userName": "bjensen"})));
    let id = user["id"].as_str().unwrap();
    send(&e, &mut store, "POST", "/Groups", "", Some(json!({"displayName": "Admins", "members": [{"value": id}]})));
    send(&e, &mut store, "POST", "/Groups", "", Some(json!({"displayName": "Others"})));
    let (_, got) = send(&e, &mut store, "GET", &format!("/Users/{id}"), "", None);
    assert_eq!(got["groups"].as_array().map(Vec::len), Some(1));
    let filter = format!("filter=members.value%20eq%20%22{id}%22");
    let (_, list) = send(&e, &mut store, "GET", "/Groups", &filter, None);
    assert_eq!(
        (list["totalResults"].as_u64(), list["Resources"][0]["displayName"].as_str()),
        (Some(1), Some("Admins"))
    );
}
