//! Hostile input: every limit answers a SCIM error before the work it bounds is done, and inputs found by
//! fuzzing stay fixed.

use crate::tests::harness::{Harness, BASE_URL};
use serde_json::{json, Value};

fn user_with(attr: &str, values: Vec<Value>) -> Value {
    json!({"userName": "many", attr: values})
}

fn limited(max: usize) -> Harness {
    Harness::with_config(&json!({"baseUrl": BASE_URL, "limits": {"maxMultiValues": max}}).to_string())
}

#[test]
fn a_list_over_max_multi_values_is_invalid_value() {
    let mut h = limited(3);
    let emails = |n: usize| (0..n).map(|i| json!({"value": format!("u{i}@example.com")})).collect::<Vec<_>>();
    h.post("/Users", &user_with("emails", emails(3))).expect(201);
    let detail = h.post("/Users", &user_with("emails", emails(4))).expect_error(400, Some("invalidValue"));
    assert!(detail.contains("at most 3"), "{detail}");
}

#[test]
fn members_over_max_multi_values_are_invalid_value() {
    let mut h = limited(2);
    let members: Vec<Value> = (0..3).map(|i| json!({"value": format!("m{i}")})).collect();
    let group = json!({"displayName": "g", "members": members});
    h.post("/Groups", &group).expect_error(400, Some("invalidValue"));
}

#[test]
fn the_default_limit_refuses_a_million_values_without_reading_them() {
    let roomy = json!({"baseUrl": BASE_URL, "limits": {"maxBodyBytes": 8_000_000}});
    let mut h = Harness::with_config(&roomy.to_string());
    let body = user_with("emails", vec![json!(0); 1_000_000]);
    h.post("/Users", &body).expect_error(400, Some("invalidValue"));
}

#[test]
fn many_distinct_members_are_accepted_in_linear_time() {
    let mut h = Harness::new();
    // Members must exist; they are written straight to the store, which is not what is measured.
    let ids: Vec<String> = (0..10_000)
        .map(|i| {
            crate::store::Store::create(
                &mut h.store,
                "User",
                &json!({"userName": format!("m{i}")}).to_string(),
                &[],
                &[],
            )
            .unwrap()
            .id
        })
        .collect();
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let started = std::time::Instant::now();
    let id = h.create("/Groups", &json!({"displayName": "big", "members": members}));
    assert!(started.elapsed().as_secs() < 10, "took {:?}", started.elapsed());
    let group = h.get(&format!("/Groups/{id}")).expect(200);
    assert_eq!(group["members"].as_array().map(Vec::len), Some(10_000));
}

#[test]
fn deeply_nested_json_is_invalid_syntax() {
    let mut h = Harness::new();
    let depth = 100_000;
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for (method, path) in [("POST", "/Users"), ("PUT", "/Users/x"), ("POST", "/.search"), ("POST", "/Groups/.search")] {
        let req = crate::http::Request {
            method: method.into(),
            path: path.into(),
            headers: vec![("Content-Type".into(), "application/scim+json".into())],
            body: Some(body.clone().into_bytes()),
            ..Default::default()
        };
        let resp = h.engine.handle(&mut h.store, h.now, None, &req);
        assert!(resp.status == 400 || resp.status == 404, "{method} {path}: {}", resp.status);
    }
}

#[test]
fn deep_json_inside_an_attribute_is_refused() {
    let mut h = Harness::new();
    let mut nested = json!("x");
    for _ in 0..100 {
        nested = json!({"value": nested});
    }
    h.post("/Users", &json!({"userName": "deep", "name": {"givenName": nested}}))
        .expect_error(400, Some("invalidValue"));
}

#[test]
fn filter_length_and_depth_limits_answer_invalid_filter() {
    let mut h = Harness::new();
    let ors = vec!["userName eq \"a\""; 10_000].join(" or ");
    let deep = format!("{}userName pr{}", "(".repeat(33), ")".repeat(33));
    for filter in [ors, deep] {
        h.post("/Users/.search", &json!({"filter": filter})).expect_error(400, Some("invalidFilter"));
    }
}

#[test]
fn count_is_cut_to_max_results() {
    let config = json!({"baseUrl": BASE_URL, "limits": {"maxResults": 2}});
    let mut h = Harness::with_config(&config.to_string());
    for i in 0..3 {
        h.create("/Users", &json!({"userName": format!("u{i}")}));
    }
    let page = h.get("/Users?count=4294967296").expect(200);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["totalResults"], 3);
    h.get("/Users?count=99999999999999999999").expect_error(400, None);
}

#[test]
fn more_candidates_than_max_candidates_is_too_many() {
    let config = json!({"baseUrl": BASE_URL, "limits": {"maxCandidates": 3}});
    let mut h = Harness::with_config(&config.to_string());
    for i in 0..3 {
        h.create("/Users", &json!({"userName": format!("u{i}")}));
    }
    // Storage that leaves the filter to the engine hands it every User: three is within the ceiling.
    let page = h.get("/Users?filter=userName%20ne%20%22u0%22&count=1").expect(200);
    assert_eq!((page["totalResults"].as_u64(), page["itemsPerPage"].as_u64()), (Some(2), Some(1)));
    h.create("/Users", &json!({"userName": "u3"}));
    let detail = h.get("/Users?filter=userName%20ne%20%22u0%22&count=1").expect_error(400, Some("tooMany"));
    assert!(detail.contains("more than 3"), "{detail}");
    h.post("/Users/.search", &json!({"sortBy": "name.givenName"})).expect_error(400, Some("tooMany"));
}

#[test]
fn a_page_of_candidates_is_sorted_and_cut_after_filtering() {
    let mut h = Harness::new();
    for (i, name) in ["d", "b", "a", "c", "e"].iter().enumerate() {
        h.create("/Users", &json!({"userName": format!("u{i}"), "name": {"givenName": name}}));
    }
    let page = h
        .get("/Users?filter=userName%20ne%20%22u4%22&sortBy=name.givenName&sortOrder=descending&startIndex=2&count=2")
        .expect(200);
    let names: Vec<&str> =
        page["Resources"].as_array().unwrap().iter().map(|r| r["name"]["givenName"].as_str().unwrap()).collect();
    assert_eq!((names, page["totalResults"].as_u64()), (vec!["c", "b"], Some(4)));
    let page = h.get("/Users?filter=userName%20ne%20%22u0%22&startIndex=2&count=2").expect(200);
    let users: Vec<&str> =
        page["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap()).collect();
    assert_eq!((users, page["totalResults"].as_u64()), (vec!["u2", "u3"], Some(4)));
}
