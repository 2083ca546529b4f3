//! scimkit as a C library (`include/scimkit.h`), for languages with a C foreign-function interface, and the
//! JNI entry points of the Java binding (`java`).
//!
//! Every exported function catches panics and checks its pointers: a fault here must never unwind into,
//! or crash, the interpreter that loaded the library.

mod cache;
mod java;
mod json;
mod storage;

use scimkit_runtime::bindings::{HttpRequest, HttpResponse};
use scimkit_runtime::provider::{error_response, Provider};
use serde_json::{json, Value};
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use storage::{Callback, StorageCb};

/// One engine handle: a shared instance pool and the caller's storage callback.
pub struct ScimkitEngine {
    provider: Arc<Provider>,
    callback: Callback,
}

/// An optional C string; `Err` when not UTF-8.
unsafe fn opt_str<'a>(p: *const c_char) -> Result<Option<&'a str>, String> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p).to_str().map(Some).map_err(|_| "a string argument is not UTF-8".to_string())
}

/// An owned C string for the caller (free with `scimkit_free`). Interior NULs cannot occur in JSON text.
fn to_c(s: String) -> *mut c_char {
    CString::new(s).map(CString::into_raw).unwrap_or(std::ptr::null_mut())
}

unsafe fn set_error(error_out: *mut *mut c_char, message: String) {
    if !error_out.is_null() {
        *error_out = to_c(message);
    }
}

/// Creates an engine. `component_path` null: the component built into this library. `cache_dir` null:
/// next to the component. On failure returns null and, when `error_out` is not null, a message there.
///
/// # Safety
/// String arguments are null or NUL-terminated; `error_out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn scimkit_engine_new(
    component_path: *const c_char,
    cache_dir: *const c_char,
    config_json: *const c_char,
    callback: Option<StorageCb>,
    user: *mut c_void,
    error_out: *mut *mut c_char,
) -> *mut ScimkitEngine {
    let made = catch_unwind(AssertUnwindSafe(|| -> Result<*mut ScimkitEngine, String> {
        let cb = callback.ok_or("the storage callback is null")?;
        let config = opt_str(config_json)?.ok_or("the configuration is null")?;
        let component = opt_str(component_path)?.map(Path::new);
        let cache = opt_str(cache_dir)?.map(Path::new);
        let provider = cache::provider(component, cache, config).map_err(|e| format!("{e:#}"))?;
        Ok(Box::into_raw(Box::new(ScimkitEngine { provider, callback: Callback { cb, user } })))
    }));
    match made {
        Ok(Ok(engine)) => engine,
        Ok(Err(message)) => {
            set_error(error_out, message);
            std::ptr::null_mut()
        }
        Err(_) => {
            set_error(error_out, "internal error while creating the engine".into());
            std::ptr::null_mut()
        }
    }
}

/// Releases an engine handle (null is ignored). The instance pool stays cached for the next handle.
///
/// # Safety
/// `engine` comes from `scimkit_engine_new` and is freed once.
#[no_mangle]
pub unsafe extern "C" fn scimkit_engine_free(engine: *mut ScimkitEngine) {
    if !engine.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(engine))));
    }
}

/// `[["Name","value"], …]` or `{"Name": "value", …}`; a list value repeats the header.
fn headers(v: Value) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    let mut out = Vec::new();
    match v {
        Value::Array(pairs) => {
            for p in pairs {
                if let [k, v] = p.as_array().map(Vec::as_slice).unwrap_or_default() {
                    out.push((text(k), text(v)));
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Array(vs) => out.extend(vs.iter().map(|v| (k.clone(), text(v)))),
                    v => out.push((k, text(&v))),
                }
            }
        }
        _ => {}
    }
    out
}

fn response_json(r: HttpResponse) -> String {
    let headers: Vec<[String; 2]> = r.headers.into_iter().map(|(k, v)| [k, v]).collect();
    json!({"status": r.status, "headers": headers, "body": String::from_utf8_lossy(&r.body)}).to_string()
}

/// Answers one request below the SCIM base. Returns `{"status":…,"headers":[[name,value],…],"body":"…"}`
/// (free with `scimkit_free`); never null except when out of memory. Bad arguments answer 500.
///
/// # Safety
/// `engine` is a live handle; strings are null or NUL-terminated; `body` points to `body_len` bytes or is null.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn scimkit_handle(
    engine: *const ScimkitEngine,
    method: *const c_char,
    path: *const c_char,
    query: *const c_char,
    headers_json: *const c_char,
    body: *const u8,
    body_len: usize,
    principal: *const c_char,
) -> *mut c_char {
    let answered = catch_unwind(AssertUnwindSafe(|| -> Result<HttpResponse, String> {
        let engine = engine.as_ref().ok_or("the engine is null")?;
        let header_list = match opt_str(headers_json)? {
            Some(text) => headers(serde_json::from_str(text).map_err(|e| format!("headers: {e}"))?),
            None => Vec::new(),
        };
        let req = HttpRequest {
            method: opt_str(method)?.unwrap_or("GET").to_ascii_uppercase(),
            path: opt_str(path)?.unwrap_or("/").to_string(),
            query: opt_str(query)?.unwrap_or("").to_string(),
            headers: header_list,
            body: (!body.is_null()).then(|| std::slice::from_raw_parts(body, body_len).to_vec()),
        };
        let who = opt_str(principal)?.map(str::to_string);
        Ok(storage::with_callback(engine.callback, || engine.provider.handle(who, req))
            .unwrap_or_else(|p| p.response()))
    }));
    let resp = match answered {
        Ok(Ok(r)) => r,
        Ok(Err(message)) => error_response(500, &format!("scimkit_handle: {message}")),
        Err(_) => error_response(500, "the request could not be completed"),
    };
    to_c(response_json(resp))
}

/// Called by a storage callback, once, with its JSON answer; the text is copied.
///
/// # Safety
/// `reply` is the pointer the callback received; `json` is null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn scimkit_reply(reply: *mut c_void, json: *const c_char) {
    let _ = catch_unwind(AssertUnwindSafe(|| storage::set_reply(reply, json)));
}

/// Frees a string returned by this library (null is ignored).
///
/// # Safety
/// `s` comes from this library and is freed once.
#[no_mangle]
pub unsafe extern "C" fn scimkit_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(CString::from_raw(s))));
    }
}

#[cfg(test)]
mod tests;
