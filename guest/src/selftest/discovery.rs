//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`: what the target announces decides what runs.

use super::{has, Reply, Suite};
use serde_json::Value;

const SPC: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// Fills `s.announced`; false when `/ResourceTypes` gave nothing to check.
pub fn run(s: &mut Suite) -> bool {
    let spc = s.get("/ServiceProviderConfig").and_then(|r| service_provider_config(s, &r));
    s.record("discovery: /ServiceProviderConfig", "RFC 7643 §5, RFC 7644 §4", spc);
    let types = s.get("/ResourceTypes").and_then(|r| resource_types(s, &r));
    if s.record("discovery: /ResourceTypes", "RFC 7643 §6, RFC 7644 §4", types).is_none() {
        return false;
    }
    let schemas = s.get("/Schemas").and_then(|r| schemas(s, &r));
    s.record("discovery: /Schemas", "RFC 7643 §7, RFC 7644 §4", schemas);
    if s.announced.users.is_some() {
        let one = s.get(&format!("/Schemas/{}", crate::schema::USER)).and_then(|r| {
            r.status_in(&[200])?;
            match r.str("/id") {
                Some(crate::schema::USER) => Ok(()),
                other => Err(format!("expected the User schema, saw id {other:?}")),
            }
        });
        s.record("discovery: /Schemas/{id}", "RFC 7644 §4", one);
    } else {
        s.skip("discovery: /Schemas/{id}", "RFC 7644 §4", "not announced: no User resource type");
    }
    true
}

/// Every feature object with a boolean `supported`, `authenticationSchemes` a list; remembers what is on.
fn service_provider_config(s: &mut Suite, r: &Reply) -> Result<(), String> {
    r.status_in(&[200])?;
    let mut wrong = vec![];
    if !has(&r.body["schemas"], SPC) {
        wrong.push(format!("schemas holding {SPC}"));
    }
    let mut supported = |feature: &str| match r.body.get(feature).and_then(|f| f.get("supported")) {
        Some(Value::Bool(b)) => *b,
        _ => {
            wrong.push(format!("{feature}.supported as a boolean"));
            false
        }
    };
    let a = &mut s.announced;
    a.patch = supported("patch");
    a.bulk = supported("bulk");
    a.filter = supported("filter");
    a.sort = supported("sort");
    a.etag = supported("etag");
    supported("changePassword");
    if !r.body["authenticationSchemes"].is_array() {
        wrong.push("authenticationSchemes as a list".into());
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("expected {}, saw {}", wrong.join(", "), r.body))
    }
}

/// A list (a JSON array or a ListResponse) of types with `name`, `endpoint` and `schema`.
fn resource_types(s: &mut Suite, r: &Reply) -> Result<(), String> {
    r.status_in(&[200])?;
    let items = list(&r.body).ok_or_else(|| format!("expected a list of resource types, saw {}", r.body))?;
    for t in items {
        let (Some(name), Some(endpoint), Some(schema)) =
            (t["name"].as_str(), t["endpoint"].as_str(), t["schema"].as_str())
        else {
            return Err(format!("expected name, endpoint and schema in every resource type, saw {t}"));
        };
        // An endpoint is relative to the base (`/Users`); an absolute one keeps its last segment.
        let endpoint = format!("/{}", endpoint.rsplit('/').next().unwrap_or(endpoint));
        if name == "User" || schema == crate::schema::USER {
            s.announced.users = Some(endpoint);
        } else if name == "Group" || schema == crate::schema::GROUP {
            s.announced.groups = Some(endpoint);
        }
    }
    Ok(())
}

/// The schemas of the announced types, each with its attributes (the User's holding `userName`).
fn schemas(s: &mut Suite, r: &Reply) -> Result<(), String> {
    r.status_in(&[200])?;
    let items = list(&r.body).ok_or_else(|| format!("expected a list of schemas, saw {}", r.body))?;
    let find = |id: &str| items.iter().find(|x| x["id"] == id);
    if s.announced.users.is_some() {
        let user = find(crate::schema::USER).ok_or("expected the User schema, which is not listed")?;
        let attrs = user["attributes"].as_array().ok_or("expected the User schema's attributes, saw none")?;
        if !attrs.iter().any(|a| a["name"] == "userName") {
            return Err("expected userName among the User schema's attributes".into());
        }
    }
    if s.announced.groups.is_some() && find(crate::schema::GROUP).is_none() {
        return Err("expected the Group schema, which is not listed".into());
    }
    Ok(())
}

/// The items of a discovery list: a JSON array, or a ListResponse's `Resources`.
fn list(body: &Value) -> Option<&Vec<Value>> {
    body.as_array().or_else(|| body["Resources"].as_array())
}
