//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7644 §4): generated from what the engine
//! is configured with and what it implements, so that they never claim a feature that is missing.

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::schema::Schema;
use serde_json::{json, Value};
use std::sync::OnceLock;

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RT_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Features implemented by this build of the engine.
pub struct Features {
    pub patch: bool,
    pub bulk: bool,
    pub sort: bool,
    pub etag: bool,
    pub change_password: bool,
}

/// `change_password`: a PUT carrying `password` replaces the stored one (write-only, never returned).
pub const FEATURES: Features = Features { patch: true, bulk: true, sort: true, etag: true, change_password: true };

pub fn service_provider_config(cfg: &Config) -> Value {
    let mut spc = json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://github.com/scimkit/scimkit",
        "patch": {"supported": FEATURES.patch},
        "bulk": {
            "supported": FEATURES.bulk,
            "maxOperations": cfg.limits.bulk_max_operations,
            "maxPayloadSize": cfg.limits.bulk_max_payload_bytes,
        },
        "filter": {"supported": true, "maxResults": cfg.limits.max_results},
        "changePassword": {"supported": FEATURES.change_password},
        "sort": {"supported": FEATURES.sort},
        "pagination": {
            "cursor": cfg.pagination.cursor_key.is_some(),
            "index": true,
            "defaultPaginationMethod": cfg.pagination.default_pagination_method,
            "defaultPageSize": cfg.limits.max_results,
            "maxPageSize": cfg.limits.max_results,
            "cursorTimeout": cfg.pagination.cursor_timeout,
        },
        "etag": {"supported": FEATURES.etag},
        "authenticationSchemes": cfg.authentication_schemes,
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", cfg.base_url),
        },
    });
    if cfg.strict() {
        spc["interopProfileConformant"] = json!(true);
    }
    spc
}

fn resource_type_json(cfg: &Config, rt: &crate::schema::ResourceType) -> Value {
    json!({
        "schemas": [RT_SCHEMA],
        "id": rt.id,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema,
        "schemaExtensions": rt.schema_extensions,
        "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/{}", cfg.base_url, rt.id)},
    })
}

fn schema_json(cfg: &Config, s: &Schema) -> Value {
    let mut v = serde_json::to_value(s).expect("schemas serialise");
    v["schemas"] = json!([SCHEMA_SCHEMA]);
    v["meta"] = json!({"resourceType": "Schema", "location": format!("{}/Schemas/{}", cfg.base_url, s.id)});
    v
}

/// The schemas of discovery's own resources (RFC 7643 §5–7), which clients read to learn what
/// `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` answer.
fn discovery_schemas() -> &'static [Schema] {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        [include_str!("service_provider_config.json"), include_str!("resource_type.json"), include_str!("schema.json")]
            .iter()
            .map(|text| serde_json::from_str(text).expect("discovery schema files are valid"))
            .collect()
    })
}

/// Schemas in use by at least one served resource type, then discovery's own.
fn served_schemas(cfg: &Config) -> impl Iterator<Item = &Schema> {
    let reg = &cfg.registry;
    let in_use = reg.schemas().iter().filter(move |s| {
        reg.resource_types.iter().any(|rt| {
            rt.schema.eq_ignore_ascii_case(&s.id)
                || rt.schema_extensions.iter().any(|e| e.schema.eq_ignore_ascii_case(&s.id))
        })
    });
    in_use.chain(discovery_schemas())
}

fn list(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": items.len(),
        "itemsPerPage": items.len(),
        "startIndex": 1,
        "Resources": items,
    })
}

pub fn resource_types(cfg: &Config, id: Option<&str>) -> ScimResult<Value> {
    let reg = &cfg.registry;
    match id {
        None => Ok(list(reg.resource_types.iter().map(|rt| resource_type_json(cfg, rt)).collect())),
        Some(id) => reg
            .resource_type(id)
            .map(|rt| resource_type_json(cfg, rt))
            .ok_or_else(|| err::not_found(format!("no resource type {id}"))),
    }
}

pub fn schemas(cfg: &Config, id: Option<&str>) -> ScimResult<Value> {
    match id {
        None => Ok(list(served_schemas(cfg).map(|s| schema_json(cfg, s)).collect())),
        Some(id) => served_schemas(cfg)
            .find(|s| s.id.eq_ignore_ascii_case(id))
            .map(|s| schema_json(cfg, s))
            .ok_or_else(|| err::not_found(format!("no schema {id}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_print_every_characteristic() {
        let cfg = Config::test();
        let user = schemas(&cfg, Some(crate::schema::USER)).unwrap();
        let un = &user["attributes"][0];
        assert_eq!(un["name"], "userName");
        for key in ["type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness"] {
            assert!(un.get(key).is_some(), "{key} missing");
        }
        assert_eq!(schemas(&cfg, None).unwrap()["totalResults"], 6);
    }

    #[test]
    fn discovery_resources_have_their_schemas() {
        let cfg = Config::test();
        for (urn, first) in [(SPC_SCHEMA, "documentationUri"), (RT_SCHEMA, "id"), (SCHEMA_SCHEMA, "id")] {
            let s = schemas(&cfg, Some(urn)).unwrap();
            assert_eq!(s["id"], urn);
            assert_eq!(s["schemas"], json!([SCHEMA_SCHEMA]));
            assert_eq!(s["attributes"][0]["name"], first);
            assert_eq!(s["meta"]["location"], format!("https://example.com/scim/v2/Schemas/{urn}"));
        }
        let schema = schemas(&cfg, Some(SCHEMA_SCHEMA)).unwrap();
        let attributes = &schema["attributes"][3];
        assert_eq!(attributes["name"], "attributes");
        let nested = attributes["subAttributes"].as_array().unwrap().last().unwrap();
        assert_eq!(nested["name"], "subAttributes");
        // Every attribute discovery prints is described by these schemas.
        let spc = service_provider_config(&cfg);
        let spc_schema = schemas(&cfg, Some(SPC_SCHEMA)).unwrap();
        for key in spc.as_object().unwrap().keys().filter(|k| !["schemas", "meta"].contains(&k.as_str())) {
            assert!(spc_schema["attributes"].as_array().unwrap().iter().any(|a| a["name"] == *key), "{key}");
        }
    }

    #[test]
    fn service_provider_config_matches_the_engine() {
        let spc = service_provider_config(&Config::test());
        assert_eq!(spc["patch"]["supported"], true);
        assert_eq!(spc["bulk"]["supported"], true);
        assert_eq!(spc["changePassword"]["supported"], true);
        assert_eq!(spc["etag"]["supported"], true);
        assert_eq!(spc["filter"]["maxResults"], 1000);
    }

    #[test]
    fn unknown_resource_type_is_404() {
        assert_eq!(resource_types(&Config::test(), Some("Device")).unwrap_err().status(), 404);
    }
}
