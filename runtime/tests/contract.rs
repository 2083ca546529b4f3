//! The runtime over the component, through the contract's resources: a configured service answers over the
//! in-memory store, refused configurations say why, and the mapper and provisioner are made the same way.

use scimkit_runtime::bindings::{HttpRequest, HttpResponse, Outcome, TransportError};
use scimkit_runtime::component::EMBEDDED;
use scimkit_runtime::engine::{GuestLimits, Runtime};
use scimkit_runtime::memory::MemoryStorage;
use scimkit_runtime::provider::Provider;
use scimkit_runtime::provisioning::{Mapper, Provisioner};
use scimkit_runtime::transport::Transport;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME.get_or_init(|| Arc::new(Runtime::new(EMBEDDED, None, GuestLimits::default()).unwrap())).clone()
}

fn request(method: &str, path: &str, body: Option<Value>) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers: vec![("Content-Type".into(), "application/scim+json".into())],
        body: body.map(|b| b.to_string().into_bytes()),
    }
}

fn json_of(resp: &HttpResponse) -> Value {
    serde_json::from_slice(&resp.body).unwrap()
}

#[test]
fn a_service_provider_creates_and_reads_over_the_memory_store() {
    let config = json!({"baseUrl": "https://app.example.com/scim/v2"}).to_string();
    let provider = Provider::new(runtime(), config, Arc::new(MemoryStorage::default()), 2).unwrap();
    let created = provider.handle(None, request("POST", "/Users", Some(json!({"userName": "bjensen"}))));
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let id = json_of(&created)["id"].as_str().unwrap().to_string();
    let read = provider.handle(None, request("GET", &format!("/Users/{id}"), None));
    assert_eq!((read.status, json_of(&read)["userName"].clone()), (200, json!("bjensen")));
    assert_eq!(json_of(&read)["meta"]["location"], json!(format!("https://app.example.com/scim/v2/Users/{id}")));
}

#[test]
fn refused_configurations_say_what_is_wrong() {
    let store = || Arc::new(MemoryStorage::default());
    let e = Provider::new(runtime(), "{\"baseUrl\": ".into(), store(), 1).err().unwrap();
    assert!(format!("{e:#}").contains("not a JSON object"), "{e:#}");
    let e = Provider::new(runtime(), "[]".into(), store(), 1).err().unwrap();
    assert!(format!("{e:#}").contains("not a JSON object"), "{e:#}");
    let e = Provider::new(runtime(), json!({"baseUrl": ""}).to_string(), store(), 1).err().unwrap();
    assert!(format!("{e:#}").contains("refused its configuration: configuration: baseUrl"), "{e:#}");
    let e = Mapper::new(runtime(), "{\"attributes\": [{\"target\": \"userName\"}]}").err().unwrap();
    assert!(format!("{e:#}").contains("attributes[0] (userName)"), "{e:#}");
    let e = Provisioner::new(runtime(), "not json").err().unwrap();
    assert!(format!("{e:#}").contains("not a JSON object"), "{e:#}");
}

/// A target that cannot be reached.
struct Down;

impl Transport for Down {
    fn send(&mut self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Unreachable("connection refused".into()))
    }
}

#[test]
fn the_provisioner_reports_a_transport_failure_with_the_steps_done() {
    let mapping = json!({"attributes": [{"target": "userName", "from": "uid"}]});
    let config = json!({"services": {"app": {"enabled": true, "mapping": mapping}}}).to_string();
    let mut p = Provisioner::new(runtime(), &config).unwrap();
    p.set_transport(Box::new(Down));
    let report = p.provision("app", &vec![("uid".into(), vec!["jdoe".into()])]).unwrap();
    assert!(
        matches!(&report.outcome, Outcome::Failed(why) if why.contains("unreachable: connection refused")),
        "{report:?}"
    );
    assert_eq!((report.steps.len(), report.steps[0].status), (1, None), "{report:?}");
    let mut m = Mapper::new(runtime(), &mapping.to_string()).unwrap();
    let resources = m.to_resources(&vec![("uid".into(), vec!["jdoe".into()])]).unwrap().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&resources[0]).unwrap()["userName"], json!("jdoe"));
}

/// Refuses a `userName` of `root`; records what it is told.
#[derive(Default)]
struct Veto(std::sync::Mutex<Vec<(Vec<&'static str>, String)>>);

impl scimkit_runtime::events::Hooks for Veto {
    fn check(&self, change: &scimkit_runtime::events::ChangeEvent) -> scimkit_runtime::events::Verdict {
        use scimkit_runtime::events::{Refusal, Verdict};
        match change.after.as_deref().is_some_and(|a| a.contains("\"root\"")) {
            true => Verdict::Refuse(Refusal { status: 403, scim_type: None, detail: "root is reserved".into() }),
            false => Verdict::Allow,
        }
    }

    fn changed(&self, change: &scimkit_runtime::events::ChangeEvent, version: &str) {
        let ops = change.operations.iter().map(|o| o.name()).collect();
        self.0.lock().unwrap().push((ops, version.to_string()));
    }
}

#[test]
fn hooks_veto_and_hear_writes_and_the_memory_store_journals_them_with_their_ids() {
    let config = json!({"baseUrl": "https://app.example.com/scim/v2"}).to_string();
    let (store, hooks) = (Arc::new(MemoryStorage::default()), Arc::new(Veto::default()));
    let provider = Provider::with_hooks(runtime(), config, store.clone(), hooks.clone(), 2).unwrap();
    let refused = provider.handle(None, request("POST", "/Users", Some(json!({"userName": "root"}))));
    assert_eq!((refused.status, json_of(&refused)["detail"].clone()), (403, json!("root is reserved")));
    let created = provider.handle(None, request("POST", "/Users", Some(json!({"userName": "ann", "password": "pw"}))));
    let id = json_of(&created)["id"].as_str().unwrap().to_string();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(provider.handle(None, request("PATCH", &format!("/Users/{id}"), Some(patch))).status, 200);
    assert_eq!(provider.handle(None, request("DELETE", &format!("/Users/{id}"), None)).status, 204);
    let heard = hooks.0.lock().unwrap().clone();
    let expected = [(vec!["create"], "1"), (vec!["patch", "deactivated"], "2"), (vec!["delete"], "")];
    assert_eq!(heard, expected.map(|(o, v)| (o, v.to_string())));
    let journal = store.journal();
    assert_eq!(journal.len(), 3, "the refused create is not journaled");
    assert!(journal.iter().all(|c| c.id == id), "{journal:?}");
    assert!(journal.iter().all(|c| !c.after.as_deref().unwrap_or_default().contains("pw")));
}
