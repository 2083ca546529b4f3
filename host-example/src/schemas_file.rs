//! A tenant's `schemas` file: Schema and ResourceType resources in RFC 7643 §6–7 form, as `/Schemas` and
//! `/ResourceTypes` then serve them, turned into the engine's configuration. A resource type named like a
//! built-in one (`User`, `Group`) adds its `schemaExtensions` to it; any other is a resource type of its own.

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const BUILT_IN: [&str; 2] = ["User", "Group"];

/// The file a tenant names, relative to the configuration file's directory unless absolute.
pub fn locate(config_file: &Path, named: &str) -> PathBuf {
    let named = Path::new(named);
    match config_file.parent() {
        Some(dir) if named.is_relative() => dir.join(named),
        _ => named.to_path_buf(),
    }
}

/// Reads the file into the engine's `schemas`, `extensions` and `customResourceTypes`; every error names the
/// file (and the resource at fault).
pub fn engine_part(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    from_json(doc).with_context(|| format!("{}", path.display()))
}

fn from_json(doc: Value) -> Result<Map<String, Value>> {
    let resources = match doc {
        Value::Array(items) => items,
        Value::Object(mut list) => match list.remove("Resources") {
            Some(Value::Array(items)) => items,
            _ => bail!("expected a list of Schema and ResourceType resources, or an object with \"Resources\""),
        },
        _ => bail!("expected a list of Schema and ResourceType resources"),
    };
    let (mut schemas, mut custom, mut extensions) = (Vec::new(), Vec::new(), Map::new());
    for (i, resource) in resources.into_iter().enumerate() {
        let Value::Object(mut obj) = resource else { bail!("resource {i}: not a JSON object") };
        let kinds = obj.remove("schemas");
        obj.remove("meta");
        let names = |urn: &str| kinds.as_ref().and_then(Value::as_array).is_some_and(|l| l.iter().any(|s| s == urn));
        let name = obj.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if names(SCHEMA) {
            schemas.push(Value::Object(obj));
        } else if names(RESOURCE_TYPE) {
            match BUILT_IN.iter().find(|b| b.eq_ignore_ascii_case(&name)) {
                Some(built_in) => {
                    let added = obj.remove("schemaExtensions").unwrap_or_else(|| json!([]));
                    extensions.insert(built_in.to_string(), added);
                }
                None => custom.push(Value::Object(obj)),
            }
        } else {
            bail!("resource {i} ({name:?}): its schemas must name {SCHEMA} or {RESOURCE_TYPE}");
        }
    }
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("customResourceTypes".into(), Value::Array(custom));
    out.insert("extensions".into(), Value::Object(extensions));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_extensions_and_resource_types_are_sorted_out() {
        let doc = json!({"Resources": [
            {"schemas": [SCHEMA], "id": "urn:example:Device", "name": "Device", "attributes": [], "meta": {"x": 1}},
            {"schemas": [RESOURCE_TYPE], "id": "Device", "name": "Device", "endpoint": "/Devices", "schema": "urn:example:Device"},
            {"schemas": [RESOURCE_TYPE], "name": "user", "schemaExtensions": [{"schema": "urn:example:ext", "required": true}]}
        ]});
        let part = from_json(doc).unwrap();
        assert_eq!(part["schemas"], json!([{"id": "urn:example:Device", "name": "Device", "attributes": []}]));
        assert_eq!(part["customResourceTypes"][0]["endpoint"], "/Devices");
        assert_eq!(part["extensions"], json!({"User": [{"schema": "urn:example:ext", "required": true}]}));
    }

    #[test]
    fn a_resource_of_another_kind_is_named() {
        let e = from_json(json!([{"schemas": ["urn:x"], "name": "Thing"}])).unwrap_err();
        assert!(format!("{e:#}").contains("resource 0 (\"Thing\")"), "{e:#}");
        assert!(from_json(json!({"schemas": []})).is_err());
    }

    #[test]
    fn relative_paths_are_read_beside_the_configuration() {
        assert_eq!(locate(Path::new("/etc/scimkit/scimkit.toml"), "s.json"), PathBuf::from("/etc/scimkit/s.json"));
        assert_eq!(locate(Path::new("/etc/scimkit/scimkit.toml"), "/srv/s.json"), PathBuf::from("/srv/s.json"));
    }
}
