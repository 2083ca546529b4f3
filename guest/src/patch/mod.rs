//! PATCH (RFC 7644 §3.5.2). The operations apply in order to the stored body and to a membership delta; the
//! result is validated as a PUT body (`resource::ingest`, with the stored body as `existing`) and written once,
//! conditional on the version read. Either every operation takes effect or none does.
//!
//! Where RFC 7644 leaves a choice, or is silent:
//! - `remove` of an unassigned attribute, or with a filter that matches nothing, succeeds and changes nothing:
//!   the attribute "SHALL be considered unassigned" either way (§3.5.2.2), and member removal cannot know
//!   without loading the group. `remove` without a path is `noTarget`, as §3.5.2.2 says.
//! - Removing a required attribute (also by replacing it with null) is `mutability`, as §3.5.2.2 says.
//! - `add` and `replace` of a complex value set the sub-attributes given and keep the others (§3.5.2.3);
//!   on a filtered path, the matching elements are merged into the same way.
//! - `replace` with null or `[]` unassigns (RFC 7643 §2.5); `add` with null adds nothing.
//! - An unknown `op`, a missing `Operations` or a missing `value` is `invalidSyntax`; a `schemas` without
//!   PatchOp is refused, a missing one tolerated (see `quirks`).
//! - A path the schema lacks follows the `unknownAttributes` switch (ignored, or `invalidPath`).
//! - A PATCH that changes nothing writes nothing (§3.5.2.1) and answers the resource as it is.
//! - A PATCH whose every operation adds or removes members by id (what Entra ID and Okta send to a group) is
//!   one unconditional membership delta: no read, no body written, nothing to lose a race to, so never 409.
//!   With `If-Match` (other than `*`) it is conditional like any other PATCH.
//! - Otherwise, without `If-Match`, a write that loses a race is retried from the read a few times, then
//!   answers 409.
//! - The answer follows the `patchResponse` switch; by default 204 for a group (its members could be many)
//!   unless `attributes`/`excludedAttributes` ask for a projection, 200 with the resource otherwise.

mod members;
mod ops;
mod quirks;
mod request;
mod target;

#[cfg(test)]
mod tests;

use crate::conditional::Tags;
use crate::config::{Config, PatchResponse};
use crate::context::{fetch, json_body, projection_of, single, stamp_meta, Ctx};
use crate::error::{self as err, ErrorKind, ScimError, ScimResult};
use crate::events::{self, MemberChange};
use crate::http::{Request, Response};
use crate::resource::{self, etag};
use crate::schema::{Mutability, ResourceType, Schema};
use crate::store::{StoreError, Stored, Update};
use request::{Op, Operation};
use serde_json::{Map, Value};

pub fn patch(ctx: &mut Ctx, rt: &ResourceType, id: &str, req: &Request) -> ScimResult<Response> {
    // A projection the answer cannot apply is refused before anything is written.
    projection_of(ctx.cfg, rt, req)?;
    // An unknown id is 404 whatever the body; the existence check costs a read only when the body is bad.
    let operations = match json_body(req).and_then(|body| request::parse(ctx.cfg, body)) {
        Ok(ops) => ops,
        Err(e) => {
            fetch(ctx, rt, id, false)?;
            return Err(e);
        }
    };
    // `If-Match: *` only asks that the resource exist: a lost race is retried as without If-Match.
    let expected = req.header("if-match").map(Tags::parse).filter(|t| *t != Tags::Any);
    if expected.is_none() {
        let delta = match membership_only(ctx, rt, id, &operations) {
            Ok(delta) => delta,
            Err(e) => {
                fetch(ctx, rt, id, false)?;
                return Err(e);
            }
        };
        if let Some(delta) = delta.filter(|d| !d.is_empty()) {
            let stored = write_delta(ctx, rt, id, delta)?;
            return respond(ctx, rt, stored, req);
        }
    }
    for _ in 0..crate::conditional::ATTEMPTS {
        if let Some(stored) = attempt(ctx, rt, id, &operations, expected.as_ref())? {
            return respond(ctx, rt, stored, req);
        }
        if expected.is_some() {
            return Err(StoreError::PreconditionFailed.into());
        }
    }
    Err(ScimError::new(ErrorKind::Conflict, "the resource kept changing during the PATCH; retry it"))
}

