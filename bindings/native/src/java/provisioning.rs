//! The provisioning client, the mapper and LDIF for `org.scimkit.Native`: `ScimProvisioner`, `ScimMapper`, `Ldif`.

use super::{guard, string, string_array, Result};
use crate::cache;
use jni::objects::{JClass, JObject, JObjectArray, JString};
use jni::sys::{jlong, jobjectArray, jstring};
use jni::JNIEnv;
use scimkit_runtime::bindings::{Action, Outcome};
use scimkit_runtime::provisioning::{Mapper, Provisioner};
use std::sync::Mutex;

/// `String[] names, String[][] values` to attributes. Local references are dropped as they are read, so that
/// large principals stay within the JVM's local reference capacity.
fn attributes(env: &mut JNIEnv, names: &JObjectArray, values: &JObjectArray) -> Result<Vec<(String, Vec<String>)>> {
    let n = env.get_array_length(names)?;
    anyhow::ensure!(n == env.get_array_length(values)?, "names and values differ in length");
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let name = {
            let o = env.get_object_array_element(names, i)?;
            env.auto_local(JString::from(o))
        };
        let name = string(env, &name)?;
        let vs = {
            let o = env.get_object_array_element(values, i)?;
            env.auto_local(JObjectArray::from(o))
        };
        anyhow::ensure!(!vs.is_null(), "attribute {name} has no value array");
        let mut list = Vec::new();
        for j in 0..env.get_array_length(&*vs)? {
            let v = {
                let o = env.get_object_array_element(&*vs, j)?;
                env.auto_local(JString::from(o))
            };
            anyhow::ensure!(!v.is_null(), "attribute {name} has a null value");
            list.push(string(env, &v)?);
        }
        out.push((name, list));
    }
    Ok(out)
}

/// Attributes as `String[][]`, each row the name then its values.
fn attribute_rows(env: &mut JNIEnv, attrs: &[(String, Vec<String>)]) -> Result<jobjectArray> {
    let rows = env.new_object_array(attrs.len() as i32, "[Ljava/lang/String;", JObject::null())?;
    for (i, (name, values)) in attrs.iter().enumerate() {
        let row: Vec<String> = std::iter::once(name.clone()).chain(values.iter().cloned()).collect();
        let arr = string_array(env, &row)?;
        // SAFETY: `arr` was just created by this env and is a valid local reference, dropped after use.
        let arr = env.auto_local(unsafe { JObject::from_raw(arr) });
        env.set_object_array_element(&rows, i as i32, &*arr)?;
    }
    Ok(rows.into_raw())
}

/// A handle owned by a Java object; the mutex serialises calls from several Java threads.
fn handle<T>(value: T) -> jlong {
    Box::into_raw(Box::new(Mutex::new(value))) as jlong
}

/// # Safety
/// `h` must come from [`handle`] with the same `T` and not be freed.
unsafe fn borrow<'a, T>(h: jlong) -> Result<&'a Mutex<T>> {
    anyhow::ensure!(h != 0, "the object is closed");
    Ok(&*(h as *const Mutex<T>))
}

#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_provisionerNew(mut env: JNIEnv, _: JClass, config: JString) -> jlong {
    guard(&mut env, 0, |env| {
        let config = string(env, &config)?;
        Ok(handle(Provisioner::new(cache::shared_runtime(None, None)?, &config)?))
    })
}

/// Provisions one principal; the report as `String[]`: outcome, error (or null), then five strings per step
/// (action, method, path, status, detail).
#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_provisionerProvision(
    mut env: JNIEnv,
    _: JClass,
    h: jlong,
    service: JString,
    names: JObjectArray,
    values: JObjectArray,
    bridge: JObject,
) -> jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let service = string(env, &service)?;
        let attrs = attributes(env, &names, &values)?;
        let t = super::transport::JavaTransport::new(env, &bridge)?;
        // SAFETY: `h` is a live provisioner handle; the Java object keeps it until `free`.
        let p = unsafe { borrow::<Provisioner>(h)? };
        let mut p = p.lock().map_err(|_| anyhow::anyhow!("a previous call panicked"))?;
        p.set_transport(Box::new(t));
        let report = p.provision(&service, &attrs)?;
        let (outcome, error) = outcome(&report.outcome);
        let mut flat = vec![outcome.to_string(), error.to_string()];
        for s in &report.steps {
            flat.extend([
                action(s.action).to_string(),
                s.method.clone(),
                s.path.clone(),
                s.status.unwrap_or(0).to_string(),
                s.detail.clone(),
            ]);
        }
        string_array(env, &flat)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_provisionerFree(_: JNIEnv, _: JClass, h: jlong) {
    if h != 0 {
        // SAFETY: Java frees each handle once (close() is idempotent on the Java side).
        drop(unsafe { Box::from_raw(h as *mut Mutex<Provisioner>) });
    }
}

