//! The C ABI driven as a C caller would, with the component built into the library.

use super::*;
use std::ffi::CString;

/// A storage of flat rows, answering the callback protocol; `mode` makes it misbehave.
#[derive(Default)]
struct Rows {
    rows: Vec<(String, Value)>,
    ops: Vec<(String, Value)>,
    mode: &'static str,
}

unsafe extern "C" fn callback(user: *mut c_void, op: *const c_char, args: *const c_char, reply: *mut c_void) -> i32 {
    let rows = &mut *user.cast::<Rows>();
    let op = CStr::from_ptr(op).to_str().unwrap().to_string();
    let args: Value = serde_json::from_str(CStr::from_ptr(args).to_str().unwrap()).unwrap();
    rows.ops.push((op.clone(), args.clone()));
    let answer = match (rows.mode, op.as_str()) {
        ("fail", _) => return 7,
        ("silent", _) => return 0,
        ("veto", "event-check") if args["after"]["userName"] == "root" => {
            json!({"refuse": {"status": 403, "scimType": null, "detail": "root is reserved"}})
        }
        ("veto", "event-check") => Value::Null,
        (_, "event-check" | "event-changed") => json!({"error": "unsupported"}),
        (_, "create") => {
            let id = (rows.rows.len() + 1).to_string();
            rows.rows.push((id.clone(), args["data"].clone()));
            json!({"id": id.parse::<u32>().unwrap(), "version": 1, "data": args["data"]})
        }
        (_, "get") => match rows.rows.iter().find(|(id, _)| id == args["id"].as_str().unwrap()) {
            Some((id, data)) => json!({"id": id, "version": "1", "data": data.to_string()}),
            None => Value::Null,
        },
        (_, "search") => {
            let items: Vec<Value> =
                rows.rows.iter().map(|(id, d)| json!({"id": id, "version": "1", "data": d})).collect();
            json!({"items": items, "total": null, "applied": "nothing"})
        }
        _ => json!({"error": "not-found", "detail": "no such row"}),
    };
    let text = CString::new(answer.to_string()).unwrap();
    scimkit_reply(reply, text.as_ptr());
    0
}

const CONFIG: &str = r#"{"baseUrl":"https://app/scim/v2","mapping":{"User":{"columns":{"userName":"username","active":{"column":"active","type":"boolean01"}}}}}"#;

fn engine(rows: &mut Rows) -> *mut ScimkitEngine {
    let config = CString::new(CONFIG).unwrap();
    let mut error = std::ptr::null_mut();
    let user = (rows as *mut Rows).cast();
    let e = unsafe {
        scimkit_engine_new(std::ptr::null(), std::ptr::null(), config.as_ptr(), Some(callback), user, &mut error)
    };
    assert!(!e.is_null(), "{}", unsafe { CStr::from_ptr(error).to_string_lossy() });
    e
}

