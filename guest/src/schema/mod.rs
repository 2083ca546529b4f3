//! Schemas as data (RFC 7643 §7): the model, the built-in schemas and the registry of resource types.
//!
//! Schema files may leave characteristics out; RFC 7643 §2.2 defaults apply, and discovery always prints
//! every characteristic.

pub mod check;
pub mod discovery;
#[cfg(test)]
mod host_schemas;
#[cfg(test)]
mod rfc_examples;

use serde::{Deserialize, Serialize};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    #[default]
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Binary,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    #[default]
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    #[default]
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    #[default]
    None,
    Server,
    Global,
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type", default)]
    pub attr_type: AttrType,
    #[serde(default)]
    pub multi_valued: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    #[serde(default)]
    pub case_exact: bool,
    #[serde(default)]
    pub mutability: Mutability,
    #[serde(default)]
    pub returned: Returned,
    #[serde(default)]
    pub uniqueness: Uniqueness,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<Attribute>,
}

impl Attribute {
    /// A sub-attribute by name, without regard to case.
    pub fn sub(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaExtension {
    pub schema: String,
    #[serde(default)]
    pub required: bool,
}

/// A resource type (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    pub id: String,
    pub name: String,
    /// `/Users`.
    pub endpoint: String,
    #[serde(default)]
    pub description: String,
    pub schema: String,
    #[serde(default)]
    pub schema_extensions: Vec<SchemaExtension>,
}

fn builtin(json: &str) -> Schema {
    serde_json::from_str(json).expect("built-in schema files are valid")
}

pub fn common_schema() -> Schema {
    builtin(include_str!("common.json"))
}

pub fn builtin_schemas() -> Vec<Schema> {
    vec![
        builtin(include_str!("user.json")),
        builtin(include_str!("group.json")),
        builtin(include_str!("enterprise_user.json")),
    ]
}

pub fn builtin_resource_types() -> Vec<ResourceType> {
    vec![
        ResourceType {
            id: "User".into(),
            name: "User".into(),
            endpoint: "/Users".into(),
            description: "User Account".into(),
            schema: USER.into(),
            schema_extensions: vec![SchemaExtension { schema: ENTERPRISE_USER.into(), required: false }],
        },
        ResourceType {
            id: "Group".into(),
            name: "Group".into(),
            endpoint: "/Groups".into(),
            description: "Group".into(),
            schema: GROUP.into(),
            schema_extensions: vec![],
        },
    ]
}

/// Every schema and resource type the engine serves, with lookups used on every request.
#[derive(Debug, Clone)]
pub struct Registry {
    pub common: Schema,
    pub schemas: Vec<Schema>,
    pub resource_types: Vec<ResourceType>,
    /// Whether the tolerance `unqualified-manager` is enabled (set from the switches by the configuration).
    pub unqualified_manager: bool,
}

impl Registry {
    pub fn new(schemas: Vec<Schema>, resource_types: Vec<ResourceType>) -> Self {
        Registry { common: common_schema(), schemas, resource_types, unqualified_manager: false }
    }

    pub fn builtin() -> Self {
        Self::new(builtin_schemas(), builtin_resource_types())
    }

    pub fn schema(&self, id: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }

    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// The resource type served at `/<segment>` (`Users`), without regard to case.
    pub fn by_endpoint(&self, segment: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|r| r.endpoint.trim_start_matches('/').eq_ignore_ascii_case(segment))
    }

    /// The core schema of a resource type.
    pub fn core_schema(&self, rt: &ResourceType) -> &Schema {
        self.schema(&rt.schema).expect("configuration checks that every resource type's schema exists")
    }

    /// The resource type's extension schemas, in declaration order.
    pub fn extensions<'a>(&'a self, rt: &'a ResourceType) -> impl Iterator<Item = (&'a SchemaExtension, &'a Schema)> {
        rt.schema_extensions.iter().filter_map(|e| self.schema(&e.schema).map(|s| (e, s)))
    }

    /// A top-level attribute of a resource type: `schema` is none for a core or common attribute, else the
    /// extension URN it lives under. `urn` restricts the search to one schema.
    pub fn attribute<'a>(
        &'a self,
        rt: &'a ResourceType,
        urn: Option<&str>,
        name: &str,
    ) -> Option<(Option<&'a str>, &'a Attribute)> {
        let core = self.core_schema(rt);
        match urn {
            None => match core.attribute(name).or_else(|| self.common.attribute(name)) {
                Some(a) => Some((None, a)),
                None => self.unqualified_manager(rt, name),
            },
            Some(urn) if urn.eq_ignore_ascii_case(&core.id) => {
                core.attribute(name).or_else(|| self.common.attribute(name)).map(|a| (None, a))
            }
            Some(urn) => self
                .extensions(rt)
                .find(|(_, s)| s.id.eq_ignore_ascii_case(urn))
                .and_then(|(_, s)| s.attribute(name).map(|a| (Some(s.id.as_str()), a))),
        }
    }

    /// The tolerance `unqualified-manager`: `manager` alone names the enterprise extension's, when enabled.
    fn unqualified_manager<'a>(&'a self, rt: &'a ResourceType, name: &str) -> Option<(Option<&'a str>, &'a Attribute)> {
        if !self.unqualified_manager || !name.eq_ignore_ascii_case("manager") {
            return None;
        }
        let found = self.attribute(rt, Some(ENTERPRISE_USER), name)?;
        crate::tolerance::record(crate::tolerance::Tolerance::UnqualifiedManager);
        Some(found)
    }

    /// The extension schema with this URN, when the resource type has it.
    pub fn extension<'a>(&'a self, rt: &'a ResourceType, urn: &str) -> Option<&'a Schema> {
        self.extensions(rt).map(|(_, s)| s).find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schemas_parse_with_defaults() {
        let reg = Registry::builtin();
        let user = reg.resource_type("user").unwrap();
        let (_, un) = reg.attribute(user, None, "USERNAME").unwrap();
        assert_eq!(un.name, "userName");
        assert!(un.required);
        assert_eq!(un.uniqueness, Uniqueness::Server);
        assert!(!un.case_exact);
        let (_, pw) = reg.attribute(user, None, "password").unwrap();
        assert_eq!(pw.returned, Returned::Never);
        let (ext, emp) = reg.attribute(user, Some(ENTERPRISE_USER), "employeeNumber").unwrap();
        assert_eq!(ext, Some(ENTERPRISE_USER));
        assert_eq!(emp.attr_type, AttrType::String);
        assert!(reg.attribute(user, None, "id").is_some());
    }
}
