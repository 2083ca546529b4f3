//! The engine's configuration: the JSON handed to `provider.configure`, once per instance.

use crate::schema::{Registry, ResourceType, Schema, SchemaExtension};
use crate::tolerance::{Tolerance, Tolerances};
use serde::Deserialize;

/// What to do with an attribute the schema does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum UnknownAttributes {
    /// Drop it silently (what identity providers expect: Entra sends attributes nobody asked for).
    #[default]
    Ignore,
    /// Answer 400 `invalidValue` naming it.
    Reject,
}

/// What a successful PATCH answers (RFC 7644 §3.5.2 allows either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum PatchResponse {
    /// 204 for a resource with members (a Group), so that the answer never costs the size of the group,
    /// unless the client asked for `attributes`/`excludedAttributes`: then 200 with that projection. 200 with
    /// the resource for the others (a User).
    #[default]
    Auto,
    /// 200 with the resource, projected by `attributes`/`excludedAttributes`.
    Resource,
    /// 204 without a body: nothing is read back after the write.
    NoContent,
}

/// Generous for the filters identity providers send (equalities, which storage answers), while 8 searches at
/// once that storage cannot answer stay within a few hundred megabytes of the host's memory.
pub const DEFAULT_MAX_CANDIDATES: u64 = 20_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Largest page a list answers; more is cut to this (RFC 7644 §3.4.2.4).
    pub max_results: u32,
    /// Largest request body, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Longest filter, in characters.
    pub max_filter_length: usize,
    /// Deepest filter nesting (parentheses, `not`, value paths).
    pub max_filter_depth: usize,
    /// Most values in one multi-valued attribute (members included): bounds the work one body can cost.
    pub max_multi_values: usize,
    pub bulk_max_operations: u32,
    pub bulk_max_payload_bytes: usize,
    /// Longest chain of nested groups (a group in a group in a group is 3): writes that would make a longer
    /// one are refused, and a resource's `groups` are looked for that many levels up, no more.
    pub max_group_depth: u32,
    /// Most resources one search may have the engine examine when storage leaves filtering or sorting to it
    /// (RFC 7644 §3.4.2.2: 400 `tooMany` past it); a host may stop reading after this many plus one.
    pub max_candidates: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_results: 1000,
            max_body_bytes: 1 << 20,
            max_filter_length: 10_000,
            max_filter_depth: 32,
            max_multi_values: 10_000,
            bulk_max_operations: 1000,
            bulk_max_payload_bytes: 1 << 20,
            max_group_depth: 8,
            max_candidates: DEFAULT_MAX_CANDIDATES,
        }
    }
}

/// The conformance profile (`docs/profiles.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Profile {
    /// What identity providers send is accepted: the switches as given, every tolerance unless listed.
    #[default]
    Tolerant,
    /// The SCIM Interop Profile: no tolerance, unknown attributes refused with 400 `invalidSyntax`, PATCH
    /// operations need a `path`, and `interopProfileConformant` advertised.
    Strict,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Switches {
    /// Under `strict`, `tolerances` and `unknownAttributes` are set by the profile, whatever is given.
    pub profile: Profile,
    pub unknown_attributes: UnknownAttributes,
    /// Group `displayName` unique among groups, case-insensitively (Entra and Okta assume it).
    pub unique_group_display_name: bool,
    pub patch_response: PatchResponse,
    /// A Group may hold Groups (RFC 7643 §4.2); off, a group member is refused (400 `invalidValue`).
    pub nested_groups: bool,
    /// A User's enterprise `manager.value` must be the id of an existing User (400 `invalidValue` otherwise).
    pub manager_must_exist: bool,
    /// The tolerances applied (see [`crate::tolerance`]), by name; all when absent.
    pub tolerances: Tolerances,
    /// Name the tolerances a request used in the response header [`crate::tolerance::REPORT_HEADER`], for the
    /// host to count and remove.
    pub report_tolerances: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            profile: Profile::Tolerant,
            unknown_attributes: UnknownAttributes::Ignore,
            unique_group_display_name: true,
            patch_response: PatchResponse::Auto,
            nested_groups: true,
            manager_must_exist: false,
            tolerances: Tolerances::default(),
            report_tolerances: false,
        }
    }
}

