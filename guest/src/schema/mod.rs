//! Schemas as data (RFC 7643 §7): the model, the built-in schemas and the registry of resource types.
//!
//! Schema files may leave characteristics out; RFC 7643 §2.2 defaults apply, and discovery always prints
//! every characteristic.

pub mod check;
pub mod discovery;
#[cfg(test)]
mod host_schemas;
mod index;
#[cfg(test)]
mod rfc_examples;

use index::NameIndex;
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

/// Every schema and resource type the engine serves, with lookups used on every request. Schemas and their
/// attributes are found through indexes built once, so the schemas cannot change after [`Registry::new`].
#[derive(Debug, Clone)]
pub struct Registry {
    common: Schema,
    schemas: Vec<Schema>,
    pub resource_types: Vec<ResourceType>,
    /// Whether the tolerance `unqualified-manager` is enabled (set from the switches by the configuration).
    pub unqualified_manager: bool,
    index: Index,
}

/// Positions by name, without regard to case: of each schema by id, and of each attribute in its schema.
#[derive(Debug, Clone, Default)]
struct Index {
    schemas: NameIndex,
    /// One per schema, in the order of `Registry::schemas`.
    attributes: Vec<NameIndex>,
    common: NameIndex,
}

impl Index {
    fn new(common: &Schema, schemas: &[Schema]) -> Index {
        let names = |s: &Schema| NameIndex::new(s.attributes.iter().map(|a| a.name.as_str()));
        Index {
            schemas: NameIndex::new(schemas.iter().map(|s| s.id.as_str())),
            attributes: schemas.iter().map(names).collect(),
            common: names(common),
        }
    }
}

impl Registry {
    pub fn new(schemas: Vec<Schema>, resource_types: Vec<ResourceType>) -> Self {
        let common = common_schema();
        let index = Index::new(&common, &schemas);
        Registry { common, schemas, resource_types, unqualified_manager: false, index }
    }

    pub fn builtin() -> Self {
        Self::new(builtin_schemas(), builtin_resource_types())
    }

    /// Every schema, core and extension, in configuration order.
    pub fn schemas(&self) -> &[Schema] {
        &self.schemas
    }

    /// Adds an attribute to a schema (tests of attribute types the built-in schemas lack).
    #[cfg(test)]
    pub fn add_attribute(&mut self, schema: &str, attribute: Attribute) {
        let pos = self.index.schemas.get(schema).expect("a known schema");
        self.schemas[pos].attributes.push(attribute);
        self.index = Index::new(&self.common, &self.schemas);
    }

    pub fn schema(&self, id: &str) -> Option<&Schema> {
        self.index.schemas.get(id).map(|i| &self.schemas[i])
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
        &self.schemas[self.core_position(rt)]
    }

