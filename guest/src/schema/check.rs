//! Configure-time checks of schemas and resource types, so that a host's mistake is reported once, naming
//! the attribute, instead of surfacing as odd behaviour on some later request.

use super::{AttrType, Attribute, ResourceType, Schema};

/// Checks one schema: ids and names present, names valid and unique without regard to case, `complex`
/// attributes with sub-attributes, and no sub-attributes below sub-attributes (RFC 7643 §2.3.8).
pub fn schema(s: &Schema) -> Result<(), String> {
    if s.id.trim().is_empty() {
        return Err("a schema has an empty id".into());
    }
    attributes(&s.attributes, &s.id, 0)
}

fn attributes(list: &[Attribute], parent: &str, depth: usize) -> Result<(), String> {
    for (i, a) in list.iter().enumerate() {
        let here = if depth == 0 { format!("{parent}:{}", a.name) } else { format!("{parent}.{}", a.name) };
        if !valid_name(&a.name) {
            return Err(format!("{here}: {:?} is not a valid attribute name", a.name));
        }
        if list[..i].iter().any(|b| b.name.eq_ignore_ascii_case(&a.name)) {
            return Err(format!("{here}: the attribute is defined twice"));
        }
        match (a.attr_type, a.sub_attributes.is_empty(), depth) {
            (AttrType::Complex, _, 1) => {
                return Err(format!("{here}: a sub-attribute cannot be complex (no sub-attributes of sub-attributes)"))
            }
            (AttrType::Complex, true, _) => return Err(format!("{here}: a complex attribute needs subAttributes")),
            (AttrType::Complex, false, _) => attributes(&a.sub_attributes, &here, depth + 1)?,
            (_, false, _) => return Err(format!("{here}: only a complex attribute can have subAttributes")),
            (_, true, _) => {}
        }
    }
    Ok(())
}

/// RFC 7643 §2.1 `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`; `$ref` is the one
/// name outside the grammar that the RFC itself uses.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name == "$ref"
        || (chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

/// Checks the served resource types against each other and the schemas.
pub fn resource_types(types: &[ResourceType], schemas: &[Schema]) -> Result<(), String> {
    let known = |urn: &str| schemas.iter().any(|s| s.id.eq_ignore_ascii_case(urn));
    for (i, rt) in types.iter().enumerate() {
        let name = &rt.name;
        if !rt.endpoint.starts_with('/') || rt.endpoint.len() < 2 || rt.endpoint[1..].contains('/') {
            return Err(format!(
                "resource type {name}: endpoint {:?} must be one segment such as /Devices",
                rt.endpoint
            ));
        }
        let earlier = &types[..i];
        if earlier.iter().any(|t| t.name.eq_ignore_ascii_case(name) || t.id.eq_ignore_ascii_case(&rt.id)) {
            return Err(format!("resource type {name}: defined twice"));
        }
        if earlier.iter().any(|t| t.endpoint.eq_ignore_ascii_case(&rt.endpoint)) {
            return Err(format!("resource type {name}: endpoint {} is already served", rt.endpoint));
        }
        if !known(&rt.schema) {
            return Err(format!("resource type {name}: unknown schema {}", rt.schema));
        }
        for (j, e) in rt.schema_extensions.iter().enumerate() {
            if !known(&e.schema) {
                return Err(format!("resource type {name}: unknown extension {}", e.schema));
            }
            let repeated = rt.schema_extensions[..j].iter().any(|x| x.schema.eq_ignore_ascii_case(&e.schema));
            if repeated || e.schema.eq_ignore_ascii_case(&rt.schema) {
                return Err(format!("resource type {name}: extension {} is listed twice", e.schema));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(attrs: serde_json::Value) -> Result<(), String> {
        let s: Schema =
            serde_json::from_value(serde_json::json!({"id":"urn:x","name":"X","attributes":attrs})).unwrap();
        schema(&s)
    }

    #[test]
    fn builtin_schemas_pass() {
        for s in super::super::builtin_schemas() {
            schema(&s).unwrap();
        }
        schema(&super::super::common_schema()).unwrap();
    }

    #[test]
    fn duplicate_names_are_named() {
        let e = parse(serde_json::json!([{"name":"a"},{"name":"A"}])).unwrap_err();
        assert!(e.contains("urn:x:A") && e.contains("twice"), "{e}");
        let e = parse(serde_json::json!([{"name":"c","type":"complex","subAttributes":[{"name":"v"},{"name":"V"}]}]))
            .unwrap_err();
        assert!(e.contains("urn:x:c.V"), "{e}");
    }

    #[test]
    fn complex_needs_sub_attributes() {
        let e = parse(serde_json::json!([{"name":"c","type":"complex"}])).unwrap_err();
        assert!(e.contains("urn:x:c") && e.contains("subAttributes"), "{e}");
        let e = parse(serde_json::json!([{"name":"s","subAttributes":[{"name":"v"}]}])).unwrap_err();
        assert!(e.contains("urn:x:s"), "{e}");
    }

    #[test]
    fn no_sub_attributes_of_sub_attributes() {
        let nested = serde_json::json!([{"name":"c","type":"complex","subAttributes":[
            {"name":"d","type":"complex","subAttributes":[{"name":"v"}]}]}]);
        let e = parse(nested).unwrap_err();
        assert!(e.contains("urn:x:c.d"), "{e}");
    }

    #[test]
    fn invalid_names_are_refused() {
        assert!(parse(serde_json::json!([{"name":"1a"}])).is_err());
        assert!(parse(serde_json::json!([{"name":"a.b"}])).is_err());
        assert!(parse(serde_json::json!([{"name":""}])).is_err());
    }
}