fn send(e: *const ScimkitEngine, method: &str, path: &str, query: &str, body: Option<&str>) -> Value {
    let (m, p, q) = (CString::new(method).unwrap(), CString::new(path).unwrap(), CString::new(query).unwrap());
    let headers = CString::new(r#"{"Content-Type":"application/scim+json"}"#).unwrap();
    let (ptr, len) = body.map_or((std::ptr::null(), 0), |b| (b.as_ptr(), b.len()));
    unsafe {
        let out = scimkit_handle(e, m.as_ptr(), p.as_ptr(), q.as_ptr(), headers.as_ptr(), ptr, len, std::ptr::null());
        let v = serde_json::from_str(CStr::from_ptr(out).to_str().unwrap()).unwrap();
        scimkit_free(out);
        v
    }
}

fn body(resp: &Value) -> Value {
    serde_json::from_str(resp["body"].as_str().unwrap()).unwrap_or(Value::Null)
}

#[test]
fn requests_round_trip_through_the_callback_in_host_columns() {
    let mut rows = Rows::default();
    let e = engine(&mut rows);
    let created = send(e, "POST", "/Users", "", Some(r#"{"userName":"bjensen","active":true}"#));
    assert_eq!(created["status"], 201, "{created}");
    let create = &rows.ops.iter().find(|(op, _)| op == "create").unwrap().1;
    assert_eq!(create["data"], json!({"username": "bjensen", "active": 1}));
    assert_eq!(create["unique"], json!([{"attribute": "username", "value": "bjensen"}]));
    let got = send(e, "GET", "/Users/1", "", None);
    assert_eq!((got["status"].as_u64(), body(&got)["active"].as_bool()), (Some(200), Some(true)));
    let list = send(e, "GET", "/Users", "filter=userName%20eq%20%22bjensen%22", None);
    assert_eq!(body(&list)["totalResults"], 1);
    // The User search: rendering a User's computed `groups` searches Groups after it.
    let search = &rows.ops.iter().rev().find(|(op, a)| op == "search" && a["resourceType"] == "User").unwrap().1;
    assert_eq!(search["filter"]["op"], "eq");
    assert_eq!(search["filter"]["path"], "username");
    assert_eq!(send(e, "DELETE", "/Users/9", "", None)["status"], 404);
    unsafe { scimkit_engine_free(e) };
}

#[test]
fn the_callback_vetoes_a_write_and_hears_the_changes_in_scim_form() {
    let mut rows = Rows { mode: "veto", ..Default::default() };
    let e = engine(&mut rows);
    let refused = send(e, "POST", "/Users", "", Some(r#"{"userName":"root"}"#));
    assert_eq!((refused["status"].as_u64(), body(&refused)["detail"].as_str()), (Some(403), Some("root is reserved")));
    assert!(rows.rows.is_empty(), "nothing written");
    assert_eq!(send(e, "POST", "/Users", "", Some(r#"{"userName":"ann","active":true}"#))["status"], 201);
    let changed = &rows.ops.iter().find(|(op, _)| op == "event-changed").unwrap().1;
    assert_eq!((changed["id"].as_str(), changed["version"].as_str()), (Some("1"), Some("1")));
    assert_eq!((&changed["operations"], &changed["after"]["userName"]), (&json!(["create"]), &json!("ann")));
    unsafe { scimkit_engine_free(e) };
}

#[test]
fn a_failing_or_silent_callback_is_a_scim_500() {
    for mode in ["fail", "silent"] {
        let mut rows = Rows { mode, ..Default::default() };
        let e = engine(&mut rows);
        let r = send(e, "GET", "/Users/1", "", None);
        assert_eq!(r["status"], 500, "{mode}: {r}");
        assert_eq!(body(&r)["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        unsafe { scimkit_engine_free(e) };
    }
}

/// A storage that calls another engine while answering, as an application looking something up may.
struct Nesting {
    rows: Rows,
    inner: *const ScimkitEngine,
    inner_statuses: Vec<u64>,
}

unsafe extern "C" fn nesting(user: *mut c_void, op: *const c_char, args: *const c_char, reply: *mut c_void) -> i32 {
    let n = &mut *user.cast::<Nesting>();
    let inner = send(n.inner, "GET", "/ServiceProviderConfig", "", None);
    n.inner_statuses.push(inner["status"].as_u64().unwrap());
    callback((&mut n.rows as *mut Rows).cast(), op, args, reply)
}

#[test]
fn a_storage_may_call_an_engine_while_answering() {
    let mut inner_rows = Rows::default();
    let inner = engine(&mut inner_rows);
    let mut n = Nesting { rows: Rows::default(), inner, inner_statuses: Vec::new() };
    let config = CString::new(CONFIG).unwrap();
    let mut error = std::ptr::null_mut();
    let user = (&mut n as *mut Nesting).cast();
    let outer = unsafe {
        scimkit_engine_new(std::ptr::null(), std::ptr::null(), config.as_ptr(), Some(nesting), user, &mut error)
    };
    assert!(!outer.is_null());
    let created = send(outer, "POST", "/Users", "", Some(r#"{"userName":"nested"}"#));
    assert_eq!(created["status"], 201, "{created}");
    assert!(!n.inner_statuses.is_empty() && n.inner_statuses.iter().all(|s| *s == 200), "{:?}", n.inner_statuses);
    assert_eq!(send(outer, "GET", "/Users/1", "", None)["status"], 200, "the thread still serves");
    unsafe {
        scimkit_engine_free(outer);
        scimkit_engine_free(inner);
    }
}

#[test]
fn null_and_bad_arguments_are_refused_without_crashing() {
    let r = send(std::ptr::null(), "GET", "/Users", "", None);
    assert_eq!(r["status"], 500);
    let config = CString::new(r#"{"baseUrl":"x","bogus":1}"#).unwrap();
    let mut error = std::ptr::null_mut();
    unsafe {
        let e = scimkit_engine_new(
            std::ptr::null(),
            std::ptr::null(),
            config.as_ptr(),
            Some(callback),
            std::ptr::null_mut(),
            &mut error,
        );
        assert!(e.is_null());
        assert!(CStr::from_ptr(error).to_string_lossy().contains("bogus"));
        scimkit_free(error);
        let e = scimkit_engine_new(
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        assert!(e.is_null());
        scimkit_reply(std::ptr::null_mut(), std::ptr::null());
        scimkit_free(std::ptr::null_mut());
        scimkit_engine_free(std::ptr::null_mut());
    }
}
