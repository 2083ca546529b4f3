//! Roles and entitlements as Okta discovers them: the read-only resource types `Role` (`/Roles`) and
//! `Entitlement` (`/Entitlements`), each served when configured, whose values a User's `roles[].value` and
//! `entitlements[].value` must name (RFC 7643 §4.1.2 leaves their values to the service provider).
//!
//! The host supplies the values, in one of two ways per type:
//! - listed in the configuration (`"roles": [{"id": "admin", "displayName": "Administrator"}]`): they are
//!   served from memory and become the `canonicalValues` of the User's `value` sub-attribute, so `/Schemas`
//!   shows them and a write naming another is 400 `invalidValue`;
//! - `"storage"`: storage keeps them as resources of type `Role`/`Entitlement` (a mapped host answers `get`
//!   and `search` for them from its own tables), and each value a User write names is looked up there.
//!
//! Clients never write them: every method but GET (and POST to `.search`) is 405.

mod store;

pub use store::CatalogStore;

use crate::context::Ctx;
use crate::error::{self as err, ScimResult};
use crate::schema::{ResourceType, Schema, SchemaExtension};
use serde::Deserialize;
use serde_json::{Map, Value};

pub const ROLE: &str = "urn:okta:scim:schemas:core:1.0:Role";
pub const ENTITLEMENT: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";

/// One value of a catalog, as the configuration lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub display_name: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kept {
    Storage,
}

/// Where one catalog's values come from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Source {
    Listed(Vec<Entry>),
    Kept(Kept),
}

/// The configured catalogs: a `Role` and an `Entitlement` source, each optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub roles: Option<Source>,
    pub entitlements: Option<Source>,
}

/// One kind of catalog: resource type name, endpoint, schema, and the User attribute whose values name it.
type Kind = (&'static str, &'static str, &'static str, &'static str);

const KINDS: [Kind; 2] =
    [("Role", "/Roles", ROLE, "roles"), ("Entitlement", "/Entitlements", ENTITLEMENT, "entitlements")];

impl Catalog {
    fn sources(&self) -> [(&Kind, Option<&Source>); 2] {
        [(&KINDS[0], self.roles.as_ref()), (&KINDS[1], self.entitlements.as_ref())]
    }

    /// The listed source of resource type `name`, if it is one.
    pub fn listed(&self, name: &str) -> Option<&[Entry]> {
        self.sources().into_iter().find_map(|((rt, ..), s)| match s {
            Some(Source::Listed(entries)) if rt.eq_ignore_ascii_case(name) => Some(entries.as_slice()),
            _ => None,
        })
    }

    /// Whether `rt` is a catalog type (read-only to clients).
    pub fn serves(&self, rt: &ResourceType) -> bool {
        self.sources().into_iter().any(|((name, ..), s)| s.is_some() && rt.name == *name)
    }

    /// Adds the configured types and their schemas, and the listed values as the User's canonical values.
    pub fn register(&self, schemas: &mut Vec<Schema>, types: &mut Vec<ResourceType>) -> Result<(), String> {
        for ((name, endpoint, urn, user_attr), source) in self.sources() {
            let Some(source) = source else { continue };
            let key = user_attr;
            if types.iter().any(|t| t.name.eq_ignore_ascii_case(name) || t.endpoint.eq_ignore_ascii_case(endpoint)) {
                return Err(format!("configuration: {key}: a resource type {name} or {endpoint} already exists"));
            }
            if let Source::Listed(entries) = source {
                check_entries(key, entries)?;
                let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
                let value = schemas
                    .iter_mut()
                    .find(|s| s.id == crate::schema::USER)
                    .and_then(|s| s.attributes.iter_mut().find(|a| a.name == *user_attr))
                    .and_then(|a| a.sub_attributes.iter_mut().find(|a| a.name == "value"));
                if let Some(value) = value {
                    value.canonical_values = ids;
                }
            }
            let schema = if *urn == ROLE { include_str!("role.json") } else { include_str!("entitlement.json") };
            schemas.push(serde_json::from_str(schema).expect("built-in schema files are valid"));
            types.push(ResourceType {
                id: name.to_string(),
                name: name.to_string(),
                endpoint: endpoint.to_string(),
                description: format!("The {user_attr} a User may hold"),
                schema: urn.to_string(),
                schema_extensions: Vec::<SchemaExtension>::new(),
            });
        }
        Ok(())
    }
}

fn check_entries(key: &str, entries: &[Entry]) -> Result<(), String> {
    for (i, e) in entries.iter().enumerate() {
        if e.id.is_empty() || e.id.contains('/') {
            return Err(format!("configuration: {key}[{i}].id: must be non-empty and without '/'"));
        }
        if entries[..i].iter().any(|o| o.id.eq_ignore_ascii_case(&e.id)) {
            return Err(format!("configuration: {key}[{i}].id: {} is listed twice", e.id));
        }
    }
    Ok(())
}

/// 405 for a write to a catalog type: its values are the host's.
pub fn refuse_write(ctx: &Ctx, rt: &ResourceType, method: &str) -> ScimResult<()> {
    if ctx.cfg.catalog.serves(rt) && method != "GET" {
        return Err(err::method_not_allowed(format!(
            "{} are read-only: {method} is not allowed; use GET",
            rt.endpoint
        )));
    }
    Ok(())
}

/// For catalogs kept by storage, every `roles[].value`/`entitlements[].value` of a User body must name a
/// stored value (listed catalogs are checked as canonical values, while the body is read).
pub fn check_user(ctx: &mut Ctx, rt: &ResourceType, data: &Map<String, Value>) -> ScimResult<()> {
    if rt.schema != crate::schema::USER {
        return Ok(());
    }
    let kept: Vec<_> = ctx
        .cfg
        .catalog
        .sources()
        .into_iter()
        .filter(|(_, s)| matches!(s, Some(Source::Kept(_))))
        .map(|(kind, _)| *kind)
        .collect();
    for (name, endpoint, _, user_attr) in kept {
        let values = data.get(user_attr).and_then(Value::as_array).into_iter().flatten();
        for v in values.filter_map(|v| v.get("value").and_then(Value::as_str)) {
            if ctx.store.get(name, v, false)?.is_none() {
                return Err(err::invalid_value(format!("{user_attr}: {v:?} is not a value of {endpoint}")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
