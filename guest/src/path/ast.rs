//! Attribute paths as written (RFC 7644 §3.4.2.2 `attrPath`, §3.5.2 `PATH`), kept apart from parsing and from
//! what a schema makes of them.

use crate::filter::{CompValue, Filter};
use crate::store::CompareOp;

/// `[URI ":"] ATTRNAME *1subAttr`: `userName`, `name.familyName`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing colon.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

/// `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2): the PATCH path, and the place a mapping, a CSV
/// column or a directory rule names (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The attribute; its `sub` is set for `name.givenName`, never together with `filter`.
    pub attr: AttrPath,
    /// `emails[type eq "work"]`.
    pub filter: Option<Filter>,
    /// `emails[type eq "work"].value`: the sub-attribute after the brackets.
    pub sub: Option<String>,
}

impl Path {
    /// The sub-attribute, whether written `name.givenName` or `emails[…].value`.
    pub fn sub_attr(&self) -> Option<&str> {
        self.attr.sub.as_deref().or(self.sub.as_deref())
    }

    /// The element a value filter of the simplest form picks, `[type eq "work"]`: its sub-attribute and value.
    /// `None` without brackets, and for any other filter.
    pub fn selector(&self) -> Option<(&str, &CompValue)> {
        match &self.filter {
            Some(Filter::Compare(AttrPath { urn: None, name, sub: None }, CompareOp::Eq, value)) => Some((name, value)),
            _ => None,
        }
    }
}