/// Prefixes an error with the index of the operation it comes from.
fn in_operation(i: usize, mut e: ScimError) -> ScimError {
    e.detail = format!("Operations[{i}]: {}", e.detail);
    e
}

/// The membership delta of a PATCH whose every operation changes members by id; none when an operation
/// touches anything else or selects members by more than their id.
fn membership_only(
    ctx: &mut Ctx,
    rt: &ResourceType,
    id: &str,
    operations: &[Operation],
) -> ScimResult<Option<members::Delta>> {
    let cfg = ctx.cfg;
    if !resource::has_members(cfg, rt) {
        return Ok(None);
    }
    let mut targets = Vec::with_capacity(operations.len());
    for o in operations {
        let Some(path) = &o.path else { return Ok(None) };
        if cfg.registry.extension(rt, path).is_some() {
            return Ok(None);
        }
        match target::resolve(cfg, rt, path) {
            Ok(Some(t)) if t.attr.name == "members" && members::by_id(&t) => targets.push(t),
            _ => return Ok(None),
        }
    }
    let mut state = members::State::default();
    let mut src = members::Source { store: &mut *ctx.store, rt, id };
    for (i, (o, t)) in operations.iter().zip(&targets).enumerate() {
        members::apply(cfg, &mut src, &mut state, o.op, t, o.value.clone()).map_err(|e| in_operation(i, e))?;
    }
    Ok(Some(state.delta))
}

/// Writes a membership delta as it is: the body is left alone and no version is expected, since a change of
/// membership by id commutes with any other.
fn write_delta(ctx: &mut Ctx, rt: &ResourceType, id: &str, mut delta: members::Delta) -> ScimResult<Stored> {
    delta.resolve(ctx.cfg, ctx.store, rt, id)?;
    let change = Update {
        resource_type: rt.name.clone(),
        id: id.to_string(),
        data: None,
        unique: vec![],
        clear_members: delta.clear,
        remove_members: delta.remove.into_iter().collect(),
        add_members: delta.add.into_values().collect(),
        if_version: None,
    };
    let members = MemberChange::of(&change.add_members, &change.remove_members, change.clear_members);
    let event = events::describe(rt, events::Operation::Patch, id, None, None, members);
    events::review_plain(ctx, &event)?;
    ctx.hooks.stage(&event);
    let stored = ctx.store.update(&change).map_err(|e| match e {
        StoreError::NotFound => err::not_found(format!("{} {id} not found", rt.name)),
        e => e.into(),
    })?;
    ctx.hooks.changed(&event, &stored.version);
    Ok(stored)
}

