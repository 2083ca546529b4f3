//! `org.scimkit.ScimProvider`: the engine of the C ABI (cached instance pools, storage as one callback), with
//! the callback answered by the Java `StorageBridge` in the JSON of include/scimkit.h.

use super::{guard, optional, string, string_array, Result};
use crate::cache;
use crate::storage::{self, Callback};
use jni::objects::{GlobalRef, JByteArray, JClass, JObject, JObjectArray, JString, JValue};
use jni::sys::{jlong, jobjectArray};
use jni::{JNIEnv, JavaVM};
use scimkit_runtime::bindings::HttpRequest;
use scimkit_runtime::provider::Provider;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

/// What the storage callback of one `handle` call reaches: the JVM and that call's `StorageBridge`.
struct JavaStorage {
    vm: JavaVM,
    bridge: GlobalRef,
}

/// The storage callback (`scimkit_storage_cb`): `bridge.answer(op, args)` returns the reply JSON and never
/// throws. Any failure, a panic included, returns non-zero, which the request answers as a SCIM 500.
unsafe extern "C" fn answer(user: *mut c_void, op: *const c_char, args: *const c_char, reply: *mut c_void) -> i32 {
    let done = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        // SAFETY: `user` is the `JavaStorage` of the running `providerHandle`, alive until it returns; the engine
        // passes NUL-terminated strings.
        let target = &*user.cast::<JavaStorage>();
        let (op, args) = (CStr::from_ptr(op).to_str()?, CStr::from_ptr(args).to_str()?);
        // The engine calls back on the thread of `handle`, a Java thread already attached: this attaches
        // nothing then, and would attach (until the guard drops) any other thread.
        let mut env = target.vm.attach_current_thread()?;
        let text = env.with_local_frame(4, |env| -> Result<String> {
            let (op, args) = (env.new_string(op)?, env.new_string(args)?);
            let out = env
                .call_method(
                    &target.bridge,
                    "answer",
                    "(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;",
                    &[JValue::Object(&op), JValue::Object(&args)],
                )?
                .l()?;
            anyhow::ensure!(!out.is_null(), "the Java storage gave no reply");
            Ok(env.get_string(&JString::from(out))?.into())
        });
        // An exception escaping the bridge (an Error it could not catch) stays on the Java side.
        if env.exception_check().unwrap_or(false) {
            let _ = env.exception_clear();
            anyhow::bail!("the Java storage threw");
        }
        let text = CString::new(text?)?;
        storage::set_reply(reply, text.as_ptr());
        Ok(())
    }));
    match done {
        Ok(Ok(())) => 0,
        _ => 1,
    }
}

/// A handle owned by a Java `ScimProvider`: the shared pool of its component and configuration.
#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_providerNew(
    mut env: JNIEnv,
    _: JClass,
    component: JString,
    cache_dir: JString,
    config: JString,
) -> jlong {
    guard(&mut env, 0, |env| {
        let component = optional(env, &component)?;
        let cache_dir = optional(env, &cache_dir)?;
        let config = string(env, &config)?;
        let provider =
            cache::provider(component.as_deref().map(Path::new), cache_dir.as_deref().map(Path::new), &config)?;
        Ok(Box::into_raw(Box::new(provider)) as jlong)
    })
}

/// Answers one request; `headers` is flat (name, value, …). Returns `String[]`: status, body, then the
/// response headers flat. Every failure inside the engine or the storage is a SCIM error response.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_scimkit_Native_providerHandle(
    mut env: JNIEnv,
    _: JClass,
    h: jlong,
    method: JString,
    path: JString,
    query: JString,
    headers: JObjectArray,
    body: JByteArray,
    principal: JString,
    bridge: JObject,
) -> jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        anyhow::ensure!(h != 0, "the provider is closed");
        anyhow::ensure!(!bridge.is_null(), "no storage");
        // SAFETY: `h` comes from providerNew; Java's close() frees it only once no call is running.
        let provider = unsafe { &*(h as *const Arc<Provider>) };
        let req = HttpRequest {
            method: string(env, &method)?.to_ascii_uppercase(),
            path: string(env, &path)?,
            query: optional(env, &query)?.unwrap_or_default(),
            headers: pairs(env, &headers)?,
            body: if body.is_null() { None } else { Some(env.convert_byte_array(&body)?) },
        };
        let principal = optional(env, &principal)?;
        let target = JavaStorage { vm: env.get_java_vm()?, bridge: env.new_global_ref(&bridge)? };
        let cb = Callback { cb: answer, user: (&target as *const JavaStorage).cast_mut().cast() };
        let resp = storage::with_callback(cb, || provider.handle(principal, req)).unwrap_or_else(|p| p.response());
        let mut flat = vec![resp.status.to_string(), String::from_utf8_lossy(&resp.body).into_owned()];
        for (k, v) in resp.headers {
            flat.extend([k, v]);
        }
        string_array(env, &flat)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_providerFree(_: JNIEnv, _: JClass, h: jlong) {
    if h != 0 {
        // SAFETY: Java frees each handle once, after the last call; the pool itself stays cached.
        let _ = catch_unwind(|| drop(unsafe { Box::from_raw(h as *mut Arc<Provider>) }));
    }
}

/// A flat `String[]` (name, value, …) as header pairs; null is none.
fn pairs(env: &mut JNIEnv, flat: &JObjectArray) -> Result<Vec<(String, String)>> {
    if flat.is_null() {
        return Ok(Vec::new());
    }
    let n = env.get_array_length(flat)?;
    anyhow::ensure!(n % 2 == 0, "headers come as name, value pairs");
    let mut out = Vec::with_capacity(n as usize / 2);
    for i in (0..n).step_by(2) {
        let k = {
            let o = env.get_object_array_element(flat, i)?;
            env.auto_local(JString::from(o))
        };
        let v = {
            let o = env.get_object_array_element(flat, i + 1)?;
            env.auto_local(JString::from(o))
        };
        out.push((string(env, &k)?, string(env, &v)?));
    }
    Ok(out)
}
