//! Change events (the WIT `events` interface): what the engine tells its host about every write, and the
//! host's say before it. The handlers describe each write here, ask [`Hooks::check`], [`Hooks::stage`] it
//! right before the storage call, and report it with [`Hooks::changed`] once written.

use crate::config::Config;
use crate::context::Ctx;
use crate::error::{self as err, ErrorKind, ScimError, ScimResult};
use crate::projection::Projection;
use crate::resource::{self, Prepared};
use crate::schema::ResourceType;
use crate::store::{Member, Stored};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Replace,
    Patch,
    Delete,
    MembersAdded,
    MembersRemoved,
    Activated,
    Deactivated,
}

/// One change to one resource, as in the WIT `change-event`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeEvent {
    pub resource_type: String,
    /// Empty before storage assigns it on create.
    pub id: String,
    pub operations: Vec<Operation>,
    pub paths: Vec<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub members_added: Vec<String>,
    pub members_removed: Vec<String>,
    pub members_cleared: bool,
}

/// A host's refusal of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub scim_type: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allow,
    /// The resource to write instead, as JSON text.
    Adjust(String),
    Refuse(Refusal),
}

/// The host's side; every method does nothing by default.
pub trait Hooks {
    fn check(&mut self, _change: &ChangeEvent) -> Verdict {
        Verdict::Allow
    }
    fn stage(&mut self, _change: &ChangeEvent) {}
    fn changed(&mut self, _change: &ChangeEvent, _version: &str) {}
}

/// A host without hooks.
pub struct NoHooks;

impl Hooks for NoHooks {}

/// The membership part of a change.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemberChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub cleared: bool,
}

impl MemberChange {
    pub(crate) fn of(added: &[Member], removed: &[String], cleared: bool) -> MemberChange {
        MemberChange { added: added.iter().map(|m| m.value.clone()).collect(), removed: removed.to_vec(), cleared }
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && !self.cleared
    }
}

/// A resource as an event shows it: rendered, projected as by default (no `returned: never` attribute), without
/// members, computed attributes or `meta.version`; without `id` and `meta.location` while `id` is unknown.
pub(crate) fn image(cfg: &Config, rt: &ResourceType, id: &str, data: &str) -> ScimResult<Value> {
    let stored = Stored { id: id.to_string(), version: String::new(), data: data.to_string(), members: None };
    let mut shown = Projection::from_params(cfg, rt, None, None)?.apply(cfg, rt, resource::render(cfg, rt, &stored)?);
    if let Some(meta) = shown.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("version");
        if id.is_empty() {
            meta.remove("location");
        }
    }
    if let Some(obj) = shown.as_object_mut() {
        obj.remove("members");
        if id.is_empty() {
            obj.remove("id");
        }
    }
    Ok(shown)
}

/// Describes one write. `kind` is the request's operation; `before` and `after` are images.
pub(crate) fn describe(
    rt: &ResourceType,
    kind: Operation,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    members: MemberChange,
) -> ChangeEvent {
    let mut paths = BTreeSet::new();
    diff(None, before, after, &mut paths);
    if !members.is_empty() {
        paths.insert("members".to_string());
    }
    let mut operations = vec![kind];
    if !members.added.is_empty() {
        operations.push(Operation::MembersAdded);
    }
    if !members.removed.is_empty() || members.cleared {
        operations.push(Operation::MembersRemoved);
    }
    // Absent `active` counts as active, as identity providers treat it.
    let active = |image: Option<&Value>| image.and_then(|i| i.get("active")).and_then(Value::as_bool) != Some(false);
    match (kind, active(before), active(after)) {
        (Operation::Replace | Operation::Patch, true, false) => operations.push(Operation::Deactivated),
        (Operation::Replace | Operation::Patch, false, true) if before.is_some() && after.is_some() => {
            operations.push(Operation::Activated)
        }
        _ => {}
    }
    ChangeEvent {
        resource_type: rt.name.clone(),
        id: id.to_string(),
        operations,
        paths: paths.into_iter().collect(),
        before: before.map(Value::to_string),
        after: after.map(Value::to_string),
        members_added: members.added,
        members_removed: members.removed,
        members_cleared: members.cleared,
    }
}

