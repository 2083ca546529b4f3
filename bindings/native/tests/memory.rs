//! Memory stays flat over many requests through the C ABI: neither the host side (bytes allocated and
//! not freed, process RSS) nor the guest (its linear memory, which never shrinks once grown) may keep
//! anything per request. A leak of a few bytes per request breaks the bounds below. Its own test binary,
//! so its own process.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use scimkit_native::{scimkit_engine_free, scimkit_engine_new, scimkit_free, scimkit_handle, scimkit_reply};
use serde_json::{json, Value};
use std::ffi::{c_char, c_void, CStr, CString};

/// One user slot: enough for every operation to succeed without the storage itself growing.
struct Slot {
    data: Option<Value>,
    version: u64,
}

unsafe extern "C" fn callback(user: *mut c_void, op: *const c_char, args: *const c_char, reply: *mut c_void) -> i32 {
    let slot = &mut *user.cast::<Slot>();
    let args: Value = serde_json::from_str(CStr::from_ptr(args).to_str().unwrap()).unwrap();
    let row = |s: &Slot| json!({"id": "1", "version": s.version.to_string(), "data": s.data});
    let answer = match CStr::from_ptr(op).to_str().unwrap() {
        "create" => {
            (slot.data, slot.version) = (Some(args["data"].clone()), 1);
            row(slot)
        }
        "update" if slot.data.is_some() => {
            if let Some(data) = args["data"].as_object() {
                slot.data = Some(Value::Object(data.clone()));
            }
            slot.version += 1;
            row(slot)
        }
        "get" if slot.data.is_some() && args["id"] == "1" => row(slot),
        "get" => Value::Null,
        "search" => {
            let items: Vec<Value> = slot.data.iter().map(|_| row(slot)).collect();
            json!({"items": items, "total": null, "applied": "nothing"})
        }
        "delete" if slot.data.take().is_some() => Value::Null,
        // Every write is allowed; a change heard needs no answer.
        "event-check" | "event-changed" => Value::Null,
        _ => json!({"error": "not-found", "detail": "no such row"}),
    };
    let text = CString::new(answer.to_string()).unwrap();
    scimkit_reply(reply, text.as_ptr());
    0
}

fn status(
    engine: *const scimkit_native::ScimkitEngine,
    method: &str,
    path: &str,
    query: &str,
    body: Option<&str>,
) -> u64 {
    let (m, p, q) = (CString::new(method).unwrap(), CString::new(path).unwrap(), CString::new(query).unwrap());
    let headers = CString::new(r#"{"Content-Type":"application/scim+json"}"#).unwrap();
    let (ptr, len) = body.map_or((std::ptr::null(), 0), |b| (b.as_ptr(), b.len()));
    unsafe {
        let out =
            scimkit_handle(engine, m.as_ptr(), p.as_ptr(), q.as_ptr(), headers.as_ptr(), ptr, len, std::ptr::null());
        let v: Value = serde_json::from_str(CStr::from_ptr(out).to_str().unwrap()).unwrap();
        scimkit_free(out);
        v["status"].as_u64().unwrap()
    }
}

/// One round of a client's life: create, read, search, change, delete, and requests that fail.
fn round(engine: *const scimkit_native::ScimkitEngine) {
    let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#;
    let steps = [
        ("POST", "/Users", "", Some(r#"{"userName":"bjensen","active":true,"title":"Boss"}"#), 201),
        ("GET", "/Users/1", "", None, 200),
        ("GET", "/Users", "filter=userName%20eq%20%22bjensen%22&sortBy=userName", None, 200),
        ("PATCH", "/Users/1", "", Some(patch), 200),
        ("PUT", "/Users/1", "", Some(r#"{"userName":"bjensen","active":true}"#), 200),
        ("POST", "/Users", "", Some("{not json"), 400),
        ("GET", "/Users", "filter=userName%20zz", None, 400),
        ("DELETE", "/Users/1", "", None, 204),
        ("GET", "/Users/1", "", None, 404),
    ];
    for (method, path, query, body, want) in steps {
        assert_eq!(status(engine, method, path, query, body), want, "{method} {path}?{query}");
    }
}

/// glibc's `struct mallinfo2`: `uordblks` is the bytes allocated and not yet freed (Rust's allocator on
/// Linux is malloc). RSS alone would not show a small leak: freed warm-up memory stays resident and
/// absorbs it.
#[repr(C)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

extern "C" {
    fn mallinfo2() -> MallInfo2;
}

fn heap_in_use() -> usize {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct.
    unsafe { mallinfo2() }.uordblks
}

/// Process RSS, and the size of the wasm linear memories: the read-write mappings that run up to the
/// inaccessible rest of an address reservation of at least 1 GiB (wasmtime reserves it whole up front).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let (mut linear, mut run_start, mut prev_end) = (0, None::<u64>, 0);
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (range, perms) = (fields.next().unwrap(), fields.next().unwrap());
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (u64::from_str_radix(start, 16).unwrap(), u64::from_str_radix(end, 16).unwrap());
        let contiguous = prev_end == start;
        match (perms, run_start) {
            ("---p", Some(run)) if contiguous && end - run >= 1 << 30 => linear += (start - run) >> 10,
            _ => {}
        }
        run_start = match (perms, run_start) {
            ("rw-p", Some(run)) if contiguous => Some(run),
            ("rw-p", _) => Some(start),
            _ => None,
        };
        prev_end = end;
    }
    (rss, linear)
}

#[test]
fn thousands_of_requests_leave_host_and_guest_memory_flat() {
    let mut slot = Slot { data: None, version: 0 };
    let config = CString::new(
        r#"{"baseUrl":"https://app/scim/v2","mapping":{"User":{"columns":{"userName":"username","active":{"column":"active","type":"boolean01"}},"rest":"extra"}}}"#,
    )
    .unwrap();
    let mut error = std::ptr::null_mut();
    let user = (&mut slot as *mut Slot).cast();
    let engine = unsafe {
        scimkit_engine_new(std::ptr::null(), std::ptr::null(), config.as_ptr(), Some(callback), user, &mut error)
    };
    assert!(!engine.is_null(), "{}", unsafe { CStr::from_ptr(error).to_string_lossy() });
    for _ in 0..300 {
        round(engine);
    }
    let ((rss, linear), heap) = (memory_kib(), heap_in_use());
    assert!(linear > 0, "no wasm linear memory found in /proc/self/maps");
    const ROUNDS: usize = 2500; // 22,500 requests: a leak of 8 bytes each is 176 KiB
    for _ in 0..ROUNDS {
        round(engine);
    }
    let ((rss_after, linear_after), heap_after) = (memory_kib(), heap_in_use());
    eprintln!("heap {heap} -> {heap_after} B, rss {rss} -> {rss_after} KiB, linear {linear} -> {linear_after} KiB");
    unsafe { scimkit_engine_free(engine) };
    assert_eq!(linear_after, linear, "the guest's linear memory grew (KiB) over {ROUNDS} rounds");
    assert!(heap_after < heap + (64 << 10), "allocated bytes grew from {heap} to {heap_after} over {ROUNDS} rounds");
    assert!(rss_after < rss + 256, "RSS grew from {rss} to {rss_after} KiB over {ROUNDS} rounds");
}
