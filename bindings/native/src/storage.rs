//! Storage through one C callback. The callback is per call, not per instance: instances (and their
//! compiled component) outlive the caller's request, while a PHP callback lives only as long as its
//! request. So the callback of the running `scimkit_handle` sits in a thread-local, and the storage the
//! instances hold reads it from there. A callback that never returns (a PHP fatal error) leaves the thread
//! refusing further calls ([`Poisoned`]).

use crate::json as wire;
use scimkit_runtime::bindings::{HttpResponse, Member, Page, Query, ResourceChange, StorageError, Stored, UniqueKey};
use scimkit_runtime::events::{ChangeEvent, Hooks, Refusal, Verdict};
use scimkit_runtime::provider::error_response;
use scimkit_runtime::storage::Storage;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void, CStr, CString};

/// `int32_t (*)(void *user, const char *op, const char *args_json, void *reply)`.
pub type StorageCb = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut c_void) -> i32;

/// Where a callback's `scimkit_reply` lands.
#[derive(Default)]
pub struct Reply(pub Option<String>);

#[derive(Clone, Copy)]
pub struct Callback {
    pub cb: StorageCb,
    pub user: *mut c_void,
}

thread_local! {
    static CURRENT: Cell<Option<Callback>> = const { Cell::new(None) };
    /// Where the storage callbacks this thread has entered and not yet seen return were called from: the
    /// stack addresses of their callers' frames, innermost last.
    static OPEN: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    /// Set for good once a callback is known not to have returned.
    static POISONED: Cell<bool> = const { Cell::new(false) };
}

/// The engine was not entered: a storage callback of this thread never returned.
///
/// A PHP fatal error inside a callback (memory exhausted, time limit, `exit`) is not an exception: PHP's
/// bailout longjmps from the callback over this library's and the engine's frames back into PHP, and the
/// process goes on (a php-fpm worker serves its next request). Whatever those frames held is then in an
/// unknown state, the engine's record of the running call included, so this thread never enters the engine
/// again: every later call answers 503 until the process is restarted.
pub struct Poisoned;

impl Poisoned {
    pub fn response(&self) -> HttpResponse {
        error_response(
            503,
            "the SCIM engine is unusable in this process: a storage callback never returned (a fatal error inside \
             it); restart the process",
        )
    }
}

/// An address in the caller's stack frame. Stacks grow down (x86-64, AArch64): a frame still running lies
/// above every frame it called.
#[inline(always)]
fn stack_here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Runs `f` with `cb` as this thread's storage; restores the previous one after. A call may nest (a storage
/// that calls the engine while answering); a call made where a callback that never returned was running is
/// refused, see [`Poisoned`].
pub fn with_callback<T>(cb: Callback, f: impl FnOnce() -> T) -> Result<T, Poisoned> {
    let here = stack_here();
    // An open callback whose caller's frame is not above this one is no longer running: it was jumped over.
    let jumped_over = OPEN.with(|open| open.borrow().iter().any(|&frame| frame <= here));
    if jumped_over || POISONED.with(Cell::get) {
        POISONED.with(|p| p.set(true));
        return Err(Poisoned);
    }
    struct Restore(Option<Callback>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(Some(cb))));
    Ok(f())
}

/// The storage every instance holds; it forwards to the running call's callback.
pub struct CallbackStorage;

fn call(op: &str, args: Value) -> Result<Value, StorageError> {
    let Some(cb) = CURRENT.with(Cell::get) else {
        return Err(StorageError::Other("storage used outside a call".into()));
    };
    let op = CString::new(op).map_err(|_| StorageError::Other("operation name".into()))?;
    // serde_json escapes control characters, so the text has no interior NUL.
    let args = CString::new(args.to_string()).map_err(|_| StorageError::Other("arguments".into()))?;
    let mut reply = Reply::default();
    // Open until the callback returns; when it never does, the next call on this thread sees it.
    OPEN.with(|open| open.borrow_mut().push(stack_here()));
    // SAFETY: the caller of scimkit_handle promised a callback that is valid for this call; every pointer
    // passed lives until it returns.
    let rc = unsafe { (cb.cb)(cb.user, op.as_ptr(), args.as_ptr(), (&mut reply as *mut Reply).cast()) };
    OPEN.with(|open| open.borrow_mut().pop());
    match (rc, reply.0) {
        (0, Some(text)) => wire::reply(&text),
        (0, None) => {
            Err(StorageError::Other(format!("the storage callback gave no reply to {}", op.to_string_lossy())))
        }
        (rc, _) => Err(StorageError::Other(format!("the storage callback failed with {rc}"))),
    }
}

