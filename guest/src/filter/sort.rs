//! `sortBy` (RFC 7644 §3.4.2.3): the attribute resolved once per list, values ordered by its type and
//! `caseExact`.

use super::typed::{Scope, Target};
use crate::config::Config;
use crate::error::{self as err, ScimResult};
use crate::names::member_of;
use crate::schema::{AttrType, ResourceType};
use crate::store::SortKey;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::cmp::Ordering;

/// A `sortBy` attribute, resolved against a resource type.
#[derive(Debug, Clone, Copy)]
pub struct SortSpec<'a> {
    target: Target<'a>,
}

impl<'a> SortSpec<'a> {
    /// Resolves `sort_by`; 400 `invalidValue` when it is not an attribute path of the resource type.
    pub fn resolve(cfg: &'a Config, rt: &'a ResourceType, sort_by: &str) -> ScimResult<SortSpec<'a>> {
        let path = crate::path::parse_attr_path(sort_by, cfg.limits.max_filter_length)
            .map_err(|detail| err::invalid_value(format!("sortBy: {detail}")))?;
        let target = Scope::Resource(cfg, rt)
            .resolve(&path)
            .ok_or_else(|| err::invalid_value(format!("sortBy: {} has no attribute {path}", rt.name)))?;
        let target = target
            .searchable(&path)
            .and_then(|t| t.implied_value(&path))
            .map_err(|e| err::invalid_value(format!("sortBy: {}", e.detail)))?;
        Ok(SortSpec { target })
    }

    /// The key storage receives: the canonical path and how to compare text.
    pub fn key(&self, descending: bool) -> SortKey {
        SortKey { path: self.target.storage_path(), descending, case_exact: self.target.leaf().case_exact }
    }

    /// The value a rendered resource sorts by. Of a multi-valued attribute, the primary element's, else the
    /// first element's (RFC 7644 §3.4.2.3).
    pub fn value(&self, resource: &Value) -> SortValue {
        self.typed_leaf(self.leaf(resource))
    }

    /// The JSON value a rendered resource sorts by, if any (see [`Self::value`]).
    pub fn leaf<'v>(&self, resource: &'v Value) -> Option<&'v Value> {
        let chosen = match self.target.attribute_json(resource) {
            Some(Value::Array(items)) => items
                .iter()
                .find(|e| member_of(e, "primary").and_then(Value::as_bool) == Some(true))
                .or_else(|| items.iter().find(|e| !e.is_null())),
            other => other,
        };
        let leaf = match (self.target.sub, chosen) {
            (Some(sub), Some(element)) => member_of(element, &sub.name),
            (None, chosen) => chosen,
            (Some(_), None) => None,
        };
        match leaf {
            Some(Value::Array(items)) => items.first(),
            other => other,
        }
    }

    /// How a leaf of [`Self::leaf`] sorts.
    pub fn typed_leaf(&self, leaf: Option<&Value>) -> SortValue {
        leaf.map_or(SortValue::Missing, |v| self.typed(v))
    }

    /// Ascending order of two rendered resources.
    pub fn compare(&self, a: &Value, b: &Value) -> Ordering {
        self.value(a).cmp(&self.value(b))
    }

    fn typed(&self, v: &Value) -> SortValue {
        let attr = self.target.leaf();
        let typed = match attr.attr_type {
            AttrType::Boolean => v.as_bool().map(SortValue::Boolean),
            AttrType::Integer | AttrType::Decimal => v.as_f64().map(SortValue::Number),
            AttrType::DateTime => {
                v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| SortValue::Instant(t.to_utc()))
            }
            _ if attr.case_exact => v.as_str().map(|s| SortValue::Text(s.to_string())),
            _ => v.as_str().map(|s| SortValue::Text(s.to_lowercase())),
        };
        typed.unwrap_or(SortValue::Missing)
    }
}

/// A value as `sortBy` orders it: text in code points (lower-cased unless caseExact), numbers, instants,
/// `false` before `true`. `Missing` sorts after every value, so last ascending and first descending.
#[derive(Debug, Clone)]
pub enum SortValue {
    Boolean(bool),
    Number(f64),
    Instant(DateTime<Utc>),
    Text(String),
    Missing,
}