/// How lists are paged (RFC 9865): by `startIndex` always, by cursor when the host gives a key to sign them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Pagination {
    /// The secret cursors are signed with (HMAC-SHA256), at least 16 characters; cursor paging is off without
    /// it. Every instance serving one tenant must be given the same key, or a cursor from one fails on another.
    pub cursor_key: Option<CursorKey>,
    /// Seconds a cursor is accepted after its page was served (`expiredCursor` after).
    pub cursor_timeout: u32,
    /// How a list with neither `startIndex` nor `cursor` is paged.
    pub default_pagination_method: PaginationMethod,
}

impl Default for Pagination {
    fn default() -> Self {
        Pagination { cursor_key: None, cursor_timeout: 3600, default_pagination_method: PaginationMethod::Index }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PaginationMethod {
    Index,
    Cursor,
}

/// The cursor signing key; never shown by `Debug`, so that no log of the configuration holds it.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct CursorKey(pub Vec<u8>);

impl TryFrom<String> for CursorKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.len() < 16 {
            return Err("pagination.cursorKey: must be at least 16 characters".into());
        }
        Ok(CursorKey(s.into_bytes()))
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

/// An authentication scheme advertised in `/ServiceProviderConfig`; the host does the authenticating.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthScheme {
    #[serde(rename = "type")]
    pub scheme_type: String,
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConfig {
    base_url: String,
    /// Built-in resource types to serve; all when absent.
    #[serde(default)]
    resource_types: Option<Vec<String>>,
    /// Host-defined schemas, in RFC 7643 §7 form.
    #[serde(default)]
    schemas: Vec<Schema>,
    /// Host-defined extensions: resource type name → extension schema URNs (each in `schemas`).
    #[serde(default)]
    extensions: std::collections::BTreeMap<String, Vec<SchemaExtension>>,
    /// Host-defined resource types, in RFC 7643 §6 form.
    #[serde(default)]
    custom_resource_types: Vec<ResourceType>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    switches: Switches,
    #[serde(default)]
    pagination: Pagination,
    /// Absent: a bearer token, the common case. Present, even empty (a service open to all), as given.
    #[serde(default)]
    authentication_schemes: Option<Vec<AuthScheme>>,
    /// Host column names per resource type (see [`crate::rows`]); hosts send it as `mapping`.
    #[serde(default)]
    mapping: Option<serde_json::Value>,
    /// The roles a User may hold (see [`crate::catalog`]): a list of values, or `"storage"`.
    #[serde(default)]
    roles: Option<crate::catalog::Source>,
    #[serde(default)]
    entitlements: Option<crate::catalog::Source>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Without a trailing slash.
    pub base_url: String,
    pub registry: Registry,
    pub limits: Limits,
    pub switches: Switches,
    pub pagination: Pagination,
    pub authentication_schemes: Vec<AuthScheme>,
    /// The host's own columns, when it keeps rows rather than SCIM JSON.
    pub rows: Option<crate::rows::RowMapping>,
    /// Roles and entitlements served, when configured.
    pub catalog: crate::catalog::Catalog,
}

impl Config {
    pub fn from_json(text: &str) -> Result<Config, String> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| format!("configuration: {e}"))?;
        let base_url = raw.base_url.trim_end_matches('/').to_string();
        if base_url.is_empty() {
            return Err("configuration: baseUrl must not be empty".into());
        }
        let mut schemas = crate::schema::builtin_schemas();
        for s in raw.schemas {
            if schemas.iter().any(|b| b.id.eq_ignore_ascii_case(&s.id)) {
                return Err(format!("configuration: schemas: {} is already defined", s.id));
            }
            schemas.push(s);
        }
        let mut types = crate::schema::builtin_resource_types();
        if let Some(enabled) = &raw.resource_types {
            for name in enabled {
                if !types.iter().any(|t| t.name.eq_ignore_ascii_case(name)) {
                    return Err(format!("configuration: resourceTypes: unknown resource type {name}"));
                }
            }
            types.retain(|t| enabled.iter().any(|n| n.eq_ignore_ascii_case(&t.name)));
        }
        types.extend(raw.custom_resource_types);
        let catalog = crate::catalog::Catalog { roles: raw.roles, entitlements: raw.entitlements };
        catalog.register(&mut schemas, &mut types)?;
        for (type_name, exts) in raw.extensions {
            let rt = types
                .iter_mut()
                .find(|t| t.name.eq_ignore_ascii_case(&type_name))
                .ok_or_else(|| format!("configuration: extensions: unknown resource type {type_name}"))?;
            // An extension the type already has (a dump of /ResourceTypes lists the enterprise one) only
            // takes the `required` given.
            for ext in exts {
                match rt.schema_extensions.iter_mut().find(|e| e.schema.eq_ignore_ascii_case(&ext.schema)) {
                    Some(known) => known.required = ext.required,
                    None => rt.schema_extensions.push(ext),
                }
            }
        }
        for s in &schemas {
            crate::schema::check::schema(s).map_err(|e| format!("configuration: schemas: {e}"))?;
        }
        crate::schema::check::resource_types(&types, &schemas).map_err(|e| format!("configuration: {e}"))?;
        let authentication_schemes = raw.authentication_schemes.unwrap_or_else(|| {
            vec![AuthScheme {
                scheme_type: "oauthbearertoken".into(),
                name: "OAuth Bearer Token".into(),
                description: "Authentication with a bearer token in the Authorization header.".into(),
                spec_uri: Some("https://www.rfc-editor.org/rfc/rfc6750".into()),
                documentation_uri: None,
                primary: true,
            }]
        });
        let mut switches = raw.switches;
        if switches.profile == Profile::Strict {
            switches.tolerances = Tolerances::none();
            switches.unknown_attributes = UnknownAttributes::Reject;
        }
        if raw.limits.max_group_depth == 0 {
            return Err("configuration: limits.maxGroupDepth: must be at least 1".into());
        }
        let mut registry = Registry::new(schemas, types);
        registry.unqualified_manager = switches.tolerances.enabled(Tolerance::UnqualifiedManager);
        let rows = raw.mapping.map(|m| crate::rows::RowMapping::from_json(&registry, m)).transpose()?;
        if raw.pagination.default_pagination_method == PaginationMethod::Cursor && raw.pagination.cursor_key.is_none() {
            return Err("configuration: pagination.defaultPaginationMethod: cursor needs pagination.cursorKey".into());
        }
        let pagination = raw.pagination;
        Ok(Config {
            base_url,
            registry,
            limits: raw.limits,
            switches,
            pagination,
            authentication_schemes,
            rows,
            catalog,
        })
    }

    /// Whether the tolerance `t` applies; when it does, the request records that it fired (see
    /// [`crate::tolerance`]). Call it only where the request deviates from the RFC.
    pub fn tolerates(&self, t: Tolerance) -> bool {
        self.switches.tolerances.apply(t)
    }

    pub fn strict(&self) -> bool {
        self.switches.profile == Profile::Strict
    }

    /// A configuration for unit tests.
    #[cfg(test)]
    pub fn test() -> Config {
        Config::from_json(r#"{"baseUrl":"https://example.com/scim/v2"}"#).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_serves_users_and_groups() {
        let c = Config::test();
        assert_eq!(c.registry.resource_types.len(), 2);
        assert_eq!(c.limits.max_results, 1000);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Config::from_json(r#"{"baseUrl":"x","bogus":1}"#).unwrap_err();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn unknown_resource_type_is_refused() {
        let e = Config::from_json(r#"{"baseUrl":"x","resourceTypes":["Device"]}"#).unwrap_err();
        assert!(e.contains("Device"), "{e}");
    }
}
