//! Values of a User written by a client that name other resources, checked before the write: roles and
//! entitlements kept by storage (see [`crate::catalog`]) and, with the `managerMustExist` switch, the
//! enterprise manager.

use crate::context::Ctx;
use crate::error::{self as err, ScimResult};
use crate::schema::{ResourceType, ENTERPRISE_USER, USER};
use serde_json::{Map, Value};

pub fn check(ctx: &mut Ctx, rt: &ResourceType, data: &Map<String, Value>) -> ScimResult<()> {
    if rt.schema != USER {
        return Ok(());
    }
    crate::catalog::check_user(ctx, rt, data)?;
    if ctx.cfg.switches.manager_must_exist {
        let manager = data.get(ENTERPRISE_USER).and_then(|e| e.get("manager")).and_then(|m| m.get("value"));
        if let Some(id) = manager.and_then(Value::as_str) {
            if ctx.store.get(&rt.name, id, false)?.is_none() {
                return Err(err::invalid_value(format!("{ENTERPRISE_USER}:manager.value: no {} {id}", rt.name)));
            }
        }
    }
    Ok(())
}