/// Copies a reply into `reply`; used by `scimkit_reply`.
///
/// # Safety
/// `reply` is the pointer handed to the callback, `text` a NUL-terminated string; both may be null.
pub unsafe fn set_reply(reply: *mut c_void, text: *const c_char) {
    if reply.is_null() || text.is_null() {
        return;
    }
    let text = CStr::from_ptr(text).to_string_lossy().into_owned();
    (*reply.cast::<Reply>()).0 = Some(text);
}

impl Storage for CallbackStorage {
    fn get(&self, resource_type: &str, id: &str, with_members: bool) -> Result<Option<Stored>, StorageError> {
        let v = call("get", json!({"resourceType": resource_type, "id": id, "withMembers": with_members}))?;
        if v.is_null() {
            Ok(None)
        } else {
            wire::stored(&v).map(Some)
        }
    }

    fn create(
        &self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> Result<Stored, StorageError> {
        let args = json!({"resourceType": resource_type, "data": wire::body(data), "unique": wire::unique(unique),
            "members": wire::members(members)});
        wire::stored(&call("create", args)?)
    }

    fn update(&self, c: &ResourceChange) -> Result<Stored, StorageError> {
        let args = json!({"resourceType": c.resource_type, "id": c.id, "data": c.data.as_deref().map(wire::body),
            "unique": wire::unique(&c.unique), "clearMembers": c.clear_members, "removeMembers": c.remove_members,
            "addMembers": wire::members(&c.add_members), "ifVersion": c.if_version});
        wire::stored(&call("update", args)?)
    }

    fn delete(&self, resource_type: &str, id: &str, if_version: Option<&str>) -> Result<(), StorageError> {
        call("delete", json!({"resourceType": resource_type, "id": id, "ifVersion": if_version})).map(drop)
    }

    fn search(&self, q: &Query) -> Result<Page, StorageError> {
        wire::page(&call("search", wire::query(q)?)?)
    }

    fn members(
        &self,
        resource_type: &str,
        id: &str,
        start_index: u32,
        count: u32,
    ) -> Result<Vec<Member>, StorageError> {
        let args = json!({"resourceType": resource_type, "id": id, "startIndex": start_index, "count": count});
        wire::member_list(&call("members", args)?)
    }

    fn resolve_principal(&self, principal: &str) -> Result<Option<(String, String)>, StorageError> {
        wire::principal(&call("resolve-principal", json!({"principal": principal}))?)
    }
}

/// The hooks every instance holds: the running call's callback answers `event-check` and `event-changed`. A
/// callback that does not know them (answers `unsupported`) allows every write.
pub struct CallbackHooks;

fn change_json(c: &ChangeEvent) -> Value {
    let image = |t: &Option<String>| t.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok());
    json!({"resourceType": c.resource_type, "id": c.id,
        "operations": c.operations.iter().map(|o| o.name()).collect::<Vec<_>>(), "paths": c.paths,
        "before": image(&c.before), "after": image(&c.after), "membersAdded": c.members_added,
        "membersRemoved": c.members_removed, "membersCleared": c.members_cleared})
}

/// A check's reply: null allows, `{"adjust": RESOURCE}` writes that instead, `{"refuse": {"status",
/// "scimType", "detail"}}` answers that error.
fn verdict(reply: Value) -> Verdict {
    if let Some(resource) = reply.get("adjust") {
        return Verdict::Adjust(resource.to_string());
    }
    match reply.get("refuse") {
        Some(r) => Verdict::Refuse(Refusal {
            status: r.get("status").and_then(Value::as_u64).map_or(400, |s| s.min(999) as u16),
            scim_type: r.get("scimType").and_then(Value::as_str).map(str::to_string),
            detail: r.get("detail").and_then(Value::as_str).unwrap_or("refused by the application").to_string(),
        }),
        None => Verdict::Allow,
    }
}

impl Hooks for CallbackHooks {
    fn check(&self, change: &ChangeEvent) -> Verdict {
        match call("event-check", change_json(change)) {
            Ok(reply) => verdict(reply),
            Err(StorageError::Unsupported) => Verdict::Allow,
            // The application's failure is its own; the client learns only that the write was not checked.
            Err(_) => Verdict::Refuse(Refusal {
                status: 500,
                scim_type: None,
                detail: "the application could not check the change".into(),
            }),
        }
    }

    fn changed(&self, change: &ChangeEvent, version: &str) {
        let mut args = change_json(change);
        args["version"] = json!(version);
        let _ = call("event-changed", args);
    }
}