impl SortValue {
    /// Orders values of different kinds (only possible with data that breaks its schema) by kind.
    fn rank(&self) -> u8 {
        match self {
            SortValue::Boolean(_) => 0,
            SortValue::Number(_) => 1,
            SortValue::Instant(_) => 2,
            SortValue::Text(_) => 3,
            SortValue::Missing => 4,
        }
    }
}

impl Ord for SortValue {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortValue::Boolean(a), SortValue::Boolean(b)) => a.cmp(b),
            (SortValue::Number(a), SortValue::Number(b)) => a.total_cmp(b),
            (SortValue::Instant(a), SortValue::Instant(b)) => a.cmp(b),
            (SortValue::Text(a), SortValue::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for SortValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortValue {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortValue {}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{barbara, config, user_type};
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_canonical_and_typed() {
        let cfg = config();
        let rt = user_type(&cfg);
        let key = |s: &str| SortSpec::resolve(&cfg, rt, s).unwrap().key(false);
        assert_eq!(key("USERNAME"), SortKey { path: "userName".into(), descending: false, case_exact: false });
        assert!(key("id").case_exact);
        assert_eq!(key("name.familyname").path, "name.familyName");
        assert_eq!(key("emails").path, "emails.value");
        assert_eq!(key("meta.lastModified").path, "meta.lastModified");
        assert_eq!(
            key("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber").path,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
        );
        for bad in ["bogus", "name", "name.bogus", "userName eq 1", "", "a[b pr]"] {
            let e = SortSpec::resolve(&cfg, rt, bad).expect_err(bad);
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidValue, "{bad}");
        }
    }

    #[test]
    fn values_order_by_type() {
        let cfg = config();
        let rt = user_type(&cfg);
        let spec = |s: &str| SortSpec::resolve(&cfg, rt, s).unwrap();
        let a = json!({"userName": "alice", "id": "b", "meta": {"lastModified": "2011-05-13T06:00:00+02:00"}, "active": true});
        let b =
            json!({"userName": "Bob", "id": "B", "meta": {"lastModified": "2011-05-13T05:00:00Z"}, "active": false});
        let none = json!({});
        assert_eq!(spec("userName").compare(&a, &b), Ordering::Less);
        assert_eq!(spec("id").compare(&a, &b), Ordering::Greater);
        assert_eq!(spec("meta.lastModified").compare(&a, &b), Ordering::Less);
        assert_eq!(spec("active").compare(&a, &b), Ordering::Greater);
        assert_eq!(spec("userName").compare(&a, &none), Ordering::Less);
        assert_eq!(spec("userName").compare(&none, &b), Ordering::Greater);
        assert_eq!(spec("userName").compare(&none, &none), Ordering::Equal);
        // Multi-valued: the primary element, else the first.
        let user = barbara();
        assert_eq!(spec("emails").value(&user), SortValue::Text("bjensen@example.com".into()));
        assert_eq!(spec("emails.type").value(&user), SortValue::Text("work".into()));
        assert_eq!(spec("phoneNumbers.value").value(&user), SortValue::Text("555-555-5555".into()));
        assert_eq!(spec("name.givenName").value(&user), SortValue::Text("barbara".into()));
        assert_eq!(
            spec("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").value(&user),
            SortValue::Text("26118915-6090-4610-87e4-49d8ca9f808d".into())
        );
        let later_primary = json!({"emails": [{"value": "z@x"}, {"value": "a@x", "primary": true}]});
        assert_eq!(spec("emails.value").value(&later_primary), SortValue::Text("a@x".into()));
        assert_eq!(spec("title").value(&user), SortValue::Text("tour guide".into()));
        let never = SortSpec::resolve(&cfg, rt, "password").expect_err("password sorts nothing");
        assert_eq!(never.kind, crate::error::ErrorKind::InvalidValue);
    }
}
