//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7644 §4): generated from what the engine
//! is configured with and what it implements, so that they never claim a feature that is missing.

use crate::config::Config;
use crate::error::{self as err, ScimResult};
use serde_json::{json, Value};

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
    json!({
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
        "etag": {"supported": FEATURES.etag},
        "authenticationSchemes": cfg.authentication_schemes,
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", cfg.base_url),
        },
    })
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

fn schema_json(cfg: &Config, s: &crate::schema::Schema) -> Value {
    let mut v = serde_json::to_value(s).expect("schemas serialise");
    v["schemas"] = json!([SCHEMA_SCHEMA]);
    v["meta"] = json!({"resourceType": "Schema", "location": format!("{}/Schemas/{}", cfg.base_url, s.id)});
    v
}

/// Schemas in use by at least one served resource type.
fn served_schemas(cfg: &Config) -> impl Iterator<Item = &crate::schema::Schema> {
    let reg = &cfg.registry;
    reg.schemas.iter().filter(move |s| {
        reg.resource_types.iter().any(|rt| {
            rt.schema.eq_ignore_ascii_case(&s.id)
                || rt.schema_extensions.iter().any(|e| e.schema.eq_ignore_ascii_case(&s.id))
        })
    })
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
        assert_eq!(schemas(&cfg, None).unwrap()["totalResults"], 3);
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