/// The paths that differ between two images (see the WIT `change-event.paths`).
fn diff(prefix: Option<&str>, before: Option<&Value>, after: Option<&Value>, out: &mut BTreeSet<String>) {
    let empty = Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for key in keys {
        if prefix.is_none() && matches!(key.as_str(), "meta" | "id" | "schemas") {
            continue;
        }
        let (x, y) = (b.get(key), a.get(key));
        if x == y {
            continue;
        }
        let name = match prefix {
            Some(p) if p.starts_with("urn:") => format!("{p}:{key}"),
            Some(p) => format!("{p}.{key}"),
            None => key.clone(),
        };
        let nested = prefix.is_none_or(|p| p.starts_with("urn:"));
        let is_object = |v: Option<&Value>| v.is_none_or(Value::is_object);
        if nested && is_object(x) && is_object(y) {
            diff(Some(&name), x, y, out);
        } else {
            out.insert(name);
        }
    }
}

/// Asks the host about a write that would store `prepared` (the state after a create, replace or patch) and
/// returns its change. An adjustment is validated as a PUT body in place of `prepared`, keeping its members,
/// `meta` and what images leave out.
pub(crate) fn review(
    ctx: &mut Ctx,
    rt: &ResourceType,
    kind: Operation,
    id: &str,
    before: Option<&Value>,
    prepared: &mut Prepared,
    members: MemberChange,
) -> ScimResult<ChangeEvent> {
    let cfg = ctx.cfg;
    let after = image(cfg, rt, id, &Value::Object(prepared.data.clone()).to_string())?;
    let change = describe(rt, kind, id, before, Some(&after), members.clone());
    let adjusted = match ctx.hooks.check(&change) {
        Verdict::Allow => return Ok(change),
        Verdict::Refuse(r) => return Err(refused(r)),
        Verdict::Adjust(text) => text,
    };
    let body: Value = serde_json::from_str(&adjusted)
        .map_err(|e| err::internal(format!("the application's adjustment is not JSON: {e}")))?;
    let mut again = resource::ingest(cfg, rt, body, Some(&prepared.data)).map_err(|mut e| {
        e.detail = format!("the application's adjustment: {}", e.detail);
        e
    })?;
    if let Some(meta) = prepared.data.get("meta") {
        again.data.insert("meta".into(), meta.clone());
    }
    again.members = prepared.members.take();
    *prepared = again;
    let after = image(cfg, rt, id, &Value::Object(prepared.data.clone()).to_string())?;
    Ok(describe(rt, kind, id, before, Some(&after), members))
}

/// Asks the host about a write without an `after` (a delete, a members-only PATCH); an adjustment is ignored.
pub(crate) fn review_plain(ctx: &mut Ctx, change: &ChangeEvent) -> ScimResult<()> {
    match ctx.hooks.check(change) {
        Verdict::Refuse(r) => Err(refused(r)),
        Verdict::Allow | Verdict::Adjust(_) => Ok(()),
    }
}

/// The change of a create once storage assigned its id.
pub(crate) fn created(cfg: &Config, rt: &ResourceType, change: &mut ChangeEvent, stored: &Stored) -> ScimResult<()> {
    change.id = stored.id.clone();
    change.after = Some(image(cfg, rt, &stored.id, &stored.data)?.to_string());
    Ok(())
}

/// A refusal as the error the client gets.
fn refused(r: Refusal) -> ScimError {
    let kind = match (r.status, r.scim_type.as_deref()) {
        (400, Some("invalidFilter")) => ErrorKind::InvalidFilter,
        (400, Some("mutability")) => ErrorKind::Mutability,
        (400, Some("invalidSyntax")) => ErrorKind::InvalidSyntax,
        (400, Some("invalidPath")) => ErrorKind::InvalidPath,
        (400, Some("noTarget")) => ErrorKind::NoTarget,
        (400, Some("invalidValue")) => ErrorKind::InvalidValue,
        (409, Some("uniqueness")) => ErrorKind::Uniqueness,
        (status @ 400..=599, _) => ErrorKind::Refused(status),
        _ => ErrorKind::Refused(500),
    };
    ScimError::new(kind, r.detail)
}

#[cfg(test)]
mod tests;
