//! The engine's hot paths, natively and through the component, so that the cost of the component boundary
//! is a number: `cargo bench -p scimkit-bench --bench engine`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use scimkit_guest::config::Config;
use scimkit_guest::http::Request;
use scimkit_guest::store::memory::MemoryStore;
use scimkit_guest::{filter, Engine};
use scimkit_runtime::bindings::HttpRequest;
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::memory::MemoryStorage;
use scimkit_runtime::provider::Provider;
use serde_json::{json, Value};
use std::hint::black_box;
use std::sync::Arc;

const CONFIG: &str = r#"{"baseUrl":"https://example.com/scim/v2"}"#;
const COMPLEX: &str =
    r#"emails[type eq "work" and value co "@example.com"] and active eq true or (userName sw "bj" and not (title pr))"#;

fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": format!("user{i}"), "externalId": format!("ext-{i}"), "displayName": format!("User {i}"),
        "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen III"},
        "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true}, {"value": format!("u{i}@home.org"), "type": "home"}],
        "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
        "addresses": [{"streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "USA", "type": "work"}],
        "active": true, "title": "Tour Guide",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "department": "Tour Operations"}
    })
}

fn request(method: &str, path: &str, query: &str, body: Option<&Value>) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("content-type".into(), "application/scim+json".into())],
        body: body.map(|b| b.to_string().into_bytes()),
    }
}

fn to_wit(r: &Request) -> HttpRequest {
    HttpRequest {
        method: r.method.clone(),
        path: r.path.clone(),
        query: r.query.clone(),
        headers: r.headers.clone(),
        body: r.body.clone(),
    }
}

fn hot_paths(c: &mut Criterion) {
    let cfg = Config::from_json(CONFIG).unwrap();
    let rt = cfg.registry.resource_type("User").unwrap().clone();
    c.bench_function("filter/parse", |b| b.iter(|| filter::parse_filter(black_box(COMPLEX)).unwrap()));
    let parsed = filter::parse_filter(COMPLEX).unwrap();
    let resource = user(7);
    c.bench_function("filter/evaluate", |b| {
        b.iter(|| filter::matches(&cfg, &rt, black_box(&parsed), black_box(&resource)).unwrap())
    });
    let text = user(7).to_string();
    c.bench_function("json/parse", |b| b.iter(|| serde_json::from_str::<Value>(black_box(&text)).unwrap()));
    c.bench_function("json/print", |b| b.iter(|| serde_json::to_string(black_box(&resource)).unwrap()));
    c.bench_function("validate/user", |b| {
        b.iter(|| scimkit_guest::resource::ingest(&cfg, &rt, black_box(user(7)), None).unwrap())
    });
    let projection =
        scimkit_guest::projection::Projection::from_params(&cfg, &rt, Some("userName,emails.value"), None).unwrap();
    c.bench_function("project/user", |b| b.iter(|| projection.apply(&cfg, &rt, black_box(resource.clone()))));
}

/// One request natively (engine over its own in-memory store) and through the component (wasmtime,
/// instance reused, host in-memory storage): the ratio is the boundary's cost.
fn per_request(c: &mut Criterion) {
    let engine = Engine::new(CONFIG).unwrap();
    let mut store = MemoryStore::new();
    let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let runtime = Arc::new(Runtime::new(EMBEDDED, None, GuestLimits::default()).unwrap());
    let provider = Provider::new(runtime, CONFIG.into(), Arc::new(MemoryStorage::new()), 1).unwrap();
    let mut native_id = String::new();
    let mut component_id = String::new();
    for i in 0..200 {
        let post = request("POST", "/Users", "", Some(&user(i)));
        let n = engine.handle(&mut store, now, None, &post);
        let w = provider.handle(None, to_wit(&post));
        if i == 100 {
            native_id = serde_json::from_slice::<Value>(&n.body).unwrap()["id"].as_str().unwrap().to_string();
            component_id = serde_json::from_slice::<Value>(&w.body).unwrap()["id"].as_str().unwrap().to_string();
        }
    }
    let cases = [
        ("get", "GET", "/Users/{id}".to_string(), "".to_string()),
        ("get-projected", "GET", "/Users/{id}".to_string(), "attributes=userName,emails".to_string()),
        ("filter-eq", "GET", "/Users".to_string(), "filter=userName%20eq%20%22user100%22".to_string()),
        ("discovery", "GET", "/ServiceProviderConfig".to_string(), "".to_string()),
        ("list-50", "GET", "/Users".to_string(), "startIndex=1&count=50".to_string()),
    ];
    let mut group = c.benchmark_group("request");
    for (name, method, path, query) in &cases {
        let native = request(method, &path.replace("{id}", &native_id), query, None);
        let wasm = to_wit(&request(method, &path.replace("{id}", &component_id), query, None));
        group.bench_with_input(BenchmarkId::new("native", name), &native, |b, r| {
            b.iter(|| engine.handle(&mut store, now, None, r))
        });
        group.bench_with_input(BenchmarkId::new("component", name), &wasm, |b, r| {
            b.iter(|| provider.handle(None, r.clone()))
        });
    }
    group.finish();
}

criterion_group!(benches, hot_paths, per_request);
criterion_main!(benches);