/// One read-apply-write round. `Ok(None)`: another writer got in between.
fn attempt(
    ctx: &mut Ctx,
    rt: &ResourceType,
    id: &str,
    operations: &[Operation],
    expected: Option<&Tags>,
) -> ScimResult<Option<Stored>> {
    let cfg = ctx.cfg;
    let current = fetch(ctx, rt, id, false)?;
    if expected.is_some_and(|t| !t.matches(&current.version)) {
        return Err(StoreError::PreconditionFailed.into());
    }
    let old: Map<String, Value> = serde_json::from_str(&current.data)
        .map_err(|_| err::internal(format!("stored {} {id} is not a JSON object", rt.name)))?;
    let mut doc = old.clone();
    let mut membership = members::State::default();
    for (i, o) in operations.iter().enumerate() {
        let mut run = Run { ctx: &mut *ctx, rt, id, doc: &mut doc, membership: &mut membership };
        run.operation(o).map_err(|e| in_operation(i, e))?;
    }
    check_required(cfg, rt, &old, &doc)?;
    let mut prepared = resource::ingest(cfg, rt, Value::Object(doc.clone()), Some(&old))?;
    crate::references::check(ctx, rt, &prepared.data)?;
    forget_removed_write_only(cfg.registry.core_schema(rt), &doc, &mut prepared.data);
    let mut before = old;
    let created = before.remove("meta").and_then(|m| m.get("created").cloned());
    // RFC 7644 §3.5.2.1: a PATCH that changes nothing does not write, and leaves lastModified alone.
    if prepared.data == before && membership.delta.is_empty() {
        return Ok(Some(current));
    }
    stamp_meta(&mut prepared.data, created, &ctx.now_text());
    let mut delta = membership.delta;
    delta.resolve(cfg, ctx.store, rt, id)?;
    let remove_members: Vec<String> = delta.remove.into_iter().collect();
    let add_members: Vec<_> = delta.add.into_values().collect();
    let image = events::image(cfg, rt, id, &current.data)?;
    let members = MemberChange::of(&add_members, &remove_members, delta.clear);
    let event = events::review(ctx, rt, events::Operation::Patch, id, Some(&image), &mut prepared, members)?;
    let change = Update {
        resource_type: rt.name.clone(),
        id: id.to_string(),
        data: Some(Value::Object(prepared.data).to_string()),
        unique: prepared.unique,
        clear_members: delta.clear,
        remove_members,
        add_members,
        if_version: Some(current.version),
    };
    ctx.hooks.stage(&event);
    match ctx.store.update(&change) {
        Ok(stored) => {
            ctx.hooks.changed(&event, &stored.version);
            Ok(Some(stored))
        }
        Err(StoreError::PreconditionFailed) => Ok(None),
        Err(StoreError::NotFound) => Err(err::not_found(format!("{} {id} not found", rt.name))),
        Err(e) => Err(e.into()),
    }
}

/// 204, or 200 with the resource (see `answers_no_content`). Members, when shown, are read back a page at a
/// time by `single`.
fn respond(ctx: &mut Ctx, rt: &ResourceType, stored: Stored, req: &Request) -> ScimResult<Response> {
    let cfg = ctx.cfg;
    if answers_no_content(cfg, rt, req) {
        return Ok(Response::empty(204).with_header("ETag", etag(&stored.version)));
    }
    let projection = projection_of(cfg, rt, req)?;
    let stored = Stored { members: None, ..stored };
    single(ctx, rt, 200, &stored, &projection)
}

/// Whether a successful PATCH answers 204 (RFC 7644 §3.5.2: 200 with the resource, or 204): by the
/// `patchResponse` switch, by default for a resource with members unless the client asked for a projection.
fn answers_no_content(cfg: &Config, rt: &ResourceType, req: &Request) -> bool {
    match cfg.switches.patch_response {
        PatchResponse::Resource => false,
        PatchResponse::NoContent => true,
        PatchResponse::Auto => {
            let projected =
                |k: &str| k.eq_ignore_ascii_case("attributes") || k.eq_ignore_ascii_case("excludedAttributes");
            resource::has_members(cfg, rt) && !req.params().iter().any(|(k, _)| projected(k))
        }
    }
}