    /// The resource type's extension schemas, in declaration order.
    pub fn extensions<'a>(&'a self, rt: &'a ResourceType) -> impl Iterator<Item = (&'a SchemaExtension, &'a Schema)> {
        rt.schema_extensions.iter().filter_map(|e| self.schema(&e.schema).map(|s| (e, s)))
    }

    /// The attribute `name` of the schema at `pos`.
    fn in_schema(&self, pos: usize, name: &str) -> Option<&Attribute> {
        self.index.attributes[pos].get(name).map(|i| &self.schemas[pos].attributes[i])
    }

    /// A core attribute of the schema at `pos`, or a common one (`id`, `externalId`, `meta`).
    fn in_core(&self, pos: usize, name: &str) -> Option<&Attribute> {
        self.in_schema(pos, name).or_else(|| self.index.common.get(name).map(|i| &self.common.attributes[i]))
    }

    /// A top-level attribute of a resource type: `schema` is none for a core or common attribute, else the
    /// extension URN it lives under. `urn` restricts the search to one schema.
    pub fn attribute<'a>(
        &'a self,
        rt: &'a ResourceType,
        urn: Option<&str>,
        name: &str,
    ) -> Option<(Option<&'a str>, &'a Attribute)> {
        let core = self.core_position(rt);
        match urn {
            None => match self.in_core(core, name) {
                Some(a) => Some((None, a)),
                None => self.unqualified_manager(rt, name),
            },
            Some(urn) if self.index.schemas.get(urn) == Some(core) => self.in_core(core, name).map(|a| (None, a)),
            Some(urn) => {
                let pos = self.extension_position(rt, urn)?;
                self.in_schema(pos, name).map(|a| (Some(self.schemas[pos].id.as_str()), a))
            }
        }
    }

    fn core_position(&self, rt: &ResourceType) -> usize {
        self.index.schemas.get(&rt.schema).expect("configuration checks that every resource type's schema exists")
    }

    /// The position of the extension schema `urn`, when the resource type has it.
    fn extension_position(&self, rt: &ResourceType, urn: &str) -> Option<usize> {
        if rt.schema_extensions.is_empty() {
            return None;
        }
        let pos = self.index.schemas.get(urn)?;
        rt.schema_extensions.iter().any(|e| self.index.schemas.get(&e.schema) == Some(pos)).then_some(pos)
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
        self.extension_position(rt, urn).map(|pos| &self.schemas[pos])
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

    /// The indexed lookups answer what a search of the lists would, in any case, and nothing else.
    #[test]
    fn indexed_lookups_agree_with_a_search_of_the_lists() {
        let reg = Registry::builtin();
        let (user, group) = (reg.resource_type("User").unwrap(), reg.resource_type("Group").unwrap());
        for rt in [user, group] {
            let core = reg.schemas().iter().find(|s| s.id == rt.schema).unwrap();
            assert_eq!(reg.core_schema(rt).id, core.id);
            for attr in core.attributes.iter().chain(&common_schema().attributes) {
                for name in [attr.name.clone(), attr.name.to_ascii_uppercase(), attr.name.to_ascii_lowercase()] {
                    let found = reg.attribute(rt, None, &name).map(|(urn, a)| (urn, a.name.as_str()));
                    assert_eq!(found, Some((None, attr.name.as_str())), "{} {name}", rt.name);
                    let qualified = reg.attribute(rt, Some(&core.id.to_ascii_lowercase()), &name);
                    assert_eq!(qualified.map(|(_, a)| a.name.as_str()), Some(attr.name.as_str()));
                }
            }
            for absent in ["", "user", "userNames", "urn:ietf:params:scim:schemas:core:2.0:User", "employeeNumber"] {
                assert!(reg.attribute(rt, None, absent).is_none(), "{} {absent}", rt.name);
            }
        }
        let ent = reg.schema(&ENTERPRISE_USER.to_ascii_uppercase()).unwrap();
        assert_eq!(ent.id, ENTERPRISE_USER);
        for attr in &ent.attributes {
            let found =
                reg.attribute(user, Some(&ENTERPRISE_USER.to_ascii_lowercase()), &attr.name.to_ascii_uppercase());
            assert_eq!(found.map(|(urn, a)| (urn, a.name.as_str())), Some((Some(ENTERPRISE_USER), attr.name.as_str())));
            // Group has no enterprise extension; the core schema does not hold its attributes.
            assert!(reg.attribute(group, Some(ENTERPRISE_USER), &attr.name).is_none(), "{}", attr.name);
            assert!(reg.attribute(user, Some(USER), &attr.name).is_none(), "{}", attr.name);
        }
        assert_eq!(
            reg.extension(user, &ENTERPRISE_USER.to_ascii_lowercase()).map(|s| s.id.as_str()),
            Some(ENTERPRISE_USER)
        );
        assert!(reg.extension(group, ENTERPRISE_USER).is_none());
        assert!(reg.extension(user, USER).is_none(), "the core schema is no extension");
        assert!(reg.extension(user, "userName").is_none());
        assert_eq!(reg.schema("urn:ietf:params:scim:schemas:core:2.0:group").map(|s| s.id.as_str()), Some(GROUP));
        assert!(reg.schema("urn:ietf:params:scim:schemas:core:2.0").is_none());
    }

    #[test]
    fn an_added_attribute_is_found() {
        let mut reg = Registry::builtin();
        let user = reg.resource_type("User").unwrap().clone();
        assert!(reg.attribute(&user, None, "level").is_none());
        reg.add_attribute(USER, serde_json::from_str(r#"{"name": "level", "type": "integer"}"#).unwrap());
        assert_eq!(reg.attribute(&user, None, "LEVEL").map(|(_, a)| a.attr_type), Some(AttrType::Integer));
        assert_eq!(reg.attribute(&user, None, "userName").map(|(_, a)| a.name.as_str()), Some("userName"));
    }
}
