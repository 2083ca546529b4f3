//! JNI entry points for `org.scimkit.Native` (bindings/java), in the same library as the C ABI so that Java,
//! C and PHP load one `libscimkit_native.so`. Every entry point catches Rust panics and turns them, like
//! errors, into a Java `org.scimkit.ScimException`; every call into Java checks for and clears a pending Java
//! exception. Nothing unwinds across the boundary.

mod provider;
mod provisioning;
mod transport;

use jni::objects::{JObject, JString};
use jni::sys::jobjectArray;
use jni::JNIEnv;
use std::panic::{catch_unwind, AssertUnwindSafe};

type Result<T> = anyhow::Result<T>;

/// Runs `f`, turning an error or a panic into a pending `ScimException` and `fallback` as the return value.
fn guard<T>(env: &mut JNIEnv, fallback: T, f: impl FnOnce(&mut JNIEnv) -> Result<T>) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| f(env)));
    let message = match outcome {
        Ok(Ok(v)) => return v,
        Ok(Err(e)) => format!("{e:#}"),
        Err(p) => {
            let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned());
            format!("internal error in scimkit: {}", what.unwrap_or_default())
        }
    };
    // A Java exception already pending (from a callback) is replaced by ours, which names the cause.
    if env.exception_check().unwrap_or(false) {
        let _ = env.exception_clear();
    }
    let _ = env.throw_new("org/scimkit/ScimException", message);
    fallback
}

fn string(env: &mut JNIEnv, s: &JString) -> Result<String> {
    anyhow::ensure!(!s.is_null(), "a string argument is null");
    Ok(env.get_string(s)?.into())
}

/// A string argument that may be null.
fn optional(env: &mut JNIEnv, s: &JString) -> Result<Option<String>> {
    if s.is_null() {
        Ok(None)
    } else {
        string(env, s).map(Some)
    }
}

fn string_array(env: &mut JNIEnv, items: &[String]) -> Result<jobjectArray> {
    let arr = env.new_object_array(items.len() as i32, "java/lang/String", JObject::null())?;
    for (i, s) in items.iter().enumerate() {
        let js = env.auto_local(env.new_string(s)?);
        env.set_object_array_element(&arr, i as i32, &*js)?;
    }
    Ok(arr.into_raw())
}