#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_mapperNew(mut env: JNIEnv, _: JClass, mapping: JString) -> jlong {
    guard(&mut env, 0, |env| {
        let mapping = string(env, &mapping)?;
        Ok(handle(Mapper::new(cache::shared_runtime(None, None)?, &mapping)?))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_mapperToResources(
    mut env: JNIEnv,
    _: JClass,
    h: jlong,
    names: JObjectArray,
    values: JObjectArray,
) -> jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let attrs = attributes(env, &names, &values)?;
        // SAFETY: as in provisionerProvision.
        let m = unsafe { borrow::<Mapper>(h)? };
        let resources = m
            .lock()
            .map_err(|_| anyhow::anyhow!("a previous call panicked"))?
            .to_resources(&attrs)?
            .map_err(anyhow::Error::msg)?;
        string_array(env, &resources)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_mapperToAttributes(
    mut env: JNIEnv,
    _: JClass,
    h: jlong,
    resource: JString,
) -> jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let resource = string(env, &resource)?;
        // SAFETY: as in provisionerProvision.
        let m = unsafe { borrow::<Mapper>(h)? };
        let attrs = m
            .lock()
            .map_err(|_| anyhow::anyhow!("a previous call panicked"))?
            .to_attributes(&resource)?
            .map_err(anyhow::Error::msg)?;
        attribute_rows(env, &attrs)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_mapperFree(_: JNIEnv, _: JClass, h: jlong) {
    if h != 0 {
        // SAFETY: as in provisionerFree.
        drop(unsafe { Box::from_raw(h as *mut Mutex<Mapper>) });
    }
}

/// LDIF text to entries: one `String[][]` of attribute rows per entry.
#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_parseLdif(mut env: JNIEnv, _: JClass, text: JString) -> jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let text = string(env, &text)?;
        let entries = scimkit_runtime::ldif::parse(&text).map_err(anyhow::Error::msg)?;
        let out = env.new_object_array(entries.len() as i32, "[[Ljava/lang/String;", JObject::null())?;
        for (i, e) in entries.iter().enumerate() {
            let rows = attribute_rows(env, &e.attrs)?;
            // SAFETY: a valid local reference just created, dropped after use.
            let rows = env.auto_local(unsafe { JObject::from_raw(rows) });
            env.set_object_array_element(&out, i as i32, &*rows)?;
        }
        Ok(out.into_raw())
    })
}

/// A TOML mapping as the JSON the mapper takes.
#[no_mangle]
pub extern "system" fn Java_org_scimkit_Native_tomlToJson(mut env: JNIEnv, _: JClass, text: JString) -> jstring {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let text = string(env, &text)?;
        let value = scimkit_runtime::provisioning::mapping_from_toml(&text)?;
        Ok(env.new_string(value.to_string())?.into_raw())
    })
}

/// The outcome's Java name, and why it failed (empty otherwise).
fn outcome(o: &Outcome) -> (&'static str, &str) {
    match o {
        Outcome::Created => ("CREATED", ""),
        Outcome::Updated => ("UPDATED", ""),
        Outcome::Unchanged => ("UNCHANGED", ""),
        Outcome::Skipped => ("SKIPPED", ""),
        Outcome::Failed(why) => ("FAILED", why),
    }
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Search => "search",
        Action::Discover => "discover",
        Action::Create => "create",
        Action::Patch => "patch",
        Action::Replace => "replace",
        Action::Unchanged => "unchanged",
        Action::SearchGroup => "search-group",
        Action::ReadGroup => "read-group",
        Action::CreateGroup => "create-group",
        Action::AddMember => "add-member",
        Action::RemoveMember => "remove-member",
        Action::Skipped => "skipped",
        Action::List => "list",
        Action::Delete => "delete",
    }
}
