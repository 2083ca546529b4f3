//! The provisioner's transport, answered by Java: `org.scimkit.TransportBridge.send`, which calls the user's
//! `Transport` and never throws (it turns exceptions into status -1 with the message as body).

use jni::objects::{GlobalRef, JByteArray, JObject, JObjectArray, JString, JValue};
use jni::{JNIEnv, JavaVM};
use scimkit_runtime::bindings::{HttpRequest, HttpResponse, TransportError};
use scimkit_runtime::transport::Transport;

pub struct JavaTransport {
    vm: JavaVM,
    bridge: GlobalRef,
}

impl JavaTransport {
    pub fn new(env: &mut JNIEnv, bridge: &JObject) -> anyhow::Result<JavaTransport> {
        anyhow::ensure!(!bridge.is_null(), "no transport");
        Ok(JavaTransport { vm: env.get_java_vm()?, bridge: env.new_global_ref(bridge)? })
    }

    fn call(&self, req: HttpRequest) -> anyhow::Result<HttpResponse> {
        // The engine calls back on the thread that called into it, already attached: this attaches nothing
        // then, and attaches (until the guard drops) any other thread.
        let mut env = self.vm.attach_current_thread()?;
        let result = env.with_local_frame(64, |env| -> anyhow::Result<HttpResponse> {
            let method = env.new_string(&req.method)?;
            let path = env.new_string(&req.path)?;
            let query = env.new_string(&req.query)?;
            let headers = env.new_object_array((req.headers.len() * 2) as i32, "java/lang/String", JObject::null())?;
            for (i, (k, v)) in req.headers.iter().enumerate() {
                let (k, v) = (env.auto_local(env.new_string(k)?), env.auto_local(env.new_string(v)?));
                env.set_object_array_element(&headers, (2 * i) as i32, &*k)?;
                env.set_object_array_element(&headers, (2 * i + 1) as i32, &*v)?;
            }
            let body = match &req.body {
                Some(b) => JObject::from(env.byte_array_from_slice(b)?),
                None => JObject::null(),
            };
            let resp = env
                .call_method(
                    &self.bridge,
                    "send",
                    "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;[Ljava/lang/String;[B)Lorg/scimkit/TransportBridge$Reply;",
                    &[JValue::Object(&method), JValue::Object(&path), JValue::Object(&query), JValue::Object(&headers), JValue::Object(&body)],
                )?
                .l()?;
            let status = env.get_field(&resp, "status", "I")?.i()?;
            let body = JByteArray::from(env.get_field(&resp, "body", "[B")?.l()?);
            let body = if body.is_null() { vec![] } else { env.convert_byte_array(&body)? };
            if status < 0 {
                anyhow::bail!("{}", String::from_utf8_lossy(&body));
            }
            let flat = JObjectArray::from(env.get_field(&resp, "headers", "[Ljava/lang/String;")?.l()?);
            let mut headers = Vec::new();
            if !flat.is_null() {
                let n = env.get_array_length(&flat)?;
                for i in (0..n - 1).step_by(2) {
                    let k = { let o = env.get_object_array_element(&flat, i)?; env.auto_local(JString::from(o)) };
                    let v = { let o = env.get_object_array_element(&flat, i + 1)?; env.auto_local(JString::from(o)) };
                    headers.push((env.get_string(&k)?.into(), env.get_string(&v)?.into()));
                }
            }
            Ok(HttpResponse { status: u16::try_from(status).unwrap_or(500), headers, body })
        });
        // A Java exception escaping the bridge (an Error it could not catch) stays on the Java side.
        if env.exception_check().unwrap_or(false) {
            let _ = env.exception_clear();
            anyhow::bail!("the Java transport threw");
        }
        result
    }
}

impl Transport for JavaTransport {
    /// A Java transport that throws got no response: for the engine, the target was not reached.
    fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (method, path) = (req.method.clone(), req.path.clone());
        self.call(req).map_err(|e| TransportError::Unreachable(format!("{method} {path}: {e:#}")))
    }
}