/// RFC 7644 §3.5.2.2: removing a required attribute is 400 `mutability`.
fn check_required(
    cfg: &Config,
    rt: &ResourceType,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> ScimResult<()> {
    let reg = &cfg.registry;
    let object = |m: &Map<String, Value>, urn: &str| m.get(urn).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut scopes = vec![(reg.core_schema(rt), None, old.clone(), new.clone())];
    for (_, ext) in reg.extensions(rt) {
        scopes.push((ext, Some(ext.id.as_str()), object(old, &ext.id), object(new, &ext.id)));
    }
    for (schema, urn, before, after) in scopes {
        let lost = schema.attributes.iter().find(|a| {
            a.required
                && a.mutability != Mutability::ReadOnly
                && before.contains_key(&a.name)
                && !after.contains_key(&a.name)
        });
        if let Some(a) = lost {
            let name = urn.map_or_else(|| a.name.clone(), |u| format!("{u}:{}", a.name));
            return Err(err::mutability(format!("{name} is required and cannot be removed")));
        }
    }
    Ok(())
}

/// `ingest` keeps write-only attributes a PUT body leaves out; a PATCH that removed one means it.
fn forget_removed_write_only(core: &Schema, doc: &Map<String, Value>, data: &mut Map<String, Value>) {
    for a in core.attributes.iter().filter(|a| a.mutability == Mutability::WriteOnly) {
        if !doc.contains_key(&a.name) {
            data.remove(&a.name);
        }
    }
}

/// One operation's view of the request's work.
struct Run<'r, 'c> {
    ctx: &'r mut Ctx<'c>,
    rt: &'r ResourceType,
    id: &'r str,
    doc: &'r mut Map<String, Value>,
    membership: &'r mut members::State,
}

impl Run<'_, '_> {
    fn operation(&mut self, o: &Operation) -> ScimResult<()> {
        let cfg = self.ctx.cfg;
        let Some(path) = &o.path else {
            return self.each_value(o.op, o.value.clone().unwrap_or(Value::Null), None);
        };
        if let Some(ext) = cfg.registry.extension(self.rt, path) {
            return self.extension(o.op, &ext.id, o.value.clone());
        }
        let Some(t) = target::resolve(cfg, self.rt, path)? else {
            return Ok(());
        };
        if t.read_only() {
            return Err(err::mutability(format!("{path} is read-only")));
        }
        self.on_target(o.op, &t, o.value.clone())
    }

    fn on_target(&mut self, op: Op, t: &target::Target, value: Option<Value>) -> ScimResult<()> {
        let cfg = self.ctx.cfg;
        if t.ext.is_none() && t.attr.name == "members" && resource::has_members(cfg, self.rt) {
            let mut src = members::Source { store: &mut *self.ctx.store, rt: self.rt, id: self.id };
            return members::apply(cfg, &mut src, self.membership, op, t, value);
        }
        ops::apply(cfg, self.rt, self.doc, op, t, value)
    }

    /// The path is an extension's URN: its value holds attributes of that extension; a remove (or a replace
    /// with null) removes them all.
    fn extension(&mut self, op: Op, urn: &str, value: Option<Value>) -> ScimResult<()> {
        match (op, value) {
            (Op::Remove, _) | (Op::Replace, Some(Value::Null)) => {
                self.doc.remove(urn);
                Ok(())
            }
            (_, value) => self.each_value(op, value.unwrap_or(Value::Null), Some(urn)),
        }
    }

    /// add or replace without a path (RFC 7644 §3.5.2.1, §3.5.2.3): each member of the value is an operation on
    /// the attribute it names. Keys may be paths themselves: `name.givenName`, `urn:…:User:employeeNumber`.
    fn each_value(&mut self, op: Op, value: Value, urn: Option<&str>) -> ScimResult<()> {
        let cfg = self.ctx.cfg;
        let Value::Object(obj) = value else {
            return Err(err::invalid_value("without a path, the value must be an object of attributes"));
        };
        for (key, v) in obj {
            if let Some(urn) = urn.filter(|_| key.eq_ignore_ascii_case("schemas")) {
                resource::extension_schemas(cfg, urn, &v)?;
                continue;
            }
            if urn.is_none() {
                if key.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                if let Some(ext) = cfg.registry.extension(self.rt, &key) {
                    match v {
                        Value::Null => continue,
                        v @ Value::Object(_) => self.each_value(op, v, Some(&ext.id))?,
                        _ => return Err(err::invalid_value(format!("{}: an extension must be a JSON object", ext.id))),
                    }
                    continue;
                }
            }
            let path = urn.map_or_else(|| key.clone(), |u| format!("{u}:{key}"));
            // A key is an attribute of the value, not a path: what it fails on is the value's fault, and a
            // null names nothing to change (as on POST and PUT).
            let t = match target::resolve(cfg, self.rt, &path) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(_) if v.is_null() => continue,
                Err(e) => return Err(err::invalid_value(e.detail)),
            };
            if t.read_only() {
                if t.ext.is_none() && t.sub.is_none() && quirks::echoed_read_only(cfg, &t.attr.name, &v, self.id) {
                    continue;
                }
                return Err(err::mutability(format!("{path} is read-only")));
            }
            self.on_target(op, &t, Some(v))?;
        }
        Ok(())
    }
}
